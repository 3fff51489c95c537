-- The extension as a whole: every function callable unqualified by an
-- ordinary role, every user-facing object commented, and DROP EXTENSION /
-- CREATE EXTENSION again work.

CREATE ROLE omnikpi_analyst;
SET ROLE omnikpi_analyst;
SELECT round(omni_experience_rating(channel, rating)::numeric, 6) AS rating,
	   round(omni_integration_index(channel, score)::numeric, 6) AS index,
	   channel_count(channel_summary(channel, rating)) AS channels
FROM (VALUES ('web', 4::float8, 80::float8), ('store', 3, 60)) v(channel, rating, score);
SELECT attribution_share('linear') OVER (PARTITION BY j) FROM (VALUES (1), (1)) v(j);
RESET ROLE;
DROP ROLE omnikpi_analyst;

-- Objects without a comment (none expected).
SELECT p.oid::regprocedure AS uncommented
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'omnikpi'
WHERE obj_description(p.oid, 'pg_proc') IS NULL AND p.proname NOT LIKE 'omnikpi\_%'
ORDER BY 1;
SELECT obj_description('channel_summary'::regtype, 'pg_type') IS NOT NULL AS type_commented;

-- Every C function is parallel safe (the PL/pgSQL ones that run DDL are not).
SELECT count(*) AS c_functions, count(*) FILTER (WHERE p.proparallel <> 's') AS not_parallel_safe
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'omnikpi'
WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c');

-- Drop and create again, in a database of its own (the other tests keep
-- tables of type channel_summary in theirs).
CREATE DATABASE omnikpi_extension_test;
\c omnikpi_extension_test
CREATE EXTENSION omnikpi;
SELECT omni_experience_rating('web', 4);
DROP EXTENSION omnikpi;
SELECT omni_experience_rating('web', 4);
\echo :LAST_ERROR_SQLSTATE
CREATE EXTENSION omnikpi;
SELECT omni_experience_rating('web', 4), '{"version":1,"channels":{}}'::channel_summary;
\c contrib_regression
DROP DATABASE omnikpi_extension_test;
