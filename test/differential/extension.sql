-- test/differential/extension.sql: the same quantities computed by omnikpi,
-- through every aggregate, accessor and attribution form, into tables that
-- compare.sql sets against the reference.

-- ---------------------------------------------------------------------------
-- The aggregates per dataset, under three plans: hash aggregation, sorted
-- group aggregation, and a forced parallel plan over the rows in shuffled
-- order, so that every dataset's rows are split between the two workers and
-- their partial states meet in the combine function.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.obs_shuffled AS SELECT * FROM diff.obs ORDER BY hashint8(pos * 7919 + ds);
ANALYZE diff.obs_shuffled;

CREATE FUNCTION diff.aggregates_sql(source text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
SELECT format($q$
SELECT ds,
	   omni_experience_rating(channel, rating) AS rating_default,
	   omni_experience_rating(channel, rating_s, smin, smax) AS rating_scaled,
	   omni_integration_index(channel, score) AS index_score,
	   omni_integration_index(channel, flag) AS index_flag,
	   channel_summary(channel, value) AS s_value,
	   channel_summary(channel, flag) AS s_flag,
	   channel_summary(channel, rating) AS s_rating,
	   channel_summary(channel, rating_s) AS s_rating_s,
	   channel_summary(channel, score) AS s_score
FROM %s GROUP BY ds
$q$, source)
$$;

SET enable_hashagg = on;
SET enable_sort = off;
SELECT format('CREATE TABLE diff.ext_agg_hash AS %s', diff.aggregates_sql('diff.obs')) \gexec
RESET enable_sort;
SET enable_hashagg = off;
SELECT format('CREATE TABLE diff.ext_agg_sort AS %s', diff.aggregates_sql('diff.obs')) \gexec
RESET enable_hashagg;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- The table is made under EXPLAIN ANALYZE, whose plan the suite checks: a
-- Gather with partial aggregates, and workers that were really launched.
CREATE TABLE diff.parallel_plan (line text);
DO $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) CREATE TABLE diff.ext_agg_parallel AS '
		|| diff.aggregates_sql('diff.obs_shuffled')
	LOOP
		INSERT INTO diff.parallel_plan VALUES (line);
	END LOOP;
END
$$;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

CREATE TABLE diff.ext_agg AS
SELECT 'hash' AS variant, * FROM diff.ext_agg_hash
UNION ALL SELECT 'sort', * FROM diff.ext_agg_sort
UNION ALL SELECT 'parallel', * FROM diff.ext_agg_parallel;

-- ---------------------------------------------------------------------------
-- Summaries per part, rolled up per dataset in one step, and in two steps
-- (parts into pairs of parts, then the pairs).  Parts without a usable row
-- contribute NULL summaries, which rollup skips.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.ext_part AS
SELECT ds, part,
	   channel_summary(channel, value) AS s_value,
	   channel_summary(channel, flag) AS s_flag,
	   channel_summary(channel, rating) AS s_rating,
	   channel_summary(channel, rating_s) AS s_rating_s,
	   channel_summary(channel, score) AS s_score
FROM diff.obs GROUP BY ds, part;

CREATE TABLE diff.ext_rollup AS
SELECT 'one step' AS variant, ds,
	   rollup(s_value) AS s_value, rollup(s_flag) AS s_flag, rollup(s_rating) AS s_rating,
	   rollup(s_rating_s) AS s_rating_s, rollup(s_score) AS s_score
FROM diff.ext_part GROUP BY ds
UNION ALL
SELECT 'two steps', ds,
	   rollup(s_value), rollup(s_flag), rollup(s_rating), rollup(s_rating_s), rollup(s_score)
FROM (SELECT ds, part / 2 AS pair,
			 rollup(s_value) AS s_value, rollup(s_flag) AS s_flag, rollup(s_rating) AS s_rating,
			 rollup(s_rating_s) AS s_rating_s, rollup(s_score) AS s_score
	  FROM diff.ext_part GROUP BY ds, part / 2) p
GROUP BY ds;

-- rollup() as a window aggregate over the parts: growing, and sliding over
-- the current and the previous part.
CREATE TABLE diff.ext_rollup_window AS
SELECT ds, part,
	   experience_rating(rollup(s_rating) OVER growing) AS growing_rating,
	   integration_index(rollup(s_flag) OVER growing) AS growing_flag,
	   experience_rating(rollup(s_rating) OVER sliding) AS sliding_rating,
	   integration_index(rollup(s_flag) OVER sliding) AS sliding_flag
FROM diff.ext_part
WHERE ds IN (SELECT ds FROM diff.dataset WHERE nrows <= 300)
WINDOW growing AS (PARTITION BY ds ORDER BY part),
	   sliding AS (PARTITION BY ds ORDER BY part RANGE BETWEEN 1 PRECEDING AND CURRENT ROW);

-- Every stored summary in one list, for the accessor and text checks.
CREATE TABLE diff.ext_summary AS
SELECT 'aggregate ' || variant AS origin, ds, s_value, s_flag, s_rating, s_rating_s, s_score FROM diff.ext_agg
UNION ALL
SELECT 'rollup ' || variant, ds, s_value, s_flag, s_rating, s_rating_s, s_score FROM diff.ext_rollup;

-- ---------------------------------------------------------------------------
-- The four moving aggregates under each frame of diff.frame, and
-- channel_summary under the same frames.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.ext_moving (fid integer, ds integer, pos integer,
	rating_default double precision, rating_scaled double precision,
	index_score double precision, index_flag double precision,
	summary_rating double precision, summary_flag double precision);

CREATE FUNCTION diff.frame_bound(k integer) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
SELECT CASE WHEN k < 0 THEN -k || ' PRECEDING' WHEN k = 0 THEN 'CURRENT ROW' ELSE k || ' FOLLOWING' END
$$;

SELECT format($q$
INSERT INTO diff.ext_moving
SELECT %s, ds, pos,
	   omni_experience_rating(channel, rating) OVER w,
	   omni_experience_rating(channel, rating_s, smin, smax) OVER w,
	   omni_integration_index(channel, score) OVER w,
	   omni_integration_index(channel, flag) OVER w,
	   -- no moving mode: every frame is aggregated again
	   experience_rating(channel_summary(channel, rating) OVER w),
	   integration_index(channel_summary(channel, flag) OVER w)
FROM diff.obs
WHERE ds IN (SELECT ds FROM diff.frame_dataset WHERE fid = %s)
WINDOW w AS (PARTITION BY ds ORDER BY pos / %s %s BETWEEN %s AND %s)
$q$, fid, fid, peers, mode,
	CASE WHEN growing THEN 'UNBOUNDED PRECEDING' ELSE diff.frame_bound(lo) END,
	diff.frame_bound(hi))
FROM diff.frame ORDER BY fid \gexec

-- ---------------------------------------------------------------------------
-- attribution_share, every form, each journey with its own model, weights,
-- half-life and conversion time.  w breaks ties by touch id; wt leaves ties
-- to the sort (positions then come from row_number() over the same window);
-- wf adds a frame clause, which must change nothing.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.ext_attr AS
SELECT t.jid, t.tid,
	   count(*) OVER wp AS n,
	   row_number() OVER w AS p,
	   row_number() OVER wt AS p_ties,
	   attribution_share(j.model) OVER w AS s_model,
	   attribution_share(j.model) OVER wt AS s_model_ties,
	   attribution_share(j.model) OVER wf AS s_model_frame,
	   attribution_share(j.f, j.m, j.l) OVER w AS s_custom,
	   attribution_share(j.f, j.m, j.l) OVER wt AS s_custom_ties,
	   attribution_share(j.decay_name, t.touched_at) OVER w AS s_decay_default,
	   attribution_share(j.decay_name, t.touched_at, j.half_life) OVER w AS s_decay,
	   attribution_share(j.decay_name, t.touched_at, j.half_life, j.converted_at) OVER wf AS s_decay_converted
FROM diff.touch t JOIN diff.journey j USING (jid)
WINDOW wp AS (PARTITION BY t.jid),
	   w AS (PARTITION BY t.jid ORDER BY t.touched_at, t.tid),
	   wt AS (PARTITION BY t.jid ORDER BY t.touched_at),
	   wf AS (PARTITION BY t.jid ORDER BY t.touched_at, t.tid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW);
ALTER TABLE diff.ext_attr ADD PRIMARY KEY (jid, tid);
