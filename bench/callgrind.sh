#!/usr/bin/env bash
#
# bench/callgrind.sh: instructions per row of the KPI aggregates against
# their avg() floor, counted by valgrind's callgrind, which a shared machine's
# noise does not touch.  Run by bench/run.sh (make bench), which has built and
# installed omnikpi; prints a Markdown section.
#
# In a throw-away cluster of its own, it makes two tables of interactions of
# 200k and 400k rows (the bench's shape: 8 channels, ratings 1 to 5, scores 0
# to 100, flags, 12 months), then runs each query once per table in a
# single-user backend under callgrind, JIT and parallel workers off.  The
# difference of the two totals divided by 200k rows is the cost of a row, with
# the backend's start-up and the query's planning cancelled out.  Besides the
# instructions it counts the conditional branches callgrind's branch
# predictor model gets wrong: a mispredicted branch costs a dozen or more
# cycles an instruction count does not show, and the KPI aggregates' channel
# lookup once spent more there than in instructions.
#
# Environment: PG_CONFIG as for make test.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages valgrind >&2
# a cluster of our own, whatever a caller (bench/run.sh) exported
unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP

work=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-callgrind.XXXXXX")
# the server user writes callgrind's output here
if omnikpi_is_root; then
	chown "$(omnikpi_server_user)" "$work"
fi
trap 'omnikpi_cluster_stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
omnikpi_cluster_start "$work/cluster" >&2
# stdout is the report: the SELECT's empty row must not reach it
omnikpi_psql -q >/dev/null <<'SQL'
CREATE EXTENSION omnikpi;
CREATE FUNCTION callgrind_table(tbl text, nrows int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
		CREATE TABLE %I AS
		SELECT g AS id, g %% 12 AS month,
			   (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
				   [1 + (hashint8(g) & 7)] AS channel,
			   (1 + (hashint8(g * 31) & 2147483647) %% 5)::float8 AS rating,
			   ((hashint8(g * 37) & 2147483647) %% 101)::float8 AS score,
			   (hashint8(g * 41) & 3) <> 0 AS integrated
		FROM generate_series(1, %s) g$q$, tbl, nrows);
END
$$;
SELECT callgrind_table('rows_200k', 200000), callgrind_table('rows_400k', 400000);
VACUUM (FREEZE, ANALYZE);
SQL
# a query on each table once, so hint bits and the like are set before counting
for table in rows_200k rows_400k; do
	omnikpi_psql -q -c "SELECT count(*) FROM $table" >/dev/null
done
omnikpi_cluster_stop >&2

# counts QUERY TABLE: callgrind's totals for one single-user run: instructions
# and mispredicted conditional branches
counts()
{
	local out=$work/callgrind.out
	local query=${1//\{t\}/$2}

	echo "SET jit = off; SET max_parallel_workers_per_gather = 0; $query;" |
		omnikpi_as_server_user valgrind --tool=callgrind --branch-sim=yes --callgrind-out-file="$out" \
			"$OMNIKPI_PG_BINDIR/postgres" --single -D "$work/cluster/data" postgres >/dev/null 2>&1
	callgrind_annotate --show=Ir,Bcm "$out" 2>/dev/null |
		awk '/PROGRAM TOTALS/ { gsub(",", ""); print $1, $3 }'
	rm -f "$out"
}

# per_row QUERY: instructions and mispredicted branches of a row, from the two tables
per_row()
{
	local small_ir small_bcm large_ir large_bcm

	read -r small_ir small_bcm < <(counts "$1" rows_200k)
	read -r large_ir large_bcm < <(counts "$1" rows_400k)
	awk -v si="$small_ir" -v sb="$small_bcm" -v li="$large_ir" -v lb="$large_bcm" \
		'BEGIN { printf "%d %.2f\n", (li - si) / 200000, (lb - sb) / 200000 }'
}

cat <<'EOF'

## 8. The KPI aggregates' inner loop in instructions: callgrind

Instructions per row, counted by callgrind in a single-user backend (the difference between
400k and 200k rows, divided by 200k), against the floor of the KPI tables above: `avg()` of the
same rows with `channel` read too. 8 channels in random order, JIT and parallel workers off.
Instruction counts do not change with the machine's load; they count the work, not the
cache misses. Mispredicted: the conditional branches per row callgrind's branch predictor
model (`--branch-sim=yes`) gets wrong, each worth a dozen or more cycles on a real
processor. Reproduce with `bash bench/callgrind.sh` after `make install`.

| KPI | part | `avg()` floor, instructions per row | omnikpi, instructions per row | × floor | mispredicted per row, floor | omnikpi |
|---|---|---:|---:|---:|---:|---:|
EOF
while IFS='|' read -r kpi floor; do
	for part in "whole table" "by month"; do
		if [ "$part" = "by month" ]; then
			grouped=", month FROM {t} GROUP BY month"
		else
			grouped=" FROM {t}"
		fi
		read -r f fb < <(per_row "SELECT $floor$grouped")
		read -r o ob < <(per_row "SELECT $kpi$grouped")
		# shellcheck disable=SC2016 # the backquotes are Markdown
		printf '| `%s` | %s | %s | %s | %s× | %s | %s |\n' "$kpi" "$part" "$f" "$o" \
			"$(awk -v o="$o" -v f="$f" 'BEGIN { printf "%.3f", o / f }')" "$fb" "$ob"
	done
done <<'EOF'
omni_experience_rating(channel, rating)|avg(rating), count(channel)
omni_integration_index(channel, score)|avg(score), count(channel)
omni_integration_index(channel, integrated)|avg(integrated::int), count(channel)
EOF
