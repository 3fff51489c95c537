-- ---------------------------------------------------------------------------
-- Making the tables of the materialized form (10-materialized.sql), for
-- create_kpi_views.  Each table takes its columns and types from the query
-- that fills it (CREATE TABLE ... AS ... WITH NO DATA): an entity table from
-- its layer view's template, a KPI table from the plain view's definition
-- over the entity tables, so both forms have the same columns and types by
-- construction.  The tables start empty; create_kpi_views fills them with a
-- full refresh.
-- ---------------------------------------------------------------------------

-- Comments on the columns of a relation from a name, comment, ... list.
CREATE FUNCTION omnikpi.comment_columns(relation regclass, column_comments text[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	FOR i IN 1 .. coalesce(array_length(column_comments, 1), 0) BY 2 LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', relation, column_comments[i], column_comments[i + 1]);
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.comment_columns(regclass, text[]) IS
	'comments the columns of a relation from a list of column names and comments';

-- A unique index NULLS NOT DISTINCT on key columns: what the refresh's
-- upserts need, and a guard against a row counted twice.
CREATE FUNCTION omnikpi.create_key_index(relation regclass, key_columns name[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('CREATE UNIQUE INDEX ON %s (%s) NULLS NOT DISTINCT', relation,
				   (SELECT string_agg(format('%I', k), ', ' ORDER BY n) FROM unnest(key_columns) WITH ORDINALITY AS u(k, n)));
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_key_index(regclass, name[]) IS
	'creates the unique index (NULLS NOT DISTINCT) on the key of a table of the materialized form';

-- The entity table of a layer view, in the form create_kpi_views chose, and
-- its marks table if it has one.
CREATE FUNCTION omnikpi.create_entity_table(target_schema name, layer_name name, keyed_by text, given jsonb,
											template_args text[])
	RETURNS SETOF regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	layer record;
	entity record;
	relation regclass;
	index_columns text;
	inputs text[] := omnikpi.layer_inputs(target_schema, layer_name, keyed_by, given, template_args);
BEGIN
	SELECT l.* INTO STRICT layer FROM omnikpi.kpi_layer_views l
	WHERE l.view_name = layer_name AND l.keyed_by = create_entity_table.keyed_by;
	SELECT e.* INTO STRICT entity FROM omnikpi.kpi_entity_tables e
	WHERE e.table_name = layer_name AND e.keyed_by = create_entity_table.keyed_by;
	EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, layer_name)
		|| format(layer.definition, VARIADIC template_args || inputs) || ' WITH NO DATA';
	relation := format('%I.%I', target_schema, layer_name)::regclass;
	FOREACH index_columns IN ARRAY entity.indexes LOOP
		EXECUTE format('CREATE INDEX ON %s (%s)', relation, index_columns);
	END LOOP;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   layer.description || '; kept as a table, touched customers and journeys only, by omnikpi.refresh_kpi_views');
	PERFORM omnikpi.comment_columns(relation, layer.column_comments);
	RETURN NEXT relation;
	IF entity.marks IS NOT NULL THEN
		EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, layer_name || '_marks')
			|| format(entity.marks, VARIADIC template_args || inputs) || ' WITH NO DATA';
		relation := format('%I.%I', target_schema, layer_name || '_marks')::regclass;
		PERFORM omnikpi.create_key_index(relation, ARRAY[entity.marks_key]);
		EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
					   format('per %s, its latest conversion, which a refresh of %s needs even when no path shows it', entity.marks_key, layer_name));
		PERFORM omnikpi.comment_columns(relation, ARRAY[entity.marks_key::text, 'the key', 'last_converted_at', 'its latest conversion']);
		RETURN NEXT relation;
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_entity_table(name, name, text, jsonb, text[]) IS
	'creates, empty, the table that keeps a layer view of create_kpi_views in the materialized form, and its marks table';

-- The daily and summary tables the given KPI views are rolled up from,
-- directly or through other summary tables, in the order they are made.
CREATE FUNCTION omnikpi.summary_tables_for(kpi_names name[])
	RETURNS SETOF name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	WITH RECURSIVE needed(table_name) AS (
		SELECT unnest(m.reads) FROM omnikpi.kpi_materialized_views m WHERE m.view_name = ANY (kpi_names)
		UNION
		SELECT unnest(s.reads) FROM omnikpi.kpi_summary_tables s JOIN needed n USING (table_name))
	SELECT t.table_name
	FROM (SELECT d.table_name, 0 AS position FROM omnikpi.kpi_daily_summaries d
		  UNION ALL
		  SELECT s.table_name, s.position FROM omnikpi.kpi_summary_tables s) AS t
	JOIN needed USING (table_name)
	ORDER BY t.position, t.table_name
$fn$;
COMMENT ON FUNCTION omnikpi.summary_tables_for(name[]) IS
	'the daily and summary tables the materialized form of the given KPI views is rolled up from';

CREATE FUNCTION omnikpi.create_summary_tables(target_schema name, kpi_names name[])
	RETURNS SETOF regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	summary record;
	relation regclass;
BEGIN
	FOR summary IN
		SELECT t.table_name, t.description, t.columns, t.key_columns, t.column_comments
		FROM omnikpi.summary_tables_for(kpi_names) WITH ORDINALITY AS n(table_name, position)
		JOIN (SELECT d.table_name, d.description, d.columns, d.key_columns, d.column_comments
			  FROM omnikpi.kpi_daily_summaries d
			  UNION ALL
			  SELECT s.table_name, s.description, s.columns, s.key_columns, s.column_comments
			  FROM omnikpi.kpi_summary_tables s) AS t USING (table_name)
		ORDER BY n.position
	LOOP
		EXECUTE format('CREATE TABLE %I.%I (%s)', target_schema, summary.table_name, summary.columns);
		relation := format('%I.%I', target_schema, summary.table_name)::regclass;
		PERFORM omnikpi.create_key_index(relation, summary.key_columns);
		EXECUTE format('COMMENT ON TABLE %s IS %L', relation, summary.description);
		PERFORM omnikpi.comment_columns(relation, summary.column_comments);
		RETURN NEXT relation;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_summary_tables(name, name[]) IS
	'creates, empty, the daily and summary tables the materialized form of the given KPI views is rolled up from';

-- The table of a KPI view in the materialized form, with the plain view's
-- columns and types (its definition reads the entity tables, which have the
-- layer views' columns).
CREATE FUNCTION omnikpi.create_kpi_table(target_schema name, kpi_name name, template_args text[])
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, kpi_name)
		|| format((SELECT v.definition FROM omnikpi.kpi_views v WHERE v.view_name = kpi_name), VARIADIC template_args)
		|| ' WITH NO DATA';
	relation := format('%I.%I', target_schema, kpi_name)::regclass;
	PERFORM omnikpi.create_key_index(relation, (SELECT m.key_columns FROM omnikpi.kpi_materialized_views m
												WHERE m.view_name = kpi_name));
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_kpi_table(name, name, text[]) IS
	'creates, empty, the table that keeps a KPI view of create_kpi_views in the materialized form';

-- The refresh state: per source, the watermark, and the settings the refresh
-- formats its templates with.
CREATE FUNCTION omnikpi.create_refresh_state(target_schema name, given jsonb, settings jsonb)
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format($t$CREATE TABLE %I.kpi_refresh_state (
		source text PRIMARY KEY,
		time_zone text NOT NULL,
		watermark timestamptz,
		recomputed_from date,
		full_rebuild boolean,
		refreshed_at timestamptz,
		settings jsonb NOT NULL)$t$, target_schema);
	relation := format('%I.kpi_refresh_state', target_schema)::regclass;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   'refresh state of the materialized KPI views, per source: the watermark (the newest source time seen at the last refresh, at most the time of that refresh) from which omnikpi.refresh_kpi_views recomputes, minus its late_window');
	PERFORM omnikpi.comment_columns(relation, ARRAY[
		'source', 'the source: interactions, orders, touchpoints or conversions',
		'time_zone', 'the time zone days are cut in (create_kpi_views'' time_zone, by default the zone of the session that called it)',
		'watermark', 'newest time of the source seen at the last refresh (of orders: of any of their times), at most the time of that refresh; the next refresh recomputes what the source holds from the day of watermark - late_window on',
		'recomputed_from', 'first day the last refresh recomputed (-infinity: all of them)',
		'full_rebuild', 'whether the last refresh recomputed everything',
		'refreshed_at', 'when the last refresh ran',
		'settings', 'the settings of create_kpi_views the refresh computes with (the same in every row)']);
	EXECUTE format('INSERT INTO %s (source, time_zone, settings) SELECT s, $1, $2 FROM jsonb_object_keys($3) AS s', relation)
		USING settings #>> '{template_arguments,7}', settings, given;
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_refresh_state(name, jsonb, jsonb) IS
	'creates the refresh state table of the materialized form, one row per given source';
