-- ---------------------------------------------------------------------------
-- The entity tables of the materialized form: how a refresh keeps each
-- layer view (06-journey-layer.sql, 09-entity-layer.sql) as a table.
--
-- A refresh recomputes the entities touched since the watermark minus the
-- late window: those with a source row from there on, and those whose
-- stored row reaches there (a row deleted or moved leaves them).  Each is
-- recomputed by the layer's own template, from
--   * journeys and issues: their stored contacts before the window (the
--     arrays of the entity row) and their contacts in it; journeys without
--     journey ids from the start of the customer's last journey before the
--     window on, renumbered from that journey's number;
--   * orders and conversion paths: the source rows of the order, journey or
--     customer, looked up by key (key = ANY (the touched keys): an index on
--     the sources' order_id, journey_id, or customer_id with the time, keeps
--     a refresh from reading the whole source); paths by customer from their
--     last conversion with a path before the window on (that one read again
--     so that the next cycle starts after it, then left out), cycles
--     renumbered from it;
--   * customer profiles: merged, not recomputed, from the stored profile's
--     part before the window (channels first used before it, days before
--     it, active months before its month) and the customer's contacts in
--     it, so that a profile's cost follows what changed, not the
--     customer's history.
-- Changes to rows older than the window are not seen (as for the daily
-- tables) until a full rebuild or a refresh whose window reaches them.
-- Orders wait for interactions (ROPO) and profiles for orders (revenue), so
-- the order of position matters.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_entity_tables (table_name, keyed_by, position, indexes, touched, touched_by_optional, matches,
									   inputs, optional_input, recompute, marks_key, marks) VALUES
('customer_orders', 'customer_id', 10, '{order_id,last_event_at,ordered_at,month}',
 -- an order changes when one of its times moves into the window; one made
 -- after $1 may have a new or late contact before it (ROPO)
 $t$SELECT customer_id, order_id FROM pg_temp.kpi_window_orders
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE last_event_at >= $2$t$,
 $t$UNION SELECT customer_id, order_id FROM %1$I.customer_orders WHERE ordered_at >= $1$t$,
 $m$e.order_id = t.order_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT o.* FROM %1$I.source_orders AS o
	JOIN pg_temp.kpi_touched AS t ON o.order_id = t.order_id AND o.customer_id IS NOT DISTINCT FROM t.customer_id
	WHERE o.order_id = ANY (ARRAY(SELECT order_id FROM pg_temp.kpi_touched)))$i$],
 $i$%1$I.source_interactions$i$,
 NULL, NULL, NULL),
('interaction_journeys', 'journey_id', 20, '{journey_id,"customer_id, started_at",ended_at,month}',
 $t$SELECT customer_id, journey_id FROM pg_temp.kpi_window_interactions WHERE journey_id IS NOT NULL
UNION
SELECT customer_id, journey_id FROM %1$I.interaction_journeys WHERE ended_at >= $1$t$,
 NULL,
 $m$e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1
	UNION ALL
	SELECT customer_id, journey_id, channel, occurred_at, phase, context_carried
	FROM pg_temp.kpi_window_interactions
	WHERE journey_id IS NOT NULL)$i$],
 NULL, NULL, NULL, NULL),
('interaction_journeys', 'customer_id', 20, '{"customer_id, started_at",ended_at,month}',
 -- since: the start of the customer's last journey before the window, which
 -- a contact in the window may extend; the journeys before it stay
 $t$SELECT c.customer_id, coalesce(k.started_at, '-infinity') AS since, coalesce(k.journey_no, 1) AS first_journey_no
FROM (SELECT customer_id FROM pg_temp.kpi_window_interactions WHERE customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM %1$I.interaction_journeys WHERE ended_at >= $1) AS c
LEFT JOIN LATERAL (
	SELECT j.started_at, j.journey_no FROM %1$I.interaction_journeys AS j
	WHERE j.customer_id = c.customer_id AND j.started_at < $1
	ORDER BY j.started_at DESC LIMIT 1) AS k ON true$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND e.started_at >= t.since$m$,
 ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.customer_id = t.customer_id AND e.started_at >= t.since
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1
	UNION ALL
	SELECT customer_id, journey_id, channel, occurred_at, phase, context_carried
	FROM pg_temp.kpi_window_interactions
	WHERE customer_id IS NOT NULL)$i$],
 NULL,
 $r$SELECT j.customer_id, j.journey_id, j.journey_no + t.first_journey_no - 1 AS journey_no, j.started_at, j.ended_at,
	j.month, j.contacts, j.channels, j.contact_times, j.phases, j.context_carried
FROM (%15$s) AS j
JOIN pg_temp.kpi_touched AS t USING (customer_id)$r$,
 NULL, NULL),
('interaction_issues', 'customer_id', 30, '{issue_id,last_contact_at,month}',
 $t$SELECT customer_id, issue_id FROM pg_temp.kpi_window_interactions WHERE issue_id IS NOT NULL
UNION
SELECT customer_id, issue_id FROM %1$I.interaction_issues WHERE last_contact_at >= $1$t$,
 NULL,
 $m$e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT e.customer_id, e.issue_id, c.channel, c.occurred_at, c.resolved
	FROM %1$I.interaction_issues AS e
	JOIN pg_temp.kpi_touched AS t ON e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.resolutions) AS c(channel, occurred_at, resolved)
	WHERE c.occurred_at < $1
	UNION ALL
	SELECT customer_id, issue_id, channel, occurred_at, resolved
	FROM pg_temp.kpi_window_interactions
	WHERE issue_id IS NOT NULL)$i$],
 NULL, NULL, NULL, NULL),
('customer_profiles', 'customer_id', 40, '{customer_id,last_at}',
 $t$SELECT customer_id FROM pg_temp.kpi_window_interactions WHERE customer_id IS NOT NULL
UNION
SELECT customer_id FROM %1$I.customer_profiles WHERE last_at >= $1$t$,
 -- a changed order changes its customer's revenue
 $t$UNION SELECT customer_id FROM pg_temp.kpi_changes_customer_orders WHERE customer_id IS NOT NULL$t$,
 $m$e.customer_id = t.customer_id$m$,
 ARRAY[$i$(SELECT customer_id, channel, occurred_at FROM pg_temp.kpi_window_interactions WHERE customer_id IS NOT NULL)$i$],
 $i$(SELECT o.customer_id, o.amount FROM %1$I.customer_orders AS o JOIN pg_temp.kpi_touched AS t USING (customer_id))$i$,
 -- The stored profile before the window's first day, $1's: its channels
 -- first used before $1, its days before that day, its active months
 -- before that day's month (later ones come only from days less than 90
 -- days before it, or in the window), merged with the window's contacts.
 $r$WITH window_contacts AS (
	SELECT customer_id, channel, occurred_at, (occurred_at AT TIME ZONE %8$L)::date AS day FROM %13$s AS w),
bounds AS (
	SELECT ($1 AT TIME ZONE %8$L)::date AS first_day, date_trunc('month', $1 AT TIME ZONE %8$L)::date AS first_month),
stored AS (
	SELECT e.*, coalesce(width_bucket(b.first_day - 1, e.contact_days), 0) AS kept_days,
		coalesce(width_bucket(b.first_month - 1, e.active_months), 0) AS kept_months
	FROM %1$I.customer_profiles AS e JOIN pg_temp.kpi_touched AS t USING (customer_id) CROSS JOIN bounds AS b),
channel_firsts AS (
	SELECT s.customer_id, c.channel, c.first_at
	FROM stored AS s CROSS JOIN LATERAL unnest(s.channels, s.channel_first_times) AS c(channel, first_at)
	WHERE c.first_at < $1
	UNION ALL
	SELECT customer_id, channel, min(occurred_at) FROM window_contacts GROUP BY 1, 2),
channel_use AS (
	SELECT customer_id, min(first_at) AS first_at,
		(array_agg(channel ORDER BY first_at, channel))[1] AS acquisition_channel,
		array_agg(channel ORDER BY channel) AS channels,
		array_agg(first_at ORDER BY channel) AS channel_first_times
	FROM (SELECT customer_id, channel, min(first_at) AS first_at FROM channel_firsts GROUP BY 1, 2) AS c
	GROUP BY customer_id),
window_days AS (
	SELECT customer_id, array_agg(day ORDER BY day) AS days, array_agg(last_at ORDER BY day) AS last_times
	FROM (SELECT customer_id, day, max(occurred_at) AS last_at FROM window_contacts GROUP BY 1, 2) AS d
	GROUP BY customer_id),
activity AS (
	SELECT customer_id, s.contact_days[1:s.kept_days] || w.days AS contact_days,
		s.day_last_times[1:s.kept_days] || w.last_times AS day_last_times,
		-- months with a contact: the stored count, less the months only the
		-- days from the window's first day on had, plus the window's
		coalesce(s.contact_months, 0)
			- (SELECT count(DISTINCT date_trunc('month', d::timestamp)) FROM unnest(s.contact_days[s.kept_days + 1:]) AS d)
			+ (SELECT count(DISTINCT date_trunc('month', d::timestamp)) FROM unnest(w.days) AS d)
			+ coalesce(date_trunc('month', s.contact_days[s.kept_days]::timestamp)
					   = date_trunc('month', s.contact_days[s.kept_days + 1]::timestamp), false)::integer
			- coalesce(date_trunc('month', s.contact_days[s.kept_days]::timestamp)
					   = date_trunc('month', w.days[1]::timestamp), false)::integer
			AS contact_months,
		s.active_months[1:s.kept_months] AS kept_active_months
	FROM stored AS s FULL JOIN window_days AS w USING (customer_id)),
recent_active AS (
	-- active months from the window's month on come from the days of the
	-- 90 days before it or later
	SELECT r.customer_id, array_agg(DISTINCT m.month ORDER BY m.month) FILTER (WHERE m.month >= r.first_month) AS months
	FROM (SELECT a.customer_id, b.first_month, max(d) AS last_day
		  FROM activity AS a CROSS JOIN bounds AS b
		  CROSS JOIN LATERAL unnest(a.contact_days[coalesce(width_bucket(b.first_month - 91, a.contact_days), 0) + 1:]) AS d
		  GROUP BY a.customer_id, b.first_month, date_trunc('month', d::timestamp)) AS r
	CROSS JOIN LATERAL omnikpi.months_active_after(r.last_day) AS m(month)
	GROUP BY r.customer_id),
orders AS (
	SELECT customer_id, count(*) AS orders, sum(amount) AS revenue
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id)
SELECT c.customer_id, c.first_at, a.day_last_times[cardinality(a.day_last_times)] AS last_at, c.acquisition_channel,
	c.channels, cardinality(c.channels) AS channel_count, a.contact_days, a.contact_months::integer,
	a.kept_active_months || coalesce(r.months, '{}') AS active_months,
	coalesce(o.orders, 0) AS orders, o.revenue, c.channel_first_times, a.day_last_times
FROM channel_use AS c
JOIN activity AS a USING (customer_id)
LEFT JOIN recent_active AS r USING (customer_id)
LEFT JOIN orders AS o USING (customer_id)
WHERE cardinality(a.contact_days) > 0$r$,
 NULL, NULL),
('attribution_paths', 'journey_id', 50,
 '{journey_id,"(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 $t$SELECT journey_id FROM pg_temp.kpi_window_touchpoints WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM pg_temp.kpi_window_conversions WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM %1$I.attribution_paths
WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($3, $4)
UNION
SELECT journey_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($3, $4)$t$,
 NULL,
 $m$e.journey_id = t.journey_id$m$,
 ARRAY[$i$(SELECT p.* FROM %1$I.source_touchpoints AS p
	WHERE p.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched)))$i$,
	   $i$(SELECT c.* FROM %1$I.source_conversions AS c
	WHERE c.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched)))$i$],
 NULL, NULL,
 'journey_id',
 -- a conversion before every touch of its journey has no path, but its
 -- deletion changes the journey's paths
 $k$SELECT journey_id, max(converted_at) AS last_converted_at FROM %14$s AS c
WHERE journey_id IS NOT NULL GROUP BY journey_id$k$),
('attribution_paths', 'customer_id', 50,
 '{"customer_id, cycle","(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 -- since: the customer's last conversion with a path before the window; the
 -- cycles up to it stay
 $t$SELECT c.customer_id, k.converted_at AS since, coalesce(k.cycle, 0) AS base_cycle
FROM (SELECT customer_id FROM pg_temp.kpi_window_touchpoints WHERE customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM pg_temp.kpi_window_conversions WHERE customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM %1$I.attribution_paths
	  WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($3, $4)
	  UNION
	  SELECT customer_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($3, $4)) AS c
LEFT JOIN LATERAL (
	SELECT p.converted_at, p.cycle FROM %1$I.attribution_paths AS p
	WHERE p.customer_id = c.customer_id AND p.converted_at < least($3, $4)
	ORDER BY p.cycle DESC LIMIT 1) AS k ON true$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND (e.cycle IS NULL OR e.cycle > t.base_cycle)$m$,
 -- the conversion at since is read again so that the next cycle starts
 -- after it; its own path (cycle 1 here) is left out below
 ARRAY[$i$(SELECT p.* FROM %1$I.source_touchpoints AS p
	JOIN pg_temp.kpi_touched AS t ON p.customer_id = t.customer_id AND p.touched_at > coalesce(t.since, '-infinity')
	WHERE p.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched)))$i$,
	   $i$(SELECT c.* FROM %1$I.source_conversions AS c
	JOIN pg_temp.kpi_touched AS t ON c.customer_id = t.customer_id AND c.converted_at >= coalesce(t.since, '-infinity')
	WHERE c.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched)))$i$],
 NULL,
 $r$SELECT p.customer_id, p.journey_id, p.cycle + greatest(t.base_cycle - 1, 0) AS cycle, p.converted, p.converted_at,
	p.value, p.month, p.channels, p.touch_times
FROM (%15$s) AS p
JOIN pg_temp.kpi_touched AS t USING (customer_id)
WHERE t.since IS NULL OR p.cycle IS NULL OR p.cycle > 1$r$,
 'customer_id',
 -- a conversion without touches in its lookback has no path, but its
 -- deletion changes the customer's next path; the conversions read are
 -- those from since on, so their latest is the customer's
 $k$SELECT customer_id, max(converted_at) AS last_converted_at FROM %14$s AS c
WHERE customer_id IS NOT NULL GROUP BY customer_id$k$);
