-- ---------------------------------------------------------------------------
-- The journey layer: journeys and conversion paths, whether the data has
-- journey ids or not.
--
-- Between the source views and the KPI views, create_kpi_views puts two
-- normalized views of whole journeys, one row each, with the journey's
-- contacts or touches as arrays in time order:
--   interaction_journeys   from source_interactions: one row per journey,
--       keyed by (customer_id, journey_id) when the interactions have journey
--       ids (a journey is one customer's), else by (customer_id, journey_no):
--       a customer's contacts, in time order, make one journey until a gap
--       longer than journey_gap starts the next.
--       Read by channel_switching_monthly, channel_transitions_monthly and
--       journey_funnel_monthly.
--   attribution_paths      from source_touchpoints and source_conversions:
--       one row per conversion (converted) with the touches that lead to it,
--       and one per run of touches that led to none (not converted).
--       With journey_id in both sources, keyed by (journey_id, cycle): a
--       conversion's path is its journey's touches up to it, a journey
--       without conversion is all its touches.  Else keyed by (customer_id,
--       cycle), as Snowplow's attribution package and GA4 build paths: a
--       conversion's path is the customer's touches within lookback before
--       it and after the customer's previous conversion (each conversion is
--       its own cycle); the touches after a customer's last conversion
--       (within lookback before the last of them) are a path that did not
--       convert.  In both forms exclude_channels never enter a path and
--       max_touches keeps the latest touches.
--       Read by every attribution view (rule-based and data-driven) and by
--       conversion_by_channel_monthly, so they count the same conversions
--       and value by construction.
-- Both group by customer or journey first, so that the materialized form
-- keeps them as tables keyed that way (10-materialized.sql) and, on Citus,
-- computes them where the sources' distribution column puts each
-- customer's rows.  Contacts that tie on time, channel and phase are
-- ordered by the rest of the row, so that every computation of a journey
-- gives the same arrays.
--
-- The templates take the arguments of those of omnikpi.kpi_views: %1$I the
-- target schema, %8$L the time zone, %9$L lookback, %10$L max_touches,
-- %11$L exclude_channels, %12$L journey_gap (see create_kpi_views), and
-- read the rows of their sources from %13$s and %14$s (the source views
-- named in sources, in that order; see omnikpi.layer_inputs).  The
-- materialized form runs the same templates over the rows of the touched
-- customers or journeys only, so both forms compute the same entities.
-- ---------------------------------------------------------------------------

CREATE TABLE omnikpi.kpi_layer_views (
	view_name name NOT NULL,
	keyed_by text NOT NULL CHECK (keyed_by IN ('journey_id', 'customer_id')),
	sources text[] NOT NULL,
	description text NOT NULL,
	column_comments text[] NOT NULL,	-- name, comment, name, comment, ...
	definition text NOT NULL,
	PRIMARY KEY (view_name, keyed_by)
);
COMMENT ON TABLE omnikpi.kpi_layer_views IS
	'the journey views create_kpi_views puts between the source views and the KPI views, in their two forms: keyed by journey_id when the data has one, else derived per customer';
GRANT SELECT ON omnikpi.kpi_layer_views TO PUBLIC;

INSERT INTO omnikpi.kpi_layer_views VALUES
('interaction_journeys', 'journey_id', '{interactions}',
 'Journeys from the interactions, one row per customer and journey_id (a journey is one customer''s), with the contacts as arrays in time order; read by the switching, transition and funnel views',
 ARRAY['customer_id', 'the customer',
	   'journey_id', 'the journey',
	   'journey_no', 'NULL: the journeys have their own ids',
	   'started_at', 'the first contact',
	   'ended_at', 'the last contact',
	   'month', 'first day of the month of the first contact, in the time zone given to create_kpi_views',
	   'contacts', 'number of contacts',
	   'channels', 'the channel of each contact, in time order',
	   'contact_times', 'the time of each contact',
	   'phases', 'the journey phase of each contact',
	   'context_carried', 'whether each contact had the customer''s context'],
 $v$SELECT customer_id, journey_id, NULL::bigint AS journey_no,
	min(occurred_at) AS started_at, max(occurred_at) AS ended_at,
	date_trunc('month', min(occurred_at) AT TIME ZONE %8$L)::date AS month,
	count(*) AS contacts,
	array_agg(channel ORDER BY occurred_at, channel, phase, context_carried) AS channels,
	array_agg(occurred_at ORDER BY occurred_at, channel, phase, context_carried) AS contact_times,
	array_agg(phase ORDER BY occurred_at, channel, phase, context_carried) AS phases,
	array_agg(context_carried ORDER BY occurred_at, channel, phase, context_carried) AS context_carried
FROM %13$s AS source_rows
WHERE journey_id IS NOT NULL
GROUP BY customer_id, journey_id$v$),
('interaction_journeys', 'customer_id', '{interactions}',
 'Journeys from the interactions, which have no journey ids: a customer''s contacts in time order, a new journey after a gap of more than journey_gap; one row per journey with the contacts as arrays; read by the switching, transition and funnel views',
 ARRAY['customer_id', 'the customer',
	   'journey_id', 'NULL: the interactions have no journey ids',
	   'journey_no', 'the customer''s journey number, 1 for the first',
	   'started_at', 'the first contact',
	   'ended_at', 'the last contact',
	   'month', 'first day of the month of the first contact, in the time zone given to create_kpi_views',
	   'contacts', 'number of contacts',
	   'channels', 'the channel of each contact, in time order',
	   'contact_times', 'the time of each contact',
	   'phases', 'the journey phase of each contact',
	   'context_carried', 'whether each contact had the customer''s context'],
 $v$WITH contacts AS (
	SELECT customer_id, channel, occurred_at, phase, context_carried,
		lag(occurred_at) OVER (PARTITION BY customer_id ORDER BY occurred_at, channel, phase, context_carried) AS previous_at
	FROM %13$s AS source_rows
	WHERE customer_id IS NOT NULL),
numbered AS (
	-- a contact more than journey_gap (in the recorded zone's calendar)
	-- after the customer's previous one starts a journey
	SELECT customer_id, channel, occurred_at, phase, context_carried,
		count(*) FILTER (WHERE previous_at IS NULL
						   OR previous_at < ((occurred_at AT TIME ZONE %8$L) - %12$L::interval) AT TIME ZONE %8$L)
			OVER (PARTITION BY customer_id ORDER BY occurred_at, channel, phase, context_carried ROWS UNBOUNDED PRECEDING) AS journey_no
	FROM contacts)
SELECT customer_id, NULL::text AS journey_id, journey_no,
	min(occurred_at) AS started_at, max(occurred_at) AS ended_at,
	date_trunc('month', min(occurred_at) AT TIME ZONE %8$L)::date AS month,
	count(*) AS contacts,
	array_agg(channel ORDER BY occurred_at, channel, phase, context_carried) AS channels,
	array_agg(occurred_at ORDER BY occurred_at, channel, phase, context_carried) AS contact_times,
	array_agg(phase ORDER BY occurred_at, channel, phase, context_carried) AS phases,
	array_agg(context_carried ORDER BY occurred_at, channel, phase, context_carried) AS context_carried
FROM numbered
GROUP BY customer_id, journey_no$v$),
('attribution_paths', 'journey_id', '{touchpoints,conversions}',
 'Conversion paths from the touchpoints and conversions by journey_id: per conversion, the journey''s touches up to it; per journey without conversion, all its touches; channels in exclude_channels left out, the latest max_touches kept; read by every attribution view and by conversion_by_channel_monthly',
 ARRAY['customer_id', 'the customer of the path''s first touch',
	   'journey_id', 'the journey',
	   'cycle', 'the conversion''s number within the journey (NULL for a journey without conversion)',
	   'converted', 'whether the path ends in a conversion',
	   'converted_at', 'the conversion (NULL when not converted)',
	   'value', 'the conversion value',
	   'month', 'first day of the month of the conversion, or of the last touch of a path without one, in the time zone given to create_kpi_views',
	   'channels', 'the channel of each touch, in time order',
	   'touch_times', 'the time of each touch'],
 $v$WITH conversions AS NOT MATERIALIZED (
	SELECT journey_id, converted_at, value,
		row_number() OVER (PARTITION BY journey_id ORDER BY converted_at, value) AS cycle
	FROM %14$s AS source_rows
	WHERE journey_id IS NOT NULL),
touches AS NOT MATERIALIZED (
	SELECT journey_id, customer_id, channel, touched_at
	FROM %13$s AS source_rows
	WHERE journey_id IS NOT NULL AND channel <> ALL (%11$L::text[])),
path_touches AS (
	SELECT t.journey_id, c.cycle, c.converted_at, c.value, t.customer_id, t.channel, t.touched_at,
		row_number() OVER (PARTITION BY t.journey_id, c.cycle ORDER BY t.touched_at DESC, t.channel DESC) AS from_end
	FROM touches t
	JOIN conversions c ON c.journey_id = t.journey_id AND t.touched_at <= c.converted_at
	UNION ALL
	SELECT t.journey_id, NULL, NULL, NULL, t.customer_id, t.channel, t.touched_at,
		row_number() OVER (PARTITION BY t.journey_id ORDER BY t.touched_at DESC, t.channel DESC)
	FROM touches t
	WHERE NOT EXISTS (SELECT 1 FROM conversions c WHERE c.journey_id = t.journey_id))
SELECT (array_agg(customer_id ORDER BY touched_at, channel))[1] AS customer_id,
	journey_id, cycle, cycle IS NOT NULL AS converted, converted_at, value,
	date_trunc('month', coalesce(converted_at, max(touched_at)) AT TIME ZONE %8$L)::date AS month,
	array_agg(channel ORDER BY touched_at, channel) AS channels,
	array_agg(touched_at ORDER BY touched_at, channel) AS touch_times
FROM path_touches
WHERE %10$L::integer IS NULL OR from_end <= %10$L::integer
GROUP BY journey_id, cycle, converted_at, value$v$),
('attribution_paths', 'customer_id', '{touchpoints,conversions}',
 'Conversion paths from the touchpoints and conversions by customer and time (the data has no journey ids): per conversion, the customer''s touches within lookback before it and after their previous conversion; the touches after a customer''s last conversion (within lookback before the last of them) as a path that did not convert; channels in exclude_channels left out, the latest max_touches kept; read by every attribution view and by conversion_by_channel_monthly',
 ARRAY['customer_id', 'the customer',
	   'journey_id', 'NULL: the paths are derived from customer and time',
	   'cycle', 'the conversion''s number among the customer''s conversions (NULL for the touches after the last one)',
	   'converted', 'whether the path ends in a conversion',
	   'converted_at', 'the conversion (NULL when not converted)',
	   'value', 'the conversion value',
	   'month', 'first day of the month of the conversion, or of the last touch of a path without one, in the time zone given to create_kpi_views',
	   'channels', 'the channel of each touch, in time order',
	   'touch_times', 'the time of each touch'],
 $v$WITH conversions AS NOT MATERIALIZED (
	SELECT customer_id, converted_at, value,
		lag(converted_at) OVER w AS cycle_start,
		row_number() OVER w AS cycle
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	WINDOW w AS (PARTITION BY customer_id ORDER BY converted_at, value)),
touches AS NOT MATERIALIZED (
	SELECT customer_id, channel, touched_at
	FROM %13$s AS source_rows
	WHERE customer_id IS NOT NULL AND channel <> ALL (%11$L::text[])),
converting AS (
	-- lookback counts calendar days and months in the recorded zone
	SELECT c.customer_id, c.cycle, c.converted_at, c.value, t.channel, t.touched_at
	FROM conversions c
	JOIN touches t ON t.customer_id = c.customer_id
		AND t.touched_at <= c.converted_at
		AND t.touched_at >= ((c.converted_at AT TIME ZONE %8$L) - %9$L::interval) AT TIME ZONE %8$L
		AND (c.cycle_start IS NULL OR t.touched_at > c.cycle_start)),
open AS (
	SELECT t.customer_id, t.channel, t.touched_at,
		max(t.touched_at) OVER (PARTITION BY t.customer_id) AS last_touched_at
	FROM touches t
	WHERE NOT EXISTS (SELECT 1 FROM conversions c WHERE c.customer_id = t.customer_id AND c.converted_at >= t.touched_at)),
path_touches AS (
	SELECT customer_id, cycle, converted_at, value, channel, touched_at,
		row_number() OVER (PARTITION BY customer_id, cycle ORDER BY touched_at DESC, channel DESC) AS from_end
	FROM converting
	UNION ALL
	SELECT customer_id, NULL, NULL, NULL, channel, touched_at,
		row_number() OVER (PARTITION BY customer_id ORDER BY touched_at DESC, channel DESC)
	FROM open
	WHERE touched_at >= ((last_touched_at AT TIME ZONE %8$L) - %9$L::interval) AT TIME ZONE %8$L)
SELECT customer_id, NULL::text AS journey_id, cycle, cycle IS NOT NULL AS converted, converted_at, value,
	date_trunc('month', coalesce(converted_at, max(touched_at)) AT TIME ZONE %8$L)::date AS month,
	array_agg(channel ORDER BY touched_at, channel) AS channels,
	array_agg(touched_at ORDER BY touched_at, channel) AS touch_times
FROM path_touches
WHERE %10$L::integer IS NULL OR from_end <= %10$L::integer
GROUP BY customer_id, cycle, converted_at, value$v$);
