-- attribution: attribution_share() gives the documented shares for every position model, custom weights and time decay (hand-checked and against plain SQL), sums to 1 per journey, ignores the frame, returns NULL for NULL arguments and rejects bad arguments with their SQLSTATE.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

CREATE TEMP TABLE touches (journey int, touch_id int, channel text, touched_at timestamptz);
INSERT INTO touches VALUES
	-- journey 1: a single touch
	(1, 1, 'web', '2024-03-01 10:00'),
	-- journey 2: two touches, two days apart
	(2, 1, 'email', '2024-03-01 09:00'),
	(2, 2, 'store', '2024-03-03 09:00'),
	-- journey 3: three touches
	(3, 1, 'social', '2024-03-01 08:00'),
	(3, 2, 'web', '2024-03-02 08:00'),
	(3, 3, 'app', '2024-03-04 08:00'),
	-- journey 4: five touches; touches 2 and 3 are tied on touched_at
	(4, 1, 'search', '2024-02-20 12:00'),
	(4, 2, 'email', '2024-02-25 12:00'),
	(4, 3, 'chat', '2024-02-25 12:00'),
	(4, 4, 'web', '2024-03-01 12:00'),
	(4, 5, 'store', '2024-03-02 12:00');

-- Every position model, n = 1, 2, 3 and 5.  By hand:
--   n = 1: every model gives 1.
--   n = 2: linear, position_based, u_shaped 0.5/0.5; j_curve 0.25/0.75; inverse_j 0.75/0.25.
--   n = 3: linear 1/3 each; position_based 0.4/0.2/0.4; j_curve 0.2/0.2/0.6; inverse_j 0.6/0.2/0.2.
--   n = 5: linear 0.2 each; the three middle touches share 0.2, 0.066667 each;
--          position_based 0.4 first and last; j_curve 0.2 first, 0.6 last;
--          inverse_j 0.6 first, 0.2 last.
SELECT journey, touch_id,
	round((attribution_share('first_touch') OVER w)::numeric, 6) AS first_touch,
	round((attribution_share('last_touch') OVER w)::numeric, 6) AS last_touch,
	round((attribution_share('linear') OVER w)::numeric, 6) AS linear,
	round((attribution_share('position_based') OVER w)::numeric, 6) AS position_based,
	round((attribution_share('u_shaped') OVER w)::numeric, 6) AS u_shaped,
	round((attribution_share('j_curve') OVER w)::numeric, 6) AS j_curve,
	round((attribution_share('inverse_j') OVER w)::numeric, 6) AS inverse_j
FROM touches
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- The shares of every journey sum to 1 under every model.
SELECT journey,
	abs(sum(first_touch) - 1) < 1e-12 AS first_touch,
	abs(sum(last_touch) - 1) < 1e-12 AS last_touch,
	abs(sum(linear) - 1) < 1e-12 AS linear,
	abs(sum(position_based) - 1) < 1e-12 AS position_based,
	abs(sum(j_curve) - 1) < 1e-12 AS j_curve,
	abs(sum(inverse_j) - 1) < 1e-12 AS inverse_j,
	abs(sum(custom) - 1) < 1e-12 AS custom,
	abs(sum(time_decay) - 1) < 1e-12 AS time_decay
FROM (SELECT journey,
		attribution_share('first_touch') OVER w AS first_touch,
		attribution_share('last_touch') OVER w AS last_touch,
		attribution_share('linear') OVER w AS linear,
		attribution_share('position_based') OVER w AS position_based,
		attribution_share('j_curve') OVER w AS j_curve,
		attribution_share('inverse_j') OVER w AS inverse_j,
		attribution_share(3, 2, 1) OVER w AS custom,
		attribution_share('time_decay', touched_at) OVER w AS time_decay
	FROM touches
	WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)) s
GROUP BY journey
ORDER BY journey;

-- Model names are case-insensitive, as date_trunc's units are.
SELECT journey, touch_id,
	attribution_share('Linear') OVER w = attribution_share('linear') OVER w AS linear,
	attribution_share('FIRST_TOUCH') OVER w = attribution_share('first_touch') OVER w AS first_touch,
	attribution_share('U_Shaped') OVER w = attribution_share('position_based') OVER w AS u_shaped,
	attribution_share('Time_Decay', touched_at) OVER w
		= attribution_share('time_decay', touched_at) OVER w AS time_decay
FROM touches
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- Ties: positions are row positions in the window's ORDER BY, as
-- row_number() numbers them, and a tiebreaker column makes them
-- deterministic.  Touches 2 and 3 of journey 4 are tied on touched_at: they
-- swap positions when the tiebreaker is reversed, and as middle touches they
-- get the same j_curve share (0.2 / 3 = 0.066667) either way.
SELECT touch_id, touched_at,
	row_number() OVER asc_w AS pos_asc,
	row_number() OVER desc_w AS pos_desc,
	round((attribution_share('j_curve') OVER asc_w)::numeric, 6) AS j_curve_asc,
	round((attribution_share('j_curve') OVER desc_w)::numeric, 6) AS j_curve_desc
FROM touches
WHERE journey = 4
WINDOW asc_w AS (ORDER BY touched_at, touch_id),
	desc_w AS (ORDER BY touched_at, touch_id DESC)
ORDER BY touch_id;

-- A tie at the end of a journey moves the last-touch credit: ordering the
-- tied touches of journey 5 by touch_id or by touch_id DESC gives the
-- last_touch credit to a different row.
INSERT INTO touches VALUES
	(5, 1, 'web', '2024-03-05 10:00'),
	(5, 2, 'app', '2024-03-06 10:00'),
	(5, 3, 'chat', '2024-03-06 10:00');
SELECT touch_id,
	round((attribution_share('last_touch')
		OVER (ORDER BY touched_at, touch_id))::numeric, 6) AS tiebreak_asc,
	round((attribution_share('last_touch')
		OVER (ORDER BY touched_at, touch_id DESC))::numeric, 6) AS tiebreak_desc
FROM touches
WHERE journey = 5
ORDER BY touch_id;

-- The frame clause is ignored: the same call under six frames gives the same
-- shares on every row (a count of rows that differ from the default frame).
SELECT count(*) AS rows,
	count(*) FILTER (WHERE pb_rows_cur IS DISTINCT FROM pb
		OR pb_rows_1 IS DISTINCT FROM pb OR pb_groups IS DISTINCT FROM pb
		OR pb_range IS DISTINCT FROM pb OR pb_excl IS DISTINCT FROM pb) AS position_based_differs,
	count(*) FILTER (WHERE cw_rows_cur IS DISTINCT FROM cw
		OR cw_excl IS DISTINCT FROM cw) AS custom_differs,
	count(*) FILTER (WHERE td_rows_cur IS DISTINCT FROM td
		OR td_excl IS DISTINCT FROM td) AS time_decay_differs
FROM (SELECT
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id) AS pb,
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS pb_rows_cur,
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS pb_rows_1,
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  GROUPS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS pb_groups,
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS pb_range,
		attribution_share('position_based')
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW) AS pb_excl,
		attribution_share(3, 2, 1)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id) AS cw,
		attribution_share(3, 2, 1)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS cw_rows_cur,
		attribution_share(3, 2, 1)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) AS cw_excl,
		attribution_share('time_decay', touched_at)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id) AS td,
		attribution_share('time_decay', touched_at)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS td_rows_cur,
		attribution_share('time_decay', touched_at)
			OVER (PARTITION BY journey ORDER BY touched_at, touch_id
				  GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) AS td_excl
	FROM touches) s;

-- NULL model, weights or half-life give NULL shares, as a strict function
-- would, without checking the other arguments (here an invalid weight or
-- half-life next to the NULL).
SELECT journey, touch_id,
	attribution_share(NULL::text) OVER w IS NULL AS null_model,
	attribution_share(NULL, 1, 1) OVER w IS NULL AS null_first_weight,
	attribution_share(1, NULL, -1) OVER w IS NULL AS null_middle_weight,
	attribution_share(1, 1, NULL) OVER w IS NULL AS null_last_weight,
	attribution_share(NULL, touched_at, '-1 day') OVER w IS NULL AS null_decay_model,
	attribution_share('time_decay', touched_at, NULL) OVER w IS NULL AS null_half_life
FROM touches
WHERE journey IN (1, 3)
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- Custom weights (first, middle, last), normalized to sum to 1.  By hand:
--   (1, 1, 1): n = 2: 0.5/0.5; n = 3: 1/3 each; n = 5: 1/3, 1/9 x 3, 1/3.
--   (0, 1, 0): n = 2 has no middle and first = last = 0: split 50/50;
--              n = 3: 0/1/0; n = 5: 0, 1/3 x 3, 0.
--   (3, 0, 1): n = 2: 0.75/0.25; n = 3: 0.75/0/0.25; n = 5: 0.75, 0 x 3, 0.25.
--   (2, 5, 2): n = 2 ignores the middle: 0.5/0.5; n = 3: 2/9, 5/9, 2/9;
--              n = 5: 2/9, 5/27 x 3, 2/9.
--   n = 1 always gives 1.
SELECT journey, touch_id,
	round((attribution_share(1, 1, 1) OVER w)::numeric, 6) AS w111,
	round((attribution_share(0, 1, 0) OVER w)::numeric, 6) AS w010,
	round((attribution_share(3, 0, 1) OVER w)::numeric, 6) AS w301,
	round((attribution_share(2, 5, 2) OVER w)::numeric, 6) AS w252
FROM touches
WHERE journey <= 4
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- Custom weights equal to a model's give that model's shares; scaling the
-- weights changes nothing, even near the largest double (their sum would
-- overflow) or among subnormals.
SELECT count(*) AS rows,
	count(*) FILTER (WHERE abs(custom_pb - pb) > 1e-12) AS pb_differs,
	count(*) FILTER (WHERE abs(custom_j - j) > 1e-12) AS j_curve_differs,
	count(*) FILTER (WHERE abs(custom_first - first) > 1e-12) AS first_touch_differs,
	count(*) FILTER (WHERE abs(huge - ones) > 1e-12) AS huge_differs,
	count(*) FILTER (WHERE abs(tiny - ones) > 1e-12) AS tiny_differs
FROM (SELECT
		attribution_share(0.4, 0.2, 0.4) OVER w AS custom_pb,
		attribution_share('position_based') OVER w AS pb,
		attribution_share(20, 20, 60) OVER w AS custom_j,
		attribution_share('j_curve') OVER w AS j,
		attribution_share(1, 0, 0) OVER w AS custom_first,
		attribution_share('first_touch') OVER w AS first,
		attribution_share(1e308, 1e308, 1e308) OVER w AS huge,
		attribution_share(5e-324, 5e-324, 5e-324) OVER w AS tiny,
		attribution_share(1, 1, 1) OVER w AS ones
	FROM touches
	WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)) s;

-- Time decay: Adobe's documented example.  Half-life 7 days, touches 9, 6, 0
-- and 0 days before the conversion: weights 2^(-9/7) = 0.410168,
-- 2^(-6/7) = 0.552045, 1 and 1, total 2.962212, so the shares are 13.8%,
-- 18.6%, 33.8% and 33.8%.  The latest touch is the conversion here, so the
-- 3-argument form (half_life defaults to 7 days) agrees with the 4-argument
-- form; a conversion 3 days after the latest touch scales every weight by
-- 2^(-3/7), which normalization cancels.
CREATE TEMP TABLE adobe (touch_id int, touched_at timestamptz);
INSERT INTO adobe VALUES
	(1, '2024-03-10'::timestamptz - interval '9 days'),
	(2, '2024-03-10'::timestamptz - interval '6 days'),
	(3, '2024-03-10'::timestamptz),
	(4, '2024-03-10'::timestamptz);
SELECT touch_id,
	round((100 * attribution_share('time_decay', touched_at) OVER w)::numeric, 1) AS pct_default,
	round((100 * attribution_share('time_decay', touched_at, '7 days') OVER w)::numeric, 1) AS pct_3_args,
	round((100 * attribution_share('time_decay', touched_at, '7 days', '2024-03-10') OVER w)::numeric, 1) AS pct_4_args,
	round((100 * attribution_share('time_decay', touched_at, '7 days', '2024-03-13') OVER w)::numeric, 1) AS pct_later,
	round((attribution_share('time_decay', touched_at) OVER w)::numeric, 6) AS share
FROM adobe
WINDOW w AS (ORDER BY touched_at, touch_id)
ORDER BY touch_id;

-- Time decay on the journeys, hand-checked (weights, total, shares):
--   journey 1: one touch: 1.
--   journey 2: 2 days apart.
--     7 days: 2^(-2/7) = 0.820335 and 1, total 1.820335: 0.450651, 0.549349.
--     1 day: 0.25 and 1, total 1.25: 0.2, 0.8.
--   journey 3: 3 and 2 days before the last touch.
--     7 days: 0.742997, 0.820335, 1, total 2.563333: 0.289856, 0.320027, 0.390117.
--     1 day: 0.125, 0.25, 1, total 1.375: 0.090909, 0.181818, 0.727273.
--   journey 4: 11, 6, 6 and 1 days before the last touch.
--     7 days: 0.336475, 0.552045, 0.552045, 0.905724, 1, total 3.346288:
--       0.100552, 0.164972, 0.164972, 0.270665, 0.298839.
--     1 day: 2^-11, 2^-6, 2^-6, 2^-1, 1, total 1.531738:
--       0.000319, 0.010201, 0.010201, 0.326427, 0.652853.
-- The ORDER BY of the window does not matter: the weights depend on the
-- touch times only.
SELECT journey, touch_id,
	round((attribution_share('time_decay', touched_at) OVER w)::numeric, 6) AS seven_days,
	round((attribution_share('time_decay', touched_at, '1 day') OVER w)::numeric, 6) AS one_day,
	attribution_share('time_decay', touched_at, '1 day') OVER w
		= attribution_share('time_decay', touched_at, '1 day')
			OVER (PARTITION BY journey ORDER BY touch_id DESC) AS same_reversed,
	attribution_share('time_decay', touched_at, '1 day') OVER w
		= attribution_share('time_decay', touched_at, '1 day')
			OVER (PARTITION BY journey) AS same_unordered
FROM touches
WHERE journey <= 4
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- Time decay against the same formula in plain SQL, with a half-life in
-- months (1 mon = 30 days) and a 4-argument form whose converted_at comes
-- from a column; every row equal to 1e-12.
SELECT count(*) AS rows,
	count(*) FILTER (WHERE abs(share - plain) > 1e-12) AS differs
FROM (SELECT share, weight / sum(weight) OVER (PARTITION BY journey) AS plain
	FROM (SELECT journey,
			attribution_share('time_decay', touched_at, '1 mon', converted_at)
				OVER (PARTITION BY journey ORDER BY touched_at, touch_id) AS share,
			power(2::float8, -extract(epoch FROM converted_at - touched_at)::float8
				/ extract(epoch FROM interval '30 days')::float8) AS weight
		FROM (SELECT j AS journey, t AS touch_id,
				timestamptz '2024-01-01' + (j * 37 + t * t * 11) % 400 * interval '1 hour 7 minutes' AS touched_at,
				timestamptz '2024-03-01' + j * interval '1 minute' AS converted_at
			FROM generate_series(1, 300) j, generate_series(1, (j % 9) + 1) t) d) s) c;

-- A conversion that did not happen (NULL converted_at): the journey's rows
-- are NULL and its touches are not checked; other journeys are unaffected.
SELECT journey, touch_id,
	round((attribution_share('time_decay', touched_at, '1 day',
		CASE WHEN journey = 2 THEN NULL ELSE timestamptz '2024-03-05' END)
		OVER (PARTITION BY journey ORDER BY touched_at, touch_id))::numeric, 6) AS share
FROM touches
WHERE journey IN (2, 3)
ORDER BY journey, touch_id;
SELECT attribution_share('time_decay', t, '1 day', NULL) OVER () IS NULL AS not_converted
FROM (VALUES (NULL::timestamptz), ('infinity')) v(t);

-- Weights far apart underflow to 0 instead of failing: a touch 100 years
-- before the last with a half-life of an hour, and touches at the two ends of
-- the timestamptz range, whose distance overflows int64 microseconds.  A
-- half-life longer than int64 microseconds can hold (178 million years and
-- 2 billion days) makes two touches a day apart almost equal.
SELECT round((attribution_share('time_decay', t, '1 hour') OVER (ORDER BY t))::numeric, 6) AS hundred_years
FROM (VALUES (timestamptz '1924-03-01'), (timestamptz '2024-03-01')) v(t);
SELECT round((attribution_share('time_decay', t) OVER (ORDER BY t))::numeric, 6) AS range_ends
FROM (VALUES (timestamptz '4714-11-24 00:00:00+00 BC'),
		(timestamptz '294276-12-31 23:59:59.999999+00')) v(t);
SELECT round((attribution_share('time_decay', t, '178000000 years 2000000000 days') OVER (ORDER BY t))::numeric, 6) AS huge_half_life
FROM (VALUES (timestamptz '2024-03-01'), (timestamptz '2024-03-02')) v(t);

-- Every position model and custom weights against the same shares written
-- in plain SQL with row_number() and count(*), on 2,000 journeys of 1 to 12
-- touches: every row equal to 1e-12.
CREATE TEMP TABLE many AS
SELECT j AS journey, t AS touch_id
FROM generate_series(1, 2000) j, generate_series(1, (j * 7) % 12 + 1) t;
SELECT count(*) AS rows, count(DISTINCT journey) AS journeys,
	count(*) FILTER (WHERE abs(first_touch - CASE WHEN rn = 1 THEN 1 ELSE 0 END) > 1e-12) AS first_touch,
	count(*) FILTER (WHERE abs(last_touch - CASE WHEN rn = n THEN 1 ELSE 0 END) > 1e-12) AS last_touch,
	count(*) FILTER (WHERE abs(linear - 1.0::float8 / n) > 1e-12) AS linear,
	count(*) FILTER (WHERE abs(position_based - CASE WHEN n = 1 THEN 1 WHEN n = 2 THEN 0.5
		WHEN rn = 1 OR rn = n THEN 0.4 ELSE 0.2::float8 / (n - 2) END) > 1e-12) AS position_based,
	count(*) FILTER (WHERE abs(j_curve - CASE WHEN n = 1 THEN 1
		WHEN n = 2 THEN CASE WHEN rn = 1 THEN 0.25 ELSE 0.75 END
		WHEN rn = 1 THEN 0.2 WHEN rn = n THEN 0.6 ELSE 0.2::float8 / (n - 2) END) > 1e-12) AS j_curve,
	count(*) FILTER (WHERE abs(inverse_j - CASE WHEN n = 1 THEN 1
		WHEN n = 2 THEN CASE WHEN rn = 1 THEN 0.75 ELSE 0.25 END
		WHEN rn = 1 THEN 0.6 WHEN rn = n THEN 0.2 ELSE 0.2::float8 / (n - 2) END) > 1e-12) AS inverse_j,
	count(*) FILTER (WHERE abs(custom - CASE WHEN n = 1 THEN 1
		WHEN n = 2 THEN CASE WHEN rn = 1 THEN 5.0::float8 / 6 ELSE 1.0::float8 / 6 END
		WHEN rn = 1 THEN 5.0::float8 / 9 WHEN rn = n THEN 1.0::float8 / 9
		ELSE 3.0::float8 / 9 / (n - 2) END) > 1e-12) AS custom
FROM (SELECT journey,
		row_number() OVER w AS rn,
		count(*) OVER (PARTITION BY journey) AS n,
		attribution_share('first_touch') OVER w AS first_touch,
		attribution_share('last_touch') OVER w AS last_touch,
		attribution_share('linear') OVER w AS linear,
		attribution_share('position_based') OVER w AS position_based,
		attribution_share('j_curve') OVER w AS j_curve,
		attribution_share('inverse_j') OVER w AS inverse_j,
		attribution_share(5, 3, 1) OVER w AS custom
	FROM many
	WINDOW w AS (PARTITION BY journey ORDER BY touch_id)) s;

-- Parameters read on every row: a model or weights from a column, the same
-- within each journey but not constant for the query.  Spellings of one
-- model ('Linear', 'linear') are the same model.  By hand: journey 3 is
-- j_curve 0.2/0.2/0.6 and weights (3, 1, 1) give 0.6/0.2/0.2; journey 4 is
-- linear 0.2 each and weights (4, 1, 1) give 2/3, 1/18 x 3, 1/6.
SELECT journey, touch_id,
	round((attribution_share(model) OVER w)::numeric, 6) AS by_model_column,
	round((attribution_share(first_w, 1, last_w) OVER w)::numeric, 6) AS by_weight_columns
FROM (SELECT journey, touch_id, touched_at,
		CASE WHEN journey = 3 THEN 'j_curve'
			 WHEN touch_id % 2 = 0 THEN 'Linear' ELSE 'linear' END AS model,
		journey::float8 AS first_w, 1::float8 AS last_w
	FROM touches WHERE journey IN (3, 4)) s
WINDOW w AS (PARTITION BY journey ORDER BY touched_at, touch_id)
ORDER BY journey, touch_id;

-- An external parameter counts as a constant (read once per partition); a
-- generic plan keeps it a parameter instead of folding it into a constant.
SET plan_cache_mode = force_generic_plan;
PREPARE share_by(text, interval) AS
SELECT touch_id,
	round((attribution_share($1) OVER w)::numeric, 6) AS share,
	round((attribution_share('time_decay', touched_at, $2) OVER w)::numeric, 6) AS decay
FROM touches WHERE journey = 3
WINDOW w AS (ORDER BY touched_at, touch_id)
ORDER BY touch_id;
EXECUTE share_by('inverse_j', '1 day');
DEALLOCATE share_by;
RESET plan_cache_mode;

-- One large journey of 200,000 touches, one a minute: the shares still sum to
-- 1.  They are summed as numeric, so that the check measures the shares and
-- not the rounding of 200,000 float8 additions (float8::numeric keeps 15
-- significant digits, an error of at most 5e-15 in all).
SELECT abs(sum(linear::numeric) - 1) < 1e-12 AS linear,
	abs(sum(position_based::numeric) - 1) < 1e-12 AS position_based,
	abs(sum(custom::numeric) - 1) < 1e-12 AS custom,
	abs(sum(time_decay::numeric) - 1) < 1e-12 AS time_decay,
	count(*) AS touches
FROM (SELECT attribution_share('linear') OVER w AS linear,
		attribution_share('position_based') OVER w AS position_based,
		attribution_share(1, 2, 3) OVER w AS custom,
		attribution_share('time_decay', touched_at, '3 days') OVER w AS time_decay
	FROM (SELECT i, timestamptz '2024-01-01' + i * interval '1 minute' AS touched_at
		FROM generate_series(1, 200000) i) g
	WINDOW w AS (ORDER BY i)) s;

-- Errors, each once with its SQLSTATE.

-- unknown model: 22023, the hint lists every model
SELECT attribution_share('last_click') OVER ();
\echo :LAST_ERROR_SQLSTATE
-- time_decay needs the touch times: 22023
SELECT attribution_share('time_decay') OVER ();
\echo :LAST_ERROR_SQLSTATE
-- a position model does not take touch times: 22023
SELECT attribution_share('u_shaped', touched_at) OVER () FROM touches;
\echo :LAST_ERROR_SQLSTATE
-- negative weight: 22023
SELECT attribution_share(1, -0.5, 1) OVER ();
\echo :LAST_ERROR_SQLSTATE
-- NaN weight: 22023
SELECT attribution_share(1, 1, 'NaN') OVER ();
\echo :LAST_ERROR_SQLSTATE
-- infinite weight: 22023
SELECT attribution_share('Infinity', 1, 1) OVER ();
\echo :LAST_ERROR_SQLSTATE
-- all weights zero: 22023
SELECT attribution_share(0, 0, 0) OVER ();
\echo :LAST_ERROR_SQLSTATE
-- half_life not positive (a month counts 30 days, so this is zero): 22023
SELECT attribution_share('time_decay', touched_at, '1 mon -30 days') OVER () FROM touches;
\echo :LAST_ERROR_SQLSTATE
-- a touch after the conversion: 22023
SELECT attribution_share('time_decay', touched_at, '7 days', '2024-03-02')
	OVER (ORDER BY touched_at) FROM touches WHERE journey = 3;
\echo :LAST_ERROR_SQLSTATE
-- NULL touched_at in a time-decay journey: 22004
SELECT attribution_share('time_decay', t) OVER ()
FROM (VALUES (timestamptz '2024-03-01'), (NULL)) v(t);
\echo :LAST_ERROR_SQLSTATE
-- infinite touched_at: 22008
SELECT attribution_share('time_decay', t) OVER ()
FROM (VALUES (timestamptz '2024-03-01'), ('-infinity')) v(t);
\echo :LAST_ERROR_SQLSTATE
-- infinite converted_at: 22008
SELECT attribution_share('time_decay', touched_at, '7 days', 'infinity') OVER () FROM touches;
\echo :LAST_ERROR_SQLSTATE
-- the model changes within a partition: 22023
SELECT attribution_share(CASE WHEN touch_id < 3 THEN 'linear' ELSE 'j_curve' END)
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
-- the model becomes NULL within a partition: 22023
SELECT attribution_share(CASE WHEN touch_id < 3 THEN 'linear' END)
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
-- the weights change within a partition: 22023
SELECT attribution_share(1, touch_id, 1)
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
-- the weights become NULL, or NaN, within a partition: 22023, the detail
-- showing the first row's weights and the current row's
SELECT attribution_share(1, CASE WHEN touch_id < 3 THEN 1 END, 1)
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
SELECT attribution_share(1, CASE WHEN touch_id < 3 THEN 1 ELSE 'NaN'::float8 END, 1)
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
-- weights read on every row and NULL on every row are no change: NULL shares
SELECT count(*) AS touches, count(share) AS shares
FROM (SELECT attribution_share(1, CASE WHEN touch_id < 0 THEN 1 END, 1) OVER (ORDER BY touch_id) AS share
	  FROM touches WHERE journey = 4) s;
-- half_life changes within a partition: 22023
SELECT attribution_share('time_decay', touched_at, touch_id * interval '1 day')
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
-- converted_at changes within a partition: 22023
SELECT attribution_share('time_decay', touched_at, '7 days',
		timestamptz '2024-04-01' + touch_id * interval '1 hour')
	OVER (ORDER BY touch_id) FROM touches WHERE journey = 4;
\echo :LAST_ERROR_SQLSTATE
