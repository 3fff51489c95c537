-- ---------------------------------------------------------------------------
-- The record of what create_kpi_views made.
--
-- create_kpi_views keeps, in the target schema, a table kpi_objects with one
-- row per relation it made there (its regclass, so its OID, and its kind),
-- itself included.  drop_kpi_views, refresh_kpi_views, schedule_refresh and
-- grant_bi_access recognize omnikpi's objects by that record only: a comment
-- edited by the user detaches nothing, a view the user made keeps its place
-- even with a KPI view's name (create_kpi_views refuses to replace it), and
-- a view of ours the user renamed is still ours.  The record survives
-- pg_dump and pg_restore (regclass values are dumped as names) and
-- pg_upgrade (which keeps relation OIDs).  A table named kpi_objects is the
-- record only with the record's columns and the row of itself, of kind
-- 'record'.
--
-- Schemas made by omnikpi 0.1.0 have no record: there, and only there, the
-- views are recognized as 0.1.0 made them, by name and by the "(omnikpi)"
-- at the end of their comment, until create_kpi_views records them.
-- ---------------------------------------------------------------------------

-- The record table of a schema, or NULL when it has none.
CREATE FUNCTION omnikpi.kpi_object_record(target_schema name) RETURNS regclass
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	candidate regclass;
	is_record boolean := false;
BEGIN
	-- the record's columns, exactly, and the row of itself
	SELECT c.oid INTO candidate
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = target_schema AND c.relname = 'kpi_objects' AND c.relkind = 'r'
	  AND (SELECT array_agg(a.attname || ' ' || a.atttypid::regtype ORDER BY a.attnum)
		   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
		  = '{"relation regclass","kind text","made_at timestamp with time zone"}';
	IF candidate IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE relation = $1 AND kind = ''record'')', candidate)
		INTO is_record USING candidate;
	RETURN CASE WHEN is_record THEN candidate END;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_object_record(name) IS
	'the kpi_objects table in which create_kpi_views records what it made in target_schema, or NULL';

-- What create_kpi_views made in a schema and is still there, in the order it
-- can be dropped: KPI views (or tables), layer views, entity tables, summary
-- tables, the refresh state, source views, the record.
CREATE FUNCTION omnikpi.kpi_objects(target_schema name)
	RETURNS TABLE (relation regclass, relation_name name, relation_kind "char", kind text)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	record_table regclass := omnikpi.kpi_object_record(target_schema);
BEGIN
	IF record_table IS NOT NULL THEN
		RETURN QUERY EXECUTE format(
			'SELECT c.oid::regclass, c.relname, c.relkind, r.kind
			 FROM %s r
			 JOIN pg_catalog.pg_class c ON c.oid = r.relation
			 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1
			 ORDER BY array_position(ARRAY[''kpi view'', ''layer view'', ''entity table'', ''summary table'', ''refresh state'', ''source view'', ''record''], r.kind),
				c.relname', record_table)
			USING target_schema;
		RETURN;
	END IF;
	-- made by 0.1.0, before the record
	RETURN QUERY
	SELECT c.oid::regclass, c.relname, c.relkind, CASE WHEN v.view_name IS NULL THEN 'source view' ELSE 'kpi view' END
	FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN omnikpi.kpi_views v ON v.view_name = c.relname
	WHERE n.nspname = target_schema AND c.relkind = 'v'
	  AND (v.view_name IS NOT NULL
		   OR c.relname IN ('source_interactions', 'source_orders', 'source_touchpoints', 'source_conversions'))
	  AND obj_description(c.oid, 'pg_class') LIKE '% (omnikpi)'
	ORDER BY v.view_name IS NULL, c.relname;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_objects(name) IS
	'the relations create_kpi_views made in target_schema, by its record kpi_objects, in the order they can be dropped';
