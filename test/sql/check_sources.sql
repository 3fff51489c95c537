-- check_sources: every problem class of omnikpi.source_checks found in
-- small tables built to have each once (row, value and cross checks, with
-- journey ids and without), nothing found in clean data, a translation
-- making a value known, at most 20 values per problem listed, and the
-- WARNING summary create_kpi_views gives from a sample.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\pset null '(null)'

CREATE SCHEMA cs_shop;
CREATE TABLE cs_shop.interactions (customer_id int, journey_id int, channel text, occurred_at timestamptz, phase text,
	satisfaction float8, effort float8, nps int, context_carried bool, issue_id int, resolved bool);
INSERT INTO cs_shop.interactions VALUES
	(1, 1, 'web', '2026-01-05', 'awareness', 5, 2, 9, true, NULL, false),
	-- no customer; phase "Browse"; rating 6 (scale 1 to 5), effort 9 (1 to 7), NPS 11
	(NULL, 1, 'app', '2026-01-06', 'Browse', 6, 9, 11, true, NULL, false),
	-- no channel, a blank one
	(2, 2, NULL, '2026-01-07', 'decision', 4, 2, 8, true, NULL, false),
	(2, 2, '  ', '2026-01-08', 'decision', 4, 2, 8, true, NULL, false),
	-- a channel in none of the lists, twice spelled; no time, a time in 2099
	(3, 3, 'Web Shop', NULL, 'decision', 4, NULL, NULL, false, NULL, false),
	(3, 3, 'web shop', '2099-01-01', 'loyalty', 3, NULL, NULL, false, NULL, false);
CREATE TABLE cs_shop.orders (order_id int, customer_id int, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text, ready_at timestamptz, collected_at timestamptz, returned_at timestamptz, return_channel text);
INSERT INTO cs_shop.orders VALUES
	-- ready an hour before it was placed, collected an hour before it was ready
	(1, 1, 'web', '2026-01-10 10:00', 20, 'bopis', '2026-01-10 09:00', '2026-01-10 08:00', NULL, NULL),
	-- the same order id again; returned before it was placed; 'Click & Collect' untranslated
	(1, 2, 'store', '2026-01-11', 30, 'Click & Collect', NULL, NULL, '2026-01-09', 'Kiosk '),
	-- a customer without interactions, a channel and a fulfillment in no list
	(2, 9, 'marketplace', '2026-01-12', 10, 'curbside', NULL, NULL, NULL, NULL),
	-- no order id
	(NULL, 1, 'web', '2026-01-13', 5, 'delivery', NULL, NULL, NULL, NULL);
CREATE TABLE cs_shop.touchpoints (journey_id int, customer_id int, channel text, touched_at timestamptz, cost numeric);
INSERT INTO cs_shop.touchpoints VALUES
	(1, 1, 'email', '2026-01-01', 1),
	(1, 1, 'web', '2026-01-20', 1),		-- after journey 1's conversion on January 10th
	(NULL, 1, 'social', '2026-01-02', 1),	-- no journey id
	(2, 2, 'TikTok', '2026-01-03', 1);	-- a channel in no list; after journey 2's conversion
CREATE TABLE cs_shop.conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO cs_shop.conversions VALUES
	(1, '2026-01-10', 100), (1, '2026-01-10', 100),	-- the same conversion twice
	(5, '2026-01-15', 20),		-- a journey without touches
	(2, '2025-12-01', 10),		-- before journey 2's only touch
	(NULL, '2026-01-16', 5);	-- no journey id

-- 1. Every problem, per source, row and value checks first (one query per
-- source), then the cross checks.  Conversions without a touch in their
-- path: journey 5 (no touches), journey 2 (its touch comes after), the one
-- without a journey id; journey 1's two rows each have the email touch.
SELECT source, column_name, problem, rows, example FROM omnikpi.check_sources(
	interactions => 'cs_shop.interactions', orders => 'cs_shop.orders', touchpoints => 'cs_shop.touchpoints',
	conversions => 'cs_shop.conversions');
-- Each problem comes with its fix.
SELECT source, column_name, fix FROM omnikpi.check_sources(interactions => 'cs_shop.interactions',
	orders => 'cs_shop.orders', touchpoints => 'cs_shop.touchpoints', conversions => 'cs_shop.conversions')
WHERE column_name IN ('channel', 'phase', 'fulfillment', 'satisfaction') ORDER BY source, column_name, fix;

-- 2. A translation, a wider scale and another channel list make those
-- problems go: 'Browse' is a phase, 6 a rating, 'Web Shop' and 'marketplace'
-- channels, 'Click & Collect' bopis.
SELECT source, column_name, problem FROM omnikpi.check_sources(
	interactions => 'cs_shop.interactions', orders => 'cs_shop.orders',
	translations => '{"phase": {"Browse": "awareness"}, "fulfillment": {"Click & Collect": "bopis"},
					  "channel": {"Web Shop": "web"}}',
	online_channels => '{web,app,marketplace}', rating_scale_min => 0, rating_scale_max => 10)
WHERE column_name IN ('phase', 'satisfaction', 'channel', 'fulfillment');

-- 3. Without journey ids: paths from customer and time.  Customer 7
-- converts without any touch, customer 8 with a touch 40 days before (out
-- of the 30-day lookback); one touch has no customer.
CREATE TABLE cs_shop.touches (customer_id int, channel text, touched_at timestamptz);
INSERT INTO cs_shop.touches VALUES (8, 'email', '2026-01-01'), (NULL, 'web', '2026-01-02'), (9, 'web', '2026-01-03');
CREATE TABLE cs_shop.orders_by_customer (customer_id int, converted_at timestamptz, value numeric);
INSERT INTO cs_shop.orders_by_customer VALUES (7, '2026-02-01', 10), (8, '2026-02-10', 20), (9, '2026-01-04', 30);
SELECT source, column_name, problem, rows, example FROM omnikpi.check_sources(
	touchpoints => 'cs_shop.touches', conversions => 'cs_shop.orders_by_customer');
-- With a lookback of 60 days customer 8's touch counts.
SELECT source, column_name, problem, rows, example FROM omnikpi.check_sources(
	touchpoints => 'cs_shop.touches', conversions => 'cs_shop.orders_by_customer', lookback => '60 days')
WHERE column_name = 'converted_at';

-- 4. Clean data: nothing to report.
CREATE TABLE cs_shop.clean (customer_id int, channel text, occurred_at timestamptz, satisfaction int);
INSERT INTO cs_shop.clean VALUES (1, 'web', '2026-01-01', 5), (2, 'Store', '2026-01-02', 1);
SELECT count(*) AS problems FROM omnikpi.check_sources(interactions => 'cs_shop.clean');

-- 5. At most the 20 commonest values of one problem are listed, the last
-- saying how many more there are.
CREATE TABLE cs_shop.many_phases AS
SELECT g AS customer_id, 'web' AS channel, timestamptz '2026-01-01' AS occurred_at, 'stage ' || g % 25 AS phase
FROM generate_series(1, 100 + 25) g;
SELECT column_name, problem, rows FROM omnikpi.check_sources(interactions => 'cs_shop.many_phases')
ORDER BY rows DESC, problem LIMIT 3;
SELECT count(*) AS listed, max(problem) FILTER (WHERE problem LIKE '%more values%') AS last
FROM omnikpi.check_sources(interactions => 'cs_shop.many_phases');

-- 6. create_kpi_views runs the row and value checks on a sample (here all
-- of the rows) and raises what they find as one WARNING; the views are made.
CREATE SCHEMA cs_kpi;
SET client_min_messages = warning;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('cs_kpi', interactions => 'cs_shop.interactions',
	orders => 'cs_shop.orders');
RESET client_min_messages;
-- A mapping problem is an error before any check reads the data.
SELECT count(*) FROM omnikpi.check_sources(interactions => 'cs_shop.interactions',
	columns => '{"interactions": {"channel": "chanel"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM omnikpi.check_sources();
\echo :LAST_ERROR_SQLSTATE
-- check_sources leaves no temporary view behind.
SELECT count(*) AS temporary_views FROM pg_class WHERE relnamespace = pg_my_temp_schema();

SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('cs_kpi');
DROP SCHEMA cs_kpi, cs_shop CASCADE;
