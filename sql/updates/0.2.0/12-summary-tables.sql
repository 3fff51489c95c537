-- ---------------------------------------------------------------------------
-- The summary tables of the materialized form over the entity tables.
--
-- A KPI over journeys, issues, customers or conversion paths is a ratio of
-- sums over entities, grouped by month (of the journey's first contact, the
-- issue's opening, the conversion) or by customer segment.  These tables
-- hold those sums.  A refresh adds to them, per group, the new
-- contributions of the touched entities minus their old ones (kind delta),
-- so its cost follows the touched entities, never the history; counts and
-- money add exactly (bigint, numeric), attribution credits are double
-- precision sums that can differ from the plain view's in the last bits.
-- The Markov and journey_paths states per month are recomputed for the
-- months whose paths changed (kind period), from the paths counted per
-- month: both aggregates take counted paths and roll up exactly.
--
-- Templates take the arguments of omnikpi.template_arguments and read the
-- signed entity rows from %16$s.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_summary_tables (table_name, kind, reads, position, description, columns, key_columns,
										count_column, period_column, column_comments, definition) VALUES
('journey_month_summary', 'delta', '{interaction_journeys}', 10,
 'Journeys per month of their first contact and their channel switches, added up from interaction_journeys; read by channel_switching_monthly',
 $c$month date, journeys bigint NOT NULL, switches bigint NOT NULL, multichannel_journeys bigint NOT NULL,
	known_switches bigint NOT NULL, carried_switches bigint NOT NULL$c$,
 '{month}', 'journeys', 'month',
 ARRAY['month', 'first day of the month of the journeys'' first contact',
	   'journeys', 'journeys',
	   'switches', 'channel switches between consecutive contacts',
	   'multichannel_journeys', 'journeys with 2 or more channels',
	   'known_switches', 'switches where whether the context was carried over is known',
	   'carried_switches', 'switches where it was'],
 $v$SELECT j.month, sum(j.sign) AS journeys, sum(j.sign * s.switches) AS switches,
	sum(j.sign * (s.distinct_channels >= 2)::integer) AS multichannel_journeys,
	sum(j.sign * s.known_switches) AS known_switches, sum(j.sign * s.carried_switches) AS carried_switches
FROM %16$s AS j
CROSS JOIN LATERAL omnikpi.journey_switches(j.channels, j.context_carried) AS s
GROUP BY j.month$v$),
('transition_month_summary', 'delta', '{interaction_journeys}', 20,
 'Channel transitions within journeys per month of the later contact, added up from interaction_journeys; read by channel_transitions_monthly',
 $c$month date, from_channel text, to_channel text, transitions bigint NOT NULL$c$,
 '{month,from_channel,to_channel}', 'transitions', 'month',
 ARRAY['month', 'first day of the month of the later contact',
	   'from_channel', 'channel of the earlier contact',
	   'to_channel', 'channel of the next contact in the same journey',
	   'transitions', 'number of such consecutive pairs'],
 $v$SELECT date_trunc('month', s.occurred_at AT TIME ZONE %8$L)::date AS month, s.from_channel, s.to_channel,
	sum(j.sign) AS transitions
FROM %16$s AS j
CROSS JOIN LATERAL unnest(j.channels[:cardinality(j.channels) - 1], j.channels[2:], j.contact_times[2:])
	AS s(from_channel, to_channel, occurred_at)
GROUP BY 1, 2, 3$v$),
('funnel_month_summary', 'delta', '{interaction_journeys}', 30,
 'Journeys per month of their first contact and furthest phase, added up from interaction_journeys; read by journey_funnel_monthly',
 $c$month date, furthest_phase integer, journeys bigint NOT NULL$c$,
 '{month,furthest_phase}', 'journeys', 'month',
 ARRAY['month', 'first day of the month of the journeys'' first contact',
	   'furthest_phase', 'position of the furthest phase the journey reached, 1 (awareness) to 5 (loyalty); NULL: none known',
	   'journeys', 'journeys'],
 $v$SELECT j.month, f.furthest_phase, sum(j.sign) AS journeys
FROM %16$s AS j
CROSS JOIN LATERAL (
	SELECT max(array_position(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'], p)) AS furthest_phase
	FROM unnest(j.phases) AS p) AS f
GROUP BY 1, 2$v$),
('issue_month_summary', 'delta', '{interaction_issues}', 40,
 'Service issues per month they were opened and channel of their first contact, added up from interaction_issues; read by resolution_by_channel_monthly and channel_switching_monthly',
 $c$month date, channel text, issues bigint NOT NULL, resolved_issues bigint NOT NULL,
	resolved_issue_contacts bigint NOT NULL, resolved_first bigint NOT NULL, switches bigint NOT NULL$c$,
 '{month,channel}', 'issues', 'month',
 ARRAY['month', 'first day of the month the issues were opened',
	   'channel', 'channel of their first contact',
	   'issues', 'issues',
	   'resolved_issues', 'issues resolved by any contact',
	   'resolved_issue_contacts', 'contacts of the resolved issues',
	   'resolved_first', 'issues resolved by their first contact',
	   'switches', 'channel switches between consecutive contacts of the issues'],
 $v$SELECT i.month, i.channel, sum(i.sign) AS issues, sum(i.sign * i.resolved::integer) AS resolved_issues,
	sum(i.sign * i.contacts * i.resolved::integer) AS resolved_issue_contacts,
	sum(i.sign * i.resolved_first::integer) AS resolved_first, sum(i.sign * i.switches) AS switches
FROM %16$s AS i
GROUP BY 1, 2$v$),
('customer_month_summary', 'delta', '{customer_profiles}', 50,
 'Active, new, retained and churned customers per month (a customer is active in a month when they had a contact in the 90 days up to its end), added up from customer_profiles; read by churn_retention_monthly',
 $c$month date, entries bigint NOT NULL, active_customers bigint NOT NULL, new_customers bigint NOT NULL,
	retained_customers bigint NOT NULL, churned_customers bigint NOT NULL$c$,
 '{month}', 'entries', 'month',
 ARRAY['month', 'first day of the month (months after the last month of the data included)',
	   'entries', 'customers active in the month or churned in it',
	   'active_customers', 'customers with a contact in the 90 days up to the month''s end',
	   'new_customers', 'active customers never active before',
	   'retained_customers', 'customers active this month and the previous one',
	   'churned_customers', 'customers active the previous month but not this one'],
 $v$WITH marked AS (
	-- each active month of a customer, with the one before and after it
	SELECT c.sign, m.month, c.active_months[m.n - 1] AS previous_month, c.active_months[m.n + 1] AS next_month
	FROM %16$s AS c
	CROSS JOIN LATERAL unnest(c.active_months) WITH ORDINALITY AS m(month, n)),
entries AS (
	SELECT month, sign, sign AS active, sign * (previous_month IS NULL)::integer AS new,
		sign * coalesce(previous_month = (month - interval '1 month')::date, false)::integer AS retained, 0 AS churned
	FROM marked
	UNION ALL
	SELECT (month + interval '1 month')::date, sign, 0, 0, 0, sign
	FROM marked
	WHERE next_month IS DISTINCT FROM (month + interval '1 month')::date)
SELECT month, sum(sign) AS entries, sum(active) AS active_customers, sum(new) AS new_customers,
	sum(retained) AS retained_customers, sum(churned) AS churned_customers
FROM entries
GROUP BY month$v$),
('customer_segment_summary', 'delta', '{customer_profiles}', 60,
 'Customers, orders, revenue and months with a contact per channel combination and acquisition channel, added up from customer_profiles; read by engagement_depth, retention_by_channel_combination and customer_lifetime_value',
 $c$channels text[], acquisition_channel text, customers bigint NOT NULL, orders bigint NOT NULL,
	revenue numeric NOT NULL, contact_months bigint NOT NULL$c$,
 '{channels,acquisition_channel}', 'customers', NULL,
 ARRAY['channels', 'the channels the customers used, in name order',
	   'acquisition_channel', 'channel of their first contact',
	   'customers', 'customers',
	   'orders', 'their orders',
	   'revenue', 'their order amount, all time',
	   'contact_months', 'their months with a contact'],
 $v$SELECT c.channels, c.acquisition_channel, sum(c.sign) AS customers, sum(c.sign * c.orders) AS orders,
	sum(c.sign * coalesce(c.revenue, 0)) AS revenue, sum(c.sign * c.contact_months) AS contact_months
FROM %16$s AS c
GROUP BY 1, 2$v$),
('customer_last_day_summary', 'delta', '{customer_profiles}', 70,
 'Customers per day of their last contact and channel combination, added up from customer_profiles; tells who was active in the last 90 days of the data (engagement_depth, retention_by_channel_combination)',
 $c$last_day date, channels text[], customers bigint NOT NULL$c$,
 '{last_day,channels}', 'customers', NULL,
 ARRAY['last_day', 'the day of the customers'' last contact, in the time zone recorded in kpi_refresh_state',
	   'channels', 'the channels they used, in name order',
	   'customers', 'customers'],
 $v$SELECT (c.last_at AT TIME ZONE %8$L)::date AS last_day, c.channels, sum(c.sign) AS customers
FROM %16$s AS c
GROUP BY 1, 2$v$),
('customer_retention_summary', 'period',
 '{customer_segment_summary,customer_last_day_summary,customer_profiles,interactions_daily}', 75,
 'Customers, those retained (a contact in the 90 days before the latest contact in the data) and revenue per channel combination, from the customer summaries; read by engagement_depth and retention_by_channel_combination',
 $c$channels text[], customers bigint NOT NULL, retained_customers bigint NOT NULL, revenue numeric NOT NULL$c$,
 '{channels}', NULL, NULL,
 ARRAY['channels', 'the channels the customers used, in name order',
	   'customers', 'customers',
	   'retained_customers', 'of those, customers with a contact in the 90 days before the latest contact in the data',
	   'revenue', 'their order amount, all time'],
 -- The customers whose last contact lies after the day 90 days before the
 -- data's end are retained; on that day itself their time decides.
 $v$WITH boundary AS (
	SELECT s.active_since, (s.active_since AT TIME ZONE %8$L)::date AS day
	FROM (SELECT ((max(occurred_at) AT TIME ZONE %8$L) - interval '90 days') AT TIME ZONE %8$L AS active_since
		  FROM %1$I.source_interactions) AS s),
counted AS (
	SELECT channels, customers, revenue, 0 AS retained_customers
	FROM %1$I.customer_segment_summary
	UNION ALL
	SELECT l.channels, 0, 0, l.customers
	FROM %1$I.customer_last_day_summary AS l, boundary AS b
	WHERE l.last_day > b.day
	UNION ALL
	SELECT c.channels, 0, 0, 1
	FROM %1$I.customer_profiles AS c, boundary AS b
	WHERE c.last_at > b.active_since AND c.last_at < (b.day + 1)::timestamp AT TIME ZONE %8$L)
SELECT channels, sum(customers) AS customers, sum(retained_customers) AS retained_customers, sum(revenue) AS revenue
FROM counted
GROUP BY channels$v$),
('path_channel_summary', 'delta', '{attribution_paths}', 80,
 'Conversion paths per month of their first touch and channel touched, added up from attribution_paths; read by conversion_by_channel_monthly',
 $c$month date, channel text, paths bigint NOT NULL, converted_paths bigint NOT NULL$c$,
 '{month,channel}', 'paths', 'month',
 ARRAY['month', 'first day of the month of the path''s first touch',
	   'channel', 'a channel the path touched',
	   'paths', 'paths',
	   'converted_paths', 'of those, paths that end in a conversion'],
 $v$SELECT date_trunc('month', p.touch_times[1] AT TIME ZONE %8$L)::date AS month, c.channel,
	sum(p.sign) AS paths, sum(p.sign * p.converted::integer) AS converted_paths
FROM %16$s AS p
CROSS JOIN LATERAL (SELECT DISTINCT u.channel FROM unnest(p.channels) AS u(channel)) AS c
GROUP BY 1, 2$v$),
('credit_month_summary', 'delta', '{attribution_paths}', 90,
 'Conversions and value credited to each channel per month of the conversion under each rule-based model, added up from attribution_paths; read by attribution_by_channel_monthly',
 $c$month date, channel text, model text, touches bigint NOT NULL, valued_touches bigint NOT NULL,
	attributed_conversions double precision NOT NULL, attributed_value double precision NOT NULL$c$,
 '{month,channel,model}', 'touches', 'month',
 ARRAY['month', 'first day of the month of the conversion',
	   'channel', 'channel',
	   'model', 'attribution model',
	   'touches', 'touches of converted paths on the channel',
	   'valued_touches', 'of those, touches of conversions with a value',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel'],
 $v$WITH touches AS (
	SELECT p.sign, p.customer_id, p.journey_id, p.cycle, p.month, p.converted_at, p.value, u.channel, u.touched_at, u.n
	FROM %16$s AS p
	CROSS JOIN LATERAL unnest(p.channels, p.touch_times) WITH ORDINALITY AS u(channel, touched_at, n)
	WHERE p.converted),
shares AS (
	SELECT t.sign, m.model, t.month, t.channel, t.value,
		@extschema@.attribution_share(m.model)
			OVER (PARTITION BY m.model, t.sign, t.customer_id, t.journey_id, t.cycle ORDER BY t.n) AS share
	FROM touches AS t
	CROSS JOIN unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'j_curve', 'inverse_j']) AS m(model)
	UNION ALL
	SELECT sign, 'time_decay', month, channel, value,
		@extschema@.attribution_share('time_decay', touched_at, %7$L::interval, converted_at)
			OVER (PARTITION BY sign, customer_id, journey_id, cycle ORDER BY n)
	FROM touches)
SELECT month, channel, model, sum(sign) AS touches, sum(sign * (value IS NOT NULL)::integer) AS valued_touches,
	sum(sign * share) AS attributed_conversions, coalesce(sum(sign * share * value), 0) AS attributed_value
FROM shares
GROUP BY 1, 2, 3$v$),
('path_month_summary', 'delta', '{attribution_paths}', 100,
 'Conversion paths counted per month and distinct channel path (a conversion in the month of the conversion, touches that led to none in the month of the last one), added up from attribution_paths; the input of the Markov and journey_paths states',
 $c$month date, path text[], paths bigint NOT NULL, conversions bigint NOT NULL, non_conversions bigint NOT NULL,
	value numeric NOT NULL$c$,
 '{month,path}', 'paths', 'month',
 ARRAY['month', 'first day of the month of the conversion, or of the last touch of a path without one',
	   'path', 'the channel of each touch, in time order',
	   'paths', 'paths',
	   'conversions', 'paths that end in a conversion',
	   'non_conversions', 'paths that do not',
	   'value', 'conversion value of the converted paths'],
 $v$SELECT p.month, p.channels AS path, sum(p.sign) AS paths, sum(p.sign * p.converted::integer) AS conversions,
	sum(p.sign * (NOT p.converted)::integer) AS non_conversions,
	coalesce(sum(p.sign * p.value) FILTER (WHERE p.converted), 0) AS value
FROM %16$s AS p
GROUP BY 1, 2$v$),
('last_touch_month_summary', 'period', '{path_month_summary}', 105,
 'Conversions and their value per month and last channel of the path (last touch), from path_month_summary; shown beside the data-driven models',
 $c$month date, channel text, conversions bigint NOT NULL, value numeric NOT NULL$c$,
 '{month,channel}', NULL, 'month',
 ARRAY['month', 'first day of the month of the conversion',
	   'channel', 'the last channel of the path',
	   'conversions', 'conversions',
	   'value', 'their value'],
 $v$SELECT month, path[cardinality(path)] AS channel, sum(conversions) AS conversions, sum(value) AS value
FROM %1$I.path_month_summary
WHERE conversions > 0
GROUP BY 1, 2$v$),
('attribution_month_states', 'period', '{path_month_summary}', 110,
 'Markov model (markov_model, first order) and journey_paths summary of each month''s conversion paths, from path_month_summary: read by the Markov, Shapley and fractribution views; roll months up exactly with rollup()',
 $c$month date, markov @extschema@.markov_model NOT NULL, paths @extschema@.journey_paths NOT NULL$c$,
 '{month}', NULL, 'month',
 ARRAY['month', 'first day of the month',
	   'markov', 'first-order Markov model of the month''s paths (read with markov_attribution())',
	   'paths', 'the month''s paths (read with shapley_attribution(), fractribution_attribution(), paths())'],
 $v$SELECT month,
	@extschema@.markov_model(path, conversions::double precision, non_conversions::double precision,
							 value::double precision, 1) AS markov,
	@extschema@.journey_paths(path, conversions::double precision, non_conversions::double precision,
							  value::double precision) AS paths
FROM %1$I.path_month_summary
GROUP BY month
HAVING sum(conversions) > 0$v$);
