#!/usr/bin/env bash
#
# bench/refresh.sh: what `make bench-refresh` runs.  The materialized KPI
# views on the demo data: a full rebuild against the incremental refresh after
# one new day of interactions.
#   1. installs the missing Debian packages, builds with -Werror, installs;
#   2. starts a throw-away cluster (test/cluster.sh) with the settings of
#      `make bench`, and pins the module it built (as bench/run.sh does);
#   3. generates the demo company (demo/generate.sql) with INTERACTIONS
#      interactions (default 10,000,000) and creates the materialized KPI
#      views over it (timed once: the first build);
#   4. per round: adds the next day of interactions (a copy of the data's last
#      day, 2026-09-30, moved on by one day per round), times
#      CALL omnikpi.refresh_kpi_views(...) (incremental), then the same with
#      full_rebuild => true, and checks that the materialized KPIs equal the
#      plain views;
#   5. writes medians, min, max and the ratio as Markdown to
#      bench/results/refresh.md and prints it.
# Times are taken by the server (clock_timestamp() around the CALL, in the
# same session), so connecting costs nothing.
#
# Environment: INTERACTIONS (default 10000000), OMNIKPI_REFRESH_ROUNDS (default
# 5).  Other sizes or rounds make a trial run, whose report goes to the
# terminal only.  PG_CONFIG as for make test.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

interactions=${INTERACTIONS:-10000000}
rounds=${OMNIKPI_REFRESH_ROUNDS:-5}
output=bench/results/refresh.md
if ! [[ "$interactions" =~ ^[1-9][0-9]*$ ]] || ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
	echo "error: INTERACTIONS and OMNIKPI_REFRESH_ROUNDS must be positive whole numbers" >&2
	exit 1
fi
if [ "$interactions" != 10000000 ] || [ "$rounds" != 5 ]; then
	output=
fi
started=$(date +%s)
load_before=$(cut -d' ' -f1 /proc/loadavg)
db=omnikpi_refresh_bench
# Days are cut in the creating session's time zone; the demo's calendar is UTC.
export PGTZ=UTC

# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_build_packages
omnikpi_build
omnikpi_install

omnikpi_cluster_stop_on_exit
# shellcheck disable=SC2119 # no DIR: a fresh temp dir
omnikpi_cluster_start
install -m 755 omnikpi.so "$OMNIKPI_CLUSTER_DIR/omnikpi.so"

# The settings of make bench: the data and the sorts fit in memory.
omnikpi_psql -c "ALTER SYSTEM SET shared_buffers = '2GB'" -c "ALTER SYSTEM SET work_mem = '256MB'"
omnikpi_as_server_user "$OMNIKPI_PG_BINDIR/pg_ctl" -D "$OMNIKPI_CLUSTER_DIR/data" \
	-l "$OMNIKPI_SERVER_LOG" -w -t 120 restart >/dev/null
omnikpi_psql -c "CREATE DATABASE $db"
export PGDATABASE=$db
omnikpi_psql -c 'CREATE EXTENSION omnikpi'
# Pin the module the bench built: someone else's `make install` on a shared
# machine must not swap $libdir/omnikpi.so mid-run.  Only this throw-away
# cluster's catalog changes.
omnikpi_psql -q -v so="$OMNIKPI_CLUSTER_DIR/omnikpi.so" \
	<<<"UPDATE pg_proc SET probin = :'so' WHERE probin = '\$libdir/omnikpi'"

echo "generating $interactions interactions"
data_started=$(date +%s)
omnikpi_psql -v interactions="$interactions" -v seed=1 -v schema=omnikpi_demo -f demo/generate.sql >/dev/null
generation_s=$(($(date +%s) - data_started))
echo "data generated in $generation_s s"
omnikpi_psql -c 'VACUUM ANALYZE'

omnikpi_psql <<'SQL'
CREATE TABLE bench_timing (kind text, round integer, ms double precision, days_recomputed integer);
CREATE SCHEMA omnikpi_kpi;
CREATE SCHEMA omnikpi_plain;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM omnikpi.create_kpi_views('omnikpi_kpi', interactions => 'omnikpi_demo.interactions',
	orders => 'omnikpi_demo.orders', touchpoints => 'omnikpi_demo.touchpoints',
	conversions => 'omnikpi_demo.conversions', materialized => true) \g /dev/null
INSERT INTO bench_timing SELECT 'create', 0, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000;
-- The plain views, for the exactness check of every round.
SELECT count(*) FROM omnikpi.create_kpi_views('omnikpi_plain', interactions => 'omnikpi_demo.interactions') \g /dev/null
SQL

for ((round = 1; round <= rounds; round++)); do
	echo "round $round of $rounds"
	omnikpi_psql -v round="$round" <<'SQL'
-- One new day: the data's last day again, :round days later, with new ids.
INSERT INTO omnikpi_demo.interactions
SELECT interaction_id + :round * 1000000000::bigint, customer_id, journey_id, channel,
	occurred_at + :round * interval '1 day', phase, satisfaction, effort, nps, context_carried, issue_id, resolved
FROM omnikpi_demo.interactions
WHERE occurred_at >= timestamptz '2026-09-30 00:00+00' AND occurred_at < timestamptz '2026-10-01 00:00+00';

SELECT clock_timestamp() AS t0 \gset
CALL omnikpi.refresh_kpi_views('omnikpi_kpi');
INSERT INTO bench_timing
SELECT 'incremental', :round, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000,
	(SELECT count(DISTINCT day) FROM omnikpi_kpi.interactions_daily d, omnikpi_kpi.kpi_refresh_state s
	 WHERE d.day >= s.recomputed_from);

SELECT clock_timestamp() AS t0 \gset
CALL omnikpi.refresh_kpi_views('omnikpi_kpi', full_rebuild => true);
INSERT INTO bench_timing
SELECT 'full', :round, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000,
	(SELECT count(DISTINCT day) FROM omnikpi_kpi.interactions_daily);
SQL
done

# Exactness on the demo data: every materialized KPI against its plain view.
differing=$(omnikpi_psql -At <<'SQL'
CREATE FUNCTION pg_temp.differences(a regclass, b regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	cols text;
	n bigint;
BEGIN
	SELECT string_agg(CASE WHEN atttypid = 'float8'::regtype THEN format('round(%I::numeric, 9)', attname)
						   ELSE quote_ident(attname) END, ', ' ORDER BY attnum)
	INTO cols FROM pg_attribute WHERE attrelid = a AND attnum > 0 AND NOT attisdropped;
	EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM %2$s EXCEPT ALL SELECT %1$s FROM %3$s)
		UNION ALL (SELECT %1$s FROM %3$s EXCEPT ALL SELECT %1$s FROM %2$s)) d', cols, a, b) INTO n;
	RETURN n;
END
$$;
SELECT coalesce(string_agg(c.relname, ', '), 'none')
FROM pg_class c
WHERE c.relnamespace = 'omnikpi_kpi'::regnamespace AND c.relkind = 'm'
  AND pg_temp.differences(c.oid, ('omnikpi_plain.' || quote_ident(c.relname))::regclass) > 0;
SQL
)
echo "materialized KPIs differing from the plain views: $differing"

elapsed=$(($(date +%s) - started))
report=$(omnikpi_psql -At -v wall="$((elapsed / 60)) min $((elapsed % 60)) s" \
	-v load="$load_before before, $(cut -d' ' -f1 /proc/loadavg) after" -v cores="$(nproc)" \
	-v cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	-v interactions="$interactions" -v rounds="$rounds" -v generation="$generation_s" \
	-v differing="$differing" <<'SQL'
CREATE FUNCTION pg_temp.ms(x float8) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN x >= 100 THEN round(x)::text ELSE round(x::numeric, 1)::text END
$$;
CREATE TEMP VIEW summary AS
SELECT kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median, min(ms) AS min, max(ms) AS max,
	count(*) AS runs, max(days_recomputed) AS days
FROM bench_timing GROUP BY kind;
SELECT '# omnikpi materialized KPIs: incremental vs full refresh';
SELECT '';
SELECT format('`make bench-refresh` on %s: %s cores (%s), %s; the whole run took %s '
			  '(1-minute load average %s).',
			  to_char(now(), 'YYYY-MM-DD'), :'cores', :'cpu', split_part(version(), ' on ', 1), :'wall', :'load');
SELECT '';
SELECT format('Data: the demo company (`demo/generate.sql`, seed 1) with %s interactions '
			  '(generated in %s s), %s rows in `interactions_daily` (%s days × channel × phase); '
			  'each round adds one day of %s interactions (a copy of 2026-09-30, one day later per round).',
			  to_char(:'interactions'::bigint, 'FM999,999,999,999'), :'generation',
			  (SELECT to_char(count(*), 'FM999,999,999') FROM omnikpi_kpi.interactions_daily),
			  (SELECT count(DISTINCT day) FROM omnikpi_kpi.interactions_daily),
			  (SELECT to_char(count(*), 'FM999,999,999') FROM omnikpi_demo.interactions
			   WHERE occurred_at >= timestamptz '2026-09-30 00:00+00' AND occurred_at < timestamptz '2026-10-01 00:00+00'));
SELECT '';
SELECT format('Per round: add the day, `CALL omnikpi.refresh_kpi_views(''omnikpi_kpi'')` (incremental, '
			  'late window 3 days), then `CALL omnikpi.refresh_kpi_views(''omnikpi_kpi'', full_rebuild => true)`; '
			  '%s rounds.  Times in ms, taken by the server around the CALL (clock_timestamp()).  '
			  'Each refresh recomputes the days in the table, then refreshes the six materialized views '
			  'concurrently, in one transaction.', :'rounds');
SELECT '';
SELECT '| refresh | days recomputed | median | min | max |';
SELECT '|---|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s |', kind, days, pg_temp.ms(median), pg_temp.ms(min), pg_temp.ms(max))
FROM summary WHERE kind IN ('incremental', 'full') ORDER BY kind DESC;
SELECT '';
SELECT format('**Incremental refresh after one new day: %s× faster than a full rebuild** (ratio of the medians, %s ms / %s ms).',
			  to_char(f.median / i.median, 'FM99990.0'), pg_temp.ms(f.median), pg_temp.ms(i.median))
FROM summary f, summary i WHERE f.kind = 'full' AND i.kind = 'incremental';
SELECT '';
SELECT format('The first build (`create_kpi_views(..., materialized => true)`, all views, one run): %s ms.',
			  pg_temp.ms(median))
FROM summary WHERE kind = 'create';
SELECT '';
SELECT format('Materialized KPIs differing from the plain views over the same data after the last round '
			  '(floats to 9 decimals): %s.', :'differing');
SQL
)
echo
if [ -n "$output" ]; then
	mkdir -p "$(dirname "$output")"
	printf '%s\n' "$report" >"$output"
	echo "wrote $output:"
	echo
fi
printf '%s\n' "$report"
