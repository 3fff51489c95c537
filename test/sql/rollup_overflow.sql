-- Every merge of stored values checks its sums (22003) and keeps the
-- type's invariants, so what rollup() returns can always be dumped and
-- restored: two valid channel summaries whose counts add up past the
-- largest bigint are an error, not a negative count that the type's own
-- input would then reject; the same for the double counts and values of
-- markov_model and journey_paths, in rollup and in a parallel plan.
\set VERBOSITY sqlstate

-- channel_summary: n = 2^63 - 1 on a scale of 1 to 1 is valid alone...
CREATE TABLE full_summaries (s channel_summary);
INSERT INTO full_summaries VALUES
	('{"version":1,"channels":{"web":{"n":9223372036854775807,"sum":9223372036854775807,"min":1,"max":1}}}'),
	('{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1}}}');
SELECT s::text::channel_summary::text = s::text AS reads_back FROM full_summaries;
-- ...but not added to one more row: 22003
SELECT rollup(s) FROM full_summaries;
-- a merge that fits keeps the invariants: it reads back, so it can be restored
SELECT rollup(s)::text::channel_summary::text = rollup(s)::text AS merged_reads_back
FROM (VALUES ('{"version":1,"channels":{"web":{"n":9223372036854775806,"sum":9223372036854775806,"min":1,"max":1}}}'::channel_summary),
			 ('{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1},"app":{"n":3,"sum":6,"min":1,"max":3}}}')) v(s);
-- sums past the doubles: 22003
SELECT rollup(s)
FROM (VALUES ('{"version":1,"channels":{"web":{"n":1,"sum":1e308,"min":1e308,"max":1e308}}}'::channel_summary),
			 ('{"version":1,"channels":{"web":{"n":1,"sum":1e308,"min":1e308,"max":1e308}}}')) v(s);

-- markov_model: transition counts and values past the doubles
SELECT rollup(m)
FROM (VALUES ('{"version":1,"order":1,"transitions":[["start",["a"],1e308],[["a"],"null",1e308]]}'::markov_model),
			 ('{"version":1,"order":1,"transitions":[["start",["a"],1e308],[["a"],"null",1e308]]}')) v(m);
SELECT rollup(m)
FROM (VALUES ('{"version":1,"order":1,"transitions":[["start",["a"],1],[["a"],"conversion",1,1e308]]}'::markov_model),
			 ('{"version":1,"order":1,"transitions":[["start",["a"],1],[["a"],"conversion",1,1e308]]}')) v(m);

-- journey_paths: counts and values past the doubles
SELECT rollup(p)
FROM (VALUES ('{"version":1,"paths":[{"path":["a"],"conversions":0,"non_conversions":1e308,"value":0}]}'::journey_paths),
			 ('{"version":1,"paths":[{"path":["a"],"conversions":0,"non_conversions":1e308,"value":0}]}')) v(p);
SELECT rollup(p)
FROM (VALUES ('{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":0,"value":1e308}]}'::journey_paths),
			 ('{"version":1,"paths":[{"path":["a"],"conversions":1,"non_conversions":0,"value":1e308}]}')) v(p);

-- The same in a parallel plan: every row through a worker, the partial
-- summaries of two workers merged.
CREATE TABLE many_full AS
SELECT '{"version":1,"channels":{"web":{"n":4611686018427387904,"sum":4611686018427387904,"min":1,"max":1}}}'::channel_summary AS s
FROM generate_series(1, 4);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT rollup(s) FROM many_full;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
\set VERBOSITY default
SELECT rollup(s) FROM full_summaries;
