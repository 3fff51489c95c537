-- omni_experience_rating: the unweighted mean over channels of each channel's
-- mean rating in percent of the scale, checked against the same KPI in plain
-- SQL; NULL handling, scales, errors, hash and sorted grouping.

CREATE TABLE ratings (id int, month date, channel text, rating float8);
INSERT INTO ratings VALUES
	(1, '2026-01-01', 'web', 5), (2, '2026-01-01', 'web', 4), (3, '2026-01-01', 'web', 3),
	(4, '2026-01-01', 'store', 2), (5, '2026-01-01', 'store', 4),
	(6, '2026-01-01', 'call center', 1),
	(7, '2026-01-01', 'app', NULL), (8, '2026-01-01', NULL, 3),
	(9, '2026-02-01', 'web', 5), (10, '2026-02-01', 'chat', 4.5);

-- By hand, January on 1..5: web mean 4 -> 75%, store 3 -> 50%, call center 1 -> 0%;
-- (75 + 50 + 0) / 3 = 41.666667.  'app' has only a NULL rating and the NULL
-- channel row is skipped, so neither counts.  avg() over all rows differs (3.14).
-- February: web 5 -> 100%, chat 4.5 -> 87.5%; mean 93.75.
SELECT month, round(omni_experience_rating(channel, rating)::numeric, 6) AS rating_pct,
	   round(avg(rating)::numeric, 6) AS plain_avg
FROM ratings GROUP BY month ORDER BY month;

-- The same KPI written in plain SQL, in the same query.
WITH channel_means AS (
	SELECT month, channel, avg((rating - 1) / 4 * 100) AS pct
	FROM ratings WHERE channel IS NOT NULL AND rating IS NOT NULL
	GROUP BY month, channel)
SELECT month, abs(omni - (SELECT avg(pct) FROM channel_means c WHERE c.month = r.month)) < 1e-12 AS matches_plain_sql
FROM (SELECT month, omni_experience_rating(channel, rating) AS omni FROM ratings GROUP BY month) r
ORDER BY month;

-- Scale 0..10: January web 4 -> 40%, store 3 -> 30%, call center 1 -> 10%; mean 26.666667.
SELECT round(omni_experience_rating(channel, rating, 0, 10)::numeric, 6)
FROM ratings WHERE month = '2026-01-01';

-- Empty input, all-NULL input, one row, one channel.
SELECT omni_experience_rating(channel, rating) IS NULL AS empty_is_null FROM ratings WHERE false;
SELECT omni_experience_rating(channel, rating) IS NULL AS all_null_is_null
FROM (VALUES (NULL::text, 4::float8), ('web', NULL)) v(channel, rating);
SELECT omni_experience_rating('web', 4) AS one_row;
SELECT omni_experience_rating(channel, rating) AS one_channel
FROM (VALUES ('web', 1::float8), ('web', 5)) v(channel, rating);

-- Scale bounds are included; every channel counts once, whatever its volume:
-- 1000 rows of 5 on web and one row of 1 on kiosk give (100 + 0) / 2.
SELECT omni_experience_rating(channel, rating)
FROM (SELECT 'web', 5::float8 FROM generate_series(1, 1000)
	  UNION ALL SELECT 'kiosk', 1) v(channel, rating);

-- Channel names compare exactly, as GROUP BY compares them: case, trailing
-- spaces and the empty string are distinct channels.
SELECT round(omni_experience_rating(channel, rating)::numeric, 6) AS rating_pct,
	   (SELECT count(DISTINCT channel) FROM (VALUES ('Web'), ('web'), ('web '), ('')) c(channel)) AS channels
FROM (VALUES ('Web', 5::float8), ('web', 1), ('web ', 3), ('', 3)) v(channel, rating);

-- Many groups, hash and sorted aggregation give the same results as plain SQL.
CREATE TABLE many AS
SELECT g % 50 AS grp, 'ch' || (g * 7 % 13) AS channel, 1 + (g * 31 % 9) / 2.0 AS rating
FROM generate_series(1, 20000) g;
ANALYZE many;
CREATE TABLE many_plain AS
SELECT grp, avg(pct) AS kpi FROM (
	SELECT grp, channel, avg((rating - 1) / 4 * 100) AS pct FROM many GROUP BY grp, channel) s
GROUP BY grp;
SET enable_hashagg = on; SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT grp, omni_experience_rating(channel, rating) FROM many GROUP BY grp;
SELECT count(*) AS groups, bool_and(abs(o.kpi - p.kpi) < 1e-9) AS hashed_matches
FROM (SELECT grp, omni_experience_rating(channel, rating) AS kpi FROM many GROUP BY grp) o
JOIN many_plain p USING (grp);
SET enable_hashagg = off; RESET enable_sort;
EXPLAIN (COSTS OFF) SELECT grp, omni_experience_rating(channel, rating) FROM many GROUP BY grp;
SELECT count(*) AS groups, bool_and(abs(o.kpi - p.kpi) < 1e-9) AS sorted_matches
FROM (SELECT grp, omni_experience_rating(channel, rating) AS kpi FROM many GROUP BY grp) o
JOIN many_plain p USING (grp);
RESET enable_hashagg;

-- The result does not depend on the order of the rows.
SELECT abs((SELECT omni_experience_rating(channel, rating ORDER BY rating) FROM many)
		 - (SELECT omni_experience_rating(channel, rating ORDER BY rating DESC) FROM many)) < 1e-12
	AS order_independent;

-- Errors, each with its SQLSTATE.
SELECT omni_experience_rating('web', 6);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 0.999);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', '-Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 11, 0, 10);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 3, 5, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 3, 5, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 3, 0, 'Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT omni_experience_rating('web', 3, NULL, 10);
\echo :LAST_ERROR_SQLSTATE
-- a scale that changes within one aggregate
SELECT omni_experience_rating(channel, rating, 0, scale_max)
FROM (VALUES ('web', 3::float8, 5::float8), ('web', 3, 10)) v(channel, rating, scale_max);
\echo :LAST_ERROR_SQLSTATE
-- the support functions refuse to run outside an aggregate
SELECT omnikpi_rating_trans(NULL, 'web', 3);
\echo :LAST_ERROR_SQLSTATE
-- The KPI of a group does not depend on the order its channels came in: a
-- working state keeps them in the order its rows met them, its stored form
-- in name order, and both give the same double (the channels' percentages
-- are summed exactly and rounded once).  3,000 groups of ten rows on eight
-- channels.
CREATE TABLE kpi_channel_order AS
SELECT g % 3000 AS k,
	   (ARRAY['web', 'app', 'store', 'call_center', 'chat', 'email', 'social', 'kiosk'])[1 + (hashint4(g) & 7)] AS channel,
	   (1 + (hashint4(g * 3) & 2147483647) % 5)::float8 AS rating
FROM generate_series(1, 30000) g;
SELECT count(*) AS groups,
	   count(*) FILTER (WHERE r.rating = experience_rating(r.summary)) AS same_as_stored_form
FROM (SELECT k, omni_experience_rating(channel, rating) AS rating,
			 channel_summary(channel, rating) AS summary
	  FROM kpi_channel_order GROUP BY k) r;
DROP TABLE kpi_channel_order;
