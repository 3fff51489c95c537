-- omni_integration_index: sum of the channels' mean integration scores divided
-- by the number of channels, from scores (0..100) or from booleans (the
-- percentage of integrated rows per channel), checked against plain SQL.

CREATE TABLE integration (channel text, score float8, integrated boolean);
INSERT INTO integration VALUES
	('web', 90, true), ('web', 70, true), ('web', 80, false),
	('store', 60, true), ('store', 50, false), ('store', 40, false), ('store', 50, false),
	('app', 100, NULL), ('app', NULL, true),
	(NULL, 10, false);

-- Scores by hand: web 80, store 50, app 100 -> (80 + 50 + 100) / 3 = 76.666667.
-- Booleans by hand: web 2/3 = 66.67%, store 1/4 = 25%, app 1/1 = 100%
-- -> (66.666667 + 25 + 100) / 3 = 63.888889.
SELECT round(omni_integration_index(channel, score)::numeric, 6) AS from_scores,
	   round(omni_integration_index(channel, integrated)::numeric, 6) AS from_flags
FROM integration;

-- The same in plain SQL.
SELECT abs((SELECT omni_integration_index(channel, score) FROM integration)
		 - (SELECT avg(m) FROM (SELECT avg(score) m FROM integration
								WHERE channel IS NOT NULL AND score IS NOT NULL
								GROUP BY channel) s)) < 1e-12 AS scores_match,
	   abs((SELECT omni_integration_index(channel, integrated) FROM integration)
		 - (SELECT avg(m) FROM (SELECT 100.0 * avg(integrated::int) m FROM integration
								WHERE channel IS NOT NULL AND integrated IS NOT NULL
								GROUP BY channel) s)) < 1e-12 AS flags_match;

-- Empty and all-NULL input give NULL; bounds 0 and 100 are valid.
SELECT omni_integration_index(channel, score) IS NULL AS empty_is_null FROM integration WHERE false;
SELECT omni_integration_index(channel, integrated) IS NULL AS all_null_is_null
FROM (VALUES (NULL::text, true), ('web', NULL)) v(channel, integrated);
SELECT omni_integration_index(channel, score) AS bounds
FROM (VALUES ('web', 0::float8), ('store', 100)) v(channel, score);

-- Per group: a group whose only row has a NULL channel gives NULL.
SELECT channel IS NULL AS no_channel, round(omni_integration_index(channel, score)::numeric, 6)
FROM integration GROUP BY channel IS NULL ORDER BY 1;

-- Errors.
SELECT omni_integration_index('web', 100.5::float8);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_integration_index('web', -1::float8);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_integration_index('web', 'NaN'::float8);
\echo :LAST_ERROR_SQLSTATE
SELECT omni_integration_index('web', 'Infinity'::float8);
\echo :LAST_ERROR_SQLSTATE
