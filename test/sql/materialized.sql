-- Materialized KPIs: create_kpi_views(..., materialized => true) keeps every
-- KPI view as a table with a unique index, beside entity tables, summary
-- tables and the refresh state.  The KPI tables equal the plain views on the
-- same data, after creation, after an incremental refresh (a new day, late
-- rows inside the window) and after a full rebuild; rows older than the
-- window stay out until a full rebuild, as documented (materialized_random
-- checks the same on random data, every KPI and entity table).  Days are cut
-- in the creating session's time zone whatever the refreshing session's.
-- Errors carry their SQLSTATE; drop_kpi_views removes exactly what was made.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\pset null '(null)'
-- Only what this test is about: views other tests or later versions add to
-- omnikpi.kpi_views are not listed, and their NOTICEs are not shown.
SET client_min_messages = warning;

CREATE SCHEMA mv_shop;
-- Fifty days from 2024-02-20 to 2024-04-09 (three months, two quarters),
-- eight rows a day per channel mix, integer ratings with gaps; one row each
-- without a channel, a phase or a time.
CREATE TABLE mv_shop.interactions AS
SELECT g % 41 AS customer_id, g % 97 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + (g * 7 + g / 13) % 5] AS channel,
	timestamptz '2024-02-20' + (g / 8) * interval '1 day' + (g % 8) * interval '2 hours 50 minutes' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	CASE WHEN g % 3 <> 0 THEN (1 + (g * 31) % 5)::float8 END AS satisfaction,
	CASE WHEN g % 4 = 0 THEN (1 + g % 7)::float8 END AS effort,
	CASE WHEN g % 5 < 2 THEN g % 11 END AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(0, 399) g;
INSERT INTO mv_shop.interactions VALUES
	(1, 1, NULL, '2024-03-03 10:00', 'decision', 4, NULL, NULL, true, NULL, false),
	(2, 2, 'web', '2024-03-04 11:00', NULL, 2, 3, 9, false, NULL, false),
	(3, 3, 'app', NULL, 'service', 5, 1, 10, true, NULL, true);
CREATE INDEX ON mv_shop.interactions (occurred_at);
CREATE TABLE mv_shop.orders (order_id int, customer_id int, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text, ready_at timestamptz, collected_at timestamptz, returned_at timestamptz, return_channel text);
INSERT INTO mv_shop.orders VALUES
	(1, 1, 'store', '2024-03-08 12:00', 120.00, 'in_store', NULL, NULL, '2024-03-20', 'web'),
	(2, 2, 'web', '2024-03-11 10:00', 80.00, 'bopis', '2024-03-11 14:00', '2024-03-12 10:00', NULL, NULL);

-- The materialized form next to the plain one, over the same tables.
CREATE SCHEMA mv_kpi;
CREATE SCHEMA mv_plain;
SELECT * FROM omnikpi.create_kpi_views('mv_kpi', interactions => 'mv_shop.interactions',
	orders => 'mv_shop.orders', materialized => true)
WHERE status = 'materialized' OR view_name NOT IN (SELECT view_name FROM omnikpi.kpi_views)
   OR view_name IN ('resolution_by_channel_monthly', 'churn_retention_monthly', 'returns_by_channel_monthly');
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('mv_plain', interactions => 'mv_shop.interactions',
	orders => 'mv_shop.orders');

-- Every KPI of the materialized schema against the plain schema
-- (omnikpi.kpi_view_differences: same columns, rows matched on the KPI's
-- key, floats within a relative 1e-9).
CREATE VIEW pg_temp.comparison AS
SELECT d.relation AS kpi, c.relkind AS kind, d.same_columns, d.differing_rows
FROM omnikpi.kpi_view_differences('mv_kpi', 'mv_plain') d
JOIN pg_class c ON c.relname = d.relation AND c.relnamespace = 'mv_kpi'::regnamespace
WHERE d.kind = 'kpi view';
-- Every KPI view is a table (r) with the plain view's columns and rows.
SELECT kpi, kind, same_columns, differing_rows FROM pg_temp.comparison ORDER BY kpi;

-- The headline numbers themselves, rolled up from the daily layer.
SELECT month, round(rating_pct::numeric, 6) AS rating_pct, channels, interactions
FROM mv_kpi.experience_rating_monthly ORDER BY month;
SELECT quarter, round(integration_index::numeric, 6) AS integration_index, channels
FROM mv_kpi.integration_index_quarterly ORDER BY quarter;
-- One day's partial sums: per channel and phase, never a ratio.
SELECT day, channel, phase, interactions, ratings::text, csat_responses, csat_sum, csat_top2
FROM mv_kpi.interactions_daily WHERE day = '2024-02-20' ORDER BY channel, phase;

-- Every KPI and summary table has a unique index on its key (NULLS NOT
-- DISTINCT), which the refresh's upserts use; entity tables have indexes on
-- their keys and times, not unique ones.
SELECT o.kind, c.relname, count(i.indexrelid) FILTER (WHERE i.indisunique AND i.indpred IS NULL
	AND i.indexprs IS NULL AND i.indnullsnotdistinct) AS unique_key_indexes, count(i.indexrelid) AS indexes
FROM omnikpi.kpi_objects('mv_kpi') o
JOIN pg_class c ON c.oid = o.relation LEFT JOIN pg_index i ON i.indrelid = c.oid
WHERE o.kind IN ('kpi view', 'entity table', 'summary table')
GROUP BY 1, 2 ORDER BY 1, 2;
-- Comments on every relation and column of the materialized form.
SELECT c.relname, a.attname AS column_without_comment
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'mv_kpi'::regnamespace AND c.relkind IN ('m', 'r', 'v')
  AND (col_description(c.oid, a.attnum) IS NULL OR obj_description(c.oid, 'pg_class') IS NULL);
SELECT obj_description('mv_kpi.experience_rating_monthly'::regclass, 'pg_class');

-- The refresh state after creation: everything computed, watermark at the
-- newest contact.
SELECT source, time_zone, watermark, recomputed_from, full_rebuild FROM mv_kpi.kpi_refresh_state ORDER BY source;

-- 1. A new day of data (April 10th, a copy of April 9th with other ratings):
-- stale until the refresh, which recomputes only from April 6th (watermark
-- April 9th 19:50 minus 3 days) on.
INSERT INTO mv_shop.interactions
SELECT customer_id, journey_id, channel, occurred_at + interval '1 day', phase,
	6 - satisfaction, effort, nps, NOT context_carried, issue_id, resolved
FROM mv_shop.interactions WHERE occurred_at >= '2024-04-09';
SELECT kpi, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0 ORDER BY kpi;
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT source, watermark, recomputed_from, full_rebuild FROM mv_kpi.kpi_refresh_state ORDER BY source;
SELECT kpi, kind, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT month, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM mv_kpi.experience_rating_monthly WHERE month = '2024-04-01';

-- 2. Late rows inside the window (two days before the watermark) and an
-- update of a recent row are picked up by the next refresh.
INSERT INTO mv_shop.interactions VALUES
	(7, 7, 'kiosk', '2024-04-08 09:00', 'decision', 1, 7, 0, false, NULL, false),
	(7, 7, 'kiosk', '2024-04-08 09:30', 'service', 2, 6, 3, false, 99, true);
UPDATE mv_shop.interactions SET satisfaction = 1 WHERE occurred_at = '2024-04-10 00:00';
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT kpi, kind, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT source, recomputed_from FROM mv_kpi.kpi_refresh_state ORDER BY source;

-- 3. Rows outside the window: a late contact in February and an update of a
-- March rating.  The incremental refresh does not see them (documented): the
-- February and March numbers stay as they were ...
INSERT INTO mv_shop.interactions VALUES
	(8, 8, 'kiosk', '2024-02-21 09:00', 'awareness', 1, 7, 0, false, NULL, false);
UPDATE mv_shop.interactions SET satisfaction = 5 WHERE occurred_at = '2024-03-15 00:00';
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT kpi, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0 ORDER BY kpi;
SELECT m.month, m.interactions AS materialized, p.interactions AS plain
FROM mv_kpi.experience_rating_monthly m JOIN mv_plain.experience_rating_monthly p USING (month)
WHERE m.interactions <> p.interactions;
-- ... until a refresh with a window that reaches back far enough ...
CALL omnikpi.refresh_kpi_views('mv_kpi', late_window => '60 days');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT source, recomputed_from, full_rebuild FROM mv_kpi.kpi_refresh_state ORDER BY source;
-- ... or a full rebuild.
UPDATE mv_shop.interactions SET satisfaction = 1 WHERE occurred_at = '2024-02-25 00:00';
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
CALL omnikpi.refresh_kpi_views('mv_kpi', full_rebuild => true);
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT source, recomputed_from, full_rebuild FROM mv_kpi.kpi_refresh_state ORDER BY source;

-- 4. Deleted rows inside the window, and a row without a time (left out
-- of both forms, as of every view: no NULL month).
DELETE FROM mv_shop.interactions WHERE occurred_at >= '2024-04-10 12:00';
INSERT INTO mv_shop.interactions VALUES (9, 9, 'web', NULL, 'loyalty', 3, NULL, 10, true, NULL, false);
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT month, interactions FROM mv_kpi.experience_rating_monthly WHERE month IS NULL;

-- 5. A refresh inside a transaction that rolls back leaves the previous
-- numbers in place.
INSERT INTO mv_shop.interactions VALUES (9, 9, 'store', '2024-04-10 11:00', 'loyalty', 5, NULL, 10, true, NULL, false);
BEGIN;
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
ROLLBACK;
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
-- A row dated in the future does not move the watermark, the newest time
-- up to now(): at now() it would leave every late row of a source that runs
-- behind out of the window.  The row itself is after the window's start,
-- so every refresh reads it, and a late contact two days before the
-- watermark is still picked up; once the row is gone, nothing differs.
INSERT INTO mv_shop.interactions VALUES (9, 9, 'web', now() + interval '1 year', 'loyalty', 3, NULL, 10, true, NULL, false);
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT source, watermark FROM mv_kpi.kpi_refresh_state ORDER BY source;
INSERT INTO mv_shop.interactions VALUES (9, 9, 'store', '2024-04-08 16:00', 'loyalty', 4, NULL, 9, true, NULL, false);
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
DELETE FROM mv_shop.interactions WHERE occurred_at > now();
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT source, watermark FROM mv_kpi.kpi_refresh_state ORDER BY source;
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;

-- 6. Days are cut in the time zone of the session that created the views,
-- recorded in kpi_refresh_state and written into the plain views, also when
-- a scheduler refreshes them from a session in UTC.  The plain views made
-- from a UTC session with time_zone => 'America/New_York' agree, whatever
-- the zone of the session that reads.
CREATE SCHEMA mv_kpi_ny;
CREATE SCHEMA mv_plain_ny;
SET timezone = 'America/New_York';
SELECT count(*) FILTER (WHERE status = 'materialized') AS materialized
FROM omnikpi.create_kpi_views('mv_kpi_ny', interactions => 'mv_shop.interactions', materialized => true);
SET timezone = 'UTC';
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('mv_plain_ny', interactions => 'mv_shop.interactions',
	time_zone => 'America/New_York');
INSERT INTO mv_shop.interactions VALUES (10, 10, 'app', '2024-04-11 02:00+00', 'loyalty', 5, NULL, 10, true, NULL, false);
CALL omnikpi.refresh_kpi_views('mv_kpi_ny');
CALL omnikpi.refresh_kpi_views('mv_kpi');
SELECT source, time_zone FROM mv_kpi_ny.kpi_refresh_state ORDER BY source;
SELECT count(*) FILTER (WHERE differing_rows > 0) AS kpis_differing_read_in_utc
FROM omnikpi.kpi_view_differences('mv_kpi_ny', 'mv_plain_ny');
SET timezone = 'Asia/Tokyo';
SELECT count(*) FILTER (WHERE differing_rows > 0) AS kpis_differing_read_in_tokyo
FROM omnikpi.kpi_view_differences('mv_kpi_ny', 'mv_plain_ny');
SET timezone = 'America/New_York';
-- The contact at 02:00 UTC on April 11th is on April 10th in New York.
SELECT 'New York' AS zone, day, interactions FROM mv_kpi_ny.interactions_daily
WHERE day >= '2024-04-10' AND channel = 'app' AND phase = 'loyalty'
UNION ALL
SELECT 'UTC', day, interactions FROM mv_kpi.interactions_daily
WHERE day >= '2024-04-10' AND channel = 'app' AND phase = 'loyalty' ORDER BY 1, 2;
SET timezone = 'UTC';
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;

-- 7. Only orders: the order KPIs are kept from the customer_orders entity
-- table, and refresh like the rest.
CREATE SCHEMA mv_orders;
SELECT view_name, status FROM omnikpi.create_kpi_views('mv_orders', orders => 'mv_shop.orders', materialized => true)
WHERE status NOT LIKE 'skipped%' ORDER BY view_name;
CALL omnikpi.refresh_kpi_views('mv_orders');
SELECT month, channel, orders, returns FROM mv_orders.returns_by_channel_monthly ORDER BY 1, 2;
-- The orders' watermark is their newest ordered_at, not the newest of an
-- order's times: order 1's return on March 20th, nine days after the newest
-- order, does not move the window past an order placed two days after the
-- newest one that arrives late ...
INSERT INTO mv_shop.orders VALUES (3, 3, 'web', '2024-03-13 12:00', 60.00, 'delivery', NULL, NULL, NULL, NULL);
CALL omnikpi.refresh_kpi_views('mv_kpi');
CALL omnikpi.refresh_kpi_views('mv_orders');
SELECT source, watermark FROM mv_kpi.kpi_refresh_state ORDER BY source;
SELECT kpi, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0 ORDER BY kpi;
SELECT month, channel, orders, returns FROM mv_orders.returns_by_channel_monthly ORDER BY 1, 2;
-- ... and an order is still read again when any of its times is in the
-- window: order 2, placed and collected before the window of a refresh with
-- a one-hour late window (from March 13th), by the return it gets now.
UPDATE mv_shop.orders SET returned_at = '2024-03-14 09:00', return_channel = 'store' WHERE order_id = 2;
CALL omnikpi.refresh_kpi_views('mv_kpi', late_window => '1 hour');
SELECT source, recomputed_from FROM mv_kpi.kpi_refresh_state WHERE source = 'orders';
SELECT kpi, differing_rows FROM pg_temp.comparison WHERE differing_rows > 0 ORDER BY kpi;

-- 8. Errors, each with its SQLSTATE.
CALL omnikpi.refresh_kpi_views(NULL);
\echo :LAST_ERROR_SQLSTATE
CALL omnikpi.refresh_kpi_views('mv_kpi', full_rebuild => NULL);
\echo :LAST_ERROR_SQLSTATE
CALL omnikpi.refresh_kpi_views('mv_kpi', late_window => NULL);
\echo :LAST_ERROR_SQLSTATE
CALL omnikpi.refresh_kpi_views('mv_kpi', late_window => '-1 day');
\echo :LAST_ERROR_SQLSTATE
CALL omnikpi.refresh_kpi_views('no_such_schema');
\echo :LAST_ERROR_SQLSTATE
CALL omnikpi.refresh_kpi_views('mv_plain');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('mv_kpi', interactions => 'mv_shop.interactions', materialized => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.kpi_view_differences('mv_kpi', NULL);
\echo :LAST_ERROR_SQLSTATE
-- A rating outside the scale fails the refresh as it fails the plain view,
-- and the refresh leaves the previous numbers in place.
INSERT INTO mv_shop.interactions VALUES (1011, 1011, 'web', '2024-04-11 10:00', 'loyalty', 9, NULL, NULL, true, NULL, false);
CALL omnikpi.refresh_kpi_views('mv_kpi');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM mv_plain.experience_rating_monthly;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM mv_shop.interactions WHERE customer_id = 1011;
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;

-- 9. Creating again replaces the materialized form; creating the plain form
-- over it turns the KPI and entity tables back into views and removes the
-- summary tables and the state; and back again.
CREATE VIEW pg_temp.materialized_form AS
SELECT o.kind, c.relkind, count(*) FROM omnikpi.kpi_objects('mv_kpi') o JOIN pg_class c ON c.oid = o.relation
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) FILTER (WHERE status = 'materialized') AS materialized
FROM omnikpi.create_kpi_views('mv_kpi', interactions => 'mv_shop.interactions', orders => 'mv_shop.orders',
	materialized => true);
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;
SELECT count(*) FILTER (WHERE status = 'materialized') AS materialized
FROM omnikpi.create_kpi_views('mv_kpi', interactions => 'mv_shop.interactions', orders => 'mv_shop.orders');
SELECT * FROM pg_temp.materialized_form;
SELECT count(*) FILTER (WHERE status = 'materialized') AS materialized
FROM omnikpi.create_kpi_views('mv_kpi', interactions => 'mv_shop.interactions', orders => 'mv_shop.orders',
	materialized => true);
SELECT * FROM pg_temp.materialized_form;
SELECT count(*) AS kpis_differing FROM pg_temp.comparison WHERE differing_rows > 0;

-- 10. drop_kpi_views removes the KPI, entity and summary tables and the
-- state with the rest, and leaves the user's own objects, even a copy of
-- the state under a name alike.
CREATE TABLE mv_kpi.my_table (x int);
CREATE MATERIALIZED VIEW mv_kpi.my_matview AS SELECT 1 AS one;
CREATE TABLE mv_kpi_ny.kpi_refresh_state_copy AS SELECT * FROM mv_kpi_ny.kpi_refresh_state;
SELECT * FROM omnikpi.drop_kpi_views('mv_kpi')
WHERE view_name IN (SELECT view_name FROM omnikpi.kpi_materialized_views)
   OR view_name IN ('interactions_daily', 'customer_profiles', 'kpi_refresh_state', 'source_interactions', 'source_orders')
ORDER BY 1;
SELECT relname, relkind FROM pg_class WHERE relnamespace = 'mv_kpi'::regnamespace ORDER BY relname;
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('mv_kpi_ny');
SELECT relname FROM pg_class WHERE relnamespace = 'mv_kpi_ny'::regnamespace ORDER BY relname;
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('mv_plain');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('mv_orders');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('mv_plain_ny');
SELECT count(*) AS left_in_mv_plain_and_mv_orders FROM pg_class
WHERE relnamespace IN ('mv_plain'::regnamespace, 'mv_orders'::regnamespace, 'mv_plain_ny'::regnamespace);
DROP SCHEMA mv_kpi, mv_kpi_ny, mv_plain, mv_plain_ny, mv_orders, mv_shop CASCADE;
