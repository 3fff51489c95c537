-- ---------------------------------------------------------------------------
-- The KPI views over the normalized layer (05-source-contract.sql,
-- 06-journey-layer.sql).
--
-- Every day, month and quarter is cut in the time zone given to
-- create_kpi_views, written into the view as a literal (%8$L), and every
-- window (ROPO, 90 days of activity) counts calendar days in that zone: the
-- same rows give the same months whatever the zone of the session that
-- reads or refreshes, and on Citus whatever the workers' zone.  A KPI over
-- journeys, issues, customers, orders or conversion paths reads its layer
-- view (06-journey-layer.sql, 09-entity-layer.sql), never the sources.
--
-- Template arguments: %1$I the target schema, %2$L the ROPO window, %3$L the
-- store channels, %4$L the online channels, %5$L and %6$L the rating scale,
-- %7$L the time-decay half life, %8$L the time zone, %9$L lookback, %10$L
-- max_touches, %11$L exclude_channels, %12$L journey_gap.
--
-- needs_columns: the optional source columns (source.column) without which
-- the view is not created; optional_columns: those it reads when present
-- (its columns from them are empty otherwise, and create_kpi_views says so).
-- ---------------------------------------------------------------------------

ALTER TABLE omnikpi.kpi_views
	ADD COLUMN needs_columns text[] NOT NULL DEFAULT '{}',
	ADD COLUMN optional_columns text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN omnikpi.kpi_views.needs_columns IS
	'optional source columns (source.column) the view cannot do without: it is not created when one is absent';
COMMENT ON COLUMN omnikpi.kpi_views.optional_columns IS
	'optional source columns (source.column) the view reads when present; the columns computed from an absent one are empty';

-- The 0.1.0 definitions cut days in the reading session's zone; all are
-- replaced.
DELETE FROM omnikpi.kpi_views;

INSERT INTO omnikpi.kpi_views (position, view_name, sources, description, column_comments, definition,
							   needs_columns, optional_columns) VALUES
(1, 'experience_rating_monthly', '{interactions}',
 'Omnichannel Experience Rating per month: the unweighted mean over channels of each channel''s mean satisfaction, in percent of the rating scale (omni_experience_rating); target above 80%',
 ARRAY['month', 'first day of the month',
	   'rating_pct', 'omnichannel experience rating in percent (0 to 100)',
	   'target_pct', 'the usual target, 80%',
	   'channels', 'channels with at least one rating',
	   'interactions', 'contacts in the month, rated or not'],
 $v$SELECT date_trunc('month', occurred_at AT TIME ZONE %8$L)::date AS month,
	@extschema@.experience_rating(@extschema@.channel_summary(channel, satisfaction), %5$L::double precision, %6$L::double precision) AS rating_pct,
	80::double precision AS target_pct,
	coalesce(@extschema@.channel_count(@extschema@.channel_summary(channel, satisfaction)), 0) AS channels,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1$v$,
 '{interactions.satisfaction}', '{}'),
(2, 'experience_rating_by_phase_monthly', '{interactions}',
 'Omnichannel Experience Rating per month and journey phase, in percent of the rating scale; target above 80%',
 ARRAY['month', 'first day of the month',
	   'phase', 'journey phase',
	   'rating_pct', 'omnichannel experience rating in percent (0 to 100) within the phase',
	   'interactions', 'contacts in the month and phase'],
 $v$SELECT date_trunc('month', occurred_at AT TIME ZONE %8$L)::date AS month, phase,
	@extschema@.omni_experience_rating(channel, satisfaction, %5$L::double precision, %6$L::double precision) AS rating_pct,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$,
 '{interactions.satisfaction,interactions.phase}', '{}'),
(3, 'experience_rating_by_channel_monthly', '{interactions}',
 'Experience rating of each channel per month: its mean satisfaction in percent of the rating scale',
 ARRAY['month', 'first day of the month',
	   'channel', 'channel',
	   'rating_pct', 'mean satisfaction of the channel in percent of the rating scale (0 to 100)',
	   'interactions', 'contacts on the channel in the month'],
 $v$SELECT date_trunc('month', occurred_at AT TIME ZONE %8$L)::date AS month, channel,
	@extschema@.omni_experience_rating(channel, satisfaction, %5$L::double precision, %6$L::double precision) AS rating_pct,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$,
 '{interactions.satisfaction}', '{}'),
(4, 'integration_index_quarterly', '{interactions}',
 'Omnichannel Integration Index per quarter: sum over channels of the percentage of contacts where the customer''s context was carried over, divided by the number of channels (omni_integration_index), 0 to 100; target above 80',
 ARRAY['quarter', 'first day of the quarter',
	   'integration_index', 'omnichannel integration index, 0 to 100',
	   'target', 'the usual target, 80',
	   'channels', 'channels with at least one contact'],
 $v$SELECT date_trunc('quarter', occurred_at AT TIME ZONE %8$L)::date AS quarter,
	@extschema@.integration_index(@extschema@.channel_summary(channel, context_carried)) AS integration_index,
	80::double precision AS target,
	coalesce(@extschema@.channel_count(@extschema@.channel_summary(channel, context_carried)), 0) AS channels
FROM %1$I.source_interactions
GROUP BY 1$v$,
 '{interactions.context_carried}', '{}'),
(5, 'integration_index_by_channel_quarterly', '{interactions}',
 'Integration score of each channel per quarter: the percentage of its contacts where the customer''s context was carried over',
 ARRAY['quarter', 'first day of the quarter',
	   'channel', 'channel',
	   'integration_score', 'percentage of the channel''s contacts with the context carried over, 0 to 100',
	   'interactions', 'contacts on the channel in the quarter'],
 $v$SELECT date_trunc('quarter', occurred_at AT TIME ZONE %8$L)::date AS quarter, channel,
	@extschema@.omni_integration_index(channel, context_carried) AS integration_score,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$,
 '{interactions.context_carried}', '{}'),
(6, 'satisfaction_by_channel_monthly', '{interactions}',
 'CSAT, CES and NPS of each channel per month: CSAT mean and top-2-box share (the two highest points of the rating scale), mean customer effort (lower is better), and NPS = % promoters (9-10) - % detractors (0-6), from -100 to 100',
 ARRAY['month', 'first day of the month',
	   'channel', 'channel',
	   'csat_responses', 'contacts with a satisfaction rating',
	   'csat_mean', 'mean satisfaction on the rating scale',
	   'csat_top2_pct', 'percentage of ratings in the two highest points of the scale',
	   'ces_responses', 'contacts with an effort score',
	   'ces_mean', 'mean customer effort score (lower is better)',
	   'nps_responses', 'contacts with a likelihood-to-recommend answer',
	   'promoters_pct', 'percentage of answers 9 or 10',
	   'detractors_pct', 'percentage of answers 0 to 6',
	   'nps', 'net promoter score, promoters_pct - detractors_pct, -100 to 100'],
 $v$SELECT date_trunc('month', occurred_at AT TIME ZONE %8$L)::date AS month, channel,
	count(satisfaction) AS csat_responses,
	avg(satisfaction) AS csat_mean,
	100 * avg((satisfaction >= %6$L::double precision - 1)::integer)::double precision AS csat_top2_pct,
	count(effort) AS ces_responses,
	avg(effort) AS ces_mean,
	count(nps) AS nps_responses,
	100 * avg((nps >= 9)::integer)::double precision AS promoters_pct,
	100 * avg((nps <= 6)::integer)::double precision AS detractors_pct,
	100 * (avg((nps >= 9)::integer) - avg((nps <= 6)::integer))::double precision AS nps
FROM %1$I.source_interactions
GROUP BY 1, 2$v$,
 '{interactions.satisfaction}', '{interactions.effort,interactions.nps}'),
(7, 'resolution_by_channel_monthly', '{interactions}',
 'Service issues per month and channel of their first contact: interactions needed per resolved issue, and first-contact resolution rate (issues resolved by their first contact); issues from interaction_issues',
 ARRAY['month', 'first day of the month the issue was opened',
	   'channel', 'channel of the issue''s first contact',
	   'issues', 'issues opened',
	   'resolved_issues', 'issues resolved by any of their contacts',
	   'interactions_per_resolved_issue', 'mean number of contacts of a resolved issue',
	   'first_contact_resolution_pct', 'percentage of issues resolved by their first contact'],
 $v$SELECT month, channel,
	count(*) AS issues,
	count(*) FILTER (WHERE resolved) AS resolved_issues,
	(avg(contacts) FILTER (WHERE resolved))::double precision AS interactions_per_resolved_issue,
	100 * avg(resolved_first::integer)::double precision AS first_contact_resolution_pct
FROM %1$I.interaction_issues
GROUP BY 1, 2$v$,
 '{interactions.issue_id,interactions.resolved}', '{}'),
(8, 'channel_switching_monthly', '{interactions}',
 'Channel switching per month (of a journey''s or issue''s first contact): switches (consecutive contacts on different channels) per journey and per issue, share of journeys using 2 or more channels, and share of switches where the new channel had the customer''s context; journeys from interaction_journeys, issues from interaction_issues',
 ARRAY['month', 'first day of the month',
	   'journeys', 'journeys started in the month',
	   'switches_per_journey', 'mean number of channel switches per journey',
	   'multichannel_journey_pct', 'percentage of journeys using 2 or more channels',
	   'issues', 'issues opened in the month',
	   'switches_per_issue', 'mean number of channel switches per issue',
	   'context_carried_switch_pct', 'percentage of switches within journeys where the new channel had the context (of those where it is known)'],
 $v$WITH by_journey AS (
	SELECT j.month, count(*) AS journeys, avg(s.switches)::double precision AS switches_per_journey,
		100 * avg((s.distinct_channels >= 2)::integer)::double precision AS multichannel_journey_pct,
		sum(s.known_switches) AS known, sum(s.carried_switches) AS carried
	FROM %1$I.interaction_journeys j
	CROSS JOIN LATERAL omnikpi.journey_switches(j.channels, j.context_carried) s
	GROUP BY j.month),
by_issue AS (
	SELECT month, count(*) AS issues, avg(switches)::double precision AS switches_per_issue
	FROM %1$I.interaction_issues GROUP BY month)
SELECT month, coalesce(journeys, 0) AS journeys, switches_per_journey, multichannel_journey_pct,
	coalesce(issues, 0) AS issues, switches_per_issue,
	(100 * carried / nullif(known, 0))::double precision AS context_carried_switch_pct
FROM by_journey FULL JOIN by_issue USING (month)$v$,
 '{}', '{interactions.issue_id,interactions.context_carried}'),
(9, 'channel_transitions_monthly', '{interactions}',
 'Channel transition matrix per month for journey heat maps: how often a journey''s next contact is on to_channel after a contact on from_channel (staying on a channel included); journeys from interaction_journeys',
 ARRAY['month', 'first day of the month of the later contact',
	   'from_channel', 'channel of the earlier contact',
	   'to_channel', 'channel of the next contact in the same journey',
	   'transitions', 'number of such consecutive pairs',
	   'share_pct', 'percentage of the transitions out of from_channel in the month that go to to_channel'],
 $v$WITH steps AS (
	SELECT date_trunc('month', s.occurred_at AT TIME ZONE %8$L)::date AS month, s.from_channel, s.to_channel
	FROM %1$I.interaction_journeys j
	CROSS JOIN LATERAL unnest(j.channels[:cardinality(j.channels) - 1], j.channels[2:], j.contact_times[2:])
		AS s(from_channel, to_channel, occurred_at))
SELECT month, from_channel, to_channel,
	count(*) AS transitions,
	(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY month, from_channel))::double precision AS share_pct
FROM steps
GROUP BY 1, 2, 3$v$,
 '{}', '{}'),
(10, 'journey_funnel_monthly', '{interactions}',
 'Journey funnel per month (of the journey''s first contact): journeys reaching each phase (a contact in that phase or a later one, in the order awareness, consideration, decision, service, loyalty) and the drop-off from the previous phase; journeys from interaction_journeys',
 ARRAY['month', 'first day of the month the journey started',
	   'phase', 'journey phase',
	   'phase_order', 'position of the phase, 1 (awareness) to 5 (loyalty)',
	   'journeys', 'journeys that reached the phase',
	   'reached_pct', 'percentage of the month''s journeys that reached the phase',
	   'dropoff_pct', 'percentage of the journeys that reached the previous phase but not this one'],
 $v$WITH journeys AS (
	SELECT j.month,
		(SELECT max(array_position(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'], p))
		 FROM unnest(j.phases) AS p) AS furthest
	FROM %1$I.interaction_journeys j),
reached AS (
	SELECT j.month, p.phase, p.phase_order::integer AS phase_order,
		count(*) FILTER (WHERE j.furthest >= p.phase_order) AS journeys,
		count(*) AS all_journeys
	FROM journeys j
	CROSS JOIN unnest(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty']) WITH ORDINALITY AS p(phase, phase_order)
	GROUP BY 1, 2, 3)
SELECT month, phase, phase_order, journeys,
	(100.0 * journeys / all_journeys)::double precision AS reached_pct,
	(100.0 * (lag(journeys) OVER w - journeys) / nullif(lag(journeys) OVER w, 0))::double precision AS dropoff_pct
FROM reached
WINDOW w AS (PARTITION BY month ORDER BY phase_order)$v$,
 '{interactions.phase}', '{}'),
(11, 'engagement_depth', '{interactions,orders}',
 'Customers by engagement depth (number of channels they used: 1, 2, 3, 4+) with retention, churn and revenue per customer; a customer is retained when active (any contact) in the 90 days before the latest contact in the data, else churned; customers from customer_profiles',
 ARRAY['channel_depth', 'number of channels the customer used: 1, 2, 3 or 4+',
	   'customers', 'customers with that depth',
	   'retained_pct', 'percentage active in the last 90 days of the data',
	   'churned_pct', 'percentage not active in the last 90 days of the data',
	   'revenue_per_customer', 'order amount per customer, all time'],
 $v$WITH data_end AS (
	SELECT ((max(occurred_at) AT TIME ZONE %8$L) - interval '90 days') AT TIME ZONE %8$L AS active_since
	FROM %1$I.source_interactions)
SELECT CASE WHEN c.channel_count >= 4 THEN '4+' ELSE c.channel_count::text END AS channel_depth,
	count(*) AS customers,
	100 * avg((c.last_at > e.active_since)::integer)::double precision AS retained_pct,
	100 * avg((c.last_at <= e.active_since)::integer)::double precision AS churned_pct,
	(sum(coalesce(c.revenue, 0)) / count(*))::double precision AS revenue_per_customer
FROM %1$I.customer_profiles c CROSS JOIN data_end e
GROUP BY 1$v$,
 '{orders.amount}', '{}'),
(12, 'churn_retention_monthly', '{interactions}',
 'Customer churn and retention per month: a customer is active in a month when they had a contact in the 90 days up to the month''s end (the definition engagement_depth uses); retained = active this month and the previous one, churned = active the previous month but not this one; rates are relative to the previous month''s active customers',
 ARRAY['month', 'first day of the month',
	   'active_customers', 'customers with a contact in the 90 days up to the month''s end',
	   'new_customers', 'active customers never active before',
	   'retained_customers', 'customers active this month and the previous one',
	   'churned_customers', 'customers active the previous month but not this one',
	   'retention_rate_pct', 'retained customers in percent of the previous month''s active customers',
	   'churn_rate_pct', 'churned customers in percent of the previous month''s active customers'],
 $v$WITH data_end AS (
	-- the latest contact of a customer, read from the contacts rather than
	-- from a second computation of every profile
	SELECT date_trunc('month', max(occurred_at) AT TIME ZONE %8$L)::date AS last_month
	FROM %1$I.source_interactions
	WHERE customer_id IS NOT NULL),
marked AS (
	-- the customer's active months, with the one before and after each
	SELECT m.month, c.active_months[m.n - 1] AS previous_month, c.active_months[m.n + 1] AS next_month
	FROM %1$I.customer_profiles c
	CROSS JOIN LATERAL unnest(c.active_months) WITH ORDINALITY AS m(month, n)),
per_month AS (
	-- activity after the data's last month does not count yet; a customer
	-- active this month but not the next churns in the next
	SELECT month, count(*) AS active_customers,
		count(*) FILTER (WHERE previous_month IS NULL) AS new_customers,
		count(*) FILTER (WHERE previous_month = (month - interval '1 month')::date) AS retained_customers,
		count(*) FILTER (WHERE next_month IS DISTINCT FROM (month + interval '1 month')::date) AS churning_customers
	FROM marked CROSS JOIN data_end
	WHERE month <= last_month
	GROUP BY month),
with_previous AS (
	-- the previous month's row, when that month had active customers: marked
	-- and per_month are read once, so that on Citus the per-customer part
	-- runs on the workers and only one row per month reaches the coordinator
	SELECT month, active_customers, new_customers, retained_customers,
		CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(active_customers) OVER w END AS previous_active,
		CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(churning_customers) OVER w END AS churned_customers
	FROM per_month
	WINDOW w AS (ORDER BY month))
SELECT month, active_customers, new_customers, retained_customers,
	coalesce(churned_customers, 0) AS churned_customers,
	(100.0 * retained_customers / previous_active)::double precision AS retention_rate_pct,
	(100.0 * coalesce(churned_customers, 0) / previous_active)::double precision AS churn_rate_pct
FROM with_previous$v$,
 '{}', '{}'),
(13, 'conversion_by_channel_monthly', '{touchpoints,conversions}',
 'Conversion rate per channel and month (of the path''s first touch): of the paths (from attribution_paths: a conversion with the touches that led to it, or touches that led to none) that touched the channel, the percentage that converted',
 ARRAY['month', 'first day of the month of the path''s first touch',
	   'channel', 'channel',
	   'journeys', 'paths with a touch on the channel',
	   'converted_journeys', 'of those, paths that end in a conversion',
	   'conversion_rate_pct', 'converted_journeys in percent of journeys'],
 $v$SELECT date_trunc('month', p.touch_times[1] AT TIME ZONE %8$L)::date AS month, c.channel,
	count(*) AS journeys,
	count(*) FILTER (WHERE p.converted) AS converted_journeys,
	(100.0 * count(*) FILTER (WHERE p.converted) / count(*))::double precision AS conversion_rate_pct
FROM %1$I.attribution_paths p
CROSS JOIN LATERAL (SELECT DISTINCT u.channel FROM unnest(p.channels) AS u(channel)) c
GROUP BY 1, 2$v$,
 '{}', '{}'),
(14, 'attribution_by_channel_monthly', '{touchpoints,conversions}',
 'Multi-touch attribution per channel, month (of the conversion) and model (first_touch, last_touch, linear, position_based, j_curve, inverse_j, time_decay): conversions and value credited to the channel by attribution_share over each conversion''s path (attribution_paths), and pathway cost per acquisition = touch cost / attributed conversions',
 ARRAY['month', 'first day of the month of the conversion (of the touches, for touch_cost)',
	   'channel', 'channel',
	   'model', 'attribution model',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'touch_cost', 'cost of all the channel''s touches in the month',
	   'cost_per_acquisition', 'touch_cost / attributed_conversions'],
 $v$WITH touches AS NOT MATERIALIZED (
	SELECT p.customer_id, p.journey_id, p.cycle, p.month, p.converted_at, p.value, u.channel, u.touched_at, u.n
	FROM %1$I.attribution_paths p
	CROSS JOIN LATERAL unnest(p.channels, p.touch_times) WITH ORDINALITY AS u(channel, touched_at, n)
	WHERE p.converted),
shares AS (
	SELECT m.model, t.month, t.channel, t.value,
		@extschema@.attribution_share(m.model) OVER (PARTITION BY m.model, t.customer_id, t.journey_id, t.cycle ORDER BY t.n) AS share
	FROM touches t
	CROSS JOIN unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'j_curve', 'inverse_j']) AS m(model)
	UNION ALL
	SELECT 'time_decay', month, channel, value,
		@extschema@.attribution_share('time_decay', touched_at, %7$L::interval, converted_at)
			OVER (PARTITION BY customer_id, journey_id, cycle ORDER BY n)
	FROM touches),
credited AS (
	SELECT month, channel, model, sum(share) AS attributed_conversions, sum(share * value) AS attributed_value
	FROM shares GROUP BY 1, 2, 3),
costs AS (
	SELECT date_trunc('month', touched_at AT TIME ZONE %8$L)::date AS month, channel, sum(cost) AS touch_cost
	FROM %1$I.source_touchpoints GROUP BY 1, 2)
SELECT month, channel, model, attributed_conversions, attributed_value, touch_cost,
	touch_cost / nullif(attributed_conversions, 0) AS cost_per_acquisition
FROM credited LEFT JOIN costs USING (month, channel)$v$,
 '{}', '{touchpoints.cost,conversions.value}'),
(15, 'ropo_monthly', '{interactions,orders}',
 'ROPO (research online, purchase offline) per month: share of store purchases preceded by a contact of the same customer on an online channel within the ROPO window, and the reverse, showrooming: share of online purchases preceded by a store contact',
 ARRAY['month', 'first day of the month of the purchase',
	   'store_purchases', 'orders on a store channel',
	   'researched_online', 'of those, orders preceded by an online contact within the window',
	   'ropo_pct', 'researched_online in percent of store_purchases',
	   'online_purchases', 'orders on an online channel',
	   'showroomed', 'of those, orders preceded by a store contact within the window',
	   'showrooming_pct', 'showroomed in percent of online_purchases'],
 $v$SELECT month,
	count(*) FILTER (WHERE in_store) AS store_purchases,
	count(*) FILTER (WHERE in_store AND preceded_by_other_side) AS researched_online,
	(100.0 * count(*) FILTER (WHERE in_store AND preceded_by_other_side) / nullif(count(*) FILTER (WHERE in_store), 0))::double precision AS ropo_pct,
	count(*) FILTER (WHERE NOT in_store) AS online_purchases,
	count(*) FILTER (WHERE NOT in_store AND preceded_by_other_side) AS showroomed,
	(100.0 * count(*) FILTER (WHERE NOT in_store AND preceded_by_other_side) / nullif(count(*) FILTER (WHERE NOT in_store), 0))::double precision AS showrooming_pct
FROM %1$I.customer_orders
WHERE in_store IS NOT NULL
GROUP BY month$v$,
 '{}', '{}'),
(16, 'fulfillment_by_channel_monthly', '{orders}',
 'Fulfillment per purchase channel and month: BOPIS share of orders (fulfillment bopis, click_and_collect or what the translations make bopis), click-to-collect time (ordered to ready for pickup) median and 90th percentile in hours, and pickup wait (ready to collected) median in hours',
 ARRAY['month', 'first day of the month of the order',
	   'channel', 'purchase channel',
	   'orders', 'orders',
	   'bopis_orders', 'orders for pickup in store (bopis)',
	   'bopis_share_pct', 'bopis_orders in percent of orders',
	   'click_to_collect_median_hours', 'median hours from order to ready for pickup',
	   'click_to_collect_p90_hours', '90th percentile of the hours from order to ready for pickup',
	   'pickup_wait_median_hours', 'median hours from ready to collected'],
 $v$WITH classified AS (
	SELECT month, channel, fulfillment = 'bopis' AS bopis, ready_hours, wait_hours
	FROM %1$I.customer_orders)
SELECT month, channel, count(*) AS orders,
	count(*) FILTER (WHERE bopis) AS bopis_orders,
	(100.0 * count(*) FILTER (WHERE bopis) / count(*))::double precision AS bopis_share_pct,
	(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours) FILTER (WHERE bopis))::double precision AS click_to_collect_median_hours,
	(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours) FILTER (WHERE bopis))::double precision AS click_to_collect_p90_hours,
	(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours) FILTER (WHERE bopis))::double precision AS pickup_wait_median_hours
FROM classified
GROUP BY 1, 2$v$,
 '{orders.fulfillment}', '{orders.ready_at,orders.collected_at}'),
(17, 'returns_by_channel_monthly', '{orders}',
 'Returns per purchase channel and month (of the order): return rate, and cross-channel return rate (bought on one channel, returned on another)',
 ARRAY['month', 'first day of the month of the order',
	   'channel', 'purchase channel',
	   'orders', 'orders',
	   'returns', 'orders returned',
	   'cross_channel_returns', 'orders returned on a channel other than the purchase channel',
	   'return_rate_pct', 'returns in percent of orders',
	   'cross_channel_return_rate_pct', 'cross_channel_returns in percent of orders',
	   'cross_channel_share_of_returns_pct', 'cross_channel_returns in percent of returns'],
 $v$SELECT month, channel,
	count(*) AS orders,
	count(returned_at) AS returns,
	count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) AS cross_channel_returns,
	(100.0 * count(returned_at) / count(*))::double precision AS return_rate_pct,
	(100.0 * count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) / count(*))::double precision AS cross_channel_return_rate_pct,
	(100.0 * count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) / nullif(count(returned_at), 0))::double precision AS cross_channel_share_of_returns_pct
FROM %1$I.customer_orders
GROUP BY 1, 2$v$,
 '{orders.returned_at,orders.return_channel}', '{}');

-- The arguments of every template (above, in 06-journey-layer.sql and in
-- omnikpi.kpi_materialized_views) for a target schema and the checked
-- settings; ropo_window and half_life only create_kpi_views has.
CREATE FUNCTION omnikpi.template_arguments(target_schema name, settings jsonb, ropo_window interval,
										   half_life interval)
	RETURNS text[]
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
RETURN ARRAY[target_schema::text, ropo_window::text,
	ARRAY(SELECT jsonb_array_elements_text(settings -> 'store_channels'))::text,
	ARRAY(SELECT jsonb_array_elements_text(settings -> 'online_channels'))::text,
	settings #>> '{rating,0}', settings #>> '{rating,1}', half_life::text, settings ->> 'time_zone',
	settings ->> 'lookback', settings ->> 'max_touches',
	ARRAY(SELECT jsonb_array_elements_text(settings -> 'exclude_channels'))::text, settings ->> 'journey_gap'];
COMMENT ON FUNCTION omnikpi.template_arguments(name, jsonb, interval, interval) IS
	'the arguments of the view templates of create_kpi_views (%1$ to %12$), from the target schema and the settings';
