-- test/differential/compare.sql: every omnikpi result against its reference.
--
-- Each view diff.chk_<name> lists comparisons as (key, expected, got, floor,
-- detail); diff.run_checks() counts them per view and keeps the failures in
-- diff.mismatch.  A comparison passes when
--   both are NULL, or
--   floor is NULL (an exact quantity: counts, min, max, texts) and expected = got, or
--   |got - expected| <= 1e-9 * max(|expected|, |got|, floor).
-- floor is the quantity's natural magnitude, so that results at or near zero
-- are held to 1e-9 of it rather than to 1e-9 of themselves:
--   percentages    max(1, max(|scale_min|, |scale_max|) / (scale_max - scale_min)):
--                  1 (1e-9 percentage points) on a scale around zero, more on a
--                  scale far from zero, where (mean - scale_min) cancels digits
--   shares         1e-3, that is an absolute 1e-12 (the shares of a journey sum to 1)
--   channel means  the channel's largest |value|; sums: that times the row count
--                  (the rounding of a sum grows with its terms, not with the sum)

CREATE FUNCTION diff.close(expected double precision, got double precision, floor double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
	WHEN expected IS NULL OR got IS NULL THEN expected IS NULL AND got IS NULL
	WHEN floor IS NULL OR expected = got THEN expected = got
	-- multiplying 1e-9 by a subnormal would underflow, an error in PostgreSQL
	WHEN greatest(abs(expected), abs(got), floor) < 1e-290
		THEN abs(got - expected) * 1e9 <= greatest(abs(expected), abs(got), floor)
	ELSE abs(got - expected) <= 1e-9 * greatest(abs(expected), abs(got), floor)
END
$$;

CREATE FUNCTION diff.quote(channel text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
SELECT CASE WHEN length(channel) > 40 THEN format('%s... (%s characters)', to_json(left(channel, 40)), length(channel))
			ELSE to_json(channel)::text END
$$;

CREATE TABLE diff.origin (origin text PRIMARY KEY);
INSERT INTO diff.origin VALUES ('aggregate hash'), ('aggregate sort'), ('aggregate parallel'),
	('rollup one step'), ('rollup two steps');

-- Performance note: each view first computes its expected and actual values
-- as columns of a row (the MATERIALIZED CTE w), then unpivots them with a
-- LATERAL VALUES list of plain column references: PostgreSQL re-initializes
-- the expressions of a lateral VALUES list for every outer row, which costs
-- far more than evaluating them once as columns.

-- The four KPI aggregates, under each plan.
CREATE VIEW diff.chk_aggregate_kpis AS
WITH w AS MATERIALIZED (
	SELECT r.*, v.variant, a.rating_default AS g_rating_default, a.rating_scaled AS g_rating_scaled,
		   a.index_score AS g_index_score, a.index_flag AS g_index_flag
	FROM diff.ref_kpi r
	CROSS JOIN (VALUES ('hash'), ('sort'), ('parallel')) v(variant)
	LEFT JOIN diff.ext_agg a ON a.ds = r.ds AND a.variant = v.variant)
SELECT format('ds=%s plan=%s %s', w.ds, w.variant, k.name) AS key, k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('omni_experience_rating(channel, rating)', w.rating_default, w.g_rating_default, 1.25::float8),
				('omni_experience_rating(channel, rating, scale_min, scale_max)', w.rating_scaled, w.g_rating_scaled, w.floor_scaled),
				('omni_integration_index(channel, score)', w.index_score, w.g_index_score, 1),
				('omni_integration_index(channel, flag)', w.index_flag, w.g_index_flag, 1)) k(name, expected, got, floor);

-- The accessors, on the aggregates' summaries and on the rolled-up ones.
CREATE VIEW diff.chk_accessors AS
WITH w AS MATERIALIZED (
	SELECT r.*, o.origin,
		   experience_rating(s.s_rating) AS g_rating,
		   experience_rating(s.s_rating_s, d.smin, d.smax) AS g_rating_scaled,
		   integration_index(s.s_score) AS g_index_score,
		   experience_rating(s.s_score, 0, 100) AS g_score_as_rating,
		   integration_index(s.s_flag) AS g_index_flag,
		   experience_rating(s.s_flag) AS g_flag_as_rating
	FROM diff.ref_kpi r
	JOIN diff.dataset d USING (ds)
	CROSS JOIN diff.origin o
	LEFT JOIN diff.ext_summary s ON s.ds = r.ds AND s.origin = o.origin)
SELECT format('ds=%s %s: %s', w.ds, w.origin, k.name) AS key, k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('experience_rating(summary of ratings)', w.rating_default, w.g_rating, 1.25::float8),
				('experience_rating(summary, scale_min, scale_max)', w.rating_scaled, w.g_rating_scaled, w.floor_scaled),
				('integration_index(summary of scores)', w.index_score, w.g_index_score, 1),
				('experience_rating(summary of scores, 0, 100)', w.index_score, w.g_score_as_rating, 1),
				('integration_index(summary of flags)', w.index_flag, w.g_index_flag, 1),
				('experience_rating(summary of flags), its own scale 0 to 1', w.index_flag, w.g_flag_as_rating, 1)
		) k(name, expected, got, floor);

-- channel_count of every summary.
CREATE VIEW diff.chk_channel_count AS
WITH w AS MATERIALIZED (
	SELECT r.*, o.origin,
		   channel_count(s.s_value)::float8 AS g_values, channel_count(s.s_flag)::float8 AS g_flags,
		   channel_count(s.s_rating)::float8 AS g_ratings, channel_count(s.s_rating_s)::float8 AS g_ratings_s,
		   channel_count(s.s_score)::float8 AS g_scores
	FROM (SELECT d.ds,
				 nullif(count(c.channel) FILTER (WHERE c.value_n > 0), 0)::float8 AS values,
				 nullif(count(c.channel) FILTER (WHERE c.flag_n > 0), 0)::float8 AS flags,
				 -- ratings, ratings on a scale and scores all come from u
				 nullif(count(c.channel) FILTER (WHERE c.mean_rating IS NOT NULL), 0)::float8 AS ratings
		  FROM diff.dataset d LEFT JOIN diff.ref_channel c USING (ds) GROUP BY d.ds) r
	CROSS JOIN diff.origin o
	LEFT JOIN diff.ext_summary s ON s.ds = r.ds AND s.origin = o.origin)
SELECT format('ds=%s %s: channel_count(summary of %s)', w.ds, w.origin, k.kind) AS key,
	   k.expected, k.got, NULL::float8 AS floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('values', w.values, w.g_values), ('flags', w.flags, w.g_flags), ('ratings', w.ratings, w.g_ratings),
				('ratings on a scale', w.ratings, w.g_ratings_s), ('scores', w.ratings, w.g_scores)) k(kind, expected, got);

-- channels(): the same channels, each with its count, mean, min and max.
CREATE VIEW diff.chk_channels AS
WITH expected AS (
	SELECT o.origin, c.ds, 'values' AS kind, c.channel, c.value_n AS n, diff.ratio(c.value_sum, c.value_n) AS mean,
		   c.value_min AS min, c.value_max AS max, greatest(abs(c.value_min), abs(c.value_max)) AS magnitude
	FROM diff.ref_channel c CROSS JOIN diff.origin o WHERE c.value_n > 0
	UNION ALL
	SELECT o.origin, c.ds, 'flags', c.channel, c.flag_n, c.flag_true::float8 / c.flag_n,
		   CASE WHEN c.flag_true = c.flag_n THEN 1 ELSE 0 END, CASE WHEN c.flag_true > 0 THEN 1 ELSE 0 END, 1
	FROM diff.ref_channel c CROSS JOIN diff.origin o WHERE c.flag_n > 0),
got AS (
	SELECT s.origin, s.ds, 'values' AS kind, c.* FROM diff.ext_summary s, channels(s.s_value) c
	UNION ALL
	SELECT s.origin, s.ds, 'flags', c.* FROM diff.ext_summary s, channels(s.s_flag) c),
w AS MATERIALIZED (
	SELECT coalesce(e.origin, g.origin) AS origin, coalesce(e.ds, g.ds) AS ds, coalesce(e.kind, g.kind) AS kind,
		   coalesce(e.channel, g.channel) AS channel, e.n::float8 AS e_n, g.n::float8 AS g_n, e.mean AS e_mean,
		   g.mean AS g_mean, e.magnitude, e.min AS e_min, g.min AS g_min, e.max AS e_max, g.max AS g_max
	FROM expected e
	FULL JOIN got g ON g.origin = e.origin AND g.ds = e.ds AND g.kind = e.kind AND g.channel = e.channel)
SELECT format('ds=%s %s: channels(summary of %s) channel %s %s', w.ds, w.origin, w.kind, diff.quote(w.channel), k.name) AS key,
	   k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('n', w.e_n, w.g_n, NULL::float8), ('mean', w.e_mean, w.g_mean, w.magnitude),
				('min', w.e_min, w.g_min, NULL), ('max', w.e_max, w.g_max, NULL)) k(name, expected, got, floor);

-- channels() lists the channels in byte order of their names.
CREATE VIEW diff.chk_channels_order AS
SELECT format('ds=%s %s: channels(summary of values) in byte order', s.ds, s.origin) AS key,
	   1::float8 AS expected,
	   (array_agg(c.channel ORDER BY c.ord) = array_agg(c.channel ORDER BY c.channel COLLATE "C"))::integer::float8 AS got,
	   NULL::float8 AS floor, NULL::text AS detail
FROM diff.ext_summary s, channels(s.s_value) WITH ORDINALITY c(channel, n, mean, min, max, ord)
GROUP BY s.ds, s.origin;

-- The text form: it reads back to the same text and to the same bytes of
-- the binary form; it holds version 1, a scale exactly for flag summaries,
-- and the channels in byte order.
CREATE VIEW diff.chk_text AS
WITH w AS MATERIALIZED (
	SELECT s.ds, s.origin, k.kind, x.text, x.reread::text = x.text AS same_text,
		   omnikpi_summary_send(x.reread) = omnikpi_summary_send(k.summary) AS same_binary,
		   x.text LIKE '{"version":1,%' AS version_1,
		   (x.text::json -> 'scale')::text IS NOT DISTINCT FROM CASE WHEN k.kind = 'flags' THEN '[0,1]' END AS scale_ok,
		   (SELECT coalesce(array_agg(key ORDER BY ord) = array_agg(key ORDER BY key COLLATE "C"), true)
			FROM json_each(x.text::json -> 'channels') WITH ORDINALITY j(key, value, ord)) AS byte_order
	FROM diff.ext_summary s,
	LATERAL (VALUES ('values', s.s_value), ('flags', s.s_flag), ('ratings', s.s_rating),
					('ratings on a scale', s.s_rating_s), ('scores', s.s_score)) k(kind, summary),
	LATERAL (SELECT k.summary::text AS text, k.summary::text::channel_summary AS reread) x
	WHERE k.summary IS NOT NULL)
SELECT format('ds=%s %s: summary of %s: %s', w.ds, w.origin, w.kind, t.name) AS key,
	   1::float8 AS expected, t.ok::integer::float8 AS got, NULL::float8 AS floor,
	   left(w.text, 400) AS detail
FROM w,
LATERAL (VALUES ('text -> channel_summary -> text is the same text', w.same_text),
				('text -> channel_summary gives the same binary form', w.same_binary),
				('starts with {"version":1,', w.version_1),
				('"scale":[0,1] exactly on flag summaries', w.scale_ok),
				('channels in byte order', w.byte_order)) t(name, ok);

-- The numbers in the text form: each channel's count, sum, min and max.
CREATE VIEW diff.chk_text_values AS
WITH expected AS (
	SELECT c.ds, 'values' AS kind, c.channel, c.value_n AS n, c.value_sum AS sum, c.value_min AS min, c.value_max AS max,
		   c.value_n * greatest(abs(c.value_min), abs(c.value_max)) AS magnitude
	FROM diff.ref_channel c WHERE c.value_n > 0
	UNION ALL
	SELECT c.ds, 'flags', c.channel, c.flag_n, c.flag_true, CASE WHEN c.flag_true = c.flag_n THEN 1 ELSE 0 END,
		   CASE WHEN c.flag_true > 0 THEN 1 ELSE 0 END, c.flag_n
	FROM diff.ref_channel c WHERE c.flag_n > 0),
got AS (
	SELECT s.origin, s.ds, k.kind, j.key AS channel, (j.value ->> 'n')::bigint AS n, (j.value ->> 'sum')::float8 AS sum,
		   (j.value ->> 'min')::float8 AS min, (j.value ->> 'max')::float8 AS max
	FROM diff.ext_summary s,
	LATERAL (VALUES ('values', s.s_value), ('flags', s.s_flag)) k(kind, summary),
	json_each(k.summary::text::json -> 'channels') j),
w AS MATERIALIZED (
	SELECT coalesce(g.origin, o.origin) AS origin, coalesce(e.ds, g.ds) AS ds, coalesce(e.kind, g.kind) AS kind,
		   coalesce(e.channel, g.channel) AS channel, e.n::float8 AS e_n, g.n::float8 AS g_n, e.sum AS e_sum,
		   g.sum AS g_sum, e.magnitude, e.min AS e_min, g.min AS g_min, e.max AS e_max, g.max AS g_max
	FROM (expected e CROSS JOIN diff.origin o)
	FULL JOIN got g ON g.origin = o.origin AND g.ds = e.ds AND g.kind = e.kind AND g.channel = e.channel)
SELECT format('ds=%s %s: text of the summary of %s, channel %s "%s"', w.ds, w.origin, w.kind, diff.quote(w.channel), k.name) AS key,
	   k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('n', w.e_n, w.g_n, NULL::float8), ('sum', w.e_sum, w.g_sum, w.magnitude),
				('min', w.e_min, w.g_min, NULL), ('max', w.e_max, w.g_max, NULL)) k(name, expected, got, floor);

-- The moving aggregates: each row's frame against the frame's rows.
CREATE VIEW diff.chk_moving AS
WITH w AS MATERIALIZED (
	SELECT m.*, f.mode, f.peers, f.lo, f.hi, f.growing, rk.floor_scaled,
		   r.rating_default AS e_rating_default, r.rating_scaled AS e_rating_scaled,
		   r.index_score AS e_index_score, r.index_flag AS e_index_flag
	FROM diff.ext_moving m
	JOIN diff.frame f USING (fid)
	JOIN diff.ref_kpi rk USING (ds)
	LEFT JOIN diff.ref_moving r USING (fid, ds, pos))
SELECT format('ds=%s pos=%s OVER (PARTITION BY ds ORDER BY pos / %s %s BETWEEN %s AND %s) %s', w.ds, w.pos, w.peers, w.mode,
			  CASE WHEN w.growing THEN 'UNBOUNDED PRECEDING' ELSE diff.frame_bound(w.lo) END,
			  diff.frame_bound(w.hi), k.name) AS key,
	   k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('omni_experience_rating(channel, rating)', w.e_rating_default, w.rating_default, 1.25::float8),
				('omni_experience_rating(channel, rating, scale_min, scale_max)', w.e_rating_scaled, w.rating_scaled, w.floor_scaled),
				('omni_integration_index(channel, score)', w.e_index_score, w.index_score, 1),
				('omni_integration_index(channel, flag)', w.e_index_flag, w.index_flag, 1),
				('experience_rating(channel_summary(channel, rating))', w.e_rating_default, w.summary_rating, 1.25),
				('integration_index(channel_summary(channel, flag))', w.e_index_flag, w.summary_flag, 1)
		) k(name, expected, got, floor);

-- rollup() over a window of the parts.
CREATE VIEW diff.chk_rollup_window AS
WITH w AS MATERIALIZED (
	SELECT x.ds, x.part, x.growing_rating AS x_growing_rating, x.growing_flag AS x_growing_flag,
		   x.sliding_rating AS x_sliding_rating, x.sliding_flag AS x_sliding_flag,
		   g.rating AS growing_rating, g.index_flag AS growing_flag, s.rating AS sliding_rating, s.index_flag AS sliding_flag
	FROM diff.ext_rollup_window x
	LEFT JOIN diff.ref_rollup_window g ON g.ds = x.ds AND g.part = x.part AND g.frame = 'growing'
	LEFT JOIN diff.ref_rollup_window s ON s.ds = x.ds AND s.part = x.part AND s.frame = 'sliding')
SELECT format('ds=%s part=%s %s', w.ds, w.part, k.name) AS key, k.expected, k.got, k.floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('experience_rating(rollup(summary) OVER (PARTITION BY ds ORDER BY part))', w.growing_rating, w.x_growing_rating, 1.25::float8),
				('integration_index(rollup(summary of flags) OVER (PARTITION BY ds ORDER BY part))', w.growing_flag, w.x_growing_flag, 1),
				('experience_rating(rollup(summary) OVER (... RANGE BETWEEN 1 PRECEDING AND CURRENT ROW))', w.sliding_rating, w.x_sliding_rating, 1.25),
				('integration_index(rollup(summary of flags) OVER (... RANGE BETWEEN 1 PRECEDING AND CURRENT ROW))', w.sliding_flag, w.x_sliding_flag, 1)
		) k(name, expected, got, floor);

-- Every attribution form, touch by touch.  The key names the form only; the
-- failure report prints the journey's model, weights, half-life and times.
CREATE VIEW diff.chk_attribution AS
WITH w AS MATERIALIZED (
	SELECT a.*,
		   CASE WHEN r.linear THEN 1::float8 / a.n ELSE diff.ref_share(r.model_f, r.model_m, r.model_l, a.p, a.n) END AS e_model,
		   CASE WHEN r.linear THEN 1::float8 / a.n ELSE diff.ref_share(r.model_f, r.model_m, r.model_l, a.p_ties, a.n) END AS e_model_ties,
		   CASE WHEN a.n = 2 THEN diff.ref_share(r.custom2_f, 0, r.custom2_l, a.p, a.n)
				ELSE diff.ref_share(r.custom_f, r.custom_m, r.custom_l, a.p, a.n) END AS e_custom,
		   CASE WHEN a.n = 2 THEN diff.ref_share(r.custom2_f, 0, r.custom2_l, a.p_ties, a.n)
				ELSE diff.ref_share(r.custom_f, r.custom_m, r.custom_l, a.p_ties, a.n) END AS e_custom_ties,
		   d.share_default AS e_decay_default, d.share AS e_decay,
		   CASE WHEN j.converted_at IS NOT NULL THEN d.share END AS e_decay_converted
	FROM diff.ext_attr a
	JOIN diff.ref_journey r USING (jid)
	JOIN diff.journey j USING (jid)
	JOIN diff.ref_decay d USING (jid, tid))
SELECT format('journey=%s touch=%s (%s of %s, %s with ties left to the sort) %s', w.jid, w.tid, w.p, w.n, w.p_ties, k.name) AS key,
	   k.expected, k.got, 1e-3::float8 AS floor, NULL::text AS detail
FROM w,
LATERAL (VALUES ('attribution_share(model)', w.e_model, w.s_model),
				('attribution_share(model) OVER (ORDER BY touched_at)', w.e_model_ties, w.s_model_ties),
				('attribution_share(model) OVER (... ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)', w.e_model, w.s_model_frame),
				('attribution_share(f, m, l)', w.e_custom, w.s_custom),
				('attribution_share(f, m, l) OVER (ORDER BY touched_at)', w.e_custom_ties, w.s_custom_ties),
				('attribution_share(time_decay, touched_at)', w.e_decay_default, w.s_decay_default),
				('attribution_share(time_decay, touched_at, half_life)', w.e_decay, w.s_decay),
				('attribution_share(time_decay, touched_at, half_life, converted_at)', w.e_decay_converted, w.s_decay_converted)
		) k(name, expected, got);

-- ---------------------------------------------------------------------------
-- The harness.
-- ---------------------------------------------------------------------------
CREATE TABLE diff.tally (check_name text PRIMARY KEY, comparisons bigint, mismatches bigint, seconds numeric);
CREATE TABLE diff.mismatch (check_name text, key text, expected double precision, got double precision,
							floor double precision, detail text);

CREATE FUNCTION diff.run_checks() RETURNS SETOF diff.tally
LANGUAGE plpgsql
AS $$
DECLARE
	v text;
	n bigint;
	bad bigint;
	started timestamptz;
BEGIN
	FOR v IN SELECT viewname FROM pg_views WHERE schemaname = 'diff' AND viewname LIKE 'chk\_%' ORDER BY viewname
	LOOP
		started := clock_timestamp();
		-- The keys are formatted only for the failures.
		EXECUTE format('SELECT count(*), count(*) FILTER (WHERE NOT diff.close(expected, got, floor)) FROM diff.%I', v)
		INTO n, bad;
		IF bad > 0 THEN
			EXECUTE format('INSERT INTO diff.mismatch SELECT %L, key, expected, got, floor, detail FROM diff.%I
							WHERE NOT diff.close(expected, got, floor)', substr(v, 5), v);
		END IF;
		INSERT INTO diff.tally VALUES (substr(v, 5), n, bad,
									   round(extract(epoch FROM clock_timestamp() - started)::numeric, 1));
	END LOOP;
	RETURN QUERY SELECT * FROM diff.tally ORDER BY check_name;
END
$$;
