-- Bad input gets a documented result or a clear error with the right SQLSTATE,
-- never a crash: every function and the type, fed NULLs, NaN, infinities,
-- values just outside the scales, empty and 1 MB channel names, 100,000
-- channels, odd model names and half-lives, infinite timestamps and malformed
-- text.  The server must still be the same postmaster at the end.
\set SHOW_CONTEXT never
SELECT pg_postmaster_start_time() AS started \gset

-- Each case runs in its own savepoint-free statement; the outcome is the
-- result or the SQLSTATE, collected into one table.
CREATE FUNCTION outcome(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
BEGIN
	EXECUTE query INTO result;
	RETURN coalesce('= ' || result, '= NULL');
EXCEPTION WHEN OTHERS THEN
	RETURN 'ERROR ' || SQLSTATE || ': ' || left(SQLERRM, 90);
END
$$;

CREATE TABLE cases (id serial, query text);
INSERT INTO cases (query) VALUES
	-- NULLs in every argument
	($$SELECT omni_experience_rating(NULL, NULL)$$),
	($$SELECT omni_experience_rating(NULL::text, 3)$$),
	($$SELECT omni_experience_rating('web', NULL)$$),
	($$SELECT omni_experience_rating('web', 3, NULL, NULL)$$),
	($$SELECT omni_integration_index(NULL::text, NULL::float8)$$),
	($$SELECT omni_integration_index('web', NULL::boolean)$$),
	($$SELECT channel_summary(NULL::text, NULL::float8)::text$$),
	($$SELECT rollup(NULL::channel_summary)::text$$),
	($$SELECT experience_rating(NULL)$$),
	($$SELECT experience_rating(NULL, 0, 10)$$),
	($$SELECT experience_rating('{"version":1,"channels":{}}', NULL, 10)$$),
	($$SELECT integration_index(NULL)$$),
	($$SELECT channel_count(NULL::channel_summary)$$),
	($$SELECT count(*) FROM channels(NULL)$$),
	-- NaN, infinities, just outside the scales
	($$SELECT omni_experience_rating('web', 'NaN')$$),
	($$SELECT omni_experience_rating('web', 'Infinity')$$),
	($$SELECT omni_experience_rating('web', 5.000000000000001)$$),
	($$SELECT omni_experience_rating('web', 0.9999999999999999)$$),
	($$SELECT omni_experience_rating('web', 10.000000000000002, 0, 10)$$),
	($$SELECT omni_experience_rating('web', -1e-300, 0, 10)$$),
	($$SELECT omni_experience_rating('web', 3, 'NaN', 10)$$),
	($$SELECT omni_experience_rating('web', 3, '-Infinity', 10)$$),
	($$SELECT omni_experience_rating('web', 1e308, -1e308, 1.7976931348623157e308)$$),
	($$SELECT omni_integration_index('web', 100.00000000000001::float8)$$),
	($$SELECT omni_integration_index('web', '-Infinity'::float8)$$),
	($$SELECT channel_summary('web', 'Infinity'::float8)::text$$),
	($$SELECT channel_summary('web', v)::text FROM (VALUES (1.7976931348623157e308), (1.7976931348623157e308)) t(v)$$),
	-- mixed scales inside one group
	($$SELECT omni_experience_rating('web', 3, 1, hi) FROM (VALUES (5), (7)) v(hi)$$),
	-- empty and 1 MB channel names, 100,000 channels
	($$SELECT omni_experience_rating('', 4)$$),
	($$SELECT omni_experience_rating(repeat('x', 1048576), 4)$$),
	($$SELECT length(channel_summary(repeat('x', 1048576), 4)::text)$$),
	($$SELECT channel_count(channel_summary('c' || g, g % 5 + 1)) FROM generate_series(1, 100000) g$$),
	($$SELECT omni_experience_rating('c' || g, g % 5 + 1) FROM generate_series(1, 100000) g$$),
	($$SELECT channel_count(rollup(s)) FROM (SELECT channel_summary('c' || g, 1) s FROM generate_series(1, 100000) g GROUP BY g % 10) x$$),
	-- models: unknown, mixed case, NULL, the wrong form
	($$SELECT attribution_share('Linear') OVER ()$$),
	($$SELECT attribution_share('LAST_TOUCH') OVER ()$$),
	($$SELECT attribution_share('linear ') OVER ()$$),
	($$SELECT attribution_share('') OVER ()$$),
	($$SELECT attribution_share(NULL) OVER ()$$),
	($$SELECT attribution_share('time_decay') OVER ()$$),
	($$SELECT attribution_share('linear', now(), '1 day') OVER ()$$),
	($$SELECT attribution_share(NULL::float8, 1, 1) OVER ()$$),
	($$SELECT attribution_share(-1, 1, 1) OVER ()$$),
	($$SELECT attribution_share(0, 0, 0) OVER ()$$),
	($$SELECT attribution_share('NaN', 1, 1) OVER ()$$),
	($$SELECT attribution_share(1e308, 1e308, 1e308) OVER ()$$),
	-- half-lives: zero, negative, huge, NULL
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '0 seconds') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '-1 day') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '1 day -24 hours') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '178000000 years') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '1 microsecond') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', NULL::interval) OVER ()$$),
	($$SELECT sum(s) FROM (SELECT attribution_share('time_decay', t, '1 microsecond') OVER () s FROM (VALUES (timestamptz '2026-01-01'), ('1990-01-01')) v(t)) x$$),
	-- infinite and NULL timestamps, touches after the conversion
	($$SELECT attribution_share('time_decay', 'infinity') OVER ()$$),
	($$SELECT attribution_share('time_decay', '-infinity') OVER ()$$),
	($$SELECT attribution_share('time_decay', NULL) OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '7 days', 'infinity') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-02', interval '7 days', timestamptz '2026-01-01') OVER ()$$),
	($$SELECT attribution_share('time_decay', timestamptz '2026-01-01', interval '7 days', NULL) OVER ()$$),
	-- malformed channel_summary text
	($$SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"web":{"n":1,"sum":1,"min":1,"max":1,"avg":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"web":{"n":-5,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"web":{"n":1,"sum":NaN,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"web":{"n":1,"sum":"1","min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":1,"sum":1,"min":1,"max":1},"a":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a\x":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a\u12":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a\u0000":{"n":1,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":1,"sum":1e309,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":9223372036854775808,"sum":1,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":9223372036854775807,"sum":9e18,"min":1,"max":1}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":1,"sum":1,"min":1,"max":1e-400}}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":1,"sum":1,"min":1,"max":1.00000000000000000000000000000000000000000000000000000000000000001}}}'::channel_summary::text$$),
	($$SELECT '{"version":99999999999999999999,"channels":{}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"scale":[1],"channels":{}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"scale":[1,"Infinity"],"channels":{}}'::channel_summary::text$$),
	($$SELECT '{"version":1,"channels":{"a":{"n":1,"sum":1,"min":1,"max":1}}} {}'::channel_summary::text$$),
	($$SELECT repeat('{', 100000)::channel_summary::text$$),
	($$SELECT length(('{"version":1,"channels":{"' || repeat('\\', 1000001) || '":{"n":1,"sum":1,"min":1,"max":1}}}')::channel_summary::text)$$),
	-- KPI view functions
	($$SELECT count(*) FROM omnikpi.create_kpi_views(NULL, orders => 'cases')$$),
	($$SELECT count(*) FROM omnikpi.create_kpi_views('public', orders => 'cases')$$),
	($$SELECT count(*) FROM omnikpi.create_kpi_views('public', orders => NULL)$$),
	($$SELECT count(*) FROM omnikpi.create_kpi_views('public', columns => NULL)$$),
	($$SELECT count(*) FROM omnikpi.create_kpi_views('public', columns => '[1]', orders => 'cases')$$),
	($$SELECT count(*) FROM omnikpi.create_kpi_views('public', columns => '{"orders": {"amount": 5}}', orders => 'cases')$$),
	($$SELECT count(*) FROM omnikpi.drop_kpi_views(NULL)$$),
	($$SELECT count(*) FROM omnikpi.drop_kpi_views('no such schema')$$);

SELECT id, outcome(query) FROM cases ORDER BY id;

-- Still the same server: nothing crashed.
SELECT pg_postmaster_start_time() = :'started' AS same_postmaster;
