#!/usr/bin/env bash
#
# test/run.sh: what `make test` (and so CI) runs.  On a fresh Debian 12 machine,
# as root or as a user with sudo, it
#   1. installs the missing Debian packages (PostgreSQL 15, its server headers,
#      the build tools),
#   2. builds with warnings as errors and installs the extension,
#   3. starts a throw-away cluster on a free local port (test/cluster.sh),
#   4. runs the pg_regress suite (`make installcheck`: test/sql, expected/),
#   5. runs every test/suites/*.sh, in name order, against the same cluster,
#   6. checks that the run left the git checkout as it found it (no new or
#      changed files: tests write to temp dirs),
#   7. stops the cluster and prints `tests: N passed, M failed` as its last line,
#      exiting non-zero if anything failed, the build failed, or no test ran.
#
# Adding a suite: drop a bash script into test/suites/ (run with bash, so it
# need not be executable).  It runs from the repo root with PGHOST, PGPORT,
# PGUSER, PGDATABASE, OMNIKPI_CLUSTER_DIR, OMNIKPI_SERVER_LOG, OMNIKPI_PG_BINDIR
# and OMNIKPI_SOURCE_DIR exported (and OMNIKPI_PG_BINDIR first on PATH); it may
# `. test/cluster.sh` for helpers such as omnikpi_psql.  Exit status 0 counts
# as one passed test, anything else as one failed.  Suites must leave the
# cluster running and not depend on each other's data (use your own database).
#
# Environment: PG_CONFIG (another PostgreSQL's pg_config; then no PostgreSQL
# packages are installed), OMNIKPI_KEEP_CLUSTER=1 (keep the stopped cluster's
# dir, with its server.log, for a post-mortem).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A make call below that ends up at the "test" target again would recurse
# without end; refuse instead.
if [ -n "${OMNIKPI_RUN_TESTS_ACTIVE:-}" ]; then
	echo "error: test/run.sh called itself (through make?); stopping" >&2
	exit 1
fi
export OMNIKPI_RUN_TESTS_ACTIVE=1

# shellcheck source=test/cluster.sh
. test/cluster.sh

passed=0
failed=0
failures=()

# finish: stop the cluster first, so that its messages cannot come after the
# summary line, which CI reads as the closing line.
finish()
{
	omnikpi_cluster_stop
	echo
	if [ ${#failures[@]} -gt 0 ]; then
		echo "failed: ${failures[*]}"
	fi
	echo "tests: $passed passed, $failed failed"
	if [ "$failed" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

step()
{
	echo
	echo "== $*"
}

# What git reports as changed or untracked before the run: a run must add
# nothing to it (see the check at the end).  Empty when this is no git
# checkout, or git is missing or refuses the directory.
tree_status()
{
	git status --porcelain --untracked-files=all 2>/dev/null
}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	tree_before=$(tree_status)
	check_tree=1
else
	check_tree=0
fi

# --- 1. packages ------------------------------------------------------------
step "checking packages"
omnikpi_ensure_build_packages

# --- 2. build and install -----------------------------------------------------
step "building with -Werror"
if ! omnikpi_build; then
	failed=$((failed + 1))
	failures+=("build")
	finish
fi

step "installing"
if ! omnikpi_install; then
	failed=$((failed + 1))
	failures+=("install")
	finish
fi

# --- 3. cluster ---------------------------------------------------------------
step "starting a throw-away cluster"
omnikpi_cluster_stop_on_exit
# shellcheck disable=SC2119 # no DIR: a fresh temp dir
if ! omnikpi_cluster_start; then
	failed=$((failed + 1))
	failures+=("cluster-start")
	finish
fi

# --- 4. pg_regress --------------------------------------------------------------
step "pg_regress (make installcheck)"
# Stale files from an earlier run would be printed as if this run had made them.
rm -f regression.diffs regression.out
regress_log=$OMNIKPI_CLUSTER_DIR/installcheck.log
if make installcheck 2>&1 | tee "$regress_log"; then
	regress_status=0
else
	regress_status=$?
fi
# pg_regress prints one line per test: "test name ... ok  12 ms" or
# "... FAILED  12 ms" (indented, without "test", inside parallel groups).
regress_ok=$(grep -cE '\.\.\. +ok( |$)' "$regress_log" || true)
regress_bad=$(grep -cE '\.\.\. +(FAILED|failed)' "$regress_log" || true)
passed=$((passed + regress_ok))
failed=$((failed + regress_bad))
if [ "$regress_bad" -gt 0 ]; then
	failures+=("pg_regress($regress_bad)")
elif [ "$regress_status" -ne 0 ]; then
	# pg_regress or make itself failed (could not connect, missing input, ...).
	failed=$((failed + 1))
	failures+=("installcheck")
fi
if [ -s regression.diffs ]; then
	echo
	echo "---- regression.diffs (first 200 lines) ----"
	head -n 200 regression.diffs
	echo "---- end of regression.diffs ($(wc -l <regression.diffs) lines) ----"
fi

# --- 5. further suites --------------------------------------------------------
export OMNIKPI_SOURCE_DIR=$PWD
# Sort bytewise so the order does not depend on the caller's locale.
mapfile -t suites < <(find test/suites -maxdepth 1 -type f -name '*.sh' 2>/dev/null | LC_ALL=C sort)
for suite in "${suites[@]}"; do
	step "suite ${suite#test/suites/}"
	if bash "$suite" </dev/null; then
		passed=$((passed + 1))
		echo "suite ${suite#test/suites/}: ok"
	else
		failed=$((failed + 1))
		failures+=("${suite#test/suites/}")
		echo "suite ${suite#test/suites/}: FAILED"
	fi
done

# A green run that tested nothing is a broken harness (say, an emptied
# REGRESS), not a success.
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "error: no test ran (test/sql/ and test/suites/ are empty?)"
	failed=1
	failures+=("no-tests")
fi

# A backend crash shows up in pg_regress only as a failed test, and a crash in
# a suite's background work may not show at all; the server log says which
# signal and which statement, and any crash fails the run.
if grep -qE 'terminated by signal|TRAP:|PANIC:' "$OMNIKPI_SERVER_LOG" 2>/dev/null; then
	failed=$((failed + 1))
	failures+=("server-crash")
	echo
	echo "---- crashes in the server log ----"
	grep -E -B2 -A2 'terminated by signal|TRAP:|PANIC:' "$OMNIKPI_SERVER_LOG" | head -n 60
fi

# A test writes its files to a temp dir or to what .gitignore names (build
# products, pg_regress's results/), never into the source tree: an entry of
# `git status --porcelain` that was not there before the run fails it.
if [ "$check_tree" = 1 ]; then
	new_changes=$(comm -13 <(printf '%s\n' "$tree_before" | LC_ALL=C sort) <(tree_status | LC_ALL=C sort))
	if [ -n "$new_changes" ]; then
		failed=$((failed + 1))
		failures+=("tree-changed")
		echo
		echo "---- the run changed the source tree (git status --porcelain) ----"
		printf '%s\n' "$new_changes" | head -n 40
	fi
fi

finish
