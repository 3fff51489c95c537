-- dba_settings.sql: what a DBA changes on an installed omnikpi, and whether
-- an update kept it.  Used by test/suites/upgrade.sh: with :step = 'set' on
-- the old version, with :step = 'check' after ALTER EXTENSION omnikpi UPDATE.
--
-- 'set': on every object of the extension (functions, aggregates, types,
-- tables, views, its schema) the DBA takes the right away from PUBLIC where
-- there is one to take, grants it to the role :"dba" instead, and writes a
-- comment of their own; the privileges and comments as they are then are
-- kept in public.dba_settings_before.
-- 'check': prints one line per object that still exists after the update
-- (the same identity, or for a function whose arguments changed the same
-- unique name) but lost the privileges or the comment the DBA set.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET search_path = pg_catalog, pg_temp;

CREATE TEMP VIEW member_settings AS
SELECT m.kind, m.identity, m.name, m.acl, m.comment
FROM pg_extension e
JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
CROSS JOIN LATERAL (
	SELECT 'routine' AS kind, p.oid::regprocedure::text AS identity,
		   p.pronamespace::regnamespace::text || '.' || p.proname AS name,
		   coalesce(p.proacl::text, '') AS acl, obj_description(p.oid, 'pg_proc') AS comment
	FROM pg_proc p WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid
	UNION ALL
	SELECT 'type', t.oid::regtype::text, t.oid::regtype::text,
		   coalesce(t.typacl::text, ''), obj_description(t.oid, 'pg_type')
	FROM pg_type t WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid AND t.typelem = 0
	UNION ALL
	SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
		   ELSE 'table' END, c.oid::regclass::text, c.oid::regclass::text,
		   coalesce(c.relacl::text, ''), obj_description(c.oid, 'pg_class')
	FROM pg_class c WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
	UNION ALL
	SELECT 'schema', quote_ident(n.nspname), quote_ident(n.nspname),
		   coalesce(n.nspacl::text, ''), obj_description(n.oid, 'pg_namespace')
	FROM pg_namespace n WHERE d.classid = 'pg_namespace'::regclass AND n.oid = d.objid
) m
WHERE e.extname = 'omnikpi';

SELECT :'step' = 'set' AS setting \gset
\if :setting
SELECT format('REVOKE %s ON %s %s FROM PUBLIC', k.privilege, k.grant_on, s.identity),
	   format('GRANT %s ON %s %s TO %I', k.privilege, k.grant_on, s.identity, :'dba'),
	   format('COMMENT ON %s %s IS %L', k.comment_on, s.identity, 'set by the DBA: ' || s.identity)
FROM member_settings s
JOIN (VALUES ('routine', 'EXECUTE', 'ROUTINE', 'ROUTINE'), ('type', 'USAGE', 'TYPE', 'TYPE'),
			 ('schema', 'USAGE', 'SCHEMA', 'SCHEMA'), ('table', 'SELECT', 'TABLE', 'TABLE'),
			 ('view', 'SELECT', 'TABLE', 'VIEW'), ('materialized view', 'SELECT', 'TABLE', 'MATERIALIZED VIEW'),
			 ('sequence', 'SELECT', 'SEQUENCE', 'SEQUENCE')) k(kind, privilege, grant_on, comment_on)
  ON k.kind = s.kind
ORDER BY s.kind, s.identity \gexec
CREATE TABLE public.dba_settings_before AS SELECT * FROM member_settings;
SELECT count(*) || ' objects got the DBA''s privileges and comment' FROM public.dba_settings_before;
\else
WITH after AS (SELECT * FROM member_settings),
matched AS (
	SELECT b.kind, b.identity, b.acl AS acl_before, b.comment AS comment_before,
		   coalesce(same.acl, renamed.acl) AS acl_after, coalesce(same.comment, renamed.comment) AS comment_after,
		   coalesce(same.identity, renamed.identity) AS identity_after
	FROM public.dba_settings_before b
	LEFT JOIN after same ON same.kind = b.kind AND same.identity = b.identity
	LEFT JOIN after renamed ON same.identity IS NULL AND renamed.kind = b.kind AND renamed.name = b.name
		AND (SELECT count(*) FROM public.dba_settings_before x WHERE x.kind = b.kind AND x.name = b.name) = 1
		AND (SELECT count(*) FROM after x WHERE x.kind = b.kind AND x.name = b.name) = 1
)
SELECT format('%s %s: %s', kind, identity_after,
			  concat_ws(' and ',
						CASE WHEN acl_after IS DISTINCT FROM acl_before
							 THEN format('privileges %s became %s', coalesce(nullif(acl_before, ''), 'the defaults'),
										 coalesce(nullif(acl_after, ''), 'the defaults')) END,
						CASE WHEN comment_after IS DISTINCT FROM comment_before
							 THEN format('comment "%s" became "%s"', comment_before, comment_after) END))
FROM matched
WHERE identity_after IS NOT NULL
  AND (acl_after IS DISTINCT FROM acl_before OR comment_after IS DISTINCT FROM comment_before)
ORDER BY 1;
\endif
