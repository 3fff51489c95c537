-- Moving-aggregate mode: a rolling frame gives the same KPI as aggregating
-- the frame's rows directly, including when channels leave the frame, when
-- sums cannot be kept exactly (the inverse asks for a restart), and under
-- different frame clauses.

CREATE TABLE daily_ratings AS
SELECT day, (ARRAY['web', 'app', 'store', 'call center', 'chat', 'kiosk'])[1 + (d * 7 + k * 3) % (2 + d % 5)] AS channel,
	   1 + ((d * 13 + k * 7) % 9) / 2.0 AS rating,
	   (d + k) % 3 = 0 AS integrated
FROM generate_series(0, 89) d, generate_series(1, 1 + d % 4) k,
	 LATERAL (SELECT date '2026-01-01' + d AS day) x;
INSERT INTO daily_ratings VALUES ('2026-02-10', NULL, 3, true), ('2026-02-11', 'web', NULL, NULL);

-- A 30-row rolling frame against the direct aggregate of the same rows.
CREATE TABLE numbered AS
SELECT row_number() OVER (ORDER BY day, channel, rating) AS pos, * FROM daily_ratings;
SELECT count(*) AS rows,
	   bool_and(rolling IS NOT DISTINCT FROM direct OR abs(rolling / direct - 1) < 1e-9) AS rating_matches,
	   bool_and(rolling_index IS NOT DISTINCT FROM direct_index OR abs(rolling_index - direct_index) < 1e-9) AS index_matches,
	   count(*) FILTER (WHERE rolling IS NULL) AS null_frames
FROM (SELECT pos,
			 omni_experience_rating(channel, rating) OVER w AS rolling,
			 omni_integration_index(channel, integrated) OVER w AS rolling_index
	  FROM numbered WINDOW w AS (ORDER BY pos ROWS BETWEEN 29 PRECEDING AND CURRENT ROW)) r
JOIN LATERAL (SELECT omni_experience_rating(channel, rating) AS direct,
					 omni_integration_index(channel, integrated) AS direct_index
			  FROM numbered n WHERE n.pos BETWEEN r.pos - 29 AND r.pos) d ON true;

-- A small frame by hand: rows (web 5), (store 1), (web 3), (store 5), frame of 2.
-- pos 1: web 100 -> 100; pos 2: web 100, store 0 -> 50; pos 3: store 0, web 50 -> 25;
-- pos 4: web 50, store 100 -> 75.  At pos 3, web's first row has left the frame.
SELECT pos, omni_experience_rating(channel, rating) OVER (ORDER BY pos ROWS 1 PRECEDING)
FROM (VALUES (1, 'web', 5::float8), (2, 'store', 1), (3, 'web', 3), (4, 'store', 5)) v(pos, channel, rating)
ORDER BY pos;

-- Scores and the scaled rating in moving mode, against their direct values.
SELECT bool_and(abs(rolling - direct) < 1e-9) AS scores_match
FROM (SELECT pos, omni_integration_index(channel, rating * 20) OVER (ORDER BY pos ROWS 9 PRECEDING) AS rolling
	  FROM numbered) r
JOIN LATERAL (SELECT omni_integration_index(channel, rating * 20) AS direct
			  FROM numbered n WHERE n.pos BETWEEN r.pos - 9 AND r.pos) d ON true;
SELECT bool_and(abs(rolling - direct) < 1e-9) AS scaled_match
FROM (SELECT pos, omni_experience_rating(channel, rating, 0, 10) OVER (ORDER BY pos ROWS 9 PRECEDING) AS rolling
	  FROM numbered) r
JOIN LATERAL (SELECT omni_experience_rating(channel, rating, 0, 10) AS direct
			  FROM numbered n WHERE n.pos BETWEEN r.pos - 9 AND r.pos) d ON true;

-- Values whose sum cannot be held exactly: 1 + 2^-60 + 2^-120 needs a low
-- part of 61 bits, more than a double's 53, so the inverse asks for a
-- restart; results stay equal to the direct aggregate.
CREATE TABLE tiny AS
SELECT g AS pos, 'web' AS channel,
	   CASE g % 3 WHEN 0 THEN 1 WHEN 1 THEN power(2::float8, -60) ELSE power(2::float8, -120) END AS rating
FROM generate_series(1, 60) g;
SELECT count(*) AS rows, bool_and(abs(rolling / direct - 1) < 1e-12) AS inexact_sums_match
FROM (SELECT pos, omni_experience_rating(channel, rating, 0, 2) OVER (ORDER BY pos ROWS 2 PRECEDING) AS rolling
	  FROM tiny) r
JOIN LATERAL (SELECT omni_experience_rating(channel, rating, 0, 2) AS direct
			  FROM tiny t WHERE t.pos BETWEEN r.pos - 2 AND r.pos) d ON true;
-- The check above cannot tell a restart from none: 1 stays in every frame,
-- so the bits lost from the low part are far below 1e-12 of the result.
-- Here the 1 and the 2^-60 leave the frame after row 6 and only 2^-120s stay
-- (the channel never empties, so its sum is never reset): a state that went
-- on removing from the rounded sum would hold two 2^-120s for three, a third
-- off in every later frame.
CREATE TABLE tiny_tail AS
SELECT g AS pos, 'web' AS channel,
	   CASE WHEN g > 6 THEN power(2::float8, -120)
			ELSE (ARRAY[1, power(2::float8, -60), power(2::float8, -120)])[1 + g % 3] END AS rating
FROM generate_series(1, 20) g;
SELECT count(*) AS rows, count(*) FILTER (WHERE pos > 8) AS tail_frames,
	   bool_and(abs(rolling / direct - 1) < 1e-12) AS tail_after_restart_matches
FROM (SELECT pos, omni_experience_rating(channel, rating, 0, 2) OVER (ORDER BY pos ROWS 2 PRECEDING) AS rolling
	  FROM tiny_tail) r
JOIN LATERAL (SELECT omni_experience_rating(channel, rating, 0, 2) AS direct
			  FROM tiny_tail t WHERE t.pos BETWEEN r.pos - 2 AND r.pos) d ON true;

-- A NULL scale bound is an error in moving mode too (22004), whichever bound.
SELECT omni_experience_rating(channel, rating, NULL, 10) OVER (ORDER BY pos ROWS 1 PRECEDING) FROM tiny;
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating(channel, rating, 0, NULL) OVER (ORDER BY pos ROWS 1 PRECEDING) FROM tiny;
\echo :LAST_ERROR_SQLSTATE

-- The frame clause matters for aggregates: a growing frame (no moving mode)
-- and the whole partition.
SELECT pos,
	   omni_experience_rating(channel, rating) OVER (ORDER BY pos) AS growing,
	   omni_experience_rating(channel, rating) OVER () AS whole
FROM (VALUES (1, 'web', 5::float8), (2, 'store', 1), (3, 'web', 3)) v(pos, channel, rating)
ORDER BY pos;

-- RANGE frames over days (30 days back) against the direct aggregate.
SELECT count(*) AS rows,
	   bool_and(abs(rolling - direct) < 1e-9) AS range_matches
FROM (SELECT day, omni_experience_rating(channel, rating) OVER (ORDER BY day RANGE BETWEEN '29 days' PRECEDING AND CURRENT ROW) AS rolling
	  FROM daily_ratings) r
JOIN LATERAL (SELECT omni_experience_rating(channel, rating) AS direct
			  FROM daily_ratings n WHERE n.day BETWEEN r.day - 29 AND r.day) d ON true;

-- channel_summary and rollup also work under OVER (without moving mode).
SELECT pos, channel_count(channel_summary(channel, rating) OVER (ORDER BY pos ROWS 1 PRECEDING))
FROM (VALUES (1, 'web', 5::float8), (2, 'store', 1), (3, 'store', 3)) v(pos, channel, rating)
ORDER BY pos;
