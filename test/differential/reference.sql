-- test/differential/reference.sql: the expected results, computed in plain
-- SQL from the definitions in docs/reference.md, with no
-- omnikpi function in sight.
--
-- Plain float8 arithmetic as PostgreSQL does it, with two precautions that do
-- not change any definition:
--   * means are sum(x) / count(x), never avg(x): avg also sums squares, which
--     overflow for values near 1e300;
--   * PostgreSQL reports a float8 result that underflows to 0 as an error, so
--     quotients that would are taken as 0 (diff.ratio); such values lie far
--     below the comparison floors.

-- diff.ratio(a, b): a / b, or 0 where the quotient rounds to 0 (which
-- PostgreSQL reports as an underflow error).  Near that edge the quotient is
-- scaled by 2^600 to see on which side of 2^-1075 it lies; a quotient at or
-- below 2^-1075 rounds to 0, anything above to at least 2^-1074.
CREATE FUNCTION diff.ratio(a double precision, b double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
	WHEN a = 0 THEN 0::float8
	WHEN ln(abs(a)) - ln(abs(b)) > -700 THEN a / b
	WHEN ln(abs(a)) - ln(abs(b)) < -760 THEN 0::float8
	WHEN abs(CASE WHEN abs(a) < 1e100 THEN (a * power(2::float8, 600)) / b
				  ELSE a / (b * power(2::float8, -600)) END) <= power(2::float8, -475) THEN 0::float8
	ELSE a / b
END
$$;

-- ---------------------------------------------------------------------------
-- The KPIs of a dataset.  "Across all channels": first each channel's mean,
-- then the unweighted mean of the channels' values.
--   experience rating  mean_c((mean_c(rating) - scale_min) / (scale_max - scale_min)) * 100,
--                      on 1 to 5 without a scale
--   integration index  mean_c(mean_c(score)) for scores 0 to 100, and
--                      mean_c(100 * true rows / rows) for flags
-- A channel counts for a KPI when it has a non-NULL measure; NULL channels
-- are skipped; no usable row gives NULL.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.ref_channel AS
SELECT ds, channel, smin, smax,
	   sum(rating) / nullif(count(rating), 0) AS mean_rating,
	   sum(rating_s) / nullif(count(rating_s), 0) AS mean_rating_s,
	   sum(score) / nullif(count(score), 0) AS mean_score,
	   count(*) FILTER (WHERE flag)::float8 / nullif(count(flag), 0) AS true_share,
	   -- the per-channel statistics a channel_summary holds
	   count(value) AS value_n, sum(value) AS value_sum, min(value) AS value_min, max(value) AS value_max,
	   count(flag) AS flag_n, count(*) FILTER (WHERE flag) AS flag_true
FROM diff.obs
WHERE channel IS NOT NULL
GROUP BY ds, channel, smin, smax;

CREATE TABLE diff.ref_kpi AS
SELECT d.ds,
	   k.rating_default, k.rating_scaled, k.index_score, k.index_flag,
	   -- the comparison floor of a percentage: its full scale, times the
	   -- conditioning of a scale far from zero (see compare.sql)
	   greatest(1, greatest(abs(d.smin), abs(d.smax)) / (d.smax - d.smin)) AS floor_scaled
FROM diff.dataset d
LEFT JOIN (SELECT ds,
				  sum((mean_rating - 1) / 4 * 100) / nullif(count(mean_rating), 0) AS rating_default,
				  sum((mean_rating_s - smin) / (smax - smin) * 100) / nullif(count(mean_rating_s), 0) AS rating_scaled,
				  sum(mean_score) / nullif(count(mean_score), 0) AS index_score,
				  sum(100 * true_share) / nullif(count(true_share), 0) AS index_flag
		   FROM diff.ref_channel GROUP BY ds) k USING (ds);
ALTER TABLE diff.ref_kpi ADD PRIMARY KEY (ds);

-- ---------------------------------------------------------------------------
-- The same KPIs over window frames.  The rows are ordered by key =
-- pos / peers (integer division), so with peers > 1 neighbouring rows are
-- peers; frame f of a row with key k holds the dataset's rows whose key is
-- k + lo to k + hi (lo = -infinity for a growing frame), NULL rows included:
-- they take a place in the frame and count for nothing.  ROWS frames have
-- peers = 1; for RANGE and GROUPS frames the keys are consecutive integers,
-- so both count offsets in keys.  The frames are drawn from the seed;
-- sliding ones run on datasets of up to 200 rows, the growing one (no
-- inverse transition) on up to 60.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.frame AS
SELECT 1 AS fid, 'ROWS' AS mode, 1 AS peers, -(1 + floor(diff.r(0, 0, 1) * 30))::integer AS lo, 0 AS hi, false AS growing
UNION ALL
SELECT 2, 'ROWS', 1, lo, lo + floor(diff.r(0, 0, 3) * 12)::integer, false
FROM (SELECT -floor(diff.r(0, 0, 2) * 10)::integer AS lo) x
UNION ALL
SELECT 3, 'ROWS', 1, lo, lo + floor(diff.r(0, 0, 5) * 5)::integer, false
FROM (SELECT 1 + floor(diff.r(0, 0, 4) * 3)::integer AS lo) x
UNION ALL
SELECT 4, 'RANGE', 2 + floor(diff.r(0, 0, 6) * 4)::integer, -(1 + floor(diff.r(0, 0, 7) * 5))::integer, 0, false
UNION ALL
SELECT 5, 'GROUPS', 2 + floor(diff.r(0, 0, 8) * 4)::integer, -1, 1, false
UNION ALL
SELECT 6, 'ROWS', 1, -1000000000, 0, true;

CREATE TABLE diff.frame_dataset AS
SELECT f.fid, d.ds FROM diff.frame f JOIN diff.dataset d ON d.nrows <= CASE WHEN f.growing THEN 60 ELSE 200 END;

CREATE TABLE diff.ref_moving AS
SELECT fid, ds, pos,
	   sum((mean_rating - 1) / 4 * 100) / nullif(count(mean_rating), 0) AS rating_default,
	   sum((mean_rating_s - smin) / (smax - smin) * 100) / nullif(count(mean_rating_s), 0) AS rating_scaled,
	   sum(mean_score) / nullif(count(mean_score), 0) AS index_score,
	   sum(100 * true_share) / nullif(count(true_share), 0) AS index_flag
FROM (SELECT fd.fid, o.ds, o.pos, q.channel, q.smin, q.smax,
			 sum(q.rating) / nullif(count(q.rating), 0) AS mean_rating,
			 sum(q.rating_s) / nullif(count(q.rating_s), 0) AS mean_rating_s,
			 sum(q.score) / nullif(count(q.score), 0) AS mean_score,
			 count(*) FILTER (WHERE q.flag)::float8 / nullif(count(q.flag), 0) AS true_share
	  FROM diff.frame_dataset fd
	  JOIN diff.frame f USING (fid)
	  JOIN diff.obs o ON o.ds = fd.ds
	  JOIN diff.obs q ON q.ds = o.ds AND q.pos / f.peers BETWEEN o.pos / f.peers + f.lo AND o.pos / f.peers + f.hi
	  WHERE q.channel IS NOT NULL
	  GROUP BY fd.fid, o.ds, o.pos, q.channel, q.smin, q.smax) c
GROUP BY fid, ds, pos;
ALTER TABLE diff.ref_moving ADD PRIMARY KEY (fid, ds, pos);

-- The rating and the flag index over the rows of the parts up to p
-- (growing) and of parts p - 1 and p (sliding), for every part p that has
-- rows, on datasets of up to 300 rows.
CREATE TABLE diff.ref_rollup_window AS
SELECT ds, part, frame,
	   sum((mean_rating - 1) / 4 * 100) / nullif(count(mean_rating), 0) AS rating,
	   sum(100 * true_share) / nullif(count(true_share), 0) AS index_flag
FROM (SELECT p.ds, p.part, f.frame, q.channel,
			 sum(q.rating) / nullif(count(q.rating), 0) AS mean_rating,
			 count(*) FILTER (WHERE q.flag)::float8 / nullif(count(q.flag), 0) AS true_share
	  FROM (SELECT DISTINCT o.ds, o.part FROM diff.obs o JOIN diff.dataset d USING (ds) WHERE d.nrows <= 300) p
	  CROSS JOIN (VALUES ('growing'), ('sliding')) f(frame)
	  JOIN diff.obs q ON q.ds = p.ds AND q.part <= p.part AND (f.frame = 'growing' OR q.part >= p.part - 1)
	  WHERE q.channel IS NOT NULL
	  GROUP BY p.ds, p.part, f.frame, q.channel) c
GROUP BY ds, part, frame;
ALTER TABLE diff.ref_rollup_window ADD PRIMARY KEY (ds, part, frame);

-- ---------------------------------------------------------------------------
-- Attribution.  Position p (1-based) of n touches.
--   custom weights (f, m, l): n = 1: 1.  n = 2: f / (f + l), l / (f + l), or
--   1/2 each when f = l = 0.  n >= 3: f / (f + m + l) to the first,
--   l / (f + m + l) to the last, m / (f + m + l) / (n - 2) to each middle one.
-- The named models are fixed weights: first_touch (1, 0, 0), last_touch
-- (0, 0, 1), position_based and u_shaped (0.4, 0.2, 0.4), j_curve (0.2, 0.2,
-- 0.6), inverse_j (0.6, 0.2, 0.2); linear is 1/n each.
-- The weights are first divided by the largest of them, which changes no
-- share and keeps f + m + l finite for weights near 1.8e308; a weight below
-- 1e-300 of the largest then counts as 0 (its shares would be below 1e-300,
-- where PostgreSQL's float8 division reports underflow).
-- ---------------------------------------------------------------------------
CREATE FUNCTION diff.normalized(w double precision, largest double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN diff.ratio(w, largest) < 1e-300 THEN 0 ELSE diff.ratio(w, largest) END
$$;

CREATE TABLE diff.ref_journey AS
SELECT j.jid, lower(j.model) = 'linear' AS linear,
	   diff.normalized(w.f, greatest(w.f, w.m, w.l)) AS model_f,
	   diff.normalized(w.m, greatest(w.f, w.m, w.l)) AS model_m,
	   diff.normalized(w.l, greatest(w.f, w.m, w.l)) AS model_l,
	   diff.normalized(j.f, greatest(j.f, j.m, j.l)) AS custom_f,
	   diff.normalized(j.m, greatest(j.f, j.m, j.l)) AS custom_m,
	   diff.normalized(j.l, greatest(j.f, j.m, j.l)) AS custom_l,
	   -- n = 2 renormalizes f and l alone
	   diff.normalized(j.f, greatest(j.f, j.l)) AS custom2_f,
	   diff.normalized(j.l, greatest(j.f, j.l)) AS custom2_l
FROM diff.journey j
JOIN (VALUES ('linear', 1, 1, 1), ('first_touch', 1, 0, 0), ('last_touch', 0, 0, 1),
			 ('position_based', 0.4, 0.2, 0.4), ('u_shaped', 0.4, 0.2, 0.4),
			 ('j_curve', 0.2, 0.2, 0.6), ('inverse_j', 0.6, 0.2, 0.2)) w(model, f, m, l)
	ON w.model = lower(j.model);
ALTER TABLE diff.ref_journey ADD PRIMARY KEY (jid);

-- diff.ref_share(f, m, l, p, n): the share of position p of n under the
-- normalized weights (f, m, l).  (For n = 2, pass the weights normalized
-- over f and l.)  Plain SQL, so the planner inlines it.
CREATE FUNCTION diff.ref_share(f double precision, m double precision, l double precision,
							   p bigint, n bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
	WHEN n = 1 THEN 1::float8
	WHEN n = 2 THEN CASE WHEN f = 0 AND l = 0 THEN 0.5::float8 ELSE CASE WHEN p = 1 THEN f ELSE l END / (f + l) END
	ELSE CASE WHEN p = 1 THEN f WHEN p = n THEN l ELSE m END
		 / ((f + m + l) * CASE WHEN p = 1 OR p = n THEN 1 ELSE n - 2 END)
END
$$;

-- Time decay: touch i weighs 2^(-(C - t_i) / h), normalized over the journey.
-- Multiplying every weight by 2^((C - t_latest) / h) changes no share, so
-- share_i = 2^(-d_i) / sum_j 2^(-d_j) with d_i = (t_latest - t_i) / h: the
-- latest touch weighs 1 and nothing overflows.  The differences are exact
-- (numeric seconds) and so is the half-life in seconds, which counts a month
-- as 30 days and a year as 360, as PostgreSQL compares intervals
-- (extract(epoch) would count a year as 365.25 days).  2^(-d) for d > 1074
-- is below the smallest double and taken as 0.  C itself only decides
-- whether the journey converted (NULL: every share is NULL).
CREATE FUNCTION diff.half_life_seconds(h interval) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT extract(epoch FROM h) - extract(year FROM h) * (31557600 - 31104000)
$$;

CREATE TABLE diff.ref_decay AS
WITH j AS (
	SELECT jr.jid, extract(epoch FROM max(t.touched_at)) AS latest,
		   diff.half_life_seconds(jr.half_life) AS half_life, 604800 AS default_half_life
	FROM diff.journey jr JOIN diff.touch t USING (jid)
	GROUP BY jr.jid, jr.half_life),
d AS (
	SELECT t.jid, t.tid,
		   ((j.latest - extract(epoch FROM t.touched_at)) / j.half_life)::float8 AS d,
		   ((j.latest - extract(epoch FROM t.touched_at)) / j.default_half_life)::float8 AS d_default
	FROM diff.touch t JOIN j USING (jid)),
w AS (
	SELECT jid, tid,
		   CASE WHEN d > 1074 THEN 0 ELSE power(2::float8, -d) END AS w,
		   CASE WHEN d_default > 1074 THEN 0 ELSE power(2::float8, -d_default) END AS w_default
	FROM d)
SELECT jid, tid,
	   diff.ratio(w_default, sum(w_default) OVER j) AS share_default,
	   diff.ratio(w, sum(w) OVER j) AS share
FROM w
WINDOW j AS (PARTITION BY jid);
ALTER TABLE diff.ref_decay ADD PRIMARY KEY (jid, tid);
