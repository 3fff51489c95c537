-- ---------------------------------------------------------------------------
-- The source contract: how create_kpi_views (and check_sources) read the
-- user's own tables.
--
-- The normalized layer.  create_kpi_views puts, in the target schema, one
-- view per source relation it is given:
--   source_interactions, source_orders, source_touchpoints, source_conversions
-- one row per row of the user's relation (no key of its own: the rows are
-- the user's), with omnikpi's column names and types, in the column order
-- of omnikpi.source_columns.  These views are the one place where
--   * the mapping is applied: a mapped column is a column name or an SQL
--     expression over the relation's columns, parsed (never run) to prove it
--     is one expression, and type-checked before anything is created;
--   * absent optional columns become typed NULLs (the KPI views that need
--     them are not created);
--   * vocabularies are matched one way: channel, phase, fulfillment and
--     return channel values are trimmed, lowercased and have spaces and
--     hyphens turned into underscores (omnikpi.vocabulary_key), then
--     translated by the user's translations and omnikpi's own synonyms
--     (omnikpi.source_vocabularies), so 'Click & Collect' can mean bopis;
--   * the NULL policy holds: a row without a channel or without its time is
--     left out (it is no contact on any channel, at no time), so every view
--     agrees on what exists; check_sources counts those rows;
--   * types are converted: ids keep theirs, numbers become double precision
--     or numeric, and times become timestamptz, a date or timestamp being
--     read as local time in the time zone recorded at creation (written into
--     the view as a literal), never in the zone of the session that reads;
--   * ratings, effort and NPS outside their scales raise one clear error
--     (omnikpi.value_out_of_range) naming the table, column, rows and fix.
-- Everything above them (the journey layer, the KPI views, the daily
-- summaries of the materialized form) reads only these views, so a rule
-- written here holds in every KPI.
-- ---------------------------------------------------------------------------

-- What each column of the contract is: required or optional, the vocabulary
-- its values belong to, the scale its values must lie in, and whether a row
-- without a value is left out.
ALTER TABLE omnikpi.source_columns
	ADD COLUMN required boolean NOT NULL DEFAULT false,
	ADD COLUMN vocabulary text CHECK (vocabulary IN ('channel', 'phase', 'fulfillment')),
	ADD COLUMN scale text CHECK (scale IN ('rating', 'effort', 'nps')),
	ADD COLUMN row_needs_value boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN omnikpi.source_columns.required IS
	'whether the source relation must have the column; an optional one may be absent or mapped to null, and the views that need it are then not created';
COMMENT ON COLUMN omnikpi.source_columns.vocabulary IS
	'the vocabulary of the values (channel, phase or fulfillment), matched case-insensitively with spaces and hyphens as underscores, after the translations';
COMMENT ON COLUMN omnikpi.source_columns.scale IS
	'the scale the values must lie in: rating (rating_scale_min to rating_scale_max), effort (effort_scale_min to effort_scale_max) or nps (0 to 10)';
COMMENT ON COLUMN omnikpi.source_columns.row_needs_value IS
	'whether a row without a value in this column is left out of every view (check_sources counts such rows)';

INSERT INTO omnikpi.source_columns VALUES
	('conversions', 4, 'customer_id', 'id', '', 'the customer who converted (instead of journey_id: the journey is then the customer''s touches before the conversion)');

UPDATE omnikpi.source_columns SET required = true
WHERE (source, column_name) IN (('interactions', 'customer_id'), ('interactions', 'channel'), ('interactions', 'occurred_at'),
								('orders', 'order_id'), ('orders', 'customer_id'), ('orders', 'channel'), ('orders', 'ordered_at'),
								('touchpoints', 'channel'), ('touchpoints', 'touched_at'),
								('conversions', 'converted_at'));
UPDATE omnikpi.source_columns SET row_needs_value = true
WHERE (source, column_name) IN (('interactions', 'channel'), ('interactions', 'occurred_at'),
								('orders', 'channel'), ('orders', 'ordered_at'),
								('touchpoints', 'channel'), ('touchpoints', 'touched_at'),
								('conversions', 'converted_at'));
UPDATE omnikpi.source_columns SET vocabulary = 'channel'
WHERE column_name IN ('channel', 'return_channel');
UPDATE omnikpi.source_columns SET vocabulary = 'phase' WHERE source = 'interactions' AND column_name = 'phase';
UPDATE omnikpi.source_columns SET vocabulary = 'fulfillment' WHERE source = 'orders' AND column_name = 'fulfillment';
UPDATE omnikpi.source_columns SET scale = 'rating' WHERE source = 'interactions' AND column_name = 'satisfaction';
UPDATE omnikpi.source_columns SET scale = 'effort' WHERE source = 'interactions' AND column_name = 'effort';
UPDATE omnikpi.source_columns SET scale = 'nps' WHERE source = 'interactions' AND column_name = 'nps';
UPDATE omnikpi.source_columns SET description = v.description
FROM (VALUES
	('interactions', 'journey_id', 'the customer journey the contact belongs to; without it, a customer''s journey ends after an inactivity gap (journey_gap)'),
	('interactions', 'channel', 'the channel of the contact: web, app, store, call_center, ...; rows without one are left out'),
	('interactions', 'occurred_at', 'when the contact happened; rows without a time are left out'),
	('interactions', 'effort', 'customer effort score of the contact on the effort scale (default 1 to 7; may be NULL)'),
	('orders', 'channel', 'the purchase channel; rows without one are left out'),
	('orders', 'ordered_at', 'when the order was placed; rows without a time are left out'),
	('orders', 'fulfillment', 'delivery, bopis (click_and_collect means the same), ship_to_store or in_store'),
	('touchpoints', 'journey_id', 'the journey the marketing or service touch belongs to; without it, journeys are derived from customer_id and time'),
	('touchpoints', 'customer_id', 'the customer (needed when there is no journey_id)'),
	('touchpoints', 'channel', 'the channel of the touch; rows without one are left out'),
	('touchpoints', 'touched_at', 'when the touch happened; rows without a time are left out'),
	('conversions', 'journey_id', 'the converted journey (or customer_id instead)'),
	('conversions', 'converted_at', 'when the journey converted; rows without a time are left out')
) AS v(source, column_name, description)
WHERE source_columns.source = v.source AND source_columns.column_name = v.column_name;

-- The closed vocabularies and omnikpi's own synonyms in them.  Channels are
-- an open vocabulary: store_channels, online_channels and other_channels of
-- create_kpi_views name the expected ones.
CREATE TABLE omnikpi.source_vocabularies (
	vocabulary text NOT NULL CHECK (vocabulary IN ('phase', 'fulfillment')),
	value text NOT NULL,
	means text NOT NULL,		-- the canonical value; = value for a canonical one
	position integer,			-- order of the canonical values (the funnel's phase order)
	description text NOT NULL,
	PRIMARY KEY (vocabulary, value)
);
COMMENT ON TABLE omnikpi.source_vocabularies IS
	'the values the phase and fulfillment columns may take, in the form omnikpi.vocabulary_key gives them, with synonyms; translate others with the translations argument of create_kpi_views';
GRANT SELECT ON omnikpi.source_vocabularies TO PUBLIC;
INSERT INTO omnikpi.source_vocabularies VALUES
	('phase', 'awareness', 'awareness', 1, 'the customer learns of the offer'),
	('phase', 'consideration', 'consideration', 2, 'the customer compares and researches'),
	('phase', 'decision', 'decision', 3, 'the customer buys'),
	('phase', 'service', 'service', 4, 'after the purchase: support, returns, repairs'),
	('phase', 'loyalty', 'loyalty', 5, 'repeat purchases and recommendations'),
	('fulfillment', 'delivery', 'delivery', 1, 'shipped to the customer'),
	('fulfillment', 'bopis', 'bopis', 2, 'bought online, picked up in store'),
	('fulfillment', 'click_and_collect', 'bopis', NULL, 'the same as bopis'),
	('fulfillment', 'ship_to_store', 'ship_to_store', 3, 'shipped to a store for pickup'),
	('fulfillment', 'in_store', 'in_store', 4, 'bought and taken in the store');

-- The one matching rule of every vocabulary: trimmed, lowercased, spaces and
-- hyphens as underscores, and an empty value is no value.  A SQL function
-- of one expression, so that the planner inlines it into the source views.
CREATE FUNCTION omnikpi.vocabulary_key(value text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN nullif(pg_catalog.translate(pg_catalog.lower(pg_catalog.btrim(value)), ' -', '__'), '');
COMMENT ON FUNCTION omnikpi.vocabulary_key(text) IS
	'the form in which omnikpi matches channel, phase and fulfillment values: trimmed, lowercased, spaces and hyphens as underscores, NULL when empty';

CREATE FUNCTION omnikpi.expression_problem(expression text) RETURNS text
	AS 'MODULE_PATHNAME', 'omnikpi_expression_problem' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION omnikpi.expression_problem(text) IS
	'NULL when the text is exactly one SQL value expression (parsed, never run), else what more it is; a syntax error is raised';

-- Raises the error one problem list gives: the first problem's SQLSTATE, one
-- line per problem in the DETAIL and one fix per problem in the HINT.
-- Problems are objects {"source", "column", "sqlstate", "problem", "fix"}.
CREATE FUNCTION omnikpi.raise_problems(message text, problems jsonb) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	details text;
	fixes text;
BEGIN
	IF jsonb_array_length(problems) = 0 THEN
		RETURN;
	END IF;
	SELECT string_agg(concat_ws('.', p ->> 'source', p ->> 'column') || ': ' || (p ->> 'problem'), E'\n' ORDER BY n),
		   string_agg(concat_ws('.', p ->> 'source', p ->> 'column') || ': ' || (p ->> 'fix'), E'\n' ORDER BY n)
			   FILTER (WHERE p ->> 'fix' IS NOT NULL)
	INTO details, fixes
	FROM jsonb_array_elements(problems) WITH ORDINALITY AS e(p, n);
	RAISE EXCEPTION '%', CASE WHEN jsonb_array_length(problems) = 1 THEN 'one problem ' || message
							  ELSE jsonb_array_length(problems) || ' problems ' || message END
		USING ERRCODE = problems -> 0 ->> 'sqlstate', DETAIL = details, HINT = fixes;
END
$fn$;
COMMENT ON FUNCTION omnikpi.raise_problems(text, jsonb) IS
	'raises one error listing every problem of a list (DETAIL) with its fix (HINT), with the first problem''s SQLSTATE';

-- The settings every source reading shares, checked, with the channel lists
-- in the form the data is matched in.
CREATE FUNCTION omnikpi.source_settings(
	rating_scale_min double precision, rating_scale_max double precision,
	effort_scale_min double precision, effort_scale_max double precision,
	store_channels text[], online_channels text[], other_channels text[], exclude_channels text[],
	time_zone text, lookback interval, max_touches integer, journey_gap interval)
	RETURNS jsonb
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	zone text := coalesce(time_zone, current_setting('TimeZone'));
	scale record;
	lists jsonb := '{}';
	list_name text;
	list text[];
BEGIN
	FOR scale IN SELECT * FROM (VALUES ('rating', rating_scale_min, rating_scale_max, '0 and 10'),
									   ('effort', effort_scale_min, effort_scale_max, '1 and 5')) AS v(name, low, high, example)
	LOOP
		IF NOT (scale.low < scale.high) OR scale.low IN ('Infinity', '-Infinity') OR scale.high IN ('Infinity', '-Infinity') THEN
			RAISE EXCEPTION 'invalid % scale % to %', scale.name, scale.low, scale.high
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = format('Pass the survey''s scale with %1$s_scale_min < %1$s_scale_max, e.g. %2$s.', scale.name, scale.example);
		END IF;
	END LOOP;
	-- journey_gap is NULL for check_sources, which has no journeys of interactions
	IF NOT (lookback > interval '0') OR journey_gap <= interval '0' THEN
		RAISE EXCEPTION 'lookback and journey_gap must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_touches < 1 THEN
		RAISE EXCEPTION 'max_touches must be at least 1, not %', max_touches
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Leave it NULL to keep every touch in the lookback window.';
	END IF;
	BEGIN
		PERFORM now() AT TIME ZONE zone;
	EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
		RAISE EXCEPTION 'time zone "%" is not recognized', zone
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name a zone of pg_timezone_names, e.g. ''Europe/Berlin'' or ''UTC''.';
	END;
	FOREACH list_name IN ARRAY ARRAY['store_channels', 'online_channels', 'other_channels', 'exclude_channels'] LOOP
		list := CASE list_name WHEN 'store_channels' THEN store_channels WHEN 'online_channels' THEN online_channels
							   WHEN 'other_channels' THEN other_channels ELSE exclude_channels END;
		IF list IS NULL OR array_position(list, NULL) IS NOT NULL THEN
			RAISE EXCEPTION '% must be an array of channel names without NULLs', list_name
				USING ERRCODE = 'null_value_not_allowed';
		END IF;
		lists := lists || jsonb_build_object(list_name,
			(SELECT coalesce(jsonb_agg(DISTINCT omnikpi.vocabulary_key(c)) FILTER (WHERE omnikpi.vocabulary_key(c) IS NOT NULL), '[]')
			 FROM unnest(list) c));
	END LOOP;
	RETURN lists || jsonb_build_object(
		'time_zone', zone,
		'rating', jsonb_build_array(rating_scale_min, rating_scale_max),
		'effort', jsonb_build_array(effort_scale_min, effort_scale_max),
		'nps', jsonb_build_array(0, 10),
		'lookback', lookback, 'max_touches', max_touches, 'journey_gap', journey_gap);
END
$fn$;
COMMENT ON FUNCTION omnikpi.source_settings(double precision, double precision, double precision, double precision,
											 text[], text[], text[], text[], text, interval, integer, interval) IS
	'checks the settings create_kpi_views and check_sources share and returns them as JSON, with the channel lists matched as the data is';

-- Whether the plan of resolve_sources reads a column: 'source.column' is
-- mapped or found, not absent.
CREATE FUNCTION omnikpi.plan_has_column(plan jsonb, source_column text) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
RETURN coalesce(jsonb_typeof(plan #> ARRAY[split_part(source_column, '.', 1), 'columns', split_part(source_column, '.', 2)])
				= 'object', false);
COMMENT ON FUNCTION omnikpi.plan_has_column(jsonb, text) IS
	'whether a source column (source.column) is present in a plan of resolve_sources, rather than absent';

-- The source columns of a list (source.column) a plan does not read, in
-- order; NULL when it reads them all.
CREATE FUNCTION omnikpi.absent_columns(plan jsonb, source_columns text[]) RETURNS text[]
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
RETURN (SELECT array_agg(c ORDER BY c) FROM unnest(source_columns) c WHERE NOT omnikpi.plan_has_column(plan, c));
COMMENT ON FUNCTION omnikpi.absent_columns(jsonb, text[]) IS
	'the source columns (source.column) of a list that a plan of resolve_sources does not read, or NULL';

-- The source relations given to create_kpi_views or check_sources, as
-- {"<source>": oid}; at least one.
CREATE FUNCTION omnikpi.given_sources(interactions regclass, orders regclass, touchpoints regclass,
									  conversions regclass)
	RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	given jsonb := jsonb_strip_nulls(jsonb_build_object(
		'interactions', interactions::oid, 'orders', orders::oid,
		'touchpoints', touchpoints::oid, 'conversions', conversions::oid));
BEGIN
	IF given = '{}' THEN
		RAISE EXCEPTION 'no source relation given'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass at least one of interactions, orders, touchpoints and conversions.';
	END IF;
	RETURN given;
END
$fn$;
COMMENT ON FUNCTION omnikpi.given_sources(regclass, regclass, regclass, regclass) IS
	'the source relations given, as JSON keyed by source; raises when there is none';

-- Raises an error caught from generated SQL again, with its SQLSTATE,
-- message, detail and hint but not the statement, which its context would
-- show the user.
CREATE FUNCTION omnikpi.raise_again(state text, message text, detail text, hint text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF coalesce(hint, '') = '' THEN
		RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = coalesce(detail, '');
	END IF;
	RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = coalesce(detail, ''), HINT = hint;
END
$fn$;
COMMENT ON FUNCTION omnikpi.raise_again(text, text, text, text) IS
	'raises an error caught from generated SQL again without the statement in its context';

-- An example mapping entry, as JSON, for a hint.
CREATE FUNCTION omnikpi.mapping_example(source text, column_name text, expression text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
RETURN jsonb_build_object(source, jsonb_build_object(column_name, expression))::text;
COMMENT ON FUNCTION omnikpi.mapping_example(text, text, text) IS
	'the columns entry that maps a column of a source to an expression, as JSON text, for hints';

-- Checks the relations, the column mapping and the translations at once and
-- raises one error listing every problem.  Returns the plan the source
-- views are built from:
--   {"<source>": {"relation": oid, "relation_name": text,
--                 "columns": {"<column>": {"sql": fragment, "given": text, "type": text,
--                                          "base": text} or null (absent)}},
--    "translations": {"channel": {key: value}, "phase": {...}, "fulfillment": {...}},
--    "journeys": "journey_id" or "customer_id" (how touches find their conversions)}
-- A fragment is a quoted column name or "((<expression>\n))": one value in
-- any context.  relations maps each given source to its relation's OID.
CREATE FUNCTION omnikpi.resolve_sources(relations jsonb, columns jsonb, translations jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	problems jsonb := '[]';
	plan jsonb := '{}';
	src text;
	relation regclass;
	mapping jsonb;
	source_plan jsonb;
	wanted record;
	entry jsonb;
	given text;
	fragment text;
	type_oid oid;
	base_oid oid;
	category "char";
	problem text;
	state text;
	bad text;
	vocab text;
	canonical text;
	translated jsonb;
	user_keys jsonb;
	key text;
	target text;
	pair record;
	left_type text;
	right_type text;
BEGIN
	IF columns IS NULL OR jsonb_typeof(columns) <> 'object' THEN
		RAISE EXCEPTION 'columns must be a JSON object keyed by source'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"interactions": {"customer_id": "cust_no"}}.';
	END IF;
	IF translations IS NULL OR jsonb_typeof(translations) <> 'object' THEN
		RAISE EXCEPTION 'translations must be a JSON object keyed by vocabulary'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"fulfillment": {"Click & Collect": "bopis"}, "channel": {"Online Shop": "web"}}.';
	END IF;
	FOR bad IN SELECT k FROM jsonb_object_keys(columns) k
			   WHERE k NOT IN ('interactions', 'orders', 'touchpoints', 'conversions') ORDER BY k LOOP
		problems := problems || jsonb_build_object('source', 'columns', 'column', bad, 'sqlstate', '22023',
			'problem', 'it names no source.',
			'fix', 'Key the columns mapping by interactions, orders, touchpoints or conversions.');
	END LOOP;

	FOR src IN SELECT s FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) WITH ORDINALITY u(s, n)
			   WHERE relations ? s ORDER BY n LOOP
		relation := (relations ->> src)::oid;
		mapping := coalesce(columns -> src, '{}');
		IF jsonb_typeof(mapping) <> 'object' THEN
			problems := problems || jsonb_build_object('source', src, 'sqlstate', '22023',
				'problem', 'its mapping is not a JSON object.',
				'fix', format('Map omnikpi''s column names to yours, e.g. %s.', omnikpi.mapping_example(src, 'channel', 'your_column')));
			mapping := '{}';
		END IF;
		FOR bad IN SELECT k FROM jsonb_object_keys(mapping) k
				   WHERE NOT EXISTS (SELECT 1 FROM omnikpi.source_columns c WHERE c.source = src AND c.column_name = k)
				   ORDER BY k LOOP
			problems := problems || jsonb_build_object('source', src, 'column', bad, 'sqlstate', '22023',
				'problem', format('"%s" is not a column omnikpi reads from %s.', bad, src),
				'fix', format('Use one of %s (omnikpi.source_columns).',
							  (SELECT string_agg(c.column_name, ', ' ORDER BY c.position) FROM omnikpi.source_columns c WHERE c.source = src)));
		END LOOP;

		source_plan := jsonb_build_object('relation', relation::oid, 'relation_name', relation::text, 'columns', '{}'::jsonb);
		FOR wanted IN SELECT c.* FROM omnikpi.source_columns c WHERE c.source = src ORDER BY c.position LOOP
			entry := mapping -> wanted.column_name::text;
			given := NULL;
			fragment := NULL;
			type_oid := NULL;
			IF entry IS NOT NULL AND jsonb_typeof(entry) NOT IN ('string', 'null') THEN
				problems := problems || jsonb_build_object('source', src, 'column', wanted.column_name, 'sqlstate', '22023',
					'problem', format('its mapping is a JSON %s, not a string.', jsonb_typeof(entry)),
					'fix', format('Give a column name or an SQL expression in a JSON string, e.g. %s.',
								  omnikpi.mapping_example(src, wanted.column_name, 'your_column')));
				CONTINUE;
			ELSIF jsonb_typeof(entry) = 'null' THEN
				-- mapped to null: absent on purpose
				NULL;
			ELSE
				given := coalesce(entry #>> '{}', wanted.column_name);
				SELECT a.atttypid INTO type_oid
				FROM pg_attribute a
				WHERE a.attrelid = relation AND a.attname = given AND a.attnum > 0 AND NOT a.attisdropped;
				IF FOUND THEN
					fragment := quote_ident(given);
				ELSIF entry IS NULL THEN
					-- not mapped, and no column of omnikpi's name: absent
					given := NULL;
				ELSE
					-- Not a column of the relation: one SQL expression over its
					-- columns.  Parsed first, never run, so that it cannot end
					-- or extend the statement; then typed by planning a query
					-- that reads no row.  A WHERE clause takes no aggregate,
					-- window or set-returning function, as a row value must not.
					problem := NULL;
					BEGIN
						problem := omnikpi.expression_problem(given);
					EXCEPTION WHEN syntax_error THEN
						-- the parser quotes the text it read, with the line end
						-- and parenthesis that close it: not the user's
						problem := regexp_replace(SQLERRM, E'\n\\)"$', '"');
					END;
					IF problem IS NOT NULL THEN
						problems := problems || jsonb_build_object('source', src, 'column', wanted.column_name, 'sqlstate', '42601',
							'problem', format('"%s" is neither a column of %s nor one SQL expression: %s.', given, relation, problem),
							'fix', format('Name a column, or write one expression over the columns of %s, e.g. %s.', relation,
										  omnikpi.mapping_example(src, wanted.column_name, 'nullif(your_column, '''')')));
						CONTINUE;
					END IF;
					fragment := format(E'((%s\n))', given);
					BEGIN
						EXECUTE format('SELECT pg_typeof(s.x)::oid FROM (SELECT 1) AS one LEFT JOIN (SELECT %1$s AS x FROM %2$s WHERE %1$s IS NULL LIMIT 0) AS s ON true',
									   fragment, relation)
							INTO type_oid;
					EXCEPTION WHEN OTHERS THEN
						GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
						problems := problems || jsonb_build_object('source', src, 'column', wanted.column_name, 'sqlstate', state,
							'problem', format('"%s" is neither a column of %s nor an expression over its columns: %s.', given, relation, SQLERRM),
							'fix', format('Name a column of %s, or write an expression over its columns, e.g. %s.', relation,
										  omnikpi.mapping_example(src, wanted.column_name, 'your_column')));
						CONTINUE;
					END;
				END IF;
			END IF;

			IF fragment IS NULL THEN
				IF wanted.required THEN
					problems := problems || jsonb_build_object('source', src, 'column', wanted.column_name,
						'sqlstate', CASE WHEN entry IS NULL THEN '42703' ELSE '22004' END,
						'problem', CASE WHEN entry IS NULL THEN format('%s has no column %s, and the mapping names none.', relation, wanted.column_name)
										ELSE 'it is required and cannot be mapped to null.' END,
						'fix', format('Name the column or expression that gives it, e.g. %s.',
									  omnikpi.mapping_example(src, wanted.column_name, 'your_column')));
				END IF;
				source_plan := jsonb_set(source_plan, ARRAY['columns', wanted.column_name::text], 'null');
				CONTINUE;
			END IF;

			SELECT coalesce(nullif(t.typbasetype, 0), t.oid), b.typcategory INTO base_oid, category
			FROM pg_type t JOIN pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
			WHERE t.oid = type_oid;
			IF (wanted.kind = 'time' AND base_oid NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype))
			   OR (wanted.kind = 'number' AND category <> 'N')
			   OR (wanted.kind = 'flag' AND base_oid <> 'boolean'::regtype) THEN
				-- what the fix converts: the column, or the user's expression
				bad := CASE WHEN fragment = quote_ident(given) THEN fragment ELSE format('(%s)', given) END;
				problems := problems || jsonb_build_object('source', src, 'column', wanted.column_name, 'sqlstate', '42804',
					'problem', format('%s is %s, which cannot be read as %s.',
									  CASE WHEN fragment = quote_ident(given) THEN format('column "%s" of %s', given, relation)
										   ELSE format('"%s"', given) END,
									  format_type(type_oid, NULL),
									  CASE wanted.kind WHEN 'time' THEN 'a time (date, timestamp or timestamptz)'
													   WHEN 'number' THEN 'a number' ELSE 'a boolean' END),
					'fix', format('Map it to an expression that converts it, e.g. %s.',
								  omnikpi.mapping_example(src, wanted.column_name,
									  CASE WHEN wanted.kind = 'time' AND category = 'N' THEN format('to_timestamp(%s)', bad)
										   WHEN wanted.kind = 'time' AND category = 'S' THEN format('to_timestamp(%s, ''YYYY-MM-DD HH24:MI:SS'')', bad)
										   WHEN wanted.kind = 'time' THEN format('%s::timestamptz', bad)
										   WHEN wanted.kind = 'number' THEN format('nullif(%s, '''')::numeric', bad)
										   WHEN category = 'N' THEN format('%s <> 0', bad)
										   ELSE format('%s = ''Y''', bad) END)));
				CONTINUE;
			END IF;
			source_plan := jsonb_set(source_plan, ARRAY['columns', wanted.column_name::text],
				jsonb_build_object('sql', fragment, 'given', given, 'type', format_type(type_oid, NULL),
								   'base', format_type(base_oid, NULL)));
		END LOOP;
		plan := plan || jsonb_build_object(src, source_plan);
	END LOOP;

	-- The keys joined across sources must compare; an absent one is no problem here.
	FOR pair IN SELECT * FROM (VALUES
		('interactions', 'orders', 'customer_id'),
		('touchpoints', 'conversions', 'journey_id'),
		('touchpoints', 'conversions', 'customer_id')) AS p(left_source, right_source, column_name)
	LOOP
		left_type := plan #>> ARRAY[pair.left_source, 'columns', pair.column_name, 'type'];
		right_type := plan #>> ARRAY[pair.right_source, 'columns', pair.column_name, 'type'];
		CONTINUE WHEN left_type IS NULL OR right_type IS NULL;
		BEGIN
			EXECUTE format('SELECT NULL::%s = NULL::%s', left_type, right_type);
		EXCEPTION WHEN OTHERS THEN
			problems := problems || jsonb_build_object('source', pair.right_source, 'column', pair.column_name, 'sqlstate', '42804',
				'problem', format('it is %s, but %s.%s is %s: the two cannot be compared.', right_type, pair.left_source,
								  pair.column_name, left_type),
				'fix', format('Give both the same type with an expression, e.g. %s.',
							  omnikpi.mapping_example(pair.right_source, pair.column_name,
								  format('%s::%s', coalesce(plan #>> ARRAY[pair.right_source, 'columns', pair.column_name, 'given'], pair.column_name),
										 left_type))));
		END;
	END LOOP;
	-- Touches find their conversion by journey_id, or else by customer and
	-- time (a key column with a problem of its own is reported as that).
	IF plan ? 'touchpoints' AND plan ? 'conversions' THEN
		IF omnikpi.plan_has_column(plan, 'touchpoints.journey_id') AND omnikpi.plan_has_column(plan, 'conversions.journey_id') THEN
			plan := plan || '{"journeys": "journey_id"}';
		ELSIF omnikpi.plan_has_column(plan, 'touchpoints.customer_id') AND omnikpi.plan_has_column(plan, 'conversions.customer_id') THEN
			plan := plan || '{"journeys": "customer_id"}';
		ELSIF plan #> '{touchpoints,columns,journey_id}' IS NOT NULL AND plan #> '{conversions,columns,journey_id}' IS NOT NULL
			  AND plan #> '{touchpoints,columns,customer_id}' IS NOT NULL AND plan #> '{conversions,columns,customer_id}' IS NOT NULL THEN
			problems := problems || jsonb_build_object('source', 'conversions', 'sqlstate', '42703',
				'problem', 'touchpoints and conversions share neither journey_id nor customer_id, so no touch can be tied to a conversion.',
				'fix', 'Map journey_id in both, or customer_id in both (journeys are then derived from the customer''s touches before each conversion).');
		END IF;
	END IF;

	-- Translations: per vocabulary, the user's values (in matching form) to
	-- omnikpi's; the closed vocabularies' synonyms first, the user's over them.
	FOR bad IN SELECT k FROM jsonb_object_keys(translations) k WHERE k NOT IN ('channel', 'phase', 'fulfillment') ORDER BY k LOOP
		problems := problems || jsonb_build_object('source', 'translations', 'column', bad, 'sqlstate', '22023',
			'problem', format('"%s" is not a vocabulary.', bad),
			'fix', 'Key the translations by channel, phase or fulfillment.');
	END LOOP;
	FOREACH vocab IN ARRAY ARRAY['channel', 'phase', 'fulfillment'] LOOP
		SELECT coalesce(jsonb_object_agg(v.value, v.means), '{}'),
			   string_agg(v.value, ', ' ORDER BY v.position) FILTER (WHERE v.value = v.means)
		INTO translated, canonical
		FROM omnikpi.source_vocabularies v WHERE v.vocabulary = vocab;
		translated := (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(translated) e
					   WHERE e.key <> e.value #>> '{}');
		user_keys := '{}';
		IF translations ? vocab AND jsonb_typeof(translations -> vocab) <> 'object' THEN
			problems := problems || jsonb_build_object('source', 'translations', 'column', vocab, 'sqlstate', '22023',
				'problem', 'its translations are not a JSON object.',
				'fix', format('Map your values to omnikpi''s, e.g. {"%s": {"Your Value": "%s"}}.', vocab,
							  CASE vocab WHEN 'phase' THEN 'awareness' WHEN 'fulfillment' THEN 'bopis' ELSE 'web' END));
		ELSIF translations ? vocab THEN
			FOR key, entry IN SELECT e.key, e.value FROM jsonb_each(translations -> vocab) e ORDER BY e.key LOOP
				target := CASE WHEN jsonb_typeof(entry) = 'string' THEN omnikpi.vocabulary_key(entry #>> '{}') END;
				IF target IS NULL OR omnikpi.vocabulary_key(key) IS NULL
				   OR (vocab <> 'channel' AND NOT EXISTS (SELECT 1 FROM omnikpi.source_vocabularies v
														  WHERE v.vocabulary = vocab AND v.value = target AND v.means = target)) THEN
					problems := problems || jsonb_build_object('source', 'translations', 'column', vocab, 'sqlstate', '22023',
						'problem', format('"%s" is translated to %s, which is not %s.', key, entry,
										  CASE vocab WHEN 'channel' THEN 'a channel name' ELSE 'one of ' || canonical END),
						'fix', format('Translate each value to %s.',
									  CASE vocab WHEN 'channel' THEN 'a non-empty channel name' ELSE 'one of ' || canonical END));
				ELSIF user_keys ? omnikpi.vocabulary_key(key) AND user_keys ->> omnikpi.vocabulary_key(key) <> target THEN
					problems := problems || jsonb_build_object('source', 'translations', 'column', vocab, 'sqlstate', '22023',
						'problem', format('"%s" is translated twice, to "%s" and to "%s" (values are matched as "%s").', key,
										  user_keys ->> omnikpi.vocabulary_key(key), target, omnikpi.vocabulary_key(key)),
						'fix', 'Translate each value once.');
				ELSE
					user_keys := user_keys || jsonb_build_object(omnikpi.vocabulary_key(key), target);
				END IF;
			END LOOP;
		END IF;
		-- a value translated to itself needs no CASE branch
		translated := (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(translated || user_keys) e
					   WHERE e.key <> e.value #>> '{}');
		plan := jsonb_set(plan, ARRAY['translations'], coalesce(plan -> 'translations', '{}') || jsonb_build_object(vocab, translated));
	END LOOP;

	PERFORM omnikpi.raise_problems('in the mapping of the source columns', problems);
	RETURN plan;
END
$fn$;
COMMENT ON FUNCTION omnikpi.resolve_sources(jsonb, jsonb, jsonb) IS
	'checks the source relations, the column mapping and the translations of create_kpi_views or check_sources, raising one error that lists every problem, and returns the plan the source views are built from';

-- The SQL of one column of a source view (or of check_sources' reading of
-- the relation), from its fragment in the plan: omnikpi's type, the time read
-- in the recorded zone, the vocabulary matched and translated.  NULL when
-- the column is absent.
CREATE FUNCTION omnikpi.source_column_sql(plan jsonb, source text, column_name name, settings jsonb)
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	wanted record;
	c jsonb := plan #> ARRAY[source, 'columns', column_name::text];
	matched text;
BEGIN
	SELECT s.* INTO wanted FROM omnikpi.source_columns s WHERE s.source = source_column_sql.source AND s.column_name = source_column_sql.column_name;
	IF jsonb_typeof(c) IS DISTINCT FROM 'object' THEN
		RETURN NULL;
	END IF;
	IF wanted.vocabulary IS NOT NULL THEN
		matched := format('omnikpi.vocabulary_key((%s)::text)', c ->> 'sql');
		IF plan #> ARRAY['translations', wanted.vocabulary] <> '{}' THEN
			matched := format('CASE %s %s ELSE %s END', matched,
							  (SELECT string_agg(format('WHEN %L THEN %L', e.key, e.value #>> '{}'), ' ' ORDER BY e.key)
							   FROM jsonb_each(plan #> ARRAY['translations', wanted.vocabulary]) e),
							  matched);
		END IF;
		RETURN matched;
	END IF;
	RETURN CASE
		WHEN wanted.kind = 'time' AND c ->> 'base' = 'timestamp with time zone' THEN format('(%s)::timestamptz', c ->> 'sql')
		-- a date or a timestamp is local time in the recorded zone, whatever
		-- the zone of the session that reads
		WHEN wanted.kind = 'time' AND c ->> 'base' = 'timestamp without time zone'
			THEN format('((%s)::timestamp AT TIME ZONE %L)', c ->> 'sql', settings ->> 'time_zone')
		WHEN wanted.kind = 'time' THEN format('((%s)::date::timestamp AT TIME ZONE %L)', c ->> 'sql', settings ->> 'time_zone')
		WHEN wanted.read_as <> '' THEN format('(%s)::%s', c ->> 'sql', wanted.read_as)
		ELSE c ->> 'sql' END;
END
$fn$;
COMMENT ON FUNCTION omnikpi.source_column_sql(jsonb, text, name, jsonb) IS
	'the SQL expression of one column of a source view as omnikpi reads it (type, time zone, vocabulary), or NULL when the column is absent';

-- The SELECT of a source view: every column of the contract in order, as
-- omnikpi reads it, an absent one as a typed NULL.  checked: what the KPI
-- views read (values outside their scale raise the error of
-- value_out_of_range; rows without a channel or time are left out).
-- Unchecked, for check_sources: nothing raises, nothing is left out, and
-- every vocabulary column <c> has a <c>_given beside it with the value as
-- the data has it.  sample_rows: read at most about that many rows, from
-- blocks spread over a table (TABLESAMPLE SYSTEM), the first ones of a view.
CREATE FUNCTION omnikpi.source_select_sql(plan jsonb, source text, settings jsonb, checked boolean,
										  sample_rows bigint DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	wanted record;
	select_list text[] := '{}';
	needed text[] := '{}';
	value_sql text;
	time_column name;
	sampling text;
	relation regclass := (plan #>> ARRAY[source, 'relation'])::oid;
BEGIN
	SELECT c.column_name INTO time_column FROM omnikpi.source_columns c
	WHERE c.source = source_select_sql.source AND c.kind = 'time' AND c.row_needs_value;
	FOR wanted IN SELECT c.* FROM omnikpi.source_columns c WHERE c.source = source_select_sql.source ORDER BY c.position LOOP
		value_sql := omnikpi.source_column_sql(plan, source, wanted.column_name, settings);
		IF value_sql IS NULL THEN
			select_list := select_list || format('NULL::%s AS %I', coalesce(nullif(wanted.read_as, ''), 'text'), wanted.column_name);
			CONTINUE;
		END IF;
		IF checked AND wanted.scale IS NOT NULL THEN
			value_sql := format('CASE WHEN %1$s IS NULL OR %1$s BETWEEN %2$L AND %3$L THEN %1$s ELSE omnikpi.value_out_of_range(%1$s, %4$s, %5$s, %6$L::jsonb) END',
				value_sql, settings #> ARRAY[wanted.scale, '0'], settings #> ARRAY[wanted.scale, '1'],
				omnikpi.source_column_sql(plan, source, 'channel', settings),
				omnikpi.source_column_sql(plan, source, time_column, settings),
				jsonb_build_object('source', source, 'column', wanted.column_name, 'scale', wanted.scale,
								   'min', settings #> ARRAY[wanted.scale, '0'], 'max', settings #> ARRAY[wanted.scale, '1'],
								   'relation', relation::oid, 'relation_name', relation::text,
								   'given', plan #>> ARRAY[source, 'columns', wanted.column_name::text, 'given'],
								   'sql', plan #>> ARRAY[source, 'columns', wanted.column_name::text, 'sql'],
								   'time_zone', settings ->> 'time_zone'));
		END IF;
		select_list := select_list || format('%s AS %I', value_sql, wanted.column_name);
		IF NOT checked AND wanted.vocabulary IS NOT NULL THEN
			select_list := select_list || format('(%s)::text AS %I', plan #>> ARRAY[source, 'columns', wanted.column_name::text, 'sql'],
												 wanted.column_name || '_given');
		END IF;
		-- A vocabulary value is NULL after matching exactly when it is NULL
		-- or blank before: the cheaper test.
		IF checked AND wanted.row_needs_value AND wanted.vocabulary IS NOT NULL THEN
			needed := needed || format('btrim((%s)::text) <> %L', plan #>> ARRAY[source, 'columns', wanted.column_name::text, 'sql'], '');
		ELSIF checked AND wanted.row_needs_value THEN
			needed := needed || format('%s IS NOT NULL', value_sql);
		END IF;
	END LOOP;
	SELECT CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples > sample_rows
				THEN format(' TABLESAMPLE SYSTEM (%s)', least(100, 200.0 * sample_rows / c.reltuples)) ELSE '' END
	INTO sampling FROM pg_class c WHERE c.oid = relation;
	RETURN format('SELECT %s FROM %s', array_to_string(select_list, ', '), relation) || coalesce(sampling, '')
		|| CASE WHEN needed <> '{}' THEN ' WHERE ' || array_to_string(needed, ' AND ') ELSE '' END
		|| CASE WHEN sample_rows IS NOT NULL THEN ' LIMIT ' || sample_rows ELSE '' END;
END
$fn$;
COMMENT ON FUNCTION omnikpi.source_select_sql(jsonb, text, jsonb, boolean, bigint) IS
	'the SELECT of a source view of create_kpi_views (checked) or of the reading check_sources makes (unchecked), from the plan of resolve_sources';

-- The error of a rating, effort score or NPS answer outside its scale, raised
-- from inside the source view so that every KPI view, plain or materialized,
-- gives the same one.  about says what the source view knows: the source,
-- its column, the scale, the user's relation and the column's SQL, used to
-- count the rows outside the scale.  STABLE (it only reads), so that it
-- does not keep the planner from flattening the source view.
CREATE FUNCTION omnikpi.value_out_of_range(value double precision, channel text, happened_at timestamptz, about jsonb)
	RETURNS double precision
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	outside bigint;
	scale_name text := CASE about ->> 'scale' WHEN 'rating' THEN 'rating' WHEN 'effort' THEN 'effort' ELSE 'NPS' END;
	fix text;
BEGIN
	-- The count re-reads the user's relation with the same column SQL, which
	-- resolve_sources proved to be one expression; if that fails (the column
	-- was renamed since), the error goes without it.
	BEGIN
		IF omnikpi.expression_problem(about ->> 'sql') IS NULL THEN
			EXECUTE format('SELECT count(*) FROM %s WHERE NOT ((%s)::double precision BETWEEN $1 AND $2)',
						   (about ->> 'relation')::oid::regclass, about ->> 'sql')
				INTO outside USING (about ->> 'min')::double precision, (about ->> 'max')::double precision;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		outside := NULL;
	END;
	fix := CASE about ->> 'scale'
		WHEN 'rating' THEN 'Pass the survey''s scale to create_kpi_views (rating_scale_min => ..., rating_scale_max => ...), '
		WHEN 'effort' THEN 'Pass the survey''s scale to create_kpi_views (effort_scale_min => ..., effort_scale_max => ...), '
		ELSE 'NPS answers are 0 to 10: ' END
		|| format('map %s to an expression that converts the values%s, or correct the rows; omnikpi.check_sources lists them.',
				  about ->> 'column',
				  CASE WHEN about ->> 'sql' = quote_ident(about ->> 'given') AND about ->> 'scale' <> 'nps'
					   THEN format(' (e.g. %s)', omnikpi.mapping_example(about ->> 'source', about ->> 'column',
																		 format('%s / 2.0', about ->> 'sql')))
					   ELSE '' END);
	RAISE EXCEPTION '% % in % is outside the % scale % to %', about ->> 'column', value, about ->> 'relation_name',
		scale_name, about ->> 'min', about ->> 'max'
		USING ERRCODE = 'numeric_value_out_of_range',
			  DETAIL = format('%s of %s (%s, read as %s.%s) %s outside the scale; this one is on channel "%s" on %s (time zone %s).',
							  CASE WHEN outside IS NULL THEN 'Rows' WHEN outside = 1 THEN '1 row' ELSE outside || ' rows' END,
							  about ->> 'relation_name',
							  CASE WHEN about ->> 'sql' = quote_ident(about ->> 'given') THEN format('column "%s"', about ->> 'given')
								   ELSE format('"%s"', about ->> 'given') END,
							  about ->> 'source', about ->> 'column',
							  CASE WHEN outside = 1 THEN 'is' ELSE 'are' END,
							  channel, (happened_at AT TIME ZONE (about ->> 'time_zone'))::date, about ->> 'time_zone'),
			  HINT = fix;
END
$fn$;
COMMENT ON FUNCTION omnikpi.value_out_of_range(double precision, text, timestamptz, jsonb) IS
	'raises the error of a rating, effort score or NPS answer outside its scale, with the table, column, channel, day and number of rows';
