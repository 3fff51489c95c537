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
--       contact, acquisition channel, the channels used, the days with a
--       contact, orders and revenue.  Read by engagement_depth,
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
-- distinct channels.  One SELECT without SET, so that the planner inlines
-- it into the views that call it.
CREATE FUNCTION omnikpi.journey_switches(channels text[], context_carried boolean[])
	RETURNS TABLE (switches bigint, known_switches bigint, carried_switches bigint, distinct_channels bigint)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
	SELECT pg_catalog.count(*) FILTER (WHERE i > 1 AND channels[i] <> channels[i - 1]),
		pg_catalog.count(*) FILTER (WHERE i > 1 AND channels[i] <> channels[i - 1] AND context_carried[i] IS NOT NULL),
		pg_catalog.count(*) FILTER (WHERE i > 1 AND channels[i] <> channels[i - 1] AND context_carried[i]),
		pg_catalog.count(DISTINCT channels[i])
	FROM pg_catalog.generate_subscripts(channels, 1) AS i
$fn$;
COMMENT ON FUNCTION omnikpi.journey_switches(text[], boolean[]) IS
	'the channel switches of one journey from its channels and context flags in time order: switches, switches with a known context flag, switches with the context carried over, distinct channels';

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
	   'resolved_first', 'whether the first contact resolved it'],
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
	coalesce(bool_or(resolved) FILTER (WHERE contact_no = 1), false) AS resolved_first
FROM contacts
GROUP BY customer_id, issue_id$v$),
('customer_profiles', 'customer_id', '{interactions}', 'orders',
 $r$(SELECT customer_id, NULL::numeric AS amount FROM %13$s AS source_rows WHERE false)$r$,
 'Customers with a contact, one row each: first and last contact, acquisition channel (of the first contact), the channels used, the days with a contact, orders and revenue; read by the customer KPIs',
 ARRAY['customer_id', 'the customer',
	   'first_at', 'the first contact',
	   'last_at', 'the last contact',
	   'acquisition_channel', 'channel of the first contact',
	   'channels', 'the channels the customer used, in name order',
	   'channel_count', 'number of channels used',
	   'contact_days', 'the days with a contact, in the time zone given to create_kpi_views',
	   'active_months', 'number of months with a contact',
	   'orders', 'number of orders',
	   'revenue', 'order amount, all time (NULL without orders)',
	   'basis_times', 'the contacts the profile is computed from, each channel''s first and each day''s last: their times',
	   'basis_channels', 'their channels'],
 $v$WITH contacts AS (
	-- each channel's first contact and each day's last one determine the
	-- profile; the materialized form keeps only those
	SELECT customer_id, channel, occurred_at, (occurred_at AT TIME ZONE %8$L)::date AS day,
		row_number() OVER (PARTITION BY customer_id, channel ORDER BY occurred_at) = 1
		OR row_number() OVER (PARTITION BY customer_id, (occurred_at AT TIME ZONE %8$L)::date
							  ORDER BY occurred_at DESC, channel) = 1 AS in_basis
	FROM %13$s AS source_rows
	WHERE customer_id IS NOT NULL),
profiles AS (
	SELECT customer_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
		(array_agg(channel ORDER BY occurred_at, channel))[1] AS acquisition_channel,
		array_agg(DISTINCT channel ORDER BY channel) AS channels,
		array_agg(DISTINCT day ORDER BY day) AS contact_days,
		array_agg(occurred_at ORDER BY occurred_at, channel) FILTER (WHERE in_basis) AS basis_times,
		array_agg(channel ORDER BY occurred_at, channel) FILTER (WHERE in_basis) AS basis_channels
	FROM contacts
	GROUP BY customer_id),
orders AS (
	SELECT customer_id, count(*) AS orders, sum(amount) AS revenue
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id)
SELECT p.customer_id, p.first_at, p.last_at, p.acquisition_channel, p.channels,
	cardinality(p.channels) AS channel_count, p.contact_days,
	(SELECT count(DISTINCT date_trunc('month', d))::integer FROM unnest(p.contact_days) AS d) AS active_months,
	coalesce(o.orders, 0) AS orders, o.revenue, p.basis_times, p.basis_channels
FROM profiles p
LEFT JOIN orders o USING (customer_id)$v$),
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
