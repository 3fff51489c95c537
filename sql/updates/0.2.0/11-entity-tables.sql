-- ---------------------------------------------------------------------------
-- The entity tables of the materialized form: how a refresh keeps each
-- layer view (06-journey-layer.sql, 09-entity-layer.sql) as a table.
--
-- A refresh recomputes the entities touched since the watermark minus the
-- late window: those with a source row from there on, and those whose
-- stored row reaches there (a row deleted or moved leaves them).  Each is
-- recomputed by the layer's own template from the source rows of its key
-- only (the customer's, the journey's, the issue's, the order's), so the
-- table holds what the plain view shows.  Where an entity's history only
-- ever grows at its end, only the part that can change is read again:
--   * journeys without journey ids: the customer's contacts from the start
--     of their last journey before the window, renumbered from that
--     journey's number;
--   * conversion paths by customer: the customer's touches after their last
--     conversion with a path before the window, and the conversions from
--     that one on (recomputed, then left out), cycles renumbered from it;
--   * customer profiles: the contacts that determine the profile (each
--     channel's first, each day's last: basis_times, basis_channels) before
--     the window, and the customer's contacts in it.
-- Changes to rows older than the window are not seen (as for the daily
-- tables) until a full rebuild or a refresh whose window reaches them.
-- Orders wait for interactions (ROPO) and profiles for orders (revenue), so
-- the order of position matters.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_entity_tables (table_name, keyed_by, position, indexes, touched, touched_by_optional, matches,
									   inputs, optional_input, recompute) VALUES
('customer_orders', 'customer_id', 10, '{order_id,last_event_at,ordered_at,month}',
 -- an order changes when one of its times moves into the window; one made
 -- after $1 may have a new or late contact before it (ROPO)
 $t$SELECT customer_id, order_id FROM %1$I.source_orders
WHERE ordered_at >= $2 OR ready_at >= $2 OR collected_at >= $2 OR returned_at >= $2
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE last_event_at >= $2$t$,
 $t$UNION SELECT customer_id, order_id FROM %1$I.customer_orders WHERE ordered_at >= $1$t$,
 $m$e.order_id = t.order_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT s.* FROM %1$I.source_orders AS s
	JOIN pg_temp.kpi_touched AS t ON s.order_id = t.order_id AND s.customer_id IS NOT DISTINCT FROM t.customer_id)$i$],
 $i$%1$I.source_interactions$i$,
 NULL),
('interaction_journeys', 'journey_id', 20, '{journey_id,"customer_id, started_at",ended_at,month}',
 $t$SELECT customer_id, journey_id FROM %1$I.source_interactions WHERE occurred_at >= $1 AND journey_id IS NOT NULL
UNION
SELECT customer_id, journey_id FROM %1$I.interaction_journeys WHERE ended_at >= $1$t$,
 NULL,
 $m$e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT s.* FROM %1$I.source_interactions AS s
	JOIN pg_temp.kpi_touched AS t ON s.journey_id = t.journey_id AND s.customer_id IS NOT DISTINCT FROM t.customer_id)$i$],
 NULL, NULL),
('interaction_journeys', 'customer_id', 20, '{"customer_id, started_at",ended_at,month}',
 -- since: the start of the customer's last journey before the window, which
 -- a contact in the window may extend; the journeys before it stay
 $t$SELECT c.customer_id, coalesce(k.started_at, '-infinity') AS since, coalesce(k.journey_no, 1) AS first_journey_no
FROM (SELECT customer_id FROM %1$I.source_interactions WHERE occurred_at >= $1 AND customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM %1$I.interaction_journeys WHERE ended_at >= $1) AS c
LEFT JOIN LATERAL (
	SELECT j.started_at, j.journey_no FROM %1$I.interaction_journeys AS j
	WHERE j.customer_id = c.customer_id AND j.started_at < $1
	ORDER BY j.started_at DESC LIMIT 1) AS k ON true$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND e.started_at >= t.since$m$,
 ARRAY[$i$(SELECT s.* FROM %1$I.source_interactions AS s
	JOIN pg_temp.kpi_touched AS t ON s.customer_id = t.customer_id AND s.occurred_at >= t.since)$i$],
 NULL,
 $r$SELECT j.customer_id, j.journey_id, j.journey_no + t.first_journey_no - 1 AS journey_no, j.started_at, j.ended_at,
	j.month, j.contacts, j.channels, j.contact_times, j.phases, j.context_carried
FROM (%15$s) AS j
JOIN pg_temp.kpi_touched AS t USING (customer_id)$r$),
('interaction_issues', 'customer_id', 30, '{issue_id,last_contact_at,month}',
 $t$SELECT customer_id, issue_id FROM %1$I.source_interactions WHERE occurred_at >= $1 AND issue_id IS NOT NULL
UNION
SELECT customer_id, issue_id FROM %1$I.interaction_issues WHERE last_contact_at >= $1$t$,
 NULL,
 $m$e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 ARRAY[$i$(SELECT s.* FROM %1$I.source_interactions AS s
	JOIN pg_temp.kpi_touched AS t ON s.issue_id = t.issue_id AND s.customer_id IS NOT DISTINCT FROM t.customer_id)$i$],
 NULL, NULL),
('customer_profiles', 'customer_id', 40, '{customer_id,last_at}',
 $t$SELECT customer_id FROM %1$I.source_interactions WHERE occurred_at >= $1 AND customer_id IS NOT NULL
UNION
SELECT customer_id FROM %1$I.customer_profiles WHERE last_at >= $1$t$,
 -- a changed order changes its customer's revenue
 $t$UNION SELECT customer_id FROM pg_temp.kpi_changes_customer_orders WHERE customer_id IS NOT NULL$t$,
 $m$e.customer_id = t.customer_id$m$,
 ARRAY[$i$(SELECT e.customer_id, b.channel, b.occurred_at
	FROM %1$I.customer_profiles AS e
	JOIN pg_temp.kpi_touched AS t USING (customer_id)
	CROSS JOIN LATERAL unnest(e.basis_channels, e.basis_times) AS b(channel, occurred_at)
	WHERE b.occurred_at < $1
	UNION ALL
	SELECT s.customer_id, s.channel, s.occurred_at
	FROM %1$I.source_interactions AS s
	WHERE s.occurred_at >= $1 AND s.customer_id IS NOT NULL)$i$],
 $i$(SELECT o.customer_id, o.amount FROM %1$I.customer_orders AS o JOIN pg_temp.kpi_touched AS t USING (customer_id))$i$,
 NULL),
('attribution_paths', 'journey_id', 50,
 '{journey_id,"(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 $t$SELECT journey_id FROM %1$I.source_touchpoints WHERE touched_at >= $3 AND journey_id IS NOT NULL
UNION
SELECT journey_id FROM %1$I.source_conversions WHERE converted_at >= $4 AND journey_id IS NOT NULL
UNION
SELECT journey_id FROM %1$I.attribution_paths
WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($3, $4)$t$,
 NULL,
 $m$e.journey_id = t.journey_id$m$,
 ARRAY[$i$(SELECT s.* FROM %1$I.source_touchpoints AS s JOIN pg_temp.kpi_touched AS t USING (journey_id))$i$,
	   $i$(SELECT s.* FROM %1$I.source_conversions AS s JOIN pg_temp.kpi_touched AS t USING (journey_id))$i$],
 NULL, NULL),
('attribution_paths', 'customer_id', 50,
 '{"customer_id, cycle","(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 -- since: the customer's last conversion with a path before the window; the
 -- cycles up to it stay
 $t$SELECT c.customer_id, k.converted_at AS since, coalesce(k.cycle, 0) AS base_cycle
FROM (SELECT customer_id FROM %1$I.source_touchpoints WHERE touched_at >= $3 AND customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM %1$I.source_conversions WHERE converted_at >= $4 AND customer_id IS NOT NULL
	  UNION
	  SELECT customer_id FROM %1$I.attribution_paths
	  WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($3, $4)) AS c
LEFT JOIN LATERAL (
	SELECT p.converted_at, p.cycle FROM %1$I.attribution_paths AS p
	WHERE p.customer_id = c.customer_id AND p.converted_at < least($3, $4)
	ORDER BY p.cycle DESC LIMIT 1) AS k ON true$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND (e.cycle IS NULL OR e.cycle > t.base_cycle)$m$,
 -- the conversion at since is read again so that the next cycle starts
 -- after it; its own path (cycle 1 here) is left out below
 ARRAY[$i$(SELECT s.* FROM %1$I.source_touchpoints AS s JOIN pg_temp.kpi_touched AS t USING (customer_id)
	WHERE t.since IS NULL OR s.touched_at > t.since)$i$,
	   $i$(SELECT s.* FROM %1$I.source_conversions AS s JOIN pg_temp.kpi_touched AS t USING (customer_id)
	WHERE t.since IS NULL OR s.converted_at >= t.since)$i$],
 NULL,
 $r$SELECT p.customer_id, p.journey_id, p.cycle + greatest(t.base_cycle - 1, 0) AS cycle, p.converted, p.converted_at,
	p.value, p.month, p.channels, p.touch_times
FROM (%15$s) AS p
JOIN pg_temp.kpi_touched AS t USING (customer_id)
WHERE t.since IS NULL OR p.cycle IS NULL OR p.cycle > 1$r$);
