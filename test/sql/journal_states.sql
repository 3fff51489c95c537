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
-- 4 groups whose journeys add more names than the dictionary at hand has
-- room for: a first journey of 100 names, each touched twice (the 64 names
-- on the stack grow into the heap in the middle of the journey), then one
-- of 150 new names, each touched twice (a dictionary of 100 names in the
-- heap grows again); the journal stays within 4 kB.
INSERT INTO journal_journeys
SELECT 400000 + g * 100 + r, 4000 + g,
	   ARRAY(SELECT 'n' || r || '.' || s * (ARRAY[7, 11, 13, 17])[1 + g] % (50 + 50 * r)
			 FROM generate_series(1, 100 + 100 * r) s),
	   r = 1, r::float8, 1, r % 2
FROM generate_series(0, 3) g, generate_series(1, 2) r;
-- 8 groups of 450 journeys of 60 touches on 120 names, each name touched
-- twice in a row: a group's journal passes 4 kB after about 65 journeys,
-- and its tables (thousands of transitions) are big enough that a hash
-- aggregation of this table's groups would not keep them all in the
-- caches, so its next journeys wait in a pending journal of 4 to 16 kB
-- before its tables, which takes them in one go when it is full (one
-- group's journeys among the others', as in a GROUP BY by day), and holds
-- the last ones when the group is stored or combined.
INSERT INTO journal_journeys
SELECT 500000 + g * 1000 + r, 5000 + g,
	   ARRAY(SELECT 'touchpoint ' || (g * 31 + r * 17 + (s / 2) * (1 + r % 23)) % 120 FROM generate_series(1, 60) s),
	   r % 4 = 0, (r % 13)::float8,
	   CASE r % 5 WHEN 0 THEN 0 WHEN 1 THEN 2.5 ELSE 1 END::float8,
	   CASE r % 3 WHEN 0 THEN 1 WHEN 1 THEN 0 ELSE 0.25 END::float8
FROM generate_series(1, 450) r, generate_series(0, 7) g;
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
-- repeats, one journey and counted rows), as text, in one row per group;
-- and the channels two of them hold, which their text would not tell from
-- a stored form that holds a name twice.
CREATE VIEW journal_grouped AS
SELECT k, concat_ws(' | ', channel_count(markov_model(path, converted, value)),
					channel_count(journey_paths(path, converted, value)),
					markov_model(path, converted, value)::text,
					markov_model(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value END, 2)::text,
					markov_model(path, converted, value, 2, 'keep')::text,
					journey_paths(path, converted, value)::text,
					journey_paths(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value ELSE '-0'::float8 END)::text) AS result
FROM journal_journeys GROUP BY k;

-- The same built from one model per journey, rolled up by group.
CREATE VIEW journal_rolled_up AS
SELECT k, concat_ws(' | ', channel_count(rollup(m1)), channel_count(rollup(p1)),
					rollup(m1)::text, rollup(m2)::text, rollup(mk)::text, rollup(p1)::text, rollup(pc)::text) AS result
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

-- Hash aggregation that outgrows work_mem (test/sql/aggregate_states.sql):
-- the groups it has no room for wait on disk and are aggregated in later
-- batches into fresh states, journals or built, after the first batch's
-- are freed.  More than one batch, or it did not spill.
CREATE FUNCTION journal_hash_batches() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	plan		jsonb;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT * FROM journal_grouped' INTO plan;
	RETURN jsonb_path_query_first(plan, 'strict $.**."HashAgg Batches"')::int;
END
$$;
BEGIN;
SET LOCAL enable_sort = off;
SET LOCAL work_mem = '64kB';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT journal_hash_batches() > 1 AS spilled;
SELECT count(*) AS groups, count(*) FILTER (WHERE g.result = e.result) AS spilled_same_as_rolled_up
FROM journal_grouped g JOIN journal_expected e USING (k);
COMMIT;

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

-- A group's summary, and at order 1 its model when the journal's dictionary
-- has at most 32 names, is written straight from its journal; the other
-- groups' are built from their tables.  Both against what plain SQL counts
-- (NULL channels skipped, a repeated channel collapsed or kept), read
-- through the types' input: one journey a row, repeats kept (models only),
-- counted rows.
CREATE VIEW journal_touches AS
SELECT j, k, n, c, lag(c) OVER w AS previous, n = max(n) OVER (PARTITION BY variant, j) AS last,
	   variant, keep, conversions, non_conversions, value
FROM (SELECT j, k, path, 'one journey' AS variant, false AS keep, converted::int::float8 AS conversions,
			 1 - converted::int::float8 AS non_conversions, CASE WHEN converted THEN value ELSE 0 END AS value
	  FROM journal_journeys
	  UNION ALL
	  SELECT j, k, path, 'repeats kept', true, converted::int, 1 - converted::int,
			 CASE WHEN converted THEN value ELSE 0 END
	  FROM journal_journeys
	  UNION ALL
	  SELECT j, k, path, 'counted rows', false, conversions, non_conversions,
			 CASE WHEN conversions > 0 THEN value ELSE 0 END
	  FROM journal_journeys WHERE conversions + non_conversions > 0) journeys,
	 unnest(path) WITH ORDINALITY AS touch(c, n)
WHERE c IS NOT NULL
WINDOW w AS (PARTITION BY variant, j ORDER BY n);

CREATE TABLE journal_sql_models AS
SELECT variant, k,
	   format('{"version": 1, "order": 1, %s"transitions": [%s]}', CASE WHEN variant = 'repeats kept' THEN '"repeats": "keep", ' END,
			  string_agg(format('[%s, %s, %s%s]', from_state, to_state, count, ', ' || value), ', '))::markov_model::text AS expected
FROM (SELECT variant, k, CASE WHEN previous IS NULL THEN '"start"' ELSE json_build_array(previous)::text END AS from_state,
			 json_build_array(c)::text AS to_state, sum(conversions + non_conversions) AS count, NULL::float8 AS value
	  FROM journal_touches WHERE keep OR previous IS DISTINCT FROM c
	  GROUP BY 1, 2, 3, 4
	  UNION ALL
	  SELECT variant, k, json_build_array(c)::text, '"conversion"', sum(conversions), sum(value)
	  FROM journal_touches WHERE last AND conversions > 0
	  GROUP BY 1, 2, 3
	  UNION ALL
	  SELECT variant, k, json_build_array(c)::text, '"null"', sum(non_conversions), NULL
	  FROM journal_touches WHERE last AND non_conversions > 0
	  GROUP BY 1, 2, 3) transitions
GROUP BY variant, k;

SELECT s.variant, count(*) FILTER (WHERE names <= 32) AS groups_of_32_names_or_fewer,
	   count(*) FILTER (WHERE names > 32) AS groups_of_more,
	   count(*) FILTER (WHERE m.model = s.expected) AS same_as_sql
FROM journal_sql_models s
JOIN (SELECT k, 'one journey' AS variant, markov_model(path, converted, value)::text AS model
	  FROM journal_journeys GROUP BY k
	  UNION ALL
	  SELECT k, 'repeats kept', markov_model(path, converted, value, 1, 'keep')::text
	  FROM journal_journeys GROUP BY k
	  UNION ALL
	  SELECT k, 'counted rows',
			 markov_model(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value END, 1)::text
	  FROM journal_journeys GROUP BY k) m USING (variant, k)
JOIN (SELECT k, count(DISTINCT c) AS names FROM journal_journeys, unnest(path) c GROUP BY k) n USING (k)
GROUP BY s.variant ORDER BY s.variant;

CREATE TABLE journal_sql_paths AS
SELECT variant, k,
	   json_build_object('version', 1, 'paths',
						 json_agg(json_build_object('path', path, 'conversions', conversions,
													'non_conversions', non_conversions, 'value', value)))::text::journey_paths::text
	   AS expected
FROM (SELECT variant, k, path, sum(conversions) AS conversions, sum(non_conversions) AS non_conversions,
			 sum(value) AS value
	  FROM (SELECT variant, k, j, array_agg(c ORDER BY n) AS path, min(conversions) AS conversions,
				   min(non_conversions) AS non_conversions, min(value) AS value
			FROM journal_touches WHERE NOT keep AND previous IS DISTINCT FROM c
			GROUP BY variant, k, j) journeys
	  GROUP BY variant, k, path) paths
GROUP BY variant, k;

SELECT s.variant, count(*) AS groups, count(*) FILTER (WHERE p.summary = s.expected) AS same_as_sql
FROM journal_sql_paths s
JOIN (SELECT k, 'one journey' AS variant, journey_paths(path, converted, value)::text AS summary
	  FROM journal_journeys GROUP BY k
	  UNION ALL
	  SELECT k, 'counted rows',
			 journey_paths(path, conversions, non_conversions, CASE WHEN conversions > 0 THEN value END)::text
	  FROM journal_journeys GROUP BY k) p USING (variant, k)
GROUP BY s.variant ORDER BY s.variant;
