-- bench/data.sql: the bench's data, generated server-side and deterministic
-- (hash functions, no random()).  psql variables: large and small (rows of
-- interactions), touches (rows of each journeys table), long (the touches
-- of the single-journey tables, e.g. '{10000,100000,1000000}'), journeys
-- (rows of the Markov journeys table), and core_data and markov_data
-- (true/false: which tables to generate, for runs of some sections only).

CREATE EXTENSION omnikpi;
CREATE EXTENSION pg_prewarm;

\if :core_data

-- Interactions: 8 channels, ratings 1 to 5, scores 0 to 100, 75% integrated,
-- spread evenly over the days of 2025 in row order, as a log is appended.
CREATE FUNCTION bench_interactions(tbl text, nrows bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
		CREATE TABLE %I AS
		SELECT g AS id, day, date_trunc('month', day)::date AS month,
			   (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
				   [1 + (hashint8(g) & 7)] AS channel,
			   (1 + (hashint8(g * 31) & 2147483647) %% 5)::float8 AS rating,
			   ((hashint8(g * 37) & 2147483647) %% 101)::float8 AS score,
			   (hashint8(g * 41) & 3) <> 0 AS integrated
		FROM generate_series(1, %s::bigint) g,
			 LATERAL (SELECT date '2025-01-01' + ((g - 1) * 365 / %s)::int AS day) d$q$,
		tbl, nrows, nrows);
END
$$;
SELECT bench_interactions('interactions_large', :large);
SELECT bench_interactions('interactions_small', :small);

-- Daily summaries of the large table, as a materialized view would keep them.
CREATE TABLE daily_large AS
SELECT day, month, channel_summary(channel, rating) AS ratings
FROM interactions_large GROUP BY day, month;

-- Touchpoints of journeys with 1 to max_touches touches (uniform, so
-- (1 + max_touches) / 2 on average) over 30 days, about ntouches rows in
-- all.  Stored in journey order (as after CLUSTER on a (journey, touched_at)
-- index), so the window's sort finds its input presorted and the times
-- measure the window functions rather than the sort.
CREATE FUNCTION bench_touches(tbl text, ntouches bigint, max_touches int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
		CREATE TABLE %I AS
		SELECT row_number() OVER (ORDER BY journey, touched_at, k) AS touch_id, journey, touched_at
		FROM (SELECT j AS journey, k,
					 timestamptz '2025-01-01' + (hashint4(j) & 255) * interval '1 day'
						 + ((hashint8(j * 1000 + k) & 2147483647) %% (30 * 86400)) * interval '1 second' AS touched_at
			  FROM generate_series(1, %s) j,
				   generate_series(1, 1 + (hashint4(j * 7) & 2147483647) %% %s) k) s
		ORDER BY journey, touched_at, k$q$,
		tbl, greatest(1, ntouches * 2 / (1 + max_touches)), max_touches);
END
$$;
SELECT bench_touches('touches_5', :touches, 9);
SELECT bench_touches('touches_50', :touches, 99);

-- Single journeys of many touches, one a minute, in time order.
CREATE FUNCTION bench_long_journey(tbl text, ntouches int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
		CREATE TABLE %I AS
		SELECT g AS touch_id, 1 AS journey, timestamptz '2025-01-01' + g * interval '1 minute' AS touched_at
		FROM generate_series(1, %s) g$q$, tbl, ntouches);
END
$$;
SELECT bench_long_journey(format('journey_%s', n), n) FROM unnest(:'long'::int[]) n;
\endif

\if :markov_data
-- Journeys for Markov-chain attribution, one row each: a path of 1 to 20
-- touches (uniform) on 8 channels, a conversion flag (about 14%, likelier
-- with email or store in the path and with longer paths) and a value in
-- quarters, so that sums are exact in any order and a parallel model equals
-- the serial one bit for bit.
CREATE TABLE markov_journeys AS
SELECT j AS journey, p.path,
	   (hashint8(j * 7 + 3) & 1023) < 60 + 40 * (p.path && '{email,store}')::int + 5 * cardinality(p.path) AS converted,
	   ((hashint8(j * 11) & 65535) / 4.0)::float8 AS value
FROM generate_series(1, :journeys) j,
	 LATERAL (SELECT ARRAY(SELECT (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])
									[1 + (hashint8(j * 32 + k) & 7)]
						   FROM generate_series(1, 1 + (hashint4(j::int) & 2147483647) % 20) k) AS path) p;
-- Their models at orders 1 and 3, as a materialized view would store them.
CREATE TABLE markov_models AS
SELECT 1 AS markov_order, markov_model(path, converted, value) AS model FROM markov_journeys
UNION ALL
SELECT 3, markov_model(path, converted, value, 3) FROM markov_journeys;
\endif

VACUUM (FREEZE, ANALYZE);
-- Keep every table in shared_buffers, so the times are CPU, not I/O.
SELECT sum(pg_prewarm(c.oid)) AS prewarmed_blocks
FROM pg_class c
WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace;
