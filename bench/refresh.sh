#!/usr/bin/env bash
#
# bench/refresh.sh: what `make bench-refresh` runs.  The materialized KPI
# views on the demo data, at several sizes of history:
#   1. installs the missing Debian packages, builds with -Werror, installs;
#   2. starts a throw-away cluster (test/cluster.sh) with the settings of
#      `make bench`, and pins the module it built (as bench/run.sh does);
#   3. generates the demo company once at 10 million interactions
#      (demo/generate.sql, seed 1: twelve months, about 27,000 interactions a
#      day) into omnikpi_demo_history;
#   4. per size (OMNIKPI_REFRESH_SIZES interactions, smallest first, at most
#      10 million): copies the last days of that history holding about that
#      many interactions into omnikpi_demo (all four sources cut at the same
#      day, their rows stored in time order, as sources that grow by new rows
#      are), so that every size has days as dense as the 10 million demo's
#      and a larger size is a longer history (2.5 million: about three
#      months), and creates the materialized KPI views over all four sources
#      (timed once: the first build) and the plain ones;
#   5. reads every KPI view of the materialized form whole, OMNIKPI_READ_ROUNDS
#      times, and, at the smallest size, every plain view once (a plain view
#      rescans the sources, so one read of each takes minutes at 10 million);
#   6. per round (OMNIKPI_REFRESH_ROUNDS): adds one new day to all four sources
#      (a copy of the data's last day, 2026-09-30, moved on by one day per
#      round, with new ids, journeys and orders moved with them: the same new
#      day, and the same days in the late window, at every size) and times
#      CALL omnikpi.refresh_kpi_views(...);
#   7. then times one full rebuild; at the smallest size, first checks with
#      omnikpi.kpi_view_differences that every KPI and entity table equals
#      the plain form after the incremental refreshes;
#   8. writes the tables as Markdown to bench/results/refresh.md and prints
#      them.
# Times are the server's: EXPLAIN (ANALYZE, TIMING OFF) "Execution Time" for
# reads (every row and column computed, none sent), clock_timestamp() around
# the CALL, in the same session, for refreshes.
#
# Environment: OMNIKPI_REFRESH_SIZES (default "2500000 5000000 10000000"),
# OMNIKPI_REFRESH_ROUNDS (default 3), OMNIKPI_READ_ROUNDS (default 5).  Other
# values make a trial run, whose report goes to the terminal only.  PG_CONFIG
# as for make test.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

default_sizes="2500000 5000000 10000000"
sizes=${OMNIKPI_REFRESH_SIZES:-$default_sizes}
rounds=${OMNIKPI_REFRESH_ROUNDS:-3}
read_rounds=${OMNIKPI_READ_ROUNDS:-5}
output=bench/results/refresh.md
read -r -a given_sizes <<<"$sizes"
for n in "${given_sizes[@]}" "$rounds" "$read_rounds"; do
	if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
		echo "error: OMNIKPI_REFRESH_SIZES, OMNIKPI_REFRESH_ROUNDS and OMNIKPI_READ_ROUNDS must be positive whole numbers" >&2
		exit 1
	fi
done
mapfile -t sizes < <(printf '%s\n' "${given_sizes[@]}" | sort -nu)
history=10000000
if [ "${sizes[-1]}" -gt "$history" ]; then
	echo "error: OMNIKPI_REFRESH_SIZES must be at most $history, the interactions of the demo's twelve months" >&2
	exit 1
fi
if [ "${sizes[*]}" != "$default_sizes" ] || [ "$rounds" != 3 ] || [ "$read_rounds" != 5 ]; then
	output=
fi
smallest=${sizes[0]}
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

omnikpi_psql -q <<'SQL'
CREATE TABLE bench_timing (size bigint, kind text, relation name, round integer, ms double precision);
CREATE TABLE bench_size (size bigint PRIMARY KEY, interactions bigint, first_day date,
	new_day_rows bigint, differing text);
-- The server's execution time of a whole read of one relation.
CREATE FUNCTION bench_read_ms(relation regclass) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE format('EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT * FROM %s', relation) INTO plan;
	RETURN (plan -> 0 ->> 'Execution Time')::double precision;
END
$$;
SQL

echo "== generating the demo's twelve months ($history interactions)"
omnikpi_psql -v interactions="$history" -v seed=1 -v schema=omnikpi_demo_history -f demo/generate.sql >/dev/null

for size in "${sizes[@]}"; do
	echo "== $size interactions: copying the last days of the history"
	omnikpi_psql -q >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT format('SELECT count(*) FROM omnikpi.drop_kpi_views(%L)', nspname) FROM pg_namespace
WHERE nspname IN ('omnikpi_kpi', 'omnikpi_plain') \gexec
DROP SCHEMA IF EXISTS omnikpi_kpi, omnikpi_plain, omnikpi_demo CASCADE;
SQL
	omnikpi_psql -q -v size="$size" <<'SQL'
-- The first day of the shortest tail of days holding :size interactions.
SELECT max(day)::date AS first_day
FROM (SELECT date_trunc('day', occurred_at) AS day, sum(count(*)) OVER (ORDER BY date_trunc('day', occurred_at) DESC) AS tail
	  FROM omnikpi_demo_history.interactions GROUP BY 1) AS d
WHERE tail >= :size \gset
CREATE SCHEMA omnikpi_demo;
SELECT format('CREATE TABLE omnikpi_demo.%1$I (LIKE omnikpi_demo_history.%1$I INCLUDING ALL);
			   INSERT INTO omnikpi_demo.%1$I SELECT * FROM omnikpi_demo_history.%1$I WHERE %2$I >= %3$L ORDER BY %2$I',
			  t, c, :'first_day')
FROM (VALUES ('interactions', 'occurred_at'), ('orders', 'ordered_at'), ('touchpoints', 'touched_at'),
			 ('conversions', 'converted_at')) AS s(t, c) \gexec
INSERT INTO bench_size (size, interactions, first_day)
SELECT :size, count(*), :'first_day' FROM omnikpi_demo.interactions;
SQL
	omnikpi_psql -c 'VACUUM ANALYZE' >/dev/null

	echo "== $size interactions: first build"
	# The demo's contacts have no duration: one made up from the id (1 to 10
	# minutes), so that time_by_channel_monthly is made and measured too.
	omnikpi_psql -q -v size="$size" \
		-v duration='{"interactions": {"duration": "60 + interaction_id % 541"}}' <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA omnikpi_kpi;
CREATE SCHEMA omnikpi_plain;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM omnikpi.create_kpi_views('omnikpi_kpi', interactions => 'omnikpi_demo.interactions',
	orders => 'omnikpi_demo.orders', touchpoints => 'omnikpi_demo.touchpoints',
	conversions => 'omnikpi_demo.conversions', columns => :'duration', materialized => true) \g /dev/null
INSERT INTO bench_timing SELECT :size, 'create', NULL, 1, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000;
SELECT count(*) FROM omnikpi.create_kpi_views('omnikpi_plain', interactions => 'omnikpi_demo.interactions',
	orders => 'omnikpi_demo.orders', touchpoints => 'omnikpi_demo.touchpoints',
	conversions => 'omnikpi_demo.conversions', columns => :'duration') \g /dev/null
VACUUM ANALYZE;
SQL

	echo "== $size interactions: reading every KPI view"
	omnikpi_psql -q -v size="$size" -v read_rounds="$read_rounds" -v plain="$([ "$size" = "$smallest" ] && echo 1 || echo 0)" <<'SQL'
-- Warm: one read of each table first, not timed.
SELECT count(bench_read_ms(o.relation)) FROM omnikpi.kpi_objects('omnikpi_kpi') o WHERE o.kind = 'kpi view' \g /dev/null
INSERT INTO bench_timing
SELECT :size, 'read materialized', o.relation_name, r, bench_read_ms(o.relation)
FROM generate_series(1, :read_rounds) r CROSS JOIN omnikpi.kpi_objects('omnikpi_kpi') o
WHERE o.kind = 'kpi view';
INSERT INTO bench_timing
SELECT :size, 'read plain', o.relation_name, 1, bench_read_ms(o.relation)
FROM omnikpi.kpi_objects('omnikpi_plain') o
WHERE o.kind = 'kpi view' AND :plain = 1;
SQL

	for ((round = 1; round <= rounds; round++)); do
		echo "== $size interactions: new day $round of $rounds"
		omnikpi_psql -q -v size="$size" -v round="$round" <<'SQL'
-- One new day in all four sources: the data's last day again, :round days
-- later, with new ids (journeys and orders moved with them).
\set day_start 'timestamptz ''2026-09-30 00:00+00'''
\set day_end 'timestamptz ''2026-10-01 00:00+00'''
SELECT :round * 1000000000000::bigint AS shift \gset
INSERT INTO omnikpi_demo.interactions
SELECT interaction_id + :shift, customer_id, journey_id + :shift, channel, occurred_at + :round * interval '1 day',
	phase, satisfaction, effort, nps, context_carried, issue_id + :shift, resolved
FROM omnikpi_demo.interactions WHERE occurred_at >= :day_start AND occurred_at < :day_end;
INSERT INTO omnikpi_demo.touchpoints
SELECT touch_id + :shift, journey_id + :shift, customer_id, channel, touched_at + :round * interval '1 day', cost
FROM omnikpi_demo.touchpoints WHERE touched_at >= :day_start AND touched_at < :day_end;
INSERT INTO omnikpi_demo.orders
SELECT order_id + :shift, customer_id, channel, ordered_at + :round * interval '1 day', amount, fulfillment,
	ready_at + :round * interval '1 day', collected_at + :round * interval '1 day',
	returned_at + :round * interval '1 day', return_channel
FROM omnikpi_demo.orders WHERE ordered_at >= :day_start AND ordered_at < :day_end;
INSERT INTO omnikpi_demo.conversions
SELECT journey_id + :shift, converted_at + :round * interval '1 day', value
FROM omnikpi_demo.conversions c WHERE converted_at >= :day_start AND converted_at < :day_end;
UPDATE bench_size SET new_day_rows = (SELECT count(*) FROM omnikpi_demo.interactions
									  WHERE occurred_at >= :day_start + :round * interval '1 day'
										AND occurred_at < :day_end + :round * interval '1 day')
WHERE size = :size;

SELECT clock_timestamp() AS t0 \gset
CALL omnikpi.refresh_kpi_views('omnikpi_kpi');
INSERT INTO bench_timing SELECT :size, 'incremental', NULL, :round, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000;
SQL
	done

	if [ "$size" = "$smallest" ]; then
		echo "== $size interactions: comparing with the plain form"
		omnikpi_psql -q -v size="$size" <<'SQL'
UPDATE bench_size SET differing = (
	SELECT coalesce(string_agg(relation || ' ' || coalesce(differing_rows::text, 'columns'), ', ' ORDER BY relation), 'none')
	FROM omnikpi.kpi_view_differences('omnikpi_kpi', 'omnikpi_plain') WHERE differing_rows IS DISTINCT FROM 0)
WHERE size = :size;
SQL
	fi

	echo "== $size interactions: full rebuild"
	omnikpi_psql -q -v size="$size" <<'SQL'
SELECT clock_timestamp() AS t0 \gset
CALL omnikpi.refresh_kpi_views('omnikpi_kpi', full_rebuild => true);
INSERT INTO bench_timing SELECT :size, 'full', NULL, 1, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000;
SQL
done

elapsed=$(($(date +%s) - started))
report=$(omnikpi_psql -At -v wall="$((elapsed / 60)) min $((elapsed % 60)) s" \
	-v load="$load_before before, $(cut -d' ' -f1 /proc/loadavg) after" -v cores="$(nproc)" \
	-v cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	-v rounds="$rounds" -v read_rounds="$read_rounds" -v smallest="$smallest" <<'SQL'
CREATE FUNCTION pg_temp.ms(x float8) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN x IS NULL THEN '–' WHEN x >= 100 THEN to_char(round(x), 'FM999,999,999')
				WHEN x >= 1 THEN round(x::numeric, 1)::text ELSE round(x::numeric, 3)::text END
$$;
CREATE FUNCTION pg_temp.rows(x bigint) RETURNS text LANGUAGE sql AS $$
	SELECT to_char(x, 'FM999,999,999,999')
$$;
CREATE TEMP VIEW summary AS
SELECT size, kind, relation, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median, min(ms) AS min, max(ms) AS max
FROM bench_timing GROUP BY size, kind, relation;
SELECT '# omnikpi materialized KPIs: reading and refreshing';
SELECT '';
SELECT format('`make bench-refresh` on %s: %s cores (%s), %s; the whole run took %s '
			  '(1-minute load average %s).',
			  to_char(now(), 'YYYY-MM-DD'), :'cores', :'cpu', split_part(version(), ' on ', 1), :'wall', :'load');
SELECT '';
SELECT 'Data: the demo company (`demo/generate.sql`, seed 1) at 10 million interactions, twelve months '
	'(about 27,000 interactions a day); each size is the last days of it that hold about that many interactions, '
	'in all four sources, so that every size has the same density and a larger size is a longer history.  '
	'Over it, the materialized form of every KPI view and the plain form.  A new day is a copy of 2026-09-30 '
	'in all four sources, one day later per round, with new ids: the same new day, and the same days in the '
	'late window, at every size.';
SELECT '';
SELECT '## Refreshing';
SELECT '';
SELECT format('Per size: the first build (`create_kpi_views(..., materialized => true)`, one run), '
			  'then %s rounds of one new day and `CALL omnikpi.refresh_kpi_views(''omnikpi_kpi'')` (incremental, '
			  'late window 3 days), then one `CALL omnikpi.refresh_kpi_views(''omnikpi_kpi'', full_rebuild => true)`.  '
			  'Times in ms, taken by the server around the CALL.', :'rounds');
SELECT '';
SELECT '| interactions | history | new day (interactions) | first build | incremental, median (min–max) | full rebuild | incremental ÷ full |';
SELECT '|---:|---|---:|---:|---:|---:|---:|';
SELECT format('| %s | %s | %s | %s | %s (%s–%s) | %s | %s%% |', pg_temp.rows(b.interactions),
			  format('%s to 2026-09-30', b.first_day),
			  pg_temp.rows(b.new_day_rows),
			  pg_temp.ms(c.median), pg_temp.ms(i.median), pg_temp.ms(i.min), pg_temp.ms(i.max), pg_temp.ms(f.median),
			  to_char(100 * i.median / f.median, 'FM990.0'))
FROM bench_size b
LEFT JOIN summary c ON c.size = b.size AND c.kind = 'create'
LEFT JOIN summary i ON i.size = b.size AND i.kind = 'incremental'
LEFT JOIN summary f ON f.size = b.size AND f.kind = 'full'
ORDER BY b.size;
SELECT '';
SELECT format('After the incremental refreshes at %s interactions, KPI and entity tables differing from the plain form '
			  '(omnikpi.kpi_view_differences): %s.', pg_temp.rows(size), coalesce(differing, 'not checked'))
FROM bench_size WHERE size = :smallest;
SELECT '';
SELECT '## Reading every KPI view whole';
SELECT '';
SELECT format('`EXPLAIN (ANALYZE, TIMING OFF) SELECT * FROM view`: the server''s execution time in ms, every row '
			  'and column computed.  Materialized form: median of %s reads after the first build (one untimed read '
			  'first).  Plain form: one read at %s interactions.', :'read_rounds', pg_temp.rows(:smallest::bigint));
SELECT '';
SELECT '| KPI view | ' || string_agg(format('materialized, %s', pg_temp.rows(size)), ' | ' ORDER BY size)
	|| format(' | plain, %s | plain ÷ materialized, %s |', pg_temp.rows(:smallest::bigint), pg_temp.rows(:smallest::bigint))
FROM bench_size;
SELECT '|---|' || string_agg('---:', '|' ORDER BY size) || '|---:|---:|' FROM bench_size;
SELECT format('| `%s` | %s | %s | %s× |', v.relation,
			  string_agg(pg_temp.ms(m.median), ' | ' ORDER BY b.size),
			  pg_temp.ms(min(p.median)), to_char(min(p.median) / min(m.median) FILTER (WHERE b.size = :smallest), 'FM999,999,990'))
FROM (SELECT DISTINCT relation FROM bench_timing WHERE kind = 'read materialized') v
CROSS JOIN bench_size b
LEFT JOIN summary m ON m.size = b.size AND m.kind = 'read materialized' AND m.relation = v.relation
LEFT JOIN summary p ON p.size = :smallest AND p.kind = 'read plain' AND p.relation = v.relation
GROUP BY v.relation ORDER BY v.relation;
SELECT '';
SELECT format('The slowest read of a materialized KPI view, median: %s ms at %s interactions (`%s`).',
			  pg_temp.ms(median), pg_temp.rows(size), relation)
FROM summary WHERE kind = 'read materialized' ORDER BY median DESC LIMIT 1;
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
