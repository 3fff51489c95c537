
-- ---------------------------------------------------------------------------
-- Data-driven attribution per channel and month in the KPI views, next to
-- the rule-based attribution_by_channel_monthly: Markov-chain removal
-- effects, Shapley values and fractribution, each model fitted on one month
-- of journeys (converted and not), with last touch beside it.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_views VALUES
(30, 'attribution_markov_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with a first-order Markov chain (markov_attribution) fitted on the month''s journeys from touchpoints and conversions: a converted journey is the touches up to the conversion, in the month of the conversion; a journey without conversion is all its touches, in the month of its last touch; removal effect = 1 - P(conversion without the channel) / P(conversion), conversions and value shared out in proportion to the removal effects; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a journey without one)',
	   'channel', 'channel',
	   'removal_effect', 'share of the conversion probability lost when the channel is removed from the chain (0 to 1)',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH conversions AS (
	SELECT journey_id, converted_at, value, row_number() OVER () AS conversion
	FROM %1$I.source_conversions),
journeys AS (
	SELECT date_trunc('month', c.converted_at)::date AS month, true AS converted,
		c.value::double precision AS value,
		array_agg(t.channel ORDER BY t.touched_at, t.channel) AS path
	FROM conversions c
	JOIN %1$I.source_touchpoints t ON t.journey_id = c.journey_id AND t.touched_at <= c.converted_at
	GROUP BY c.conversion, c.converted_at, c.value
	UNION ALL
	SELECT date_trunc('month', max(t.touched_at))::date, false, NULL::double precision,
		array_agg(t.channel ORDER BY t.touched_at, t.channel)
	FROM %1$I.source_touchpoints t
	WHERE NOT EXISTS (SELECT 1 FROM %1$I.source_conversions c WHERE c.journey_id = t.journey_id)
	GROUP BY t.journey_id),
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
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$),
(31, 'attribution_shapley_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with exact Shapley values (shapley_attribution) over the month''s journeys from touchpoints and conversions: a converted journey is the touches up to the conversion, in the month of the conversion; a journey without conversion is all its touches, in the month of its last touch; characteristic conversions: v(S) = conversions (value) of the journeys whose channels all lie in S (Zhao et al. 2018), which splits each conversion equally over its distinct channels; characteristic conversion_rate: v(S) = conversion rate of those journeys, scaled to the month''s conversions (months with at most 20 channels); last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a journey without one)',
	   'channel', 'channel',
	   'characteristic', 'the characteristic function: conversions or conversion_rate',
	   'attributed_conversions', 'conversions credited to the channel (negative under conversion_rate when the channel lowers conversion rates)',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH conversions AS (
	SELECT journey_id, converted_at, value, row_number() OVER () AS conversion
	FROM %1$I.source_conversions),
journeys AS (
	SELECT date_trunc('month', c.converted_at)::date AS month, true AS converted,
		c.value::double precision AS value,
		array_agg(t.channel ORDER BY t.touched_at, t.channel) AS path
	FROM conversions c
	JOIN %1$I.source_touchpoints t ON t.journey_id = c.journey_id AND t.touched_at <= c.converted_at
	GROUP BY c.conversion, c.converted_at, c.value
	UNION ALL
	SELECT date_trunc('month', max(t.touched_at))::date, false, NULL::double precision,
		array_agg(t.channel ORDER BY t.touched_at, t.channel)
	FROM %1$I.source_touchpoints t
	WHERE NOT EXISTS (SELECT 1 FROM %1$I.source_conversions c WHERE c.journey_id = t.journey_id)
	GROUP BY t.journey_id),
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
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$),
(32, 'attribution_fractribution_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with Google''s fractribution model (fractribution_attribution) over the month''s journeys from touchpoints and conversions: a converted journey is the touches up to the conversion, in the month of the conversion; a journey without conversion is all its touches, in the month of its last touch; per path, each touch''s marginal = conversion probability of the path - that of the path without the touch (0 if never observed), floored at 0 and normalized, last touch when all are 0; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a journey without one)',
	   'channel', 'channel',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH conversions AS (
	SELECT journey_id, converted_at, value, row_number() OVER () AS conversion
	FROM %1$I.source_conversions),
journeys AS (
	SELECT date_trunc('month', c.converted_at)::date AS month, true AS converted,
		c.value::double precision AS value,
		array_agg(t.channel ORDER BY t.touched_at, t.channel) AS path
	FROM conversions c
	JOIN %1$I.source_touchpoints t ON t.journey_id = c.journey_id AND t.touched_at <= c.converted_at
	GROUP BY c.conversion, c.converted_at, c.value
	UNION ALL
	SELECT date_trunc('month', max(t.touched_at))::date, false, NULL::double precision,
		array_agg(t.channel ORDER BY t.touched_at, t.channel)
	FROM %1$I.source_touchpoints t
	WHERE NOT EXISTS (SELECT 1 FROM %1$I.source_conversions c WHERE c.journey_id = t.journey_id)
	GROUP BY t.journey_id),
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
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$);
