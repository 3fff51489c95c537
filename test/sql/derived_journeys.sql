-- Journeys when the data has no journey ids.  Conversion paths from customer
-- and time (attribution_paths): the customer's touches within lookback
-- before each conversion and after the previous one, max_touches,
-- exclude_channels, the touches after the last conversion as a path that did
-- not convert; every attribution view over those paths, checked against
-- paths and credits worked out by hand.  Interaction journeys cut after an
-- inactivity gap (journey_gap).  With journey ids, the paths stay what the
-- ids say.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\pset null '(null)'
SET client_min_messages = warning;

CREATE SCHEMA dj_shop;
-- Marketing touches and orders keyed by customer and time only.
CREATE TABLE dj_shop.touches (customer_id int, channel text, touched_at timestamptz, cost numeric);
INSERT INTO dj_shop.touches VALUES
	-- customer 1: three conversions (May 10 12:00, May 20 12:00, July 1)
	(1, 'email', '2026-04-01 09:00', 1),		-- 39 days before the first conversion: outside lookback
	(1, 'social', '2026-04-15 09:00', 1),		-- 25 days before it
	(1, 'direct', '2026-05-01 09:00', 0),		-- within 30 days of the first and the second conversion
	(1, 'web', '2026-05-10 12:00', 1),			-- at the first conversion: its last touch
	(1, 'email', '2026-05-12 09:00', 1),
	(1, 'direct', '2026-05-15 09:00', 0),
	(1, 'web', '2026-05-19 09:00', 1),
	(1, 'social', '2026-06-20 09:00', 1),
	(1, 'app', '2026-06-25 09:00', 1),
	(1, 'web', '2026-07-05 09:00', 1),			-- after the last conversion, 46 days before the last touch
	(1, 'email', '2026-08-20 09:00', 1),		-- the last touch
	-- customer 2: a touch 65 days before the only conversion
	(2, 'web', '2026-03-01 09:00', 1),
	-- customer 3: touches, never a conversion
	(3, 'app', '2026-05-02 09:00', 1),
	(3, 'web', '2026-05-03 09:00', 1);
CREATE TABLE dj_shop.orders (customer_id int, converted_at timestamptz, value numeric);
INSERT INTO dj_shop.orders VALUES
	(1, '2026-05-10 12:00', 100), (1, '2026-05-20 12:00', 50), (1, '2026-07-01 09:00', 30),
	(2, '2026-05-05 09:00', 70);

-- 1. Defaults: lookback 30 days, every touch, no channel excluded.
-- Customer 1's cycles: the first conversion gets social, direct, web (the
-- April 1 email is 39 days before it); the second gets email, direct, web
-- (not the May 1 direct, which is within 30 days of it but belongs to the
-- first cycle, nor the web touch at the first conversion); the third gets
-- social, app; the touches after it are a path that did not convert, in
-- August, of email only (the July 5 web touch is 46 days before August 20).
-- Customer 2's conversion has no touch within 30 days: no path.  Customer
-- 3's touches are a path that did not convert, in May.
CREATE SCHEMA dj_kpi;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('dj_kpi', touchpoints => 'dj_shop.touches',
	conversions => 'dj_shop.orders');
SELECT customer_id, journey_id, cycle, converted, converted_at, value, month, channels
FROM dj_kpi.attribution_paths ORDER BY customer_id, cycle NULLS LAST;
SELECT customer_id, cycle, touch_times FROM dj_kpi.attribution_paths WHERE customer_id = 1 AND cycle = 2;

-- Rule-based, May: the paths social > direct > web (100) and email > direct >
-- web (50).  linear: direct 1/3 + 1/3, web 1/3 + 1/3, social 1/3, email 1/3;
-- values direct 100/3 + 50/3 = 50, web 50, social 33.333333, email 16.666667.
-- first_touch: social 1 (100), email 1 (50); last_touch: web 2 (150).
-- July: social > app (30): linear 1/2 each, 15 each.
SELECT month, channel, model, round(attributed_conversions::numeric, 6) AS conversions,
	round(attributed_value::numeric, 6) AS value
FROM dj_kpi.attribution_by_channel_monthly WHERE model IN ('linear', 'first_touch', 'last_touch')
ORDER BY month, model, channel;
-- touch_cost: the cost of all the channel's touches in the month, in a path
-- or not, beside the month's credits.  May: direct 0 + 0, email 1, web 1 + 1
-- + 1 (customer 3's too), social none; July's credits come from June
-- touches, so July has no cost.
SELECT month, channel, touch_cost FROM dj_kpi.attribution_by_channel_monthly
WHERE model = 'linear' ORDER BY month, channel;

-- Markov, May (paths social>direct>web and email>direct>web converted,
-- app>web not): P(conversion) = 2/3 from every state.  Removing web: 0, so
-- its removal effect is 1; removing direct leaves only app > web: 1/3 * 2/3
-- = 2/9, effect 1 - (2/9)/(2/3) = 2/3; removing social, email or app leaves
-- 4/9, effect 1/3 each.  Effects sum to 8/3: the 2 conversions go
-- web 0.75, direct 0.5, social, email and app 0.25 each.
SELECT month, channel, round(removal_effect::numeric, 6) AS removal_effect,
	round(attributed_conversions::numeric, 6) AS conversions, last_touch_conversions, last_touch_value
FROM dj_kpi.attribution_markov_monthly ORDER BY month, channel;
-- Shapley (conversions): each conversion split over its distinct channels:
-- May direct 2/3, web 2/3, social 1/3, email 1/3; app, which only appears on
-- a path that did not convert, 0.
SELECT month, channel, round(attributed_conversions::numeric, 6) AS conversions,
	round(attributed_value::numeric, 6) AS value
FROM dj_kpi.attribution_shapley_monthly WHERE characteristic = 'conversions' ORDER BY month, channel;
-- Every attribution view credits the same conversions and value per month:
-- May 2 and 150, July 1 and 30.
SELECT month, model, round(sum(attributed_conversions)::numeric, 9) AS conversions,
	round(sum(attributed_value)::numeric, 6) AS value
FROM (SELECT month, model, attributed_conversions, attributed_value FROM dj_kpi.attribution_by_channel_monthly
	  UNION ALL
	  SELECT month, 'markov', attributed_conversions, attributed_value FROM dj_kpi.attribution_markov_monthly
	  UNION ALL
	  SELECT month, 'shapley ' || characteristic, attributed_conversions, attributed_value
	  FROM dj_kpi.attribution_shapley_monthly
	  UNION ALL
	  SELECT month, 'fractribution', attributed_conversions, attributed_value
	  FROM dj_kpi.attribution_fractribution_monthly) a
GROUP BY 1, 2 ORDER BY 1, 2;
-- Conversion rate by the month of the path's first touch: April (customer
-- 1's first path starts April 15): social, direct, web 1 of 1; May: email,
-- direct, web (second path) 1 of 1, app and web of customer 3 0 of 1;
-- June: social, app 1 of 1; August: email 0 of 1.
SELECT month, channel, journeys, converted_journeys, conversion_rate_pct
FROM dj_kpi.conversion_by_channel_monthly ORDER BY month, channel;

-- 2. lookback, max_touches and exclude_channels: "last non-direct click"
-- over the latest two touches of 60 days.  Customer 1's first path is now
-- email (April 1), social, web, cut to its last two: social, web; the second
-- email, web; the third social, app; after it, web and email (July 5 is
-- within 60 days of August 20).  Customer 2's web touch is 65 days before
-- the conversion: still no path.
CREATE SCHEMA dj_last_non_direct;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('dj_last_non_direct', touchpoints => 'dj_shop.touches',
	conversions => 'dj_shop.orders', lookback => '60 days', max_touches => 2, exclude_channels => '{Direct}');
SELECT customer_id, cycle, converted, month, channels
FROM dj_last_non_direct.attribution_paths ORDER BY customer_id, cycle NULLS LAST;
-- Last touch over those paths: web 2 (150) in May, app 1 (30) in July.
SELECT month, channel, attributed_conversions, attributed_value
FROM dj_last_non_direct.attribution_by_channel_monthly WHERE model = 'last_touch' AND attributed_conversions > 0
ORDER BY month, channel;

-- 3. With journey ids the paths are the journeys' touches up to each
-- conversion, whatever lookback says: a touch 90 days before its journey's
-- conversion stays in, a touch after it is in no path.
CREATE TABLE dj_shop.journey_touches (journey_id int, customer_id int, channel text, touched_at timestamptz);
INSERT INTO dj_shop.journey_touches VALUES
	(7, 1, 'email', '2026-01-01'), (7, 1, 'web', '2026-03-30'), (7, 1, 'app', '2026-04-02'),
	(8, 2, 'social', '2026-03-15');
CREATE TABLE dj_shop.journey_conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO dj_shop.journey_conversions VALUES (7, '2026-04-01', 10);
CREATE SCHEMA dj_journeys;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('dj_journeys', touchpoints => 'dj_shop.journey_touches',
	conversions => 'dj_shop.journey_conversions', lookback => '1 day');
SELECT customer_id, journey_id, cycle, converted, month, channels FROM dj_journeys.attribution_paths ORDER BY journey_id;

-- 4. Interaction journeys without journey ids: a customer's journey ends
-- after more than journey_gap (default 7 days) without a contact.
-- Customer 1: web, app (8 hours later), store (4 days) | web (15 days) |
-- call_center (8 days), chat.  Customer 2: web, app exactly 7 days later
-- (same journey), store 7 days and 1 second later (a new one).
CREATE TABLE dj_shop.contacts (customer_id int, channel text, occurred_at timestamptz, phase text);
INSERT INTO dj_shop.contacts VALUES
	(1, 'web', '2026-03-01 10:00', 'awareness'), (1, 'app', '2026-03-01 18:00', 'consideration'),
	(1, 'store', '2026-03-05 10:00', 'decision'), (1, 'web', '2026-03-20 10:00', 'service'),
	(1, 'call_center', '2026-03-28 10:00', 'service'), (1, 'chat', '2026-03-29 10:00', 'service'),
	(2, 'web', '2026-04-01 00:00', 'awareness'), (2, 'app', '2026-04-08 00:00', 'consideration'),
	(2, 'store', '2026-04-15 00:00:01', 'decision');
CREATE SCHEMA dj_contacts;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('dj_contacts', interactions => 'dj_shop.contacts');
SELECT customer_id, journey_no, started_at, month, contacts, channels, phases
FROM dj_contacts.interaction_journeys ORDER BY customer_id, journey_no;
-- March: 3 journeys with 2, 0 and 1 switches (mean 1), 2 of 3 on 2+
-- channels; April: 2 journeys, 1 and 0 switches.
SELECT month, journeys, switches_per_journey, round(multichannel_journey_pct::numeric, 6) AS multichannel_journey_pct
FROM dj_contacts.channel_switching_monthly ORDER BY month;
SELECT month, from_channel, to_channel, transitions, share_pct
FROM dj_contacts.channel_transitions_monthly ORDER BY month, from_channel, to_channel;
-- Funnel, March: the three journeys reach decision, service, service.
SELECT month, phase, journeys FROM dj_contacts.journey_funnel_monthly WHERE month = '2026-03-01' ORDER BY phase_order;
-- A gap of one day: customer 1's first journey splits after the app
-- contact (3.6 days to the store visit); customer 2's contacts are three journeys.
CREATE SCHEMA dj_contacts_day;
SELECT count(*) > 0 AS created FROM omnikpi.create_kpi_views('dj_contacts_day', interactions => 'dj_shop.contacts',
	journey_gap => '1 day');
SELECT customer_id, journey_no, channels FROM dj_contacts_day.interaction_journeys ORDER BY customer_id, journey_no;
-- Errors.
SELECT * FROM omnikpi.create_kpi_views('dj_contacts_day', interactions => 'dj_shop.contacts', journey_gap => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM omnikpi.create_kpi_views('dj_contacts_day', touchpoints => 'dj_shop.touches', conversions => 'dj_shop.orders',
	max_touches => 0);
\echo :LAST_ERROR_SQLSTATE

SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('dj_kpi');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('dj_last_non_direct');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('dj_journeys');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('dj_contacts');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('dj_contacts_day');
DROP SCHEMA dj_kpi, dj_last_non_direct, dj_journeys, dj_contacts, dj_contacts_day, dj_shop CASCADE;
