-- channel_summary: the storable two-step state.  Text and binary round trips,
-- the accessors, rollup of daily summaries equal to the direct aggregate,
-- scales, and rejection of malformed input.

CREATE TABLE visits (day date, channel text, rating float8, integrated boolean);
INSERT INTO visits
SELECT date '2026-03-01' + (g % 31), (ARRAY['web', 'app', 'store', 'call center', 'chat'])[1 + (g * 7 + g / 11) % 5],
	   1 + (g * 37 % 41) / 10.0, g % 4 <> 0
FROM generate_series(1, 3000) g;
INSERT INTO visits VALUES ('2026-03-05', 'kiosk', NULL, NULL), ('2026-03-05', NULL, 4, true);

-- A small summary in its text form: channels in byte order, shortest exact floats.
SELECT channel_summary(channel, rating)
FROM (VALUES ('web', 4.1::float8), ('web', 4.5), ('web', 4.3), ('store', 5), ('store', 4)) v(channel, rating);
SELECT channel_summary(channel, flag)
FROM (VALUES ('web', true), ('web', false), ('store', true)) v(channel, flag);

-- Accessors on it.  store 4.5 on 1..5 -> 87.5%; web 4.3 -> 82.5%; mean 85.
WITH s AS (SELECT channel_summary(channel, rating) AS s
		   FROM (VALUES ('web', 4.1::float8), ('web', 4.5), ('web', 4.3), ('store', 5), ('store', 4)) v(channel, rating))
SELECT round(experience_rating(s)::numeric, 6) AS rating_1_5,
	   round(experience_rating(s, 0, 10)::numeric, 6) AS rating_0_10,
	   channel_count(s)
FROM s;
SELECT channel, n, round(mean::numeric, 6) AS mean, min, max
FROM channels((SELECT channel_summary(channel, rating)
			   FROM (VALUES ('web', 4.1::float8), ('web', 4.5), ('web', 4.3), ('store', 5), ('store', 4)) v(channel, rating)));

-- integration_index of a flag summary is the percentage of true per channel:
-- web 50%, store 100% -> 75; of a score summary, the scores themselves.
SELECT integration_index(channel_summary(channel, flag))
FROM (VALUES ('web', true), ('web', false), ('store', true)) v(channel, flag);
SELECT integration_index(channel_summary(channel, score))
FROM (VALUES ('web', 80::float8), ('store', 60)) v(channel, score);

-- Daily summaries stored in a table, rolled up to the month, equal the direct
-- aggregate over the same rows (to 1e-12 relative).
CREATE TABLE daily AS
SELECT day, channel_summary(channel, rating) AS ratings,
	   channel_summary(channel, integrated) AS integration
FROM visits GROUP BY day;
SELECT count(*) AS days FROM daily;
SELECT abs(experience_rating(rollup(ratings)) / (SELECT omni_experience_rating(channel, rating) FROM visits) - 1) < 1e-12 AS rating_rollup_exact,
	   abs(integration_index(rollup(integration)) / (SELECT omni_integration_index(channel, integrated) FROM visits) - 1) < 1e-12 AS index_rollup_exact,
	   channel_count(rollup(ratings)) AS channels
FROM daily;
-- per week, with GROUP BY
SELECT week, abs(r.kpi - v.kpi) < 1e-9 AS matches
FROM (SELECT date_trunc('week', day)::date AS week, experience_rating(rollup(ratings)) AS kpi
	  FROM daily GROUP BY 1) r
JOIN (SELECT date_trunc('week', day)::date AS week, omni_experience_rating(channel, rating) AS kpi
	  FROM visits GROUP BY 1) v USING (week)
ORDER BY week;
-- rollup skips NULL summaries and gives NULL for none
SELECT rollup(s) IS NULL AS none FROM (SELECT NULL::channel_summary s) x;
SELECT channel_count(rollup(s)) FROM (VALUES (NULL::channel_summary), ((SELECT ratings FROM daily LIMIT 1))) v(s);

-- Text round trip through COPY, and binary round trip (send and receive)
-- through COPY BINARY.
CREATE TABLE daily_text (day date, ratings channel_summary, integration channel_summary);
-- COPY's files go to a fresh directory of their own, never into the
-- directory psql runs in (the source tree, under make installcheck).
\set copy_dir `mktemp -d`
\cd :copy_dir
\copy daily TO 'omnikpi_daily.txt'
\copy daily_text FROM 'omnikpi_daily.txt'
CREATE TABLE daily_binary (LIKE daily_text);
\copy daily TO 'omnikpi_daily.bin' WITH (FORMAT binary)
\copy daily_binary FROM 'omnikpi_daily.bin' WITH (FORMAT binary)
-- Binary input gets the checks of the text input, and a message cut short
-- or too long the errors of the pq_getmsg functions: bytes written as a bytea
-- column of a binary COPY file are read back as a channel_summary column.
-- Only the first is valid.  (psql's \copy sets no LAST_ERROR_SQLSTATE; the
-- SQLSTATEs, 22P03 and 08P01, are checked by test/suites/fuzz.sh.)
CREATE TABLE summary_bytes (id int, bytes bytea);
INSERT INTO summary_bytes VALUES
	-- valid: format 1, no scale, one channel "web" with n 1 and sum, min, max 4
	(1, decode('0100000000010000000377656200000000000000', 'hex') || decode('01', 'hex') || float8send(4) || float8send(4) || float8send(4)),
	-- format 2
	(2, decode('02', 'hex')),
	-- unknown flags
	(3, decode('0102', 'hex')),
	-- a negative number of channels
	(4, decode('0100ffffffff', 'hex')),
	-- a channel whose count is 0
	(5, decode('01000000000100000003776562', 'hex') || int8send(0) || float8send(4) || float8send(4) || float8send(4)),
	-- a scale whose bounds are the wrong way round
	(6, decode('0101', 'hex') || float8send(5) || float8send(1) || decode('00000000', 'hex')),
	-- the flags missing
	(7, decode('01', 'hex')),
	-- the channel count cut short
	(8, decode('010000', 'hex')),
	-- a byte after the last channel
	(9, decode('0100000000010000000377656200000000000000', 'hex') || decode('01', 'hex') || float8send(4) || float8send(4) || float8send(4) || decode('00', 'hex'));
CREATE TABLE summary_read_back (id int, s channel_summary);
\set SHOW_CONTEXT never
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 1) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 2) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 3) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 4) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 5) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 6) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 7) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 8) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM summary_bytes WHERE id = 9) TO 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\copy summary_read_back FROM 'omnikpi_summary_raw.bin' WITH (FORMAT binary)
\set SHOW_CONTEXT errors
SELECT id, s FROM summary_read_back;
\set removed `rm -r -- :'copy_dir'`
SELECT count(*) AS rows,
	   bool_and(d.ratings::text = t.ratings::text AND d.integration::text = t.integration::text) AS text_identical,
	   bool_and(d.ratings::text = b.ratings::text AND d.integration::text = b.integration::text) AS binary_identical
FROM daily d JOIN daily_text t USING (day) JOIN daily_binary b USING (day);
-- the text form parses as JSON
SELECT (ratings::text::jsonb -> 'channels' -> 'web' ->> 'n')::int > 0 AS json_readable FROM daily LIMIT 1;

-- Exact float round trip, odd channel names (quotes, backslashes, control
-- characters, non-ASCII, empty), and white space on input.
SELECT channel_summary(channel, v)::text
FROM (VALUES ('say "hi"', 0.1::float8), (E'back\\slash', 1e-300), (E'tab\there', 1.7976931348623157e308),
			 ('', -0.5), ('café', 2.2250738585072014e-308), (E'bell\x07', 5e-324)) t(channel, v);
SELECT s::text = (s::text::channel_summary)::text AS round_trip,
	   (SELECT bool_and(c.min = c.max) FROM channels(s) c) AS exact_values
FROM (SELECT channel_summary(channel, v) s
	  FROM (VALUES ('say "hi"', 0.1::float8), (E'back\\slash', 1e-300), ('', -0.5), ('café', 1/3.0)) t(channel, v)) x;
SELECT ' { "version" : 1 , "scale" : [ 1 , 5 ] , "channels" : { "we\u0062\/x" : { "n" : 2 , "sum" : 7 , "min" : 3 , "max" : 4 } } } '::channel_summary;
-- Every JSON escape on input (\u with upper- and lowercase hex digits); a
-- newline and a carriage return in a name are written back escaped, so that
-- the text form stays on one line for COPY.
SELECT s, s::text::channel_summary::text = s::text AS round_trip
FROM (SELECT '{"version":1,"channels":{"\b\f\n\r\t\"\\\/x\u004A\u006a":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary s) x;
SELECT '{"version":1,"channels":{}}'::channel_summary AS empty,
	   experience_rating('{"version":1,"channels":{}}') IS NULL AS empty_rating_is_null,
	   channel_count('{"version":1,"channels":{}}'::channel_summary);

-- Reading on a scale that does not hold the values is the aggregate's error.
SELECT experience_rating('{"version":1,"channels":{"web":{"n":1,"sum":8,"min":8,"max":8}}}');
\echo :LAST_ERROR_SQLSTATE
-- the minimum below the scale too, with the maximum inside it
SELECT experience_rating('{"version":1,"channels":{"web":{"n":2,"sum":5,"min":0,"max":5}}}');
\echo :LAST_ERROR_SQLSTATE
-- A number that underflows to zero is out of range, even where zero would be
-- consistent (1e-400 for sum, min and max).
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1e-400,"min":1e-400,"max":1e-400}}}'::channel_summary;
\echo :LAST_ERROR_SQLSTATE
-- A \u escape needs four hexadecimal digits.
SELECT '{"version":1,"channels":{"\u00zz":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary;
-- A channel's problem is reported at its name, after any white space.
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1},   "web":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT experience_rating('{"version":1,"channels":{"web":{"n":1,"sum":8,"min":8,"max":8}}}', 0, 10);
SELECT integration_index('{"version":1,"channels":{"web":{"n":1,"sum":120,"min":120,"max":120}}}');
\echo :LAST_ERROR_SQLSTATE
SELECT experience_rating('{"version":1,"channels":{}}', 3, 3);
\echo :LAST_ERROR_SQLSTATE

-- Summaries on different scales are not combined.
SELECT rollup(s) FROM (VALUES ('{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary),
							  ('{"version":1,"scale":[0,1],"channels":{"web":{"n":1,"sum":1,"min":1,"max":1}}}')) v(s);
\echo :LAST_ERROR_SQLSTATE
SELECT rollup(s) FROM (VALUES ('{"version":1,"scale":[0,10],"channels":{}}'::channel_summary),
							  ('{"version":1,"scale":[1,5],"channels":{}}')) v(s);
\echo :LAST_ERROR_SQLSTATE
-- channel_summary of values rejects non-finite values
SELECT channel_summary('web', 'NaN'::float8);
\echo :LAST_ERROR_SQLSTATE

-- Names alike: every length from 0 to 11 (each a prefix of the next), two
-- of 16 bytes with the same first eight, two of 22 with the same first and
-- last eight, 16 channels in all, interleaved row by row: each keeps its
-- own rows, as GROUP BY counts them.
WITH names(c) AS (
	SELECT left('call_center', n) FROM generate_series(0, 11) n
	UNION ALL VALUES ('call_center_east'), ('call_center_west'),
					 ('call_center_east_annex'), ('call_center_west_annex')
), touches AS (
	SELECT c, g FROM names, generate_series(1, 3) g
), summary AS (
	SELECT channel_summary(c, g ORDER BY g, c DESC) AS s FROM touches
)
SELECT channel_count(s) AS channels,
	   (SELECT bool_and(n = 3 AND mean = 2) FROM channels(s)) AS each_its_own
FROM summary;

-- Names whose tags agree: a state of up to 16 channels finds a name by a
-- 31-bit tag of its words first, and these pairs share one (saeeoq and
-- saeycd, web_101758 and web_107408) yet are different names, each keeping
-- its own rows, row by row and when rollup() merges two summaries.
WITH touches(c, v) AS (
	VALUES ('saeeoq', 1), ('saeycd', 2), ('saeeoq', 3), ('web_101758', 4),
		   ('web_107408', 5), ('saeycd', 4), ('web_107408', 1)
), halves AS (
	SELECT channel_summary(c, v ORDER BY v, c) AS s FROM touches GROUP BY v % 2
)
SELECT whole.channel, whole.n, whole.mean, rolled.n AS rolled_up_n, rolled.mean AS rolled_up_mean
FROM channels((SELECT channel_summary(c, v ORDER BY v, c) FROM touches)) whole
FULL JOIN channels((SELECT rollup(s) FROM halves)) rolled USING (channel)
ORDER BY whole.channel;

-- Twelve channels, each on three rows, interleaved: a state of up to 13
-- channels compares the tags of its first eight at once and the others'
-- four at a time, and each channel keeps its own rows.
WITH touches AS (
	SELECT 'channel_' || n AS c, g FROM generate_series(1, 12) n, generate_series(1, 3) g
), summary AS (
	SELECT channel_summary(c, g ORDER BY g, c) AS s FROM touches
)
SELECT channel_count(s) AS channels,
	   (SELECT bool_and(n = 3 AND mean = 2) FROM channels(s)) AS each_its_own
FROM summary;

-- Malformed text input: each is 22P02 with the place and the reason.
SELECT ''::channel_summary;
SELECT '{"version":2,"channels":{}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1}}'::channel_summary;
SELECT '{"version":1,"channels":{}} trailing'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":0,"sum":0,"min":0,"max":0}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":-1,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":NaN,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1e999,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":99999999999999999999,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":2,"sum":3,"min":2,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":2,"sum":30,"min":1,"max":2}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1},"web":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"w\qeb":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"w\u00e9b":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"sum":1,"n":1,"min":1,"max":1}}}'::channel_summary;
SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1,"extra":1}}}'::channel_summary;
SELECT '{"version":1,"scale":[5,1],"channels":{}}'::channel_summary;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"scale":[1,5],"channels":{"web":{"n":1,"sum":9,"min":9,"max":9}}}'::channel_summary;
\echo :LAST_ERROR_SQLSTATE
