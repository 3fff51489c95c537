-- bench/harness.sql: what the bench times and how.
--
-- A run (bench_case.run) is a set of contenders timed interleaved, A B C A B
-- C ..., in one session: bench_run(run) first runs the run's checks (each a
-- query that is true when the contenders agree), then, unless the run says
-- otherwise, each contender once to warm up, then the rounds.  A time is the
-- server's "Execution Time" of EXPLAIN (ANALYZE, TIMING OFF), so client round
-- trips and result transfer do not count.

CREATE TABLE bench_case (
	id			serial PRIMARY KEY,	-- also the order within a run
	run			text NOT NULL,
	section		text NOT NULL,		-- the report table it belongs to
	subject		text NOT NULL,		-- what is compared, e.g. the KPI
	dataset		text NOT NULL,		-- e.g. '10M rows', '5 touches per journey'
	part		text NOT NULL,		-- e.g. 'whole table', 'by month'
	role		text NOT NULL,		-- floor, omnikpi, plain, ...: what ratios compare
	contender	text NOT NULL,		-- as shown in the report
	workers		int NOT NULL DEFAULT 0,	-- max_parallel_workers_per_gather
	nrows		bigint,				-- rows the query processes, for time per row
	settings	text[] NOT NULL DEFAULT '{}',	-- planner settings, e.g. '{enable_sort=off}'
	query		text NOT NULL
);

CREATE TABLE bench_check (
	run			text NOT NULL,
	what		text NOT NULL,
	query		text NOT NULL		-- one boolean: true when the results agree
);

CREATE TABLE bench_rounds (
	run			text PRIMARY KEY,
	rounds		int NOT NULL,
	warmup		bool NOT NULL		-- one untimed round first
);

CREATE TABLE bench_time (
	case_id		int NOT NULL REFERENCES bench_case,
	round		int NOT NULL,
	ms			float8 NOT NULL,
	workers_launched int,			-- NULL: no Gather in the plan
	batches		int,				-- a hash aggregation's batches (> 1: it spilled); NULL: none
	strategy	text				-- the first Aggregate node's strategy (Hashed, Sorted, Plain)
);

-- The settings a contender may change (bench_case.settings), each reset to
-- the server's value before every run, so one contender's cannot leak into
-- the next: bench_run runs them all in one transaction.
CREATE TABLE bench_setting (name text PRIMARY KEY);
INSERT INTO bench_setting VALUES ('enable_sort'), ('enable_hashagg'), ('work_mem');

-- One timed execution of query with the given parallel workers and settings.
CREATE FUNCTION bench_explain(query text, workers int, settings text[], OUT ms float8,
							  OUT workers_launched int, OUT batches int, OUT strategy text)
LANGUAGE plpgsql AS $$
DECLARE
	plan		jsonb;
	setting		text;
BEGIN
	PERFORM set_config(s.name, s.reset_val, true)
	FROM pg_settings s JOIN bench_setting USING (name);
	FOREACH setting IN ARRAY settings LOOP
		PERFORM set_config(split_part(setting, '=', 1), split_part(setting, '=', 2), true);
	END LOOP;
	PERFORM set_config('max_parallel_workers_per_gather', workers::text, true);
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	ms := (plan -> 0 ->> 'Execution Time')::float8;
	workers_launched := (jsonb_path_query_first(plan, 'strict $.**."Workers Launched"'))::int;
	batches := (jsonb_path_query_first(plan, 'strict $.**."HashAgg Batches"'))::int;
	strategy := jsonb_path_query_first(plan, 'strict $.**."Strategy"') #>> '{}';
END
$$;

CREATE FUNCTION bench_run(this_run text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	chk			record;
	c			record;
	agree		bool;
	t			record;
	nrounds		int;
	warmup		bool;
	started		timestamptz := clock_timestamp();
BEGIN
	SELECT rounds, b.warmup INTO STRICT nrounds, warmup FROM bench_rounds b WHERE run = this_run;
	PERFORM set_config('max_parallel_workers_per_gather', '2', true);
	FOR chk IN SELECT * FROM bench_check WHERE run = this_run LOOP
		EXECUTE chk.query INTO agree;
		IF agree IS NOT TRUE THEN
			RAISE EXCEPTION 'bench "%": % do not agree', this_run, chk.what
				USING DETAIL = chk.query;
		END IF;
	END LOOP;
	-- round 0 warms up (caches, the first load of JIT) and is not kept
	FOR r IN CASE WHEN warmup THEN 0 ELSE 1 END..nrounds LOOP
		FOR c IN SELECT * FROM bench_case WHERE run = this_run ORDER BY id LOOP
			t := bench_explain(c.query, c.workers, c.settings);
			IF r > 0 THEN
				INSERT INTO bench_time VALUES (c.id, r, t.ms, t.workers_launched, t.batches, t.strategy);
			END IF;
		END LOOP;
	END LOOP;
	RETURN format('%s: %s checks agree, %s contenders x %s rounds, %s s', this_run,
				  (SELECT count(*) FROM bench_check WHERE run = this_run),
				  (SELECT count(*) FROM bench_case WHERE run = this_run), nrounds,
				  round(extract(epoch FROM clock_timestamp() - started)));
END
$$;

-- Medians, min and max per contender.
CREATE VIEW bench_result AS
SELECT c.*, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS median,
	   min(t.ms) AS min, max(t.ms) AS max, count(*) AS nrounds,
	   min(coalesce(t.workers_launched, 0)) AS min_workers_launched,
	   max(t.batches) AS max_batches, min(t.strategy) AS strategy
FROM bench_case c JOIN bench_time t ON t.case_id = c.id
GROUP BY c.id;

-- '10M', '1M', '100k', '10k' for row counts.
CREATE FUNCTION bench_count_label(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN n >= 1000000 AND n % 1000000 = 0 THEN (n / 1000000) || 'M'
		WHEN n >= 1000 AND n % 1000 = 0 THEN (n / 1000) || 'k'
		ELSE n::text
	END
$$;
