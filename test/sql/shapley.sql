-- shapley_attribution: exact Shapley values over the channel sets of a
-- journey_paths summary.  A hand-computed three-channel game for both
-- characteristic functions, efficiency (the values add up to v(N)) and
-- symmetry (channels in identical roles get identical values) on larger data,
-- agreement with a brute-force enumeration of all orderings written in plain
-- SQL, the closed form against plain SQL, 20 channels, and the errors.
\set SHOW_CONTEXT never
-- tables of its own: every test file runs in the same database
CREATE SCHEMA shapley_test;
SET search_path = shapley_test, public;

-- The hand game: channels a, b, c; journeys by channel set (journeys,
-- converted, value of the conversions):
--   {a}   4 journeys, 1 converted, value 10
--   {b}   2 journeys, 1 converted, value 20
--   {a,b} 2 journeys, 2 converted, value 30 each (the paths a>b and b>a>b)
--   {c}   2 journeys, 0 converted
--   {b,c} 1 journey,  1 converted, value 12
-- 11 journeys, 5 conversions, value 102.
CREATE TABLE hand (journey int, path text[], converted boolean, value float8);
INSERT INTO hand VALUES
	(1, '{a}', true, 10), (2, '{a}', false, NULL), (3, '{a,a}', false, NULL), (4, '{a}', false, NULL),
	(5, '{b}', true, 20), (6, '{b}', false, NULL),
	(7, '{a,b}', true, 30), (8, '{b,a,b}', true, 30),
	(9, '{c}', false, NULL), (10, '{c,NULL}', false, NULL),
	(11, '{b,c}', true, 12);

-- Characteristic "conversions" (Zhao et al. 2018): v(S) = conversions of the
-- journeys whose channel set lies inside S.  Its Shapley value splits every
-- converting journey equally over its distinct channels:
--   a: {a} 1 + {a,b} 2/2 = 2;  b: {b} 1 + {a,b} 2/2 + {b,c} 1/2 = 2.5;  c: 1/2 = 0.5.
--   value: a 10 + 60/2 = 40;  b 20 + 60/2 + 12/2 = 56;  c 12/2 = 6.
SELECT channel, round(conversions::numeric, 6) AS conversions, round(value::numeric, 6) AS value,
	   round(share::numeric, 6) AS share
FROM shapley_attribution((SELECT journey_paths(path, converted, value) FROM hand)) ORDER BY channel;
-- the default characteristic is "conversions", and names are case-insensitive
SELECT count(*) AS same_as_default
FROM shapley_attribution((SELECT journey_paths(path, converted, value) FROM hand)) d
JOIN shapley_attribution((SELECT journey_paths(path, converted, value) FROM hand), 'Conversions') c
  USING (channel, conversions, value, share);

-- Characteristic "conversion_rate": v(S) = conversions / journeys of the
-- journeys whose channel set lies inside S:
--   v(a) = 1/4, v(b) = 1/2, v(c) = 0/2 = 0, v(ab) = 4/8 = 1/2,
--   v(ac) = 1/6, v(bc) = 2/5, v(abc) = 5/11.
-- With 3 players the weights are 1/3 (|S| = 0), 1/6 (|S| = 1), 1/3 (|S| = 2):
--   phi_a = 1/3*1/4 + 1/6*(1/2 - 1/2) + 1/6*(1/6 - 0) + 1/3*(5/11 - 2/5) = 64/495 = 0.129293
--   phi_b = 1/3*1/2 + 1/6*(1/2 - 1/4) + 1/6*(2/5 - 0) + 1/3*(5/11 - 1/6) = 0.370960
--   phi_c = 1/3*0 + 1/6*(1/6 - 1/4) + 1/6*(2/5 - 1/2) + 1/3*(5/11 - 1/2) = -0.045707
-- They sum to v(abc) = 5/11; times the 11 journeys: a 1.422222, b 4.080556,
-- c -0.502778, summing to the 5 conversions.  c lowers the rate of every
-- coalition it joins, so its credit is negative.
-- Value per journey: v(a) = 10/4, v(b) = 20/2, v(c) = 0, v(ab) = 90/8, v(ac) = 10/6,
-- v(bc) = 32/5, v(abc) = 102/11:
--   phi_a = 1/3*5/2 + 1/6*(45/4 - 10) + 1/6*(5/3 - 0) + 1/3*(102/11 - 32/5) = 2.277020,
--   times 11 = 25.047222; likewise b 92.330556, c -15.377778, summing to 102.
SELECT channel, round(conversions::numeric, 6) AS conversions, round(value::numeric, 6) AS value,
	   round(share::numeric, 6) AS share
FROM shapley_attribution((SELECT journey_paths(path, converted, value) FROM hand), 'conversion_rate')
ORDER BY channel;

-- A generated data set: 4,000 journeys over 8 channels, paths of 1 to 6 touches.
CREATE TABLE journeys AS
SELECT g AS journey,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])[1 + (g * 7 + k * k * 3 + g / 11) % 8]
			 FROM generate_series(1, 1 + g % 6) k) AS path,
	   (g * 13 + g / 7) % 5 < 2 AS converted,
	   (10 + g % 90)::float8 AS value
FROM generate_series(1, 4000) g;
SELECT count(*) AS journeys, count(*) FILTER (WHERE converted) AS conversions,
	   sum(value) FILTER (WHERE converted) AS value FROM journeys;

-- Efficiency: the credits add up to v(N), the conversions and value of all
-- journeys, and the shares to 1, under both characteristic functions.
SELECT c.name, round(sum(a.conversions)::numeric, 9) AS conversions, round(sum(a.value)::numeric, 6) AS value,
	   round(sum(a.share)::numeric, 12) AS shares, count(*) AS channels
FROM (VALUES ('conversions'), ('conversion_rate')) c(name)
CROSS JOIN LATERAL shapley_attribution((SELECT journey_paths(path, converted, value) FROM journeys), c.name) a
GROUP BY c.name ORDER BY c.name;

-- The closed form equals plain SQL: each converting journey's conversion and
-- value split equally over its distinct channels.
WITH plain AS (
	SELECT channel, sum(1.0 / n) AS conversions, sum(value / n) AS value
	FROM (SELECT journey, value, (SELECT count(DISTINCT c) FROM unnest(path) c) AS n, path
		  FROM journeys WHERE converted) j
	CROSS JOIN LATERAL (SELECT DISTINCT c AS channel FROM unnest(j.path) c) d
	GROUP BY channel)
SELECT count(*) AS channels,
	   max(abs(p.conversions - s.conversions)) < 1e-9 AS conversions_match,
	   max(abs(p.value - s.value)) < 1e-6 AS values_match
FROM plain p JOIN shapley_attribution((SELECT journey_paths(path, converted, value) FROM journeys)) s USING (channel);

-- Symmetry: mirror every journey with the channels x and y swapped; x and y
-- then play identical roles and get identical values, while z and w differ.
CREATE TABLE mirrored AS
SELECT g AS journey,
	   ARRAY(SELECT (ARRAY['x', 'y', 'z', 'w'])[1 + (g * 5 + k * 3 + g / 3) % 4] FROM generate_series(1, 1 + g % 4) k) AS path,
	   g % 3 = 0 OR g % 7 = 0 AS converted, (g % 50)::float8 AS value
FROM generate_series(1, 500) g;
INSERT INTO mirrored
SELECT journey + 1000, ARRAY(SELECT CASE c WHEN 'x' THEN 'y' WHEN 'y' THEN 'x' ELSE c END FROM unnest(path) c),
	   converted, value
FROM mirrored;
SELECT c.name, a.channel, round(a.conversions::numeric, 9) AS conversions, round(a.value::numeric, 6) AS value
FROM (VALUES ('conversions'), ('conversion_rate')) c(name)
CROSS JOIN LATERAL shapley_attribution((SELECT journey_paths(path, converted, value) FROM mirrored), c.name) a
ORDER BY c.name, a.channel;
SELECT c.name, bool_and(abs(x.conversions - y.conversions) < 1e-12 AND abs(x.value - y.value) < 1e-9) AS x_equals_y
FROM (VALUES ('conversions'), ('conversion_rate')) c(name)
CROSS JOIN LATERAL shapley_attribution((SELECT journey_paths(path, converted, value) FROM mirrored), c.name) x
CROSS JOIN LATERAL shapley_attribution((SELECT journey_paths(path, converted, value) FROM mirrored), c.name) y
WHERE x.channel = 'x' AND y.channel = 'y'
GROUP BY c.name ORDER BY c.name;

-- Brute force in plain SQL: the Shapley value as the mean, over all n!
-- orderings of the channels, of each channel's marginal contribution
-- v(channels before it and itself) - v(channels before it), with v read
-- straight from the journeys.  Checked on the hand game and on a 5-channel
-- sample of the generated journeys (120 orderings).
CREATE FUNCTION brute_force_shapley(journeys_query text, rate boolean)
	RETURNS TABLE (channel text, conversions float8, value float8)
	LANGUAGE plpgsql AS $fn$
BEGIN
	DROP TABLE IF EXISTS bf_journeys;
	EXECUTE format('CREATE TEMP TABLE bf_journeys AS %s', journeys_query);
	RETURN QUERY
	WITH channels AS (
		SELECT (row_number() OVER (ORDER BY c) - 1)::int AS bit, c AS name
		FROM (SELECT DISTINCT c FROM bf_journeys, unnest(path) c) d),
	n AS (SELECT count(*)::int AS n FROM channels),
	coalitions AS (
		SELECT m AS mask, ARRAY(SELECT name FROM channels WHERE m & (1 << bit) <> 0) AS members
		FROM n, generate_series(0, (1 << n.n) - 1) m),
	game AS (
		SELECT k.mask,
			   CASE WHEN NOT rate THEN count(*) FILTER (WHERE j.converted)::float8
					WHEN count(j.path) = 0 THEN 0
					ELSE count(*) FILTER (WHERE j.converted)::float8 / count(j.path) END AS v_conv,
			   CASE WHEN NOT rate THEN coalesce(sum(j.value) FILTER (WHERE j.converted), 0)
					WHEN count(j.path) = 0 THEN 0
					ELSE coalesce(sum(j.value) FILTER (WHERE j.converted), 0) / count(j.path) END AS v_value
		FROM coalitions k LEFT JOIN bf_journeys j ON j.path <@ k.members
		GROUP BY k.mask),
	orderings AS (
		WITH RECURSIVE o(perm) AS (
			SELECT ARRAY[]::int[]
			UNION ALL
			SELECT o.perm || c.bit::int FROM o, channels c, n
			WHERE cardinality(o.perm) < n.n AND NOT c.bit::int = ANY (o.perm))
		SELECT perm FROM o, n WHERE cardinality(perm) = n.n),
	steps AS (
		SELECT o.perm[k] AS bit,
			   (SELECT coalesce(sum(1 << b), 0) FROM unnest(o.perm[1:k - 1]) b)::int AS before
		FROM orderings o, n, generate_series(1, n.n) k)
	SELECT c.name, avg(a.v_conv - b.v_conv) * CASE WHEN rate THEN (SELECT count(*) FROM bf_journeys) ELSE 1 END,
		   avg(a.v_value - b.v_value) * CASE WHEN rate THEN (SELECT count(*) FROM bf_journeys) ELSE 1 END
	FROM steps s
	JOIN channels c ON c.bit = s.bit
	JOIN game b ON b.mask = s.before
	JOIN game a ON a.mask = s.before | (1 << s.bit)
	GROUP BY c.name;
END
$fn$;

-- The hand game's conversion_rate values again, by brute force:
SELECT channel, round(conversions::numeric, 6) AS conversions, round(value::numeric, 6) AS value
FROM brute_force_shapley($$SELECT array_remove(path, NULL) AS path, converted, value FROM hand$$, true)
ORDER BY channel;

-- The 5-channel sample: journeys that touch only web, app, store, chat and email.
CREATE TABLE sample5 AS
SELECT path, converted, value FROM journeys
WHERE path <@ '{web,app,store,chat,email}' AND journey % 3 <> 0;
SELECT count(*) AS journeys, (SELECT count(DISTINCT c) FROM sample5, unnest(path) c) AS channels FROM sample5;
CREATE TABLE brute AS
SELECT r.rate, b.* FROM (VALUES (false), (true)) r(rate),
	 LATERAL brute_force_shapley('SELECT path, converted, value FROM sample5', r.rate) b;
SELECT b.rate, count(*) AS channels,
	   max(abs(b.conversions - s.conversions)) < 1e-9 AS conversions_match,
	   max(abs(b.value - s.value)) < 1e-7 AS values_match
FROM brute b
JOIN LATERAL shapley_attribution((SELECT journey_paths(path, converted, value) FROM sample5),
								 CASE WHEN b.rate THEN 'conversion_rate' ELSE 'conversions' END) s
  ON s.channel = b.channel
GROUP BY b.rate ORDER BY b.rate;

-- Twenty channels: 2^20 coalitions, still exact and efficient.  Journey g
-- touches channel c<k> when bits k of a hash of g say so, and c<g mod 20>.
CREATE TABLE wide AS
SELECT g AS journey,
	   ARRAY(SELECT 'c' || lpad(k::text, 2, '0') FROM generate_series(0, 19) k WHERE (g * 2654435761::bigint >> k) % 3 = 0 OR k = g % 20) AS path,
	   g % 4 = 0 AS converted, 1::float8 AS value
FROM generate_series(1, 3000) g;
SELECT channel_count(journey_paths(path, converted)) AS channels,
	   count(*) FILTER (WHERE converted) AS conversions FROM wide;
SELECT count(*) AS channels, round(sum(conversions)::numeric, 9) AS conversions,
	   round(sum(value)::numeric, 9) AS value, round(sum(share)::numeric, 12) AS shares
FROM shapley_attribution((SELECT journey_paths(path, converted, value) FROM wide), 'conversion_rate');
-- one more channel is over the limit of the conversion-rate game (54000), not
-- of the closed form
SELECT count(*) FROM shapley_attribution((SELECT journey_paths(path || 'c20'::text, converted, value) FROM wide), 'conversion_rate');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS channels, round(sum(conversions)::numeric, 9) AS conversions
FROM shapley_attribution((SELECT journey_paths(path || ('extra' || journey % 100), converted, value) FROM wide));

-- Errors and NULLs: an unknown characteristic (22023, the hint lists the
-- valid ones), a summary without conversions (22023), NULL arguments (no rows).
SELECT * FROM shapley_attribution((SELECT journey_paths(path, converted) FROM hand), 'linear');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM shapley_attribution((SELECT journey_paths(path, false) FROM hand));
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS no_rows FROM shapley_attribution(NULL);
SELECT count(*) AS no_rows FROM shapley_attribution((SELECT journey_paths(path, converted) FROM hand), NULL);
-- without values, the value column is 0
SELECT channel, conversions, value FROM shapley_attribution((SELECT journey_paths(path, converted) FROM hand))
ORDER BY channel;

RESET search_path;
