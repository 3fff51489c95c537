-- journey_paths, the summary shapley_attribution and fractribution_attribution
-- read: aggregates over one row per journey and over counted paths, NULLs,
-- empty input, text and binary round trips, canonical form, rollup, parallel
-- and partitionwise plans, hash aggregation, use under OVER, and bad input
-- with the right SQLSTATE.
\set SHOW_CONTEXT never
-- tables of its own: every test file runs in the same database
CREATE SCHEMA journey_paths_test;
SET search_path = journey_paths_test, public;

-- Repeats collapse, NULL channels are skipped, a journey without channels or
-- with a NULL path or outcome is skipped, a NULL value adds nothing, and the
-- value of a journey that did not convert is ignored.
SELECT journey_paths(path, converted, value)::text
FROM (VALUES ('{web,web,email,web}'::text[], true, 10::float8), ('{web,email,web}', false, 99),
			 ('{NULL,web,NULL,email,email,web}', true, NULL), ('{}', true, 5), ('{NULL}', true, 5),
			 (NULL, true, 5), ('{store}', NULL, 5), ('{store}', false, NULL)) v(path, converted, value);
-- no rows, and only skipped rows, give NULL, as for sum()
SELECT journey_paths(path, converted) IS NULL AS empty_is_null
FROM (VALUES ('{a}'::text[], true)) v(path, converted) WHERE false;
SELECT journey_paths(path, converted) IS NULL AS skipped_is_null
FROM (VALUES ('{}'::text[], true), (NULL, true), ('{NULL,NULL}', false), ('{a}', NULL)) v(path, converted);
-- channels compare byte for byte, as GROUP BY does; the empty string is a channel
SELECT path, conversions, non_conversions, value
FROM paths((SELECT journey_paths(path, converted)
			FROM (VALUES ('{Web,web,"web "}'::text[], true), ('{""}', false)) v(path, converted)));
SELECT channel_count(journey_paths(path, converted))
FROM (VALUES ('{Web,web,"web "}'::text[], true), ('{""}', false)) v(path, converted);

-- Counted paths: rows with zero counts add nothing, NULL counts skip the row.
SELECT journey_paths(path, conversions, non_conversions, value)::text
FROM (VALUES ('{a,b}'::text[], 2::float8, 3::float8, 7::float8), ('{a,a,b}', 0.5, 0, 1),
			 ('{c}', 0, 0, 0), ('{d}', NULL, 1, 0), ('{e}', 1, NULL, 0), ('{f}', 1, 0, NULL)) v(path, conversions, non_conversions, value);

-- The text form is canonical: channels sorted by name, paths by their
-- channels; the order of the input rows does not matter, and text and
-- binary round trips give the same value.
CREATE TABLE journeys AS
SELECT g AS journey, date '2026-01-01' + (g % 90) AS day,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call center', 'chat', 'email', 'social', 'kiosk'])[1 + abs(hashint4(g * 32 + k)) % 8]
			 FROM generate_series(1, 1 + g % 7) k) AS path,
	   abs(hashint4(-g)) % 5 < 2 AS converted, (g % 100)::float8 AS value
FROM generate_series(1, 20000) g;
ANALYZE journeys;
SELECT (SELECT journey_paths(path, converted, value ORDER BY journey) FROM journeys)::text
	 = (SELECT journey_paths(path, converted, value ORDER BY journey DESC) FROM journeys)::text AS order_independent;
CREATE TABLE summaries AS
SELECT date_trunc('month', day)::date AS month, journey_paths(path, converted, value) AS paths
FROM journeys GROUP BY 1;
CREATE TABLE summaries_text (LIKE summaries);
-- COPY's files go to a fresh directory of their own, never into the
-- directory psql runs in (the source tree, under make installcheck).
\set copy_dir `mktemp -d`
\cd :copy_dir
\copy summaries TO 'omnikpi_journey_paths.txt'
\copy summaries_text FROM 'omnikpi_journey_paths.txt'
CREATE TABLE summaries_binary (LIKE summaries);
\copy summaries TO 'omnikpi_journey_paths.bin' WITH (FORMAT binary)
\copy summaries_binary FROM 'omnikpi_journey_paths.bin' WITH (FORMAT binary)
-- and a path of 40 steps last in the message, its steps most of what is
-- left: the reader's bound on a path's length must still let it through, and
-- its text form reads back whole (the step buffer grows before it is full)
CREATE TABLE long_path AS
SELECT journey_paths(ARRAY(SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 40) g),
					 true, 1.0) AS paths;
CREATE TABLE long_path_binary (LIKE long_path);
\copy long_path TO 'omnikpi_long_path.bin' WITH (FORMAT binary)
\copy long_path_binary FROM 'omnikpi_long_path.bin' WITH (FORMAT binary)
SELECT (SELECT paths::text FROM long_path) = (SELECT paths::text FROM long_path_binary) AS long_path_identical,
	   (SELECT paths::text FROM long_path)::journey_paths::text = (SELECT paths::text FROM long_path) AS long_path_text_identical;
SELECT count(*) AS months, bool_and(s.paths::text = t.paths::text) AS text_identical,
	   bool_and(s.paths::text = b.paths::text) AS binary_identical
FROM summaries s JOIN summaries_text t USING (month) JOIN summaries_binary b USING (month);
-- the text form is JSON, and reads back with white space
SELECT jsonb_array_length(paths::text::jsonb -> 'paths') AS paths FROM summaries ORDER BY month;
SELECT ' { "version" : 1 , "paths" : [ { "path" : [ "a" , "b\"\u0041" ] , "conversions" : 1.5e0 , "non_conversions" : 0 , "value" : 2 } ] } '::journey_paths;

-- Paths are stored in canonical order, channel by channel in name order, a
-- path before the longer ones it begins: also paths that agree on more
-- steps than the stored form's sort compares at once (32 steps with 2
-- channels, 16 with 8, 10 with 40), some ending where it stops comparing.
CREATE TABLE long_paths AS
SELECT c.n AS channels, g,
	   ARRAY(SELECT 'c' || lpad((CASE WHEN k <= 28 + g % 15 THEN k % 2
									  ELSE (hashint4(g * 64 + k) & 2147483647) % c.n END)::text, 2, '0')
			 FROM generate_series(1, 28 + g % 15 + g % 4) k) AS path
FROM (VALUES (2), (8), (40)) c(n), generate_series(1, 3000) g;
SELECT channels, channel_count(s) AS in_summary,
	   (SELECT count(*) FROM paths(s)) AS paths,
	   (SELECT bool_and(ord = by_path)
		FROM (SELECT ord, row_number() OVER (ORDER BY path COLLATE "C") AS by_path
			  FROM paths(s) WITH ORDINALITY p(path, conversions, non_conversions, value, ord)) q) AS canonical
FROM (SELECT channels, journey_paths(path, true) AS s FROM long_paths GROUP BY 1) x
ORDER BY 1;
DROP TABLE long_paths;

-- Rollup: the monthly summaries merged equal the summary of all journeys, and
-- a merged summary gives the same attribution.
SELECT (SELECT rollup(paths) FROM summaries)::text = (SELECT journey_paths(path, converted, value) FROM journeys)::text
	AS rollup_exact;
SELECT rollup(paths) IS NULL AS rollup_of_nulls FROM (VALUES (NULL::journey_paths)) v(paths);

-- The paths and their counts equal plain SQL over the collapsed paths.
WITH collapsed AS (
	SELECT converted, value,
		   ARRAY(SELECT c FROM unnest(path) WITH ORDINALITY u(c, k) WHERE k = 1 OR c IS DISTINCT FROM path[k - 1] ORDER BY k) AS path
	FROM journeys),
plain AS (
	SELECT path, count(*) FILTER (WHERE converted) AS conversions, count(*) FILTER (WHERE NOT converted) AS non_conversions,
		   coalesce(sum(value) FILTER (WHERE converted), 0) AS value
	FROM collapsed GROUP BY path)
SELECT count(*) AS paths, count(*) FILTER (WHERE p.path IS NOT NULL AND c.path IS NOT NULL
	AND p.conversions = c.conversions AND p.non_conversions = c.non_conversions AND p.value = c.value) AS equal
FROM plain c FULL JOIN paths((SELECT journey_paths(path, converted, value) FROM journeys)) p USING (path);

-- Many groups, with hash aggregation on and off: the same summaries.
SET enable_hashagg = off;
CREATE TABLE by_day_sorted AS SELECT day, journey_paths(path, converted, value)::text AS paths FROM journeys GROUP BY day;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT day, journey_paths(path, converted, value) FROM journeys GROUP BY day;
CREATE TABLE by_day_hashed AS SELECT day, journey_paths(path, converted, value)::text AS paths FROM journeys GROUP BY day;
RESET enable_sort;
SELECT count(*) AS days, bool_and(s.paths = h.paths) AS same FROM by_day_sorted s JOIN by_day_hashed h USING (day);

-- Parallel: partial summaries travel between processes as journey_paths
-- values and are merged by the combine function; the counts and values here
-- are whole numbers, so the summary is identical, not just close.
SET max_parallel_workers_per_gather = 0;
SELECT journey_paths(path, converted, value)::text AS serial FROM journeys \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT journey_paths(path, converted, value) FROM journeys;
-- the plan ran with its workers: the rows went through them, not the leader
\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/parallel_workers.sql
\set ECHO all
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT journey_paths(path, converted, value) FROM journeys$$);
SELECT journey_paths(path, converted, value)::text = :'serial' AS parallel_same_as_serial FROM journeys;
SELECT round(sum(conversions)::numeric, 9) AS conversions
FROM shapley_attribution((SELECT journey_paths(path, converted, value) FROM journeys), 'conversion_rate');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- Partitionwise aggregation merges the partitions' states without serializing.
CREATE TABLE journeys_part (journey int, path text[], converted boolean, value float8) PARTITION BY RANGE (journey);
CREATE TABLE journeys_part_1 PARTITION OF journeys_part FOR VALUES FROM (1) TO (10001);
CREATE TABLE journeys_part_2 PARTITION OF journeys_part FOR VALUES FROM (10001) TO (20001);
INSERT INTO journeys_part SELECT journey, path, converted, value FROM journeys;
ANALYZE journeys_part;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT journey_paths(path, converted, value) FROM journeys_part;
SELECT journey_paths(path, converted, value)::text = :'serial' AS partitionwise_same FROM journeys_part;
RESET enable_partitionwise_aggregate;

-- Under OVER with a sliding frame (recomputed per frame): the last two journeys.
SELECT journey, paths::text
FROM (SELECT journey, journey_paths(path, converted) OVER (ORDER BY journey ROWS 1 PRECEDING) AS paths
	  FROM (VALUES (1, '{a}'::text[], true), (2, '{b,a}', false), (3, '{a}', false)) v(journey, path, converted)) w
ORDER BY journey;

-- Bad input, each with its SQLSTATE.
-- The outcome is the result, or the SQLSTATE with the message (for input
-- syntax errors, whose message repeats the input, the detail instead).
CREATE FUNCTION outcome(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
	detail text;
BEGIN
	EXECUTE query INTO result;
	RETURN coalesce('= ' || result, '= NULL');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || SQLSTATE || ': ' || CASE WHEN SQLSTATE = '22P02' THEN detail ELSE left(SQLERRM, 100) END;
END
$$;
CREATE TABLE cases (id serial, query text);
INSERT INTO cases (query) VALUES
	-- aggregates
	($$SELECT journey_paths('{{a,b},{c,d}}'::text[], true)::text$$),
	($$SELECT journey_paths('{a}'::text[], true, 'NaN')::text$$),
	($$SELECT journey_paths('{a}'::text[], true, '-Infinity')::text$$),
	($$SELECT journey_paths('{a}'::text[], false, 'NaN')::text$$),
	($$SELECT journey_paths('{a}'::text[], -1, 2, 0)::text$$),
	($$SELECT journey_paths('{a}'::text[], 'NaN', 2, 0)::text$$),
	($$SELECT journey_paths('{a}'::text[], 1, 'Infinity', 0)::text$$),
	($$SELECT journey_paths('{a}'::text[], 0, 2, 5)::text$$),
	($$SELECT journey_paths('{a}'::text[], 1e308, 0, 0)::text FROM generate_series(1, 2)$$),
	($$SELECT journey_paths('{a}'::text[], true, 1e308)::text FROM generate_series(1, 2)$$),
	($$SELECT length(journey_paths(ARRAY[repeat('x', 1048576)], true)::text)$$),
	($$SELECT channel_count(journey_paths(ARRAY['c' || g, 'd' || g], true)) FROM generate_series(1, 100000) g$$),
	($$SELECT count(*) FROM paths(NULL)$$),
	($$SELECT channel_count(NULL::journey_paths)$$),
	-- text input
	($$SELECT '{"version":1,"paths":[]}'::journey_paths::text$$),
	($$SELECT ''::journey_paths::text$$),
	($$SELECT '{"version":2,"paths":[]}'::journey_paths::text$$),
	($$SELECT '{"version":1.0,"paths":[]}'::journey_paths::text$$),
	($$SELECT '{"paths":[],"version":1}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[]} x'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":[],"conversions":1,"non_conversions":0,"value":0}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a","a"],"conversions":1,"non_conversions":0,"value":0}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":0,"value":0},{"path":["a"],"conversions":1,"non_conversions":0,"value":0}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":-1,"non_conversions":0,"value":0}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":0,"non_conversions":0,"value":0}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":0,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":1e999,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":NaN,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":0x10,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"non_conversions":1,"conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a\u0000"],"conversions":1,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a],"conversions":1,"non_conversions":1,"value":3}]}'::journey_paths::text$$),
	($$SELECT '{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":1,"value":3},]}'::journey_paths::text$$),
	-- attribution
	($$SELECT count(*) FROM shapley_attribution('{"version":1,"paths":[]}')$$),
	($$SELECT count(*) FROM fractribution_attribution('{"version":1,"paths":[{"path":["a"],"conversions":0,"non_conversions":1,"value":0}]}')$$),
	($$SELECT string_agg(channel || ' ' || conversions, ', ') FROM shapley_attribution('{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":1,"value":0}]}', '')$$),
	($$SELECT string_agg(channel || ' ' || conversions || ' ' || value, ', ') FROM shapley_attribution('{"version":1,"paths":[{"path":["a","b"],"conversions":1e300,"non_conversions":1e300,"value":1e300}]}', 'conversion_rate')$$),
	($$SELECT count(*) FROM shapley_attribution('{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":0,"value":-2}]}')$$);
SELECT id, left(query, 70) AS query, outcome(query) FROM cases ORDER BY id;

-- Binary input gets the same checks (22P03; a truncated message 08P01):
-- bytes written as a bytea column of a binary COPY file are read back as a
-- journey_paths column.  Only the first is valid.  psql's \copy sets no
-- LAST_ERROR_SQLSTATE, so the messages are what is compared.
CREATE TABLE raw_bytes (id int, bytes bytea);
INSERT INTO raw_bytes VALUES
	-- format 1, one channel "a", one path [0] with 1, 0, 5: valid
	(1, decode('01000000010000000161000000010000000100000000', 'hex') || float8send(1) || float8send(0) || float8send(5)),
	-- format 2
	(2, decode('02', 'hex')),
	-- a channel number out of range
	(3, decode('01000000010000000161000000010000000100000001', 'hex') || float8send(1) || float8send(0) || float8send(5)),
	-- a channel on no path
	(4, decode('010000000200000001610000000162000000010000000100000000', 'hex') || float8send(1) || float8send(0) || float8send(5)),
	-- the same channel twice in the channel list
	(5, decode('01000000020000000161000000016100000000', 'hex')),
	-- a path with a channel twice in a row
	(6, decode('0100000001000000016100000001000000020000000000000000', 'hex') || float8send(1) || float8send(0) || float8send(5)),
	-- NaN conversions
	(7, decode('01000000010000000161000000010000000100000000', 'hex') || float8send('NaN') || float8send(0) || float8send(5)),
	-- a path without conversions but with a value
	(8, decode('01000000010000000161000000010000000100000000', 'hex') || float8send(0) || float8send(1) || float8send(5)),
	-- a path length beyond the message
	(9, decode('01000000010000000161000000017fffffff', 'hex')),
	-- the same path twice
	(10, decode('01000000010000000161000000020000000100000000', 'hex') || float8send(1) || float8send(0) || float8send(5) || decode('0000000100000000', 'hex') || float8send(1) || float8send(0) || float8send(5)),
	-- trailing bytes
	(11, decode('01000000000000000000', 'hex')),
	-- truncated
	(12, decode('010000000100000001', 'hex'));
CREATE TABLE read_back (id int, paths journey_paths);
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 1) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 2) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 3) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 4) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 5) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 6) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 7) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 8) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 9) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 10) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 11) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy (SELECT id, bytes FROM raw_bytes WHERE id = 12) TO 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\copy read_back FROM 'omnikpi_journey_paths_raw.bin' WITH (FORMAT binary)
\set removed `rm -r -- :'copy_dir'`
SELECT id, paths::text FROM read_back ORDER BY id;

RESET search_path;
