#!/usr/bin/env bash
#
# bench/core.sh [ROWS] [ROUNDS]: the core KPI aggregate against PostgreSQL's
# own avg() and against the plain-SQL two-level GROUP BY, on ROWS generated
# interactions (default 10,000,000: 8 channels, ratings 1 to 5), serial
# (max_parallel_workers_per_gather = 0).  The contenders run interleaved
# (A B C A B C ...) ROUNDS times (default 7) in one session; each time is the
# server's own "Execution Time" from EXPLAIN (ANALYZE, TIMING OFF), so client
# round trips do not count.  Prints per contender the median, min and max and
# the ratio of medians to the floor.  Expects the extension to be installed
# (make install); starts its own throw-away cluster.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows=${1:-10000000}
rounds=${2:-7}

# shellcheck source=test/cluster.sh
. test/cluster.sh
omnikpi_cluster_stop_on_exit
omnikpi_cluster_start

omnikpi_psql -c "CREATE EXTENSION omnikpi" \
	-c "CREATE TABLE interactions AS
		SELECT (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
				   [1 + (hashint8(g) & 7)] AS channel,
			   (1 + (hashint8(g * 31) & 2147483647) % 5)::float8 AS rating
		FROM generate_series(1, $rows) g" \
	-c "VACUUM ANALYZE interactions"

declare -A queries=(
	[floor_avg]="SELECT avg(rating), count(channel) FROM interactions"
	[omni_experience_rating]="SELECT omni_experience_rating(channel, rating) FROM interactions"
	[plain_sql_two_level]="SELECT avg((m - 1) / 4 * 100) FROM (SELECT avg(rating) AS m FROM interactions WHERE channel IS NOT NULL AND rating IS NOT NULL GROUP BY channel) s"
)
order=(floor_avg omni_experience_rating plain_sql_two_level)

# The contenders must compute the same KPI before their times mean anything.
omni=$(omnikpi_psql -At -c "${queries[omni_experience_rating]}")
plain=$(omnikpi_psql -At -c "${queries[plain_sql_two_level]}")
omnikpi_psql -At -c "SELECT CASE WHEN abs($omni - $plain) < 1e-9 THEN 'results agree' ELSE 'results DIFFER' END"

script=$(mktemp)
{
	echo "SET max_parallel_workers_per_gather = 0;"
	for name in "${order[@]}"; do	# warm-up
		echo "${queries[$name]};"
	done
	for ((round = 1; round <= rounds; round++)); do
		for name in "${order[@]}"; do
			echo "SELECT '$name', j -> 0 ->> 'Execution Time' FROM omnikpi_bench_explain(\$q\$${queries[$name]}\$q\$) j;"
		done
	done
} >"$script"
omnikpi_psql -c "CREATE FUNCTION omnikpi_bench_explain(q text) RETURNS SETOF json LANGUAGE plpgsql AS
	\$\$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q; END \$\$"
results=$(mktemp)
omnikpi_psql -At -F ' ' -f "$script" | grep -E '^[a-z_]+ [0-9.]+$' >"$results"

echo
echo "$rows rows, serial, $rounds interleaved rounds, $(nproc) cores, $("$OMNIKPI_PG_BINDIR/postgres" --version)"
printf '%-24s %10s %10s %10s %8s\n' contender "median ms" "min ms" "max ms" ratio
floor=
for name in "${order[@]}"; do
	mapfile -t times < <(awk -v n="$name" '$1 == n { print $2 }' "$results" | sort -n)
	count=${#times[@]}
	median=$(printf '%s\n' "${times[@]}" | awk -v c="$count" 'NR == int((c + 1) / 2) { a = $1 } NR == int(c / 2) + 1 { b = $1 } END { printf "%.1f", (a + b) / 2 }')
	[ -n "$floor" ] || floor=$median
	printf '%-24s %10s %10.1f %10.1f %8.2f\n' "$name" "$median" "${times[0]}" "${times[count - 1]}" \
		"$(awk -v m="$median" -v f="$floor" 'BEGIN { print m / f }')"
done
rm -f "$script" "$results"
