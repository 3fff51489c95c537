#!/usr/bin/env bash
#
# cron_schedule.sh: omnikpi.schedule_refresh with a real pg_cron, end to end.
# In a throw-away cluster of its own with Debian's pg_cron preloaded, it
# creates materialized KPI views, schedules their refresh every minute,
# inserts a new day of interactions, waits until cron.job_run_details shows
# a finished run (CRON_WAIT_SECONDS, default 600, only stops a run that
# hangs: pg_cron starts the job within a minute), and checks
# that the materialized KPIs then equal the plain views over the new data.
# Re-scheduling keeps one job; unscheduling leaves none.  Jobs that rebuild
# the materialized views of a date and of a local timestamp source, made
# from a session in New York, cut days and months in New York, though
# pg_cron runs them in the server's zone.  It also checks the
# errors of a database pg_cron does not serve, of a database without the
# pg_cron extension, and of a role without USAGE on schema cron.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages "postgresql-$OMNIKPI_PG_MAJOR-cron"
pkglibdir=$("$PG_CONFIG" --pkglibdir)
if [ ! -f "$pkglibdir/pg_cron.so" ] || [ ! -f "$("$PG_CONFIG" --sharedir)/extension/pg_cron.control" ]; then
	echo "pg_cron is not installed in the PostgreSQL of $PG_CONFIG ($pkglibdir); Debian's postgresql-$OMNIKPI_PG_MAJOR-cron installs it into /usr/lib/postgresql/$OMNIKPI_PG_MAJOR" >&2
	exit 1
fi

# test/run.sh's cluster has no pg_cron (shared_preload_libraries needs a
# restart), so this suite starts and stops its own; forget the other one.
unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP OMNIKPI_SERVER_LOG PGHOST PGPORT PGUSER PGDATABASE
cron_db=omnikpi_cron
# Background workers run the jobs inside the server, so no connection
# settings (cron.host, passwords) are involved.  The server's zone, in which
# pg_cron's jobs run, is Tokyo: neither UTC nor the zone the views below are
# made in.
export OMNIKPI_EXTRA_CONF="shared_preload_libraries = 'pg_cron'
cron.database_name = '$cron_db'
cron.use_background_workers = on
timezone = 'Asia/Tokyo'"
omnikpi_cluster_stop_on_exit
omnikpi_cluster_start

wait_seconds=${CRON_WAIT_SECONDS:-600}

fail()
{
	echo "FAILED: $*" >&2
	exit 1
}

# expect_error SQLSTATE PATTERN DB SQL: SQL must fail with SQLSTATE, and its
# message, detail and hint (joined into one line) must match PATTERN.
expect_error()
{
	local state=$1 pattern=$2 db=$3 sql=$4 out

	if out=$(omnikpi_psql -d "$db" -v VERBOSITY=verbose -c "$sql" 2>&1); then
		fail "expected $state from: $sql; got: $out"
	fi
	if ! grep -q "ERROR:  $state:" <<<"$out" || ! tr '\n' ' ' <<<"$out" | grep -Eq "$pattern"; then
		fail "expected $state matching /$pattern/ from: $sql; got: $out"
	fi
	echo "ok: $state from $sql"
}

omnikpi_psql -c "CREATE DATABASE $cron_db" -c "CREATE DATABASE omnikpi_cron_other"

# --- materialized KPI views over some data, in both databases ------------------
# The data ends yesterday; the refresh's watermark is the newest time it saw.
for db in "$cron_db" omnikpi_cron_other; do
	omnikpi_psql -d "$db" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION omnikpi;
CREATE SCHEMA shop;
CREATE TABLE shop.interactions AS
SELECT g % 97 AS customer_id, g % 211 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + (g * 7 + g / 13) % 5] AS channel,
	date_trunc('day', now()) - interval '40 days' + (g % 40) * interval '1 day' + (g % 24) * interval '1 hour' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	(1 + (g * 31) % 5)::float8 AS satisfaction, (1 + g % 7)::float8 AS effort, g % 11 AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(1, 4000) g;
CREATE SCHEMA kpi;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions', materialized => true) \g /dev/null
-- the same KPIs computed from scratch on every read
CREATE SCHEMA kpi_plain;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi_plain', interactions => 'shop.interactions') \g /dev/null
SQL
done

# --- the errors before pg_cron is ready ---------------------------------------
expect_error 55000 "pg_cron runs its jobs in database \"$cron_db\", not in \"omnikpi_cron_other\"" \
	omnikpi_cron_other "SELECT omnikpi.schedule_refresh('kpi')"
expect_error 55000 'extension "pg_cron" is not installed.*CREATE EXTENSION pg_cron' \
	"$cron_db" "SELECT omnikpi.schedule_refresh('kpi')"
omnikpi_psql -d "$cron_db" -c 'CREATE EXTENSION pg_cron'
expect_error 55000 'schema "kpi_plain" has no materialized KPI views' \
	"$cron_db" "SELECT omnikpi.schedule_refresh('kpi_plain')"

# The materialized and the plain monthly KPIs, as text, to compare.
kpis()
{
	omnikpi_psql -d "$cron_db" -At -c "SELECT month, channel, round(rating_pct::numeric, 9), interactions
		FROM $1.experience_rating_by_channel_monthly ORDER BY month, channel" \
		-c "SELECT month, round(rating_pct::numeric, 9), channels, interactions
		FROM $1.experience_rating_monthly ORDER BY month"
}
before=$(kpis kpi)
[ -n "$before" ] || fail "the materialized KPI views are empty"
[ "$before" = "$(kpis kpi_plain)" ] || fail "materialized and plain KPIs differ before the refresh"

# --- schedule, add a day of data, wait for pg_cron ------------------------------
# A role without USAGE on schema cron is told how to get it.
omnikpi_psql -d "$cron_db" -c 'CREATE ROLE omnikpi_cron_analyst' -c 'GRANT USAGE ON SCHEMA kpi TO omnikpi_cron_analyst'
expect_error 42501 'GRANT USAGE ON SCHEMA cron TO omnikpi_cron_analyst' \
	"$cron_db" "SET ROLE omnikpi_cron_analyst; SELECT omnikpi.schedule_refresh('kpi')"
# With USAGE on schema cron it still cannot refresh views it does not own.
omnikpi_psql -d "$cron_db" -c 'GRANT USAGE ON SCHEMA cron TO omnikpi_cron_analyst'
expect_error 42501 'cannot refresh the materialized KPI views of schema "kpi".*Schedule it as role' \
	"$cron_db" "SET ROLE omnikpi_cron_analyst; SELECT omnikpi.schedule_refresh('kpi')"
expect_error 22023 'invalid cron schedule' "$cron_db" "SELECT omnikpi.schedule_refresh('kpi', '61 * * * *')"

# New interactions of the last hour or so (the data so far ends yesterday),
# rated lower than the rest, on every channel.
omnikpi_psql -d "$cron_db" <<'SQL'
INSERT INTO shop.interactions
SELECT 1000 + g, NULL, (ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + g % 5],
	now() - g * interval '10 seconds', 'service', 1, 5, 0, false, NULL, false
FROM generate_series(1, 500) g;
SQL
[ "$(kpis kpi)" = "$before" ] || fail "the materialized KPIs changed before any refresh"

job_id=$(omnikpi_psql -d "$cron_db" -At -c "SELECT omnikpi.schedule_refresh('kpi', '* * * * *')")
[ -n "$job_id" ] || fail "schedule_refresh returned no job id"
job=$(omnikpi_psql -d "$cron_db" -At -F ' | ' -c "SELECT jobname, schedule, command, database, username = current_user, active
	FROM cron.job WHERE jobid = $job_id")
echo "scheduled job $job_id: $job"
[ "$job" = "omnikpi_refresh_kpi | * * * * * | CALL omnikpi.refresh_kpi_views('kpi') | $cron_db | t | t" ] ||
	fail "unexpected cron.job row: $job"

start=$SECONDS
status=
while [ $((SECONDS - start)) -lt "$wait_seconds" ]; do
	status=$(omnikpi_psql -d "$cron_db" -At -c "SELECT status FROM cron.job_run_details
		WHERE jobid = $job_id AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1")
	[ -n "$status" ] && break
	sleep 5
done
run=$(omnikpi_psql -d "$cron_db" -At -F ' | ' -c "SELECT status, database, username = current_user, command, return_message
	FROM cron.job_run_details WHERE jobid = $job_id ORDER BY runid LIMIT 1")
echo "first run of job $job_id, $((SECONDS - start)) s after scheduling: ${run:-none}"
[ -n "$status" ] || fail "pg_cron did not run the refresh job within $wait_seconds s"
[ "$status" = succeeded ] || fail "the refresh job failed: $run"
case "$run" in
	"succeeded | $cron_db | t | CALL omnikpi.refresh_kpi_views('kpi') | "*) ;;
	*) fail "the run did not happen in $cron_db as the scheduling role: $run" ;;
esac

after=$(kpis kpi)
[ "$after" != "$before" ] || fail "the scheduled refresh did not change the materialized KPIs"
[ "$after" = "$(kpis kpi_plain)" ] || {
	diff <(echo "$after") <(kpis kpi_plain) | head -20
	fail "after the scheduled refresh the materialized KPIs differ from the plain views"
}
echo "the scheduled refresh brought the materialized KPIs up to date:"
omnikpi_psql -d "$cron_db" -c "SELECT month, round(rating_pct::numeric, 3) AS rating_pct, interactions
	FROM kpi.experience_rating_monthly ORDER BY month"

# --- re-schedule, unschedule ------------------------------------------------------
again=$(omnikpi_psql -d "$cron_db" -At -c "SELECT omnikpi.schedule_refresh('kpi', '*/5 * * * *')" 2>&1)
jobs=$(omnikpi_psql -d "$cron_db" -At -F ' | ' -c "SELECT count(*), min(jobid), min(schedule) FROM cron.job
	WHERE command LIKE '%refresh_kpi_views%'")
echo "re-scheduled: $again; jobs: $jobs"
[ "$jobs" = "1 | $job_id | */5 * * * *" ] || fail "re-scheduling did not replace the job: $jobs"
grep -q 'replaced the schedule "\* \* \* \* \*"' <<<"$again" || fail "no notice of the replaced schedule: $again"

# another role's job for the same schema is not silently doubled
omnikpi_psql -d "$cron_db" -c 'CREATE ROLE omnikpi_cron_admin SUPERUSER'
expect_error 42710 'already scheduled by role' \
	"$cron_db" "SET ROLE omnikpi_cron_admin; SELECT omnikpi.schedule_refresh('kpi')"

# a paused job is replaced by an active one
omnikpi_psql -d "$cron_db" -c "SELECT cron.alter_job($job_id, active => false)" >/dev/null
omnikpi_psql -d "$cron_db" -At -c "SELECT omnikpi.schedule_refresh('kpi')" >/dev/null 2>&1
jobs=$(omnikpi_psql -d "$cron_db" -At -F ' | ' -c "SELECT count(*), bool_and(active), min(schedule) FROM cron.job")
[ "$jobs" = "1 | t | 15 2 * * *" ] || fail "re-scheduling a paused job: $jobs"

[ "$(omnikpi_psql -d "$cron_db" -At -c "SELECT omnikpi.unschedule_refresh('kpi')")" = t ] ||
	fail "unschedule_refresh did not report the removed job"
[ "$(omnikpi_psql -d "$cron_db" -At -c "SELECT count(*) FROM cron.job")" = 0 ] ||
	fail "a job is left after unschedule_refresh"
out=$(omnikpi_psql -d "$cron_db" -At -c "SELECT omnikpi.unschedule_refresh('kpi')" 2>&1)
[ "$(tail -n 1 <<<"$out")" = f ] && grep -q 'no refresh of schema "kpi" is scheduled' <<<"$out" ||
	fail "unschedule_refresh of no job: $out"
echo "re-scheduling kept one job, unscheduling left none"

# --- days and months in the recorded zone, whatever the job's ----------------------
# Contacts half an hour either side of midnight at January's end, New York
# time, as a date and as a timestamp without time zone; the views are made
# from a session in New York, and a job running in the server's zone (Tokyo)
# rebuilds them after a new contact.  Read in that zone as dates, January
# 31st has 2 contacts and February 1st 2; a cut in the job's zone would move
# the dates to other days (a date is midnight: January 30th, 10:00 in New
# York, seen from Tokyo) or to January only.
omnikpi_psql -d "$cron_db" <<'SQL'
SET client_min_messages = warning;
CREATE TABLE shop.local_visits (customer_id int, channel text, visit_day date, visit_time timestamp, satisfaction int);
INSERT INTO shop.local_visits VALUES
	(1, 'web', '2026-01-31', '2026-01-31 23:30', 5), (2, 'store', '2026-01-31', '2026-01-31 23:30', 3),
	(3, 'app', '2026-02-01', '2026-02-01 00:30', 4);
SET timezone = 'America/New_York';
CREATE SCHEMA kpi_day;
CREATE SCHEMA kpi_local;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi_day', interactions => 'shop.local_visits', materialized => true,
	columns => '{"interactions": {"occurred_at": "visit_day"}}') \g /dev/null
SELECT count(*) FROM omnikpi.create_kpi_views('kpi_local', interactions => 'shop.local_visits', materialized => true,
	columns => '{"interactions": {"occurred_at": "visit_time"}}') \g /dev/null
RESET timezone;
INSERT INTO shop.local_visits VALUES (4, 'app', '2026-02-01', '2026-02-01 00:15', 2);
SELECT cron.schedule('omnikpi_rebuild_day', '* * * * *', $$CALL omnikpi.refresh_kpi_views('kpi_day', full_rebuild => true)$$);
SELECT cron.schedule('omnikpi_rebuild_local', '* * * * *', $$CALL omnikpi.refresh_kpi_views('kpi_local', full_rebuild => true)$$);
SQL
job_zone=$(omnikpi_psql -d "$cron_db" -At -c "SHOW TimeZone")
start=$SECONDS
runs=
while [ $((SECONDS - start)) -lt "$wait_seconds" ]; do
	runs=$(omnikpi_psql -d "$cron_db" -At -c "SELECT string_agg(DISTINCT j.jobname || ' ' || d.status, ', ' ORDER BY j.jobname || ' ' || d.status)
		FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		WHERE j.jobname LIKE 'omnikpi_rebuild_%' AND d.status IN ('succeeded', 'failed')")
	case "$runs" in
		*failed*) break ;;
		"omnikpi_rebuild_day succeeded, omnikpi_rebuild_local succeeded") break ;;
	esac
	sleep 5
done
echo "rebuild jobs in the server's zone ($job_zone), $((SECONDS - start)) s after scheduling: ${runs:-none}"
[ "$runs" = "omnikpi_rebuild_day succeeded, omnikpi_rebuild_local succeeded" ] ||
	fail "the rebuild jobs did not both succeed within $wait_seconds s: $(omnikpi_psql -d "$cron_db" -At -c \
		"SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE command LIKE '%full_rebuild%'")"
for kpi in kpi_day kpi_local; do
	cut=$(omnikpi_psql -d "$cron_db" -At -F ' ' \
		-c "SELECT string_agg(day || ': ' || n, ', ' ORDER BY day) FROM (SELECT day, sum(interactions) AS n FROM $kpi.interactions_daily GROUP BY day) d" \
		-c "SELECT string_agg(month || ': ' || interactions, ', ' ORDER BY month) FROM $kpi.experience_rating_monthly")
	echo "$kpi after the job: $(tr '\n' ' ' <<<"$cut")"
	[ "$cut" = "2026-01-31: 2, 2026-02-01: 2
2026-01-01: 2, 2026-02-01: 2" ] || fail "$kpi: days and months not cut in New York after the job: $cut"
done
omnikpi_psql -d "$cron_db" -q -c "SELECT cron.unschedule('omnikpi_rebuild_day'), cron.unschedule('omnikpi_rebuild_local')" >/dev/null
echo "jobs in $job_zone cut the days and months of views made in New York in New York"
