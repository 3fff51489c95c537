#!/usr/bin/env bash
#
# test/coverage/run.sh: `make coverage`.  Line, function and branch coverage
# of the C code in src/ by the pg_regress suite (test/sql, expected/), the
# same run `make test` starts with.
#
#   1. copies the PostgreSQL installation PG_CONFIG names into a temp dir (as
#      test/asan/run.sh does), so the instrumented module is installed there
#      and never where other tests and users look;
#   2. builds a copy of the sources with gcc --coverage -O0 (at -O0 every line
#      keeps its own code, so the counts map back to lines) and installs it
#      into the copy;
#   3. starts a throw-away cluster from the copy, runs `make installcheck` and
#      stops the server (backends write their counts when they exit);
#   4. reads the counts with lcov (Debian package lcov), keeps src/ only, and
#      writes the summary and a table per file to COVERAGE_REPORT and an HTML
#      report, line by line, to COVERAGE_HTML.
# Fails when a test fails, so the figures are those of a green suite, and
# when fewer than COVERAGE_MIN_LINES percent of the lines are covered.
#
# Environment:
#   COVERAGE_REPORT=FILE   the summary (default test/coverage/latest.md)
#   COVERAGE_HTML=DIR      the HTML report (default coverage/, ignored by git)
#   COVERAGE_MIN_LINES=N   fail when fewer than N% of the lines are covered
#                          (default 95)
#   PG_CONFIG              the PostgreSQL to copy (as for make test)
#   OMNIKPI_KEEP_CLUSTER=1 keep the temp dir (cluster, build, lcov data)

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD

# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=test/asan/private_pg.sh
. test/asan/private_pg.sh
omnikpi_private_forget_cluster

report=${COVERAGE_REPORT:-$repo/test/coverage/latest.md}
html=${COVERAGE_HTML:-$repo/coverage}

omnikpi_ensure_build_packages
omnikpi_ensure_packages lcov

work=$(omnikpi_private_workdir coverage)
cleanup()
{
	omnikpi_cluster_stop
	omnikpi_private_remove_workdir "$work"
}
trap cleanup EXIT
omnikpi_exit_on_signals

echo "== copying PostgreSQL ($PG_CONFIG) into $work/pg"
coverage_pg_config=$(omnikpi_private_pg_copy "$PG_CONFIG" "$work/pg")

echo "== building omnikpi with --coverage"
omnikpi_private_source_copy "$repo" "$work/src"
make -C "$work/src" -s -B PG_CONFIG="$coverage_pg_config" COPT="--coverage -O0" all
make -C "$work/src" -s PG_CONFIG="$coverage_pg_config" install
# The backends run as the server's user and write their .gcda files next to
# the objects.
chmod -R a+rwX "$work/src/src"

echo "== pg_regress (make installcheck) against the instrumented build"
PG_CONFIG=$coverage_pg_config
omnikpi_cluster_start "$work/cluster"
status=0
make -C "$work/src" PG_CONFIG="$coverage_pg_config" installcheck || status=$?
omnikpi_cluster_stop
if [ "$status" != 0 ]; then
	if [ -s "$work/src/regression.diffs" ]; then
		head -n 100 "$work/src/regression.diffs"
	fi
	echo "error: a test failed; coverage is measured on a green suite only" >&2
	exit 1
fi

echo "== lcov"
lcov_options=(--rc lcov_branch_coverage=1 --quiet)
# lcov 1.16's geninfo warns about its own Perl ("Subroutine ... redefined").
lcov "${lcov_options[@]}" --capture --directory "$work/src/src" --base-directory "$work/src" \
	--output-file "$work/all.info" 2> >(grep -v 'redefined at' >&2)
lcov "${lcov_options[@]}" --extract "$work/all.info" "$work/src/src/*" --output-file "$work/src.info"
rm -rf "$html"
genhtml "${lcov_options[@]}" --branch-coverage --prefix "$work/src" --title "omnikpi: src/ covered by pg_regress" \
	--output-directory "$html" "$work/src.info"

# The summary, the table per file and the uncovered lines.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$(dirname "$report")"
awk -v prefix="$work/src/" -v commit="$commit" -v date="$(date +%Y-%m-%d)" -f test/coverage/summary.awk \
	"$work/src.info" >"$report"
echo "summary: $report; line by line: $html/index.html"

# Below the floor, the run fails: coverage that slips shows at once.
min=${COVERAGE_MIN_LINES:-95}
permille=$(awk -F: '/^LF:/ { found += $2 } /^LH:/ { hit += $2 } END { print found ? int(1000 * hit / found) : 0 }' "$work/src.info")
if [ "$permille" -lt $((min * 10)) ]; then
	echo "FAILED: $((permille / 10)).$((permille % 10))% of the lines of src/ are covered, less than $min%" >&2
	exit 1
fi
