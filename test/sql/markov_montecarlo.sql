-- The exact removal effects agree with an independent Monte-Carlo estimate:
-- random walks on the same chain, simulated in plain SQL, with and without
-- each channel.  A model of 20,000 generated journeys over 8 channels at
-- order 2 (about 70 states).  For each of the 9 scenarios (nothing removed,
-- then each channel removed) 20,000 walkers start at (start) and step by
-- the transition probabilities of transitions(); with channel c
-- removed, a step into a state containing c ends in (null).  The share of
-- walkers reaching (conversion) estimates P(conversion) with standard error
-- sqrt(p (1 - p) / n); the test asserts that the exact value lies within 4
-- standard errors (each check fails by chance with probability 6e-5).
--
-- The exact values: with nothing removed, P(conversion) of a chain built by
-- counting is the observed conversion rate (the observed visit counts
-- solve the chain's visit equations, so the expected conversions per
-- journey are the observed ones); with c removed it is (1 - removal_effect)
-- times that.
SELECT setseed(0.42);

-- conversion is more likely with email and store, and less with kiosk
CREATE TABLE mc_journeys AS
SELECT journey, path,
	   (hashint4(journey * 5 + 1) & 1023) < 150 + 250 * (path && '{email}')::int
											+ 150 * (path && '{store}')::int - 100 * (path && '{kiosk}')::int AS converted
FROM (SELECT j AS journey,
			 ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
							[1 + (hashint4(j * 32 + k) & 2147483647) % (3 + (hashint4(j * 32 + k + 7) & 2147483647) % 6)]
				   FROM generate_series(1, 1 + (hashint4(j) & 2147483647) % 8) k) AS path
	  FROM generate_series(1, 20000) j) g;
CREATE TABLE mc_model AS SELECT markov_model(path, converted, NULL, 2) AS model FROM mc_journeys;
SELECT count(*) AS channel_states FROM (SELECT DISTINCT from_state FROM transitions((SELECT model FROM mc_model))) s;

-- scenario '' removes nothing; otherwise the named channel
CREATE TABLE mc_expected AS
SELECT '' AS removed, (SELECT avg(converted::int) FROM mc_journeys)::float8 AS p
UNION ALL
SELECT channel, (1 - removal_effect) * (SELECT avg(converted::int) FROM mc_journeys)::float8
FROM markov_attribution((SELECT model FROM mc_model));

-- cumulative probabilities per scenario and state; a step into a removed
-- channel's state becomes (null); the last interval is closed at 2 so that
-- rounding in the sums never leaves a gap
CREATE TABLE mc_steps AS
SELECT e.removed, t.from_state,
	   CASE WHEN e.removed <> '' AND string_to_array(t.to_state, ' > ') @> ARRAY[e.removed]
			THEN '(null)' ELSE t.to_state END AS to_state,
	   coalesce(sum(t.probability) OVER w - t.probability, 0) AS lo,
	   CASE WHEN row_number() OVER w = count(*) OVER (PARTITION BY e.removed, t.from_state) THEN 2
			ELSE sum(t.probability) OVER w END AS hi
FROM mc_expected e, transitions((SELECT model FROM mc_model)) t
WINDOW w AS (PARTITION BY e.removed, t.from_state ORDER BY t.to_state ROWS UNBOUNDED PRECEDING);
CREATE INDEX ON mc_steps (removed, from_state);
ANALYZE mc_steps;

CREATE TABLE mc_walks AS
WITH RECURSIVE walk(removed, walker, state, u) AS (
	SELECT e.removed, g, '(start)', random()
	FROM mc_expected e, generate_series(1, 20000) g
	UNION ALL
	SELECT w.removed, w.walker, s.to_state, random()
	FROM walk w JOIN mc_steps s ON s.removed = w.removed AND s.from_state = w.state
								   AND w.u >= s.lo AND w.u < s.hi
	WHERE w.state NOT IN ('(conversion)', '(null)')
)
SELECT removed, count(*) FILTER (WHERE state = '(conversion)') AS conversions,
	   count(*) FILTER (WHERE state IN ('(conversion)', '(null)')) AS ended
FROM walk GROUP BY removed;

-- every walker ended, and each estimate is within 4 standard errors
SELECT count(*) AS scenarios, bool_and(w.ended = 20000) AS all_walks_ended,
	   bool_and(abs(e.p - w.conversions / 20000.0) < 4 * sqrt(e.p * (1 - e.p) / 20000)) AS exact_within_4_se
FROM mc_expected e JOIN mc_walks w USING (removed);
-- the removal effects are not all alike, so the check has teeth
SELECT max(removal_effect) - min(removal_effect) > 0.1 AS effects_differ
FROM markov_attribution((SELECT model FROM mc_model));
