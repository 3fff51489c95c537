-- bench/cases.sql: the contenders, the checks that they agree, and the
-- rounds of each run.  psql variables: rounds_large (the runs over the large
-- interactions table and the other slow ones), rounds_attribution and rounds
-- (all other runs).

-- The aggregate that bench 5 compares moving-aggregate mode with: the same
-- transition and final functions, without MSFUNC/MINVFUNC, so a sliding frame
-- recomputes every frame from scratch.  In the bench database only.
CREATE AGGREGATE rating_without_inverse(text, float8) (
	SFUNC = omnikpi_rating_trans, STYPE = channel_summary,
	FINALFUNC = omnikpi_kpi_final);

-- Exact row counts of the tables, for labels and time per row.
CREATE TEMP TABLE table_rows (tbl text PRIMARY KEY, rows bigint);
DO $$
DECLARE
	t			text;
BEGIN
	FOR t IN SELECT relname FROM pg_class
			 WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname NOT LIKE 'bench\_%' LOOP
		EXECUTE format('INSERT INTO table_rows SELECT %L, count(*) FROM %I', t, t);
	END LOOP;
END
$$;

-- 1 and 2: each KPI against the floor (avg() of the same rows, channel read
-- too) and the plain-SQL two-level GROUP BY; whole table and by month; serial
-- and with 2 workers.
CREATE TEMP TABLE kpi (ord int, subject text, floor text, value text, nonnull text, outer_avg text);
INSERT INTO kpi VALUES
	(1, 'omni_experience_rating(channel, rating)', 'avg(rating), count(channel)',
		'rating', 'rating', 'avg((m - 1) / 4 * 100)'),
	(2, 'omni_integration_index(channel, score)', 'avg(score), count(channel)',
		'score', 'score', 'avg(m)'),
	(3, 'omni_integration_index(channel, integrated)', 'avg(integrated::int), count(channel)',
		'integrated::int', 'integrated', 'avg(m * 100)::float8');

CREATE TEMP TABLE kpi_data (tbl, ord) AS VALUES ('interactions_small', 1), ('interactions_large', 2);

CREATE TEMP VIEW kpi_queries AS
SELECT k.ord AS kpi_ord, d.ord AS data_ord, k.subject, d.tbl,
	   -- whole table
	   format('SELECT %s FROM %I', k.floor, d.tbl) AS floor_whole,
	   format('SELECT %s FROM %I', k.subject, d.tbl) AS omni_whole,
	   format('SELECT %s FROM (SELECT avg(%s) AS m FROM %I WHERE channel IS NOT NULL AND %s IS NOT NULL GROUP BY channel) s',
			  k.outer_avg, k.value, d.tbl, k.nonnull) AS plain_whole,
	   -- by month
	   format('SELECT month, %s FROM %I GROUP BY month', k.floor, d.tbl) AS floor_month,
	   format('SELECT month, %s FROM %I GROUP BY month', k.subject, d.tbl) AS omni_month,
	   format('SELECT month, %s FROM (SELECT month, avg(%s) AS m FROM %I WHERE channel IS NOT NULL AND %s IS NOT NULL GROUP BY month, channel) s GROUP BY month',
			  k.outer_avg, k.value, d.tbl, k.nonnull) AS plain_month
FROM kpi k CROSS JOIN kpi_data d;

INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, workers, nrows, query)
SELECT q.subject || ' on ' || q.tbl, 'kpi', q.subject,
	   bench_count_label(n.rows) || ' rows', p.part, r.role, r.contender, w.workers, n.rows,
	   CASE WHEN p.part = 'whole table' THEN
			CASE r.role WHEN 'floor' THEN q.floor_whole WHEN 'omnikpi' THEN q.omni_whole ELSE q.plain_whole END
	   ELSE
			CASE r.role WHEN 'floor' THEN q.floor_month WHEN 'omnikpi' THEN q.omni_month ELSE q.plain_month END
	   END
FROM kpi_queries q
	 JOIN table_rows n USING (tbl)
	 CROSS JOIN (VALUES (1, 'whole table'), (2, 'by month')) p(ord, part)
	 CROSS JOIN (VALUES (0), (2)) w(workers)
	 CROSS JOIN (VALUES (1, 'floor', 'avg() floor'), (2, 'omnikpi', 'omnikpi'),
						(3, 'plain', 'plain SQL, two-level GROUP BY')) r(ord, role, contender)
ORDER BY q.data_ord, q.kpi_ord, p.ord, w.workers, r.ord;

INSERT INTO bench_check
SELECT q.subject || ' on ' || q.tbl, 'whole table: omnikpi and plain SQL',
	   format('SELECT abs((%s) - (%s)) < 1e-9', q.omni_whole, q.plain_whole)
FROM kpi_queries q
UNION ALL
SELECT q.subject || ' on ' || q.tbl, 'by month: omnikpi and plain SQL',
	   format('SELECT count(*) = (SELECT count(DISTINCT month) FROM %I) AND bool_and(abs(o.k - p.k) < 1e-9)
			   FROM (%s) o(month, k) JOIN (%s) p(month, k) USING (month)', q.tbl, q.omni_month, q.plain_month)
FROM kpi_queries q;

-- 3: a monthly rating from the daily summaries vs from the raw rows.
INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'rollup', 'rollup', 'monthly omni_experience_rating',
	   bench_count_label(n.rows) || ' rows', 'by month', r.role, r.contender, n.rows, r.query
FROM (SELECT rows FROM table_rows WHERE tbl = 'interactions_large') n,
	 (VALUES (1, 'rollup', 'experience_rating(rollup(ratings)) over the daily summaries',
			  'SELECT month, experience_rating(rollup(ratings)) FROM daily_large GROUP BY month'),
			 (2, 'raw', 'omni_experience_rating(channel, rating) over the raw rows',
			  'SELECT month, omni_experience_rating(channel, rating) FROM interactions_large GROUP BY month'))
	 r(ord, role, contender, query)
ORDER BY r.ord;
INSERT INTO bench_check VALUES ('rollup', 'rollup and raw rows',
	'SELECT count(*) = (SELECT count(*) FROM (SELECT DISTINCT month FROM daily_large) m)
			AND bool_and(abs(r.k - d.k) <= 1e-12 * abs(r.k))
	 FROM (SELECT month, omni_experience_rating(channel, rating) FROM interactions_large GROUP BY month) r(month, k)
	 JOIN (SELECT month, experience_rating(rollup(ratings)) FROM daily_large GROUP BY month) d(month, k) USING (month)');

-- 4: attribution_share per model vs the row_number() floor and the plain-SQL
-- formulation of the same model.  Every contender uses the same window w,
-- with the whole-partition frame that count(*) needs for the touch count
-- (row_number() and attribution_share ignore the frame), so they share one
-- sort and one WindowAgg.  {t} stands for the table.
CREATE FUNCTION pg_temp.windowed(share text) RETURNS text LANGUAGE sql AS $$
	SELECT format('SELECT touch_id, %s AS share FROM {t} WINDOW w AS (PARTITION BY journey '
				  'ORDER BY touched_at, touch_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)',
				  share)
$$;

-- Plain SQL of a position model: n = 1, n = 2 (first, last), else first,
-- middle (all middle touches together) and last.
CREATE FUNCTION pg_temp.positional(f2 text, l2 text, f text, m text, l text) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.windowed(format(
		'CASE WHEN %1$s = 1 THEN 1 WHEN %1$s = 2 THEN CASE WHEN %2$s = 1 THEN %3$s ELSE %4$s END '
		'WHEN %2$s = 1 THEN %5$s WHEN %2$s = %1$s THEN %7$s ELSE %6$s / (%1$s - 2) END',
		'count(*) OVER w', 'row_number() OVER w', f2, l2, f, m, l))
$$;

CREATE TEMP TABLE model (ord int, model text, omnikpi text, plain text);
INSERT INTO model VALUES
	(1, 'first_touch', pg_temp.windowed($$attribution_share('first_touch') OVER w$$),
		pg_temp.windowed('(row_number() OVER w = 1)::int::float8')),
	(2, 'last_touch', pg_temp.windowed($$attribution_share('last_touch') OVER w$$),
		pg_temp.windowed('(row_number() OVER w = count(*) OVER w)::int::float8')),
	(3, 'linear', pg_temp.windowed($$attribution_share('linear') OVER w$$),
		pg_temp.windowed('1::float8 / count(*) OVER w')),
	(4, 'position_based', pg_temp.windowed($$attribution_share('position_based') OVER w$$),
		pg_temp.positional('0.5::float8', '0.5::float8', '0.4::float8', '0.2::float8', '0.4::float8')),
	(5, 'j_curve', pg_temp.windowed($$attribution_share('j_curve') OVER w$$),
		pg_temp.positional('0.25::float8', '0.75::float8', '0.2::float8', '0.2::float8', '0.6::float8')),
	(6, 'inverse_j', pg_temp.windowed($$attribution_share('inverse_j') OVER w$$),
		pg_temp.positional('0.75::float8', '0.25::float8', '0.6::float8', '0.2::float8', '0.2::float8')),
	(7, 'custom weights (3, 2, 1)', pg_temp.windowed('attribution_share(3, 2, 1) OVER w'),
		pg_temp.positional('0.75::float8', '0.25::float8', '3 / 6::float8', '2 / 6::float8', '1 / 6::float8')),
	-- half-life 7 days, weights relative to the journey's latest touch; window
	-- functions do not nest, hence the subquery, and date_part returns float8
	-- where extract() would compute in numeric
	(8, 'time_decay', pg_temp.windowed($$attribution_share('time_decay', touched_at) OVER w$$),
		'SELECT touch_id, weight / sum(weight) OVER (PARTITION BY journey) AS share FROM ('
		|| replace(replace(pg_temp.windowed($$power(0.5, date_part('epoch', max(touched_at) OVER w - touched_at) / 604800)$$),
						   'touch_id, ', 'touch_id, journey, '), 'AS share', 'AS weight')
		|| ') s');

CREATE TEMP TABLE journeys (ord, tbl, label) AS VALUES
	(1, 'touches_5', '5 touches per journey'), (2, 'touches_50', '50 touches per journey');

INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'attribution on ' || j.tbl, 'attribution', c.model, j.label, j.label, c.role, c.contender,
	   (SELECT rows FROM table_rows WHERE tbl = j.tbl),
	   replace(c.query, '{t}', j.tbl)
FROM journeys j
	 CROSS JOIN (SELECT 0 AS ord, 'row_number()' AS model, 'floor' AS role, 'row_number() floor' AS contender,
						pg_temp.windowed('row_number() OVER w') AS query
				 UNION ALL
				 SELECT ord, model, 'omnikpi', 'attribution_share', omnikpi FROM model
				 UNION ALL
				 SELECT ord, model, 'plain', 'plain SQL', plain FROM model) c
ORDER BY j.ord, c.ord, c.role;

INSERT INTO bench_check
SELECT 'attribution on ' || j.tbl, m.model || ': attribution_share and plain SQL',
	   format('SELECT count(*) = (SELECT count(*) FROM %I) AND bool_and(abs(o.share - p.share) <= 1e-12)
			   FROM (%s) o JOIN (%s) p USING (touch_id)',
			  j.tbl, replace(m.omnikpi, '{t}', j.tbl), replace(m.plain, '{t}', j.tbl))
FROM journeys j CROSS JOIN model m;

-- 4b: one long journey: time per touch from 10k to 1M touches.
INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'long journeys', 'long journey', c.model, bench_count_label(n.rows) || ' touches',
	   bench_count_label(n.rows) || ' touches', c.role, c.contender, n.rows,
	   replace(c.query, '{t}', n.tbl)
FROM (SELECT tbl, rows FROM table_rows WHERE tbl LIKE 'journey\_%') n
	 CROSS JOIN (SELECT 0 AS ord, 'row_number()' AS model, 'floor' AS role, 'row_number() floor' AS contender,
						pg_temp.windowed('row_number() OVER w') AS query
				 UNION ALL
				 SELECT ord, model, 'omnikpi', 'attribution_share', omnikpi FROM model
				 WHERE model IN ('position_based', 'time_decay')) c
ORDER BY n.rows, c.ord;

INSERT INTO bench_check
SELECT 'long journeys', m.model || ' on ' || t.tbl || ': attribution_share and plain SQL',
	   format('SELECT count(*) = (SELECT count(*) FROM %I) AND bool_and(abs(o.share - p.share) <= 1e-12)
			   FROM (%s) o JOIN (%s) p USING (touch_id)',
			  t.tbl, replace(m.omnikpi, '{t}', t.tbl), replace(m.plain, '{t}', t.tbl))
FROM (SELECT tbl FROM table_rows WHERE tbl LIKE 'journey\_%' ORDER BY rows DESC LIMIT 1) t
	 CROSS JOIN model m
WHERE m.model IN ('position_based', 'time_decay');

-- 5: a rolling 30-row omni_experience_rating in moving-aggregate mode vs
-- the same aggregate without an inverse function.
INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'rolling', 'rolling', 'rolling 30-row omni_experience_rating',
	   bench_count_label(n.rows) || ' rows', '30-row frame', r.role, r.contender, n.rows,
	   format('SELECT %s(channel, rating) OVER (ORDER BY id ROWS 29 PRECEDING) FROM interactions_small', r.agg)
FROM (SELECT rows FROM table_rows WHERE tbl = 'interactions_small') n,
	 (VALUES (1, 'moving', 'omni_experience_rating (moving-aggregate mode)', 'omni_experience_rating'),
			 (2, 'no_inverse', 'the same aggregate without an inverse function', 'rating_without_inverse'))
	 r(ord, role, contender, agg)
ORDER BY r.ord;
INSERT INTO bench_check VALUES ('rolling', 'moving and recomputed frames',
	'SELECT bool_and(abs(m - r) <= 1e-9 * abs(r)) FROM
	 (SELECT omni_experience_rating(channel, rating) OVER w AS m, rating_without_inverse(channel, rating) OVER w AS r
	  FROM interactions_small WINDOW w AS (ORDER BY id ROWS 29 PRECEDING)) s');

-- 6: Markov-chain attribution.  Building the model over the journeys
-- (orders 1 and 3) vs the floor for reading the same paths, array_agg of
-- them (grouped by length, as array_agg takes arrays of one shape only);
-- then solving stored models (8 channels: 9 transient states at order 1,
-- 457 at order 3).
INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'markov_model', 'markov build', 'markov_model', bench_count_label(n.rows) || ' journeys',
	   'whole table', r.role, r.contender, n.rows, r.query
FROM (SELECT rows FROM table_rows WHERE tbl = 'markov_journeys') n,
	 (VALUES (1, 'floor', 'array_agg of the paths (floor)',
			  'SELECT cardinality(path), array_agg(path) FROM markov_journeys GROUP BY 1'),
			 (2, 'scan', 'sum(cardinality(path)): a scan that reads each path''s header only',
			  'SELECT sum(cardinality(path)) FROM markov_journeys'),
			 (3, 'order 1', 'markov_model(path, converted, value)',
			  'SELECT markov_model(path, converted, value) FROM markov_journeys'),
			 (4, 'order 3', 'markov_model(path, converted, value, 3)',
			  'SELECT markov_model(path, converted, value, 3) FROM markov_journeys'))
	 r(ord, role, contender, query)
ORDER BY r.ord;
INSERT INTO bench_check VALUES ('markov_model', 'every journey counted, and the stored models are the fresh ones',
	'SELECT (SELECT sum(t.transitions) FROM markov_models m, transitions(m.model) t
			 WHERE m.markov_order = 1 AND t.from_state = ''(start)'')
			= (SELECT count(*) FROM markov_journeys WHERE cardinality(path) > 0)
		AND (SELECT markov_model(path, converted, value)::text FROM markov_journeys)
			= (SELECT model::text FROM markov_models WHERE markov_order = 1)
		AND (SELECT markov_model(path, converted, value, 3)::text FROM markov_journeys)
			= (SELECT model::text FROM markov_models WHERE markov_order = 3)');

INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, query)
SELECT 'markov_attribution', 'markov solve', 'markov_attribution', '8 channels', r.part, r.role,
	   format('markov_attribution of the order-%s model', r.o), NULL,
	   format('SELECT * FROM markov_attribution((SELECT model FROM markov_models WHERE markov_order = %s))', r.o)
FROM (SELECT 1 FROM table_rows WHERE tbl = 'markov_models') m,
	 (VALUES (1, 'order 1', 'order 1'), (3, 'order 3', 'order 3')) r(o, role, part)
ORDER BY r.o;
INSERT INTO bench_check
SELECT 'markov_attribution', format('order %s: attributed conversions add up', o),
	   format('SELECT abs(sum(conversions) - (SELECT count(*) FILTER (WHERE converted) FROM markov_journeys)) < 1e-6
			   FROM markov_attribution((SELECT model FROM markov_models WHERE markov_order = %s))', o)
FROM (VALUES (1), (3)) v(o);

-- 7: the three aggregate families by number of groups, each with hash
-- aggregation and with sort aggregation, beside PostgreSQL's own aggregates
-- grouped the same way: avg() for channel_summary (channel read too), and
-- array_agg() of each path's length for the journey aggregates (a state
-- per group that grows with its rows, reading each path).  The same 1M rows
-- grouped into 1k, 44k (as many as the materialized daily table has) and 1M
-- groups; for channel_summary also into 44k groups of one channel each,
-- grouped by a key and the channel, the daily table's own shape (GROUP BY
-- day, channel, phase), where the other counts give a group all 8
-- channels; and, for linearity, 10k groups of one row each (the first 10k
-- rows) against the 1M groups of one row: with time linear in the groups
-- the time per row is the same.  (Every journey of the bench has a channel,
-- so each counts once in its model.)  work_mem is 2GB for these, so no hash
-- aggregation spills and the plans compare CPU and memory.
SELECT count(DISTINCT channel) AS bench_channels FROM interactions_small \gset
CREATE TEMP TABLE group_family (ord, family, tbl, key, has_channel, omnikpi, floor, floor_name, checks) AS VALUES
	(1, 'channel_summary', 'interactions_small', 'id', true, 'channel_summary(channel, rating)',
		'avg(rating), count(channel)', 'avg()',
		'SELECT count(*) = {groups} AND sum(n) = {rows} FROM (SELECT (SELECT sum(n) FROM channels(s)) AS n FROM ({q}) q(g, s)) x'),
	(2, 'markov_model', 'markov_journeys', 'journey', false, 'markov_model(path, converted, value)',
		'array_agg(cardinality(path))', 'array_agg()',
		'SELECT count(*) = {groups} AND sum(n) = {rows}
		 FROM (SELECT (SELECT sum(transitions) FROM transitions(s) WHERE from_state = ''(start)'') AS n FROM ({q}) q(g, s)) x'),
	(3, 'journey_paths', 'markov_journeys', 'journey', false, 'journey_paths(path, converted, value)',
		'array_agg(cardinality(path))', 'array_agg()',
		'SELECT count(*) = {groups} AND sum(n) = {rows}
		 FROM (SELECT (SELECT sum(conversions + non_conversions) FROM paths(s)) AS n FROM ({q}) q(g, s)) x');
CREATE TEMP TABLE group_count (ord, dataset, groups, rows, by_channel) AS VALUES
	(1, '1k groups', 1000, 1000000, false), (2, '44k groups', 44000, 1000000, false),
	(3, '44k groups of one channel', 44000, 1000000, true),
	(4, '1M groups', 1000000, 1000000, false), (5, '10k groups of 1 row', 10000, 10000, false);
CREATE TEMP VIEW group_queries AS
SELECT f.ord AS family_ord, c.ord AS count_ord, f.family, f.floor_name, c.dataset,
	   k.keys * CASE WHEN c.by_channel THEN :bench_channels ELSE 1 END AS groups,
	   c.rows / :scale AS rows, f.checks,
	   format('SELECT %1$s %% %2$s AS g, %3$s FROM (SELECT * FROM %4$I LIMIT %5$s) t GROUP BY g%6$s',
			  f.key, k.keys, f.omnikpi, f.tbl, c.rows / :scale, k.channel) AS omnikpi,
	   format('SELECT %1$s %% %2$s AS g, %3$s FROM (SELECT * FROM %4$I LIMIT %5$s) t GROUP BY g%6$s',
			  f.key, k.keys, f.floor, f.tbl, c.rows / :scale, k.channel) AS floor
FROM group_family f CROSS JOIN group_count c
	 CROSS JOIN LATERAL (SELECT c.groups / :scale / CASE WHEN c.by_channel THEN :bench_channels ELSE 1 END AS keys,
								CASE WHEN c.by_channel THEN ', channel' ELSE '' END AS channel) k
WHERE (SELECT rows FROM table_rows WHERE tbl = f.tbl) >= c.rows / :scale
  AND (f.has_channel OR NOT c.by_channel);

INSERT INTO bench_case (run, section, subject, dataset, part, role, contender, nrows, settings, query)
SELECT 'groups: ' || q.family, 'groups', q.family, q.dataset, p.part, r.role || ' ' || p.part,
	   r.contender, q.rows, p.settings, CASE r.role WHEN 'omnikpi' THEN q.omnikpi ELSE q.floor END
FROM group_queries q
	 CROSS JOIN (VALUES (1, 'hash', '{enable_sort=off,work_mem=2GB}'::text[]),
						(2, 'sort', '{enable_hashagg=off,work_mem=2GB}')) p(ord, part, settings)
	 CROSS JOIN LATERAL (VALUES (1, 'omnikpi', q.family), (2, 'floor', q.floor_name)) r(ord, role, contender)
ORDER BY q.family_ord, q.count_ord, p.ord, r.ord;

INSERT INTO bench_check
SELECT 'groups: ' || q.family, q.dataset || ': every group and every row counted',
	   replace(replace(replace(q.checks, '{q}', q.omnikpi), '{groups}', q.groups::text), '{rows}', q.rows::text)
FROM group_queries q;

-- Runs of some sections only (bench/run.sh, OMNIKPI_BENCH_ONLY).
DELETE FROM bench_case WHERE :'only' <> '' AND section <> ALL (string_to_array(:'only', ','));

-- The slow runs get fewer rounds, the attribution runs more: their
-- contenders differ by less than this shared machine's noise.  The runs over
-- the large table skip the warm-up round: their checks have just run omnikpi
-- and the plain SQL on it.
INSERT INTO bench_rounds
SELECT DISTINCT run,
	   CASE WHEN run LIKE '%interactions_large' OR run IN ('rollup', 'rolling') OR run LIKE 'groups:%'
			THEN :rounds_large
			WHEN run LIKE 'attribution%' OR run = 'markov_attribution' THEN :rounds_attribution
			ELSE :rounds END,
	   run NOT LIKE '%interactions_large'
FROM bench_case;
