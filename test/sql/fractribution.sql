-- fractribution_attribution: Google's fractribution model over a
-- journey_paths summary.  A hand-worked example covering every rule (single
-- channel, floored negatives, an unobserved counterfactual, the last-touch
-- fallback, a channel twice on a path), the same numbers from one row per
-- journey, agreement with the model written in plain SQL on generated data,
-- long paths, and the errors.
\set SHOW_CONTEXT never
-- tables of its own: every test file runs in the same database
CREATE SCHEMA fractribution_test;
SET search_path = fractribution_test, public;

-- Paths already counted (path, conversions, non_conversions, value) and the
-- conversion probability p = conversions / (conversions + non_conversions):
--   a      1 of 4, value 10    p = 1/4
--   b      1 of 2, value 20    p = 1/2
--   a>b    3 of 4, value 300   p = 3/4
--   b>a    1 of 4, value 50    p = 1/4
--   a>b>a  1 of 1, value 40    p = 1
--   c>b    1 of 2, value 20    p = 1/2
--   c      0 of 2              p = 0
-- Credits, with marginal(k) = max(p(path) - p(path without position k), 0):
--   a, b: one channel each, all their credit: a 1 (10), b 1 (20).
--   a>b: without a -> b: 3/4 - 1/2 = 1/4; without b -> a: 3/4 - 1/4 = 1/2;
--        normalized a 1/3, b 2/3 of 3 conversions: a 1, b 2; value a 100, b 200.
--   b>a: without b -> a: 1/4 - 1/4 = 0; without a -> b: 1/4 - 1/2 < 0 -> 0;
--        all zero: last touch, a 1 (50).
--   a>b>a: without the first a -> b>a: 1 - 1/4 = 3/4; without b -> a>a, never
--        observed: 1 - 0 = 1; without the last a -> a>b: 1 - 3/4 = 1/4; sum 2:
--        a 3/8 + 1/8 = 1/2, b 1/2 of 1 conversion; value a 20, b 20.
--   c>b: without c -> b: 1/2 - 1/2 = 0; without b -> c: 1/2 - 0 = 1/2: b 1 (20).
--   c: no conversions, nothing to credit.
-- Totals: a 1 + 1 + 1 + 1/2 = 3.5, b 1 + 2 + 1/2 + 1 = 4.5, c 0 (sum 8);
-- value a 10 + 100 + 50 + 20 = 180, b 20 + 200 + 20 + 20 = 260, c 0 (sum 440).
CREATE TABLE counted (path text[], conversions float8, non_conversions float8, value float8);
INSERT INTO counted VALUES
	('{a}', 1, 3, 10), ('{b}', 1, 1, 20), ('{a,b}', 3, 1, 300), ('{b,a}', 1, 3, 50),
	('{a,b,a}', 1, 0, 40), ('{c,b}', 1, 1, 20), ('{c}', 0, 2, 0);
SELECT channel, round(conversions::numeric, 6) AS conversions, round(value::numeric, 6) AS value,
	   round(share::numeric, 6) AS share
FROM fractribution_attribution((SELECT journey_paths(path, conversions, non_conversions, value) FROM counted))
ORDER BY channel;

-- The same from one row per journey, with repeats that collapse (a>a>b is
-- a>b) and NULL channels that are skipped: the same summary, the same credits.
CREATE TABLE journeys (journey int, path text[], converted boolean, value float8);
INSERT INTO journeys VALUES
	(1, '{a}', true, 10), (2, '{a,a}', false, NULL), (3, '{a}', false, NULL), (4, '{a,NULL}', false, NULL),
	(5, '{b}', true, 20), (6, '{b}', false, NULL),
	(7, '{a,b}', true, 100), (8, '{a,a,b}', true, 150), (9, '{a,b,b}', true, 50), (10, '{a,b}', false, NULL),
	(11, '{b,a}', true, 50), (12, '{b,a}', false, NULL), (13, '{b,b,a}', false, NULL), (14, '{b,a,a}', false, NULL),
	(15, '{a,b,a}', true, 40),
	(16, '{c,b}', true, 20), (17, '{c,NULL,b}', false, NULL),
	(18, '{c}', false, NULL), (19, '{c,c}', false, NULL);
SELECT (SELECT journey_paths(path, converted, value) FROM journeys)::text
	 = (SELECT journey_paths(path, conversions, non_conversions, value) FROM counted)::text AS same_summary;
SELECT channel, round(conversions::numeric, 6) AS conversions, round(value::numeric, 6) AS value
FROM fractribution_attribution((SELECT journey_paths(path, converted, value) FROM journeys))
ORDER BY channel;

-- Plain SQL, straight from the definition, over generated journeys: 3,000
-- journeys over 5 channels, paths of 1 to 5 touches.
CREATE TABLE generated AS
SELECT g AS journey,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'email', 'social'])[1 + abs(hashint4(g * 16 + k)) % 5]
			 FROM generate_series(1, 1 + g % 5) k) AS path,
	   abs(hashint4(-g)) % 7 < 3 AS converted,
	   (5 + g % 45)::float8 AS value
FROM generate_series(1, 3000) g;
-- the summary's paths are the journeys' paths with consecutive repeats collapsed
WITH collapsed AS (
	SELECT journey, converted, value,
		   ARRAY(SELECT c FROM unnest(path) WITH ORDINALITY u(c, k)
				 WHERE k = 1 OR c IS DISTINCT FROM path[k - 1] ORDER BY k) AS path
	FROM generated),
plain AS (
	SELECT path, count(*) FILTER (WHERE converted)::float8 AS conversions,
		   count(*) FILTER (WHERE NOT converted)::float8 AS non_conversions,
		   coalesce(sum(value) FILTER (WHERE converted), 0) AS value
	FROM collapsed GROUP BY path)
SELECT count(*) AS paths, count(p.path) AS matched
FROM plain c FULL JOIN paths((SELECT journey_paths(path, converted, value) FROM generated)) p
  ON p.path = c.path AND p.conversions = c.conversions AND p.non_conversions = c.non_conversions
 AND p.value = c.value;
WITH p AS (
	SELECT path, conversions, value, conversions / (conversions + non_conversions) AS prob
	FROM paths((SELECT journey_paths(path, converted, value) FROM generated))),
marginals AS (
	SELECT p.path, p.conversions, p.value, k, p.path[k] AS channel,
		   CASE WHEN cardinality(p.path) = 1 THEN p.prob
				ELSE greatest(p.prob - coalesce((SELECT q.prob FROM p q WHERE q.path = p.path[:k - 1] || p.path[k + 1:]), 0), 0)
		   END AS marginal
	FROM p, generate_subscripts(p.path, 1) k
	WHERE p.conversions > 0),
shares AS (
	SELECT channel, conversions, value,
		   CASE WHEN sum(marginal) OVER (PARTITION BY path) > 0 THEN marginal / sum(marginal) OVER (PARTITION BY path)
				WHEN k = cardinality(path) THEN 1 ELSE 0 END AS share
	FROM marginals),
plain AS (
	SELECT channel, sum(share * conversions) AS conversions, sum(share * value) AS value
	FROM shares GROUP BY channel)
SELECT count(*) AS channels,
	   max(abs(f.conversions - p.conversions)) < 1e-9 AS conversions_match,
	   max(abs(f.value - p.value)) < 1e-7 AS values_match,
	   round(sum(f.conversions)::numeric, 9) AS conversions,
	   (SELECT count(*) FROM generated WHERE converted) AS converted_journeys
FROM fractribution_attribution((SELECT journey_paths(path, converted, value) FROM generated)) f
JOIN plain p USING (channel);

-- Long paths: email>web>...>web, 2,000 alternating touches, converted once
-- (p = 1), and email>web>...>email, its first 1,999 touches, 1 of 3 (p = 1/3).
-- The long path: without its last touch it is the short one, 1 - 1/3 = 2/3;
-- every other removal gives a path never observed, 1.  Email 1000 / (1999 + 2/3)
-- = 0.500083, web (999 + 2/3) / (1999 + 2/3) = 0.499917.  The short path:
-- every removal gives a path never observed, 1/3 each: email 1000/1999,
-- web 999/1999.  Email 0.500083 + 0.500250 = 1.000333, web 0.999667.
SELECT channel, round(conversions::numeric, 6) AS conversions, round(share::numeric, 6) AS share
FROM fractribution_attribution((
	SELECT journey_paths(path, converted)
	FROM (SELECT ARRAY(SELECT CASE WHEN k % 2 = 0 THEN 'web' ELSE 'email' END FROM generate_series(1, n) k) AS path,
				 converted
		  FROM (VALUES (2000, true), (1999, false), (1999, true), (1999, false)) v(n, converted)) l))
ORDER BY channel;

-- Errors and NULLs: no conversions (22023), a NULL summary (no rows).
SELECT * FROM fractribution_attribution((SELECT journey_paths(path, false) FROM journeys));
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS no_rows FROM fractribution_attribution(NULL);

RESET search_path;
