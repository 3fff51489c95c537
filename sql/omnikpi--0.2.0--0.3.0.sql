-- omnikpi 0.2.0 to 0.3.0, run by ALTER EXTENSION omnikpi UPDATE.  Every
-- statement runs on a 0.2.0 database: what changes is replaced in place or,
-- where its signature changed, re-created with the privileges and comment a
-- DBA gave it.  Each change here is also made in omnikpi--0.3.0.sql;
-- test/suites/upgrade.sh holds the two to the same objects.
\echo Use "ALTER EXTENSION omnikpi UPDATE TO '0.3.0'" to load this file. \quit

-- The incremental refresh follows the window, not the history: entity rows
-- are found by their key's index (key = ANY (the touched keys)) instead of a
-- join that scanned the whole entity table, customer_orders gains an index
-- on customer_id (for the revenue of a touched profile; schemas made before
-- get it when create_kpi_views runs again), a touched entity whose row comes
-- out the same is neither rewritten nor added to the summaries, and the
-- refresh runs without JIT.
UPDATE omnikpi.kpi_entity_tables SET
	matches = matches || CASE keyed_by WHEN 'journey_id' THEN E'\n\tAND e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))'
									   ELSE E'\n\tAND e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))' END,
	inputs = ARRAY[replace(inputs[1], 'WHERE c.occurred_at < $1',
						   format('WHERE c.occurred_at < $1 AND e.%1$I = ANY (ARRAY(SELECT %1$I FROM pg_temp.kpi_touched))', keyed_by))]
WHERE table_name = 'interaction_journeys';
UPDATE omnikpi.kpi_entity_tables SET
	matches = matches || E'\n\tAND e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))',
	inputs = ARRAY[replace(inputs[1], 'WHERE c.occurred_at < $1',
						   'WHERE c.occurred_at < $1 AND e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))')]
WHERE table_name = 'interaction_issues';
UPDATE omnikpi.kpi_entity_tables SET
	indexes = '{order_id,customer_id,last_event_at,ordered_at,month}',
	matches = matches || E'\n\tAND e.order_id = ANY (ARRAY(SELECT order_id FROM pg_temp.kpi_touched))'
WHERE table_name = 'customer_orders';
UPDATE omnikpi.kpi_entity_tables SET
	matches = matches || ' AND e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))',
	optional_input = replace(optional_input, 'USING (customer_id))',
							 E'USING (customer_id)\n\tWHERE o.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched)))'),
	recompute = replace(recompute, 'USING (customer_id) CROSS JOIN bounds AS b),',
						E'USING (customer_id) CROSS JOIN bounds AS b\n\tWHERE e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))),')
WHERE table_name = 'customer_profiles';
UPDATE omnikpi.kpi_entity_tables SET
	matches = matches || CASE keyed_by WHEN 'journey_id' THEN ' AND e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))'
									   ELSE E'\n\tAND e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))' END
WHERE table_name = 'attribution_paths';

CREATE OR REPLACE FUNCTION omnikpi.refresh_entity_table(target_schema name, entity record, settings jsonb, since timestamptz[])
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- rows are compared by their text form (below): floats in their
	-- shortest exact form, so that two different values never print alike
	SET extra_float_digits = 1
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	given jsonb := settings -> 'given';
	relation text := format('%I.%I', target_schema, entity.table_name);
	changes text := format('pg_temp.%I', 'kpi_changes_' || entity.table_name);
	inputs text[] := '{}';
	new_rows text;
	columns text;
BEGIN
	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_touched', 'kpi_input_1', 'kpi_input_2', 'kpi_old_rows', 'kpi_new_rows',
											'kpi_changed_rows', 'kpi_changes_' || entity.table_name]);
	EXECUTE 'CREATE TEMP TABLE kpi_touched ON COMMIT DROP AS '
		|| format(entity.touched || CASE WHEN given ? entity.optional_source THEN E'\n' || entity.touched_by_optional ELSE '' END,
				  VARIADIC args)
		USING since[1], since[2], since[3], since[4];
	ANALYZE pg_temp.kpi_touched;
	-- the rows the template reads, for the touched keys only
	FOR i IN 1 .. cardinality(entity.inputs) LOOP
		EXECUTE format('CREATE TEMP TABLE kpi_input_%s ON COMMIT DROP AS SELECT * FROM %s AS input', i,
					   format(entity.inputs[i], VARIADIC args))
			USING since[1], since[2], since[3], since[4];
		EXECUTE format('ANALYZE pg_temp.kpi_input_%s', i);
		inputs := inputs || format('pg_temp.kpi_input_%s', i);
	END LOOP;
	IF entity.optional_source IS NOT NULL THEN
		inputs := inputs || CASE WHEN given ? entity.optional_source THEN format(entity.optional_input, VARIADIC args)
								 ELSE format(entity.absent_input, VARIADIC args || inputs) END;
	END IF;
	inputs := inputs || array_fill(NULL::text, ARRAY[2 - cardinality(inputs)]);
	new_rows := format(entity.definition, VARIADIC args || inputs);
	IF entity.recompute IS NOT NULL THEN
		new_rows := format(entity.recompute, VARIADIC args || inputs || new_rows);
	END IF;
	-- Only the rows that change are replaced and reach the summaries: most
	-- touched entities come out the same (a journey that only reaches into
	-- the window, say), and rewriting them would cost index updates that
	-- grow with the stored history.  Rows are compared as a multiset of
	-- their text forms: a form whose count differs between the stored rows
	-- and the new ones has all its stored rows replaced by all its new ones;
	-- the others stay, so the result is the new rows, duplicates and NULLs
	-- included.
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO columns
	FROM pg_attribute a WHERE a.attrelid = relation::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	EXECUTE format('CREATE TEMP TABLE kpi_old_rows ON COMMIT DROP AS
		SELECT e::text AS form, e.* FROM %s AS e JOIN pg_temp.kpi_touched AS t ON %s',
				   relation, entity.matches);
	EXECUTE format('CREATE TEMP TABLE kpi_new_rows ON COMMIT DROP AS SELECT n::text AS form, n.* FROM (%s) AS n', new_rows)
		USING since[1], since[2], since[3], since[4];
	CREATE TEMP TABLE kpi_changed_rows ON COMMIT DROP AS
	SELECT c.form FROM (SELECT o.form, -1 AS sign FROM pg_temp.kpi_old_rows AS o
						UNION ALL
						SELECT n.form, 1 FROM pg_temp.kpi_new_rows AS n) AS c
	GROUP BY c.form HAVING sum(c.sign) <> 0;
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT -1 AS sign, %2$s FROM pg_temp.kpi_old_rows WHERE form IN (SELECT form FROM pg_temp.kpi_changed_rows)
		UNION ALL
		SELECT 1, %2$s FROM pg_temp.kpi_new_rows WHERE form IN (SELECT form FROM pg_temp.kpi_changed_rows)',
				   'kpi_changes_' || entity.table_name, columns);
	-- its size and signs only: statistics of its array columns cost more
	-- than the plans that read it gain
	EXECUTE format('ANALYZE %s (sign)', changes);
	-- The test of the form stays a filter (a hashed subplan, by IS TRUE):
	-- as a join, the planner, which expects few rows from key = ANY (...),
	-- would scan the touched rows once per changed row.
	EXECUTE format('DELETE FROM %s AS e USING pg_temp.kpi_touched AS t
		WHERE %s AND (e::text IN (SELECT form FROM pg_temp.kpi_changed_rows)) IS TRUE', relation, entity.matches);
	EXECUTE format('INSERT INTO %s SELECT %s FROM %s WHERE sign = 1', relation, columns, changes);
	IF entity.marks IS NOT NULL THEN
		EXECUTE format('DELETE FROM %I.%I AS m USING pg_temp.kpi_touched AS t WHERE m.%I = t.%I',
					   target_schema, entity.table_name || '_marks', entity.marks_key, entity.marks_key);
		EXECUTE format('INSERT INTO %I.%I ', target_schema, entity.table_name || '_marks')
			|| format(entity.marks, VARIADIC args || inputs);
	END IF;
	RETURN changes;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_entity_table(name, record, jsonb, timestamptz[]) IS
	'recomputes the touched rows of an entity table of the materialized form and returns the temporary table of its changes (old rows signed -1, new rows 1)';

CREATE OR REPLACE FUNCTION omnikpi.refresh_materialized_form(target_schema name, full_rebuild boolean, late_window interval)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- JIT compiles a statement whose estimated cost passes a threshold, and
	-- the estimates grow with the stored history: an incremental refresh
	-- paid a second or more per statement that took less to run.
	SET jit = off
AS $fn$
DECLARE
	sources text[] := ARRAY['interactions', 'orders', 'touchpoints', 'conversions'];
	since timestamptz[] := ARRAY['infinity', 'infinity', 'infinity', 'infinity'];
	newest timestamptz[] := ARRAY[NULL, NULL, NULL, NULL];
	source_newest timestamptz;
	state record;
	settings jsonb;
	args text[];
	zone text;
	rebuild boolean := full_rebuild;
	step record;
	changes text;
	inputs text[];
	from_day date;
	i integer;
	current_table text;
	failure_state text;
	failure_detail text;
	failure_hint text;
BEGIN
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	-- The newest time of each source, read before anything is recomputed so
	-- that the watermark never claims rows the recomputation did not see.  A
	-- row dated in the future cannot move it past now(); the days after the
	-- watermark are recomputed every time anyway.
	FOR state IN EXECUTE format('SELECT * FROM %I.kpi_refresh_state ORDER BY source', target_schema) LOOP
		settings := state.settings;
		i := array_position(sources, state.source);
		-- one max() per column, so that each can be read from an index on it
		EXECUTE format('SELECT greatest(%s)',
					   (SELECT string_agg(format('(SELECT max(%I) FROM %I.%I)', c.column_name, target_schema,
												 'source_' || state.source), ', ' ORDER BY c.position)
						FROM omnikpi.source_columns c WHERE c.source = state.source AND c.kind = 'time'))
			INTO source_newest;
		newest[i] := CASE WHEN source_newest > now() THEN now() ELSE source_newest END;
		rebuild := rebuild OR state.watermark IS NULL;
		since[i] := state.watermark - late_window;
	END LOOP;
	args := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	zone := args[8];
	FOR i IN 1 .. 4 LOOP
		since[i] := CASE WHEN since[i] = 'infinity' THEN 'infinity'
						 WHEN rebuild THEN '-infinity'
						 ELSE ((since[i] AT TIME ZONE zone)::date)::timestamp AT TIME ZONE zone END;
	END LOOP;

	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_changed', 'kpi_window_interactions', 'kpi_window_orders',
											'kpi_window_touchpoints', 'kpi_window_conversions']);
	CREATE TEMP TABLE kpi_changed (relation name, month date, and_later boolean) ON COMMIT DROP;
	BEGIN
		IF rebuild THEN
			-- DELETE, not TRUNCATE: readers of these tables are never blocked
			FOR step IN SELECT o.relation FROM omnikpi.kpi_objects(target_schema) o
						WHERE o.kind IN ('entity table', 'summary table') LOOP
				EXECUTE format('DELETE FROM %s', step.relation);
			END LOOP;
		ELSE
			-- Each source's rows in its window, read once: an orders row is in
			-- when any of its times is.
			FOR i IN 1 .. 4 LOOP
				CONTINUE WHEN since[i] = 'infinity';
				current_table := 'source_' || sources[i];
				EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %I.%I WHERE %s',
							   'kpi_window_' || sources[i], target_schema, 'source_' || sources[i],
							   (SELECT string_agg(format('%I >= $1', c.column_name), ' OR ' ORDER BY c.position)
								FROM omnikpi.source_columns c WHERE c.source = sources[i] AND c.kind = 'time'))
					USING since[i];
				EXECUTE format('ANALYZE pg_temp.%I', 'kpi_window_' || sources[i]);
			END LOOP;
		END IF;

		-- 1. daily tables
		FOR step IN SELECT d.* FROM omnikpi.kpi_daily_summaries d
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = d.table_name AND o.kind = 'summary table'
					ORDER BY d.table_name LOOP
			current_table := step.table_name;
			i := array_position(sources, step.source);
			from_day := CASE WHEN since[i] = '-infinity' THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END;
			EXECUTE format('DELETE FROM %I.%I WHERE day >= $1 OR day IS NULL', target_schema, step.table_name)
				USING from_day;
			EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
				|| format(step.definition, VARIADIC args || CASE WHEN rebuild THEN format('%I.%I', target_schema, 'source_' || step.source)
																 ELSE format('pg_temp.%I', 'kpi_window_' || step.source) END)
				USING since[i];
			INSERT INTO pg_temp.kpi_changed VALUES (step.table_name, date_trunc('month', from_day), true);
		END LOOP;

		-- 2. entity tables and the summaries added up from them
		FOR step IN SELECT e.*, l.definition, l.optional_source, l.absent_input
					FROM omnikpi.kpi_entity_tables e
					JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = e.table_name AND o.kind = 'entity table'
					WHERE settings -> 'layers' ->> e.table_name::text = e.keyed_by
					ORDER BY e.position LOOP
			current_table := step.table_name;
			IF rebuild THEN
				inputs := omnikpi.layer_inputs(target_schema, step.table_name, step.keyed_by, settings -> 'given', args);
				EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
					|| format(step.definition, VARIADIC args || inputs);
				IF step.marks IS NOT NULL THEN
					EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name || '_marks')
						|| format(step.marks, VARIADIC args || inputs);
				END IF;
				-- fresh statistics, for the plans of the refreshes that follow
				EXECUTE format('ANALYZE %I.%I', target_schema, step.table_name);
				changes := format('(SELECT 1 AS sign, e.* FROM %I.%I AS e)', target_schema, step.table_name);
			ELSE
				changes := omnikpi.refresh_entity_table(target_schema, step, settings, since);
			END IF;
			EXECUTE format('INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, %s, false FROM %s AS changes',
						   step.table_name,
						   CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
											 WHERE a.attrelid = format('%I.%I', target_schema, step.table_name)::regclass
											   AND a.attname = 'month' AND NOT a.attisdropped)
								THEN 'month' ELSE 'NULL::date' END,
						   changes);
			FOR state IN SELECT s.* FROM omnikpi.kpi_summary_tables s
						 JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = s.table_name AND o.kind = 'summary table'
						 WHERE s.kind = 'delta' AND s.reads = ARRAY[step.table_name]
						 ORDER BY s.position LOOP
				current_table := state.table_name;
				PERFORM omnikpi.add_to_summary(target_schema, state, settings, changes);
			END LOOP;
		END LOOP;

		-- 3. period summaries, then the KPI tables
		FOR step IN SELECT t.* FROM (
						SELECT s.table_name, s.reads, s.period_column, s.definition, 1 AS stage, s.position
						FROM omnikpi.kpi_summary_tables s
						WHERE s.kind = 'period'
						UNION ALL
						SELECT m.view_name, m.reads, m.period_column, coalesce(m.definition, v.definition), 2, v.position
						FROM omnikpi.kpi_materialized_views m
						JOIN omnikpi.kpi_views v USING (view_name)) AS t
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = t.table_name
						AND o.kind IN ('summary table', 'kpi view') AND o.relation_kind = 'r'
					ORDER BY t.stage, t.position LOOP
			current_table := step.table_name;
			PERFORM omnikpi.recompute_periods(target_schema, step.table_name, step.reads, step.period_column,
											  step.definition, settings, rebuild);
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		-- A failure (a rating outside the scale, say) is raised again with
		-- its message, detail and hint, but not the generated statement; the
		-- transaction rolls back, so the old numbers stay.
		GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_detail = PG_EXCEPTION_DETAIL,
								failure_hint = PG_EXCEPTION_HINT;
		PERFORM omnikpi.raise_again(failure_state, SQLERRM,
			concat_ws(' ', nullif(failure_detail, ''),
					  format('The refresh of %I.%I stopped there; the KPI views keep their previous numbers.',
							 target_schema, current_table)),
			failure_hint);
	END;

	FOR i IN 1 .. 4 LOOP
		CONTINUE WHEN since[i] = 'infinity';
		EXECUTE format('UPDATE %I.kpi_refresh_state SET watermark = $1, recomputed_from = $2, full_rebuild = $3,
						refreshed_at = now() WHERE source = $4', target_schema)
			USING newest[i], CASE WHEN rebuild THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END, rebuild, sources[i];
	END LOOP;
	DROP TABLE pg_temp.kpi_changed;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_materialized_form(name, boolean, interval) IS
	'recomputes the changed part (or all) of the materialized form of target_schema and moves its watermarks; called by refresh_kpi_views and create_kpi_views';
