-- bench/report.sql: the results as Markdown (run with psql -At).  psql
-- variables: wall (the bench's wall time), cores and cpu (the machine) and
-- load (the load averages before and after).

-- Milliseconds: whole above 100, else with decimals.
CREATE FUNCTION pg_temp.ms(x float8) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN x >= 100 THEN round(x)::text
				WHEN x >= 10 THEN round(x::numeric, 1)::text
				ELSE round(x::numeric, 2)::text END
$$;
CREATE FUNCTION pg_temp.x(ratio float8) RETURNS text LANGUAGE sql AS $$
	SELECT to_char(ratio, 'FM99990.00') || '×'
$$;
CREATE FUNCTION pg_temp.met(ok bool) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN ok THEN 'yes' ELSE '**no**' END
$$;
-- Did the bench run this section (all do, unless OMNIKPI_BENCH_ONLY chose)?
CREATE FUNCTION pg_temp.ran(this_section text) RETURNS bool LANGUAGE sql AS $$
	SELECT EXISTS (SELECT FROM bench_time t JOIN bench_case c ON c.id = t.case_id WHERE c.section = this_section)
$$;

-- Each result as shown, "median (min–max)", next to its reference (the
-- floor, or the first contender, of the same run, dataset, part and workers)
-- and its own serial time.
CREATE TEMP VIEW r AS
SELECT b.*, ref.median AS ref_median, ser.median AS serial_median,
	   pg_temp.ms(b.median) || ' (' || pg_temp.ms(b.min) || '–' || pg_temp.ms(b.max) || ')'
	   || CASE WHEN b.workers > 0 AND b.min_workers_launched < b.workers
			   THEN format(' ⚠ %s of %s workers launched', b.min_workers_launched, b.workers)
			   ELSE '' END
	   || CASE WHEN b.max_batches > 1 THEN format(' ⚠ spilled (%s batches)', b.max_batches)
			   ELSE '' END AS shown
FROM bench_result b
	 JOIN LATERAL (SELECT f.median FROM bench_result f
				   WHERE f.run = b.run AND f.dataset = b.dataset AND f.part = b.part AND f.workers = b.workers
				   ORDER BY f.id LIMIT 1) ref ON true
	 JOIN LATERAL (SELECT s.median FROM bench_result s
				   WHERE s.run = b.run AND s.dataset = b.dataset AND s.part = b.part
					 AND s.contender = b.contender AND s.subject = b.subject AND s.workers = 0) ser ON true;

SELECT $$# omnikpi benchmark
$$;
SELECT format('`make bench` on %s: %s cores (%s), %s; the whole run took %s '
			  '(1-minute load average %s).',
			  to_char(now(), 'YYYY-MM-DD'), :'cores', :'cpu', split_part(version(), ' on ', 1), :'wall', :'load');
SELECT $$$$;
SELECT format('Settings: shared_buffers %s, work_mem %s, jit %s (default thresholds: jit_above_cost %s), '
			  'max_parallel_workers_per_gather 0 (serial) or 2 per contender, '
			  'parallel_leader_participation %s; every table prewarmed in shared_buffers.',
			  current_setting('shared_buffers'), current_setting('work_mem'), current_setting('jit'),
			  current_setting('jit_above_cost'), current_setting('parallel_leader_participation'));
SELECT $$$$;
SELECT 'Rounds: ' || string_agg(format('%s for %s', nrounds, what), ', ' ORDER BY ord) || '.'
FROM (SELECT min(c.id) AS ord, b.rounds AS nrounds,
			 CASE c.section WHEN 'kpi' THEN 'the KPIs on ' || c.dataset ELSE c.section END AS what
	  FROM bench_case c JOIN bench_rounds b USING (run)
	  GROUP BY 2, 3) x;
SELECT $$
Each time is the server's execution time (`EXPLAIN (ANALYZE, TIMING OFF)`), in ms, as
median (min–max) over the rounds; the contenders of each table ran interleaved in one
session after one warm-up round (on 10M rows: after the checks, which run them too), and
ratios are ratios of medians. Before timing, the bench checked that omnikpi and the plain
SQL return the same results (KPIs to 1e-9, each attribution share to 1e-12). Reproduce
with `make bench` (`bench/run.sh`).

## Aims$$;
SELECT $$
The KPI aggregates on the 10M-row table (met: yes / **no**):

| KPI | part | cost vs `avg()`, serial (aim ≤ 1.05×) | faster than plain SQL, serial (aim ≥ 2×) | speed-up with 2 workers (aim ≥ 1.6×) |
|---|---|---:|---:|---:|$$ WHERE pg_temp.ran('kpi');
SELECT format('| `%s` | %s | %s (%s) | %s (%s) | %s (%s) |', o.subject, o.part,
			  pg_temp.x(o.median / o.ref_median), pg_temp.met(o.median / o.ref_median <= 1.05),
			  pg_temp.x(p.median / o.median), pg_temp.met(p.median / o.median >= 2),
			  pg_temp.x(o.median / q.median), pg_temp.met(o.median / q.median >= 1.6))
FROM r o
	 JOIN r p ON p.run = o.run AND p.part = o.part AND p.workers = 0 AND p.role = 'plain'
	 JOIN r q ON q.run = o.run AND q.part = o.part AND q.workers = 2 AND q.role = 'omnikpi'
WHERE o.section = 'kpi' AND o.run LIKE '%large' AND o.role = 'omnikpi' AND o.workers = 0
ORDER BY o.id;
SELECT $$
The others:

| aim | target | measured | met |
|---|---:|---:|---|$$;
SELECT format('| monthly rating: `rollup()` of daily summaries vs raw rows, %s | ≥ 20× | %s | %s |', raw.dataset,
			  pg_temp.x(raw.median / roll.median), pg_temp.met(raw.median / roll.median >= 20))
FROM r roll JOIN r raw USING (run) WHERE roll.role = 'rollup' AND raw.role = 'raw';
SELECT format('| attribution_share vs `row_number()`, %s: worst model (%s) | ≤ 1.2× | %s | %s |', dataset, subject,
			  pg_temp.x(median / ref_median), pg_temp.met(median / ref_median <= 1.2))
FROM (SELECT DISTINCT ON (dataset) * FROM r WHERE section = 'attribution' AND role = 'omnikpi'
	  ORDER BY dataset, median / ref_median DESC) w
ORDER BY dataset;
SELECT format('| attribution_share vs plain SQL, %s: closest model (%s) | > 1× | %s | %s |', dataset, subject,
			  pg_temp.x(speedup), pg_temp.met(speedup > 1))
FROM (SELECT DISTINCT ON (o.dataset) o.dataset, o.subject, p.median / o.median AS speedup
	  FROM r o JOIN r p USING (run, subject)
	  WHERE o.section = 'attribution' AND o.role = 'omnikpi' AND p.role = 'plain'
	  ORDER BY o.dataset, p.median / o.median) c
ORDER BY dataset;
SELECT format('| attribution_share(%s), one journey: time per touch at %s ÷ at %s | flat: ≤ 1.5× (quadratic: 100×) | %s | %s |',
			  CASE WHEN l.subject = 'time_decay' THEN '''time_decay'', touched_at' ELSE '''' || l.subject || '''' END,
			  l.part, s.part, pg_temp.x((l.median / l.nrows) / (s.median / s.nrows)),
			  pg_temp.met((l.median / l.nrows) / (s.median / s.nrows) <= 1.5))
FROM r l JOIN r s USING (run, subject)
WHERE l.section = 'long journey' AND l.role = 'omnikpi'
  AND l.nrows = (SELECT max(nrows) FROM bench_case WHERE section = 'long journey')
  AND s.nrows = (SELECT min(nrows) FROM bench_case WHERE section = 'long journey')
ORDER BY l.id;
SELECT format('| rolling 30-row window: moving-aggregate mode vs no inverse, %s | ≥ 5× | %s | %s |', m.dataset,
			  pg_temp.x(n.median / m.median), pg_temp.met(n.median / m.median >= 5))
FROM r m JOIN r n USING (run) WHERE m.role = 'moving' AND n.role = 'no_inverse';
SELECT format('| `%s` vs `array_agg` of the same paths, %s, serial | ≤ 2× | %s | %s |', o.contender, o.dataset,
			  pg_temp.x(o.median / o.ref_median), pg_temp.met(o.median / o.ref_median <= 2))
FROM r o WHERE o.section = 'markov build' AND o.role LIKE 'order%' ORDER BY o.id;
SELECT format('| `markov_attribution`, %s, %s | %s | %s ms | %s |', o.dataset, o.part,
			  CASE o.part WHEN 'order 1' THEN 'milliseconds (≤ 10 ms)' ELSE '< 1 s' END, pg_temp.ms(o.median),
			  pg_temp.met(o.median <= CASE o.part WHEN 'order 1' THEN 10 ELSE 1000 END))
FROM r o WHERE o.section = 'markov solve' ORDER BY o.id;
-- Group scaling: per family the worst ratio over 1k, 44k and 1M groups,
-- and beside the ratios of the plans and of the time per row the floor's
-- own: where PostgreSQL's aggregate does no better, the plan is the cause.
SELECT format('| `%s` by groups: hash vs sort aggregation, worst of 1k, 44k, 1M groups (%s) | ≤ 1.3× | %s (`%s` %s) | %s |',
			  subject, dataset, pg_temp.x(ratio), floor, pg_temp.x(floor_ratio), pg_temp.met(ratio <= 1.3))
FROM (SELECT DISTINCT ON (h.subject) h.subject, h.dataset, h.family_ord,
			 greatest(h.median / s.median, s.median / h.median) AS ratio,
			 fh.contender AS floor, greatest(fh.median / fs.median, fs.median / fh.median) AS floor_ratio
	  FROM (SELECT *, min(id) OVER (PARTITION BY subject) AS family_ord FROM r) h
		   JOIN r s ON s.run = h.run AND s.dataset = h.dataset AND s.role = 'omnikpi sort'
		   JOIN r fh ON fh.run = h.run AND fh.dataset = h.dataset AND fh.role = 'floor hash'
		   JOIN r fs ON fs.run = h.run AND fs.dataset = h.dataset AND fs.role = 'floor sort'
	  WHERE h.section = 'groups' AND h.role = 'omnikpi hash' AND h.dataset NOT LIKE '%of 1 row'
	  ORDER BY h.subject, 4 DESC) w
ORDER BY family_ord;
SELECT format('| `%s` by groups vs `%s` grouped the same way, worst plan and count (%s, %s) | ≤ 1.3× | %s | %s |',
			  subject, floor, dataset, part, pg_temp.x(ratio), pg_temp.met(ratio <= 1.3))
FROM (SELECT DISTINCT ON (o.subject) o.subject, f.contender AS floor, o.dataset, o.part, o.family_ord,
			 o.median / f.median AS ratio
	  FROM (SELECT *, min(id) OVER (PARTITION BY subject) AS family_ord FROM r) o
		   JOIN r f ON f.run = o.run AND f.dataset = o.dataset AND f.part = o.part AND f.role = 'floor ' || o.part
	  WHERE o.section = 'groups' AND o.role LIKE 'omnikpi%' AND o.dataset NOT LIKE '%of 1 row'
	  ORDER BY o.subject, 6 DESC) w
ORDER BY family_ord;
SELECT format('| `%s`, %s aggregation: time per row at %s ÷ at %s | linear: ≤ 1.5× (quadratic: 100×) | %s (`%s` %s) | %s |',
			  l.subject, l.part, l.dataset, s.dataset, pg_temp.x((l.median / l.nrows) / (s.median / s.nrows)),
			  fl.contender, pg_temp.x((fl.median / fl.nrows) / (fs.median / fs.nrows)),
			  pg_temp.met((l.median / l.nrows) / (s.median / s.nrows) <= 1.5))
FROM r l JOIN r s ON s.run = l.run AND s.role = l.role AND s.dataset = '10k groups of 1 row'
	 JOIN r fl ON fl.run = l.run AND fl.dataset = l.dataset AND fl.role = 'floor ' || l.part
	 JOIN r fs ON fs.run = l.run AND fs.dataset = s.dataset AND fs.role = 'floor ' || l.part
WHERE l.section = 'groups' AND l.role LIKE 'omnikpi%' AND l.dataset = '1M groups'
ORDER BY l.id;

SELECT $$
## 1–2. KPI aggregates vs `avg()` and the plain-SQL two-level `GROUP BY`

The floor is PostgreSQL's `avg()` over the same rows with `channel` read too
(`avg(rating), count(channel)`; for the boolean form `avg(integrated::int)`). The plain SQL
is `avg` of the per-channel `avg` (`GROUP BY channel`, or `month, channel`). Interactions have
8 channels, ratings 1 to 5, scores 0 to 100 and 12 months. × floor: median ÷ the floor's
median with the same workers; speed-up: serial median ÷ 2-worker median.$$ WHERE pg_temp.ran('kpi');
SELECT format(E'\n### `%s`\n\n| rows | part | contender | serial ms | × floor | 2 workers ms | × floor | speed-up |\n|---|---|---|---:|---:|---:|---:|---:|', subject)
	|| string_agg(format(E'\n| %s | %s | %s | %s | %s | %s | %s | %s |', s.dataset, s.part, s.contender,
						 s.shown, pg_temp.x(s.median / s.ref_median),
						 p.shown, pg_temp.x(p.median / p.ref_median),
						 pg_temp.x(s.median / p.median)), '' ORDER BY s.id)
FROM r s JOIN r p USING (run, subject, dataset, part, role)
WHERE s.section = 'kpi' AND s.workers = 0 AND p.workers = 2
GROUP BY subject ORDER BY min(s.id);

SELECT $$
## 3. Monthly rating: `rollup()` of daily `channel_summary` rows vs the raw rows

All 12 months, serial. The daily summaries (one row per day, 365 rows) are what a
materialized view would store.

| rows | contender | ms | × `rollup()` |
|---|---|---:|---:|$$ WHERE pg_temp.ran('rollup');
SELECT format('| %s | %s | %s | %s |', dataset, contender, shown, pg_temp.x(median / ref_median))
FROM r WHERE section = 'rollup' ORDER BY id;

SELECT $$
## 4. `attribution_share` vs the `row_number()` floor and plain SQL

About 1M touchpoints per table, in journeys of 1 to 9 or 1 to 99 touches, stored in journey
order (as after `CLUSTER`), so the window's sort is cheap and the times show the window
functions. Every contender uses one window, `OVER (PARTITION BY journey ORDER BY touched_at,
touch_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`: the plain SQL needs the
whole-partition frame for the touch count (`count(*)`), and `row_number()` and
`attribution_share` ignore the frame. (With the default frame, `RANGE ... CURRENT ROW`, the
executor also tracks peer rows: the same extra work for every contender.) The plain SQL of a
position model is a `CASE` over `count(*)` and `row_number()`; of time decay, `power(0.5,
...)` relative to the journey's latest touch, normalized by `sum() OVER`. Serial.

| journeys | model | `row_number()` ms | attribution_share ms | × floor | plain SQL ms | × floor | plain ÷ attribution_share |
|---|---|---:|---:|---:|---:|---:|---:|$$ WHERE pg_temp.ran('attribution');
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', o.dataset, o.subject, pg_temp.ms(o.ref_median),
			  o.shown, pg_temp.x(o.median / o.ref_median),
			  p.shown, pg_temp.x(p.median / p.ref_median), pg_temp.x(p.median / o.median))
FROM r o JOIN r p USING (run, subject)
WHERE o.section = 'attribution' AND o.role = 'omnikpi' AND p.role = 'plain'
ORDER BY o.id;

SELECT $$
### One long journey: time per touch

| journey | contender | ms | ns per touch | × floor |
|---|---|---:|---:|---:|$$ WHERE pg_temp.ran('long journey');
SELECT format('| %s | %s | %s | %s | %s |', dataset,
			  CASE role WHEN 'floor' THEN '`row_number()` floor'
						ELSE format('`attribution_share(%s)`', CASE WHEN subject = 'time_decay'
							THEN '''time_decay'', touched_at' ELSE '''' || subject || '''' END) END,
			  shown, round(median * 1e6 / nrows), pg_temp.x(median / ref_median))
FROM r WHERE section = 'long journey' ORDER BY id;

SELECT $$
## 5. Rolling 30-row `omni_experience_rating`: moving-aggregate mode vs no inverse

`OVER (ORDER BY id ROWS 29 PRECEDING)` over the smaller interactions table. The comparison
aggregate, created in the bench database only, has the same transition and final functions
and no `MSFUNC`/`MINVFUNC`, so PostgreSQL recomputes each frame.

| rows | contender | ms | × moving |
|---|---|---:|---:|$$ WHERE pg_temp.ran('rolling');
SELECT format('| %s | %s | %s | %s |', dataset, contender, shown, pg_temp.x(median / ref_median))
FROM r WHERE section = 'rolling' ORDER BY id;

SELECT $$
## 6. Markov-chain attribution: building and solving models

One row per journey (1M journeys of 1 to 20 touches, uniform, on 8 channels; about 14%
convert), stored as `path text[]`. Building: `markov_model(path, converted, value [, order])`
over the whole table against the floor for reading the same paths, `array_agg(path)` (grouped
by `cardinality(path)`, since `array_agg` takes arrays of one shape only); for scale, a scan
that reads only each path's header, `sum(cardinality(path))`. Solving:
`markov_attribution` of the stored order-1 and order-3 models (9 and 457 transient states),
each an exact solve of the absorbing chain's linear system for the model and once more per
removed channel. Serial.

| journeys | contender | ms | × floor | ns per journey |
|---|---|---:|---:|---:|$$ WHERE pg_temp.ran('markov build');
SELECT format('| %s | %s | %s | %s | %s |', dataset, contender, shown, pg_temp.x(median / ref_median),
			  round(median * 1e6 / nrows))
FROM r WHERE section = 'markov build' ORDER BY id;
SELECT $$
| model | contender | ms |
|---|---|---:|$$ WHERE pg_temp.ran('markov solve');
SELECT format('| %s, %s | %s | %s |', dataset, part, contender, shown)
FROM r WHERE section = 'markov solve' ORDER BY id;

SELECT $$
## 7. The aggregate families by number of groups: hash and sort aggregation

Each family over the same 1M rows (interactions for `channel_summary`, journeys for
`markov_model` and `journey_paths`) grouped into 1k, 44k (as many as the materialized daily
table has) and 1M groups, where a group of more than a few rows has all 8 channels, and
`channel_summary` also into 44k groups of one channel each, by a key and the channel: the
daily table's own shape (a day, a channel and a phase). With hash aggregation
(`enable_sort = off`) and with sort aggregation (`enable_hashagg = off`), beside
PostgreSQL's own aggregates grouped the same way: `avg(rating), count(channel)` for
`channel_summary`, `array_agg(cardinality(path))` (a state per group that grows with its
rows) for the journey aggregates. Then 10k groups of one
row (the first 10k rows) against the 1M groups of one row: a state per group costing the same
whatever the number of groups gives the same time per row; hash aggregation with a memory
context per state (omnikpi 0.2.0 before the shared state engine) gave a cost that grew with
the square of the groups. work_mem 2GB, so that no hash aggregation spills; serial.

| family | groups | plan | omnikpi ms | floor | floor ms | × floor | hash ÷ sort | ns per row |
|---|---|---|---:|---|---:|---:|---:|---:|$$ WHERE pg_temp.ran('groups');
SELECT format('| `%s` | %s | %s | %s | `%s` | %s | %s | %s | %s |', o.subject, o.dataset, o.part, o.shown,
			  f.contender, f.shown, pg_temp.x(o.median / f.median),
			  CASE WHEN o.part = 'hash' THEN pg_temp.x(o.median / s.median) ELSE '' END,
			  round(o.median * 1e6 / o.nrows))
FROM r o
	 JOIN r f ON f.run = o.run AND f.dataset = o.dataset AND f.part = o.part AND f.role = 'floor ' || o.part
	 JOIN r s ON s.run = o.run AND s.dataset = o.dataset AND s.role = 'omnikpi sort'
WHERE o.section = 'groups' AND o.role LIKE 'omnikpi%'
ORDER BY o.id;
