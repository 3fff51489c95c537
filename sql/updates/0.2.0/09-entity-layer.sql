-- ---------------------------------------------------------------------------
-- The entity layer: one row per issue, per customer and per order, beside
-- the journeys and conversion paths of 06-journey-layer.sql.
--
-- Every KPI that does not decompose by day reads one of these layer views
-- instead of the source views:
--   interaction_issues   one row per service issue, keyed by (customer_id,
--       issue_id): an issue is one customer's.  Read by
--       resolution_by_channel_monthly and channel_switching_monthly.
--   customer_profiles    one row per customer with a contact: first and last
--       contact, acquisition channel, the channels used, the days and months
--       with a contact, the months they count as active, orders and
--       revenue.  Read by engagement_depth,
--       churn_retention_monthly and the customer KPIs of 52-customer-kpis.sql.
--   customer_orders      one row per order (orders without an order_id are
--       left out: nothing could follow them up), keyed by (customer_id,
--       order_id), with what the order KPIs need: its month, fulfillment
--       times, return, and whether a contact on the other side (online
--       before a store purchase, in store before an online one) came within
--       the ROPO window.  Read by ropo_monthly, fulfillment_by_channel_monthly
--       and returns_by_channel_monthly.
-- In the plain form these are views; the materialized form keeps every layer
-- view as a table of the same name, columns and rows, maintained per
-- customer or journey by omnikpi.refresh_kpi_views (10-materialized.sql).
-- A layer reads its sources through %13$s and %14$s; an optional source
-- that was not given is read as the empty relation of absent_input.
-- ---------------------------------------------------------------------------

ALTER TABLE omnikpi.kpi_layer_views
	ADD COLUMN optional_source text,
	ADD COLUMN absent_input text;
COMMENT ON COLUMN omnikpi.kpi_layer_views.sources IS
	'the sources the layer needs, read through %13$s and %14$s in this order';
COMMENT ON COLUMN omnikpi.kpi_layer_views.optional_source IS
	'a source the layer reads when it is given (through the next free of %13$s and %14$s)';
COMMENT ON COLUMN omnikpi.kpi_layer_views.absent_input IS
	'the empty relation read in place of optional_source when that is not given';

-- Orders are followed by their order_id (returns come weeks later), so a
-- row without one counts nowhere, as a row without a channel or time.
UPDATE omnikpi.source_columns SET row_needs_value = true,
	description = 'the order; rows without one are left out'
WHERE source = 'orders' AND column_name = 'order_id';

-- The channel switches of one journey (its channels and context flags in
-- time order): switches between consecutive contacts, those where whether
-- the context was carried over is known, those where it was, and the
-- distinct channels.  One SELECT without SET, so that the planner inlines it
-- into the views and refresh that call it; every function and operator is
-- named with its schema, so that the reader's search_path, under which the
-- body is inlined, cannot put a planted one in its place.
CREATE FUNCTION omnikpi.journey_switches(channels text[], context_carried boolean[])
	RETURNS TABLE (switches bigint, known_switches bigint, carried_switches bigint, distinct_channels bigint)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
	SELECT pg_catalog.count(*) FILTER (WHERE s.switched),
		pg_catalog.count(*) FILTER (WHERE s.switched AND context_carried[s.i] IS NOT NULL),
		pg_catalog.count(*) FILTER (WHERE s.switched AND context_carried[s.i]),
		pg_catalog.count(DISTINCT channels[s.i])
	FROM (SELECT i, (i OPERATOR(pg_catalog.>) 1)
				 AND (channels[i] OPERATOR(pg_catalog.<>) channels[(i OPERATOR(pg_catalog.-) 1)]) AS switched
		  FROM pg_catalog.generate_subscripts(channels, 1) AS i) AS s
$fn$;
COMMENT ON FUNCTION omnikpi.journey_switches(text[], boolean[]) IS
	'the channel switches of one journey from its channels and context flags in time order: switches, switches with a known context flag, switches with the context carried over, distinct channels';

-- The months a contact on last_day keeps its customer active in: those
-- whose end lies less than 90 days after it (local dates: no zone enters).
-- Applied to the last contact day of each month with a contact, which
-- reaches furthest, it gives the months a customer is active in.  One
-- SELECT without SET, every function and operator named with its schema,
-- so that the planner inlines it (see journey_switches).
CREATE FUNCTION omnikpi.months_active_after(last_day date) RETURNS SETOF date
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
	SELECT m::date
	FROM pg_catalog.generate_series(pg_catalog.date_trunc('month', last_day::timestamp),
									pg_catalog.date_trunc('month', last_day::timestamp OPERATOR(pg_catalog.+) interval '90 days'),
									interval '1 month') AS m
	WHERE (m OPERATOR(pg_catalog.+) interval '1 month')
		  OPERATOR(pg_catalog.<=) (last_day::timestamp OPERATOR(pg_catalog.+) interval '90 days')
$fn$;
COMMENT ON FUNCTION omnikpi.months_active_after(date) IS
	'the months a contact on last_day keeps its customer active in: those whose end lies less than 90 days after it';

INSERT INTO omnikpi.kpi_layer_views (view_name, keyed_by, sources, optional_source, absent_input, description,
									 column_comments, definition) VALUES
('interaction_issues', 'customer_id', '{interactions}', NULL, NULL,
 'Service issues from the interactions, one row per customer and issue_id (an issue is one customer''s): when it was opened, on which channel, how many contacts it took, whether and when it was resolved; read by the resolution and switching views',
 ARRAY['customer_id', 'the customer',
	   'issue_id', 'the issue',
	   'opened_at', 'the first contact',
	   'last_contact_at', 'the last contact',
	   'month', 'first day of the month of the first contact, in the time zone given to create_kpi_views',
	   'channel', 'channel of the first contact',
	   'contacts', 'number of contacts',
	   'switches', 'changes of channel between consecutive contacts',
	   'resolved', 'whether any contact resolved the issue',
	   'resolved_first', 'whether the first contact resolved it',
	   'channels', 'the channel of each contact, in time order',
	   'contact_times', 'the time of each contact',
	   'resolutions', 'whether each contact resolved the issue'],
 $v$WITH contacts AS (
	SELECT customer_id, issue_id, channel, occurred_at, resolved,
		lag(channel) OVER w AS previous_channel,
		row_number() OVER w AS contact_no
	FROM %13$s AS source_rows
	WHERE issue_id IS NOT NULL
	WINDOW w AS (PARTITION BY customer_id, issue_id ORDER BY occurred_at, channel, resolved))
SELECT customer_id, issue_id,
	min(occurred_at) AS opened_at, max(occurred_at) AS last_contact_at,
	date_trunc('month', min(occurred_at) AT TIME ZONE %8$L)::date AS month,
	min(channel) FILTER (WHERE contact_no = 1) AS channel,
	count(*) AS contacts,
	count(*) FILTER (WHERE channel <> previous_channel) AS switches,
	coalesce(bool_or(resolved), false) AS resolved,
	coalesce(bool_or(resolved) FILTER (WHERE contact_no = 1), false) AS resolved_first,
	array_agg(channel ORDER BY contact_no) AS channels,
	array_agg(occurred_at ORDER BY contact_no) AS contact_times,
	array_agg(resolved ORDER BY contact_no) AS resolutions
FROM contacts
GROUP BY customer_id, issue_id$v$),
('customer_profiles', 'customer_id', '{interactions}', 'orders',
 $r$(SELECT customer_id, NULL::numeric AS amount FROM %13$s AS source_rows WHERE false)$r$,
 'Customers with a contact, one row each: first and last contact, acquisition channel (of the first contact), the channels used, the days and months with a contact, the months they count as active, orders and revenue; read by the customer KPIs',
 ARRAY['customer_id', 'the customer',
	   'first_at', 'the first contact',
	   'last_at', 'the last contact',
	   'acquisition_channel', 'channel of the first contact',
	   'channels', 'the channels the customer used, in name order',
	   'channel_count', 'number of channels used',
	   'contact_days', 'the days with a contact, in the time zone given to create_kpi_views',
	   'contact_months', 'number of months with a contact',
	   'active_months', 'the months in which the customer is active: a contact in the 90 days up to the month''s end (months after the data''s last month included)',
	   'orders', 'number of orders',
	   'revenue', 'order amount, all time (NULL without orders)',
	   'channel_first_times', 'the first contact on each channel of channels',
	   'day_last_times', 'the last contact of each day of contact_days'],
 -- Each channel's first contact and each day's last one determine the
 -- profile (channel_first_times, day_last_times): the materialized form
 -- recomputes a profile from those before its window and the contacts in it.
 $v$WITH contacts AS NOT MATERIALIZED (
	SELECT customer_id, channel, occurred_at, (occurred_at AT TIME ZONE %8$L)::date AS day
	FROM %13$s AS source_rows
	WHERE customer_id IS NOT NULL),
by_channel AS (
	SELECT customer_id, channel, min(occurred_at) AS first_at FROM contacts GROUP BY 1, 2),
by_day AS NOT MATERIALIZED (
	SELECT customer_id, day, max(occurred_at) AS last_at FROM contacts GROUP BY 1, 2),
channel_use AS (
	SELECT customer_id, min(first_at) AS first_at,
		(array_agg(channel ORDER BY first_at, channel))[1] AS acquisition_channel,
		array_agg(channel ORDER BY channel) AS channels,
		array_agg(first_at ORDER BY channel) AS channel_first_times
	FROM by_channel
	GROUP BY customer_id),
activity AS (
	SELECT customer_id, max(last_at) AS last_at,
		array_agg(day ORDER BY day) AS contact_days,
		array_agg(last_at ORDER BY day) AS day_last_times,
		count(DISTINCT date_trunc('month', day::timestamp))::integer AS contact_months
	FROM by_day
	GROUP BY customer_id),
active AS (
	SELECT r.customer_id, array_agg(DISTINCT m.month ORDER BY m.month) AS active_months
	FROM (SELECT customer_id, max(day) AS last_day FROM by_day GROUP BY customer_id, date_trunc('month', day::timestamp)) AS r
	CROSS JOIN LATERAL omnikpi.months_active_after(r.last_day) AS m(month)
	GROUP BY r.customer_id),
orders AS (
	SELECT customer_id, count(*) AS orders, sum(amount) AS revenue
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id)
SELECT c.customer_id, c.first_at, a.last_at, c.acquisition_channel, c.channels,
	cardinality(c.channels) AS channel_count, a.contact_days, a.contact_months, m.active_months,
	coalesce(o.orders, 0) AS orders, o.revenue, c.channel_first_times, a.day_last_times
FROM channel_use c
-- the outer join first: written after two inner joins of per-customer
-- subqueries, it makes Citus 12.1 compute the orders per customer apart and
-- ship them to the coordinator; first, it runs on the workers with the rest
LEFT JOIN orders o USING (customer_id)
JOIN activity a USING (customer_id)
JOIN active m USING (customer_id)$v$),
('customer_orders', 'customer_id', '{orders}', 'interactions',
 $r$(SELECT customer_id, NULL::text AS channel, NULL::timestamptz AS occurred_at FROM %13$s AS source_rows WHERE false)$r$,
 'Orders, one row each (orders without an order_id are left out), with the month, fulfillment times, return and whether a contact on the other side came within the ROPO window; read by the ROPO, fulfillment and returns views',
 ARRAY['customer_id', 'the customer',
	   'order_id', 'the order',
	   'channel', 'purchase channel',
	   'ordered_at', 'when the order was placed',
	   'month', 'first day of the month of the order, in the time zone given to create_kpi_views',
	   'last_event_at', 'the latest of ordered_at, ready_at, collected_at and returned_at: when the order last changed',
	   'amount', 'the order amount',
	   'fulfillment', 'delivery, bopis, ship_to_store or in_store',
	   'ready_hours', 'hours from order to ready for pickup',
	   'wait_hours', 'hours from ready to collected',
	   'returned_at', 'when the order was returned',
	   'return_channel', 'the channel it was returned on',
	   'in_store', 'true for a store channel, false for an online one, NULL for another',
	   'preceded_by_other_side', 'for a store purchase, whether the customer had an online contact within the ROPO window before it; for an online purchase, a store contact'],
 $v$SELECT o.customer_id, o.order_id, o.channel, o.ordered_at,
	date_trunc('month', o.ordered_at AT TIME ZONE %8$L)::date AS month,
	greatest(o.ordered_at, o.ready_at, o.collected_at, o.returned_at) AS last_event_at,
	o.amount, o.fulfillment,
	extract(epoch FROM o.ready_at - o.ordered_at) / 3600 AS ready_hours,
	extract(epoch FROM o.collected_at - o.ready_at) / 3600 AS wait_hours,
	o.returned_at, o.return_channel,
	CASE WHEN o.channel = ANY (%3$L::text[]) THEN true WHEN o.channel = ANY (%4$L::text[]) THEN false END AS in_store,
	CASE WHEN o.channel = ANY (%3$L::text[] || %4$L::text[]) THEN EXISTS (
		SELECT 1 FROM %14$s AS i
		WHERE i.customer_id = o.customer_id
		  AND i.channel = ANY (CASE WHEN o.channel = ANY (%3$L::text[]) THEN %4$L::text[] ELSE %3$L::text[] END)
		  AND i.occurred_at < o.ordered_at
		  AND i.occurred_at >= ((o.ordered_at AT TIME ZONE %8$L) - %2$L::interval) AT TIME ZONE %8$L) END
		AS preceded_by_other_side
FROM %13$s AS o$v$);

-- Which layer views a call of create_kpi_views makes, and in which form:
-- {view_name: keyed_by}.  Interactions with journey ids give journeys by
-- journey_id, else journeys by customer and inactivity gap; touchpoints and
-- conversions are tied by journey_id or else by customer (plan.journeys);
-- every other layer has one form and is made when its sources are given.
CREATE FUNCTION omnikpi.kpi_layer_forms(plan jsonb, given jsonb) RETURNS jsonb
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT coalesce(jsonb_object_agg(l.view_name, l.keyed_by), '{}')
	FROM omnikpi.kpi_layer_views l
	WHERE NOT EXISTS (SELECT 1 FROM unnest(l.sources) s WHERE NOT given ? s)
	  AND CASE l.view_name
			  WHEN 'interaction_journeys' THEN l.keyed_by = CASE WHEN omnikpi.plan_has_column(plan, 'interactions.journey_id')
																  THEN 'journey_id' ELSE 'customer_id' END
			  WHEN 'attribution_paths' THEN l.keyed_by = plan ->> 'journeys'
			  ELSE true END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_layer_forms(jsonb, jsonb) IS
	'the layer views create_kpi_views makes for the given sources, with the form of each (keyed by journey_id or customer_id)';

-- The relations a layer template reads as %13$s and %14$s: the source
-- views of its sources, then of its optional source or, when that was not
-- given, the empty relation standing for it.
CREATE FUNCTION omnikpi.layer_inputs(target_schema name, layer_name name, keyed_by text, given jsonb,
									 template_args text[])
	RETURNS text[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	layer record;
	inputs text[];
BEGIN
	SELECT l.* INTO STRICT layer FROM omnikpi.kpi_layer_views l
	WHERE l.view_name = layer_name AND l.keyed_by = layer_inputs.keyed_by;
	inputs := ARRAY(SELECT format('%I.%I', target_schema, 'source_' || s) FROM unnest(layer.sources) WITH ORDINALITY u(s, n) ORDER BY n);
	IF layer.optional_source IS NOT NULL THEN
		inputs := inputs || CASE WHEN given ? layer.optional_source
								 THEN format('%I.%I', target_schema, 'source_' || layer.optional_source)
								 ELSE format(layer.absent_input, VARIADIC template_args || inputs) END;
	END IF;
	RETURN inputs || array_fill(NULL::text, ARRAY[2 - cardinality(inputs)]);
END
$fn$;
COMMENT ON FUNCTION omnikpi.layer_inputs(name, name, text, jsonb, text[]) IS
	'the relations a layer view template of create_kpi_views reads as %13$s and %14$s';
