-- The working states of the three aggregate families (channel_summary,
-- markov_model, journey_paths): no memory context per group, so hash
-- aggregation stays linear in the number of groups (checked by the memory
-- each group takes, which a context per group multiplies: an empty context
-- alone takes 1 to 8 kB); hash, sort and parallel plans agree; states grow
-- within a row and across rows, and past the size at which they move into
-- an expanded object of their own; every aggregate declares SSPACE; a
-- working state handed to a function other than the aggregate's own (a
-- parallel worker's partial state) is read in its stored form.

-- 1. Every aggregate whose state is one of the three types declares the
-- size of its state, so the planner's estimate of hash memory is honest.
SELECT p.proname AS aggregate, pg_get_function_identity_arguments(p.oid) AS arguments,
	   a.aggtransspace AS sspace
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE a.aggtranstype IN ('channel_summary'::regtype, 'markov_model'::regtype, 'journey_paths'::regtype)
ORDER BY 1, 2;

-- Memory per group of a serial hash aggregation, from EXPLAIN ANALYZE:
-- deterministic for a given build.
CREATE FUNCTION hash_bytes_per_group(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	plan		jsonb;
BEGIN
	SET LOCAL enable_sort = off;
	SET LOCAL work_mem = '256MB';
	SET LOCAL max_parallel_workers_per_gather = 0;
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	RETURN (jsonb_path_query_first(plan, 'strict $.**."Peak Memory Usage"')::int * 1024
			/ (jsonb_path_query_first(plan, 'strict $.**."Actual Rows"')::int));
END
$$;
-- What an aggregate call's states take a group of tbl grouped by k, beyond count()'s.
CREATE FUNCTION state_bytes_per_group(call text, tbl text) RETURNS int LANGUAGE sql AS $$
SELECT hash_bytes_per_group(format('SELECT k, %s FROM %I GROUP BY k', call, tbl))
	   - hash_bytes_per_group(format('SELECT k, count(*) FROM %I GROUP BY k', tbl))
$$;

-- The size declared is what the state of a typical small group takes: the
-- planner counts SSPACE and a 16-byte chunk header for each group's state
-- when it sizes a hash aggregation, and each family's state is within 1.5
-- times of that, either way, in the hash plan (its memory per group beyond
-- count()'s).  Typical small groups: one journey of ten touches for the
-- journey aggregates (a journal), its stored model for their rollup()
-- (tables), three rows on three channels for channel_summary.  200,000
-- groups (50,000 of the bigger rollup() states), so that the aggregate
-- context's blocks of up to 8 MB round the measure by less than a fifth.
CREATE TABLE typical_journeys AS
SELECT g AS k, g % 7 = 0 AS converted,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
						[1 + (hashint8(g * 16 + t) & 7)]
			 FROM generate_series(1, 10) t) AS path
FROM generate_series(1, 200000) g;
CREATE TABLE typical_models AS
SELECT k, markov_model(path, converted) AS model, journey_paths(path, converted) AS paths
FROM typical_journeys WHERE k <= 50000 GROUP BY k;
CREATE TABLE typical_ratings AS
SELECT g / 3 AS k, (g % 5 + 1)::float8 AS rating,
	   (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
		   [1 + g % 3 + (g / 3) % 6] AS channel
FROM generate_series(0, 599999) g;
ANALYZE typical_journeys;
ANALYZE typical_models;
ANALYZE typical_ratings;
SELECT aggregate, sspace,
	   measured BETWEEN (sspace + 16) / 1.5 AND (sspace + 16) * 1.5 AS sspace_is_measured_size
FROM (VALUES ('markov_model(text[],boolean)', 'markov_model(path, converted)', 'typical_journeys'),
			 ('journey_paths(text[],boolean)', 'journey_paths(path, converted)', 'typical_journeys'),
			 ('rollup(markov_model)', 'rollup(model)', 'typical_models'),
			 ('rollup(journey_paths)', 'rollup(paths)', 'typical_models'),
			 ('channel_summary(text,double precision)', 'channel_summary(channel, rating)', 'typical_ratings')
	 ) v(aggregate, call, tbl),
	 LATERAL (SELECT aggtransspace AS sspace FROM pg_aggregate
			  WHERE aggfnoid = aggregate::regprocedure) a,
	 LATERAL (SELECT state_bytes_per_group(call, tbl) AS measured) m;
ORDER BY 1;

-- 2. Many small groups: 20,000 groups of two rows each.
CREATE TABLE small_groups AS
SELECT g / 2 AS k,
	   (ARRAY['web', 'app', 'store'])[1 + g % 3] AS channel,
	   (1 + g % 5)::float8 AS rating,
	   ARRAY[(ARRAY['web', 'app', 'store'])[1 + g % 3], 'email'] AS path,
	   g % 7 = 0 AS converted
FROM generate_series(0, 39999) g;
ANALYZE small_groups;
-- The bounds leave room for PostgreSQL's own hash entry; a memory context
-- per state would take more than the bound by itself.
SELECT hash_bytes_per_group('SELECT k, channel_summary(channel, rating) FROM small_groups GROUP BY k') < 1024
	   AS channel_summary_small,
	   hash_bytes_per_group('SELECT k, omni_experience_rating(channel, rating) FROM small_groups GROUP BY k') < 1024
	   AS experience_rating_small,
	   hash_bytes_per_group('SELECT k, markov_model(path, converted) FROM small_groups GROUP BY k') < 1536
	   AS markov_model_small,
	   hash_bytes_per_group('SELECT k, journey_paths(path, converted) FROM small_groups GROUP BY k') < 1024
	   AS journey_paths_small;

-- A channel_summary state takes the room of the chunk it is copied into: a
-- state of one channel has room for a second in its 256 bytes, so a group of
-- two channels never grows (314 bytes a group beyond count()'s); taking
-- just the room asked for, it grew into a 512-byte chunk (734 bytes).
SELECT hash_bytes_per_group('SELECT k, channel_summary(channel, rating) FROM small_groups GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(*) FROM small_groups GROUP BY k') < 448
	   AS channel_summary_two_channels;

-- A group of one small journey keeps a small state: its tables take room
-- only for what the journey holds.  20,000 groups of one journey of three
-- channels; the state's bytes are the group's memory beyond what count()
-- takes in the same plan.  A markov_model state is about 512 bytes, a
-- journey_paths one about 256 (as a journal, below, both take less than
-- 128); states that start with room for several entries in every table,
-- or keep the room of their last doubling, take a kilobyte or more.
CREATE TABLE one_journey_groups AS
SELECT g AS k, ARRAY['web', 'email', 'store'] AS path, g % 7 = 0 AS converted
FROM generate_series(1, 20000) g;
ANALYZE one_journey_groups;
SELECT hash_bytes_per_group('SELECT k, markov_model(path, converted) FROM one_journey_groups GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(path) FROM one_journey_groups GROUP BY k') < 1024
	   AS markov_model_one_journey,
	   hash_bytes_per_group('SELECT k, journey_paths(path, converted) FROM one_journey_groups GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(path) FROM one_journey_groups GROUP BY k') < 512
	   AS journey_paths_one_journey;

-- A transition of a markov_model state takes 40 bytes, not 48: a step into
-- a channel keeps the state it leads to, a step that ends the journey its
-- conversion value, never both.  Eleven touches on six channels, every step
-- a new transition (12 with the end), 6 channel states: 968 bytes, which the
-- aggregate context's power-of-two chunks hold in 1 kB (1,153 bytes a group
-- beyond count()'s); with 48-byte transitions the state took 1,064 bytes and
-- a 2 kB chunk (2,411 bytes a group).
CREATE TABLE eleven_touch_groups AS
SELECT g AS k, ARRAY['web', 'app', 'store', 'email', 'chat', 'kiosk', 'web', 'store', 'chat', 'app', 'kiosk'] AS path,
	   g % 7 = 0 AS converted
FROM generate_series(1, 20000) g;
ANALYZE eleven_touch_groups;
SELECT hash_bytes_per_group('SELECT k, markov_model(path, converted) FROM eleven_touch_groups GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(path) FROM eleven_touch_groups GROUP BY k') < 1536
	   AS markov_model_eleven_touches;
-- The aggregate's own states of one journey are journals now (below);
-- rollup() builds tables from the stored models, one 1 kB chunk a group.
CREATE TABLE eleven_touch_models AS
SELECT k, markov_model(path, converted) AS model FROM eleven_touch_groups GROUP BY k;
ANALYZE eleven_touch_models;
SELECT hash_bytes_per_group('SELECT k, rollup(model) FROM eleven_touch_models GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(model) FROM eleven_touch_models GROUP BY k') < 1536
	   AS markov_model_eleven_touches_tables;

-- A markov_model state keeps its journeys as they came until it gets big
-- (test/sql/journal_states.sql): 20,000 groups of four journeys of three
-- channels keep 76 bytes a state, each name once and a byte a touch (a
-- 128-byte chunk, and the 64-byte one of its first journey left behind);
-- with its tables built it took 512 bytes and more.
CREATE TABLE four_journey_groups AS
SELECT g / 4 AS k, ARRAY['web', 'email', 'store'] AS path, g % 7 = 0 AS converted
FROM generate_series(0, 79999) g;
ANALYZE four_journey_groups;
SELECT hash_bytes_per_group('SELECT k, markov_model(path, converted) FROM four_journey_groups GROUP BY k')
	   - hash_bytes_per_group('SELECT k, count(path) FROM four_journey_groups GROUP BY k') < 448
	   AS markov_model_journal;

-- A journal finds each name of its dictionary again wherever it stands,
-- past the 64 names it compares at once too: 5,000 groups of 20 journeys
-- on 100 names of 6 bytes, each name in one journey of the group and again
-- in others, keep one dictionary of 100 names and a byte a touch (1,573
-- bytes a group beyond count()'s); a lookup that missed the names past the
-- first 64, or those from 33 to 64, added them again at every touch (3,251).
CREATE TABLE hundred_name_groups AS
SELECT g / 20 AS k,
	   ARRAY(SELECT 'ch_' || lpad(((g % 20) * 5 + t + (g / 20) * 7) % 100 || '', 3, '0')
			 FROM generate_series(0, 4) t)
	   || ARRAY(SELECT 'ch_' || lpad((hashint4(g * 16 + t) & 2147483647) % 100 || '', 3, '0')
				FROM generate_series(0, 4) t) AS path,
	   g % 7 = 0 AS converted
FROM generate_series(0, 99999) g;
ANALYZE hundred_name_groups;
SELECT state_bytes_per_group('markov_model(path, converted)', 'hundred_name_groups') < 2048
	   AS markov_model_journal_hundred_names;

-- Hash and sort aggregation give the same states.
CREATE FUNCTION by_group(query text, hashed bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result		text;
BEGIN
	PERFORM set_config('enable_hashagg', hashed::text, true);
	PERFORM set_config('enable_sort', (NOT hashed)::text, true);
	EXECUTE format('SELECT md5(string_agg(s::text, %L ORDER BY k)) FROM (%s) q(k, s)', ';', query)
		INTO result;
	RETURN result;
END
$$;
SELECT by_group(q, true) = by_group(q, false) AS hash_same_as_sort, q
FROM (VALUES ('SELECT k, channel_summary(channel, rating) FROM small_groups GROUP BY k'),
			 ('SELECT k, omni_experience_rating(channel, rating) FROM small_groups GROUP BY k'),
			 ('SELECT k, markov_model(path, converted) FROM small_groups GROUP BY k'),
			 ('SELECT k, journey_paths(path, converted) FROM small_groups GROUP BY k')) v(q);

-- A hash aggregation that outgrows work_mem keeps the groups it has and
-- writes the rows of new ones to disk, to aggregate them in later batches
-- into fresh states, after the first batch's states are freed: the plan a
-- GROUP BY by customer or day gets at the default work_mem of 4 MB once its
-- groups are many or the planner expects them to be.  Its batches (more
-- than one, or it did not spill) give the same states as sort aggregation.
CREATE FUNCTION spilled_by_group(query text, OUT batches int, OUT result text)
LANGUAGE plpgsql AS $$
DECLARE
	plan		jsonb;
BEGIN
	PERFORM set_config('work_mem', '64kB', true);
	PERFORM set_config('max_parallel_workers_per_gather', '0', true);
	PERFORM set_config('enable_hashagg', 'on', true);
	PERFORM set_config('enable_sort', 'off', true);
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	batches := jsonb_path_query_first(plan, 'strict $.**."HashAgg Batches"')::int;
	result := by_group(query, true);
END
$$;
SELECT s.batches > 1 AS spilled, s.result = by_group(q, false) AS spilled_hash_same_as_sort, q
FROM (VALUES ('SELECT k, channel_summary(channel, rating) FROM small_groups GROUP BY k'),
			 ('SELECT k, omni_experience_rating(channel, rating) FROM small_groups GROUP BY k'),
			 ('SELECT k, markov_model(path, converted) FROM small_groups GROUP BY k'),
			 ('SELECT k, journey_paths(path, converted) FROM small_groups GROUP BY k')) v(q),
	 LATERAL spilled_by_group(q) s;

-- 3. States that grow past a megabyte move into an expanded object of their
-- own; the result is the same as when the rows come in small states rolled
-- up: 40,000 channels in one summary, 3,007 channels and 48,000
-- transitions in one Markov model, 21,000 distinct paths in one
-- journey_paths.
CREATE TABLE big_group AS
SELECT g, 'channel ' || g AS channel, (g % 5 + 1)::float8 AS rating,
	   ARRAY['c' || g % 3000, 'd' || g % 7, 'c' || (g * 13) % 3000] AS path,
	   g % 3 = 0 AS converted
FROM generate_series(1, 40000) g;
SELECT (SELECT channel_summary(channel, rating) FROM big_group)::text
	   = (SELECT rollup(s) FROM (SELECT channel_summary(channel, rating) AS s FROM big_group GROUP BY g % 100) x)::text
	   AS summary_same,
	   (SELECT channel_count(channel_summary(channel, rating)) FROM big_group) AS channels,
	   (SELECT markov_model(path, converted) FROM big_group)::text
	   = (SELECT rollup(m) FROM (SELECT markov_model(path, converted) AS m FROM big_group GROUP BY g % 100) x)::text
	   AS markov_same,
	   (SELECT count(*) FROM transitions((SELECT markov_model(path, converted) FROM big_group))) AS transitions,
	   (SELECT journey_paths(path, converted) FROM big_group)::text
	   = (SELECT rollup(p) FROM (SELECT journey_paths(path, converted) AS p FROM big_group GROUP BY g % 100) x)::text
	   AS paths_same,
	   (SELECT count(*) FROM paths((SELECT journey_paths(path, converted) FROM big_group))) AS distinct_paths;

-- The same big states in hash aggregation next to small ones, and under OVER.
SELECT k, channel_count(s) AS channels
FROM (SELECT g % 2 AS k, channel_summary(CASE WHEN g % 2 = 0 THEN channel ELSE 'one' END, rating) AS s
	  FROM big_group GROUP BY 1) x
ORDER BY k;
SELECT DISTINCT channel_count(s) AS channels_in_last_frame
FROM (SELECT g, channel_summary(channel, rating) OVER (ORDER BY g ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS s
	  FROM big_group) x;

-- 4. Long paths grow a state within one row: 100 distinct channels on one path.
SELECT channel_count(journey_paths(p, true)) AS journey_paths_channels,
	   (SELECT count(*) FROM transitions(markov_model(p, true))) AS markov_transitions
FROM (SELECT array_agg('c' || g ORDER BY g) AS p FROM generate_series(1, 100) g) x;

-- 5. Parallel workers hand their partial states to the leader as working
-- states; the combine function reads them.  Every row through a worker.
SELECT channel_summary(channel, rating)::text AS serial_summary,
	   markov_model(path, converted)::text AS serial_markov,
	   journey_paths(path, converted)::text AS serial_paths
FROM small_groups \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT channel_summary(channel, rating), markov_model(path, converted), journey_paths(path, converted)
FROM small_groups;
SELECT channel_summary(channel, rating)::text = :'serial_summary' AS summary_same,
	   markov_model(path, converted)::text = :'serial_markov' AS markov_same,
	   journey_paths(path, converted)::text = :'serial_paths' AS paths_same
FROM small_groups;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
