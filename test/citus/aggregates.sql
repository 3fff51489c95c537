-- test/citus/aggregates.sql: every omnikpi aggregate, its rollup and
-- attribution_share over the distributed tables give the local tables'
-- results, and Citus runs each the way docs/scale-out.md says: grouped by
-- anything but the distribution column, as worker partials (the state type
-- travels from the workers and the combine function merges it on the
-- coordinator); grouped or partitioned by the distribution column, entirely
-- on the workers (full pushdown).  In each query %1$I is the source schema;
-- its view journeys (test/citus/data.sql) builds one path per journey, grouped
-- by journey and so pushed down whole.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TEMP TABLE aggregate_checks (name text PRIMARY KEY, function_name text, promise text, query text);
INSERT INTO aggregate_checks VALUES
('omni_experience_rating by month', 'omni_experience_rating', 'worker partials',
 $q$SELECT date_trunc('month', occurred_at) AS month, omni_experience_rating(channel, satisfaction)
	FROM %1$I.interactions GROUP BY 1$q$),
('omni_experience_rating on a scale, whole table', 'omni_experience_rating', 'worker partials',
 $q$SELECT omni_experience_rating(channel, satisfaction, 0, 10) FROM %1$I.interactions$q$),
('omni_experience_rating by customer', 'omni_experience_rating', 'full pushdown',
 $q$SELECT customer_id, omni_experience_rating(channel, satisfaction) FROM %1$I.interactions GROUP BY 1$q$),
('omni_experience_rating sliding over a customer''s contacts', 'omni_experience_rating', 'full pushdown',
 $q$SELECT interaction_id, omni_experience_rating(channel, satisfaction)
		OVER (PARTITION BY customer_id ORDER BY occurred_at, interaction_id ROWS 4 PRECEDING)
	FROM %1$I.interactions$q$),
('omni_integration_index (flag) by quarter', 'omni_integration_index', 'worker partials',
 $q$SELECT date_trunc('quarter', occurred_at) AS quarter, omni_integration_index(channel, context_carried)
	FROM %1$I.interactions GROUP BY 1$q$),
('omni_integration_index (score) by phase', 'omni_integration_index', 'worker partials',
 $q$SELECT phase, omni_integration_index(channel, CASE WHEN context_carried THEN 100 ELSE 25 END::double precision)
	FROM %1$I.interactions GROUP BY 1$q$),
('channel_summary (value) by month', 'channel_summary', 'worker partials',
 $q$SELECT date_trunc('month', occurred_at) AS month, channel_summary(channel, satisfaction)
	FROM %1$I.interactions GROUP BY 1$q$),
('channel_summary (flag) by phase', 'channel_summary', 'worker partials',
 $q$SELECT phase, channel_summary(channel, resolved) FROM %1$I.interactions GROUP BY 1$q$),
('rollup of per-customer channel_summary states by month', 'rollup', 'worker partials',
 $q$SELECT month, rollup(ratings), experience_rating(rollup(ratings))
	FROM (SELECT customer_id, date_trunc('month', occurred_at) AS month, channel_summary(channel, satisfaction) AS ratings
		  FROM %1$I.interactions GROUP BY 1, 2) s
	GROUP BY 1$q$),
('markov_model by month, attributed', 'markov_model', 'worker partials',
 $q$SELECT month, a.*
	FROM (SELECT month, markov_model(path, converted, value) AS model
		  FROM %1$I.journeys j
		  GROUP BY month) m
	CROSS JOIN LATERAL markov_attribution(model) a$q$),
('markov_model of order 2, whole table', 'markov_model', 'worker partials',
 $q$SELECT a.*
	FROM (SELECT markov_model(path, converted, value, 2) AS model
		  FROM %1$I.journeys j) m
	CROSS JOIN LATERAL markov_attribution(model) a$q$),
('rollup of per-journey markov_model states by month', 'rollup', 'worker partials',
 $q$SELECT month, a.*
	FROM (SELECT month, rollup(model) AS model
		  FROM (SELECT t.journey_id, date_trunc('month', max(t.touched_at)) AS month,
					markov_model(ARRAY[t.channel], false) AS model
				FROM %1$I.touchpoints t GROUP BY t.journey_id) j
		  GROUP BY month) m
	CROSS JOIN LATERAL transitions(model) a$q$),
('journey_paths by month, Shapley and fractribution', 'journey_paths', 'worker partials',
 $q$SELECT month, a.model, a.channel, a.conversions, a.value, a.share
	FROM (SELECT month, journey_paths(path, converted, value) AS paths
		  FROM %1$I.journeys j
		  GROUP BY month) m
	CROSS JOIN LATERAL (
		SELECT 'shapley conversions' AS model, s.channel, s.conversions, s.value, s.share
		FROM shapley_attribution(paths, 'conversions') s
		UNION ALL
		SELECT 'shapley conversion_rate', s.channel, s.conversions, s.value, s.share
		FROM shapley_attribution(paths, 'conversion_rate') s
		UNION ALL
		SELECT 'fractribution', f.channel, f.conversions, f.value, f.share
		FROM fractribution_attribution(paths) f) a$q$),
('rollup of per-journey journey_paths states, whole table', 'rollup', 'worker partials',
 $q$SELECT p.*
	FROM (SELECT rollup(paths) AS paths
		  FROM (SELECT journey_id, journey_paths(ARRAY[channel], true, 1) AS paths
				FROM %1$I.touchpoints GROUP BY journey_id) j) m
	CROSS JOIN LATERAL paths(m.paths) p$q$),
('attribution_share by model per channel', 'attribution_share', 'full pushdown',
 $q$SELECT model, channel, sum(share) AS conversions, sum(share * value) AS value
	FROM (SELECT m.model, t.channel, c.value,
			  attribution_share(m.model) OVER (PARTITION BY t.journey_id, m.model ORDER BY t.touched_at, t.touch_id) AS share
		  FROM %1$I.touchpoints t
		  JOIN %1$I.conversions c ON c.journey_id = t.journey_id AND t.touched_at <= c.converted_at
		  CROSS JOIN unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based']) AS m(model)) s
	GROUP BY 1, 2$q$),
('attribution_share with weights and time decay', 'attribution_share', 'full pushdown',
 $q$SELECT t.touch_id,
		attribution_share(0.3, 0.2, 0.5) OVER w AS weighted,
		attribution_share('time_decay', t.touched_at, interval '3 days', c.converted_at) OVER w AS decayed
	FROM %1$I.touchpoints t
	JOIN %1$I.conversions c ON c.journey_id = t.journey_id AND t.touched_at <= c.converted_at
	WINDOW w AS (PARTITION BY t.journey_id ORDER BY t.touched_at, t.touch_id)$q$);

CREATE TEMP TABLE aggregate_results AS
SELECT name, promise, pg_temp.pushdown(format(query, 'src_dist'), function_name) AS runs_as,
	pg_temp.rows_differences(format(query, 'src_local'), format(query, 'src_dist')) AS differences
FROM aggregate_checks;

SELECT name, promise, runs_as, coalesce(differences, 'same rows') AS result
FROM aggregate_results ORDER BY name;

DO $$
DECLARE
	failures text;
BEGIN
	SELECT string_agg(format('%s: %s', name,
							 concat_ws('; ', CASE WHEN runs_as <> promise THEN format('runs as %s, not %s', runs_as, promise) END,
									   differences)), E'\n')
	INTO failures
	FROM aggregate_results WHERE runs_as <> promise OR differences IS NOT NULL;
	IF failures IS NOT NULL THEN
		RAISE EXCEPTION E'aggregates differ between local and distributed tables, or run otherwise than promised:\n%', failures;
	END IF;
END
$$;
