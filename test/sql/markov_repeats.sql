-- The two conventions of markov_model for a channel touched twice in a row,
-- against chains solved by hand: 'collapse' (the default: a > a > b is a > b)
-- and 'keep' (the states of the path as it is, as the ChannelAttribution
-- package builds them: a > a > b passes through (a, a) at order 2).  Also:
-- at order 1 both give the same removal effects; models of the two
-- conventions do not mix; the convention survives text and binary round
-- trips; leaving out the journeys that did not convert (ChannelAttribution
-- without var_null) is the same as markov_model(...) with WHERE converted.

-- 1. Order 2.  Two journeys:
--   j1: b > a > a > c, converts (value 10)
--   j2: d > a > a > e, does not convert
-- collapse: j1 is b > a > c: start -> (b) -> (b,a) -> (a,c) -> conversion;
--   j2 is d > a > e: start -> (d) -> (d,a) -> (a,e) -> null.  The paths share
--   no state: P(conversion) = 1/2 (start -> (b)).
--   Without a, b or c no journey converts: effect 1; without d or e
--   P stays 1/2: effect 0.  Effects 1 + 1 + 1 = 3: a, b, c get 1/3 each.
-- keep: j1: start -> (b) -> (b,a) -> (a,a) -> (a,c) -> conversion;
--   j2: start -> (d) -> (d,a) -> (a,a) -> (a,e) -> null.  Both pass
--   through (a,a), which moves to (a,c) or (a,e) with 1/2 each, so
--   x(a,a) = 1/2 and P = 1/2 * 1/2 + 1/2 * 1/2 = 1/2.
--   Without b: only d's half remains, P = 1/4, effect 1/2; without d the
--   same, 1/2; without a or c: P = 0, effect 1; without e: effect 0.
--   Effects 1 + 1/2 + 1 + 1/2 + 0 = 3: a 1/3, b 1/6, c 1/3, d 1/6, e 0.
CREATE TABLE raw_clicks (path text[], converted boolean, value float8);
INSERT INTO raw_clicks VALUES ('{b,a,a,c}', true, 10), ('{d,a,a,e}', false, NULL);
SELECT r.repeats, a.channel, round(a.removal_effect::numeric, 12) AS removal_effect,
	   round(a.conversions::numeric, 12) AS conversions, round(a.value::numeric, 12) AS value
FROM (VALUES ('collapse'), ('keep')) r(repeats),
	 markov_attribution((SELECT markov_model(path, converted, value, 2, r.repeats) FROM raw_clicks)) a
ORDER BY r.repeats, a.channel;
-- the default is collapse; the states of each model
SELECT (SELECT markov_model(path, converted, value, 2) FROM raw_clicks)::text
	   = (SELECT markov_model(path, converted, value, 2, 'collapse') FROM raw_clicks)::text AS collapse_is_default;
SELECT r.repeats, t.from_state, t.to_state, t.transitions, t.probability
FROM (VALUES ('collapse'), ('keep')) r(repeats),
	 transitions((SELECT markov_model(path, converted, value, 2, r.repeats) FROM raw_clicks)) t
ORDER BY r.repeats, t.from_state, t.to_state;

-- 2. Order 1: a state's loop to itself only delays a journey, so the
-- removal effects are the same; the transitions are not.
--   j1: a > a > b converts; j2: a does not; j3: b > b does not.
--   collapse: start -> a 2, -> b 1; a -> b 1, a -> null 1; b -> conv 1, b -> null 1.
--   P = 2/3 * 1/2 * 1/2 + 1/3 * 1/2 = 1/3; without a: 1/3 * 1/2 = 1/6, effect
--   1/2; without b: 0, effect 1.
--   keep adds a -> a 1 and b -> b 1: x(b) = 1/3 x(b) + 1/3 gives 1/2 again,
--   x(a) = 1/3 x(a) + 1/3 x(b) gives 1/4 again, and so on.
CREATE TABLE loops (path text[], converted boolean);
INSERT INTO loops VALUES ('{a,a,b}', true), ('{a}', false), ('{b,b}', false);
SELECT c.channel, round(c.removal_effect::numeric, 12) = round(k.removal_effect::numeric, 12) AS same_effect,
	   round(c.removal_effect::numeric, 12) AS removal_effect
FROM markov_attribution((SELECT markov_model(path, converted, NULL, 1, 'collapse') FROM loops)) c
JOIN markov_attribution((SELECT markov_model(path, converted, NULL, 1, 'keep') FROM loops)) k USING (channel)
ORDER BY channel;
SELECT from_state, to_state, transitions
FROM transitions((SELECT markov_model(path, converted, NULL, 1, 'keep') FROM loops))
ORDER BY 1, 2;

-- 3. The counted form takes the convention too, and gives the same model.
SELECT (SELECT markov_model(path, c, n, v, 2, 'keep')
		FROM (SELECT path, count(*) FILTER (WHERE converted)::float8 AS c,
					 count(*) FILTER (WHERE NOT converted)::float8 AS n,
					 coalesce(sum(value) FILTER (WHERE converted), 0) AS v
			  FROM raw_clicks GROUP BY path) counted)::text
	   = (SELECT markov_model(path, converted, value, 2, 'keep') FROM raw_clicks)::text AS counted_same;

-- 4. The convention is part of the model: written in its text form (only
-- when repeats are kept) and read back (markov_bad_input reads it back from
-- the binary form), and models of the two conventions do not mix (22023).
CREATE TABLE kept (m markov_model);
INSERT INTO kept SELECT markov_model(path, converted, value, 2, 'KEEP') FROM raw_clicks;
SELECT m::text FROM kept;
SELECT m::text::markov_model::text = m::text AS text_round_trip FROM kept;
SELECT '{"version":1,"order":2,"repeats":"collapse","transitions":[]}'::markov_model::text AS collapse_read;
\set VERBOSITY sqlstate
SELECT '{"version":1,"order":2,"repeats":"raw","transitions":[]}'::markov_model;
SELECT '{"version":1,"order":2,"transitions":[["start",["a"],1],[["a"],["a","a"],1],[["a","a"],"null",1]]}'::markov_model;
SELECT rollup(m) FROM (SELECT m FROM kept UNION ALL
					   SELECT markov_model(path, converted, value, 2) FROM raw_clicks) x;
SELECT markov_model(path, converted, value, 2, r)
FROM raw_clicks, (VALUES ('keep'), ('collapse')) v(r);
SELECT markov_model(path, converted, value, 2, 'raw') FROM raw_clicks;
SELECT markov_model(path, converted, value, 2, NULL) FROM raw_clicks;
\set VERBOSITY default

-- 5. Leaving out the journeys that did not convert, as ChannelAttribution
-- does without var_null, is markov_model(...) over WHERE converted: every
-- journey then converts, and a channel's removal effect is the share of
-- the converting journeys that pass through it.
SELECT (SELECT markov_model(path, conversions, 0, value, 1)
		FROM (SELECT path, count(*)::float8 AS conversions, sum(value) AS value
			  FROM raw_clicks WHERE converted GROUP BY path) c)::text
	   = (SELECT markov_model(path, converted, value) FROM raw_clicks WHERE converted)::text
	   AS without_null_is_where_converted;
