#!/usr/bin/env bash
#
# test/mutation/run.sh: `make mutation`.  Mutation testing of the C code in
# src/ (every src/**/*.c, and the headers that hold inline code): each mutant
# (an operator swapped, a constant changed, a condition negated, a statement
# removed: see test/mutation/mutate.py) is built, installed into a private
# copy of PostgreSQL, and the pg_regress suite (test/sql, expected/) runs
# against it until a test fails.  Writes the mutation score, overall, for the
# arithmetic, state and attribution code, for the text, binary and JSON
# forms, per file and per operator, and the list of surviving mutants, to
# MUTATION_REPORT.
#
#   1. copies the PostgreSQL installation PG_CONFIG names into a temp dir once
#      per job (as test/asan/run.sh does), so nothing is installed where other
#      tests and users look;
#   2. copies the sources per job, builds and installs them, starts a
#      throw-away cluster per job and checks that the unmutated build passes
#      every test (the time it takes sets the per-mutant time limit);
#   3. runs the mutants, JOBS at a time, each against its job's cluster:
#      tests that killed a mutant of the same file run first, and the run of a
#      mutant stops at its first failing test, so a killed mutant costs a
#      build and a test or two; a survivor costs the whole suite (about 20 s);
#   4. stops the clusters and removes the temp dir.
#
# The whole of src/ is about 4,000 mutants, several hours on two cores; a
# sample or a file filter gives a figure in minutes.
#
# Environment:
#   MUTATION_FILES="GLOB..."  only files matching one of these paths
#                             (e.g. 'src/channel_stats.c src/markov*')
#   MUTATION_SAMPLE=N         a random sample of N of the mutants found
#   MUTATION_SEED=N           the sample's seed (default 1: the same sample
#                             on every run)
#   MUTATION_JOBS=N           mutants run at once, each job with its own
#                             PostgreSQL copy and cluster (default 1)
#   MUTATION_REPORT=FILE      the report (default test/mutation/results/latest.md)
#   MUTATION_LOG=FILE         one JSON line per mutant run (default: in the temp
#                             dir); when FILE exists, the mutants it holds are
#                             not run again, so a long run can be resumed, and
#                             `python3 test/mutation/mutate.py report --log FILE
#                             --report R` reports a run stopped early
#   MUTATION_RETRY_SURVIVORS=1  with MUTATION_LOG: run the mutants that
#                             survived in it again (after adding tests)
#   MUTATION_LIST=1           only list the mutants, run nothing
#   PG_CONFIG                 the PostgreSQL to copy (as for make test)
#   OMNIKPI_KEEP_CLUSTER=1    keep the temp dir (clusters' logs, the mutant log)

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD

# The whole script is one function, read before it runs: a run takes hours,
# and bash reads a script as it goes, so editing the file meanwhile would
# change what the run does next.
main()
{

	# shellcheck source=test/cluster.sh
	. test/cluster.sh
	# shellcheck source=test/asan/private_pg.sh
	. test/asan/private_pg.sh
	omnikpi_private_forget_cluster

	files=${MUTATION_FILES:-}
	sample=${MUTATION_SAMPLE:-0}
	seed=${MUTATION_SEED:-1}
	jobs=${MUTATION_JOBS:-1}
	report=${MUTATION_REPORT:-$repo/test/mutation/results/latest.md}
	if ! [[ $sample =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]]; then
		echo "MUTATION_SAMPLE and MUTATION_SEED must be numbers, MUTATION_JOBS at least 1" >&2
		exit 2
	fi

	omnikpi_ensure_packages python3
	# shellcheck disable=SC2086 # MUTATION_FILES is a list of globs, kept unexpanded by set -f
	if [ "${MUTATION_LIST:-0}" = 1 ]; then
		set -f
		exec python3 test/mutation/mutate.py list ${files:+--files $files}
	fi
	omnikpi_ensure_build_packages

	work=$(omnikpi_private_workdir mutation)
	cleanup()
	{
		local job postmaster

		# the run may have stopped inside its set -f (MUTATION_FILES)
		set +f
		for job in "$work"/job*; do
			[ -f "$job/cluster.env" ] || continue
			postmaster=$(head -n 1 "$job/cluster/data/postmaster.pid" 2>/dev/null || true)
			(
				# shellcheck disable=SC1091 # written below
				. "$job/cluster.env"
				export OMNIKPI_CLUSTER_DIR OMNIKPI_PG_BINDIR
				OMNIKPI_CLUSTER_TEMP=0 omnikpi_cluster_stop
			)
			# A server that outlived pg_ctl's stop must not outlive its
			# data dir.
			if [ -n "$postmaster" ] && kill -0 "$postmaster" 2>/dev/null; then
				kill -QUIT "$postmaster" 2>/dev/null || true
				sleep 2
			fi
		done
		omnikpi_private_remove_workdir "$work"
	}
	trap cleanup EXIT
	omnikpi_exit_on_signals

	tests=$(find test/sql -maxdepth 1 -name '*.sql' -printf '%f\n' | sed 's/\.sql$//' | LC_ALL=C sort | tr '\n' ' ')
	started=$SECONDS

	# --- 1. and 2. one private PostgreSQL, source copy and cluster per job ------
	for ((j = 1; j <= jobs; j++)); do
		job=$work/job$j
		echo "== job $j: copying PostgreSQL and the sources into $job"
		mkdir -p "$job"
		job_pg_config=$(omnikpi_private_pg_copy "$PG_CONFIG" "$job/pg")
		omnikpi_private_source_copy "$repo" "$job/src"
		make -C "$job/src" -s -B PG_CONFIG="$job_pg_config" COPT=-g0 with_llvm=no all >/dev/null
		make -C "$job/src" -s PG_CONFIG="$job_pg_config" with_llvm=no install >/dev/null
		(
			PG_CONFIG=$job_pg_config
			omnikpi_cluster_start "$job/cluster"
			declare -p PGHOST PGPORT PGUSER OMNIKPI_CLUSTER_DIR OMNIKPI_PG_BINDIR OMNIKPI_SERVER_LOG |
				sed 's/^declare -x /export /' >"$job/cluster.env"
		)
		# shellcheck disable=SC1091 # written just above
		(
			. "$job/cluster.env"
			python3 -c 'import json, sys; print(json.dumps(dict(zip(
				["src", "pg_config", "bindir", "pkglibdir", "datadir", "server_log", "pghost", "pgport", "pguser"],
				sys.argv[1:]))))' "$job/src" "$job_pg_config" "$OMNIKPI_PG_BINDIR" \
				"$("$job_pg_config" --pkglibdir)" "$OMNIKPI_CLUSTER_DIR/data" "$OMNIKPI_SERVER_LOG" \
				"$PGHOST" "$PGPORT" "$PGUSER" >"$job/job.json"
		)
		echo "== job $j: the unmutated build against every test"
		baseline=$job/baseline.log
		baseline_started=$SECONDS
		# shellcheck disable=SC1091 # written above
		if ! (. "$job/cluster.env" && make -C "$job/src" PG_CONFIG="$job_pg_config" installcheck >"$baseline" 2>&1); then
			echo "error: the unmutated build fails the tests; fix that first:" >&2
			grep -E '\.\.\. +(FAILED|failed)' "$baseline" >&2 || tail -n 20 "$baseline" >&2
			exit 1
		fi
		baseline_seconds=$((SECONDS - baseline_started))
	done
	python3 -c 'import json, sys; print(json.dumps([json.load(open(f)) for f in sys.argv[1:]]))' \
		"$work"/job*/job.json >"$work/jobs.json"
	# pg_regress's "test name ... ok  123 ms": the fast tests run first for a new file.
	durations=$(sed -nE 's/^(test +| +)([a-z_0-9]+) +\.\.\. ok +([0-9]+) ms$/"\2": \3/p' "$work/job1/baseline.log" |
		paste -sd, -)
	# A mutant that makes a test loop or crawl counts as killed after three
	# times the unmutated suite's time (at least two minutes).
	timeout=$((baseline_seconds * 3 > 120 ? baseline_seconds * 3 : 120))
	echo "== the unmutated suite took $baseline_seconds s; a mutant's time limit is $timeout s"

	# --- 3. the mutants -------------------------------------------------------------
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	command="make mutation"
	for var in MUTATION_FILES MUTATION_SAMPLE MUTATION_SEED MUTATION_JOBS; do
		if [ -n "${!var:-}" ]; then
			command="$var='${!var}' $command"
		fi
	done
	retry=()
	if [ "${MUTATION_RETRY_SURVIVORS:-0}" = 1 ]; then
		retry=(--retry-survivors)
	fi
	mkdir -p "$(dirname "$report")"
	set -f
	# shellcheck disable=SC2086 # MUTATION_FILES is a list of globs
	python3 test/mutation/mutate.py run --jobs-file "$work/jobs.json" ${files:+--files $files} "${retry[@]}" \
		--sample "$sample" --seed "$seed" --tests "$tests" --durations "{$durations}" \
		--timeout "$timeout" --report "$report" --log "${MUTATION_LOG:-$work/mutants.jsonl}" \
		--command "$command" --commit "$commit" --jobs "$jobs"
	set +f
	echo "make mutation: $(((SECONDS - started) / 60)) minutes"
}

main "$@"
