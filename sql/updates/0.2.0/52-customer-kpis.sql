-- ---------------------------------------------------------------------------
-- Three KPIs of the field over the customer profiles and the contacts:
-- retention by channel combination, customer lifetime value, and time spent
-- per channel (from the optional duration of each contact).
-- Template arguments as in 07-kpi-view-definitions.sql.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.source_columns (source, position, column_name, kind, read_as, description) VALUES
	('interactions', 12, 'duration', 'number', 'numeric', 'how long the contact took, in seconds (optional; may be NULL)');

INSERT INTO omnikpi.kpi_views (position, view_name, sources, description, column_comments, definition,
							   needs_columns, optional_columns) VALUES
(18, 'retention_by_channel_combination', '{interactions,orders}',
 'Customers by the exact combination of channels they used (web+store, app+store+email, ...): how many, retained and churned (retained: a contact in the 90 days before the latest contact in the data, as in engagement_depth) and revenue per customer, to tell which mixes build the strongest loyalty; customers from customer_profiles',
 ARRAY['channel_combination', 'the channels the customers used, in name order, joined by +',
	   'channel_count', 'number of channels in the combination',
	   'customers', 'customers who used exactly these channels',
	   'retained_pct', 'percentage active in the last 90 days of the data',
	   'churned_pct', 'percentage not active in the last 90 days of the data',
	   'revenue_per_customer', 'order amount per customer, all time'],
 $v$WITH data_end AS (
	SELECT ((max(occurred_at) AT TIME ZONE %8$L) - interval '90 days') AT TIME ZONE %8$L AS active_since
	FROM %1$I.source_interactions)
SELECT array_to_string(c.channels, '+') AS channel_combination, c.channel_count,
	count(*) AS customers,
	100 * avg((c.last_at > e.active_since)::integer)::double precision AS retained_pct,
	100 * avg((c.last_at <= e.active_since)::integer)::double precision AS churned_pct,
	(sum(coalesce(c.revenue, 0)) / count(*))::double precision AS revenue_per_customer
FROM %1$I.customer_profiles c CROSS JOIN data_end e
GROUP BY c.channels, c.channel_count$v$,
 '{orders.amount}', '{}'),
(19, 'customer_lifetime_value', '{interactions,orders}',
 'Customer lifetime value to date by acquisition channel (of the customer''s first contact) and number of channels used (1, 2, 3, 4+): customers, orders, revenue, revenue per customer and per active month (a month with a contact); sum customers, revenue and the active months they imply over rows to read it by one dimension; customers from customer_profiles',
 ARRAY['acquisition_channel', 'channel of the customers'' first contact',
	   'channel_depth', 'number of channels the customers used: 1, 2, 3 or 4+',
	   'customers', 'customers',
	   'orders', 'their orders, all time',
	   'revenue', 'their order amount, all time',
	   'revenue_per_customer', 'revenue / customers',
	   'revenue_per_active_month', 'revenue / the customers'' months with a contact'],
 $v$SELECT c.acquisition_channel, CASE WHEN c.channel_count >= 4 THEN '4+' ELSE c.channel_count::text END AS channel_depth,
	count(*) AS customers,
	sum(c.orders)::bigint AS orders,
	coalesce(sum(c.revenue), 0) AS revenue,
	(coalesce(sum(c.revenue), 0) / count(*))::double precision AS revenue_per_customer,
	(coalesce(sum(c.revenue), 0) / sum(c.contact_months))::double precision AS revenue_per_active_month
FROM %1$I.customer_profiles c
GROUP BY 1, 2$v$,
 '{orders.amount}', '{}'),
(20, 'time_by_channel_monthly', '{interactions}',
 'Time spent per channel and month, from the duration of each contact (the optional duration column, in seconds): total hours and mean minutes per contact with a duration',
 ARRAY['month', 'first day of the month',
	   'channel', 'channel',
	   'interactions', 'contacts on the channel in the month',
	   'timed_interactions', 'of those, contacts with a duration',
	   'total_hours', 'hours spent in the contacts with a duration',
	   'mean_minutes', 'mean minutes per contact with a duration'],
 $v$SELECT date_trunc('month', occurred_at AT TIME ZONE %8$L)::date AS month, channel,
	count(*) AS interactions,
	count(duration) AS timed_interactions,
	(sum(duration) / 3600)::double precision AS total_hours,
	(sum(duration) / 60 / nullif(count(duration), 0))::double precision AS mean_minutes
FROM %1$I.source_interactions
GROUP BY 1, 2$v$,
 '{interactions.duration}', '{}');
