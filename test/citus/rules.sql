-- test/citus/rules.sql: the three rules of docs/scale-out.md that are
-- Citus' own, not omnikpi's.
--
-- 1. An aggregate with ORDER BY inside its call cannot be split into worker
--    partials: Citus ships the rows to the coordinator and aggregates there
--    (citus.coordinator_aggregation_strategy = 'row-gather', the default), or,
--    with that strategy 'disabled', refuses the query.
-- 2. Months cut from a timestamptz on the workers follow the workers' time
--    zone.  The KPI views cut them in their recorded zone, so a session in
--    another zone gets the same months local and distributed; a query of
--    one's own gets them only when the zone reaches the workers: SET LOCAL
--    in a transaction with citus.propagate_set_commands = 'local'.
-- 3. EXPLAIN ANALYZE of a query whose aggregate runs as worker partials
--    fails (42P16, "column field_0 has pseudo-type cstring"): Citus runs
--    each task inside worker_save_query_explain_analyze() with a column
--    list of the task's result types, and worker_partial_agg() returns
--    cstring.  Any aggregate Citus splits that way fails alike, one made
--    of built-in functions too; grouped by the distribution column (full
--    pushdown), EXPLAIN ANALYZE works.

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

-- 2. Time zones.  The workers run in UTC (test/citus/run.sh sets it).  The
-- KPI views cut months in the zone recorded when they were made (UTC here),
-- written into them as a literal, so a session in another zone gets the
-- same months over local and distributed sources.  A query of one's own
-- that cuts months with date_trunc on a timestamptz follows the zone of the
-- server that runs it: the session's locally, the workers' when
-- distributed, unless SET LOCAL with citus.propagate_set_commands = 'local'
-- sends the zone to the workers.
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
					   ('returns_by_channel_monthly'), ('journey_funnel_monthly'),
					   ('churn_retention_monthly'), ('attribution_markov_monthly')) v(view_name)) x
	WHERE d IS NOT NULL
$fn$;
CREATE FUNCTION pg_temp.own_monthly_differences()
	RETURNS text
	LANGUAGE sql
AS $fn$
	SELECT pg_temp.rows_differences(
		'SELECT date_trunc(''month'', occurred_at) AS month, count(*) FROM src_local.interactions GROUP BY 1',
		'SELECT date_trunc(''month'', occurred_at) AS month, count(*) FROM src_dist.interactions GROUP BY 1')
$fn$;
RESET citus.enable_ddl_propagation;

SET TimeZone = 'America/New_York';
CREATE TEMP TABLE session_zone AS
SELECT pg_temp.monthly_differences() AS views, pg_temp.own_monthly_differences() AS own_query;
RESET TimeZone;

BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL TimeZone = 'America/New_York';
CREATE TEMP TABLE set_local_zone AS SELECT pg_temp.own_monthly_differences() AS own_query;
COMMIT;

DO $$
BEGIN
	IF (SELECT views FROM session_zone) IS NOT NULL THEN
		RAISE EXCEPTION 'in a session set to America/New_York, KPI views give other months distributed: %',
			(SELECT views FROM session_zone);
	END IF;
	RAISE NOTICE 'in a session set to America/New_York, the KPI views give the same months local and distributed';
	IF (SELECT own_query FROM session_zone) IS NULL THEN
		RAISE EXCEPTION 'date_trunc on a timestamptz gave the same months local and distributed in a session set to America/New_York, though the workers run in UTC';
	END IF;
	RAISE NOTICE 'a query of one''s own, date_trunc(''month'', occurred_at): the workers'' months differ from the session''s';
	IF (SELECT own_query FROM set_local_zone) IS NOT NULL THEN
		RAISE EXCEPTION 'months differ under a propagated SET LOCAL TimeZone: %', (SELECT own_query FROM set_local_zone);
	END IF;
	RAISE NOTICE 'with SET LOCAL TimeZone propagated, the distributed months equal the local ones';
END
$$;

-- 3. EXPLAIN ANALYZE and worker partials.  An aggregate of built-in
-- functions (a schema of its own: Citus creates it on the workers, which
-- run worker_partial_agg with it) fails as omnikpi's does.
SET client_min_messages = warning;
CREATE SCHEMA explain_rule;
CREATE AGGREGATE explain_rule.total(bigint) (SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl, INITCOND = '0');
SET client_min_messages = notice;
DO $$
DECLARE
	q text;
	runs_on text;
BEGIN
	FOREACH q IN ARRAY ARRAY['SELECT omni_experience_rating(channel, satisfaction) FROM src_dist.interactions',
							 'SELECT explain_rule.total(customer_id) FROM src_dist.interactions'] LOOP
		runs_on := pg_temp.pushdown(q, 'none');
		IF runs_on <> 'worker partials' THEN
			RAISE EXCEPTION '% runs as %, not as worker partials', q, runs_on;
		END IF;
		BEGIN
			EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF) ' || q;
			RAISE EXCEPTION 'EXPLAIN ANALYZE worked with worker partials: update docs/scale-out.md and this test (%)', q;
		EXCEPTION
			WHEN invalid_table_definition THEN
				RAISE NOTICE 'EXPLAIN ANALYZE % ...: %', left(q, 40), SQLERRM;
		END;
	END LOOP;
	-- grouped by the distribution column, the aggregate runs whole on the workers
	EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF) SELECT customer_id, omni_experience_rating(channel, satisfaction)
			 FROM src_dist.interactions GROUP BY customer_id';
	RAISE NOTICE 'EXPLAIN ANALYZE works when the aggregate is grouped by the distribution column';
END
$$;
SET client_min_messages = warning;
DROP SCHEMA explain_rule CASCADE;
