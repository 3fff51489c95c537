#!/usr/bin/env bash
#
# bench/check_sources.sh: what `make bench-check-sources` runs.  Times
# omnikpi.check_sources on the demo data that `make demo` left running
# (INTERACTIONS=10000000 for the figures in docs/performance.md), beside a
# plain count(*) of every source table in the same run, and counts the scans
# each source table took (pg_stat_user_tables), to show that the checks read
# each source a bounded number of times.  Writes
# bench/results/check_sources.md.
#
# Environment: OMNIKPI_DEMO_DIR (the demo cluster, default /tmp/omnikpi-demo),
# ROUNDS (default 3), PG_CONFIG.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=test/cluster.sh
. test/cluster.sh

demo_dir=${OMNIKPI_DEMO_DIR:-/tmp/omnikpi-demo}
rounds=${ROUNDS:-3}
out=bench/results/check_sources.md

if [ ! -f "$demo_dir/data/omnikpi_port.conf" ]; then
	echo "no demo cluster in $demo_dir: run make demo INTERACTIONS=10000000 first" >&2
	exit 1
fi
PGUSER=$(omnikpi_server_user)
PGPORT=$(sed -n 's/^port = //p' "$demo_dir/data/omnikpi_port.conf")
export PGHOST=$demo_dir PGUSER PGPORT PGDATABASE=omnikpi_demo

sources="interactions => 'omnikpi_demo.interactions', orders => 'omnikpi_demo.orders',
	touchpoints => 'omnikpi_demo.touchpoints', conversions => 'omnikpi_demo.conversions'"

# scans: the sequential and index scans of each source table so far.
scans()
{
	omnikpi_psql -At -F ' ' -c "SELECT pg_stat_force_next_flush()" -c "SELECT relname, seq_scan, coalesce(idx_scan, 0)
		FROM pg_stat_user_tables WHERE schemaname = 'omnikpi_demo' ORDER BY relname" | grep -v '^$'
}

# ms SQL: the server time of one statement, in milliseconds.
ms()
{
	omnikpi_psql -At -c "SET work_mem = '64MB'" -c '\timing on' -c "$1" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}

median()
{
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rows=$(omnikpi_psql -At -c "SELECT format('%s interactions, %s orders, %s touchpoints, %s conversions',
	(SELECT count(*) FROM omnikpi_demo.interactions), (SELECT count(*) FROM omnikpi_demo.orders),
	(SELECT count(*) FROM omnikpi_demo.touchpoints), (SELECT count(*) FROM omnikpi_demo.conversions))")
echo "demo data: $rows"

# The scans are counted in a run without parallel workers, each of which
# would count as a scan of its own.
before=$(scans)
problems=$(PGOPTIONS='-c max_parallel_workers_per_gather=0' omnikpi_psql -At -F ' | ' \
	-c "SELECT source, column_name, problem, rows FROM omnikpi.check_sources($sources)")
after=$(scans)
scan_table=$(join <(echo "$before") <(echo "$after") |
	awk '{ printf "| %s | %d | %d |\n", $1, $4 - $2, $5 - $3 }')

check_times=()
count_times=()
for ((round = 1; round <= rounds; round++)); do
	check_times+=("$(ms "SELECT count(*) FROM omnikpi.check_sources($sources)")")
	count_times+=("$(ms "SELECT (SELECT count(*) FROM omnikpi_demo.interactions) + (SELECT count(*) FROM omnikpi_demo.orders)
		+ (SELECT count(*) FROM omnikpi_demo.touchpoints) + (SELECT count(*) FROM omnikpi_demo.conversions)")")
	echo "round $round: check_sources ${check_times[-1]} ms, count(*) of the sources ${count_times[-1]} ms"
done
check_median=$(printf '%s\n' "${check_times[@]}" | median)
count_median=$(printf '%s\n' "${count_times[@]}" | median)

{
	echo "# check_sources on the demo data"
	echo
	echo "\`make bench-check-sources\` (bench/check_sources.sh) against \`make demo INTERACTIONS=10000000\`: $rows;"
	echo "$rounds rounds, one after the other, on a machine shared with other work."
	echo
	echo "| what | median | rounds |"
	echo "|---|---:|---|"
	# shellcheck disable=SC2016 # backquotes: Markdown code, not a command
	printf '| `omnikpi.check_sources(...)`, all four sources | %.0f ms | %s |\n' "$check_median" "$(printf '%s ' "${check_times[@]}")"
	# shellcheck disable=SC2016
	printf '| `count(*)` of the four source tables | %.0f ms | %s |\n' "$count_median" "$(printf '%s ' "${count_times[@]}")"
	echo
	awk -v a="$check_median" -v b="$count_median" 'BEGIN { printf "check_sources takes %.1f times as long as counting the rows of the sources.\n", a / b }'
	echo
	echo "Scans of each source table by one check_sources call (without parallel workers):"
	echo
	echo "| table | sequential scans | index scans |"
	echo "|---|---:|---:|"
	echo "$scan_table"
	echo
	echo "What it found:"
	echo
	echo '```'
	echo "${problems:-(no problems)}"
	echo '```'
} >"$out"
cat "$out"
