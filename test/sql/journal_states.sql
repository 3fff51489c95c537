-- The journal of a small markov_model or journey_paths state: a group's
-- journeys are kept as they came, each channel name once in the journal's
-- dictionary and each touch as its number there, until the journal would
-- pass 4 kB; the state's tables are built from it then, or when the state
-- is stored or combined.  Every way a state crosses that boundary, and
-- every kind of name the dictionary holds, must give the tables the rows
-- would have given one by one: here each group's result is compared with
-- the rollup of one model per journey, which no journal crosses, under
-- hash and sort aggregation and through parallel workers.

-- 300 groups of 3 to 120 journeys of 4 to 12 touches on three names of
-- 11 bytes that repeat, a record of 6 to 38 bytes: the groups stay
-- journals (but one, with counted rows).  Counted rows put every kind of
-- count into the records: whole and fractional counts, no conversions, no
-- value, and -0.
CREATE TABLE journal_journeys AS
SELECT j, j % 300 AS k,
	   ARRAY(SELECT 'channel_' || (ARRAY['a', 'bb', 'ccc'])[1 + (j * 7 + s * 3) % 3] || (j + s * s) % 5
			 FROM generate_series(1, 4 + j % 9) s) AS path,
	   j % 4 = 0 AS converted,
	   (j % 13)::float8 AS value,
	   CASE j % 5 WHEN 0 THEN 0 WHEN 1 THEN 2.5 ELSE 1 END::float8 AS conversions,
	   CASE j % 3 WHEN 0 THEN 1 WHEN 1 THEN 0 ELSE 0.25 END::float8 AS non_conversions
FROM generate_series(1, 300 * 120) j
WHERE j % 300 < 2 * (j / 300) + 1 OR j / 300 < 3;
-- 50 groups of 5 to 54 journeys of 4 to 16 touches whose names never
-- repeat: every touch adds a name of 10 to 12 bytes to the dictionary, so
-- that 23 of the groups cross 4 kB in the middle of the group, and the
-- others keep dictionaries of up to 295 names (more than a reader keeps on
-- its stack, and numbers of two bytes from the 129th).
INSERT INTO journal_journeys
SELECT 200000 + g * 100 + r, 2000 + g,
	   ARRAY(SELECT 'name ' || g * 100 + r || '.' || s FROM generate_series(1, 4 + (g + r) % 13) s),
	   r % 4 = 0, (r % 13)::float8,
	   CASE r % 5 WHEN 0 THEN 0 WHEN 1 THEN 2.5 ELSE 1 END::float8,
	   CASE r % 3 WHEN 0 THEN 1 WHEN 1 THEN 0 ELSE 0.25 END::float8
FROM generate_series(0, 49) g, generate_series(1, 5 + g) r;
-- 40 groups of 1 to 40 journeys on names of two to four bytes a character
-- and NULL channels (skipped; a channel touched twice in a row counts once
-- but with 'keep'), some paths empty or all NULL (rows skipped).
INSERT INTO journal_journeys
SELECT 300000 + g * 100 + r, 3000 + g,
	   ARRAY(SELECT (ARRAY['café', 'größe', 'кол-центр', '客服', 'e-mail', NULL, 'café'])[1 + (g * 5 + r * 3 + s * s) % 7]
			 FROM generate_series(1, (g + r) % 10) s),
	   r % 3 = 0, r::float8, (r % 4)::float8, (r % 2) * 0.5
FROM generate_series(0, 39) g, generate_series(1, 1 + g) r;
-- A group whose first journey alone takes more than the journal holds:
-- 5,000 touches on 23 names.
INSERT INTO journal_journeys
SELECT 100000 + r, 1000,
	   ARRAY(SELECT 'long channel ' || (s * 7 + r) % 23 FROM generate_series(1, 5000) s),
	   r % 2 = 0, r, r % 3, r % 2
FROM generate_series(1, 3) r;
ANALYZE journal_journeys;

SELECT count(DISTINCT k) AS groups, min(n) AS fewest_journeys, max(n) AS most_journeys
FROM (SELECT k, count(*) AS n FROM journal_journeys GROUP BY k) g;

-- Each group's models and summaries (order 1 and 2, collapsed and kept
-- repeats, one journey and counted rows), as text, in one row per group.
CREATE VIEW journal_grouped AS
SELECT k, concat_ws(' | ', markov_model(path, converted, value)::text,
					markov_model(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value END, 2)::text,
					markov_model(path, converted, value, 2, 'keep')::text,
					journey_paths(path, converted, value)::text,
					journey_paths(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value ELSE '-0'::float8 END)::text) AS result
FROM journal_journeys GROUP BY k;

-- The same built from one model per journey, rolled up by group.
CREATE VIEW journal_rolled_up AS
SELECT k, concat_ws(' | ', rollup(m1)::text, rollup(m2)::text, rollup(mk)::text, rollup(p1)::text, rollup(pc)::text) AS result
FROM (SELECT j, k, markov_model(path, converted, value) AS m1,
			 markov_model(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value END, 2) AS m2,
			 markov_model(path, converted, value, 2, 'keep') AS mk,
			 journey_paths(path, converted, value) AS p1,
			 journey_paths(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value ELSE '-0'::float8 END) AS pc
	  FROM journal_journeys GROUP BY j, k) per_journey
GROUP BY k;
CREATE TABLE journal_expected AS SELECT * FROM journal_rolled_up;

-- Hash aggregation (every group's state alive at once) and sort aggregation.
SET enable_sort = off;
SELECT count(*) AS groups, count(*) FILTER (WHERE g.result = e.result) AS hashed_same_as_rolled_up
FROM journal_grouped g JOIN journal_expected e USING (k);
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(*) AS groups, count(*) FILTER (WHERE g.result = e.result) AS sorted_same_as_rolled_up
FROM journal_grouped g JOIN journal_expected e USING (k);
RESET enable_hashagg;

-- Through two parallel workers, whose partial states (journals or built)
-- the leader's combine function reads: the whole table and by group.
BEGIN;
SELECT count(set_config(name, setting, true)) AS parallel_settings
FROM (VALUES ('parallel_setup_cost', '0'), ('parallel_tuple_cost', '0'),
			 ('min_parallel_table_scan_size', '0'), ('max_parallel_workers_per_gather', '2'),
			 ('parallel_leader_participation', 'off')) s(name, setting);
EXPLAIN (COSTS OFF)
SELECT markov_model(path, converted, value), journey_paths(path, converted, value)
FROM journal_journeys WHERE k < 5;
SELECT markov_model(path, converted, value)::text
	   = (SELECT rollup(m) FROM (SELECT markov_model(path, converted, value) AS m FROM journal_journeys WHERE k < 5 GROUP BY j) x)::text
	   AS markov_same,
	   journey_paths(path, converted, value)::text
	   = (SELECT rollup(p) FROM (SELECT journey_paths(path, converted, value) AS p FROM journal_journeys WHERE k < 5 GROUP BY j) x)::text
	   AS paths_same
FROM journal_journeys WHERE k < 5;
EXPLAIN (COSTS OFF) SELECT k, result FROM journal_grouped;
SELECT count(*) AS groups, count(*) FILTER (WHERE g.result = e.result) AS parallel_same_as_rolled_up
FROM journal_grouped g JOIN journal_expected e USING (k);
COMMIT;
