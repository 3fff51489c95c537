-- ---------------------------------------------------------------------------
-- check_sources: data quality before numbers.
--
-- omnikpi.check_sources takes the source arguments of create_kpi_views and
-- reads the user's data as the source views would, returning one row per
-- problem: source, column, problem, rows affected, an example value and the
-- fix.  The problem classes are the rows of omnikpi.source_checks:
--   row checks    a condition on one row (no channel, a rating outside its
--                 scale, ready before ordered, a time in the future, ...);
--   value checks  a value outside its vocabulary (one problem row per value,
--                 the 20 commonest, with a spelling of it from the data);
--   cross checks  a query over several rows or sources (duplicate ids,
--                 touches after their journey's conversion, conversions
--                 without touches, keys found in no row of the other source).
-- The row and value checks of a source are one query, so one scan of it;
-- each cross check reads its sources once more.  The cross checks read the
-- sources as the KPI views do (through temporary source views and the
-- journey layer itself), so "conversions without touches" is exactly what
-- no attribution view credits.
--
-- create_kpi_views runs the row and value checks on a sample of each source
-- (at most 10,000 rows) and raises what they find as one WARNING; the full
-- report is check_sources'.
-- ---------------------------------------------------------------------------

CREATE TABLE omnikpi.source_checks (
	source text NOT NULL,
	column_name name NOT NULL,
	position integer NOT NULL,
	scope text NOT NULL CHECK (scope IN ('row', 'value', 'cross')),
	needs_columns text[] NOT NULL,	-- source.column: the check applies when these are present
	journeys text CHECK (journeys IN ('journey_id', 'customer_id')),	-- only when touches find conversions so
	problem text NOT NULL,			-- value checks: %1$s is the value
	test text NOT NULL,
	example text,
	fix text NOT NULL,				-- %1$s the value (value checks), %2$s the example
	PRIMARY KEY (source, column_name, position)
);
COMMENT ON TABLE omnikpi.source_checks IS
	'the problems omnikpi.check_sources looks for, with the SQL that finds them and the fix it suggests';
COMMENT ON COLUMN omnikpi.source_checks.test IS
	'row: a condition on a row r of the source as omnikpi reads it; value: a condition saying the vocabulary value {value} is unknown; cross: a query giving (rows, example) over the sources'' temporary views in pg_temp; {name} stands for a setting';
GRANT SELECT ON omnikpi.source_checks TO PUBLIC;

INSERT INTO omnikpi.source_checks VALUES
-- interactions
('interactions', 'customer_id', 1, 'row', '{}', NULL,
 'rows without a customer: left out of the customer views (churn, engagement depth, ROPO) and of journeys derived from customer and time',
 'r.customer_id IS NULL', NULL,
 'Map customer_id to a column or expression that every row has, or fill the rows.'),
('interactions', 'channel', 1, 'row', '{}', NULL,
 'rows without a channel (NULL or blank): left out of every view',
 'r.channel IS NULL', 'r.channel_given',
 'Map channel to an expression that gives every row one, e.g. coalesce(chan, ''unknown''), or fill the rows.'),
('interactions', 'channel', 2, 'value', '{}', NULL,
 'channel "%1$s" is in none of store_channels, online_channels and other_channels',
 '{value} <> ALL ({known_channels})', 'r.channel_given',
 'Translate it, e.g. translations => ''{"channel": {"%2$s": "web"}}'', or add it to store_channels, online_channels or other_channels; ROPO counts only the channels of the first two.'),
('interactions', 'occurred_at', 1, 'row', '{}', NULL,
 'rows without a time: left out of every view',
 'r.occurred_at IS NULL', NULL,
 'Map occurred_at to a column or expression that every row has, or fill the rows.'),
('interactions', 'occurred_at', 2, 'row', '{}', NULL,
 'times in the future',
 'r.occurred_at > now()', 'r.occurred_at::text',
 'Check the time zone the rows were written in (time_zone => ... for timestamp and date columns) and the clocks that wrote them; the rows count in the months they name.'),
('interactions', 'phase', 1, 'value', '{interactions.phase}', NULL,
 'phase "%1$s" is none of awareness, consideration, decision, service and loyalty: its rows reach no phase of the funnel',
 '{value} <> ALL ({phases})', 'r.phase_given',
 'Translate it, e.g. translations => ''{"phase": {"%2$s": "awareness"}}''.'),
('interactions', 'satisfaction', 1, 'row', '{interactions.satisfaction}', NULL,
 'ratings outside the rating scale {rating_min} to {rating_max}: the views that read ratings fail',
 'NOT (r.satisfaction BETWEEN {rating_min} AND {rating_max})', 'r.satisfaction::text',
 'Pass the survey''s scale (rating_scale_min => ..., rating_scale_max => ...), map satisfaction to an expression that converts it, or correct the rows.'),
('interactions', 'effort', 1, 'row', '{interactions.effort}', NULL,
 'effort scores outside the effort scale {effort_min} to {effort_max}: the views that read them fail',
 'NOT (r.effort BETWEEN {effort_min} AND {effort_max})', 'r.effort::text',
 'Pass the survey''s scale (effort_scale_min => ..., effort_scale_max => ...), map effort to an expression that converts it, or correct the rows.'),
('interactions', 'nps', 1, 'row', '{interactions.nps}', NULL,
 'NPS answers outside 0 to 10: the views that read them fail',
 'NOT (r.nps BETWEEN 0 AND 10)', 'r.nps::text',
 'Map nps to an expression that gives the 0 to 10 answer, or correct the rows.'),
-- orders
('orders', 'order_id', 1, 'row', '{}', NULL,
 'orders without an id',
 'r.order_id IS NULL', NULL,
 'Map order_id to a column or expression that every row has.'),
('orders', 'order_id', 2, 'cross', '{}', NULL,
 'order ids that several rows share: each row counts as an order',
 'SELECT sum(d.n)::bigint, min(d.order_id::text) FROM (SELECT order_id, count(*) AS n FROM pg_temp.source_orders WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1) d', NULL,
 'Make order_id unique, or map it to an expression that is.'),
('orders', 'customer_id', 1, 'row', '{}', NULL,
 'orders without a customer: left out of engagement depth and ROPO',
 'r.customer_id IS NULL', NULL,
 'Map customer_id to a column or expression that every row has, or fill the rows.'),
('orders', 'customer_id', 2, 'cross', '{interactions.customer_id}', NULL,
 'orders of customers found in no interaction: left out of engagement depth''s revenue and of ROPO',
 'SELECT count(*), min(o.customer_id::text) FROM pg_temp.source_orders o WHERE o.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.source_interactions i WHERE i.customer_id = o.customer_id)', NULL,
 'Check that orders and interactions use the same customer ids (type, leading zeros, prefixes).'),
('orders', 'channel', 1, 'row', '{}', NULL,
 'orders without a channel (NULL or blank): left out of every view',
 'r.channel IS NULL', 'r.channel_given',
 'Map channel to an expression that gives every row one, e.g. coalesce(chan, ''unknown''), or fill the rows.'),
('orders', 'channel', 2, 'value', '{}', NULL,
 'channel "%1$s" is in none of store_channels, online_channels and other_channels: its orders are neither store nor online purchases in ROPO',
 '{value} <> ALL ({known_channels})', 'r.channel_given',
 'Translate it, e.g. translations => ''{"channel": {"%2$s": "store"}}'', or add it to store_channels or online_channels.'),
('orders', 'ordered_at', 1, 'row', '{}', NULL,
 'orders without a time: left out of every view',
 'r.ordered_at IS NULL', NULL,
 'Map ordered_at to a column or expression that every row has, or fill the rows.'),
('orders', 'ordered_at', 2, 'row', '{}', NULL,
 'times in the future',
 'r.ordered_at > now()', 'r.ordered_at::text',
 'Check the time zone the rows were written in (time_zone => ... for timestamp and date columns) and the clocks that wrote them.'),
('orders', 'fulfillment', 1, 'value', '{orders.fulfillment}', NULL,
 'fulfillment "%1$s" is none of delivery, bopis, ship_to_store and in_store: its orders count as not BOPIS',
 '{value} <> ALL ({fulfillments})', 'r.fulfillment_given',
 'Translate it, e.g. translations => ''{"fulfillment": {"%2$s": "bopis"}}''.'),
('orders', 'ready_at', 1, 'row', '{orders.ready_at}', NULL,
 'orders ready for pickup before they were placed: negative click-to-collect times',
 'r.ready_at < r.ordered_at', 'r.ready_at::text',
 'Check the time zones of ready_at and ordered_at, and whether the columns are swapped.'),
('orders', 'collected_at', 1, 'row', '{orders.collected_at,orders.ready_at}', NULL,
 'orders collected before they were ready: negative pickup waits',
 'r.collected_at < r.ready_at', 'r.collected_at::text',
 'Check the time zones of collected_at and ready_at, and whether the columns are swapped.'),
('orders', 'returned_at', 1, 'row', '{orders.returned_at}', NULL,
 'orders returned before they were placed',
 'r.returned_at < r.ordered_at', 'r.returned_at::text',
 'Check the time zones of returned_at and ordered_at.'),
('orders', 'return_channel', 1, 'value', '{orders.return_channel}', NULL,
 'return channel "%1$s" is in none of store_channels, online_channels and other_channels',
 '{value} <> ALL ({known_channels})', 'r.return_channel_given',
 'Translate it, e.g. translations => ''{"channel": {"%2$s": "store"}}'', or add it to the channel lists.'),
-- touchpoints
('touchpoints', 'journey_id', 1, 'row', '{}', 'journey_id',
 'touches without a journey id: in no path',
 'r.journey_id IS NULL', NULL,
 'Fill the journey ids, or map journey_id to null in touchpoints and conversions so that paths are derived from customer and time.'),
('touchpoints', 'customer_id', 1, 'row', '{}', 'customer_id',
 'touches without a customer: in no path',
 'r.customer_id IS NULL', NULL,
 'Map customer_id to a column or expression that every row has, or fill the rows.'),
('touchpoints', 'channel', 1, 'row', '{}', NULL,
 'touches without a channel (NULL or blank): in no path and no cost',
 'r.channel IS NULL', 'r.channel_given',
 'Map channel to an expression that gives every row one, e.g. coalesce(source, ''direct''), or fill the rows.'),
('touchpoints', 'channel', 2, 'value', '{}', NULL,
 'channel "%1$s" is in none of store_channels, online_channels and other_channels',
 '{value} <> ALL ({known_channels})', 'r.channel_given',
 'Translate it, e.g. translations => ''{"channel": {"%2$s": "social"}}'', or add it to other_channels.'),
('touchpoints', 'touched_at', 1, 'row', '{}', NULL,
 'touches without a time: in no path',
 'r.touched_at IS NULL', NULL,
 'Map touched_at to a column or expression that every row has, or fill the rows.'),
('touchpoints', 'touched_at', 2, 'row', '{}', NULL,
 'times in the future',
 'r.touched_at > now()', 'r.touched_at::text',
 'Check the time zone the rows were written in (time_zone => ... for timestamp and date columns) and the clocks that wrote them.'),
('touchpoints', 'touched_at', 3, 'cross', '{}', 'journey_id',
 'touches after their journey''s last conversion: in no path',
 'SELECT count(*), min(t.touched_at::text) FROM pg_temp.source_touchpoints t JOIN (SELECT journey_id, max(converted_at) AS last_conversion FROM pg_temp.source_conversions GROUP BY journey_id) c ON c.journey_id = t.journey_id WHERE t.touched_at > c.last_conversion', NULL,
 'Check the journey ids and the times of touches and conversions: a touch after a conversion belongs to another journey.'),
-- conversions
('conversions', 'journey_id', 1, 'row', '{}', 'journey_id',
 'conversions without a journey id: no attribution view credits them',
 'r.journey_id IS NULL', NULL,
 'Fill the journey ids, or map journey_id to null in touchpoints and conversions so that paths are derived from customer and time.'),
('conversions', 'journey_id', 2, 'cross', '{}', 'journey_id',
 'conversions whose journey id no touch has: no attribution view credits them',
 'SELECT count(*), min(c.journey_id::text) FROM pg_temp.source_conversions c WHERE c.journey_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.source_touchpoints t WHERE t.journey_id = c.journey_id)', NULL,
 'Check that touchpoints and conversions use the same journey ids (type, leading zeros, prefixes).'),
('conversions', 'customer_id', 1, 'row', '{}', 'customer_id',
 'conversions without a customer: no attribution view credits them',
 'r.customer_id IS NULL', NULL,
 'Map customer_id to a column or expression that every row has, or fill the rows.'),
('conversions', 'customer_id', 2, 'cross', '{}', 'customer_id',
 'conversions of customers found in no touch: no attribution view credits them',
 'SELECT count(*), min(c.customer_id::text) FROM pg_temp.source_conversions c WHERE c.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.source_touchpoints t WHERE t.customer_id = c.customer_id)', NULL,
 'Check that touchpoints and conversions use the same customer ids (type, leading zeros, prefixes).'),
('conversions', 'converted_at', 1, 'row', '{}', NULL,
 'conversions without a time: left out of every view',
 'r.converted_at IS NULL', NULL,
 'Map converted_at to a column or expression that every row has, or fill the rows.'),
('conversions', 'converted_at', 2, 'row', '{}', NULL,
 'times in the future',
 'r.converted_at > now()', 'r.converted_at::text',
 'Check the time zone the rows were written in (time_zone => ... for timestamp and date columns) and the clocks that wrote them.'),
('conversions', 'converted_at', 3, 'cross', '{}', NULL,
 'conversions repeated with the same journey or customer and time: each row counts as a conversion',
 'SELECT sum(d.n)::bigint, min(d.converted_at::text) FROM (SELECT journey_id, customer_id, converted_at, count(*) AS n FROM pg_temp.source_conversions GROUP BY 1, 2, 3 HAVING count(*) > 1) d', NULL,
 'Remove the repeated rows, or give each conversion its own time.'),
('conversions', 'converted_at', 4, 'cross', '{}', 'journey_id',
 'conversions without a touch of their journey before them: no attribution view credits them',
 'SELECT count(*), min(c.converted_at::text) FROM pg_temp.source_conversions c WHERE NOT EXISTS (SELECT 1 FROM pg_temp.attribution_paths p WHERE p.converted AND p.journey_id = c.journey_id AND p.converted_at = c.converted_at)', NULL,
 'Check that touchpoints and conversions use the same journey ids and time zones; with exclude_channels, a path of excluded channels only is empty.'),
('conversions', 'converted_at', 5, 'cross', '{}', 'customer_id',
 'conversions without a touch of their customer within lookback after the previous conversion: no attribution view credits them',
 'SELECT count(*), min(c.converted_at::text) FROM pg_temp.source_conversions c WHERE NOT EXISTS (SELECT 1 FROM pg_temp.attribution_paths p WHERE p.converted AND p.customer_id = c.customer_id AND p.converted_at = c.converted_at)', NULL,
 'Check that touchpoints and conversions use the same customer ids and time zones, or widen lookback; with exclude_channels, a path of excluded channels only is empty.');

-- The checks of a source that apply to a plan: on a column present, with
-- the columns they need present, for the way touches find conversions.
CREATE FUNCTION omnikpi.applicable_source_checks(plan jsonb, source text)
	RETURNS SETOF omnikpi.source_checks
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT c.*
	FROM omnikpi.source_checks c
	JOIN omnikpi.source_columns s ON s.source = c.source AND s.column_name = c.column_name
	WHERE c.source = applicable_source_checks.source
	  AND omnikpi.plan_has_column(plan, c.source || '.' || c.column_name)
	  AND omnikpi.absent_columns(plan, c.needs_columns) IS NULL
	  AND (c.journeys IS NULL OR c.journeys = plan ->> 'journeys')
	ORDER BY s.position, c.position
$fn$;
COMMENT ON FUNCTION omnikpi.applicable_source_checks(jsonb, text) IS
	'the checks of omnikpi.source_checks that apply to a source as a plan of resolve_sources reads it, in column order';

-- The problems of the row and value checks of one source, from one query
-- over it: every row (sample_rows NULL) or a sample of about sample_rows.
-- Known values group together, so the query's groups are the unknown
-- values, whatever the size of the data.
CREATE FUNCTION omnikpi.source_row_problems(plan jsonb, settings jsonb, source text, sample_rows bigint)
	RETURNS TABLE (column_name name, problem text, rows bigint, example text, fix text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	checks record;
	test text;
	group_keys text[] := '{}';
	aggregates text[] := ARRAY['count(*) AS n'];
	arms text[] := '{}';
	reading text := omnikpi.source_select_sql(plan, source, settings, false, sample_rows);
	hits jsonb;
	hit record;
	replacements jsonb := jsonb_build_object(
		'rating_min', quote_literal(settings #>> '{rating,0}') || '::double precision',
		'rating_max', quote_literal(settings #>> '{rating,1}') || '::double precision',
		'effort_min', quote_literal(settings #>> '{effort,0}') || '::double precision',
		'effort_max', quote_literal(settings #>> '{effort,1}') || '::double precision',
		'known_channels', quote_literal(ARRAY(SELECT jsonb_array_elements_text(settings -> l)
											  FROM unnest(ARRAY['store_channels', 'online_channels', 'other_channels']) l)::text)
						  || '::text[]',
		'phases', quote_literal(ARRAY(SELECT v.value FROM omnikpi.source_vocabularies v
									   WHERE v.vocabulary = 'phase' AND v.value = v.means)::text) || '::text[]',
		'fulfillments', quote_literal(ARRAY(SELECT v.value FROM omnikpi.source_vocabularies v
											 WHERE v.vocabulary = 'fulfillment' AND v.value = v.means)::text) || '::text[]');
	-- the settings as the problem texts show them
	shown jsonb := jsonb_build_object('rating_min', settings #>> '{rating,0}', 'rating_max', settings #>> '{rating,1}',
									  'effort_min', settings #>> '{effort,0}', 'effort_max', settings #>> '{effort,1}');
	descriptions jsonb := '{}';
	problem_text text;
	key text;
BEGIN
	FOR checks IN
		SELECT c.*, c.ordinality AS n
		FROM omnikpi.applicable_source_checks(plan, source) WITH ORDINALITY AS c
		WHERE c.scope IN ('row', 'value')
	LOOP
		test := replace(checks.test, '{value}', format('r.%I', checks.column_name));
		problem_text := checks.problem;
		FOR key IN SELECT jsonb_object_keys(replacements) LOOP
			test := replace(test, '{' || key || '}', replacements ->> key);
		END LOOP;
		FOR key IN SELECT jsonb_object_keys(shown) LOOP
			problem_text := replace(problem_text, '{' || key || '}', shown ->> key);
		END LOOP;
		descriptions := descriptions || jsonb_build_object(checks.n::text,
			jsonb_build_object('column', checks.column_name, 'problem', problem_text, 'fix', checks.fix));
		IF checks.scope = 'row' THEN
			aggregates := aggregates
				|| format('count(*) FILTER (WHERE %s) AS c%s', test, checks.n)
				|| format('min(%s) FILTER (WHERE %s) AS e%s', coalesce(checks.example, 'NULL::text'), test, checks.n);
			arms := arms || format('SELECT %s AS check_no, NULL::text AS value, sum(c%1$s)::bigint AS rows, min(e%1$s) AS example FROM groups',
								   checks.n);
		ELSE
			-- the group key: the unknown value, NULL for a known one
			group_keys := group_keys || format('CASE WHEN %s THEN r.%I END AS k%s', test, checks.column_name, checks.n);
			aggregates := aggregates || format('min(%s) AS e%s', checks.example, checks.n);
			arms := arms || format('SELECT %s, k%1$s, sum(n)::bigint, min(e%1$s) FROM groups WHERE k%1$s IS NOT NULL GROUP BY k%1$s',
								   checks.n);
		END IF;
	END LOOP;
	IF arms = '{}' THEN
		RETURN;
	END IF;
	-- One statement that returns what it found as one JSON array: executed
	-- whole (not fetched row by row, as a FOR loop over a query is), it may
	-- run in parallel.
	EXECUTE format(
		'WITH groups AS MATERIALIZED (SELECT %s FROM (%s) AS r%s),
		 found AS (%s),
		 ranked AS (
			SELECT check_no, value, rows, example,
				row_number() OVER (PARTITION BY check_no ORDER BY rows DESC, value) AS rank,
				count(*) OVER (PARTITION BY check_no) AS values_found
			FROM found WHERE rows > 0)
		 SELECT coalesce(jsonb_agg(ranked ORDER BY check_no, rank), ''[]'') FROM ranked WHERE rank <= 20',
		array_to_string(group_keys || aggregates, ', '), reading,
		CASE WHEN group_keys <> '{}' THEN ' GROUP BY ' || (SELECT string_agg(n::text, ', ') FROM generate_series(1, cardinality(group_keys)) n) ELSE '' END,
		array_to_string(arms, ' UNION ALL '))
	INTO hits;
	FOR hit IN SELECT * FROM jsonb_to_recordset(hits)
					AS h(check_no integer, value text, rows bigint, example text, rank integer, values_found bigint)
	LOOP
		column_name := descriptions #>> ARRAY[hit.check_no::text, 'column'];
		problem := format(descriptions #>> ARRAY[hit.check_no::text, 'problem'], hit.value);
		rows := hit.rows;
		example := hit.example;
		fix := format(descriptions #>> ARRAY[hit.check_no::text, 'fix'], hit.value, hit.example);
		IF hit.rank = 20 AND hit.values_found > 20 THEN
			problem := problem || format('; %s more values like it are not listed', hit.values_found - 20);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.source_row_problems(jsonb, jsonb, text, bigint) IS
	'the problems the row and value checks of omnikpi.source_checks find in one source, in one query over all its rows or a sample';

CREATE FUNCTION omnikpi.check_sources(
	interactions regclass DEFAULT NULL,
	orders regclass DEFAULT NULL,
	touchpoints regclass DEFAULT NULL,
	conversions regclass DEFAULT NULL,
	columns jsonb DEFAULT '{}',
	rating_scale_min double precision DEFAULT 1,
	rating_scale_max double precision DEFAULT 5,
	store_channels text[] DEFAULT '{store}',
	online_channels text[] DEFAULT '{web,app}',
	translations jsonb DEFAULT '{}',
	other_channels text[] DEFAULT '{call_center,chat,email,social,kiosk,sms,push,search,display,affiliate,referral,direct}',
	effort_scale_min double precision DEFAULT 1,
	effort_scale_max double precision DEFAULT 7,
	time_zone text DEFAULT NULL,
	lookback interval DEFAULT '30 days',
	max_touches integer DEFAULT NULL,
	exclude_channels text[] DEFAULT '{}')
	RETURNS TABLE (source text, column_name name, problem text, rows bigint, example text, fix text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	settings jsonb;
	plan jsonb;
	given jsonb;
	src text;
	checks record;
	layer record;
	found_rows bigint;
	found_example text;
	temporary_views text[] := '{}';
	template_args text[];
BEGIN
	settings := omnikpi.source_settings(rating_scale_min, rating_scale_max, effort_scale_min, effort_scale_max,
										store_channels, online_channels, other_channels, exclude_channels,
										time_zone, lookback, max_touches, NULL);
	given := omnikpi.given_sources(interactions, orders, touchpoints, conversions);
	plan := omnikpi.resolve_sources(given, columns, translations);

	-- The cross checks read the sources as the KPI views do: through
	-- temporary source views and, for conversions, the journey layer.
	FOR src IN SELECT s FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) s WHERE given ? s LOOP
		EXECUTE format('CREATE OR REPLACE TEMPORARY VIEW %I AS ', 'source_' || src)
			|| omnikpi.source_select_sql(plan, src, settings, true);
		temporary_views := ('source_' || src) || temporary_views;
	END LOOP;
	FOR layer IN SELECT l.* FROM omnikpi.kpi_layer_views l
				 WHERE l.view_name = 'attribution_paths' AND l.keyed_by = plan ->> 'journeys' LOOP
		template_args := omnikpi.template_arguments('pg_temp', settings, NULL, NULL);
		EXECUTE format('CREATE OR REPLACE TEMPORARY VIEW %I AS ', layer.view_name)
			|| format(layer.definition, VARIADIC template_args
					  || omnikpi.layer_inputs('pg_temp', layer.view_name, layer.keyed_by, given, template_args));
		temporary_views := layer.view_name || temporary_views;
	END LOOP;

	-- Per source in order: its row and value checks (one query), then its
	-- cross checks.
	FOR src IN SELECT s FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) s WHERE given ? s LOOP
		RETURN QUERY SELECT src, p.column_name, p.problem, p.rows, p.example, p.fix
			FROM omnikpi.source_row_problems(plan, settings, src, NULL) p;
		FOR checks IN SELECT c.* FROM omnikpi.applicable_source_checks(plan, src) c WHERE c.scope = 'cross'
		LOOP
			EXECUTE checks.test INTO found_rows, found_example;
			IF found_rows > 0 THEN
				source := checks.source;
				column_name := checks.column_name;
				problem := checks.problem;
				rows := found_rows;
				example := found_example;
				fix := checks.fix;
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;
	FOREACH src IN ARRAY temporary_views LOOP
		EXECUTE format('DROP VIEW pg_temp.%I', src);
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.check_sources(regclass, regclass, regclass, regclass, jsonb, double precision,
										  double precision, text[], text[], jsonb, text[], double precision,
										  double precision, text, interval, integer, text[]) IS
	'reads the source relations as create_kpi_views would, with the same source arguments, and returns one row per problem found (omnikpi.source_checks): source, column, problem, rows, an example value and the fix';
