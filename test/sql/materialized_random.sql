-- The materialized form against the plain form on random data (seeded, so
-- every run makes the same rows): after the first build and after every
-- refresh of a sequence of new days, late rows inside the late window,
-- updates and deletes inside it, every KPI table equals its plain view
-- (floats to a relative 1e-9) and every entity table its layer view, in two
-- forms: with journey ids (journeys and paths by journey_id) and without
-- (journeys by inactivity gap, paths by customer and lookback, with
-- max_touches and exclude_channels), the second cut in America/New_York.
-- Changes older than the window stay out of the materialized form until a
-- full rebuild, which agrees again.
SET datestyle = 'ISO, YMD';
SET timezone = 'UTC';
\set SHOW_CONTEXT never
SET client_min_messages = warning;
-- The seed: fixed in make test; `make test-random` runs the same steps
-- under fresh seeds (test/materialized_random.sh, psql -v seed=...).
\if :{?seed}
\else
\set seed 0.20260101
\endif
SELECT setseed(:seed);

CREATE SCHEMA rnd;
CREATE TABLE rnd.interactions (customer_id integer, journey_id integer, channel text, occurred_at timestamptz,
	phase text, satisfaction double precision, effort double precision, nps integer, context_carried boolean,
	issue_id integer, resolved boolean, duration integer);
CREATE TABLE rnd.orders (order_id integer, customer_id integer, channel text, ordered_at timestamptz, amount numeric,
	fulfillment text, ready_at timestamptz, collected_at timestamptz, returned_at timestamptz, return_channel text);
CREATE TABLE rnd.touchpoints (journey_id integer, customer_id integer, channel text, touched_at timestamptz, cost numeric);
CREATE TABLE rnd.conversions (journey_id integer, customer_id integer, converted_at timestamptz, value numeric);
CREATE INDEX ON rnd.interactions (occurred_at);
CREATE INDEX ON rnd.interactions (customer_id, occurred_at);
CREATE INDEX ON rnd.orders (ordered_at);
CREATE INDEX ON rnd.touchpoints (touched_at);
CREATE INDEX ON rnd.conversions (converted_at);

-- Random rows between two times, on a minute grid so that ties happen: 200
-- customers, from daily to rare ones, with journeys and issues of their own
-- (and a few journeys shared between customers), six channels, missing
-- ratings and durations.
CREATE FUNCTION pg_temp.pick(options text[]) RETURNS text LANGUAGE sql AS
	'SELECT options[1 + floor(random() * cardinality(options))::integer]';
CREATE FUNCTION pg_temp.at(since timestamptz, until timestamptz) RETURNS timestamptz LANGUAGE sql AS
	$$SELECT date_trunc('minute', since + random() * (until - since))$$;
CREATE FUNCTION pg_temp.add_rows(n integer, since timestamptz, until timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	next_order integer := (SELECT coalesce(max(order_id), 0) FROM rnd.orders);
BEGIN
	INSERT INTO rnd.interactions
	SELECT c, CASE WHEN random() < 0.03 THEN 7 ELSE c * 10 + floor(random() * 3)::integer END,
		pg_temp.pick('{web,app,store,call_center,chat,email}'), pg_temp.at(since, until),
		pg_temp.pick('{awareness,consideration,decision,service,loyalty}'),
		CASE WHEN random() < 0.7 THEN 1 + floor(random() * 5) END, CASE WHEN random() < 0.4 THEN 1 + floor(random() * 7) END,
		CASE WHEN random() < 0.4 THEN floor(random() * 11)::integer END, CASE WHEN random() < 0.9 THEN random() < 0.6 END,
		CASE WHEN random() < 0.3 THEN c * 10 + floor(random() * 2)::integer END, random() < 0.3,
		CASE WHEN random() < 0.8 THEN floor(random() * 900)::integer END
	FROM (SELECT 1 + floor(random() ^ 2 * 200)::integer AS c FROM generate_series(1, n)) AS g;
	INSERT INTO rnd.touchpoints
	SELECT c * 10 + floor(random() * 3)::integer, c, pg_temp.pick('{web,app,store,email,social,direct}'),
		pg_temp.at(since, until), round((random() * 3)::numeric, 2)
	FROM (SELECT 1 + floor(random() ^ 2 * 200)::integer AS c FROM generate_series(1, n / 2)) AS g;
	INSERT INTO rnd.conversions
	SELECT c * 10 + floor(random() * 3)::integer, c, pg_temp.at(since, until),
		CASE WHEN random() < 0.9 THEN round((10 + random() * 90)::numeric, 2) END
	FROM (SELECT 1 + floor(random() ^ 2 * 200)::integer AS c FROM generate_series(1, n / 8)) AS g;
	-- an order's later times (ready, collected, returned) that would lie
	-- after until have not happened yet
	INSERT INTO rnd.orders
	SELECT next_order + i, c, pg_temp.pick('{web,app,store,kiosk}'), o,
		round((5 + random() * 200)::numeric, 2), f,
		CASE WHEN f = 'bopis' AND random() < 0.8 AND ready <= until THEN ready END,
		CASE WHEN f = 'bopis' AND random() < 0.6 AND collected <= until THEN collected END,
		CASE WHEN random() < 0.15 AND returned <= until THEN returned END,
		pg_temp.pick('{web,store,NULL}')
	FROM (SELECT i, 1 + floor(random() ^ 2 * 200)::integer AS c, o,
				 pg_temp.pick('{delivery,bopis,Click & Collect,in_store}') AS f,
				 o + random() * interval '30 hours' AS ready,
				 o + interval '30 hours' + random() * interval '40 hours' AS collected,
				 o + random() * interval '2 days' AS returned
		  FROM (SELECT i, pg_temp.at(since, until) AS o FROM generate_series(1, n / 6) AS i) AS t) AS g;
END
$$;
SELECT pg_temp.add_rows(3000, '2026-01-01', '2026-03-20');
-- Two customers for step 7: one whose only contact, in January, keeps them
-- active through March; one with orders and no contact yet.
INSERT INTO rnd.interactions (customer_id, journey_id, channel, occurred_at, phase)
VALUES (502, 5020, 'web', '2026-01-02 10:00', 'awareness');
INSERT INTO rnd.orders (order_id, customer_id, channel, ordered_at, amount, fulfillment)
VALUES (-1, 501, 'web', '2026-01-10 12:00', 30.5, 'delivery'), (-2, 501, 'store', '2026-02-10 12:00', NULL, 'in_store');

-- Two forms, each materialized and plain over the same tables.
CREATE SCHEMA rnd_ids;
CREATE SCHEMA rnd_ids_plain;
CREATE SCHEMA rnd_derived;
CREATE SCHEMA rnd_derived_plain;
CREATE FUNCTION pg_temp.create_views(target name, materialized boolean) RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM omnikpi.create_kpi_views(target, interactions => 'rnd.interactions', orders => 'rnd.orders',
		touchpoints => 'rnd.touchpoints', conversions => 'rnd.conversions', rating_scale_min => 1, rating_scale_max => 5,
		store_channels => '{store,kiosk}', materialized => materialized,
		translations => '{"fulfillment": {"Click & Collect": "bopis"}}',
		columns => CASE WHEN target LIKE 'rnd_derived%' THEN
			'{"interactions": {"journey_id": null}, "touchpoints": {"journey_id": null}, "conversions": {"journey_id": null}}'
			ELSE '{}' END::jsonb,
		time_zone => CASE WHEN target LIKE 'rnd_derived%' THEN 'America/New_York' ELSE 'UTC' END,
		lookback => '10 days', max_touches => CASE WHEN target LIKE 'rnd_derived%' THEN 3 END,
		exclude_channels => CASE WHEN target LIKE 'rnd_derived%' THEN '{direct}' ELSE '{}' END::text[],
		journey_gap => '2 days')
	WHERE status IN ('created', 'materialized')
$$;
SELECT pg_temp.create_views('rnd_ids', true) AS ids, pg_temp.create_views('rnd_ids_plain', false) AS ids_plain,
	pg_temp.create_views('rnd_derived', true) AS derived, pg_temp.create_views('rnd_derived_plain', false) AS derived_plain;

-- Every KPI and entity table of both forms against the plain form
-- (omnikpi.kpi_view_differences: KPIs matched on their key, floats within a
-- relative 1e-9; entity tables row for row), the differing ones by name.
CREATE FUNCTION pg_temp.compare(label text) RETURNS TABLE (step text, relations bigint, differing text)
LANGUAGE sql AS $$
	SELECT label, count(*),
		coalesce(string_agg(f.form || '.' || d.relation || ' ' || coalesce(d.differing_rows::text, 'columns'), ', '
							ORDER BY f.form, d.relation)
				 FILTER (WHERE d.differing_rows IS DISTINCT FROM 0), 'none')
	FROM (VALUES ('rnd_ids'), ('rnd_derived')) AS f(form)
	CROSS JOIN LATERAL omnikpi.kpi_view_differences(f.form::name, (f.form || '_plain')::name) AS d
$$;
CREATE FUNCTION pg_temp.refresh_and_compare(label text) RETURNS TABLE (step text, relations bigint, differing text)
LANGUAGE plpgsql AS $$
BEGIN
	CALL omnikpi.refresh_kpi_views('rnd_ids');
	CALL omnikpi.refresh_kpi_views('rnd_derived');
	RETURN QUERY SELECT * FROM pg_temp.compare(label);
END
$$;

-- Every KPI and entity table has rows, and the first build agrees.
CREATE FUNCTION pg_temp.row_count(relation regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s', relation) INTO n;
	RETURN n;
END
$$;
SELECT o.kind, count(*) AS relations, count(*) FILTER (WHERE pg_temp.row_count(o.relation) = 0) AS empty
FROM (VALUES ('rnd_ids'), ('rnd_derived')) AS f(form)
CROSS JOIN LATERAL omnikpi.kpi_objects(f.form::name) AS o
WHERE o.kind IN ('kpi view', 'entity table')
GROUP BY 1 ORDER BY 1;
SELECT * FROM pg_temp.compare('first build');

-- 1. Three new days, refreshed one by one.
SELECT pg_temp.add_rows(120, '2026-03-20', '2026-03-21');
SELECT * FROM pg_temp.refresh_and_compare('new day 1');
SELECT pg_temp.add_rows(120, '2026-03-21', '2026-03-22');
SELECT * FROM pg_temp.refresh_and_compare('new day 2');
SELECT pg_temp.add_rows(120, '2026-03-22', '2026-03-23');
SELECT * FROM pg_temp.refresh_and_compare('new day 3');

-- 2. Late rows inside the window (the last two days), with a new day.
SELECT pg_temp.add_rows(150, '2026-03-21', '2026-03-23');
SELECT pg_temp.add_rows(100, '2026-03-23', '2026-03-24');
SELECT * FROM pg_temp.refresh_and_compare('late rows');

-- 3. Updates inside the window: other channels, ratings, phases, times
-- moved within it, contacts and touches moved to another customer,
-- returns of older orders (their return is the change), conversions
-- re-valued.
UPDATE rnd.interactions SET channel = pg_temp.pick('{web,app,store,kiosk}'), satisfaction = 5
WHERE occurred_at >= '2026-03-22' AND random() < 0.2;
UPDATE rnd.interactions SET occurred_at = occurred_at - interval '13 hours', phase = 'loyalty'
WHERE occurred_at >= '2026-03-22 12:00' AND random() < 0.2;
UPDATE rnd.interactions SET customer_id = 1 + (customer_id + 17) % 200
WHERE occurred_at >= '2026-03-22' AND random() < 0.1;
UPDATE rnd.touchpoints SET customer_id = 1 + (customer_id + 5) % 200, channel = 'web'
WHERE touched_at >= '2026-03-22' AND random() < 0.2;
UPDATE rnd.conversions SET value = value * 2, converted_at = converted_at + interval '1 hour'
WHERE converted_at >= '2026-03-22' AND random() < 0.3;
UPDATE rnd.orders SET returned_at = '2026-03-23 10:00', return_channel = 'store'
WHERE returned_at IS NULL AND ordered_at >= '2026-03-01' AND random() < 0.1;
UPDATE rnd.orders SET collected_at = ready_at + interval '2 hours' WHERE ordered_at >= '2026-03-22' AND fulfillment = 'bopis';
SELECT * FROM pg_temp.refresh_and_compare('updates');

-- 4. Deletes inside the window.
DELETE FROM rnd.interactions WHERE occurred_at >= '2026-03-22' AND random() < 0.25;
DELETE FROM rnd.touchpoints WHERE touched_at >= '2026-03-22' AND random() < 0.25;
DELETE FROM rnd.conversions WHERE converted_at >= '2026-03-22' AND random() < 0.25;
DELETE FROM rnd.orders WHERE ordered_at >= '2026-03-22' AND random() < 0.25;
SELECT * FROM pg_temp.refresh_and_compare('deletes');

-- 5. Five rounds of everything at once, a day further each time.
CREATE FUNCTION pg_temp.round(i integer) RETURNS TABLE (step text, relations bigint, differing text) LANGUAGE plpgsql AS $$
DECLARE
	day timestamptz := timestamptz '2026-03-23' + i * interval '1 day';
BEGIN
	PERFORM pg_temp.add_rows(120, day, day + interval '1 day');
	PERFORM pg_temp.add_rows(40, day - interval '1 day', day + interval '1 day');
	UPDATE rnd.interactions SET channel = 'chat', resolved = NOT resolved
	WHERE occurred_at >= day - interval '1 day' AND random() < 0.1;
	UPDATE rnd.orders SET returned_at = day + interval '3 hours', return_channel = 'web'
	WHERE returned_at IS NULL AND ordered_at >= day - interval '15 days' AND random() < 0.05;
	DELETE FROM rnd.touchpoints WHERE touched_at >= day - interval '1 day' AND random() < 0.1;
	DELETE FROM rnd.conversions WHERE converted_at >= day - interval '1 day' AND random() < 0.1;
	RETURN QUERY SELECT * FROM pg_temp.refresh_and_compare('round ' || i);
END
$$;
SELECT r.* FROM generate_series(1, 5) AS i CROSS JOIN LATERAL pg_temp.round(i) AS r;

-- 6. Changes older than the window are not seen by an incremental refresh:
-- a late contact and an order in February, a January rating changed.  The
-- KPIs of those months keep their numbers ...
SELECT pg_temp.add_rows(30, '2026-02-10', '2026-02-11');
UPDATE rnd.interactions SET satisfaction = 1 WHERE occurred_at < '2026-01-15' AND satisfaction = 5;
CALL omnikpi.refresh_kpi_views('rnd_ids');
CALL omnikpi.refresh_kpi_views('rnd_derived');
SELECT d.kind, count(*) AS relations, count(*) FILTER (WHERE d.differing_rows > 0) AS differing
FROM (VALUES ('rnd_ids'), ('rnd_derived')) AS f(form)
CROSS JOIN LATERAL omnikpi.kpi_view_differences(f.form::name, (f.form || '_plain')::name) AS d
GROUP BY 1 ORDER BY 1;
-- ... until a full rebuild.
CALL omnikpi.refresh_kpi_views('rnd_ids', full_rebuild => true);
CALL omnikpi.refresh_kpi_views('rnd_derived', full_rebuild => true);
SELECT * FROM pg_temp.compare('full rebuild');
-- ... and the incremental refreshes after it agree again.
SELECT pg_temp.add_rows(120, '2026-03-29', '2026-03-30');
SELECT * FROM pg_temp.refresh_and_compare('after the rebuild');

-- 7. A new month, then a refresh whose window starts in it: the January
-- customer comes back (the churn their March left in April is undone: a
-- refresh adds up only the months from the one before its window on), and
-- the customer with orders gets a first contact, so a profile that counts
-- all their orders (a refresh counts a touched profile's orders again only
-- when one changed or it had no profile).
SELECT pg_temp.add_rows(120, '2026-04-01', '2026-04-05');
SELECT * FROM pg_temp.refresh_and_compare('a new month');
INSERT INTO rnd.interactions (customer_id, journey_id, channel, occurred_at, phase)
VALUES (501, 5010, 'store', '2026-04-06 10:00', 'decision'), (502, 5020, 'app', '2026-04-06 11:00', 'loyalty');
SELECT pg_temp.add_rows(120, '2026-04-06', '2026-04-07');
SELECT * FROM pg_temp.refresh_and_compare('a customer back, one new');
SELECT customer_id, orders, revenue, active_months[cardinality(active_months) - 3:]
FROM rnd_ids.customer_profiles WHERE customer_id IN (501, 502) ORDER BY customer_id;

-- 8. A refresh keeps its window's rows and the next one recomputes only
-- the entities whose rows changed: customers (20 at a time), journeys, paths and orders
-- whose every row in the window is deleted are found by the deleted rows.
-- A refresh whose window starts before the kept one (a longer late_window)
-- counts every row of its window as changed and finds those by their
-- stored rows.
CREATE FUNCTION pg_temp.delete_customers(first_customer integer, since timestamptz)
RETURNS TABLE (interactions bigint, touchpoints bigint, conversions bigint, orders bigint) LANGUAGE sql AS $$
	WITH i AS (DELETE FROM rnd.interactions WHERE customer_id BETWEEN first_customer AND first_customer + 19
			   AND occurred_at >= since RETURNING 1),
	t AS (DELETE FROM rnd.touchpoints WHERE customer_id BETWEEN first_customer AND first_customer + 19
		  AND touched_at >= since RETURNING journey_id),
	c AS (DELETE FROM rnd.conversions WHERE converted_at >= since AND journey_id IN (
		  SELECT journey_id FROM rnd.touchpoints WHERE customer_id BETWEEN first_customer AND first_customer + 19) RETURNING 1),
	o AS (DELETE FROM rnd.orders WHERE customer_id BETWEEN first_customer AND first_customer + 19
		  AND ordered_at >= since RETURNING 1)
	SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM t), (SELECT count(*) FROM c), (SELECT count(*) FROM o)
$$;
SELECT * FROM pg_temp.delete_customers(11, '2026-04-05');
SELECT * FROM pg_temp.refresh_and_compare('whole customers deleted');
SELECT * FROM pg_temp.delete_customers(41, '2026-04-02');
CALL omnikpi.refresh_kpi_views('rnd_ids', late_window => '6 days');
CALL omnikpi.refresh_kpi_views('rnd_derived', late_window => '6 days');
SELECT * FROM pg_temp.compare('a longer late window');
SELECT * FROM pg_temp.delete_customers(71, '2026-04-05');
SELECT * FROM pg_temp.refresh_and_compare('the usual window again');

SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('rnd_ids');
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('rnd_derived');
DROP SCHEMA rnd, rnd_ids, rnd_ids_plain, rnd_derived, rnd_derived_plain CASCADE;
