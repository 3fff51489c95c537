
-- ---------------------------------------------------------------------------
-- Read-only access for BI tools.
--
-- What a role needs to read a KPI relation depends on how it is built.  A
-- materialized view (or table) is read with its own privilege only.  The
-- plain KPI views are security_invoker views over the source_* views, which
-- are security_invoker views over the user's tables: PostgreSQL checks every
-- relation on that path against the role that queries, so reading a plain
-- view needs SELECT on the raw interaction rows too.  grant_bi_access grants
-- what each KPI relation needs when that stays inside the KPI schema, and
-- grants the raw tables only when asked to (include_sources).  It never
-- grants anything but USAGE and SELECT.
-- ---------------------------------------------------------------------------

CREATE FUNCTION omnikpi.grant_bi_access(role name, target_schema name, include_sources boolean DEFAULT false)
	RETURNS TABLE (object text, privilege text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	role_id oid;
	is_superuser boolean;
	kpi record;
	source regclass;
	granted_sources oid[] := '{}';
	skipped text[] := '{}';
	found_kpi boolean := false;
BEGIN
	IF role IS NULL OR target_schema IS NULL OR include_sources IS NULL THEN
		RAISE EXCEPTION 'role, target_schema and include_sources must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF lower(role) = 'public' THEN
		RAISE EXCEPTION 'cannot grant BI access to PUBLIC'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the BI tool''s own role; grant that role to other roles to share the access.';
	END IF;
	SELECT r.oid, r.rolsuper INTO role_id, is_superuser FROM pg_catalog.pg_roles r WHERE r.rolname = grant_bi_access.role;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', role
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create a read-only login role first, e.g. CREATE ROLE %I LOGIN PASSWORD ''...'';', role);
	END IF;
	IF is_superuser THEN
		RAISE EXCEPTION 'role "%" is a superuser', role
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A superuser can read and write everything, whatever is granted.',
				  HINT = 'Give the BI tool a role of its own without SUPERUSER.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Name the schema where omnikpi.create_kpi_views made the KPI views.';
	END IF;

	-- The KPI relations are those create_kpi_views made, as the schema's
	-- record says (omnikpi.kpi_objects), but the record itself.  For each,
	-- the relations the querying role needs SELECT on: itself, and through
	-- every security_invoker view on the way, what that view reads.  A view
	-- without security_invoker, a materialized view or a table reads the rest
	-- with its owner's privileges, so the walk stops there.
	FOR kpi IN
		WITH RECURSIVE kpi_relations AS (
			SELECT o.relation::oid AS oid, o.kind
			FROM omnikpi.kpi_objects(target_schema) o
			WHERE o.kind <> 'record'
		), needs(root, rel) AS (
			SELECT k.oid, k.oid FROM kpi_relations k
			UNION
			SELECT needs.root, d.refobjid
			FROM needs
			JOIN pg_catalog.pg_class v ON v.oid = needs.rel AND v.relkind = 'v'
			JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
			JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
				AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
				AND d.refobjid <> v.oid
			JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p', 'v', 'm', 'f')
			WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
						  WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)
		)
		SELECT k.oid::regclass AS relation, k.kind,
			-- what lies outside the KPI schema and the role cannot read yet
			array_agg(DISTINCT n.rel) FILTER (
				WHERE n.rel NOT IN (SELECT oid FROM kpi_relations)
				  AND NOT pg_catalog.has_table_privilege(role_id, n.rel, 'SELECT')) AS sources
		FROM kpi_relations k JOIN needs n ON n.root = k.oid
		GROUP BY k.oid, k.kind
		ORDER BY k.oid::regclass::text
	LOOP
		IF NOT found_kpi THEN
			found_kpi := true;
			IF NOT has_schema_privilege(target_schema, 'USAGE WITH GRANT OPTION') THEN
				-- GRANT itself would only warn and grant nothing.
				RAISE EXCEPTION 'permission denied to grant USAGE on schema %', target_schema
					USING ERRCODE = 'insufficient_privilege',
						  HINT = 'Run grant_bi_access as the owner of the KPI views (or a role they granted WITH GRANT OPTION).';
			END IF;
			EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', target_schema, role);
			object := format('schema %I', target_schema);
			privilege := 'USAGE';
			RETURN NEXT;
			-- For ad-hoc queries with omnikpi's functions (rollup() over a
			-- daily summary, say); the views themselves do not need it.
			IF NOT has_schema_privilege(role_id, '@extschema@', 'USAGE')
			   AND has_schema_privilege('@extschema@', 'USAGE WITH GRANT OPTION') THEN
				EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', '@extschema@', role);
				object := format('schema %I', '@extschema@');
				RETURN NEXT;
			END IF;
		END IF;
		IF kpi.sources IS NOT NULL AND NOT include_sources THEN
			-- A source view is no KPI: the materialized form's readers never
			-- need it, and the plain views that do are counted themselves.
			IF kpi.kind <> 'source view' THEN
				skipped := skipped || kpi.relation::text;
			END IF;
			object := kpi.relation::text;
			privilege := 'none: reads ' || (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text)
											FROM unnest(kpi.sources) s)
						 || ' as the querying role';
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF EXISTS (SELECT 1 FROM unnest(kpi.sources || kpi.relation::oid) r
				   WHERE NOT has_table_privilege(r, 'SELECT WITH GRANT OPTION')) THEN
			RAISE EXCEPTION 'permission denied to grant SELECT on %', kpi.relation
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = CASE WHEN kpi.sources IS NOT NULL THEN
						  format('Reading it needs SELECT on %s too.', (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text) FROM unnest(kpi.sources) s)) END,
					  HINT = 'Run grant_bi_access as the owner of the KPI views and their source tables.';
		END IF;
		FOREACH source IN ARRAY coalesce(kpi.sources, '{}') LOOP
			CONTINUE WHEN source = ANY (granted_sources);
			EXECUTE format('GRANT SELECT ON TABLE %s TO %I', source, role);
			granted_sources := granted_sources || source::oid;
			object := source::text;
			privilege := 'SELECT (source)';
			RETURN NEXT;
		END LOOP;
		EXECUTE format('GRANT SELECT ON TABLE %s TO %I', kpi.relation, role);
		object := kpi.relation::text;
		privilege := 'SELECT';
		RETURN NEXT;
	END LOOP;

	IF NOT found_kpi THEN
		RAISE EXCEPTION 'schema "%" holds no KPI views of omnikpi', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them first with omnikpi.create_kpi_views.';
	END IF;
	IF skipped <> '{}' THEN
		RAISE NOTICE 'role "%" was not granted % of schema "%"', role,
			CASE WHEN cardinality(skipped) = 1 THEN 'one view' ELSE cardinality(skipped) || ' views' END, target_schema
			USING DETAIL = 'Those views read the source tables with the privileges of the role that queries them (security_invoker), and the role cannot read those tables.',
				  HINT = 'Materialized KPI views need no access to the source tables. To grant the plain views with SELECT on their source tables, call grant_bi_access again with include_sources => true.';
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.grant_bi_access(name, name, boolean) IS
	'grants role read-only access (USAGE, SELECT) to the KPI views of target_schema, and to the source tables the plain views read only if include_sources; returns what it granted';
