-- test/differential/generate.sql: the random datasets of the differential
-- test, generated inside the server into schema diff.
--
-- psql variables: seed (integer), cases (number of datasets and of
-- journeys), only ('' or a list such as '{17,42}': generate just those).
--
-- Every random number is a hash of (seed, case, row, stream) rather than a
-- draw from one sequential generator, so case k is the same data whatever the
-- number of cases, the plan or the order of generation: OMNIKPI_DIFF_ONLY=k
-- regenerates exactly the dataset and journey k of a longer run.

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS diff CASCADE;
CREATE SCHEMA diff;

-- diff.r(a, b, stream): uniform in [0, 1), 53 random bits, from the seed.
-- a < 2^23 (the case, or the case plus 2^22 for journeys), b < 2^32 (the
-- row; 0 for the case's own parameters), stream < 256 (which draw of the row).
SELECT format($f$
CREATE FUNCTION diff.r(a bigint, b bigint, stream integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS 'SELECT ((hashint8extended((a << 40) | (b << 8) | stream, %s) >> 11) & 9007199254740991)::float8 / 9007199254740992.0'
$f$, :seed) \gexec

CREATE TABLE diff.run AS SELECT :seed::bigint AS seed, :cases::integer AS cases, :'only'::text AS only;

-- The cases run: 1..cases, or only the listed ones.
CREATE TABLE diff.cases AS
SELECT c AS id FROM generate_series(1, :cases) c
WHERE cardinality(:'only'::integer[]) = 0 OR c = ANY (:'only'::integer[]);

-- Channel names.  Style 0: plain names; 1: names that stress comparison and
-- the text form (empty, blanks, case and trailing-space variants, quotes,
-- backslashes, control characters, JSON look-alikes, non-ASCII); 2: long
-- names (20 to 220 bytes, every 16th 1,000 to 4,000); 3: a mix of 0 and 1.
CREATE FUNCTION diff.channel_name(style integer, k integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE style
	WHEN 0 THEN 'c' || k
	WHEN 2 THEN repeat(chr(97 + k % 26), CASE WHEN k % 16 = 0 THEN 1000 + (k * 997) % 3000 ELSE 20 + (k * 37) % 200 END) || k
	ELSE CASE WHEN style = 3 AND k % 2 = 0 THEN 'c' || k
		ELSE (ARRAY['', ' ', 'web', 'Web', 'WEB', 'web ', ' web', 'café', E'cafe\u0301',
					'"', '\', '\"', E'\t', E'\n', E'\r', E'\b', E'\f', E'\x01', E'\x1f', E'\x7f',
					'/', '{"n":1}', '日本', '🛒', 'null', '0', ',', ':', '\u0041', 'call center'])[1 + k % 30]
			 || CASE WHEN k >= 30 THEN k::text ELSE '' END
		END
END
$$;

-- One row per dataset: its shape, drawn from streams of row 0.
--   nchan     channels: 1 to 10; 8% of the datasets 11 to 300, 2% 301 to 3,000
--   nrows     rows, log-uniform 1 to 2,000 (2% have none)
--   skew      channel k is drawn as floor(nchan * r^skew): skewed volumes
--   null_*    share of NULL channels and of NULL measures (2% all NULL)
--   umode     distribution of u in [0, 1], from which ratings and scores come:
--             0 uniform, 1 only the bounds 0 and 1, 2 five levels, 3 constant,
--             4 powers of two 2^-k (k to 120: sums that no double-double holds),
--             5 next to the bounds (2^-k, 1 - 2^-k), 6 bounds and uniform mixed
--   vmode     distribution of the free values of channel_summary(channel, value):
--             0 -100..100, 1 up to ±1e300, 2 down to ±1e-300 and ±5e-324,
--             3 ±10^-300..10^300 mixed in one dataset, 4 integers, 5 constant
--             (0, -0, 1e300, -1e-300, 5e-324 or 42.5)
--   smin,smax the rating scale of the scaled forms, from [1,5] to [-1e300,1e300],
--             [0,1e-300], [1e6,1e6+1] and random offsets (|offset| <= 1e6 widths)
--   flag_p    probability of a true flag (sometimes exactly 0 or 1)
--   nparts    parts the rows are split into before rollup()
CREATE TABLE diff.dataset AS
SELECT id AS ds,
	   CASE WHEN diff.r(id, 0, 0) < 0.02 THEN 301 + floor(diff.r(id, 0, 1) * 2700)
			WHEN diff.r(id, 0, 0) < 0.1 THEN 11 + floor(diff.r(id, 0, 1) * 290)
			ELSE 1 + floor(diff.r(id, 0, 1) * 10) END::integer AS nchan,
	   CASE WHEN diff.r(id, 0, 2) < 0.02 THEN 0
			ELSE floor(exp(diff.r(id, 0, 3) * ln(2001))) END::integer AS nrows,
	   1 + 3 * diff.r(id, 0, 4) AS skew,
	   CASE WHEN diff.r(id, 0, 5) < 0.02 THEN 1.0 WHEN diff.r(id, 0, 5) < 0.5 THEN 0.0
			ELSE 0.3 * diff.r(id, 0, 6) END AS null_chan,
	   CASE WHEN diff.r(id, 0, 7) < 0.02 THEN 1.0 WHEN diff.r(id, 0, 7) < 0.5 THEN 0.0
			ELSE 0.3 * diff.r(id, 0, 8) END AS null_val,
	   floor(diff.r(id, 0, 9) * 7)::integer AS umode,
	   floor(diff.r(id, 0, 10) * 6)::integer AS vmode,
	   floor(diff.r(id, 0, 11) * 8)::integer AS smode,
	   diff.r(id, 0, 12) AS uconst,
	   (ARRAY[0, '-0', 1e300, -1e-300, 5e-324, 42.5]::float8[])[1 + floor(diff.r(id, 0, 13) * 6)::integer] AS vconst,
	   CASE WHEN diff.r(id, 0, 14) < 0.15 THEN 0.0 WHEN diff.r(id, 0, 14) < 0.3 THEN 1.0
			ELSE diff.r(id, 0, 15) END AS flag_p,
	   1 + floor(diff.r(id, 0, 16) * 12)::integer AS nparts,
	   floor(diff.r(id, 0, 17) * 4)::integer AS names,
	   power(10::float8, diff.r(id, 0, 18) * 20 - 10) AS rwidth,
	   (diff.r(id, 0, 19) * 2 - 1) * power(10::float8, diff.r(id, 0, 20) * 6) AS roffset
FROM diff.cases;

ALTER TABLE diff.dataset
	ADD COLUMN smin double precision, ADD COLUMN smax double precision;
UPDATE diff.dataset SET
	smin = (ARRAY[1, 0, -1, 0, -1e300, 1e300, 1e6, roffset * rwidth]::float8[])[smode + 1],
	smax = (ARRAY[5, 10, 1, 1e-300, 1e300, 1.5e300, 1e6 + 1, roffset * rwidth + rwidth]::float8[])[smode + 1];
ALTER TABLE diff.dataset ADD PRIMARY KEY (ds);

-- The rows.  u (in [0, 1]) gives the rating on 1 to 5, the rating on the
-- dataset's scale (at the bounds exactly when u is 0 or 1) and the score
-- (0 to 100); v is the free value; flag the integration flag.  Each measure
-- is NULL on its own draw; part is the rollup part.
CREATE TABLE diff.raw AS
SELECT d.ds, g.pos,
	   CASE WHEN diff.r(d.ds, g.pos, 1) < d.null_chan THEN NULL
			ELSE diff.channel_name(d.names, floor(d.nchan * power(diff.r(d.ds, g.pos, 2), d.skew))::integer) END AS channel,
	   CASE WHEN diff.r(d.ds, g.pos, 3) < d.null_val THEN NULL
			ELSE CASE d.umode
				WHEN 0 THEN diff.r(d.ds, g.pos, 4)
				WHEN 1 THEN round(diff.r(d.ds, g.pos, 4))
				WHEN 2 THEN floor(diff.r(d.ds, g.pos, 4) * 5) / 4
				WHEN 3 THEN d.uconst
				WHEN 4 THEN power(2::float8, -floor(diff.r(d.ds, g.pos, 4) * 121))
				WHEN 5 THEN CASE WHEN diff.r(d.ds, g.pos, 4) < 0.5 THEN power(2::float8, -(1 + floor(diff.r(d.ds, g.pos, 5) * 60)))
								 ELSE 1 - power(2::float8, -(1 + floor(diff.r(d.ds, g.pos, 5) * 52))) END
				ELSE CASE WHEN diff.r(d.ds, g.pos, 4) < 0.3 THEN 0 WHEN diff.r(d.ds, g.pos, 4) < 0.6 THEN 1
						  ELSE diff.r(d.ds, g.pos, 5) END
			END END AS u,
	   CASE WHEN diff.r(d.ds, g.pos, 6) < d.null_val THEN NULL
			ELSE CASE d.vmode
				WHEN 0 THEN diff.r(d.ds, g.pos, 7) * 200 - 100
				WHEN 1 THEN (diff.r(d.ds, g.pos, 7) * 2 - 1) * 1e300
				WHEN 2 THEN CASE WHEN diff.r(d.ds, g.pos, 8) < 0.2
								 THEN CASE WHEN diff.r(d.ds, g.pos, 9) < 0.5 THEN 5e-324 ELSE -5e-324 END
								 ELSE (diff.r(d.ds, g.pos, 7) * 2 - 1) * 1e-300 END
				WHEN 3 THEN CASE WHEN diff.r(d.ds, g.pos, 9) < 0.5 THEN 1 ELSE -1 END
							* power(10::float8, diff.r(d.ds, g.pos, 7) * 600 - 300)
				WHEN 4 THEN floor(diff.r(d.ds, g.pos, 7) * 21) - 10
				ELSE d.vconst
			END END AS v,
	   CASE WHEN diff.r(d.ds, g.pos, 10) < d.null_val THEN NULL
			ELSE diff.r(d.ds, g.pos, 11) < d.flag_p END AS flag,
	   1 + floor(diff.r(d.ds, g.pos, 12) * d.nparts)::integer AS part
FROM diff.dataset d, generate_series(1, d.nrows) g(pos);

-- What the aggregates read.  Only u's mapping onto each scale lives here, so
-- the extension and the reference read the same doubles.
CREATE TABLE diff.obs AS
SELECT r.ds, r.pos, r.channel, r.part, d.smin, d.smax,
	   least(5, greatest(1, 1 + 4 * r.u)) AS rating,
	   CASE WHEN r.u = 0 THEN d.smin WHEN r.u = 1 THEN d.smax
			-- u * width would underflow, which float8 multiplication reports as an error
			WHEN ln(r.u) + ln(d.smax - d.smin) < -740 THEN d.smin
			ELSE least(d.smax, greatest(d.smin, d.smin + r.u * (d.smax - d.smin))) END AS rating_s,
	   least(100, 100 * r.u) AS score,
	   r.v AS value, r.flag
FROM diff.raw r JOIN diff.dataset d USING (ds);
ALTER TABLE diff.obs ADD PRIMARY KEY (ds, pos);

-- Journeys for attribution_share, one per case (keys a = 2^22 + case).
--   n         touches, log-uniform 1 to 300 (1 journey in 50 has 300 to 3,000)
--   model     a position model, in random letter case
--   f, m, l   custom weights: random, small integers, huge (up to 1.5e308 each,
--             so that their sum overflows), tiny (down to 5e-324) or a single
--             non-zero one; never all zero
--   tmode     when the touches happen: 0 around 2024 over 1 µs to 30 years,
--             1 near 4713 BC, 2 near 294276 AD (the ends of timestamptz),
--             3 all at the same instant, 4 whole days (many ties)
--   half_life 1 µs to 1,000 years, with month and year parts
--   cmode     converted_at: 0 NULL (not converted), 1 the latest touch,
--             2 a random gap later, 3 a huge gap in half-lives later
CREATE TABLE diff.journey AS
SELECT id AS jid, id::bigint + 4194304 AS k,
	   CASE WHEN diff.r(id::bigint + 4194304, 0, 0) < 0.02 THEN floor(300 * exp(diff.r(id::bigint + 4194304, 0, 1) * ln(10)))
			ELSE floor(exp(diff.r(id::bigint + 4194304, 0, 1) * ln(301))) END::integer AS n
FROM diff.cases;

ALTER TABLE diff.journey
	ADD COLUMN model text, ADD COLUMN decay_name text,
	ADD COLUMN f double precision, ADD COLUMN m double precision, ADD COLUMN l double precision,
	ADD COLUMN tmode integer, ADD COLUMN span_us double precision,
	ADD COLUMN quantum_us bigint, ADD COLUMN half_life interval, ADD COLUMN cmode integer;

-- diff.weight(k, s): one custom weight of journey k (streams s and s + 1).
CREATE FUNCTION diff.weight(k bigint, s integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE floor(diff.r(k, 0, 12) * 5)::integer
	WHEN 0 THEN CASE WHEN diff.r(k, 0, s) < 0.2 THEN 0 ELSE diff.r(k, 0, s + 1) END
	WHEN 1 THEN floor(diff.r(k, 0, s + 1) * 6)
	WHEN 2 THEN CASE WHEN diff.r(k, 0, s) < 0.5 THEN 1.5e308 ELSE diff.r(k, 0, s + 1) * 1e300 END
	WHEN 3 THEN CASE WHEN diff.r(k, 0, s) < 0.3 THEN 5e-324 WHEN diff.r(k, 0, s) < 0.5 THEN 0
					 ELSE diff.r(k, 0, s + 1) * 1e-300 END
	ELSE CASE WHEN 10 * (1 + floor(diff.r(k, 0, 13) * 3)) = s THEN 1 + diff.r(k, 0, s + 1) ELSE 0 END
END
$$;

UPDATE diff.journey SET
	model = (SELECT CASE floor(diff.r(k, 0, 3) * 3)::integer WHEN 0 THEN lower(name) WHEN 1 THEN upper(name) ELSE initcap(name) END
			 FROM (SELECT (ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'u_shaped', 'j_curve', 'inverse_j'])
						  [1 + floor(diff.r(k, 0, 2) * 7)::integer] AS name) x),
	decay_name = (ARRAY['time_decay', 'TIME_DECAY', 'Time_Decay'])[1 + floor(diff.r(k, 0, 4) * 3)::integer],
	f = diff.weight(k, 10), m = diff.weight(k, 20), l = diff.weight(k, 30),
	tmode = floor(diff.r(k, 0, 5) * 5)::integer,
	span_us = power(10::float8, diff.r(k, 0, 6) * 15),
	quantum_us = (ARRAY[1, 1000000, 86400000000])[1 + floor(diff.r(k, 0, 7) * 3)::integer],
	half_life = CASE floor(diff.r(k, 0, 8) * 6)::integer
		WHEN 0 THEN make_interval(secs => round(power(10::float8, diff.r(k, 0, 9) * 6)) / 1e6)
		WHEN 1 THEN make_interval(secs => round(power(10::float8, diff.r(k, 0, 9) * 12)) / 1e6)
		WHEN 2 THEN make_interval(days => floor(diff.r(k, 0, 9) * 60)::integer, hours => 1 + floor(diff.r(k, 0, 10) * 23)::integer)
		WHEN 3 THEN make_interval(months => 1 + floor(diff.r(k, 0, 9) * 24)::integer, days => floor(diff.r(k, 0, 10) * 30)::integer)
		WHEN 4 THEN make_interval(years => 1 + floor(diff.r(k, 0, 9) * 1000)::integer)
		ELSE interval '7 days' END,
	cmode = floor(diff.r(k, 0, 11) * 4)::integer;
UPDATE diff.journey SET f = 1 WHERE f = 0 AND m = 0 AND l = 0;

-- The anchor is the latest possible touch; touches lie up to span_us before
-- it, on multiples of quantum_us (1 µs, 1 s or 1 day: ties).
ALTER TABLE diff.journey ADD COLUMN anchor timestamptz;
UPDATE diff.journey SET anchor = CASE tmode
	WHEN 1 THEN timestamptz '4672-01-01 00:00:00+00 BC' + make_interval(secs => diff.r(k, 0, 14) * 1e8)
	WHEN 2 THEN timestamptz '294000-01-01 00:00:00+00' + make_interval(secs => diff.r(k, 0, 14) * 1e8)
	ELSE timestamptz '2024-06-01 00:00:00+00' + make_interval(secs => round(diff.r(k, 0, 14) * 1e8))
END;

CREATE TABLE diff.touch AS
SELECT j.jid, t.tid,
	   j.anchor - make_interval(secs => CASE WHEN j.tmode = 3 THEN 0
			ELSE floor(diff.r(j.k, t.tid, 1) * j.span_us / CASE WHEN j.tmode = 4 THEN 86400000000 ELSE j.quantum_us END)
				 * CASE WHEN j.tmode = 4 THEN 86400000000 ELSE j.quantum_us END END / 1e6) AS touched_at
FROM diff.journey j, generate_series(1, j.n) t(tid);
ALTER TABLE diff.touch ADD PRIMARY KEY (jid, tid);

-- converted_at, never before the journey's latest touch; a gap of 1,100 to
-- 11,100 half-lives (cmode 3) is where 2^-(age / half_life) underflows for
-- every touch, at most 200 years so that it stays a valid timestamp.
ALTER TABLE diff.journey ADD COLUMN converted_at timestamptz;
UPDATE diff.journey j SET converted_at = CASE j.cmode
	WHEN 0 THEN NULL
	WHEN 1 THEN x.latest
	WHEN 2 THEN x.latest + make_interval(secs => round(diff.r(j.k, 0, 15) * j.span_us) / 1e6)
	ELSE x.latest + make_interval(secs => least(6.3e9, (1100 + diff.r(j.k, 0, 15) * 1e4)
												* extract(epoch FROM j.half_life)::float8))
END
FROM (SELECT jid, max(touched_at) AS latest FROM diff.touch GROUP BY jid) x
WHERE x.jid = j.jid;

ANALYZE diff.dataset, diff.obs, diff.journey, diff.touch;
