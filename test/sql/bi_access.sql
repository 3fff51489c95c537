-- grant_bi_access: a read-only BI role gets USAGE on the KPI schema and SELECT
-- on what it can read, never write access.  Plain KPI views are
-- security_invoker, so the role reads them only with SELECT on the source
-- tables, which grant_bi_access grants only when asked (include_sources).
\set SHOW_CONTEXT never

CREATE SCHEMA bi_shop;
CREATE TABLE bi_shop.interactions AS
SELECT g AS customer_id, g % 7 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center'])[1 + g % 4] AS channel,
	timestamptz '2026-01-01 12:00+00' + (g % 60) * interval '1 day' AS occurred_at,
	(ARRAY['awareness', 'decision', 'service'])[1 + g % 3] AS phase,
	(1 + g * 7 % 5)::float8 AS satisfaction, (1 + g % 5)::float8 AS effort, g % 11 AS nps,
	g % 2 = 0 AS context_carried, CASE WHEN g % 5 = 0 THEN g % 9 END AS issue_id, g % 10 = 0 AS resolved
FROM generate_series(1, 200) g;
CREATE SCHEMA bi_kpi;
SELECT count(*) AS views FROM omnikpi.create_kpi_views('bi_kpi', interactions => 'bi_shop.interactions')
WHERE status = 'created';
CREATE ROLE bi_reader LOGIN;
CREATE ROLE bi_other;

-- Without include_sources the plain views are left out, and a notice says why.
SELECT * FROM omnikpi.grant_bi_access('bi_reader', 'bi_kpi') ORDER BY 1;
SET ROLE bi_reader;
SELECT count(*) FROM bi_kpi.experience_rating_monthly;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bi_shop.interactions;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- With include_sources the role reads the plain views, with the same numbers.
SELECT * FROM omnikpi.grant_bi_access('bi_reader', 'bi_kpi', include_sources => true) ORDER BY 1;
SELECT string_agg(format('%s %s %s', month, round(rating_pct::numeric, 9), interactions), '; ' ORDER BY month) AS owner_result
FROM bi_kpi.experience_rating_monthly \gset
SET ROLE bi_reader;
SELECT count(*) AS months,
	   string_agg(format('%s %s %s', month, round(rating_pct::numeric, 9), interactions), '; ' ORDER BY month)
	   = :'owner_result' AS same_as_owner
FROM bi_kpi.experience_rating_monthly;
SELECT month, channel, round(rating_pct::numeric, 6) AS rating_pct
FROM bi_kpi.experience_rating_by_channel_monthly ORDER BY month, channel;
RESET ROLE;
-- The same grants again change nothing.
SELECT count(*) AS rows_second_time FROM omnikpi.grant_bi_access('bi_reader', 'bi_kpi', include_sources => true);

-- Nothing writable: no write privilege on any relation of either schema,
-- no CREATE on the schemas, and every attempt fails with 42501.
SELECT count(*) AS relations,
	   count(*) FILTER (WHERE has_table_privilege('bi_reader', c.oid, 'SELECT')) AS readable,
	   count(*) FILTER (WHERE has_table_privilege('bi_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')) AS writable
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('bi_kpi', 'bi_shop');
SELECT has_schema_privilege('bi_reader', 'bi_kpi', 'CREATE') AS create_kpi,
	   has_schema_privilege('bi_reader', 'bi_shop', 'CREATE') AS create_shop;
SET ROLE bi_reader;
INSERT INTO bi_shop.interactions (customer_id) VALUES (1);
\echo :LAST_ERROR_SQLSTATE
UPDATE bi_shop.interactions SET satisfaction = 5;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM bi_shop.interactions;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE bi_shop.interactions;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bi_kpi.source_interactions (customer_id) VALUES (1);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE bi_kpi.scratch (i integer);
\echo :LAST_ERROR_SQLSTATE
DROP VIEW bi_kpi.experience_rating_monthly;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM omnikpi.drop_kpi_views('bi_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM omnikpi.create_kpi_views('bi_kpi', interactions => 'bi_shop.interactions');
\echo :LAST_ERROR_SQLSTATE
-- nor can it hand its access on (GRANT alone would only warn)
SELECT count(*) FROM omnikpi.grant_bi_access('bi_other', 'bi_kpi');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- A role that owns the views but not the source table cannot grant the
-- plain views with their sources, and gets an error rather than a warning.
CREATE ROLE bi_view_owner;
GRANT USAGE ON SCHEMA bi_shop TO bi_view_owner;
GRANT SELECT ON bi_shop.interactions TO bi_view_owner;
CREATE SCHEMA bi_kpi2 AUTHORIZATION bi_view_owner;
SET ROLE bi_view_owner;
SELECT count(*) AS views FROM omnikpi.create_kpi_views('bi_kpi2', interactions => 'bi_shop.interactions')
WHERE status = 'created' \g /dev/null
SELECT count(*) FROM omnikpi.grant_bi_access('bi_other', 'bi_kpi2', include_sources => true);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FILTER (WHERE privilege = 'USAGE') AS usage_grants, count(*) FILTER (WHERE privilege LIKE 'none%') AS left_out
FROM omnikpi.grant_bi_access('bi_other', 'bi_kpi2');
SELECT count(*) FROM omnikpi.drop_kpi_views('bi_kpi2') \g /dev/null
RESET ROLE;
DROP SCHEMA bi_kpi2;

-- The materialized form: every KPI view of it is a table, read with its
-- owner's rights, so a role with no right at all on the sources reads every
-- one, with the owner's numbers; the raw rows stay closed to it.  Four
-- sources (and a duration computed by an expression) make every KPI view;
-- a few customers switch channels within a journey.
INSERT INTO bi_shop.interactions (customer_id, journey_id, channel, occurred_at, phase, satisfaction)
SELECT c, 100 + c, (ARRAY['web', 'store', 'app'])[1 + (c + s) % 3], timestamptz '2026-02-01 10:00+00' + s * interval '1 hour',
	'decision', 4
FROM generate_series(1, 5) c CROSS JOIN generate_series(0, 2) s;
CREATE TABLE bi_shop.orders AS
SELECT g AS order_id, 1 + g % 150 AS customer_id, (ARRAY['web', 'store', 'app'])[1 + g % 3] AS channel,
	timestamptz '2026-01-02 10:00+00' + (g % 55) * interval '1 day' AS ordered_at, (10 + g % 40)::numeric AS amount,
	(ARRAY['delivery', 'bopis', 'in_store'])[1 + g % 3] AS fulfillment,
	CASE WHEN g % 3 = 1 THEN timestamptz '2026-01-02 14:00+00' + (g % 55) * interval '1 day' END AS ready_at,
	CASE WHEN g % 6 = 1 THEN timestamptz '2026-01-03 12:00+00' + (g % 55) * interval '1 day' END AS collected_at,
	CASE WHEN g % 7 = 0 THEN timestamptz '2026-01-05 12:00+00' + (g % 55) * interval '1 day' END AS returned_at,
	CASE WHEN g % 7 = 0 THEN 'store' END AS return_channel
FROM generate_series(1, 80) g;
CREATE TABLE bi_shop.touchpoints AS
SELECT g % 7 AS journey_id, 1 + g % 150 AS customer_id, (ARRAY['web', 'email', 'social', 'store'])[1 + g % 4] AS channel,
	timestamptz '2026-01-01 08:00+00' + (g % 58) * interval '1 day' AS touched_at, (g % 5) * 0.5 AS cost
FROM generate_series(1, 120) g;
CREATE TABLE bi_shop.conversions AS
SELECT g % 7 AS journey_id, 1 + g % 150 AS customer_id,
	timestamptz '2026-01-20 20:00+00' + (g % 40) * interval '1 day' AS converted_at, (20 + g)::numeric AS value
FROM generate_series(1, 30) g;
CREATE SCHEMA bi_mat;
SET client_min_messages = warning;
SELECT count(*) FILTER (WHERE status = 'materialized') AS materialized,
	count(*) FILTER (WHERE status = 'materialized') = (SELECT count(*) FROM omnikpi.kpi_views) AS every_kpi_view
FROM omnikpi.create_kpi_views('bi_mat', interactions => 'bi_shop.interactions', orders => 'bi_shop.orders',
	touchpoints => 'bi_shop.touchpoints', conversions => 'bi_shop.conversions',
	columns => '{"interactions": {"duration": "60 + customer_id % 300"}}', materialized => true);
RESET client_min_messages;
CREATE ROLE bi_dashboard LOGIN;
SELECT count(*) AS sources_readable FROM pg_class c
WHERE c.relnamespace = 'bi_shop'::regnamespace AND has_table_privilege('bi_dashboard', c.oid, 'SELECT');
-- no NOTICE: nothing a dashboard reads is left out; only the source views,
-- which read the raw rows as the querying role, are
SELECT privilege, count(*) AS relations, string_agg(object, ', ' ORDER BY object) FILTER (WHERE privilege <> 'SELECT') AS which
FROM omnikpi.grant_bi_access('bi_dashboard', 'bi_mat') GROUP BY 1 ORDER BY 1;
-- Every KPI view, read whole as the role: its rows and a digest of them,
-- the same as the owner's.
SELECT string_agg(format('SELECT %L AS kpi_view, count(*) AS rows, md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) AS digest FROM bi_mat.%I AS t',
						 o.relation_name, ';', '', o.relation_name), ' UNION ALL ' ORDER BY o.relation_name) AS every_view
FROM omnikpi.kpi_objects('bi_mat') o WHERE o.kind = 'kpi view' \gset
SELECT string_agg(format('%s %s %s', kpi_view, rows, digest), '; ' ORDER BY kpi_view) AS owner_digests FROM (:every_view) AS v \gset
SET ROLE bi_dashboard;
SELECT count(*) AS kpi_views, count(*) FILTER (WHERE rows > 0) AS with_rows,
	string_agg(format('%s %s %s', kpi_view, rows, digest), '; ' ORDER BY kpi_view) = :'owner_digests' AS same_as_owner
FROM (:every_view) AS v;
SELECT count(*) FROM bi_shop.interactions;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bi_shop.orders;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bi_mat.source_interactions;
\echo :LAST_ERROR_SQLSTATE
-- nor the refresh's copy of the window's raw rows
SELECT count(*) FROM bi_mat.kpi_refresh_window;
\echo :LAST_ERROR_SQLSTATE
-- and it reads, never writes or refreshes
CALL omnikpi.refresh_kpi_views('bi_mat');
\echo :LAST_ERROR_SQLSTATE
TRUNCATE bi_mat.experience_rating_monthly;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM bi_mat.interactions_daily;
\echo :LAST_ERROR_SQLSTATE
UPDATE bi_mat.kpi_refresh_state SET watermark = NULL;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- The owner's refresh brings new rows; the role reads the new numbers
-- with no more rights than before.
INSERT INTO bi_shop.interactions (customer_id, channel, occurred_at, phase, satisfaction)
VALUES (7, 'web', '2026-03-01 09:00+00', 'service', 5);
CALL omnikpi.refresh_kpi_views('bi_mat');
SET ROLE bi_dashboard;
SELECT month, interactions FROM bi_mat.experience_rating_monthly WHERE month = '2026-03-01';
RESET ROLE;
SELECT count(*) AS relations,
	   count(*) FILTER (WHERE has_table_privilege('bi_dashboard', c.oid, 'SELECT')) AS readable,
	   count(*) FILTER (WHERE has_table_privilege('bi_dashboard', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')) AS writable
FROM pg_class c WHERE c.relnamespace = 'bi_mat'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm');
SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('bi_mat');
DROP SCHEMA bi_mat;

-- Bad arguments.
CREATE SCHEMA bi_empty;
CREATE ROLE bi_admin SUPERUSER;
SELECT omnikpi.grant_bi_access(NULL, 'bi_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_reader', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_reader', 'bi_kpi', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('no_such_role', 'bi_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('public', 'bi_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_admin', 'bi_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_reader', 'no_such_schema');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_reader', 'bi_empty');
\echo :LAST_ERROR_SQLSTATE
SELECT omnikpi.grant_bi_access('bi_reader', '');
\echo :LAST_ERROR_SQLSTATE

SELECT count(*) FROM omnikpi.drop_kpi_views('bi_kpi');
DROP SCHEMA bi_kpi, bi_shop, bi_empty CASCADE;
DROP ROLE bi_admin;
DROP OWNED BY bi_reader, bi_other, bi_view_owner, bi_dashboard;
DROP ROLE bi_reader, bi_other, bi_view_owner, bi_dashboard;
