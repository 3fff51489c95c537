
-- ---------------------------------------------------------------------------
-- Data-driven attribution per channel and month in the KPI views, next to
-- the rule-based attribution_by_channel_monthly: Markov-chain removal
-- effects, Shapley values and fractribution, each model fitted on one month
-- of paths (converted and not) from attribution_paths, the journey layer
-- every attribution view reads, with last touch beside it.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_views (position, view_name, sources, description, column_comments, definition,
							   needs_columns, optional_columns) VALUES
(30, 'attribution_markov_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with a first-order Markov chain (markov_attribution) fitted on the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); removal effect = 1 - P(conversion without the channel) / P(conversion), conversions and value shared out in proportion to the removal effects; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'removal_effect', 'share of the conversion probability lost when the channel is removed from the chain (0 to 1)',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.markov_model(path, converted, value) AS model
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.removal_effect, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.conversions / sum(a.conversions) OVER (PARTITION BY m.month) AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL @extschema@.markov_attribution(m.model) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}'),
(31, 'attribution_shapley_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with exact Shapley values (shapley_attribution) over the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); characteristic conversions: v(S) = conversions (value) of the journeys whose channels all lie in S (Zhao et al. 2018), which splits each conversion equally over its distinct channels; characteristic conversion_rate: v(S) = conversion rate of those journeys, scaled to the month''s conversions (months with at most 20 channels); last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'characteristic', 'the characteristic function: conversions or conversion_rate',
	   'attributed_conversions', 'conversions credited to the channel (negative under conversion_rate when the channel lowers conversion rates)',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.journey_paths(path, converted, value) AS paths
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.characteristic, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL (
	SELECT 'conversions' AS characteristic, s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(m.paths, 'conversions') s
	UNION ALL
	SELECT 'conversion_rate', s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(CASE WHEN @extschema@.channel_count(m.paths) <= 20 THEN m.paths END,
										 'conversion_rate') s) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}'),
(32, 'attribution_fractribution_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with Google''s fractribution model (fractribution_attribution) over the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); per path, each touch''s marginal = conversion probability of the path - that of the path without the touch (0 if never observed), floored at 0 and normalized, last touch when all are 0; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.journey_paths(path, converted, value) AS paths
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL @extschema@.fractribution_attribution(m.paths) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}');
