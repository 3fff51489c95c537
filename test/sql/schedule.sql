-- Scheduling without pg_cron: the extension installs and works without it,
-- schedule_refresh and unschedule_refresh check their arguments first and
-- then stop with 55000 and a hint naming the Debian package and the two
-- settings.  (test/suites/cron_schedule.sh runs the real thing with pg_cron.)
\set SHOW_CONTEXT never

CREATE FUNCTION schedule_outcome(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
	state text;
	message text;
	detail text;
BEGIN
	EXECUTE query INTO result;
	RETURN coalesce('= ' || result, '= NULL');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || state || ': ' || message || coalesce(' / ' || nullif(detail, ''), '');
END
$$;

-- pg_cron is neither loaded nor installed here: the extension was created without it.
SELECT count(*) AS pg_cron_installed FROM pg_extension WHERE extname = 'pg_cron';

-- Schedules: five fields or a macro, normalized to single spaces.
SELECT s AS schedule, schedule_outcome(format('SELECT omnikpi.check_cron_schedule(%L)', s)) AS outcome
FROM unnest(ARRAY['15 2 * * *', E' */5\t1-3  * jan-mar mon-fri ', '0,30 8-18/2 1,15 * 1-5',
				  '@Daily', '@hourly', '0 0 * * 7', '59 23 31 12 SUN']) s;
SELECT coalesce(s, '<NULL>') AS schedule, schedule_outcome(format('SELECT omnikpi.check_cron_schedule(%L)', s)) AS outcome
FROM unnest(ARRAY[NULL, '', '   ', '* * * *', '* * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *',
				  '* * * 13 *', '* * * * 8', '* * * foo *', '* * * * mon-xyz', '5/2 * * * *', '5-1 * * * *',
				  '*/0 * * * *', '*/60 * * * *', '1,,2 * * * *', '-1 * * * *', '99999999999 * * * *',
				  '@reboot', '30 seconds', E'\\* * * * *']) s;

-- Job names: stable, at most 63 bytes, distinct for long names with a common prefix.
SELECT omnikpi.refresh_job_name('kpi') AS short_name,
	   omnikpi.refresh_job_name(repeat('k', 47)) = 'omnikpi_refresh_' || repeat('k', 47) AS fits_63_bytes,
	   omnikpi.refresh_job_name(repeat('k', 48)) AS too_long,
	   octet_length(omnikpi.refresh_job_name(repeat('k', 63))) AS long_length,
	   omnikpi.refresh_job_name(repeat('k', 60) || 'a') <> omnikpi.refresh_job_name(repeat('k', 60) || 'b') AS distinct_names,
	   omnikpi.refresh_job_name(NULL) IS NULL AS null_gives_null;

-- Argument errors come before the pg_cron check.  schedule_kpi holds
-- materialized KPI views, schedule_plain only plain ones.
CREATE SCHEMA schedule_shop;
CREATE TABLE schedule_shop.interactions AS
SELECT g AS customer_id, g AS journey_id, 'web' AS channel, timestamptz '2026-01-01 12:00+00' AS occurred_at,
	'service' AS phase, 4::float8 AS satisfaction, 2::float8 AS effort, 9 AS nps,
	true AS context_carried, NULL::integer AS issue_id, false AS resolved
FROM generate_series(1, 3) g;
CREATE SCHEMA schedule_kpi;
CREATE SCHEMA schedule_plain;
SET client_min_messages = warning;
SELECT count(*) > 0 AS materialized FROM omnikpi.create_kpi_views('schedule_kpi',
	interactions => 'schedule_shop.interactions', materialized => true) WHERE status = 'materialized';
SELECT count(*) > 0 AS plain FROM omnikpi.create_kpi_views('schedule_plain',
	interactions => 'schedule_shop.interactions') WHERE status = 'created';
RESET client_min_messages;
SELECT q AS query, schedule_outcome(q) AS outcome
FROM unnest(ARRAY[
	$$SELECT omnikpi.schedule_refresh(NULL)$$,
	$$SELECT omnikpi.schedule_refresh('no_such_schema')$$,
	$$SELECT omnikpi.schedule_refresh('schedule_plain')$$,
	$$SELECT omnikpi.schedule_refresh('schedule_shop')$$,
	$$SELECT omnikpi.schedule_refresh('schedule_kpi', NULL)$$,
	$$SELECT omnikpi.schedule_refresh('schedule_kpi', '* * *')$$,
	$$SELECT omnikpi.unschedule_refresh(NULL)$$,
	$$SELECT omnikpi.schedule_refresh('schedule_kpi')$$,
	$$SELECT omnikpi.schedule_refresh('schedule_kpi', '*/10 * * * *')$$,
	$$SELECT omnikpi.unschedule_refresh('schedule_kpi')$$,
	$$SELECT omnikpi.unschedule_refresh('no_such_schema')$$,
	$$SELECT omnikpi.check_pg_cron()$$]) q;

-- The whole error, as a user sees it.
SELECT omnikpi.schedule_refresh('schedule_kpi');
\echo :LAST_ERROR_SQLSTATE

-- A schema that happens to be called cron is not pg_cron.
CREATE SCHEMA cron;
CREATE TABLE cron.job (jobid bigint, jobname text, username text);
SELECT schedule_outcome($$SELECT omnikpi.schedule_refresh('schedule_kpi')$$) AS fake_cron_schema;
DROP SCHEMA cron CASCADE;

-- The same for a role without any privileges on pg_settings' superuser-only rows.
CREATE ROLE schedule_analyst;
GRANT USAGE, CREATE ON SCHEMA schedule_kpi TO schedule_analyst;
SET ROLE schedule_analyst;
SELECT schedule_outcome($$SELECT omnikpi.schedule_refresh('schedule_kpi', '@daily')$$) AS as_analyst;
RESET ROLE;

SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('schedule_kpi');
SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('schedule_plain');
DROP SCHEMA schedule_kpi, schedule_plain;
DROP SCHEMA schedule_shop CASCADE;
DROP OWNED BY schedule_analyst;
DROP ROLE schedule_analyst;
DROP FUNCTION schedule_outcome(text);
