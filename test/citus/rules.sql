-- test/citus/rules.sql: the two rules of docs/scale-out.md that are Citus'
-- own, not omnikpi's.
--
-- 1. An aggregate with ORDER BY inside its call cannot be split into worker
--    partials: Citus ships the rows to the coordinator and aggregates there
--    (citus.coordinator_aggregation_strategy = 'row-gather', the default), or,
--    with that strategy 'disabled', refuses the query.
-- 2. Months cut from a timestamptz on the workers follow the workers' time
--    zone.  In a session whose zone differs from theirs, the KPI views give
--    the local tables' months only when the zone reaches the workers:
--    SET LOCAL in a transaction with citus.propagate_set_commands = 'local'.

\set ON_ERROR_STOP on
SET client_min_messages = notice;

-- 1. ORDER BY inside the aggregate: pulled to the coordinator, same result.
SELECT pg_temp.pushdown(format(q, 'src_dist'), 'omni_experience_rating') AS runs_on,
	coalesce(pg_temp.rows_differences(format(q, 'src_local'), format(q, 'src_dist')), 'same rows') AS result
FROM (VALUES ($q$SELECT date_trunc('month', occurred_at) AS month,
					omni_experience_rating(channel, satisfaction ORDER BY occurred_at, interaction_id)
				 FROM %1$I.interactions GROUP BY 1$q$)) v(q);

DO $$
BEGIN
	SET LOCAL citus.coordinator_aggregation_strategy = 'disabled';
	PERFORM omni_experience_rating(channel, satisfaction ORDER BY occurred_at) FROM src_dist.interactions;
	RAISE EXCEPTION 'an aggregate with ORDER BY ran under coordinator_aggregation_strategy = disabled';
EXCEPTION
	WHEN OTHERS THEN
		IF SQLERRM NOT LIKE 'unsupported aggregate function omni_experience_rating%' THEN
			RAISE;
		END IF;
		RAISE NOTICE 'coordinator_aggregation_strategy = disabled: %', SQLERRM;
END
$$;
-- Without ORDER BY the same aggregate runs under 'disabled' (worker partials).
SET citus.coordinator_aggregation_strategy = 'disabled';
CREATE TEMP TABLE without_order_by AS
SELECT pg_temp.rows_differences('SELECT omni_experience_rating(channel, satisfaction) FROM src_local.interactions',
								'SELECT omni_experience_rating(channel, satisfaction) FROM src_dist.interactions')
	AS differences;
RESET citus.coordinator_aggregation_strategy;
DO $$
BEGIN
	IF (SELECT differences FROM without_order_by) IS NOT NULL THEN
		RAISE EXCEPTION 'without ORDER BY under coordinator_aggregation_strategy = disabled: %',
			(SELECT differences FROM without_order_by);
	END IF;
	RAISE NOTICE 'without ORDER BY, the aggregate runs under coordinator_aggregation_strategy = disabled';
END
$$;

-- 2. Time zones.  The workers run in UTC (test/citus/run.sh sets it).
SET citus.enable_ddl_propagation = off;	-- a pg_temp function stays local
CREATE FUNCTION pg_temp.monthly_differences()
	RETURNS text
	LANGUAGE sql
AS $fn$
	SELECT string_agg(view_name || ': ' || d, '; ')
	FROM (SELECT v.view_name,
			  pg_temp.rows_differences(format('SELECT * FROM kpi_local.%I', v.view_name),
									   format('SELECT * FROM kpi_dist.%I', v.view_name)) AS d
		  FROM (VALUES ('experience_rating_monthly'), ('satisfaction_by_channel_monthly'),
					   ('returns_by_channel_monthly')) v(view_name)) x
	WHERE d IS NOT NULL
$fn$;
RESET citus.enable_ddl_propagation;

-- A session SET does not reach the workers: shown, not asserted, because
-- the views will cut months in one recorded zone of their own.
SET TimeZone = 'America/New_York';
SELECT pg_temp.monthly_differences() IS NOT NULL AS months_differ_with_a_session_set;
RESET TimeZone;

BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL TimeZone = 'America/New_York';
CREATE TEMP TABLE set_local_months AS SELECT pg_temp.monthly_differences() AS differences;
COMMIT;
DO $$
BEGIN
	IF (SELECT differences FROM set_local_months) IS NOT NULL THEN
		RAISE EXCEPTION 'months differ under a propagated SET LOCAL TimeZone: %',
			(SELECT differences FROM set_local_months);
	END IF;
	RAISE NOTICE 'with SET LOCAL TimeZone propagated, the distributed months equal the local ones';
END
$$;
