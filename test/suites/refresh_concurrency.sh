#!/usr/bin/env bash
#
# refresh_concurrency.sh: the materialized KPI views under load.  Over TCP on
# the loopback interface, three pgbench runs at once, each bounded in
# transactions (-t) and in time (timeout):
#   * 8 clients each reading every KPI view of the materialized form whole,
#     as a dashboard opens them (a script written from omnikpi.kpi_views),
#   * 2 clients inserting new contacts, touches, conversions and orders
#     (test/pgbench/source_writer.sql),
#   * 1 client calling omnikpi.refresh_kpi_views('kpi') again and again
#     (test/pgbench/refresher.sql).
# Each reader's last transaction waits for the second refresh to finish, so
# the overlap does not depend on the machine's speed; the time limits only
# stop a run that hangs.
# Passes when every pgbench exits 0 with every transaction processed and none
# failed; no reader ever waited for a lock (sampled from pg_locks every 20 ms
# during the run, and no "still waiting for AccessShareLock" in the server
# log, which logs every lock wait over 10 ms in this database); refreshes
# really ran while the readers read; and after a last incremental refresh
# every KPI table equals the plain view computed from scratch.
# Prints the pgbench figures (transactions, tps, failed).

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

db=omnikpi_refresh_concurrency
readers=8
reader_tx=100
reader_rate=100	# transactions per second, all readers together
writers=2
writer_tx=400
writer_rate=100
refresh_tx=40
time_limit=300
work=$(mktemp -d)
sampler_pid=
cleanup()
{
	if [ -n "$sampler_pid" ]; then
		kill "$sampler_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

fail()
{
	echo "FAILED: $*"
	exit 1
}

omnikpi_psql -d postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db"
# Every lock wait over 10 ms in this database goes to the server log.
omnikpi_psql -d postgres -c "ALTER DATABASE $db SET log_lock_waits = on" \
	-c "ALTER DATABASE $db SET deadlock_timeout = '10ms'" -c "ALTER DATABASE $db SET log_min_messages = log"
export PGDATABASE=$db PGTZ=UTC

# Three months of contacts, touches, conversions and orders (2024-01-01 to
# 2024-03-31), the materialized KPI views over them in schema kpi, and the
# plain ones in kpi_plain.
omnikpi_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION omnikpi;
CREATE SCHEMA shop;
CREATE TABLE shop.interactions AS
SELECT g % 997 AS customer_id, g % 4001 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + (g * 7 + g / 13) % 5] AS channel,
	timestamptz '2024-01-01 00:00+00' + (g % 91) * interval '1 day' + (g % 97) * interval '14 minutes' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	CASE WHEN g % 3 <> 0 THEN (1 + (g * 31) % 5)::float8 END AS satisfaction,
	CASE WHEN g % 4 = 0 THEN (1 + g % 7)::float8 END AS effort,
	CASE WHEN g % 5 < 2 THEN g % 11 END AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 500 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(1, 20000) g;
CREATE TABLE shop.touchpoints AS
SELECT g % 3001 AS journey_id, g % 997 AS customer_id,
	(ARRAY['web', 'app', 'store', 'email', 'social'])[1 + (g * 3 + g / 7) % 5] AS channel,
	timestamptz '2024-01-01 00:00+00' + (g % 91) * interval '1 day' + (g % 89) * interval '15 minutes' AS touched_at,
	(g % 9) * 0.5 AS cost
FROM generate_series(1, 8000) g;
CREATE TABLE shop.conversions AS
SELECT j AS journey_id, j % 997 AS customer_id,
	timestamptz '2024-01-01 00:00+00' + (j % 91) * interval '1 day' + interval '23 hours' AS converted_at, (10 + j % 40)::numeric AS value
FROM generate_series(1, 3000, 3) j;
CREATE TABLE shop.orders AS
SELECT g AS order_id, g % 997 AS customer_id, (ARRAY['web', 'app', 'store'])[1 + g % 3] AS channel,
	timestamptz '2024-01-01 00:00+00' + (g % 90) * interval '1 day' + (g % 13) * interval '1 hour' AS ordered_at,
	(5 + g % 50)::numeric AS amount, (ARRAY['delivery', 'bopis', 'in_store'])[1 + g % 3] AS fulfillment,
	timestamptz '2024-01-01 06:00+00' + (g % 90) * interval '1 day' AS ready_at, NULL::timestamptz AS collected_at,
	CASE WHEN g % 11 = 0 THEN timestamptz '2024-01-03 00:00+00' + (g % 88) * interval '1 day' END AS returned_at,
	CASE WHEN g % 11 = 0 THEN 'store' END AS return_channel
FROM generate_series(1, 3000) g;
CREATE INDEX ON shop.interactions (occurred_at);
CREATE INDEX ON shop.interactions (customer_id, occurred_at);
CREATE INDEX ON shop.touchpoints (touched_at);
CREATE INDEX ON shop.touchpoints (journey_id);
CREATE INDEX ON shop.conversions (converted_at);
CREATE INDEX ON shop.conversions (journey_id);
CREATE INDEX ON shop.orders (order_id);
CREATE INDEX ON shop.orders (ordered_at);
ANALYZE;
CREATE SCHEMA kpi;
CREATE SCHEMA kpi_plain;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions', orders => 'shop.orders',
	touchpoints => 'shop.touchpoints', conversions => 'shop.conversions', materialized => true) \g /dev/null
SELECT count(*) FROM omnikpi.create_kpi_views('kpi_plain', interactions => 'shop.interactions', orders => 'shop.orders',
	touchpoints => 'shop.touchpoints', conversions => 'shop.conversions') \g /dev/null
CREATE TABLE refresh_log (finished_at timestamptz);
CREATE TABLE reader_waits (sampled_at timestamptz, waiting integer, readers integer);
CREATE TABLE sampler_stop (stop boolean);
SQL

# The sampler: every 20 ms, how many reader backends wait for a lock.  One
# session; pg_stat_clear_snapshot() so pg_stat_activity is read afresh.
omnikpi_psql -q >"$work/sampler.log" 2>&1 <<SQL &
DO \$\$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '$time_limit seconds';
BEGIN
	WHILE clock_timestamp() < deadline AND NOT EXISTS (SELECT 1 FROM sampler_stop) LOOP
		PERFORM pg_stat_clear_snapshot();
		INSERT INTO reader_waits
		SELECT clock_timestamp(),
			(SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			 WHERE NOT l.granted AND a.application_name = 'omnikpi_kpi_reader'),
			(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'omnikpi_kpi_reader');
		PERFORM pg_sleep(0.02);
	END LOOP;
END
\$\$;
SQL
sampler_pid=$!

# A dashboard opening: every KPI view of the materialized form, read whole.
# A reader's last transaction (number :transactions, given with -D, counted
# in :done) first waits until two refreshes have finished, so that refreshes
# overlap the readers however fast or slow the machine is; it stops waiting
# when the refresher has gone (failed), and the suite then reports too few
# refreshes.
cat >"$work/kpi_reader.sql" <<'SQL'
\set done :done + 1
\if :done = :transactions
DO $$
BEGIN
	WHILE (SELECT count(*) FROM refresh_log) < 2
		AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'omnikpi_refresher') LOOP
		PERFORM pg_sleep(0.05);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END
$$;
\endif
SQL
omnikpi_psql -At >>"$work/kpi_reader.sql" <<'SQL'
SELECT format('SELECT * FROM kpi.%I;', c.relname)
FROM omnikpi.kpi_objects('kpi') o JOIN pg_class c ON c.oid = o.relation
JOIN omnikpi.kpi_views v ON v.view_name = c.relname
WHERE o.kind = 'kpi view'
ORDER BY v.position;
SQL
kpi_tables=$(grep -c '^SELECT \* FROM kpi\.' "$work/kpi_reader.sql")
[ "$kpi_tables" -ge 20 ] || fail "only $kpi_tables KPI views to read"
echo "readers read $kpi_tables KPI views per transaction"

log_lines_before=$(wc -l <"$OMNIKPI_SERVER_LOG")
run_started=$(omnikpi_psql -At -c 'SELECT clock_timestamp()')
bench()
{
	local name=$1
	shift
	# A fixed seed: the same random months, KPIs and rows on every run.
	PGAPPNAME=omnikpi_$name timeout "$time_limit" "$OMNIKPI_PG_BINDIR/pgbench" -n -h 127.0.0.1 \
		--random-seed=20240611 "$@" \
		"$db" >"$work/$name.log" 2>&1
}
bench kpi_reader -c "$readers" -j 2 -t "$reader_tx" -R "$reader_rate" -D done=0 -D transactions="$reader_tx" \
	-f "$work/kpi_reader.sql" &
reader_pid=$!
bench writer -c "$writers" -t "$writer_tx" -R "$writer_rate" -f test/pgbench/source_writer.sql &
writer_pid=$!
bench refresher -c 1 -t "$refresh_tx" -f test/pgbench/refresher.sql &
refresher_pid=$!

status=0
wait "$reader_pid" || status=$?
reader_status=$status
readers_done=$(omnikpi_psql -At -c 'SELECT clock_timestamp()')
status=0
wait "$writer_pid" || status=$?
writer_status=$status
status=0
wait "$refresher_pid" || status=$?
refresher_status=$status
omnikpi_psql -c 'INSERT INTO sampler_stop VALUES (true)'
wait "$sampler_pid" || fail "the lock sampler failed: $(cat "$work/sampler.log")"
sampler_pid=

# The figures, then the checks.
failed=0
echo
printf '%-12s %8s %14s %12s %10s\n' run clients transactions tps failed
for name in kpi_reader writer refresher; do
	log=$work/$name.log
	case $name in
		kpi_reader) clients=$readers expected=$((readers * reader_tx)) st=$reader_status ;;
		writer) clients=$writers expected=$((writers * writer_tx)) st=$writer_status ;;
		refresher) clients=1 expected=$refresh_tx st=$refresher_status ;;
	esac
	processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	failures=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$log")
	printf '%-12s %8s %14s %12s %10s\n' "$name" "$clients" "${processed:-?}/$expected" "${tps:-?}" "${failures:-?}"
	if [ "$st" -ne 0 ] || [ "${processed:-}" != "$expected" ] || [ "${failures:-}" != 0 ]; then
		echo "pgbench $name: exit status $st, $processed of $expected transactions, ${failures:-?} failed:"
		tail -n 30 "$log"
		failed=1
	fi
done
[ "$failed" = 0 ] || fail "a pgbench run had errors"

read -r samples max_waiting reader_samples refreshes < <(omnikpi_psql -At -F ' ' -v started="$run_started" \
	-v done="$readers_done" <<<"SELECT count(*), coalesce(max(waiting), 0), count(*) FILTER (WHERE readers > 0),
		(SELECT count(*) FROM refresh_log WHERE finished_at BETWEEN :'started' AND :'done')
	FROM reader_waits")
echo "lock sampler: $samples samples ($reader_samples with readers connected), at most $max_waiting readers waiting for a lock"
echo "refreshes finished while the readers ran: $refreshes of $refresh_tx"
[ "$reader_samples" -gt 0 ] || fail "the sampler never saw a reader"
[ "$max_waiting" = 0 ] || fail "readers waited for a lock"
[ "$refreshes" -ge 2 ] || fail "too few refreshes overlapped the readers to prove anything"
waits=$(tail -n +"$((log_lines_before + 1))" "$OMNIKPI_SERVER_LOG" |
	grep "@$db " | grep -c 'still waiting for AccessShareLock' || true)
echo "server log: $waits lock waits of readers over 10 ms"
[ "$waits" = 0 ] || fail "readers waited for a lock (see the server log)"

# After the last incremental refresh, every KPI table equals the plain view
# over the same data (omnikpi.kpi_view_differences), and every contact counts.
result=$(omnikpi_psql -At <<'SQL'
CALL omnikpi.refresh_kpi_views('kpi');
SELECT count(*) || ' KPI views, ' || count(*) FILTER (WHERE d.differing_rows > 0) || ' differing from the plain views, '
	|| (SELECT sum(interactions) FROM kpi.experience_rating_monthly) || ' of '
	|| (SELECT count(*) FROM shop.interactions) || ' interactions counted'
FROM omnikpi.kpi_view_differences('kpi', 'kpi_plain') d
WHERE d.kind = 'kpi view';
SQL
)
echo "final KPIs: $result"
interactions=$(omnikpi_psql -At -c 'SELECT count(*) FROM shop.interactions')
[ "$result" = "$kpi_tables KPI views, 0 differing from the plain views, $interactions of $interactions interactions counted" ] ||
	fail "the final KPIs differ from a computation from scratch"

omnikpi_psql -d postgres -c "DROP DATABASE $db"
echo "refresh under load: no errors, no reader blocked, final KPIs exact"
