-- ---------------------------------------------------------------------------
-- The refresh of the materialized form (10-materialized.sql):
-- refresh_kpi_views and the steps it takes.
--
-- Per source, the window starts at the local midnight of the day of
-- watermark - late_window (everything, on a full rebuild or the first
-- refresh).  The steps, in one transaction, each writing only ordinary
-- tables:
--   1. daily tables: the days of the window deleted and computed again;
--   2. entity tables, in their order: the touched keys, their old rows and
--      their new rows (pg_temp.kpi_changes_<table>, signed -1 and 1), the
--      old rows replaced by the new; then every delta summary of the entity
--      adds the new rows' contributions and subtracts the old ones';
--   3. period summaries, then KPI tables: the months (or quarters) that
--      changed in what they read are deleted and computed again; those
--      without a month, whole.
-- pg_temp.kpi_changed lists, per table, the months that changed (and_later:
-- that month and every later one), so each table knows what to recompute.
-- ---------------------------------------------------------------------------

-- Drops the temporary tables of an earlier refresh in the same transaction
-- (they go at commit), without a notice for those that are not there.
CREATE FUNCTION omnikpi.drop_temp_tables(table_names name[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	temp_table regclass;
BEGIN
	FOR temp_table IN SELECT to_regclass(format('pg_temp.%I', t)) FROM unnest(table_names) t LOOP
		IF temp_table IS NOT NULL THEN
			EXECUTE format('DROP TABLE %s', temp_table);
		END IF;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.drop_temp_tables(name[]) IS
	'drops those of the named temporary tables of the refresh that exist';

-- The window's start of each source ($1 interactions, $2 orders, $3
-- touchpoints, $4 conversions) and the templates' arguments are passed to
-- each step; a source the schema does not read starts at infinity.
CREATE FUNCTION omnikpi.refresh_entity_table(target_schema name, entity record, settings jsonb, since timestamptz[])
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
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
	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_touched', 'kpi_input_1', 'kpi_input_2', 'kpi_changes_' || entity.table_name]);
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
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT -1 AS sign, e.* FROM %s AS e JOIN pg_temp.kpi_touched AS t ON %s
		UNION ALL
		SELECT 1, n.* FROM (%s) AS n', 'kpi_changes_' || entity.table_name, relation, entity.matches, new_rows)
		USING since[1], since[2], since[3], since[4];
	EXECUTE format('ANALYZE %s', changes);
	EXECUTE format('DELETE FROM %s AS e USING pg_temp.kpi_touched AS t WHERE %s', relation, entity.matches)
		USING since[1], since[2], since[3], since[4];
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO columns
	FROM pg_attribute a WHERE a.attrelid = relation::regclass AND a.attnum > 0 AND NOT a.attisdropped;
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

-- Adds the contributions of signed entity rows (changes) to a delta summary
-- table, and notes the months that changed.
CREATE FUNCTION omnikpi.add_to_summary(target_schema name, summary record, settings jsonb, changes text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, summary.table_name)::regclass;
	measures name[];
BEGIN
	SELECT array_agg(a.attname ORDER BY a.attnum) INTO measures
	FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> ALL (summary.key_columns);
	EXECUTE format($q$WITH delta AS (%s),
changed AS (
	INSERT INTO %s AS s SELECT * FROM delta WHERE (%s) IS DISTINCT FROM (%s)
	ON CONFLICT (%s) DO UPDATE SET %s
	RETURNING %s AS month)
INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, month, false FROM changed$q$,
		format(summary.definition, VARIADIC args || ARRAY[NULL, NULL, NULL, changes]),
		relation,
		(SELECT string_agg(format('%I', m), ', ') FROM unnest(measures) m),
		(SELECT string_agg('0', ', ') FROM unnest(measures) m),
		(SELECT string_agg(format('%I', k), ', ') FROM unnest(summary.key_columns) k),
		(SELECT string_agg(format('%1$I = s.%1$I + EXCLUDED.%1$I', m), ', ') FROM unnest(measures) m),
		coalesce(quote_ident(summary.period_column), 'NULL::date'),
		summary.table_name);
	EXECUTE format('DELETE FROM %s WHERE %I = 0', relation, summary.count_column);
END
$fn$;
COMMENT ON FUNCTION omnikpi.add_to_summary(name, record, jsonb, text) IS
	'adds the contributions of the changed rows of an entity table to a summary table of the materialized form';

-- Recomputes the months of a period summary or KPI table that changed in
-- the tables it reads (all of it on a rebuild, or when it has no month
-- column), and notes them as changed in it.
CREATE FUNCTION omnikpi.recompute_periods(target_schema name, table_name name, reads name[], period_column name,
										  definition text, settings jsonb, rebuild boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, table_name)::regclass;
	unit text := CASE period_column WHEN 'quarter' THEN 'quarter' ELSE 'month' END;
	touched boolean;
	whole boolean;
	lower date;
	months date[];
BEGIN
	SELECT count(*) > 0, bool_or(c.month IS NULL) OR bool_or(c.and_later AND c.month = '-infinity'),
		date_trunc(unit, min(c.month) FILTER (WHERE c.and_later))::date,
		array_agg(DISTINCT date_trunc(unit, c.month)::date) FILTER (WHERE NOT c.and_later)
	INTO touched, whole, lower, months
	FROM pg_temp.kpi_changed c WHERE c.relation = ANY (reads);
	IF NOT (touched OR rebuild) THEN
		RETURN;
	END IF;
	definition := format(definition, VARIADIC args);
	IF rebuild OR whole OR period_column IS NULL THEN
		EXECUTE format('DELETE FROM %s', relation);
		EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d', relation, definition);
		INSERT INTO pg_temp.kpi_changed VALUES (table_name, CASE WHEN period_column IS NOT NULL THEN date '-infinity' END, true);
		RETURN;
	END IF;
	lower := coalesce(lower, 'infinity');
	months := coalesce(months, '{}');
	EXECUTE format('DELETE FROM %s WHERE %I >= $1 OR %I = ANY ($2)', relation, period_column, period_column)
		USING lower, months;
	EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d WHERE d.%I >= $1 OR d.%I = ANY ($2)', relation, definition,
				   period_column, period_column)
		USING lower, months;
	INSERT INTO pg_temp.kpi_changed
	SELECT table_name, lower, true WHERE lower < 'infinity'
	UNION ALL
	SELECT table_name, m, false FROM unnest(months) m;
END
$fn$;
COMMENT ON FUNCTION omnikpi.recompute_periods(name, name, name[], name, text, jsonb, boolean) IS
	'recomputes the changed months of a table of the materialized form from the tables it reads';

-- One refresh of the materialized form of a schema (see the top of this
-- file).  It takes the schema's lock itself, so that a direct call cannot
-- interleave with another refresh either.
CREATE FUNCTION omnikpi.refresh_materialized_form(target_schema name, full_rebuild boolean, late_window interval)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
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
		EXECUTE format('SELECT greatest(%s) FROM %I.%I',
					   (SELECT string_agg(format('max(%I)', c.column_name), ', ' ORDER BY c.position)
						FROM omnikpi.source_columns c WHERE c.source = state.source AND c.kind = 'time'),
					   target_schema, 'source_' || state.source)
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

CREATE PROCEDURE omnikpi.refresh_kpi_views(target_schema name, full_rebuild boolean DEFAULT false,
										   late_window interval DEFAULT '3 days')
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF target_schema IS NULL OR full_rebuild IS NULL OR late_window IS NULL THEN
		RAISE EXCEPTION 'target_schema, full_rebuild and late_window must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF late_window < interval '0' THEN
		RAISE EXCEPTION 'late_window must not be negative, not %', late_window
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name';
	END IF;
	-- Two refreshes of one schema never interleave: the second waits, then
	-- starts from the watermarks the first one left.
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	IF NOT EXISTS (SELECT 1 FROM omnikpi.materialized_objects(target_schema) o WHERE o.kind = 'refresh state') THEN
		RAISE EXCEPTION 'schema "%" has no materialized KPI views', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them with omnikpi.create_kpi_views(''' || target_schema
						 || ''', interactions => ..., materialized => true).';
	END IF;
	PERFORM omnikpi.refresh_materialized_form(target_schema, full_rebuild, late_window);
END
$fn$;
COMMENT ON PROCEDURE omnikpi.refresh_kpi_views(name, boolean, interval) IS
	'refreshes the materialized KPI views of target_schema: recomputes what the sources hold from each watermark minus late_window on (everything with full_rebuild): daily tables, touched entities, their summaries, and the changed months of the KPI tables, in one transaction';
