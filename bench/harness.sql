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
	workers_launched int			-- NULL: no Gather in the plan
);

-- One timed execution of query with the given parallel workers.
CREATE FUNCTION bench_explain(query text, workers int, OUT ms float8, OUT workers_launched int)
LANGUAGE plpgsql AS $$
DECLARE
	plan		jsonb;
BEGIN
	PERFORM set_config('max_parallel_workers_per_gather', workers::text, true);
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	ms := (plan -> 0 ->> 'Execution Time')::float8;
	workers_launched := (jsonb_path_query_first(plan, 'strict $.**."Workers Launched"'))::int;
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
			t := bench_explain(c.query, c.workers);
			IF r > 0 THEN
				INSERT INTO bench_time VALUES (c.id, r, t.ms, t.workers_launched);
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
	   min(coalesce(t.workers_launched, 0)) AS min_workers_launched
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
