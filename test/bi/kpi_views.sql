-- test/bi/kpi_views.sql: what the BI-tool suites (jdbc.sh, odbc.sh) read:
-- four months of interactions of a small shop (five channels, 5,000 rows) in
-- schema shop, and their materialized KPI views in schema :schema, granted to
-- the BI role :role with omnikpi.grant_bi_access.  Run in an empty database.
SET client_min_messages = warning;
CREATE EXTENSION omnikpi;
CREATE SCHEMA shop;
CREATE TABLE shop.interactions AS
SELECT g % 97 AS customer_id, g % 211 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + (g * 7 + g / 13) % 5] AS channel,
	timestamptz '2026-01-01 00:00+00' + (g % 120) * interval '1 day' + (g % 24) * interval '1 hour' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	(1 + (g * 31) % 5)::float8 AS satisfaction, (1 + g % 7)::float8 AS effort, g % 11 AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(1, 5000) g;
CREATE SCHEMA :"schema";
SELECT count(*) FROM omnikpi.create_kpi_views(:'schema', interactions => 'shop.interactions', materialized => true) \g /dev/null
SELECT object, privilege FROM omnikpi.grant_bi_access(:'role', :'schema') ORDER BY 1;
