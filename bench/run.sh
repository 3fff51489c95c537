#!/usr/bin/env bash
#
# bench/run.sh: what `make bench` runs.  omnikpi against PostgreSQL's own
# floor (avg(), row_number()) and against the plain SQL it replaces.
#   1. installs the missing Debian packages, builds with -Werror, installs;
#   2. starts a throw-away cluster (test/cluster.sh) and sets the bench's
#      settings (ALTER SYSTEM, restart);
#   3. generates the data server-side (bench/data.sql): interactions at 1M
#      and 10M rows, journeys of 5 and 50 touches on average, single journeys
#      of 10k, 100k and 1M touches; VACUUM ANALYZE; prewarm;
#   4. per run of contenders (bench/cases.sql): checks that they compute the
#      same results, warms up, then times them interleaved, A B C A B C ...,
#      with the server's own execution time (bench/harness.sql);
#   5. counts the KPI aggregates' instructions per row against avg() with
#      callgrind (bench/callgrind.sh);
#   6. writes medians, min, max and ratios as Markdown to
#      bench/results/latest.md (bench/report.sql, then the instruction
#      counts) and prints it.
#
# Environment: OMNIKPI_BENCH_SCALE=N divides every data size by N and
# OMNIKPI_BENCH_ROUNDS=R sets every run's rounds; OMNIKPI_BENCH_ONLY=LIST
# runs only the report sections in the comma-separated LIST (kpi, rollup,
# attribution, long journey, rolling, markov build, markov solve, groups,
# callgrind; "markov" stands for both Markov sections) and generates only
# their data.  Any of
# the three makes a trial run, whose report goes to the terminal only.
# PG_CONFIG as for make test.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scale=${OMNIKPI_BENCH_SCALE:-1}
rounds_large=${OMNIKPI_BENCH_ROUNDS:-5}	# runs over 10M rows, and the slow ones
rounds_attribution=${OMNIKPI_BENCH_ROUNDS:-11}
rounds=${OMNIKPI_BENCH_ROUNDS:-7}
output=bench/results/latest.md
if [ "$scale" != 1 ] || [ -n "${OMNIKPI_BENCH_ROUNDS:-}" ] || [ -n "${OMNIKPI_BENCH_ONLY:-}" ]; then
	output=
fi
# The sections to run (empty: all) and the tables they read.
only=
core_data=true
markov_data=true
run_callgrind=true
if [ -n "${OMNIKPI_BENCH_ONLY:-}" ]; then
	core_data=false
	markov_data=false
	run_callgrind=false
	IFS=, read -ra sections <<<"$OMNIKPI_BENCH_ONLY"
	for section in "${sections[@]}"; do
		case $section in
			markov)
				only+="markov build,markov solve,"
				markov_data=true
				;;
			"markov build" | "markov solve")
				only+="$section,"
				markov_data=true
				;;
			kpi | rollup | attribution | "long journey" | rolling)
				only+="$section,"
				core_data=true
				;;
			groups)
				only+="$section,"
				core_data=true
				markov_data=true
				;;
			callgrind)
				run_callgrind=true
				;;
			*)
				echo "error: OMNIKPI_BENCH_ONLY: unknown section \"$section\"" >&2
				exit 1
				;;
		esac
	done
	only=${only%,}
fi
started=$(date +%s)
load_before=$(cut -d' ' -f1 /proc/loadavg)

# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_build_packages
omnikpi_build
omnikpi_install

omnikpi_cluster_stop_on_exit
# shellcheck disable=SC2119 # no DIR: a fresh temp dir
omnikpi_cluster_start
# The module just built, pinned below once the extension exists.
install -m 755 omnikpi.so "$OMNIKPI_CLUSTER_DIR/omnikpi.so"

# Settings: the 10M-row table (740 MB) and everything else fit in
# shared_buffers; every sort and a 1M-touch partition fit in work_mem.
# max_parallel_workers_per_gather is set per contender; JIT stays at its
# default (on, above its cost thresholds).
omnikpi_psql -c "ALTER SYSTEM SET shared_buffers = '2GB'" -c "ALTER SYSTEM SET work_mem = '256MB'"
omnikpi_as_server_user "$OMNIKPI_PG_BINDIR/pg_ctl" -D "$OMNIKPI_CLUSTER_DIR/data" \
	-l "$OMNIKPI_SERVER_LOG" -w -t 120 restart >/dev/null

echo "generating data"
data_started=$(date +%s)
omnikpi_psql -f bench/data.sql \
	-v large=$((10000000 / scale)) -v small=$((1000000 / scale)) -v touches=$((1000000 / scale)) \
	-v long="{$((10000 / scale)),$((100000 / scale)),$((1000000 / scale))}" \
	-v journeys=$((1000000 / scale)) -v core_data=$core_data -v markov_data=$markov_data >/dev/null
echo "data generated in $(($(date +%s) - data_started)) s"

# Pin the module the bench built: every run's session loads it anew, and on
# a shared machine someone else's `make install` could otherwise swap
# $libdir/omnikpi.so mid-run.  Only this throw-away cluster's catalog changes.
omnikpi_psql -q -v so="$OMNIKPI_CLUSTER_DIR/omnikpi.so" \
	<<<"UPDATE pg_proc SET probin = :'so' WHERE probin = '\$libdir/omnikpi'"
omnikpi_psql -f bench/harness.sql
omnikpi_psql -f bench/cases.sql -v rounds_large="$rounds_large" -v scale="$scale" \
	-v rounds_attribution="$rounds_attribution" -v rounds="$rounds" -v only="$only"

mapfile -t runs < <(omnikpi_psql -At -c "SELECT run FROM bench_case GROUP BY run ORDER BY min(id)")
for run in "${runs[@]}"; do
	omnikpi_psql -At -v run="$run" <<<"SELECT bench_run(:'run')"
done

# The instruction counts of the KPI aggregates (callgrind, a cluster of its
# own), after the timed runs so as not to load the machine during them.
callgrind_report=
if [ "$run_callgrind" = true ]; then
	echo "counting instructions (callgrind)"
	callgrind_report=$(bash bench/callgrind.sh)
fi

elapsed=$(($(date +%s) - started))
report=$(omnikpi_psql -At -f bench/report.sql \
	-v wall="$((elapsed / 60)) min $((elapsed % 60)) s" \
	-v load="$load_before before, $(cut -d' ' -f1 /proc/loadavg) after" \
	-v cores="$(nproc)" -v cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)")
echo
if [ -n "$output" ]; then
	mkdir -p "$(dirname "$output")"
	printf '%s\n%s\n' "$report" "$callgrind_report" >"$output"
	echo "wrote $output:"
	echo
fi
printf '%s\n%s\n' "$report" "$callgrind_report"
