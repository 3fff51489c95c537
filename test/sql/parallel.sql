-- Parallel and partitionwise aggregation give the same KPIs as a serial
-- plan: partial states travel between processes as channel_summary values
-- and are merged by the combine function.

\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/parallel_workers.sql
\set ECHO all
CREATE TABLE interactions_par AS
SELECT (ARRAY['web', 'app', 'store', 'call center', 'chat', 'email', 'social', 'kiosk'])[1 + (g * 7 + g / 13) % 8] AS channel,
	   (1 + (g * 17 % 41) / 10.0)::float8 AS rating,
	   g % 3 <> 0 AS integrated,
	   g % 4 AS region
FROM generate_series(1, 200000) g;
ANALYZE interactions_par;

SET max_parallel_workers_per_gather = 0;
SELECT omni_experience_rating(channel, rating) AS serial_rating,
	   omni_integration_index(channel, integrated) AS serial_index,
	   channel_summary(channel, rating)::text AS serial_summary
FROM interactions_par \gset
CREATE TABLE serial_by_region AS
SELECT region, omni_experience_rating(channel, rating) AS kpi FROM interactions_par GROUP BY region;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;	-- every row goes through a worker and combine
EXPLAIN (COSTS OFF) SELECT omni_experience_rating(channel, rating) FROM interactions_par;
-- the plan ran with its workers: the rows went through them, not the leader
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT omni_experience_rating(channel, rating), omni_integration_index(channel, integrated) FROM interactions_par$$);
SELECT round(omni_experience_rating(channel, rating)::numeric, 9) = round(:'serial_rating'::numeric, 9) AS rating_same_as_serial,
	   round(omni_integration_index(channel, integrated)::numeric, 9) = round(:'serial_index'::numeric, 9) AS index_same_as_serial
FROM interactions_par;
-- the summary itself: same counts, min and max; sums equal to the last bit or within 1e-12
SELECT bool_and(p.n = s.n AND p.min = s.min AND p.max = s.max AND abs(p.mean / s.mean - 1) < 1e-12) AS summary_same_as_serial,
	   count(*) AS channels
FROM channels((SELECT channel_summary(channel, rating) FROM interactions_par)) p
JOIN channels(:'serial_summary') s USING (channel);
EXPLAIN (COSTS OFF) SELECT region, omni_experience_rating(channel, rating) FROM interactions_par GROUP BY region;
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT region, omni_experience_rating(channel, rating) FROM interactions_par GROUP BY region$$);
SELECT bool_and(abs(p.kpi - s.kpi) < 1e-9) AS grouped_same_as_serial
FROM (SELECT region, omni_experience_rating(channel, rating) AS kpi FROM interactions_par GROUP BY region) p
JOIN serial_by_region s USING (region);
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Partitionwise aggregation: partial aggregates per partition, combined
-- without serialization.
CREATE TABLE interactions_parted (channel text, rating float8, region int) PARTITION BY LIST (region);
CREATE TABLE interactions_parted_0 PARTITION OF interactions_parted FOR VALUES IN (0, 1);
CREATE TABLE interactions_parted_1 PARTITION OF interactions_parted FOR VALUES IN (2, 3);
INSERT INTO interactions_parted SELECT channel, rating, region FROM interactions_par;
ANALYZE interactions_parted;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT omni_experience_rating(channel, rating) FROM interactions_parted;
SELECT round(omni_experience_rating(channel, rating)::numeric, 9) = round(:'serial_rating'::numeric, 9) AS partitionwise_same_as_serial
FROM interactions_parted;
RESET max_parallel_workers_per_gather;
RESET enable_partitionwise_aggregate;
