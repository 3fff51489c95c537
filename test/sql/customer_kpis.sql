-- The three customer KPIs: retention_by_channel_combination,
-- customer_lifetime_value and time_by_channel_monthly, hand-computed on five
-- customers, plain and materialized, with their comments.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

CREATE SCHEMA ck_shop;
CREATE TABLE ck_shop.interactions (customer_id integer, journey_id integer, channel text, occurred_at timestamptz,
	phase text, satisfaction double precision, effort double precision, nps integer, context_carried boolean,
	issue_id integer, resolved boolean, duration integer);
CREATE TABLE ck_shop.orders (order_id integer, customer_id integer, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text, ready_at timestamptz, collected_at timestamptz, returned_at timestamptz, return_channel text);
-- customer 1: web twice in January, store in February, two orders (150)
-- customer 2: app in February, no order
-- customer 3: store in October, one order (30)
-- customer 4: web, store and email in March, one order (200)
-- customer 5: web and store in November, one order (80)
-- The data ends 2026-03-31 12:00, so a customer is retained with a contact
-- after 2025-12-31 12:00 (90 days before): 1, 2 and 4.
INSERT INTO ck_shop.interactions (customer_id, channel, occurred_at, phase, duration) VALUES
	(1, 'web',   '2026-01-05 10:00', 'awareness', 300),
	(1, 'web',   '2026-01-06 10:00', 'decision',  420),
	(1, 'store', '2026-02-20 10:00', 'service',   600),
	(2, 'app',   '2026-02-01 10:00', 'awareness', NULL),
	(3, 'store', '2025-10-01 10:00', 'decision',  1200),
	(4, 'web',   '2026-03-10 10:00', 'awareness', 120),
	(4, 'store', '2026-03-11 10:00', 'decision',  900),
	(4, 'email', '2026-03-31 12:00', 'loyalty',   NULL),
	(5, 'web',   '2025-11-15 10:00', 'awareness', 180),
	(5, 'store', '2025-11-20 10:00', 'decision',  1800);
INSERT INTO ck_shop.orders (order_id, customer_id, channel, ordered_at, amount, fulfillment) VALUES
	(11, 1, 'web',   '2026-01-06 11:00', 100, 'delivery'),
	(12, 1, 'store', '2026-02-20 11:00', 50,  'in_store'),
	(31, 3, 'store', '2025-10-01 11:00', 30,  'in_store'),
	(41, 4, 'web',   '2026-03-11 11:00', 200, 'delivery'),
	(51, 5, 'store', '2025-11-20 11:00', 80,  'in_store');

CREATE SCHEMA ck_kpi;
CREATE SCHEMA ck_mat;
SET client_min_messages = warning;
SELECT count(*) FILTER (WHERE status = 'created') > 0 AS plain,
	(SELECT count(*) FILTER (WHERE status = 'materialized') > 0
	 FROM omnikpi.create_kpi_views('ck_mat', interactions => 'ck_shop.interactions', orders => 'ck_shop.orders',
								   time_zone => 'UTC', materialized => true)) AS materialized
FROM omnikpi.create_kpi_views('ck_kpi', interactions => 'ck_shop.interactions', orders => 'ck_shop.orders',
							  time_zone => 'UTC');
RESET client_min_messages;

-- Retention by channel combination:
--   store+web: customers 1 (retained) and 5 (churned): 50% / 50%, (150 + 80) / 2 = 115 per customer
--   app: customer 2, retained, no revenue
--   email+store+web: customer 4, retained, 200
--   store: customer 3, churned, 30
SELECT channel_combination, channel_count, customers, retained_pct, churned_pct, revenue_per_customer
FROM ck_kpi.retention_by_channel_combination ORDER BY channel_combination;

-- Customer lifetime value by acquisition channel and number of channels:
--   app, 1: customer 2: no orders, 0 per customer and per active month (1 month)
--   store, 1: customer 3: 30 over 1 month
--   web, 2: customers 1 (150, January and February) and 5 (80, November):
--     230 / 2 = 115 per customer, 230 / 3 months = 76.67 per active month
--   web, 3: customer 4: 200 over 1 month (March)
SELECT acquisition_channel, channel_depth, customers, orders, revenue, revenue_per_customer,
	round(revenue_per_active_month::numeric, 6) AS revenue_per_active_month
FROM ck_kpi.customer_lifetime_value ORDER BY acquisition_channel, channel_depth;

-- Time spent per channel and month (durations in seconds):
--   2026-01 web: 300 + 420 s = 0.2 h, 6 min per contact
--   2026-02 store: 600 s = 10 min; app: no duration (NULL, not 0)
--   2026-03 web 120 s = 2 min, store 900 s = 15 min, email no duration
--   2025-10 store 1200 s = 20 min; 2025-11 web 3 min, store 30 min
SELECT month, channel, interactions, timed_interactions, round(total_hours::numeric, 6) AS total_hours,
	round(mean_minutes::numeric, 6) AS mean_minutes
FROM ck_kpi.time_by_channel_monthly ORDER BY month, channel;

-- The materialized form holds the same rows, and keeps them after a new
-- contact (customer 2 on the web: app+web, acquisition app with 2 channels)
-- and a new order of customer 3 (revenue 30 + 70, still churned).
SELECT relation, differing_rows FROM omnikpi.kpi_view_differences('ck_mat', 'ck_kpi')
WHERE relation IN ('retention_by_channel_combination', 'customer_lifetime_value', 'time_by_channel_monthly')
ORDER BY relation;
INSERT INTO ck_shop.interactions (customer_id, channel, occurred_at, phase, duration) VALUES
	(2, 'web', '2026-03-30 09:00', 'decision', 240);
INSERT INTO ck_shop.orders (order_id, customer_id, channel, ordered_at, amount, fulfillment) VALUES
	(32, 3, 'web', '2026-03-30 10:00', 70, 'delivery');
CALL omnikpi.refresh_kpi_views('ck_mat');
SELECT relation, differing_rows FROM omnikpi.kpi_view_differences('ck_mat', 'ck_kpi')
WHERE relation IN ('retention_by_channel_combination', 'customer_lifetime_value', 'time_by_channel_monthly')
ORDER BY relation;
SELECT channel_combination, customers, retained_pct, revenue_per_customer
FROM ck_mat.retention_by_channel_combination ORDER BY channel_combination;
SELECT acquisition_channel, channel_depth, customers, revenue FROM ck_mat.customer_lifetime_value
ORDER BY acquisition_channel, channel_depth;

-- Every column of the three views, in both forms, has a comment.
SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented,
	count(*) FILTER (WHERE col_description(c.oid, a.attnum) IS NULL) AS columns_without_comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('ck_kpi', 'ck_mat')
  AND c.relname IN ('retention_by_channel_combination', 'customer_lifetime_value', 'time_by_channel_monthly')
GROUP BY 1, 2, 3 ORDER BY 1, 2;

SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('ck_kpi');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('ck_mat');
DROP SCHEMA ck_shop, ck_kpi, ck_mat CASCADE;
