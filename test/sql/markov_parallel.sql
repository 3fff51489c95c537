-- markov_model and rollup(markov_model) under parallel and partitionwise
-- aggregation give the same model as a serial plan: partial models travel
-- between processes as markov_model values and are merged by the combine
-- function.  Counts are whole numbers and values multiples of 1/4, so the
-- merged sums are exact and the text forms must be identical.

\getenv abs_srcdir PG_ABS_SRCDIR
\set ECHO none
\i :abs_srcdir/include/parallel_workers.sql
\set ECHO all
CREATE TABLE markov_par AS
SELECT j AS journey,
	   ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call center', 'chat', 'email', 'social', 'kiosk'])[1 + (hashint4(j * 32 + k) & 7)]
			 FROM generate_series(1, 1 + (hashint4(j) & 2147483647) % 12) k) AS path,
	   (hashint4(j * 3) & 7) = 0 AS converted,
	   ((hashint4(j * 5) & 4095) / 4.0)::float8 AS value,
	   j % 4 AS region
FROM generate_series(1, 60000) j;
ANALYZE markov_par;

SET max_parallel_workers_per_gather = 0;
SELECT markov_model(path, converted, value)::text AS serial_1,
	   markov_model(path, converted, value, 3)::text AS serial_3
FROM markov_par \gset
CREATE TABLE markov_serial_by_region AS
SELECT region, markov_model(path, converted, value, 2)::text AS m FROM markov_par GROUP BY region;
CREATE TABLE markov_daily AS
SELECT journey % 97 AS day, markov_model(path, converted, value, 2) AS m FROM markov_par GROUP BY 1;
SELECT rollup(m)::text AS serial_rollup FROM markov_daily \gset

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;	-- every row goes through a worker and combine
EXPLAIN (COSTS OFF) SELECT markov_model(path, converted, value) FROM markov_par;
-- the plan ran with its workers: the rows went through them, not the leader
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT markov_model(path, converted, value), markov_model(path, converted, value, 3) FROM markov_par$$);
SELECT markov_model(path, converted, value)::text = :'serial_1' AS order_1_same_as_serial,
	   markov_model(path, converted, value, 3)::text = :'serial_3' AS order_3_same_as_serial
FROM markov_par;
EXPLAIN (COSTS OFF) SELECT region, markov_model(path, converted, value, 2) FROM markov_par GROUP BY region;
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT region, markov_model(path, converted, value, 2) FROM markov_par GROUP BY region$$);
SELECT count(*) AS regions, bool_and(p.m = s.m) AS grouped_same_as_serial
FROM (SELECT region, markov_model(path, converted, value, 2)::text AS m FROM markov_par GROUP BY region) p
JOIN markov_serial_by_region s USING (region);
-- rollup of stored models in parallel
ALTER TABLE markov_daily SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT rollup(m) FROM markov_daily;
SELECT planned, launched FROM pg_temp.parallel_workers($$SELECT rollup(m) FROM markov_daily$$);
SELECT rollup(m)::text = :'serial_rollup' AS rollup_same_as_serial FROM markov_daily;
-- and the attribution of the parallel model equals the serial one's
SELECT bool_and(p.removal_effect = s.removal_effect AND p.conversions = s.conversions AND p.value = s.value) AS attribution_same
FROM markov_attribution((SELECT markov_model(path, converted, value) FROM markov_par)) p
JOIN markov_attribution(:'serial_1') s USING (channel);
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- Partitionwise aggregation: partial models per partition, combined without
-- serialization.
CREATE TABLE markov_parted (path text[], converted boolean, value float8, region int) PARTITION BY LIST (region);
CREATE TABLE markov_parted_0 PARTITION OF markov_parted FOR VALUES IN (0, 1);
CREATE TABLE markov_parted_1 PARTITION OF markov_parted FOR VALUES IN (2, 3);
INSERT INTO markov_parted SELECT path, converted, value, region FROM markov_par;
ANALYZE markov_parted;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT markov_model(path, converted, value) FROM markov_parted;
SELECT markov_model(path, converted, value)::text = :'serial_1' AS partitionwise_same_as_serial FROM markov_parted;
RESET max_parallel_workers_per_gather;
RESET enable_partitionwise_aggregate;
