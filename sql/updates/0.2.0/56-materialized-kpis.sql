-- ---------------------------------------------------------------------------
-- Every KPI view in the materialized form: its definition over the summary
-- tables (10-materialized.sql, 12-summary-tables.sql), with the plain
-- view's columns, types and rows.
--
-- Rates are recomputed from summed counts as the plain views' avg() does
-- (numeric sum / numeric count), means as sum / count, ratings from rolled
-- up channel_summary states: never an average of averages.  The order KPIs
-- keep the plain definition, which reads the customer_orders entity table:
-- they are recomputed for the months whose orders changed.  Percentiles
-- (fulfillment) are thus exact: percentile_cont over the month's orders.
-- Template arguments as in 07-kpi-view-definitions.sql.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_materialized_views (view_name, reads, period_column, key_columns, definition) VALUES
('experience_rating_monthly', '{interactions_daily}', 'month', '{month}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	80::double precision AS target_pct,
	coalesce(@extschema@.channel_count(@extschema@.rollup(ratings)), 0) AS channels,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('experience_rating_by_phase_monthly', '{interactions_daily}', 'month', '{month,phase}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, phase,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('experience_rating_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('integration_index_quarterly', '{interactions_daily}', 'quarter', '{quarter}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_index,
	80::double precision AS target,
	coalesce(@extschema@.channel_count(@extschema@.rollup(integration)), 0) AS channels
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('integration_index_by_channel_quarterly', '{interactions_daily}', 'quarter', '{quarter,channel}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter, channel,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_score,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('satisfaction_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	sum(csat_responses)::bigint AS csat_responses,
	sum(csat_sum) / nullif(sum(csat_responses), 0)::double precision AS csat_mean,
	100 * (sum(csat_top2) / nullif(sum(csat_responses), 0))::double precision AS csat_top2_pct,
	sum(ces_responses)::bigint AS ces_responses,
	sum(ces_sum) / nullif(sum(ces_responses), 0)::double precision AS ces_mean,
	sum(nps_responses)::bigint AS nps_responses,
	100 * (sum(promoters) / nullif(sum(nps_responses), 0))::double precision AS promoters_pct,
	100 * (sum(detractors) / nullif(sum(nps_responses), 0))::double precision AS detractors_pct,
	100 * (sum(promoters) / nullif(sum(nps_responses), 0)
		   - sum(detractors) / nullif(sum(nps_responses), 0))::double precision AS nps
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('resolution_by_channel_monthly', '{issue_month_summary}', 'month', '{month,channel}',
 $v$SELECT month, channel, issues, resolved_issues,
	(resolved_issue_contacts::numeric / nullif(resolved_issues, 0))::double precision AS interactions_per_resolved_issue,
	100 * (resolved_first::numeric / issues)::double precision AS first_contact_resolution_pct
FROM %1$I.issue_month_summary$v$),
('channel_switching_monthly', '{journey_month_summary,issue_month_summary}', 'month', '{month}',
 $v$WITH by_issue AS (
	SELECT month, sum(issues) AS issues, sum(switches) AS switches
	FROM %1$I.issue_month_summary
	GROUP BY month)
SELECT month, coalesce(j.journeys, 0) AS journeys,
	(j.switches::numeric / j.journeys)::double precision AS switches_per_journey,
	100 * (j.multichannel_journeys::numeric / j.journeys)::double precision AS multichannel_journey_pct,
	coalesce(i.issues, 0) AS issues,
	(i.switches / i.issues)::double precision AS switches_per_issue,
	(100 * j.carried_switches::numeric / nullif(j.known_switches, 0))::double precision AS context_carried_switch_pct
FROM %1$I.journey_month_summary j
FULL JOIN by_issue i USING (month)$v$),
('channel_transitions_monthly', '{transition_month_summary}', 'month', '{month,from_channel,to_channel}',
 $v$SELECT month, from_channel, to_channel, transitions,
	(100.0 * transitions / sum(transitions) OVER (PARTITION BY month, from_channel))::double precision AS share_pct
FROM %1$I.transition_month_summary$v$),
('journey_funnel_monthly', '{funnel_month_summary}', 'month', '{month,phase}',
 $v$WITH reached AS (
	SELECT f.month, p.phase, p.phase_order::integer AS phase_order,
		coalesce(sum(f.journeys) FILTER (WHERE f.furthest_phase >= p.phase_order), 0) AS journeys,
		sum(f.journeys) AS all_journeys
	FROM %1$I.funnel_month_summary f
	CROSS JOIN unnest(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty']) WITH ORDINALITY AS p(phase, phase_order)
	GROUP BY 1, 2, 3)
SELECT month, phase, phase_order, journeys::bigint AS journeys,
	(100.0 * journeys / all_journeys)::double precision AS reached_pct,
	(100.0 * (lag(journeys) OVER w - journeys) / nullif(lag(journeys) OVER w, 0))::double precision AS dropoff_pct
FROM reached
WINDOW w AS (PARTITION BY month ORDER BY phase_order)$v$),
('engagement_depth', '{customer_retention_summary}', NULL, '{channel_depth}',
 $v$SELECT CASE WHEN cardinality(channels) >= 4 THEN '4+' ELSE cardinality(channels)::text END AS channel_depth,
	sum(customers)::bigint AS customers,
	100 * (sum(retained_customers) / sum(customers))::double precision AS retained_pct,
	100 * ((sum(customers) - sum(retained_customers)) / sum(customers))::double precision AS churned_pct,
	(sum(revenue) / sum(customers))::double precision AS revenue_per_customer
FROM %1$I.customer_retention_summary
GROUP BY 1$v$),
('churn_retention_monthly', '{customer_month_summary,customer_profiles}', NULL, '{month}',
 -- months after the last month of the data are not shown, as the plain
 -- view does not count activity past it
 $v$WITH data_end AS (
	SELECT date_trunc('month', max(last_at) AT TIME ZONE %8$L)::date AS last_month FROM %1$I.customer_profiles)
SELECT m.month, m.active_customers, m.new_customers, m.retained_customers, m.churned_customers,
	(100.0 * m.retained_customers / p.active_customers)::double precision AS retention_rate_pct,
	(100.0 * m.churned_customers / p.active_customers)::double precision AS churn_rate_pct
FROM %1$I.customer_month_summary m
CROSS JOIN data_end e
LEFT JOIN %1$I.customer_month_summary p ON p.month = (m.month - interval '1 month')::date AND p.active_customers > 0
WHERE m.active_customers > 0 AND m.month <= e.last_month$v$),
('conversion_by_channel_monthly', '{path_channel_summary}', 'month', '{month,channel}',
 $v$SELECT month, channel, paths AS journeys, converted_paths AS converted_journeys,
	(100.0 * converted_paths / paths)::double precision AS conversion_rate_pct
FROM %1$I.path_channel_summary$v$),
('attribution_by_channel_monthly', '{credit_month_summary,touchpoints_daily}', 'month', '{month,channel,model}',
 $v$WITH costs AS (
	SELECT date_trunc('month', day::timestamp)::date AS month, channel, sum(cost) AS touch_cost
	FROM %1$I.touchpoints_daily
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.model, c.attributed_conversions,
	CASE WHEN c.valued_touches > 0 THEN c.attributed_value END AS attributed_value,
	k.touch_cost, k.touch_cost / nullif(c.attributed_conversions, 0) AS cost_per_acquisition
FROM %1$I.credit_month_summary c
LEFT JOIN costs k USING (month, channel)$v$),
('ropo_monthly', '{customer_orders}', 'month', '{month}', NULL),
('fulfillment_by_channel_monthly', '{customer_orders}', 'month', '{month,channel}', NULL),
('returns_by_channel_monthly', '{customer_orders}', 'month', '{month,channel}', NULL),
('retention_by_channel_combination', '{customer_retention_summary}', NULL, '{channel_combination}',
 $v$SELECT array_to_string(channels, '+') AS channel_combination, cardinality(channels) AS channel_count,
	customers,
	100 * (retained_customers::numeric / customers)::double precision AS retained_pct,
	100 * ((customers - retained_customers)::numeric / customers)::double precision AS churned_pct,
	(revenue / customers)::double precision AS revenue_per_customer
FROM %1$I.customer_retention_summary$v$),
('customer_lifetime_value', '{customer_segment_summary}', NULL, '{acquisition_channel,channel_depth}',
 $v$SELECT acquisition_channel, CASE WHEN cardinality(channels) >= 4 THEN '4+' ELSE cardinality(channels)::text END AS channel_depth,
	sum(customers)::bigint AS customers,
	sum(orders)::bigint AS orders,
	sum(revenue) AS revenue,
	(sum(revenue) / sum(customers))::double precision AS revenue_per_customer,
	(sum(revenue) / sum(contact_months))::double precision AS revenue_per_active_month
FROM %1$I.customer_segment_summary
GROUP BY 1, 2$v$),
('time_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	sum(interactions)::bigint AS interactions,
	sum(timed_interactions)::bigint AS timed_interactions,
	(sum(duration_sum) / 3600)::double precision AS total_hours,
	(sum(duration_sum) / 60 / nullif(sum(timed_interactions), 0))::double precision AS mean_minutes
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('attribution_markov_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel}',
 $v$SELECT m.month, a.channel, a.removal_effect, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.conversions / sum(a.conversions) OVER (PARTITION BY m.month) AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL @extschema@.markov_attribution(m.markov) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$),
('attribution_shapley_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel,characteristic}',
 $v$SELECT m.month, a.channel, a.characteristic, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL (
	SELECT 'conversions' AS characteristic, s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(m.paths, 'conversions') s
	UNION ALL
	SELECT 'conversion_rate', s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(CASE WHEN @extschema@.channel_count(m.paths) <= 20 THEN m.paths END,
										 'conversion_rate') s) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$),
('attribution_fractribution_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel}',
 $v$SELECT m.month, a.channel, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL @extschema@.fractribution_attribution(m.paths) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$);
