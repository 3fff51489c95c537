-- KPI views: create_kpi_views over a small hand-built company, every view's
-- numbers checked against values worked out by hand in the comments; column
-- mapping with odd names, an injection attempt, row-level security through
-- security_invoker, errors, and drop_kpi_views removing exactly what it made.
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE SCHEMA shop;
CREATE TABLE shop.interactions (customer_id int, journey_id int, channel text, occurred_at timestamptz,
	phase text, satisfaction float8, effort float8, nps int, context_carried bool, issue_id int, resolved bool);
INSERT INTO shop.interactions VALUES
	-- customer 1, journey 10: researches on web and app, buys in store
	(1, 10, 'web', '2026-01-05', 'awareness', 5, 2, 10, false, NULL, false),
	(1, 10, 'app', '2026-01-06', 'consideration', 4, 3, 9, true, NULL, false),
	(1, 10, 'store', '2026-01-08', 'decision', 3, 4, 7, true, NULL, false),
	-- customer 2, journey 20: store visits, then a service issue from call center to chat
	(2, 20, 'store', '2026-01-10', 'awareness', 2, 5, 3, false, NULL, false),
	(2, 20, 'store', '2026-01-12', 'decision', 4, 2, 8, false, NULL, false),
	(2, 20, 'call_center', '2026-01-20', 'service', 1, 6, 0, false, 100, false),
	(2, 20, 'chat', '2026-01-21', 'service', 5, 1, 10, true, 100, true),
	-- February: customer 3 without a journey, customer 1 starts journey 11, unrated
	(3, NULL, 'web', '2026-02-03', 'service', 4, 2, 9, true, 200, true),
	(1, 11, 'web', '2026-02-10', 'awareness', NULL, NULL, NULL, false, NULL, false);
CREATE TABLE shop.orders (order_id int, customer_id int, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text, ready_at timestamptz, collected_at timestamptz, returned_at timestamptz, return_channel text);
INSERT INTO shop.orders VALUES
	(1, 1, 'store', '2026-01-08 12:00', 120.00, 'in_store', NULL, NULL, '2026-01-20', 'web'),
	(2, 2, 'web', '2026-01-11 10:00', 80.00, 'bopis', '2026-01-11 14:00', '2026-01-12 10:00', NULL, NULL),
	(3, 3, 'web', '2026-02-05', 40.00, 'delivery', NULL, NULL, '2026-02-10', 'web'),
	(4, 2, 'store', '2026-01-12 12:00', 60.00, 'in_store', NULL, NULL, NULL, NULL);
CREATE TABLE shop.touchpoints (journey_id int, customer_id int, channel text, touched_at timestamptz, cost numeric);
INSERT INTO shop.touchpoints VALUES
	(10, 1, 'email', '2026-01-01', 1.00), (10, 1, 'social', '2026-01-03', 2.00), (10, 1, 'web', '2026-01-05', 0.50),
	(20, 2, 'social', '2026-01-09', 2.00),
	(30, 4, 'email', '2026-01-15', 1.00);
CREATE TABLE shop.conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO shop.conversions VALUES (10, '2026-01-08', 120), (20, '2026-01-12', 60);

CREATE SCHEMA kpi;
SELECT * FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions', orders => 'shop.orders',
									   touchpoints => 'shop.touchpoints', conversions => 'shop.conversions');

-- Experience rating, January, scale 1..5: web 5 -> 100, app 4 -> 75, store (3, 2, 4) -> 50,
-- call_center 1 -> 0, chat 5 -> 100; (100 + 75 + 50 + 0 + 100) / 5 = 65.
-- February: web (4 and an unrated contact) -> 75, one channel, two contacts.
SELECT month, round(rating_pct::numeric, 6) AS rating_pct, target_pct, channels, interactions
FROM kpi.experience_rating_monthly ORDER BY month;
SELECT month, channel, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM kpi.experience_rating_by_channel_monthly ORDER BY month, channel;
-- By phase, January: awareness web 100, store 25 -> 62.5; consideration app 75;
-- decision store (3, 4) -> 62.5; service call_center 0, chat 100 -> 50.
SELECT month, phase, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM kpi.experience_rating_by_phase_monthly ORDER BY month, phase;

-- Integration index, Q1: context carried on web 1 of 3, app 1 of 1, store 1 of 3,
-- call_center 0 of 1, chat 1 of 1 -> (33.33 + 100 + 33.33 + 0 + 100) / 5 = 53.333333.
SELECT quarter, round(integration_index::numeric, 6) AS integration_index, target, channels
FROM kpi.integration_index_quarterly;
SELECT quarter, channel, round(integration_score::numeric, 6) AS integration_score, interactions
FROM kpi.integration_index_by_channel_quarterly ORDER BY channel;

-- CSAT, CES, NPS; January store: ratings 3, 2, 4 -> mean 3, top-2-box (4 or 5) 1 of 3;
-- effort 4, 5, 2 -> 3.666667; NPS answers 7, 3, 8 -> 0% promoters, 33.3% detractors, NPS -33.3.
SELECT month, channel, csat_responses, round(csat_mean::numeric, 6) AS csat_mean,
	   round(csat_top2_pct::numeric, 6) AS csat_top2_pct, ces_responses, round(ces_mean::numeric, 6) AS ces_mean,
	   nps_responses, round(promoters_pct::numeric, 6) AS promoters_pct,
	   round(detractors_pct::numeric, 6) AS detractors_pct, round(nps::numeric, 6) AS nps
FROM kpi.satisfaction_by_channel_monthly ORDER BY month, channel;

-- Issues: 100 opens on call_center (not resolved), resolved on chat: 2 contacts, no
-- first-contact resolution.  200 opens and is resolved on web in February: 1 contact, 100%.
SELECT month, channel, issues, resolved_issues, interactions_per_resolved_issue, first_contact_resolution_pct
FROM kpi.resolution_by_channel_monthly ORDER BY month, channel;

-- Switching, January: journey 10 web -> app -> store (2 switches, both with context),
-- journey 20 store -> store -> call_center -> chat (2 switches, 1 with context);
-- 2 switches per journey, both journeys multichannel, issue 100 has 1 switch;
-- context carried on 3 of 4 switches = 75%.  February: journey 11 has one contact.
SELECT month, journeys, switches_per_journey, multichannel_journey_pct, issues, switches_per_issue,
	   context_carried_switch_pct
FROM kpi.channel_switching_monthly ORDER BY month;
-- Transitions, January: out of store, one stay and one move to call_center (50% each).
SELECT month, from_channel, to_channel, transitions, share_pct
FROM kpi.channel_transitions_monthly ORDER BY month, from_channel, to_channel;

-- Funnel, January: journey 10 reaches decision, journey 20 service: 2, 2, 2, 1, 0
-- (drop-off 50% into service, 100% into loyalty).  February: journey 11 stops at awareness.
SELECT month, phase, phase_order, journeys, reached_pct, dropoff_pct
FROM kpi.journey_funnel_monthly ORDER BY month, phase_order;

-- Depth: customers 1 and 2 used 3 channels (revenue 120 and 140 -> 130 each), customer 3
-- one channel (40).  Everyone was active within 90 days of the last contact (Feb 10).
SELECT channel_depth, customers, retained_pct, churned_pct, revenue_per_customer
FROM kpi.engagement_depth ORDER BY channel_depth;
-- Churn (active = a contact in the 90 days up to the month's end): January 1 and 2
-- are new; February 1 and 2 are still active (retained), 3 is new: 100% / 0%.
SELECT * FROM kpi.churn_retention_monthly ORDER BY month;

-- Conversion, January journeys 10 (email, social, web; converted), 20 (social; converted),
-- 30 (email; not): email 1 of 2, social 2 of 2, web 1 of 1.
SELECT month, channel, journeys, converted_journeys, conversion_rate_pct
FROM kpi.conversion_by_channel_monthly ORDER BY month, channel;

-- Attribution, January.  Journey 10 touches email, social, web before converting on
-- Jan 8 (value 120); journey 20 one social touch (value 60) takes all the credit.
--   linear: email 1/3, social 1/3 + 1, web 1/3;  position_based: 0.4, 0.2 + 1, 0.4;
--   j_curve: 0.2, 0.2 + 1, 0.6;  inverse_j: 0.6, 0.2 + 1, 0.2;
--   time_decay (7 days; 7, 5, 3 days before): weights 0.5, 0.609507, 0.742997,
--   total 1.852504 -> 0.269905, 0.329018 + 1, 0.401077.
-- Touch cost in January: email 2.00 (journeys 10 and 30), social 4.00, web 0.50;
-- e.g. linear cost per acquisition of email = 2 / (1/3) = 6.
SELECT month, channel, model, round(attributed_conversions::numeric, 6) AS conversions,
	   round(attributed_value::numeric, 4) AS value, touch_cost, round(cost_per_acquisition::numeric, 4) AS cpa
FROM kpi.attribution_by_channel_monthly ORDER BY model, channel;
-- Every model hands out exactly the two conversions and their value of 180.
SELECT model, round(sum(attributed_conversions)::numeric, 9) AS conversions,
	   round(sum(attributed_value)::numeric, 6) AS value
FROM kpi.attribution_by_channel_monthly GROUP BY model ORDER BY model;

-- Data-driven attribution, January.  The month's journeys: email>social>web
-- converted (value 120; the touches up to Jan 8), social converted (60), and
-- journey 30, email, did not convert.  Last touch: web 1 (120), social 1 (60).
-- Markov, order 1: start -> email 2/3, start -> social 1/3, email -> social 1/2,
-- email -> (null) 1/2, social -> web 1/2, social -> (conversion) 1/2, web ->
-- (conversion) 1.  P(conversion) from web 1, social 1/2 + 1/2 = 1, email 1/2,
-- start 2/3 * 1/2 + 1/3 = 2/3.  Without email: start 1/3 -> removal effect
-- 1 - (1/3)/(2/3) = 1/2; without social: 0 -> 1; without web: social 1/2, email
-- 1/4, start 1/3 -> 1/2.  Conversions in proportion 1/2 : 1 : 1/2 of 2: email
-- 0.5, social 1, web 0.5.  Expected value: web 120, social 120/2 + 60/2 = 90,
-- email 45, start 60; without email 30 (1/2), without social 0 (1), without web
-- social 30, email 15, start 20 (2/3): value 180 in proportion 3 : 6 : 4, i.e.
-- email 41.538462, social 83.076923, web 55.384615.
SELECT month, channel, round(removal_effect::numeric, 6) AS removal_effect,
	   round(attributed_conversions::numeric, 6) AS conversions, round(attributed_value::numeric, 6) AS value,
	   round(share_pct::numeric, 6) AS share_pct, last_touch_conversions, last_touch_value
FROM kpi.attribution_markov_monthly ORDER BY month, channel;
-- Shapley, characteristic conversions: each conversion split over its distinct
-- channels: email 1/3, social 1/3 + 1, web 1/3; value 40, 40 + 60, 40.
-- Characteristic conversion_rate: v(e) = 0/1, v(s) = 1/1, v(w) = 0 (no journey),
-- v(es) = 1/2, v(ew) = 0/1, v(sw) = 1/1, v(esw) = 2/3;
--   phi_e = 1/6 * (1/2 - 1) + 1/3 * (2/3 - 1) = -7/36,
--   phi_s = 1/3 * 1 + 1/6 * (1/2 + 1) + 1/3 * 2/3 = 29/36,
--   phi_w = 1/3 * (2/3 - 1/2) = 1/18;
-- times 3 journeys: email -0.583333, social 2.416667, web 0.166667 (sum 2).
-- Value per journey: v(s) = 60, v(es) = 30, v(sw) = 60, v(esw) = 60, others 0:
-- phi = -5, 55, 10, times 3: email -15, social 165, web 30 (sum 180).
SELECT month, channel, characteristic, round(attributed_conversions::numeric, 6) AS conversions,
	   round(attributed_value::numeric, 6) AS value, round(share_pct::numeric, 6) AS share_pct,
	   last_touch_conversions, last_touch_value
FROM kpi.attribution_shapley_monthly ORDER BY month, characteristic, channel;
-- Fractribution: p(email>social>web) = 1, and none of its counterfactuals
-- (social>web, email>web, email>social) was observed: marginals 1, 1, 1, a third
-- each; social alone gets its own conversion: email 1/3, social 4/3, web 1/3.
SELECT month, channel, round(attributed_conversions::numeric, 6) AS conversions,
	   round(attributed_value::numeric, 6) AS value, round(share_pct::numeric, 6) AS share_pct,
	   last_touch_conversions, last_touch_value
FROM kpi.attribution_fractribution_monthly ORDER BY month, channel;
-- Every data-driven model hands out exactly the two conversions and their 180.
SELECT 'markov' AS model, round(sum(attributed_conversions)::numeric, 9) AS conversions,
	   round(sum(attributed_value)::numeric, 6) AS value, round(sum(share_pct)::numeric, 6) AS share_pct
FROM kpi.attribution_markov_monthly
UNION ALL
SELECT 'shapley ' || characteristic, round(sum(attributed_conversions)::numeric, 9),
	   round(sum(attributed_value)::numeric, 6), round(sum(share_pct)::numeric, 6)
FROM kpi.attribution_shapley_monthly GROUP BY characteristic
UNION ALL
SELECT 'fractribution', round(sum(attributed_conversions)::numeric, 9), round(sum(attributed_value)::numeric, 6),
	   round(sum(share_pct)::numeric, 6)
FROM kpi.attribution_fractribution_monthly
ORDER BY model;

-- ROPO, January: store order 1 (customer 1 used web and app within 14 days before) is
-- researched online, store order 4 (customer 2, no online contact) is not: 50%.
-- Online order 2 (customer 2 was in store the day before) is showroomed: 100%.
-- February: online order 3, no store contact: 0%.
SELECT * FROM kpi.ropo_monthly ORDER BY month;

-- Fulfillment: order 2 is BOPIS, ready 4 hours after ordering, collected 20 hours later.
SELECT month, channel, orders, bopis_orders, bopis_share_pct, click_to_collect_median_hours,
	   click_to_collect_p90_hours, pickup_wait_median_hours
FROM kpi.fulfillment_by_channel_monthly ORDER BY month, channel;
-- Returns: order 1 bought in store, returned on web (cross-channel); order 3 bought and
-- returned on web.
SELECT * FROM kpi.returns_by_channel_monthly ORDER BY month, channel;

-- Every view and every column has a comment; the views run with the reader's rights.
SELECT count(*) AS views,
	   count(*) FILTER (WHERE obj_description(c.oid, 'pg_class') IS NULL) AS views_without_comment,
	   count(*) FILTER (WHERE c.reloptions @> '{security_invoker=true}') AS security_invoker
FROM pg_class c WHERE c.relnamespace = 'kpi'::regnamespace AND c.relkind = 'v';
SELECT c.relname, a.attname AS column_without_comment
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'kpi'::regnamespace AND c.relkind = 'v' AND col_description(c.oid, a.attnum) IS NULL;
SELECT obj_description('kpi.experience_rating_monthly'::regclass, 'pg_class');

-- Idempotent: a second call replaces the views and gives the same numbers.
SELECT count(*) AS created FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions',
	orders => 'shop.orders', touchpoints => 'shop.touchpoints', conversions => 'shop.conversions')
WHERE status = 'created';
SELECT round(rating_pct::numeric, 6) FROM kpi.experience_rating_monthly ORDER BY month;

-- Only some sources: the views that need the others are skipped, and the call says so.
CREATE SCHEMA kpi_orders_only;
SELECT * FROM omnikpi.create_kpi_views('kpi_orders_only', orders => 'shop.orders') ORDER BY view_name;

-- Row-level security reaches through the views: a reader who may not see chat
-- contacts gets the January rating without chat, (100 + 75 + 50 + 0) / 4 = 56.25.
CREATE ROLE omnikpi_reader;
GRANT USAGE ON SCHEMA shop, kpi TO omnikpi_reader;
GRANT SELECT ON shop.interactions TO omnikpi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA kpi TO omnikpi_reader;
ALTER TABLE shop.interactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY no_chat ON shop.interactions FOR SELECT TO omnikpi_reader USING (channel <> 'chat');
SET ROLE omnikpi_reader;
SELECT month, rating_pct FROM kpi.experience_rating_monthly ORDER BY month;
-- and without a grant on the source table, no numbers at all
SELECT count(*) FROM kpi.returns_by_channel_monthly;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
ALTER TABLE shop.interactions DISABLE ROW LEVEL SECURITY;
-- Roles outlive the test database: drop it, or the next run cannot create it.
DROP OWNED BY omnikpi_reader;
DROP ROLE omnikpi_reader;

-- Odd names: a table and columns that need quoting, mapped by name.
CREATE TABLE shop."Contact Log" ("Cust #" int, "Trip" int, "Chan""nel" text, "When?" date, "Stage" text,
	"CSAT (1-5)" numeric(3, 1), "Effort" int, "NPS" smallint, "Had context" bool, "Case" int, "Done" bool);
INSERT INTO shop."Contact Log" SELECT customer_id, journey_id, channel, occurred_at::date, phase, satisfaction,
	effort, nps, context_carried, issue_id, resolved FROM shop.interactions;
CREATE SCHEMA "Odd ""KPI"" Schema";
SELECT count(*) AS created FROM omnikpi.create_kpi_views('Odd "KPI" Schema', interactions => 'shop."Contact Log"',
	columns => '{"interactions": {"customer_id": "Cust #", "journey_id": "Trip", "channel": "Chan\"nel",
	  "occurred_at": "When?", "phase": "Stage", "satisfaction": "CSAT (1-5)", "effort": "Effort", "nps": "NPS",
	  "context_carried": "Had context", "issue_id": "Case", "resolved": "Done"}}')
WHERE status = 'created';
SELECT month, round(rating_pct::numeric, 6) AS rating_pct FROM "Odd ""KPI"" Schema".experience_rating_monthly ORDER BY month;

-- Injection attempts: a mapping value, a table name and a schema name full of SQL run nothing.
CREATE TABLE shop.victim (x int);
CREATE SCHEMA kpi_injection;
SELECT * FROM omnikpi.create_kpi_views('kpi_injection', interactions => 'shop.interactions',
	columns => '{"interactions": {"channel": "channel\"; DROP TABLE shop.victim; --"}}');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE shop."x; DROP TABLE shop.victim; --" (LIKE shop.orders);
SELECT count(*) AS created FROM omnikpi.create_kpi_views('kpi_injection', orders => 'shop."x; DROP TABLE shop.victim; --"')
WHERE status = 'created';
SELECT * FROM omnikpi.create_kpi_views('kpi"; DROP TABLE shop.victim; --', orders => 'shop.orders');
\echo :LAST_ERROR_SQLSTATE
SELECT 'shop.victim'::regclass AS still_there;

-- Errors, and nothing is created when the mapping is wrong.
CREATE SCHEMA kpi_errors;
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions',
	columns => '{"interactions": {"channel": "chanel"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions',
	columns => '{"interactions": {"satisfaction": "channel"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions',
	columns => '{"interactions": {"occurred_at": "nps"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions',
	columns => '{"interactions": {"satisfation": "satisfaction"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions', columns => '{"sales": {}}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('no_such_schema', orders => 'shop.orders');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('kpi_errors', interactions => 'shop.interactions', rating_scale_min => 5, rating_scale_max => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS views_in_kpi_errors FROM pg_class WHERE relnamespace = 'kpi_errors'::regnamespace;

-- drop_kpi_views removes what create_kpi_views made and leaves the user's own views.
CREATE VIEW kpi.my_own_view AS SELECT 1 AS one;
SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('kpi');
SELECT relname FROM pg_class WHERE relnamespace = 'kpi'::regnamespace;
SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('Odd "KPI" Schema');
