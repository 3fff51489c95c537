-- describe.sql: every object of the installed omnikpi, one line each with all
-- that defines it, sorted, so that two installs can be compared with diff.
-- Used by test/suites/upgrade.sh on a fresh install and on an updated one.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET search_path = pg_catalog, pg_temp;
SET extra_float_digits = 3;

WITH ext AS (
	SELECT oid, extname, extversion, extrelocatable, extnamespace::regnamespace AS schema,
		   extconfig, extcondition
	FROM pg_extension WHERE extname = 'omnikpi'
), members AS (
	SELECT d.classid, d.objid
	FROM pg_depend d JOIN ext ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
	WHERE d.deptype = 'e'
), described AS (
	-- extension row: version, schema, which tables pg_dump must dump
	SELECT 'extension ' || extname || ' version=' || extversion || ' schema=' || schema::text
		   || ' config=' || coalesce((SELECT string_agg(c::regclass::text || ' ' || coalesce(extcondition[i], ''), ', ' ORDER BY c::regclass::text)
									  FROM unnest(extconfig) WITH ORDINALITY u(c, i)), '') AS line
	FROM ext
	UNION ALL
	-- functions, procedures, aggregates, window functions
	SELECT 'function ' || p.oid::regprocedure::text
		   || ' kind=' || p.prokind::text || ' returns=' || p.prorettype::regtype::text
		   || ' retset=' || p.proretset || ' volatile=' || p.provolatile::text || ' parallel=' || p.proparallel::text
		   || ' strict=' || p.proisstrict || ' secdef=' || p.prosecdef || ' leakproof=' || p.proleakproof
		   || ' cost=' || p.procost || ' rows=' || p.prorows
		   || ' lang=' || (SELECT lanname FROM pg_language l WHERE l.oid = p.prolang)
		   || ' argnames=' || coalesce(array_to_string(p.proargnames, ','), '')
		   || ' argmodes=' || coalesce(array_to_string(p.proargmodes, ','), '')
		   || ' defaults=' || coalesce(pg_get_expr(p.proargdefaults, 0), '')
		   || ' config=' || coalesce(array_to_string(p.proconfig, ','), '')
		   || ' acl=' || coalesce(p.proacl::text, '')
		   || ' src=' || md5(coalesce(p.prosrc, '') || '|' || coalesce(p.probin, ''))
		   || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
		   || coalesce(' agg=' || (SELECT concat_ws(' ', a.aggkind, a.aggnumdirectargs, a.aggtransfn::regproc,
													 a.aggfinalfn::regproc, a.aggcombinefn::regproc, a.aggserialfn::regproc,
													 a.aggdeserialfn::regproc, a.aggmtransfn::regproc, a.aggminvtransfn::regproc,
													 a.aggmfinalfn::regproc, a.aggfinalextra, a.aggmfinalextra,
													 a.aggfinalmodify, a.aggmfinalmodify, a.aggsortop::regoperator,
													 a.aggtranstype::regtype, a.aggtransspace, a.aggmtranstype::regtype,
													 a.aggmtransspace, a.agginitval, a.aggminitval)
								   FROM pg_aggregate a WHERE a.aggfnoid = p.oid), '')
	FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
	UNION ALL
	-- base types, their array types and domains
	SELECT 'type ' || t.oid::regtype::text || ' ' || concat_ws(' ', t.typtype, t.typlen, t.typbyval, t.typcategory,
			t.typispreferred, t.typdelim, t.typelem::regtype, t.typarray::regtype, t.typinput::regproc,
			t.typoutput::regproc, t.typreceive::regproc, t.typsend::regproc, t.typmodin::regproc,
			t.typmodout::regproc, t.typanalyze::regproc, t.typsubscript::regproc, t.typalign, t.typstorage,
			t.typnotnull, t.typbasetype::regtype, t.typcollation, t.typdefault, t.typacl)
		   || ' comment=' || coalesce(obj_description(t.oid, 'pg_type'), '')
	FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
	UNION ALL
	-- tables, views, sequences, indexes: columns, definition, privileges, comments
	SELECT 'relation ' || c.oid::regclass::text || ' kind=' || c.relkind::text || ' options=' || coalesce(c.reloptions::text, '')
		   || ' acl=' || coalesce(c.relacl::text, '') || ' rls=' || c.relrowsecurity
		   || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
		   || ' columns=' || coalesce((SELECT string_agg(concat_ws(':', a.attname, format_type(a.atttypid, a.atttypmod),
																  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
																  col_description(c.oid, a.attnum), a.attacl), '; ' ORDER BY a.attnum)
									   FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
									   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
		   || ' constraints=' || coalesce((SELECT string_agg(pg_get_constraintdef(k.oid), '; ' ORDER BY pg_get_constraintdef(k.oid))
										   FROM pg_constraint k WHERE k.conrelid = c.oid), '')
		   || ' indexes=' || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY pg_get_indexdef(i.indexrelid))
									   FROM pg_index i WHERE i.indrelid = c.oid), '')
		   || ' view=' || coalesce(md5(pg_get_viewdef(c.oid)), '')
		   -- the rows of the extension's own tables (view templates, column mapping)
		   || ' rows=' || CASE WHEN c.relkind = 'r' THEN md5(query_to_xml(
				format('SELECT t::text AS r FROM %s t ORDER BY t::text COLLATE "C"', c.oid::regclass), false, false, '')::text)
				ELSE '' END
	FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
	UNION ALL
	-- schemas the extension made
	SELECT 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '')
		   || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '')
	FROM members m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
	UNION ALL
	-- operators, casts, operator classes and anything else: named, so a missing one shows
	SELECT 'object ' || pg_describe_object(m.classid, m.objid, 0)
	FROM members m
	WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_class'::regclass, 'pg_namespace'::regclass)
)
SELECT line FROM described ORDER BY line COLLATE "C";
