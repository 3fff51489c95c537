-- The source contract of create_kpi_views: mapped columns as SQL expressions
-- (type-checked first, and unable to end or extend the statement they are
-- placed in), optional columns, vocabularies matched one way with
-- translations, the NULL-channel policy, the rating scale's one error, all
-- mapping problems in one error, key types checked across sources, no
-- generated SQL in any error, and the record of what create_kpi_views made.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
\pset null '(null)'

CREATE SCHEMA sc_shop;
-- A CRM export: other names, a 0-10 CSAT, NPS as text, a Y/N flag,
-- timestamp without time zone, capitalized and padded channels, phases of
-- its own; one row without a channel, one with a blank one, one without a time.
CREATE TABLE sc_shop.contacts (cust bigint, trip int, chan text, at timestamp, stage text,
	csat_0_10 int, nps_text text, ctx_flag text, ticket int, fixed bool);
INSERT INTO sc_shop.contacts VALUES
	(1, 10, 'Web', '2026-03-02 10:00', 'Browse', 8, '9', 'N', NULL, false),
	(1, 10, ' STORE ', '2026-03-03 10:00', 'Decide', 10, '', 'Y', NULL, false),
	(2, 20, 'Call Center', '2026-03-04 09:00', 'Service', 4, '3', 'Y', 7, false),
	(2, 20, 'chat', '2026-03-04 12:00', 'service', 6, NULL, 'Y', 7, true),
	(3, 30, NULL, '2026-03-05 10:00', 'Browse', 2, '10', 'N', NULL, false),
	(3, 30, '  ', '2026-03-06 10:00', 'Browse', 10, '8', 'N', NULL, false),
	(4, 40, 'web', NULL, 'Browse', 9, '10', 'Y', NULL, false);
CREATE TABLE sc_shop.victim (x int);
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	message text;
	detail text;
	hint text;
	context text;
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
							context = PG_EXCEPTION_CONTEXT;
	-- the statements create_kpi_views generates never reach the user
	IF context ~ 'security_invoker|CREATE (OR REPLACE )?(MATERIALIZED )?VIEW|INSERT INTO|source_' THEN
		RETURN 'generated SQL in the error context: ' || context;
	END IF;
	RETURN SQLSTATE || ': ' || message || E'\nDETAIL: ' || detail || E'\nHINT: ' || hint;
END
$$;

-- 1. Expressions, translations and the NULL policy.  Ratings 0-10 are
-- halved by an expression, so the scale is 0 to 5; effort is mapped to null
-- (absent), so the CES columns are empty and a NOTICE says so.
CREATE SCHEMA sc_kpi;
SELECT view_name, status FROM omnikpi.create_kpi_views('sc_kpi', interactions => 'sc_shop.contacts',
	columns => $${"interactions": {"customer_id": "cust", "journey_id": "trip", "channel": "chan", "occurred_at": "at",
		"phase": "stage", "satisfaction": "csat_0_10 / 2.0", "nps": "nullif(nps_text, '')::int",
		"context_carried": "ctx_flag = 'Y'", "issue_id": "ticket", "resolved": "fixed", "effort": null}}$$,
	translations => '{"phase": {"Browse": "awareness", "Decide": "decision"}}',
	rating_scale_min => 0, rating_scale_max => 5)
WHERE view_name NOT IN (SELECT view_name FROM omnikpi.kpi_views) OR status <> 'created';
-- Four contacts are left (no channel, a blank one, no time: left out),
-- channels and phases matched one way: web, store, call_center, chat.
SELECT customer_id, journey_id, channel, occurred_at, phase, satisfaction, effort, nps, context_carried
FROM sc_kpi.source_interactions ORDER BY occurred_at;
-- March on 0-5: web 4 -> 80, store 5 -> 100, call_center 2 -> 40, chat 3 -> 60; mean 70.
SELECT month, rating_pct, channels, interactions FROM sc_kpi.experience_rating_monthly;
-- NPS: web 9 (promoter), store '' (no answer), call_center 3 (detractor).  No effort column.
SELECT channel, csat_responses, csat_mean, ces_responses, ces_mean, nps_responses, nps
FROM sc_kpi.satisfaction_by_channel_monthly ORDER BY channel;
-- Context carried: web N, store Y, call_center Y, chat Y -> (0 + 100 + 100 + 100) / 4.
SELECT quarter, integration_index, channels FROM sc_kpi.integration_index_quarterly;
-- Funnel: journey 10 reaches decision, journey 20 service.
SELECT phase, journeys FROM sc_kpi.journey_funnel_monthly ORDER BY phase_order;
-- The view remembers the mapping as the parser understood it.
SELECT pg_get_viewdef('sc_kpi.source_interactions') ~ 'csat_0_10\)::numeric / 2\.0' AS expression_kept;

-- 2. An expression cannot end or extend the statement it is placed in: each
-- attempt creates nothing, drops nothing, and says why (42601).
CREATE SCHEMA sc_injection;
SELECT attempt, pg_temp.error_of(format(
	'SELECT * FROM omnikpi.create_kpi_views(%L, interactions => %L, columns => %L)', 'sc_injection', 'sc_shop.contacts',
	jsonb_build_object('interactions', jsonb_build_object('customer_id', 'cust', 'channel', 'chan', 'occurred_at', 'at',
													   'satisfaction', attempt)))) AS outcome
FROM (VALUES ('1) AS x FROM t; DROP TABLE sc_shop.victim; --'),
			 ('1); DROP TABLE sc_shop.victim; SELECT (1'),
			 ('1) AS satisfaction, (2'),
			 ('csat_0_10) FROM sc_shop.victim WHERE (true'),
			 ('csat_0_10) UNION SELECT (1'),
			 ('csat_0_10) -- the rest of the line'),
			 ('csat_0_10 /* the rest of the statement'),
			 ('$q$'),
			 ('sum(csat_0_10)'),
			 ('generate_series(1, csat_0_10)')) AS a(attempt);
SELECT 'sc_shop.victim'::regclass AS victim_still_there;
SELECT count(*) AS relations_in_sc_injection FROM pg_class WHERE relnamespace = 'sc_injection'::regnamespace;

-- 3. Every problem of a mapping in one error: DETAIL lists each, HINT gives
-- each fix, the SQLSTATE is the first problem's.
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_injection', interactions => 'sc_shop.contacts',
	columns => '{"interactions": {"customer_id": "cust", "channel": "chanel", "occurred_at": "stage",
				 "satisfaction": "csat_0_10 +", "nps": 5, "context_carried": "ctx_flag", "mood": "x"}}')$q$);
-- A required column cannot be absent.
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_injection', interactions => 'sc_shop.contacts',
	columns => '{"interactions": {"customer_id": "cust", "channel": null, "occurred_at": "at"}}')$q$);
-- Translations to what a vocabulary does not hold, or twice.
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_injection', interactions => 'sc_shop.contacts',
	columns => '{"interactions": {"customer_id": "cust", "channel": "chan", "occurred_at": "at", "phase": "stage"}}',
	translations => '{"phase": {"Browse": "browsing", "browse": "awareness", "BROWSE": "loyalty"}, "size": {}}')$q$);
SELECT count(*) AS relations_in_sc_injection FROM pg_class WHERE relnamespace = 'sc_injection'::regnamespace;

-- 4. Keys joined across sources are type-checked up front: a text customer
-- id in the orders against a bigint one in the interactions, a text journey
-- id in the conversions against an integer one in the touchpoints.
CREATE TABLE sc_shop.orders (order_no int, cust_ref text, chan text, placed date, total numeric);
CREATE TABLE sc_shop.touches (trip int, cust bigint, chan text, at timestamptz);
CREATE TABLE sc_shop.sales (trip text, at timestamptz, revenue numeric);
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_injection',
	interactions => 'sc_shop.contacts', orders => 'sc_shop.orders', touchpoints => 'sc_shop.touches',
	conversions => 'sc_shop.sales',
	columns => '{"interactions": {"customer_id": "cust", "channel": "chan", "occurred_at": "at"},
				 "orders": {"order_id": "order_no", "customer_id": "cust_ref", "channel": "chan", "ordered_at": "placed",
							"amount": "total"},
				 "touchpoints": {"journey_id": "trip", "customer_id": "cust", "channel": "chan", "touched_at": "at"},
				 "conversions": {"journey_id": "trip", "converted_at": "at", "value": "revenue"}}')$q$);
-- Touches that cannot be tied to conversions.
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_injection', touchpoints => 'sc_shop.touches',
	conversions => 'sc_shop.sales',
	columns => '{"touchpoints": {"journey_id": null, "customer_id": "cust", "channel": "chan", "touched_at": "at"},
				 "conversions": {"journey_id": null, "converted_at": "at", "value": "revenue"}}')$q$);

-- 5. Optional columns: a source with only the required ones.  The views
-- that need an absent column are skipped with a NOTICE naming it; journeys
-- come from customer and time (no journey_id).
CREATE TABLE sc_shop.visits (customer_id int, channel text, occurred_at timestamptz);
INSERT INTO sc_shop.visits VALUES (1, 'web', '2026-03-01 10:00'), (1, 'store', '2026-03-02 10:00'),
	(1, 'web', '2026-03-20 10:00'), (2, 'app', '2026-03-05 10:00');
CREATE SCHEMA sc_minimal;
SELECT view_name, status FROM omnikpi.create_kpi_views('sc_minimal', interactions => 'sc_shop.visits')
ORDER BY view_name;
-- Journeys after a 7-day gap: customer 1 has web > store, then web alone (18 days later); customer 2 app.
SELECT customer_id, journey_id, journey_no, channels FROM sc_minimal.interaction_journeys ORDER BY 1, 3;
SELECT month, journeys, switches_per_journey, multichannel_journey_pct, issues, context_carried_switch_pct
FROM sc_minimal.channel_switching_monthly;

-- 6. Fulfillment values matched one way: 'click-and-collect' is omnikpi's
-- synonym of bopis, 'Click & Collect' is translated; 'curbside' matches
-- nothing and stays itself (not bopis), for check_sources to report.
CREATE TABLE sc_shop.web_orders (order_id int, customer_id int, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text);
INSERT INTO sc_shop.web_orders VALUES
	(1, 1, 'Web', '2026-03-01 10:00', 10, 'Click & Collect'),
	(2, 1, 'web', '2026-03-02 10:00', 10, 'click-and-collect'),
	(3, 2, 'WEB', '2026-03-03 10:00', 10, ' BOPIS'),
	(4, 2, 'web', '2026-03-04 10:00', 10, 'Delivery'),
	(5, 3, 'web', '2026-03-05 10:00', 10, 'curbside');
CREATE SCHEMA sc_orders;
SELECT count(*) AS created FROM omnikpi.create_kpi_views('sc_orders', orders => 'sc_shop.web_orders',
	translations => '{"fulfillment": {"Click & Collect": "bopis"}, "channel": {"Online Shop": "web"}}')
WHERE status = 'created';
SELECT fulfillment, count(*) FROM sc_orders.source_orders GROUP BY 1 ORDER BY 1;
-- 3 of the 5 orders are BOPIS; no ready or collection times (absent): empty.
SELECT month, channel, orders, bopis_orders, bopis_share_pct, click_to_collect_median_hours
FROM sc_orders.fulfillment_by_channel_monthly;

-- 7. A rating outside the scale gives the same error in every view that
-- reads it, naming the table, the column, how many rows and the fix.
INSERT INTO sc_shop.contacts VALUES (5, 50, 'app', '2026-03-09 10:00', 'Decide', 12, NULL, 'N', NULL, false),
	(5, 50, 'app', '2026-03-09 11:00', 'Decide', 11, NULL, 'N', NULL, false);
SELECT pg_temp.error_of('SELECT * FROM sc_kpi.experience_rating_monthly');
SELECT pg_temp.error_of('SELECT * FROM sc_kpi.satisfaction_by_channel_monthly')
	= pg_temp.error_of('SELECT * FROM sc_kpi.experience_rating_monthly') AS same_error_in_satisfaction;
SELECT pg_temp.error_of('SELECT * FROM sc_kpi.experience_rating_by_phase_monthly')
	= pg_temp.error_of('SELECT * FROM sc_kpi.experience_rating_monthly') AS same_error_by_phase;
-- Views that do not read the rating are not affected.
SELECT quarter, integration_index FROM sc_kpi.integration_index_quarterly;
DELETE FROM sc_shop.contacts WHERE cust = 5;

-- 8. One NULL-channel policy: a touch without a channel is left out of the
-- paths, and every attribution view credits the same conversions and value.
-- Journey 1: email, (no channel), web -> converts (100); journey 2: only a
-- blank-channel touch -> converts (50) with no path, so no view credits it.
CREATE TABLE sc_shop.touchpoints (journey_id int, customer_id int, channel text, touched_at timestamptz, cost numeric);
INSERT INTO sc_shop.touchpoints VALUES
	(1, 1, 'Email', '2026-03-01', 1), (1, 1, NULL, '2026-03-02', 1), (1, 1, 'Web', '2026-03-03', 1),
	(2, 2, ' ', '2026-03-04', 1), (3, 3, 'social', '2026-03-05', 1);
CREATE TABLE sc_shop.conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO sc_shop.conversions VALUES (1, '2026-03-04', 100), (2, '2026-03-05', 50);
CREATE SCHEMA sc_attribution;
SELECT count(*) AS created FROM omnikpi.create_kpi_views('sc_attribution', touchpoints => 'sc_shop.touchpoints',
	conversions => 'sc_shop.conversions') WHERE status = 'created';
SELECT journey_id, cycle, converted, value, month, channels FROM sc_attribution.attribution_paths ORDER BY journey_id;
SELECT 'rule-based ' || model AS model, round(sum(attributed_conversions)::numeric, 9) AS conversions,
	round(sum(attributed_value)::numeric, 6) AS value
FROM sc_attribution.attribution_by_channel_monthly GROUP BY model
UNION ALL
SELECT 'markov', round(sum(attributed_conversions)::numeric, 9), round(sum(attributed_value)::numeric, 6)
FROM sc_attribution.attribution_markov_monthly
UNION ALL
SELECT 'shapley ' || characteristic, round(sum(attributed_conversions)::numeric, 9), round(sum(attributed_value)::numeric, 6)
FROM sc_attribution.attribution_shapley_monthly GROUP BY characteristic
UNION ALL
SELECT 'fractribution', round(sum(attributed_conversions)::numeric, 9), round(sum(attributed_value)::numeric, 6)
FROM sc_attribution.attribution_fractribution_monthly
ORDER BY 1;
SELECT month, channel, journeys, converted_journeys FROM sc_attribution.conversion_by_channel_monthly ORDER BY channel;

-- 9. The record: kpi_objects lists what create_kpi_views made, itself
-- included.  Editing a comment detaches nothing; a view of ours that was
-- renamed is still ours; a view of the user's is never taken for ours.
SELECT kind, count(*) FROM sc_attribution.kpi_objects GROUP BY kind ORDER BY kind;
COMMENT ON VIEW sc_attribution.attribution_markov_monthly IS 'our dashboard''s Markov view';
ALTER VIEW sc_attribution.attribution_shapley_monthly RENAME TO shapley_for_the_board;
CREATE VIEW sc_attribution.my_paths AS SELECT 1 AS one;
COMMENT ON VIEW sc_attribution.my_paths IS 'paths of my own (omnikpi)';
-- A user's view under a name create_kpi_views would use: refused, nothing replaced.
CREATE VIEW sc_orders.ropo_monthly AS SELECT 'mine' AS whose;
CREATE TABLE sc_orders.interaction_journeys (x int);
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_orders', orders => 'sc_shop.web_orders',
	interactions => 'sc_shop.visits')$q$);
SELECT whose FROM sc_orders.ropo_monthly;
-- A table of the user's named kpi_objects is no record.
CREATE SCHEMA sc_other;
CREATE TABLE sc_other.kpi_objects (relation regclass, kind text);
INSERT INTO sc_other.kpi_objects VALUES ('sc_other.kpi_objects', 'record');
SELECT pg_temp.error_of($q$SELECT * FROM omnikpi.create_kpi_views('sc_other', orders => 'sc_shop.web_orders')$q$);
SELECT view_name FROM omnikpi.drop_kpi_views('sc_other');
-- drop_kpi_views drops what the record holds, renamed or re-commented, and
-- nothing of the user's.
SELECT count(*) AS dropped, count(*) FILTER (WHERE view_name = 'shapley_for_the_board') AS renamed_one,
	count(*) FILTER (WHERE view_name = 'attribution_markov_monthly') AS recommented_one
FROM omnikpi.drop_kpi_views('sc_attribution');
SELECT relname FROM pg_class WHERE relnamespace = 'sc_attribution'::regnamespace ORDER BY relname;
-- Calling again without a source drops what the earlier call made for it.
SELECT count(*) AS created FROM omnikpi.create_kpi_views('sc_minimal', interactions => 'sc_shop.visits',
	orders => 'sc_shop.web_orders') WHERE status = 'created';
SELECT count(*) AS created FROM omnikpi.create_kpi_views('sc_minimal', orders => 'sc_shop.web_orders')
WHERE status = 'created';
SELECT relname FROM pg_class WHERE relnamespace = 'sc_minimal'::regnamespace AND relkind = 'v' ORDER BY relname;

DROP SCHEMA sc_kpi, sc_injection, sc_minimal, sc_orders, sc_attribution, sc_other, sc_shop CASCADE;
