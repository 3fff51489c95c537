-- ---------------------------------------------------------------------------
-- Comparing two KPI schemas: the materialized form against the plain form
-- over the same sources, say, to check that the refreshes kept it exact, or
-- two refresh schedules against each other.
-- ---------------------------------------------------------------------------

-- Per KPI view and layer (view or entity table) that both schemas' records
-- hold under one name: whether the columns (names and types, in order) are
-- the same, and how many rows of either have no equal in the other.  KPI
-- rows are matched on the KPI's key (omnikpi.kpi_materialized_views), their
-- double precision columns equal within a relative 1e-9 (sums of
-- attribution credits added in another order differ in the last bits);
-- layer rows must be equal, row for row.  Runs with the caller's rights.
CREATE FUNCTION omnikpi.kpi_view_differences(schema_a name, schema_b name)
	RETURNS TABLE (relation name, kind text, same_columns boolean, differing_rows bigint)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	pair record;
	key_columns name[];
	column_list text;
	matched text;
	differs text;
BEGIN
	IF schema_a IS NULL OR schema_b IS NULL THEN
		RAISE EXCEPTION 'schema_a and schema_b must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR pair IN
		SELECT a.relation_name, a.relation AS a_relation, b.relation AS b_relation,
			CASE WHEN a.kind = 'kpi view' THEN 'kpi view' ELSE 'layer' END AS kind
		FROM omnikpi.kpi_objects(schema_a) a
		JOIN omnikpi.kpi_objects(schema_b) b ON b.relation_name = a.relation_name
		WHERE a.kind IN ('kpi view', 'layer view', 'entity table') AND b.kind IN ('kpi view', 'layer view', 'entity table')
		ORDER BY 4, 1
	LOOP
		relation := pair.relation_name;
		kind := pair.kind;
		SELECT array_agg(x.attname || ' ' || format_type(x.atttypid, x.atttypmod) ORDER BY x.attnum)
			   IS NOT DISTINCT FROM
			   (SELECT array_agg(y.attname || ' ' || format_type(y.atttypid, y.atttypmod) ORDER BY y.attnum)
				FROM pg_attribute y WHERE y.attrelid = pair.b_relation AND y.attnum > 0 AND NOT y.attisdropped),
			   string_agg(quote_ident(x.attname), ', ' ORDER BY x.attnum)
		INTO same_columns, column_list
		FROM pg_attribute x WHERE x.attrelid = pair.a_relation AND x.attnum > 0 AND NOT x.attisdropped;
		key_columns := (SELECT m.key_columns FROM omnikpi.kpi_materialized_views m WHERE m.view_name = pair.relation_name);
		IF NOT same_columns THEN
			differing_rows := NULL;
		ELSIF pair.kind = 'layer' OR key_columns IS NULL THEN
			EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM %2$s EXCEPT ALL SELECT %1$s FROM %3$s)
				UNION ALL (SELECT %1$s FROM %3$s EXCEPT ALL SELECT %1$s FROM %2$s)) AS d',
				column_list, pair.a_relation, pair.b_relation) INTO differing_rows;
		ELSE
			-- keys may be NULL (a phase, say): matched as text, NULL apart
			SELECT string_agg(format('coalesce(a.%1$I::text, chr(1)) = coalesce(b.%1$I::text, chr(1))', k), ' AND ')
			INTO matched FROM unnest(key_columns) k;
			SELECT string_agg(CASE WHEN x.atttypid = 'double precision'::regtype
				THEN format('(a.%1$I IS DISTINCT FROM b.%1$I AND NOT abs(a.%1$I - b.%1$I) <= 1e-9 * greatest(1, abs(a.%1$I), abs(b.%1$I)))',
							x.attname)
				ELSE format('a.%1$I IS DISTINCT FROM b.%1$I', x.attname) END, ' OR ' ORDER BY x.attnum)
			INTO differs FROM pg_attribute x WHERE x.attrelid = pair.a_relation AND x.attnum > 0 AND NOT x.attisdropped;
			EXECUTE format('SELECT count(*) FROM %s AS a FULL JOIN %s AS b ON %s WHERE %s',
						   pair.a_relation, pair.b_relation, matched, differs) INTO differing_rows;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_view_differences(name, name) IS
	'per KPI view and layer the two KPI schemas share: whether the columns are the same, and how many rows differ (KPIs matched on their key, floats within a relative 1e-9)';
