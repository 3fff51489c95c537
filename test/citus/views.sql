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

-- The tables of the materialized forms over the distributed sources: each
-- entity table distributed by customer (or journey, for paths by journey)
-- and co-located with the source it is computed from (the relation given to
-- create_kpi_views, from the settings the refresh keeps), so that a
-- customer's entities live beside its rows; their summary and KPI tables and
-- their refresh state on the coordinator.  Over the local sources, nothing is
-- distributed.
CREATE TEMP TABLE refresh_settings AS
SELECT DISTINCT ON (schema_name) schema_name, settings
FROM (SELECT 'mv_dist' AS schema_name, settings FROM mv_dist.kpi_refresh_state
	  UNION ALL SELECT 'mv_dist_by_customer', settings FROM mv_dist_by_customer.kpi_refresh_state) s
ORDER BY schema_name;
CREATE TEMP TABLE placements AS
SELECT o.relation::text AS relation, o.kind, p.partmethod,
	pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) AS distributed_by,
	(SELECT string_agg(s.logicalrelid::text, ', ' ORDER BY s.logicalrelid::text)
	 FROM pg_dist_partition s
	 WHERE s.colocationid = p.colocationid AND s.logicalrelid::text LIKE 'src_dist.%') AS colocated_with,
	(SELECT (r.settings #>> ARRAY['given', l.sources[1]])::oid::regclass::text
	 FROM omnikpi.kpi_layer_views l, refresh_settings r
	 WHERE r.schema_name = m.schema_name
	   AND l.view_name = regexp_replace(o.relation_name, '_marks$', '')
	   AND l.keyed_by = r.settings #>> ARRAY['layers', l.view_name::text]
	 LIMIT 1) AS source
FROM (SELECT DISTINCT schema_name FROM made_local WHERE schema_name LIKE 'mv\_%'
	  UNION ALL SELECT DISTINCT schema_name FROM made_dist WHERE schema_name LIKE 'mv\_%') m
CROSS JOIN LATERAL omnikpi.kpi_objects(m.schema_name::name) o
LEFT JOIN pg_dist_partition p ON p.logicalrelid = o.relation
WHERE o.kind IN ('entity table', 'summary table', 'kpi view', 'refresh state');
SELECT relation, kind, partmethod, distributed_by, colocated_with
FROM placements WHERE partmethod IS NOT NULL OR kind = 'entity table' ORDER BY relation;
DO $$
DECLARE
	failures text;
BEGIN
	SELECT string_agg(relation, ', ') INTO failures FROM placements
	WHERE (relation LIKE 'mv\_dist%' AND kind = 'entity table')
		  <> coalesce(partmethod = 'h' AND ', ' || colocated_with || ', ' LIKE '%, ' || source || ', %', false);
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'tables of the materialized form placed wrong: %', failures
			USING DETAIL = 'Over distributed sources, the entity tables (and only they) must be distributed and co-located with their source.';
	END IF;
	IF (SELECT count(*) FROM placements WHERE partmethod = 'h' AND relation LIKE 'mv\_dist.%') < 5
	   OR (SELECT count(*) FROM placements WHERE partmethod = 'h' AND relation LIKE 'mv\_dist\_by\_customer.%') < 4 THEN
		RAISE EXCEPTION 'too few tables of the materialized forms are distributed';
	END IF;
END
$$;

-- An incremental refresh of the distributed forms recomputes each touched
-- entity on the workers (omnikpi.entity_rows_query, docs/scale-out.md):
-- Citus runs that query whole, shard beside shard, and nothing it reads
-- comes to the coordinator as an intermediate result (EXPLAIN ANALYZE
-- measures them); only the entities' rows, its result, do.  Its touched
-- keys here: 30 of each entity table's own, in the columns a refresh finds
-- them by (those of an entity numbered per customer carry a time the table
-- has no column for).
SET citus.enable_ddl_propagation = off;	-- a pg_temp function stays local
CREATE FUNCTION pg_temp.recompute_plan(form name, entity_table name, touched_columns text)
	RETURNS SETOF text
	LANGUAGE plpgsql
AS $fn$
BEGIN
	EXECUTE format('CREATE TEMP TABLE kpi_touched AS SELECT DISTINCT %s FROM %I.%I LIMIT 30',
				   touched_columns, form, entity_table);
	RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, TIMING off, SUMMARY off) ' || omnikpi.entity_rows_query(form,
		(SELECT e FROM (SELECT e.*, l.definition, l.optional_source, l.absent_input
						FROM omnikpi.kpi_entity_tables e
						JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
						WHERE e.table_name = entity_table
						  AND e.keyed_by = r.settings #>> ARRAY['layers', entity_table::text]) AS e),
		r.settings, omnikpi.key_values(format('%I.%I', form, entity_table)::regclass, 'pg_temp.kpi_touched'))
		FROM refresh_settings r WHERE r.schema_name = form;
	DROP TABLE pg_temp.kpi_touched;
END
$fn$;
RESET citus.enable_ddl_propagation;
CREATE TEMP TABLE recomputations AS
SELECT c.form, c.entity_table, p.line
FROM (VALUES ('mv_dist', 'customer_orders', 'customer_id, order_id'),
			 ('mv_dist', 'interaction_journeys', 'customer_id, journey_id'),
			 ('mv_dist', 'interaction_issues', 'customer_id, issue_id'),
			 ('mv_dist', 'customer_profiles', 'customer_id'),
			 ('mv_dist', 'attribution_paths', 'journey_id'),
			 ('mv_dist_by_customer', 'customer_orders', 'customer_id, order_id'),
			 ('mv_dist_by_customer', 'interaction_journeys', 'customer_id, started_at AS since'),
			 ('mv_dist_by_customer', 'interaction_issues', 'customer_id, issue_id'),
			 ('mv_dist_by_customer', 'customer_profiles', 'customer_id'),
			 ('mv_dist_by_customer', 'attribution_paths', 'customer_id, converted_at AS since')) AS c(form, entity_table, touched)
CROSS JOIN LATERAL pg_temp.recompute_plan(c.form::name, c.entity_table::name, c.touched) AS p(line);
CREATE TEMP TABLE recomputation_traffic AS
SELECT form, entity_table,
	count(*) FILTER (WHERE line ~ 'Task Count') AS distributed_scans,
	count(*) FILTER (WHERE line ~ 'Distributed Subplan') AS subplans,
	coalesce(sum(pg_size_bytes(substring(line FROM 'Intermediate Data Size: (\d+ \w+)'))), 0) AS bytes_to_the_coordinator
FROM recomputations GROUP BY form, entity_table;
SELECT * FROM recomputation_traffic ORDER BY form, entity_table;
DO $$
DECLARE
	failures text;
BEGIN
	SELECT string_agg(format('%s.%s (%s bytes)', form, entity_table, bytes_to_the_coordinator), ', ') INTO failures
	FROM recomputation_traffic WHERE distributed_scans = 0 OR subplans > 0 OR bytes_to_the_coordinator > 0;
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'the refresh recomputes touched entities on the coordinator: %', failures;
	END IF;
	SELECT string_agg(relation, ', ') INTO failures
	FROM placements
	WHERE relation LIKE 'mv\_dist%' AND kind = 'entity table' AND relation NOT LIKE '%\_marks'
	  AND relation NOT IN (SELECT form || '.' || entity_table FROM recomputations);
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION 'distributed entity tables whose recomputation is not checked: %', failures;
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
	touchpoints text;
BEGIN
	FOREACH side IN ARRAY ARRAY['src_local', 'src_dist'] LOOP
		IF step = 'a new day' THEN
			EXECUTE format('INSERT INTO %I.interactions SELECT * FROM new_day', side);
			EXECUTE format('INSERT INTO %I.orders SELECT * FROM new_orders', side);
			EXECUTE format('INSERT INTO %I.touchpoints SELECT * FROM new_touchpoints', side);
			EXECUTE format('INSERT INTO %I.conversions SELECT * FROM new_conversions', side);
			EXECUTE format('INSERT INTO %I.touchpoints_by_customer SELECT * FROM new_touchpoints', side);
			EXECUTE format($q$INSERT INTO %I.conversions_by_customer
				SELECT c.*, o.customer_id FROM new_conversions c JOIN src_local.orders o ON o.order_id = c.journey_id - 100000000$q$,
				side);
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
			FOREACH touchpoints IN ARRAY ARRAY['touchpoints', 'touchpoints_by_customer'] LOOP
				EXECUTE format($q$INSERT INTO %I.%I
					SELECT touch_id + 100000000, journey_id, customer_id, channel, touched_at - interval '1 day', cost
					FROM new_touchpoints WHERE touch_id %% 4 = 0$q$, side, touchpoints);
			END LOOP;
		ELSE
			EXECUTE format('UPDATE %I.interactions SET satisfaction = 6 - satisfaction, resolved = NOT resolved
				WHERE interaction_id >= 100000000 AND interaction_id %% 5 = 0', side);
			EXECUTE format('DELETE FROM %I.interactions WHERE interaction_id >= 100000000 AND interaction_id %% 7 = 0', side);
			EXECUTE format($q$UPDATE %I.orders SET returned_at = coalesce(collected_at, ordered_at), return_channel = 'store'
				WHERE order_id >= 100000000 AND order_id %% 3 = 0$q$, side);
			EXECUTE format('DELETE FROM %I.orders WHERE order_id >= 100000000 AND order_id %% 5 = 0', side);
			EXECUTE format('DELETE FROM %I.touchpoints WHERE touch_id >= 100000000 AND touch_id %% 6 = 0', side);
			EXECUTE format('DELETE FROM %I.conversions WHERE journey_id >= 100000000 AND journey_id %% 4 = 0', side);
			EXECUTE format('DELETE FROM %I.touchpoints_by_customer WHERE touch_id >= 100000000 AND touch_id %% 6 = 0', side);
			EXECUTE format('DELETE FROM %I.conversions_by_customer WHERE journey_id >= 100000000 AND journey_id %% 4 = 0', side);
		END IF;
	END LOOP;
END
$fn$;

-- Each incremental refresh of a distributed form recomputes every entity
-- table on the workers (refresh_entities_on_workers, once per distributed
-- entity table), none through the coordinator's temporary tables
-- (compute_entity_rows); one over local sources the other way round.  The
-- calls are counted in the transaction (track_functions).
CREATE PROCEDURE pg_temp.refresh_all(full_rebuild boolean DEFAULT false)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	form text;
	before bigint[];
	calls bigint[];
	expected bigint[];
	distributed_entities bigint;
BEGIN
	FOREACH form IN ARRAY ARRAY['mv_local', 'mv_dist', 'mv_local_by_customer', 'mv_dist_by_customer'] LOOP
		SELECT ARRAY[coalesce(sum(f.calls) FILTER (WHERE f.funcname = 'refresh_entities_on_workers'), 0),
					 coalesce(sum(f.calls) FILTER (WHERE f.funcname = 'compute_entity_rows'), 0)]
			INTO before FROM pg_stat_xact_user_functions f WHERE f.schemaname = 'omnikpi';
		CALL omnikpi.refresh_kpi_views(form::name, full_rebuild => full_rebuild);
		SELECT ARRAY[coalesce(sum(f.calls) FILTER (WHERE f.funcname = 'refresh_entities_on_workers'), 0) - before[1],
					 coalesce(sum(f.calls) FILTER (WHERE f.funcname = 'compute_entity_rows'), 0) - before[2]]
			INTO calls FROM pg_stat_xact_user_functions f WHERE f.schemaname = 'omnikpi';
		SELECT count(*) INTO distributed_entities FROM placements
		WHERE relation LIKE form || '.%' AND kind = 'entity table' AND partmethod = 'h' AND relation NOT LIKE '%\_marks';
		expected := CASE WHEN form LIKE 'mv\_dist%' THEN ARRAY[distributed_entities, 0] ELSE ARRAY[0, calls[2]] END;
		IF NOT full_rebuild AND calls IS DISTINCT FROM expected THEN
			RAISE EXCEPTION 'the refresh of % recomputed % entity tables on the workers and % on the coordinator',
				form, calls[1], calls[2]
				USING DETAIL = format('%s of its entity tables are distributed.', distributed_entities);
		END IF;
	END LOOP;
END
$fn$;
RESET citus.enable_ddl_propagation;
SET track_functions = 'pl';

SELECT pg_temp.change_sources('a new day');
CALL pg_temp.refresh_all();
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('1 a new day');
SELECT pg_temp.change_sources('late rows');
CALL pg_temp.refresh_all();
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('2 late rows');
SELECT pg_temp.change_sources('updates and deletions');
CALL pg_temp.refresh_all();
INSERT INTO view_results SELECT * FROM pg_temp.compare_made_views('3 updates and deletions');
-- No refresh was a full rebuild.
SELECT 'with journey ids' AS form, source, l.full_rebuild AS local_full_rebuild, d.full_rebuild AS distributed_full_rebuild
FROM mv_local.kpi_refresh_state l JOIN mv_dist.kpi_refresh_state d USING (source)
UNION ALL
SELECT 'by customer', source, l.full_rebuild, d.full_rebuild
FROM mv_local_by_customer.kpi_refresh_state l JOIN mv_dist_by_customer.kpi_refresh_state d USING (source)
ORDER BY 1, 2;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM mv_dist.kpi_refresh_state WHERE full_rebuild IS DISTINCT FROM false)
	   OR EXISTS (SELECT 1 FROM mv_dist_by_customer.kpi_refresh_state WHERE full_rebuild IS DISTINCT FROM false) THEN
		RAISE EXCEPTION 'a refresh over the distributed sources was not incremental';
	END IF;
END
$$;
CALL pg_temp.refresh_all(full_rebuild => true);
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
