-- Markov-chain attribution: markov_model, markov_attribution and
-- transitions on chains small enough to solve by hand (the algebra is
-- in the comments), the classic published example, the conventions (repeats
-- collapse, NULL channels skipped, empty paths skipped, orders 1 to 4), the
-- pre-counted form, rollup of daily models, text and binary round trips, and
-- use under OVER and with hash and sorted aggregation.

-- 1. The classic three-journey example (Anderl et al. 2016 and many blog
-- posts): C1 > C2 > C3 converts, C1 does not, C2 > C3 does not.
--   P(start->C1) = 2/3, P(start->C2) = 1/3, P(C1->C2) = 1/2, P(C1->null) = 1/2,
--   P(C2->C3) = 1, P(C3->conv) = 1/2, P(C3->null) = 1/2.
--   P(conv) = 2/3 * 1/2 * 1 * 1/2 + 1/3 * 1 * 1/2 = 1/6 + 1/6 = 1/3.
--   Without C1: only start -> C2 -> C3 -> conv = 1/3 * 1/2 = 1/6, effect 1 - (1/6)/(1/3) = 0.5.
--   Without C2 or C3: no path converts, effect 1.
--   Effects 0.5 + 1 + 1 = 2.5; one conversion shared 0.2, 0.4, 0.4.
CREATE TABLE classic (journey int, path text[], converted boolean);
INSERT INTO classic VALUES (1, '{C1,C2,C3}', true), (2, '{C1}', false), (3, '{C2,C3}', false);
SELECT markov_model(path, converted) FROM classic;
SELECT channel, round(removal_effect::numeric, 12) AS removal_effect,
	   round(conversions::numeric, 12) AS conversions, value
FROM markov_attribution((SELECT markov_model(path, converted) FROM classic))
ORDER BY channel;
SELECT from_state, to_state, transitions, round(probability::numeric, 12) AS probability
FROM transitions((SELECT markov_model(path, converted) FROM classic));

-- 2. A chain with a cycle and conversion values, order 1.
--   j1: a > b converts, value 100     j2: a        no conversion
--   j3: b converts, value 50          j4: b > a > b  no conversion
--   Counts: start->a 2, start->b 2; a->b 2, a->null 1; b->conv 2 (value 150),
--   b->a 1, b->null 1.  So P(a->b) = 2/3 and P(b->conv) = 1/2, P(b->a) = 1/4.
--   x_a = 2/3 x_b and x_b = 1/2 + 1/4 x_a, so x_b = 3/5, x_a = 2/5,
--   x_start = 1/2 * 2/5 + 1/2 * 3/5 = 1/2 (the observed rate, 2 of 4).
--   Without a: x_b = 1/2, x_start = 1/4, effect 1/2.  Without b: x_start = 0, effect 1.
--   Conversions: 2 * (1/2) / (3/2) = 2/3 to a, 4/3 to b.
--   Value: r_b = 150 / 4 = 37.5 per visit of b; v_b = 37.5 + 1/4 v_a, v_a = 2/3 v_b,
--   so v_b = 45, v_a = 30, v_start = 37.5 (= 150 / 4).  Without a: v_b = 37.5,
--   v_start = 18.75, effect 1/2; without b: effect 1.  Value: 50 to a, 100 to b.
CREATE TABLE cycle (journey int, path text[], converted boolean, value float8);
INSERT INTO cycle VALUES (1, '{a,b}', true, 100), (2, '{a}', false, NULL), (3, '{b}', true, 50),
	(4, '{b,a,b}', false, 999);	-- the value of a journey that did not convert is not used
SELECT channel, round(removal_effect::numeric, 12) AS removal_effect,
	   round(conversions::numeric, 12) AS conversions, round(value::numeric, 10) AS value
FROM markov_attribution((SELECT markov_model(path, converted, value) FROM cycle))
ORDER BY channel;
-- exact to 1e-12 against the fractions above, not just as printed
SELECT bool_and(abs(removal_effect - CASE channel WHEN 'a' THEN 0.5 ELSE 1 END) < 1e-12
				AND abs(conversions - CASE channel WHEN 'a' THEN 2 / 3.0 ELSE 4 / 3.0 END) < 1e-12
				AND abs(value - CASE channel WHEN 'a' THEN 50 ELSE 100 END) < 1e-12) AS exact
FROM markov_attribution((SELECT markov_model(path, converted, value) FROM cycle));

-- 3. Order matters.  a > b converts, b > a, a and b do not.
--   Order 1: start->a 2, start->b 2; a->b 1, a->null 2; b->conv 1, b->a 1, b->null 1.
--     x_a = 1/3 x_b, x_b = 1/3 + 1/3 x_a, so x_b = 3/8, x_a = 1/8, x_start = 1/4.
--     Without a: x_b = 1/3, x_start = 1/6, effect 1/3.  Without b: effect 1.
--     Conversions: 1/4 to a, 3/4 to b.
--   Order 2: (a)->(a,b) 1, (a)->null 1, (b)->(b,a) 1, (b)->null 1, (a,b)->conv 1,
--     (b,a)->null 1: only a then b converts.  Without either, nothing converts:
--     effects 1 and 1, conversions 1/2 and 1/2.
CREATE TABLE ordered (path text[], converted boolean);
INSERT INTO ordered VALUES ('{a,b}', true), ('{b,a}', false), ('{a}', false), ('{b}', false);
SELECT o.order, channel, round(removal_effect::numeric, 12) AS removal_effect,
	   round(conversions::numeric, 12) AS conversions
FROM (VALUES (1), (2)) o("order"),
	 markov_attribution((SELECT markov_model(path, converted, NULL, o.order) FROM ordered))
ORDER BY 1, 2;
SELECT from_state, to_state, transitions, probability
FROM transitions((SELECT markov_model(path, converted, NULL, 2) FROM ordered));

-- 4. Order 3 on short paths: states grow from one channel to three, then slide.
SELECT markov_model(path, converted, 5, 3)
FROM (VALUES ('{a,b,c,d}'::text[], true), ('{a}', false)) v(path, converted);
SELECT from_state, to_state, transitions
FROM transitions((SELECT markov_model(path, converted, 5, 4)
						 FROM (VALUES ('{a,b,c,d,e,a}'::text[], true)) v(path, converted)));

-- 5. Conventions.
-- Consecutive repeats collapse, NULL channels are skipped (and the touches
-- around a NULL collapse when they repeat): these four paths are one path.
SELECT count(DISTINCT m::text) AS distinct_models, min(m::text) AS model
FROM (SELECT markov_model(p, true) AS m
	  FROM (VALUES (1, '{a,b}'::text[]), (2, '{a,a,b,b,b}'), (3, '{a,NULL,a,b}'), (4, '{NULL,a,b,NULL}')) v(i, p)
	  GROUP BY i) x;
-- A path with no channel (empty or all NULL), a NULL path and a NULL outcome
-- are skipped; only such rows give NULL, as no rows do.
SELECT markov_model(p, c) IS NULL AS skipped_only
FROM (VALUES ('{}'::text[], true), ('{NULL,NULL}', true), (NULL, true), ('{a}', NULL)) v(p, c);
SELECT markov_model(p, c) IS NULL AS no_rows FROM (SELECT '{a}'::text[] p, true c WHERE false) x;
SELECT markov_model(p, c)
FROM (VALUES ('{}'::text[], true), ('{a}', false), (NULL, true), ('{b}', true)) v(p, c);
-- A NULL conversion value counts as 0; journeys without conversions still count.
SELECT markov_model(p, c, v)
FROM (VALUES ('{a}'::text[], true, NULL::float8), ('{a}', true, 2.5), ('{a}', false, NULL)) v(p, c, v);
-- Channels compare byte for byte, as GROUP BY compares text.
SELECT channel FROM markov_attribution((SELECT markov_model(p, true) FROM (VALUES ('{Web,web,"web "}'::text[])) v(p)))
ORDER BY channel;

-- 6. Pre-counted paths give the same model as the journeys they count.
CREATE TABLE journeys AS
SELECT j AS journey,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'email', 'social'])[1 + (hashint4(j * 16 + k) & 2147483647) % 5]
			 FROM generate_series(1, 1 + (hashint4(j) & 2147483647) % 6) k) AS path,
	   (hashint4(j * 3 + 1) & 7) < 2 AS converted,
	   ((hashint4(j * 5) & 1023) / 4.0)::float8 AS value,
	   date '2026-05-01' + (hashint4(j * 9) & 2147483647) % 31 AS day
FROM generate_series(1, 5000) j;
SELECT (SELECT markov_model(path, c, n, v, 2)
		FROM (SELECT path, count(*) FILTER (WHERE converted)::float8 AS c,
					 count(*) FILTER (WHERE NOT converted)::float8 AS n,
					 coalesce(sum(value) FILTER (WHERE converted), 0) AS v
			  FROM journeys GROUP BY path) counted)::text
	 = (SELECT markov_model(path, converted, value, 2) FROM journeys)::text AS counted_same_as_journeys;
-- Fractional counts (weights) are allowed; rows without journeys are
-- skipped, and so are rows with a NULL count, whose journeys are unknown
-- (as in journey_paths: the rule both share).
SELECT markov_model(p, c, n, v, 1)
FROM (VALUES ('{a}'::text[], 0.5::float8, 0.25::float8, 1::float8), ('{b}', 0, 0, 0), ('{b}', NULL, 2, NULL)) x(p, c, n, v);

-- 7. Daily models rolled up to the month equal the model of the month, and
-- so do their attributions.
CREATE TABLE daily_models AS
SELECT day, markov_model(path, converted, value, 2) AS model FROM journeys GROUP BY day;
SELECT count(*) AS days,
	   rollup(model)::text = (SELECT markov_model(path, converted, value, 2) FROM journeys)::text AS rollup_same_as_direct
FROM daily_models;
SELECT bool_and(abs(r.removal_effect - d.removal_effect) < 1e-12 AND abs(r.conversions - d.conversions) < 1e-9
				AND abs(r.value - d.value) < 1e-9) AS attribution_same, count(*) AS channels
FROM markov_attribution((SELECT rollup(model) FROM daily_models)) r
JOIN markov_attribution((SELECT markov_model(path, converted, value, 2) FROM journeys)) d USING (channel);
-- Attributed conversions and value add up to the observed totals.
SELECT round(sum(conversions)::numeric, 9) = (SELECT count(*) FILTER (WHERE converted) FROM journeys) AS conversions_add_up,
	   round(sum(value)::numeric, 6) = (SELECT round(sum(value)::numeric, 6) FROM journeys WHERE converted) AS value_adds_up
FROM markov_attribution((SELECT markov_model(path, converted, value, 2) FROM journeys));
-- rollup skips NULL models and gives NULL for none.
SELECT rollup(m) IS NULL AS none FROM (SELECT NULL::markov_model m) x;
SELECT rollup(m) FROM (VALUES (NULL::markov_model), ('{"version":1,"order":1,"transitions":[["start",["a"],1],[["a"],"null",1]]}')) v(m);
-- Repeated solving gives identical results (deterministic).
SELECT count(DISTINCT (a.channel, a.removal_effect, a.conversions, a.value)) = 5 AS deterministic
FROM generate_series(1, 3) g,
	 markov_attribution((SELECT rollup(model) FROM daily_models)) a;

-- 8. Text round trip through COPY, binary round trip (send and receive)
-- through COPY BINARY, and the text form read as JSON.
CREATE TABLE models_text (day date, model markov_model);
-- COPY's files go to a fresh directory of their own, never into the
-- directory psql runs in (the source tree, under make installcheck).
\set copy_dir `mktemp -d`
\cd :copy_dir
\copy daily_models TO 'omnikpi_markov.txt'
\copy models_text FROM 'omnikpi_markov.txt'
CREATE TABLE models_binary (LIKE models_text);
\copy daily_models TO 'omnikpi_markov.bin' WITH (FORMAT binary)
\copy models_binary FROM 'omnikpi_markov.bin' WITH (FORMAT binary)
\set removed `rm -r -- :'copy_dir'`
SELECT count(*) AS rows,
	   bool_and(d.model::text = t.model::text) AS text_identical,
	   bool_and(d.model::text = b.model::text) AS binary_identical
FROM daily_models d JOIN models_text t USING (day) JOIN models_binary b USING (day);
SELECT jsonb_array_length(model::text::jsonb -> 'transitions') > 0 AS json_readable FROM daily_models LIMIT 1;
-- Exact floats, odd channel names (quotes, backslashes, control characters,
-- non-ASCII, empty, the names of the special states), and white space on input.
SELECT markov_model(p, c, v)
FROM (VALUES (ARRAY['say "hi"', E'back\\slash', E'tab\there'], true, 0.1::float8),
			 (ARRAY['', 'café', E'bell\x07'], true, 1e-300), ('{start,null,conversion,(null)}', false, NULL)) x(p, c, v);
SELECT m::text = (m::text::markov_model)::text AS round_trip
FROM (SELECT markov_model(p, c, v) m
	  FROM (VALUES (ARRAY['say "hi"', E'back\\slash', E'tab\there'], true, 0.1::float8),
				   (ARRAY['', 'café', E'bell\x07'], true, 1 / 3.0), ('{start,null}', false, NULL)) x(p, c, v)) y;
SELECT ' { "version" : 1 , "order" : 1 , "transitions" : [ [ "start" , [ "w\u0065b\/x" ] , 2 ] , [ [ "web/x" ] , "conversion" , 1 , 0.5 ] , [ ["web/x"], "null", 1e0 ] ] } '::markov_model;
-- Input in any transition order reads as the canonical form.
SELECT '{"version":1,"order":2,"transitions":[[["b","a"],"null",1],[["b"],["b","a"],1],["start",["b"],1]]}'::markov_model;
SELECT '{"version":1,"order":3,"transitions":[]}'::markov_model AS empty;

-- 9. Under OVER (a growing frame) and with hash and sorted aggregation.
SELECT journey, (markov_model(path, converted) OVER (ORDER BY journey))::text AS running
FROM classic ORDER BY journey;
SELECT journey, markov_model(path, converted) OVER (ORDER BY journey ROWS 1 PRECEDING) AS sliding
FROM classic ORDER BY journey;
SET enable_hashagg = off;
CREATE TABLE by_day_sorted AS SELECT day, markov_model(path, converted, value)::text AS m FROM journeys GROUP BY day;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT day, markov_model(path, converted, value)::text AS m FROM journeys GROUP BY day;
SELECT count(*) AS days, bool_and(h.m = s.m) AS hash_same_as_sorted
FROM (SELECT day, markov_model(path, converted, value)::text AS m FROM journeys GROUP BY day) h
JOIN by_day_sorted s USING (day);
RESET enable_sort;

-- 10. Many channels and long paths: 300 channels in one 100,000-touch path.
SELECT count(*) AS channels, round(sum(conversions)::numeric, 9) AS conversions
FROM markov_attribution((SELECT markov_model(ARRAY(SELECT 'c' || (g * 7919 % 300) FROM generate_series(1, 100000) g), true)));
SELECT count(*) AS transitions
FROM transitions((SELECT markov_model(ARRAY(SELECT 'c' || (g * 7919 % 300) FROM generate_series(1, 100000) g), true, 1, 2)));

-- 11. From touchpoint and conversion tables (the shape the KPI views read):
-- one path per journey, in time order, and its conversion if any.
--   Paths: social > email > web (converts, 120), social > web, email > web
--   (the two email touches collapse; converts, 80), social.
--   x_web = 2/3 = x_email, x_social = 1/3 * 2/3 + 1/3 * 2/3 = 4/9,
--   x_start = 3/4 * 4/9 + 1/4 * 2/3 = 1/2.  Without social: 1/4 * 2/3 = 1/6,
--   effect 2/3; without email: x_social = 2/9, x_start = 1/6, effect 2/3;
--   without web: effect 1.  Conversions 2 * (2/3) / (7/3) = 4/7 each to
--   social and email, 6/7 to web; all conversions leave from web, so value
--   is shared alike: 200 * 2/7 = 57.14 and 200 * 3/7 = 85.71.
CREATE TABLE touchpoints (journey_id int, channel text, touched_at timestamptz);
CREATE TABLE conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO touchpoints VALUES
	(1, 'social', '2026-03-01 10:00'), (1, 'email', '2026-03-02 09:00'), (1, 'web', '2026-03-03 20:00'),
	(2, 'social', '2026-03-01 11:00'), (2, 'web', '2026-03-04 08:00'),
	(3, 'email', '2026-03-02 12:00'), (3, 'email', '2026-03-05 12:00'), (3, 'web', '2026-03-06 12:00'),
	(4, 'social', '2026-03-03 15:00');
INSERT INTO conversions VALUES (1, '2026-03-03 20:05', 120), (3, '2026-03-06 12:30', 80);
SELECT channel, round(removal_effect::numeric, 6) AS removal_effect,
	   round(conversions::numeric, 6) AS conversions, round(value::numeric, 2) AS value
FROM markov_attribution((
	SELECT markov_model(j.path, c.journey_id IS NOT NULL, c.value::float8)
	FROM (SELECT journey_id, array_agg(channel ORDER BY touched_at) AS path
		  FROM touchpoints GROUP BY journey_id) j
	LEFT JOIN conversions c USING (journey_id)))
ORDER BY channel;
