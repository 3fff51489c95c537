-- test/citus/views.sql: every relation create_kpi_views made (source views,
-- KPI views, entity, summary and KPI tables), plain and materialized, gives
-- the same rows over the distributed tables as over the local ones: when
-- made, after incremental refreshes (a new day, late rows in the window,
-- updates and deletions in it) and after a full rebuild.  Over distributed
-- sources the entity tables must be distributed and co-located with their
-- source, and nothing else of the materialized form distributed.  The list
-- comes from what create_kpi_views returned, so views added later are
-- compared too.  Only kpi_refresh_state and kpi_objects are left out: they
-- record when each refresh ran and which relations (by schema) were made.
--
-- Then which plain KPI views still ship raw rows to the coordinator (a
-- worker query that reads a shard without grouping it): docs/scale-out.md
-- lists them, and so does pulling_views below; a view not on the list that
-- starts doing it fails the suite, and so does a listed one that stops.
-- The layer views (journeys, issues, customers, orders, paths) are left
-- out: read whole, they give one row per entity by design.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

SET citus.enable_ddl_propagation = off;	-- a pg_temp function stays local
CREATE FUNCTION pg_temp.compare_made_views(at_stage text)
	RETURNS TABLE (stage text, view_name name, local_schema text, distributed_schema text, result text)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	made record;
BEGIN
	FOR made IN
		SELECT l.schema_name AS local_schema, d.schema_name AS distributed_schema, l.view_name
		FROM made_local l
		JOIN made_dist d ON d.view_name = l.view_name
			AND d.schema_name = replace(l.schema_name, '_local', '_dist')
		WHERE l.status NOT LIKE 'skipped%' AND l.view_name NOT IN ('kpi_refresh_state', 'kpi_objects')
		ORDER BY l.schema_name, l.view_name
	LOOP
		stage := at_stage;
		view_name := made.view_name;
		local_schema := made.local_schema;
		distributed_schema := made.distributed_schema;
		result := pg_temp.rows_differences(format('SELECT * FROM %I.%I', made.local_schema, made.view_name),
										   format('SELECT * FROM %I.%I', made.distributed_schema, made.view_name));
		RETURN NEXT;
	END LOOP;
END
$fn$;
RESET citus.enable_ddl_propagation;

-- Both sides made the same relations.
SELECT schema_name, view_name, status FROM made_local
WHERE (replace(schema_name, '_local', '_dist'), view_name, status) NOT IN (SELECT * FROM made_dist)
UNION ALL
SELECT schema_name, view_name, status FROM made_dist
WHERE (replace(schema_name, '_dist', '_local'), view_name, status) NOT IN (SELECT * FROM made_local);

CREATE TEMP TABLE view_results AS SELECT * FROM pg_temp.compare_made_views('0 created');

-- The tables of the materialized form over the distributed sources: each
-- entity table distributed by customer (or journey, for paths by journey)
-- and co-located with the source it is computed from, so that a customer's
-- entities live beside its rows; its summary and KPI tables and its refresh
-- state on the coordinator.  Over the local sources, nothing is distributed.
CREATE TEMP TABLE placements AS
SELECT o.relation::text AS relation, o.kind, p.partmethod,
	pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) AS distributed_by,
	(SELECT string_agg(s.logicalrelid::text, ', ' ORDER BY s.logicalrelid::text)
	 FROM pg_dist_partition s
	 WHERE s.colocationid = p.colocationid AND s.logicalrelid::text LIKE 'src_dist.%') AS colocated_with,
	(SELECT 'src_dist.' || l.sources[1]
	 FROM omnikpi.kpi_layer_views l, mv_dist.kpi_refresh_state r
	 WHERE l.view_name = regexp_replace(o.relation_name, '_marks$', '')
	   AND l.keyed_by = r.settings #>> ARRAY['layers', l.view_name::text]
	 LIMIT 1) AS source
FROM (SELECT * FROM omnikpi.kpi_objects('mv_dist') UNION ALL SELECT * FROM omnikpi.kpi_objects('mv_local')) o
LEFT JOIN pg_dist_partition p ON p.logicalrelid = o.relation
WHERE o.kind IN ('entity table', 'summary table', 'kpi view', 'refresh state');
SELECT relation, kind, partmethod, distributed_by, colocated_with
FROM placements WHERE partmethod IS NOT NULL OR kind = 'entity table' ORDER BY relation;
DO $$
DECLARE
	failures text;
BEGIN
	SELECT string_agg(relation, ', ') INTO failures FROM placements
	WHERE (relation LIKE 'mv_dist.%' AND kind = 'entity table')
		  <> coalesce(partmethod = 'h' AND colocated_with LIKE '%' || source || '%', false);
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'tables of the materialized form placed wrong: %', failures
			USING DETAIL = 'Over distributed sources, the entity tables (and only they) must be distributed and co-located with their source.';
	END IF;
	IF (SELECT count(*) FROM placements WHERE partmethod = 'h') < 5 THEN
		RAISE EXCEPTION 'only % tables of the materialized form are distributed', (SELECT count(*) FROM placements WHERE partmethod = 'h');
	END IF;
END
$$;

-- Incremental refreshes of both materialized forms, each followed by a
-- comparison of everything made: a new day in every source (copies of the
-- last day's rows a year later), late rows inside the window, updates and
-- deletions inside the window; then a full rebuild.  The rows are the same
-- on both sides; the refresh over the distributed sources keeps the
-- distributed entity tables on the workers.
CREATE TEMP TABLE new_day AS
SELECT interaction_id + 100000000 AS interaction_id, customer_id, journey_id, channel,
	occurred_at + interval '1 year' AS occurred_at, phase, satisfaction, effort, nps, context_carried,
	issue_id, resolved
FROM src_local.interactions
WHERE occurred_at >= (SELECT max(occurred_at) FROM src_local.interactions) - interval '1 day';
CREATE TEMP TABLE new_orders AS
SELECT order_id + 100000000 AS order_id, customer_id, channel, ordered_at + interval '1 year' AS ordered_at, amount,
	fulfillment, ready_at + interval '1 year' AS ready_at, collected_at + interval '1 year' AS collected_at,
	returned_at + interval '1 year' AS returned_at, return_channel
FROM src_local.orders
WHERE ordered_at >= (SELECT max(ordered_at) FROM src_local.orders) - interval '1 day';
CREATE TEMP TABLE new_touchpoints AS
SELECT touch_id + 100000000 AS touch_id, journey_id + 100000000 AS journey_id, customer_id, channel,
	touched_at + interval '1 year' AS touched_at, cost
FROM src_local.touchpoints
WHERE touched_at >= (SELECT max(touched_at) FROM src_local.touchpoints) - interval '1 day';
CREATE TEMP TABLE new_conversions AS
SELECT journey_id + 100000000 AS journey_id, converted_at + interval '1 year' AS converted_at, value
FROM src_local.conversions
WHERE journey_id + 100000000 IN (SELECT journey_id FROM new_touchpoints);

SET citus.enable_ddl_propagation = off;	-- a pg_temp function stays local
CREATE FUNCTION pg_temp.change_sources(step text)
	RETURNS void
	LANGUAGE plpgsql
AS $fn$
DECLARE
	side text;
BEGIN
	FOREACH side IN ARRAY ARRAY['src_local', 'src_dist'] LOOP
		IF step = 'a new day' THEN
			EXECUTE format('INSERT INTO %I.interactions SELECT * FROM new_day', side);
			EXECUTE format('INSERT INTO %I.orders SELECT * FROM new_orders', side);
			EXECUTE format('INSERT INTO %I.touchpoints SELECT * FROM new_touchpoints', side);
			EXECUTE format('INSERT INTO %I.conversions SELECT * FROM new_conversions', side);
		ELSIF step = 'late rows' THEN
			-- a day before the newest rows, inside the window of 3 days
			EXECUTE format($q$INSERT INTO %I.interactions
				SELECT interaction_id + 100000000, customer_id, journey_id, channel, occurred_at - interval '1 day', phase,
					satisfaction, effort, nps, context_carried, issue_id, resolved
				FROM new_day WHERE interaction_id %% 3 = 0$q$, side);
			EXECUTE format($q$INSERT INTO %I.orders
				SELECT order_id + 100000000, customer_id, CASE channel WHEN 'store' THEN 'web' ELSE 'store' END,
					ordered_at - interval '1 day', amount, fulfillment, ready_at - interval '1 day',
					collected_at - interval '1 day', returned_at, return_channel
				FROM new_orders WHERE order_id %% 2 = 0$q$, side);
			EXECUTE format($q$INSERT INTO %I.touchpoints
				SELECT touch_id + 100000000, journey_id, customer_id, channel, touched_at - interval '1 day', cost
				FROM new_touchpoints WHERE touch_id %% 4 = 0$q$, side);
		ELSE
			EXECUTE format('UPDATE %I.interactions SET satisfaction = 6 - satisfaction, resolved = NOT resolved
				WHERE interaction_id >= 100000000 AND interaction_id %% 5 = 0', side);
			EXECUTE format('DELETE FROM %I.interactions WHERE interaction_id >= 100000000 AND interaction_id %% 7 = 0', side);
			EXECUTE format($q$UPDATE %I.orders SET returned_at = coalesce(collected_at, ordered_at), return_channel = 'store'
				WHERE order_id >= 100000000 AND order_id %% 3 = 0$q$, side);
			EXECUTE format('DELETE FROM %I.orders WHERE order_id >= 100000000 AND order_id %% 5 = 0', side);
			EXECUTE format('DELETE FROM %I.touchpoints WHERE touch_id >= 100000000 AND touch_id %% 6 = 0', side);
			EXECUTE format('DELETE FROM %I.conversions WHERE journey_id >= 100000000 AND journey_id %% 4 = 0', side);
		END IF;
	END LOOP;
END
$fn$;
RESET citus.enable_ddl_propagation;

SELECT pg_temp.change_sources('a new day');
CALL omnikpi.refresh_kpi_views('mv_local');
CALL omnikpi.refresh_kpi_views('mv_dist');
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('1 a new day');
SELECT pg_temp.change_sources('late rows');
CALL omnikpi.refresh_kpi_views('mv_local');
CALL omnikpi.refresh_kpi_views('mv_dist');
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('2 late rows');
SELECT pg_temp.change_sources('updates and deletions');
CALL omnikpi.refresh_kpi_views('mv_local');
CALL omnikpi.refresh_kpi_views('mv_dist');
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('3 updates and deletions');
-- Neither refresh was a full rebuild.
SELECT source, l.full_rebuild AS local_full_rebuild, d.full_rebuild AS distributed_full_rebuild
FROM mv_local.kpi_refresh_state l JOIN mv_dist.kpi_refresh_state d USING (source) ORDER BY 1;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM mv_dist.kpi_refresh_state WHERE full_rebuild IS DISTINCT FROM false) THEN
		RAISE EXCEPTION 'the refresh of mv_dist was not incremental';
	END IF;
END
$$;
CALL omnikpi.refresh_kpi_views('mv_local', full_rebuild => true);
CALL omnikpi.refresh_kpi_views('mv_dist', full_rebuild => true);
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('4 rebuilt');

SELECT stage, local_schema, view_name, coalesce(result, 'same rows') AS result
FROM view_results ORDER BY stage, local_schema, view_name;

-- The plain views that still pull raw source rows to the coordinator, from
-- the plan of each over the distributed sources.
CREATE TEMP TABLE pulling_views (view_name name PRIMARY KEY);
-- percentile_cont, an ordered-set aggregate, has no partial form: exact
-- percentiles need every order's hours on the coordinator.
INSERT INTO pulling_views VALUES ('fulfillment_by_channel_monthly');
CREATE TEMP TABLE view_plans AS
SELECT d.view_name, pg_temp.pulls_raw_rows(format('SELECT * FROM kpi_dist.%I', d.view_name)) AS pulls_raw_rows
FROM made_dist d
WHERE d.schema_name = 'kpi_dist' AND d.status = 'created'
  AND d.view_name IN (SELECT v.view_name FROM omnikpi.kpi_views v);
SELECT p.view_name, p.pulls_raw_rows, (l.view_name IS NOT NULL) AS listed
FROM view_plans p LEFT JOIN pulling_views l USING (view_name) ORDER BY 1;

DO $$
DECLARE
	failures text;
BEGIN
	SELECT string_agg(format('%s.%s (%s): %s', local_schema, view_name, stage, result), E'\n')
	INTO failures
	FROM view_results WHERE result IS NOT NULL;
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION E'KPI views differ between local and distributed sources:\n%', failures;
	END IF;
	IF (SELECT count(*) FROM view_results) = 0 THEN
		RAISE EXCEPTION 'no KPI view was compared';
	END IF;
	SELECT string_agg(p.view_name, ', ') INTO failures
	FROM view_plans p
	WHERE p.pulls_raw_rows AND NOT EXISTS (SELECT 1 FROM pulling_views l WHERE l.view_name = p.view_name);
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'KPI views pull raw rows to the coordinator: %', failures
			USING HINT = 'Group by the distribution column first (docs/scale-out.md).';
	END IF;
	SELECT string_agg(l.view_name, ', ') INTO failures
	FROM pulling_views l
	WHERE NOT EXISTS (SELECT 1 FROM view_plans p WHERE p.view_name = l.view_name AND p.pulls_raw_rows);
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'KPI views listed as pulling raw rows no longer do: %', failures
			USING HINT = 'Take them off pulling_views and docs/scale-out.md.';
	END IF;
END
$$;
