-- A realistic retailer's own tables, nothing like omnikpi's names: a CRM
-- contact log with a 0-10 CSAT, effort scores stored as text, a Y/N context
-- flag, phases and capitalized channels of its own, a contact without a
-- channel and no NPS column; orders with totals as text and 'Click &
-- Collect'; marketing touches without journey ids; every time a local
-- timestamp without time zone in Berlin, read by a session in UTC.  Mapped
-- with column names, expressions, an absent column and translations,
-- checked with check_sources, then every KPI view's numbers, worked out by
-- hand in the comments.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\pset null '(null)'

CREATE SCHEMA nordlicht;
CREATE TABLE nordlicht.contact_log (
	contact_no serial, client_ref int, medium text, logged_at timestamp, stage text,
	csat_0_10 int, ces_text text, context_flag char(1), case_ref text, case_closed bool);
INSERT INTO nordlicht.contact_log (client_ref, medium, logged_at, stage, csat_0_10, ces_text, context_flag, case_ref, case_closed)
VALUES
	-- client 101 researches on the web and in the app, buys in the store ...
	(101, 'Web', '2026-01-10 09:00', 'Browse', 8, '2', 'N', NULL, false),
	(101, 'App', '2026-01-10 20:00', 'Compare', 10, '1', 'Y', NULL, false),
	(101, 'Store', '2026-01-12 11:00', 'Buy', 6, '3', 'Y', NULL, false),
	-- ... and calls half an hour into February, Berlin time (January 31st, 23:30 UTC)
	(101, 'Call Center', '2026-02-01 00:30', 'Support', 4, '5', 'N', 'C-1', false),
	(101, 'Chat', '2026-02-01 10:00', 'Support', 8, '2', 'Y', 'C-1', true),
	-- client 102 shops in store; one contact has no channel, one an empty effort score
	(102, 'store', '2026-01-15 14:00', 'Browse', NULL, NULL, 'N', NULL, false),
	(102, NULL, '2026-01-15 15:00', 'Buy', 2, '4', 'N', NULL, false),
	(102, 'STORE', '2026-01-16 10:00', 'Buy', 4, '', 'N', NULL, false),
	-- client 103, twice, 13 days apart
	(103, 'Web', '2026-02-20 18:00', 'Browse', 10, '1', 'N', NULL, false),
	(103, 'App', '2026-03-05 12:00', 'Repeat', 9, '1', 'Y', NULL, false);
CREATE TABLE nordlicht.sales (
	order_no text, client_ref int, sold_via text, placed_on timestamp, total_txt text, delivery_mode text,
	ready_ts timestamp, picked_up_ts timestamp, returned_ts timestamp, returned_via text);
INSERT INTO nordlicht.sales VALUES
	('O-1', 101, 'Store', '2026-01-12 11:30', '120.00', 'In Store', NULL, NULL, '2026-01-20 10:00', 'Web'),
	('O-2', 102, 'Web', '2026-01-14 09:00', '80.00', 'Click & Collect', '2026-01-14 13:00', '2026-01-15 09:00', NULL, NULL),
	('O-3', 102, 'Store', '2026-01-16 10:30', '60.00', 'In Store', NULL, NULL, NULL, NULL),
	-- a quarter of an hour into February in Berlin
	('O-4', 103, 'App', '2026-02-01 00:15', '40.00', 'Click & Collect', '2026-02-01 06:15', '2026-02-02 06:15', NULL, NULL),
	-- a customer the contact log does not know, a total left empty
	('O-5', 104, 'Web', '2026-03-10 12:00', '', 'Home Delivery', NULL, NULL, NULL, NULL);
CREATE TABLE nordlicht.campaign_touches (client_ref int, source_medium text, touch_ts timestamp, spend_txt text);
INSERT INTO nordlicht.campaign_touches VALUES
	(101, 'Email', '2026-01-02 10:00', '0.10'),
	(101, 'Social', '2026-01-08 19:00', '1.50'),
	(101, 'Direct', '2026-01-11 09:00', ''),
	(101, NULL, '2026-01-11 10:00', '0.20'),
	(101, 'Web', '2026-01-30 08:00', '0.40'),
	(102, 'Social', '2026-01-13 21:00', '1.50'),
	(103, 'Email', '2026-02-25 08:00', '0.10');
CREATE TABLE nordlicht.purchases (client_ref int, purchased_ts timestamp, revenue numeric);
INSERT INTO nordlicht.purchases VALUES
	(101, '2026-01-12 11:30', 120), (102, '2026-01-14 09:00', 80), (101, '2026-02-03 12:00', 45);

-- The mapping: names, expressions for the text numbers and the flag, no
-- NPS (absent), translations for the phases and delivery modes.
\set columns '{"interactions": {"customer_id": "client_ref", "channel": "medium", "occurred_at": "logged_at", "phase": "stage", "satisfaction": "csat_0_10", "effort": "nullif(ces_text, '''')::int", "context_carried": "context_flag = ''Y''", "issue_id": "case_ref", "resolved": "case_closed"}, "orders": {"order_id": "order_no", "customer_id": "client_ref", "channel": "sold_via", "ordered_at": "placed_on", "amount": "nullif(total_txt, '''')::numeric", "fulfillment": "delivery_mode", "ready_at": "ready_ts", "collected_at": "picked_up_ts", "returned_at": "returned_ts", "return_channel": "returned_via"}, "touchpoints": {"customer_id": "client_ref", "channel": "source_medium", "touched_at": "touch_ts", "cost": "nullif(spend_txt, '''')::numeric"}, "conversions": {"customer_id": "client_ref", "converted_at": "purchased_ts", "value": "revenue"}}'
\set translations '{"phase": {"Browse": "awareness", "Compare": "consideration", "Buy": "decision", "Support": "service", "Repeat": "loyalty"}, "fulfillment": {"Click & Collect": "bopis", "Home Delivery": "delivery"}}'

-- 1. The data first.  A contact and a touch without a channel (left out),
-- and an order of a customer without any contact.
SELECT source, column_name, problem, rows, example FROM omnikpi.check_sources(
	interactions => 'nordlicht.contact_log', orders => 'nordlicht.sales', touchpoints => 'nordlicht.campaign_touches',
	conversions => 'nordlicht.purchases', columns => :'columns', translations => :'translations',
	rating_scale_min => 0, rating_scale_max => 10, time_zone => 'Europe/Berlin');

-- 2. The views, from a session in UTC for a shop in Berlin.
CREATE SCHEMA nordlicht_kpi;
SELECT view_name, status FROM omnikpi.create_kpi_views('nordlicht_kpi',
	interactions => 'nordlicht.contact_log', orders => 'nordlicht.sales', touchpoints => 'nordlicht.campaign_touches',
	conversions => 'nordlicht.purchases', columns => :'columns', translations => :'translations',
	rating_scale_min => 0, rating_scale_max => 10, time_zone => 'Europe/Berlin')
WHERE status <> 'created';

-- Experience rating, 0 to 10.  January: web 8 -> 80, app 10 -> 100, store
-- (6, no rating, 4) -> 50: (80 + 100 + 50) / 3 = 76.666667, 5 contacts (the
-- one without a channel is left out).  February (Berlin): call center 4 ->
-- 40, chat 8 -> 80, web 10 -> 100: 73.333333, 3 contacts.  March: app 9 -> 90.
SELECT month, round(rating_pct::numeric, 6) AS rating_pct, target_pct, channels, interactions
FROM nordlicht_kpi.experience_rating_monthly ORDER BY month;
-- By phase.  January: awareness web 80 (the store contact is unrated), 2
-- contacts; consideration app 100; decision store (6, 4) 50.  February:
-- awareness web 100; service call center 40, chat 80 -> 60.  March: loyalty 90.
SELECT month, phase, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM nordlicht_kpi.experience_rating_by_phase_monthly ORDER BY month, phase;
SELECT month, channel, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM nordlicht_kpi.experience_rating_by_channel_monthly ORDER BY month, channel;

-- Integration, Q1: context carried on web 0 of 2, app 2 of 2, store 1 of 3,
-- call center 0 of 1, chat 1 of 1: (0 + 100 + 33.333333 + 0 + 100) / 5 = 46.666667.
SELECT quarter, round(integration_index::numeric, 6) AS integration_index, target, channels
FROM nordlicht_kpi.integration_index_quarterly;
SELECT quarter, channel, round(integration_score::numeric, 6) AS integration_score, interactions
FROM nordlicht_kpi.integration_index_by_channel_quarterly ORDER BY channel;

-- CSAT (top-2-box: 9 and 10 on 0 to 10) and effort from the text column;
-- no NPS column, so no NPS answers.  January store: ratings 6 and 4 (mean
-- 5, top-2 0%), effort 3 and two empty ones (1 answer).
SELECT month, channel, csat_responses, round(csat_mean::numeric, 6) AS csat_mean, csat_top2_pct,
	ces_responses, ces_mean, nps_responses, nps
FROM nordlicht_kpi.satisfaction_by_channel_monthly ORDER BY month, channel;

-- Case C-1: opened on the call center in February (Berlin), resolved by the
-- chat: 1 issue, 2 contacts, not resolved at first contact.
SELECT month, channel, issues, resolved_issues, interactions_per_resolved_issue, first_contact_resolution_pct
FROM nordlicht_kpi.resolution_by_channel_monthly;

-- Journeys (no journey ids; a week's gap ends one): 101 web > app > store
-- (January 10 to 12) | call center > chat (February 1); 102 store > store;
-- 103 web (February 20) | app (March 5, 13 days later).
SELECT customer_id, journey_no, month, channels, phases FROM nordlicht_kpi.interaction_journeys
ORDER BY customer_id, journey_no;
-- Switching.  January: 2 journeys, 2 and 0 switches (mean 1), one on 2+
-- channels (50%), both switches with context (100%).  February: 2
-- journeys, 1 and 0 switches, 50%, the one switch with context; case C-1
-- switches once.  March: one journey, no switch.
SELECT month, journeys, switches_per_journey, multichannel_journey_pct, issues, switches_per_issue,
	context_carried_switch_pct
FROM nordlicht_kpi.channel_switching_monthly ORDER BY month;
-- Transitions: January web > app, app > store, store > store; February
-- call center > chat; each the only way out of its channel (100%).
SELECT month, from_channel, to_channel, transitions, share_pct
FROM nordlicht_kpi.channel_transitions_monthly ORDER BY month, from_channel;
-- Funnel.  January: both journeys reach decision (2, 2, 2, 0, 0).
-- February: the service journey and the awareness one: 2, 1, 1, 1, 0
-- (50% drop into consideration).  March: the loyalty journey reaches all.
SELECT month, phase, journeys, reached_pct, dropoff_pct
FROM nordlicht_kpi.journey_funnel_monthly ORDER BY month, phase_order;

-- Engagement depth: 101 used 5 channels (4+; revenue 120), 102 one (store;
-- 80 + 60 = 140), 103 two (40); all active within 90 days of March 5th.
-- Customer 104 has orders but no contact, so no depth.
SELECT channel_depth, customers, retained_pct, churned_pct, revenue_per_customer
FROM nordlicht_kpi.engagement_depth ORDER BY channel_depth;
-- Churn: January 101 and 102 are new; February 103 is new, both others
-- retained (100%); March all three still active (contacts within 90 days).
SELECT * FROM nordlicht_kpi.churn_retention_monthly ORDER BY month;

-- ROPO (14 days): January store orders O-1 (101 was on web and app two days
-- before: researched) and O-3 (102 never online): 50%; online order O-2
-- (102's store visits came after it): not showroomed.  February (Berlin):
-- O-4 on the app, no store contact.  March: O-5 on the web.
SELECT * FROM nordlicht_kpi.ropo_monthly ORDER BY month;
-- Fulfillment: 'Click & Collect' is bopis: O-2 ready 4 hours after the
-- order, collected 20 hours later; O-4 6 hours and 24 hours.
SELECT month, channel, orders, bopis_orders, bopis_share_pct, click_to_collect_median_hours,
	click_to_collect_p90_hours, pickup_wait_median_hours
FROM nordlicht_kpi.fulfillment_by_channel_monthly ORDER BY month, channel;
-- Returns: O-1 bought in store, returned on the web: cross-channel.
SELECT * FROM nordlicht_kpi.returns_by_channel_monthly ORDER BY month, channel;

-- Paths from customer and time (30 days lookback): 101's purchase on
-- January 12th gets email, social, direct (the touch without a channel is
-- left out); its purchase on February 3rd gets the web touch of January
-- 30th (after the first purchase); 102's purchase gets social; 103's email
-- led to no purchase.
SELECT customer_id, cycle, converted, value, month, channels FROM nordlicht_kpi.attribution_paths
ORDER BY customer_id, cycle NULLS LAST;
-- Conversion rate by the month of the path's first touch: January email,
-- social (2 paths), direct, web, all converted; February email 0 of 1.
SELECT month, channel, journeys, converted_journeys, conversion_rate_pct
FROM nordlicht_kpi.conversion_by_channel_monthly ORDER BY month, channel;

-- Rule-based, January: email > social > direct (120) and social (80).
--   first_touch: email 1 (120), social 1 (80);  last_touch: direct 1 (120), social 1 (80);
--   linear: a third each of 120, social also all of 80: email 40, social 120, direct 40;
--   position_based 0.4, 0.2, 0.4: email 48, social 24 + 80 = 104, direct 48;
--   j_curve 0.2, 0.2, 0.6: 24, 104, 72;  inverse_j 0.6, 0.2, 0.2: 72, 104, 24;
--   time_decay (half life 7 days; 10.0625, 3.6875 and 1.104167 days before):
--   weights 0.369207, 0.694099, 0.896429 (sum 1.959735): email 0.188396
--   (22.607534), social 1.354180 (122.501622), direct 0.457424 (54.890844).
-- February: web gets the 45 under every model.  Touch cost (of the month's
-- touches, beside the month's credits): January email 0.10, social 1.50 +
-- 1.50, direct none ('' is no cost); linear cost per acquisition email 0.10
-- / (1/3) = 0.3, social 3.00 / (4/3) = 2.25.  The web touch that led to the
-- February purchase was made, and cost 0.40, in January, where web has no
-- credit: no row; February's web row has no cost.
SELECT month, channel, model, round(attributed_conversions::numeric, 6) AS conversions,
	round(attributed_value::numeric, 6) AS value, touch_cost, round(cost_per_acquisition::numeric, 6) AS cpa
FROM nordlicht_kpi.attribution_by_channel_monthly ORDER BY month, model, channel;

-- Markov, January: start > email > social > direct > conversion and start >
-- social > conversion, no path ends without one: P(conversion) = 1.  Without
-- email 1/2 (effect 1/2), without social 0 (1), without direct 1/2 (1/2):
-- the 2 conversions go 0.5, 1, 0.5.  February: web > conversion, email >
-- (null): P = 1/2; without web 0 (effect 1), without email 1/2 (0).
SELECT month, channel, round(removal_effect::numeric, 6) AS removal_effect,
	round(attributed_conversions::numeric, 6) AS conversions, round(share_pct::numeric, 6) AS share_pct,
	last_touch_conversions, last_touch_value
FROM nordlicht_kpi.attribution_markov_monthly ORDER BY month, channel;
-- Shapley.  conversions: each conversion split over its channels: January
-- email 1/3 (40), social 4/3 (40 + 80), direct 1/3 (40); February web 1 (45).
-- conversion_rate, January (2 paths, both converted): v(S) = 1 for every S
-- holding social, else 0, so social gets it all: 1 x 2 paths = 2; values
-- v(s) = v(es) = v(sd) = 80, v(esd) = 100: social 1/3 80 + 1/6 80 + 1/6 80
-- + 1/3 100 = 86.666667, email and direct 1/3 (100 - 80) = 6.666667, times
-- 2 paths: 173.333333, 13.333333, 13.333333.  February: v(w) = 1, v(e) = 0,
-- v(ew) = 1/2: web 1/2 + 1/4 = 3/4, email -1/4, times 2: 1.5 and -0.5; values
-- v(w) = 45, v(ew) = 22.5: web 33.75, email -11.25, times 2: 67.5, -22.5.
SELECT month, channel, characteristic, round(attributed_conversions::numeric, 6) AS conversions,
	round(attributed_value::numeric, 6) AS value
FROM nordlicht_kpi.attribution_shapley_monthly ORDER BY month, characteristic, channel;
-- Fractribution: email > social > direct converted and none of its
-- counterfactuals was seen: a third each; social alone gets its own;
-- February: web alone gets its own, the email path did not convert.
SELECT month, channel, round(attributed_conversions::numeric, 6) AS conversions,
	round(attributed_value::numeric, 6) AS value
FROM nordlicht_kpi.attribution_fractribution_monthly ORDER BY month, channel;
-- Every attribution view credits the month's conversions and value: January 2
-- and 200, February 1 and 45.
SELECT month, count(DISTINCT model) AS models,
	min(conversions) = max(conversions) AND min(value) = max(value) AS all_agree, min(conversions) AS conversions,
	min(value) AS value
FROM (SELECT month, model, round(sum(attributed_conversions)::numeric, 9) AS conversions,
			 round(sum(attributed_value)::numeric, 6) AS value
	  FROM (SELECT month, model, attributed_conversions, attributed_value FROM nordlicht_kpi.attribution_by_channel_monthly
			UNION ALL SELECT month, 'markov', attributed_conversions, attributed_value FROM nordlicht_kpi.attribution_markov_monthly
			UNION ALL SELECT month, 'shapley ' || characteristic, attributed_conversions, attributed_value
			FROM nordlicht_kpi.attribution_shapley_monthly
			UNION ALL SELECT month, 'fractribution', attributed_conversions, attributed_value
			FROM nordlicht_kpi.attribution_fractribution_monthly) a
	  GROUP BY 1, 2) m
GROUP BY month ORDER BY month;

-- 3. Read from a session in Tokyo, the months stay Berlin's.
SET timezone = 'Asia/Tokyo';
SELECT month, round(rating_pct::numeric, 6) AS rating_pct, interactions
FROM nordlicht_kpi.experience_rating_monthly ORDER BY month;
SET timezone = 'UTC';

SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('nordlicht_kpi');
DROP SCHEMA nordlicht_kpi, nordlicht CASCADE;
