\echo Use "CREATE EXTENSION omnikpi" to load this file. \quit

-- ---------------------------------------------------------------------------
-- channel_summary: per-channel count, sum, min and max of a measure.
-- The transition state of every KPI aggregate, storable and exactly combinable.
-- ---------------------------------------------------------------------------

CREATE TYPE channel_summary;

CREATE FUNCTION omnikpi_summary_in(cstring) RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_summary_out(channel_summary) RETURNS cstring
	AS 'MODULE_PATHNAME', 'omnikpi_summary_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_summary_recv(internal) RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_summary_send(channel_summary) RETURNS bytea
	AS 'MODULE_PATHNAME', 'omnikpi_summary_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE channel_summary (
	INPUT = omnikpi_summary_in,
	OUTPUT = omnikpi_summary_out,
	RECEIVE = omnikpi_summary_recv,
	SEND = omnikpi_summary_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE channel_summary IS
	'per-channel count, sum, min and max of a measure; combine with rollup(), read with experience_rating(), integration_index(), channels()';

-- Transition, combine and final functions.  The transition functions are not
-- STRICT: rows with a NULL channel or value are skipped, and the first usable
-- row creates the state.

CREATE FUNCTION omnikpi_summary_value_trans(channel_summary, text, double precision)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_value_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_summary_flag_trans(channel_summary, text, boolean)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_flag_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_rating_trans(channel_summary, text, double precision)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_rating_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_rating_scaled_trans(channel_summary, text, double precision,
											double precision, double precision)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_rating_scaled_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_score_trans(channel_summary, text, double precision)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_score_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_summary_combine(channel_summary, channel_summary)
	RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_kpi_final(channel_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_kpi_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Moving-aggregate mode (window frames whose head moves): an internal state
-- with exact sums, so that removing a row undoes adding it.

CREATE FUNCTION omnikpi_rating_mtrans(internal, text, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_rating_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_rating_minv(internal, text, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_rating_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_rating_scaled_mtrans(internal, text, double precision,
											 double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_rating_scaled_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_rating_scaled_minv(internal, text, double precision,
										   double precision, double precision)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_rating_scaled_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_score_mtrans(internal, text, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_score_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_score_minv(internal, text, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_score_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_flag_mtrans(internal, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_flag_mtrans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_flag_minv(internal, text, boolean) RETURNS internal
	AS 'MODULE_PATHNAME', 'omnikpi_flag_minv' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_moving_kpi_final(internal) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_moving_kpi_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION omnikpi_summary_final(channel_summary) RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- The headline KPIs
-- ---------------------------------------------------------------------------

-- SSPACE of every channel_summary aggregate: the state of a typical small
-- group (a customer, a store's day) of two to four channels, a 512-byte
-- chunk.  Measured in the hash plan's peak memory beyond count()'s, a
-- million groups each: one channel 268 bytes a group (the planner adds a
-- 16-byte chunk header to SSPACE), two to four channels 528 to 537, all
-- eight of the bench's channels 1,040; test/sql/aggregate_states.sql holds
-- SSPACE to the measured size.
CREATE AGGREGATE omni_experience_rating(channel text, rating double precision) (
	SFUNC = omnikpi_rating_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_mtrans, MINVFUNC = omnikpi_rating_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_experience_rating(text, double precision) IS
	'omnichannel experience rating in percent: unweighted mean over channels of each channel''s mean rating on the 1 to 5 scale';

CREATE AGGREGATE omni_experience_rating(channel text, rating double precision,
										scale_min double precision,
										scale_max double precision) (
	SFUNC = omnikpi_rating_scaled_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_scaled_mtrans, MINVFUNC = omnikpi_rating_scaled_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_experience_rating(text, double precision, double precision, double precision) IS
	'omnichannel experience rating in percent: unweighted mean over channels of each channel''s mean rating, normalized to the given scale';

CREATE AGGREGATE omni_integration_index(channel text, score double precision) (
	SFUNC = omnikpi_score_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_score_mtrans, MINVFUNC = omnikpi_score_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_integration_index(text, double precision) IS
	'omnichannel integration index 0 to 100: sum of the channels'' mean integration scores divided by the number of channels';

CREATE AGGREGATE omni_integration_index(channel text, integrated boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_flag_mtrans, MINVFUNC = omnikpi_flag_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_integration_index(text, boolean) IS
	'omnichannel integration index 0 to 100: mean over channels of the percentage of integrated rows';

-- ---------------------------------------------------------------------------
-- Two-step aggregation: summaries, rollup and accessors
-- ---------------------------------------------------------------------------

CREATE AGGREGATE channel_summary(channel text, value double precision) (
	SFUNC = omnikpi_summary_value_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE channel_summary(text, double precision) IS
	'per-channel count, sum, min and max of the values, for storing and rolling up later';

CREATE AGGREGATE channel_summary(channel text, flag boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE channel_summary(text, boolean) IS
	'per-channel count of rows and of true flags (a summary on the scale 0 to 1), for storing and rolling up later';

-- Rolling up is merging: the combine function is the transition function too.
CREATE AGGREGATE rollup(channel_summary) (
	SFUNC = omnikpi_summary_combine, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(channel_summary) IS
	'exact combination of channel summaries, e.g. daily summaries into a month';

CREATE FUNCTION experience_rating(channel_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_experience_rating' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION experience_rating(channel_summary) IS
	'omnichannel experience rating in percent of a summary, on its own scale or else 1 to 5';

CREATE FUNCTION experience_rating(channel_summary, scale_min double precision,
								  scale_max double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_experience_rating_scaled' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION experience_rating(channel_summary, double precision, double precision) IS
	'omnichannel experience rating in percent of a summary of ratings on the given scale';

CREATE FUNCTION integration_index(channel_summary) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_integration_index' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION integration_index(channel_summary) IS
	'omnichannel integration index 0 to 100 of a summary of scores (0 to 100) or of flags';

CREATE FUNCTION channel_count(channel_summary) RETURNS integer
	AS 'MODULE_PATHNAME', 'omnikpi_channel_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION channel_count(channel_summary) IS
	'number of channels in a summary';

CREATE FUNCTION channels(channel_summary, OUT channel text, OUT n bigint,
						 OUT mean double precision, OUT min double precision,
						 OUT max double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_channels' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 8;
COMMENT ON FUNCTION channels(channel_summary) IS
	'per-channel row count, mean, min and max of a summary, for drill-down';

-- ---------------------------------------------------------------------------
-- Multi-touch attribution
-- ---------------------------------------------------------------------------

CREATE FUNCTION attribution_share(model text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_attribution_share' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION attribution_share(text) IS
	'share of the journey''s conversion credit given to the current touchpoint by a position model';

CREATE FUNCTION attribution_share(first_weight double precision,
								  middle_weight double precision,
								  last_weight double precision) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_attribution_share_weighted' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION attribution_share(double precision, double precision, double precision) IS
	'share of the journey''s conversion credit given to the current touchpoint by custom first, middle and last weights';

CREATE FUNCTION attribution_share(model text, touched_at timestamptz,
								  half_life interval DEFAULT '7 days') RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_attribution_share_decay' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION attribution_share(text, timestamptz, interval) IS
	'time-decay share of the journey''s conversion credit, halving every half_life before the journey''s latest touch';

CREATE FUNCTION attribution_share(model text, touched_at timestamptz, half_life interval,
								  converted_at timestamptz) RETURNS double precision
	AS 'MODULE_PATHNAME', 'omnikpi_attribution_share_decay' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION attribution_share(text, timestamptz, interval, timestamptz) IS
	'time-decay share of the journey''s conversion credit, halving every half_life before converted_at';

-- ---------------------------------------------------------------------------
-- KPI views over the customer's own tables
-- ---------------------------------------------------------------------------

-- The management functions live in a schema of their own, so that their
-- names (create_kpi_views, ...) cannot clash with the user's.
DO $$
BEGIN
	IF '@extschema@' <> 'omnikpi' THEN
		CREATE SCHEMA omnikpi;
	END IF;
END
$$;
GRANT USAGE ON SCHEMA omnikpi TO PUBLIC;

-- The columns omnikpi reads from each kind of source relation, in order, with
-- the kind of type each must have: id (any type that compares for equality),
-- text (any type; read as text), time (date, timestamp or timestamptz),
-- number (any numeric type) or flag (boolean).
CREATE TABLE omnikpi.source_columns (
	source text NOT NULL,
	position integer NOT NULL,
	column_name name NOT NULL,
	kind text NOT NULL CHECK (kind IN ('id', 'text', 'time', 'number', 'flag')),
	read_as text NOT NULL,		-- the type the source view gives it; '' keeps the column's own
	description text NOT NULL,
	required boolean NOT NULL DEFAULT false,
	vocabulary text CHECK (vocabulary IN ('channel', 'phase', 'fulfillment')),
	scale text CHECK (scale IN ('rating', 'effort', 'nps')),
	row_needs_value boolean NOT NULL DEFAULT false,
	PRIMARY KEY (source, column_name),
	UNIQUE (source, position)
);
COMMENT ON TABLE omnikpi.source_columns IS
	'the columns create_kpi_views reads from each source relation; map other names with its columns argument';
GRANT SELECT ON omnikpi.source_columns TO PUBLIC;

INSERT INTO omnikpi.source_columns VALUES
	('interactions', 1, 'customer_id', 'id', '', 'the customer'),
	('interactions', 2, 'journey_id', 'id', '', 'the customer journey the contact belongs to (may be NULL)'),
	('interactions', 3, 'channel', 'text', 'text', 'the channel of the contact: web, app, store, call_center, ...'),
	('interactions', 4, 'occurred_at', 'time', 'timestamptz', 'when the contact happened'),
	('interactions', 5, 'phase', 'text', 'text', 'journey phase: awareness, consideration, decision, service or loyalty'),
	('interactions', 6, 'satisfaction', 'number', 'double precision', 'CSAT rating of the contact on the rating scale (default 1 to 5; may be NULL)'),
	('interactions', 7, 'effort', 'number', 'double precision', 'customer effort score of the contact (may be NULL)'),
	('interactions', 8, 'nps', 'number', 'double precision', 'likelihood to recommend, 0 to 10 (may be NULL)'),
	('interactions', 9, 'context_carried', 'flag', 'boolean', 'whether the channel had the customer''s context from earlier channels'),
	('interactions', 10, 'issue_id', 'id', '', 'the service case the contact belongs to (may be NULL)'),
	('interactions', 11, 'resolved', 'flag', 'boolean', 'whether this contact resolved its issue'),
	('orders', 1, 'order_id', 'id', '', 'the order'),
	('orders', 2, 'customer_id', 'id', '', 'the customer'),
	('orders', 3, 'channel', 'text', 'text', 'the purchase channel'),
	('orders', 4, 'ordered_at', 'time', 'timestamptz', 'when the order was placed'),
	('orders', 5, 'amount', 'number', 'numeric', 'the order amount'),
	('orders', 6, 'fulfillment', 'text', 'text', 'delivery, bopis (or click_and_collect), ship_to_store or in_store'),
	('orders', 7, 'ready_at', 'time', 'timestamptz', 'when a pickup order was ready for collection (may be NULL)'),
	('orders', 8, 'collected_at', 'time', 'timestamptz', 'when a pickup order was collected (may be NULL)'),
	('orders', 9, 'returned_at', 'time', 'timestamptz', 'when the order was returned (NULL if not returned)'),
	('orders', 10, 'return_channel', 'text', 'text', 'the channel the order was returned on (may be NULL)'),
	('touchpoints', 1, 'journey_id', 'id', '', 'the journey the marketing or service touch belongs to'),
	('touchpoints', 2, 'customer_id', 'id', '', 'the customer'),
	('touchpoints', 3, 'channel', 'text', 'text', 'the channel of the touch'),
	('touchpoints', 4, 'touched_at', 'time', 'timestamptz', 'when the touch happened'),
	('touchpoints', 5, 'cost', 'number', 'numeric', 'what the touch cost'),
	('conversions', 1, 'journey_id', 'id', '', 'the converted journey'),
	('conversions', 2, 'converted_at', 'time', 'timestamptz', 'when the journey converted'),
	('conversions', 3, 'value', 'number', 'numeric', 'the conversion value');

-- The KPI views create_kpi_views can create: a template each (its arguments
-- are listed where the rows are inserted, below), the sources it needs and
-- the optional source columns it reads.
CREATE TABLE omnikpi.kpi_views (
	position integer PRIMARY KEY,
	view_name name NOT NULL UNIQUE,
	sources text[] NOT NULL,
	description text NOT NULL,
	column_comments text[] NOT NULL,	-- name, comment, name, comment, ...
	definition text NOT NULL,
	needs_columns text[] NOT NULL DEFAULT '{}',
	optional_columns text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE omnikpi.kpi_views IS
	'the KPI views create_kpi_views creates, with the sources each needs and its definition';
GRANT SELECT ON omnikpi.kpi_views TO PUBLIC;

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
		-- a searched CASE, not CASE key WHEN ...: Citus 12.1 turns the
		-- latter's WHEN into NULL when it runs an INSERT ... SELECT over the
		-- view on the workers (a full rebuild of distributed entity tables)
		IF plan #> ARRAY['translations', wanted.vocabulary] <> '{}' THEN
			matched := format('CASE %s ELSE %s END',
							  (SELECT string_agg(format('WHEN %s = %L THEN %L', matched, e.key, e.value #>> '{}'), ' ' ORDER BY e.key)
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
	optional_source text,
	absent_input text,
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

COMMENT ON COLUMN omnikpi.kpi_views.needs_columns IS
	'optional source columns (source.column) the view cannot do without: it is not created when one is absent';
COMMENT ON COLUMN omnikpi.kpi_views.optional_columns IS
	'optional source columns (source.column) the view reads when present; the columns computed from an absent one are empty';


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
 'Customers by engagement depth (number of channels they used: 1, 2, 3, 4+) with retention, churn and revenue per customer; a customer is retained when active (any contact) in the 90 days before the latest contact in the data, else churned; customers as in customer_profiles',
 ARRAY['channel_depth', 'number of channels the customer used: 1, 2, 3 or 4+',
	   'customers', 'customers with that depth',
	   'retained_pct', 'percentage active in the last 90 days of the data',
	   'churned_pct', 'percentage not active in the last 90 days of the data',
	   'revenue_per_customer', 'order amount per customer, all time'],
 -- Per customer, only what the depth needs, from the contacts grouped by
 -- customer and channel (not the whole customer_profiles, whose days and
 -- active months cost most of its time): pushed down whole on Citus.
 $v$WITH customers AS (
	SELECT customer_id, count(*) AS channel_count, max(last_at) AS last_at
	FROM (SELECT customer_id, channel, max(occurred_at) AS last_at
		  FROM %1$I.source_interactions
		  WHERE customer_id IS NOT NULL
		  GROUP BY customer_id, channel) AS per_channel
	GROUP BY customer_id),
revenue AS (
	SELECT customer_id, sum(amount) AS revenue
	FROM %1$I.source_orders
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id),
data_end AS (
	SELECT ((max(occurred_at) AT TIME ZONE %8$L) - interval '90 days') AT TIME ZONE %8$L AS active_since
	FROM %1$I.source_interactions)
SELECT CASE WHEN c.channel_count >= 4 THEN '4+' ELSE c.channel_count::text END AS channel_depth,
	count(*) AS customers,
	100 * avg((c.last_at > e.active_since)::integer)::double precision AS retained_pct,
	100 * avg((c.last_at <= e.active_since)::integer)::double precision AS churned_pct,
	(sum(coalesce(o.revenue, 0)) / count(*))::double precision AS revenue_per_customer
FROM customers c LEFT JOIN revenue o USING (customer_id) CROSS JOIN data_end e
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
 -- The counts and the percentiles apart: on Citus the counts run as worker
 -- partials, and only the BOPIS orders' hours reach the coordinator for the
 -- exact percentiles (percentile_cont has no partial form), not every order.
 $v$WITH classified AS NOT MATERIALIZED (
	SELECT month, channel, fulfillment = 'bopis' AS bopis, ready_hours, wait_hours
	FROM %1$I.customer_orders),
counts AS (
	SELECT month, channel, count(*) AS orders, count(*) FILTER (WHERE bopis) AS bopis_orders
	FROM classified
	GROUP BY 1, 2),
percentiles AS (
	SELECT month, channel,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_median_hours,
		(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_p90_hours,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours))::double precision AS pickup_wait_median_hours
	FROM classified
	WHERE bopis
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.orders, c.bopis_orders,
	(100.0 * c.bopis_orders / c.orders)::double precision AS bopis_share_pct,
	p.click_to_collect_median_hours, p.click_to_collect_p90_hours, p.pickup_wait_median_hours
FROM counts c LEFT JOIN percentiles p USING (month, channel)$v$,
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
-- ---------------------------------------------------------------------------
-- The record of what create_kpi_views made.
--
-- create_kpi_views keeps, in the target schema, a table kpi_objects with one
-- row per relation it made there (its regclass, so its OID, and its kind),
-- itself included.  drop_kpi_views, refresh_kpi_views, schedule_refresh and
-- grant_bi_access recognize omnikpi's objects by that record only: a comment
-- edited by the user detaches nothing, a view the user made keeps its place
-- even with a KPI view's name (create_kpi_views refuses to replace it), and
-- a view of ours the user renamed is still ours.  The record survives
-- pg_dump and pg_restore (regclass values are dumped as names) and
-- pg_upgrade (which keeps relation OIDs).  A table named kpi_objects is the
-- record only with the record's columns and the row of itself, of kind
-- 'record'.
--
-- Schemas made by omnikpi 0.1.0 have no record: there, and only there, the
-- views are recognized as 0.1.0 made them, by name and by the "(omnikpi)"
-- at the end of their comment, until create_kpi_views records them.
-- ---------------------------------------------------------------------------

-- The record table of a schema, or NULL when it has none.
CREATE FUNCTION omnikpi.kpi_object_record(target_schema name) RETURNS regclass
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	candidate regclass;
	is_record boolean := false;
BEGIN
	-- the record's columns, exactly, and the row of itself
	SELECT c.oid INTO candidate
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = target_schema AND c.relname = 'kpi_objects' AND c.relkind = 'r'
	  AND (SELECT array_agg(a.attname || ' ' || a.atttypid::regtype ORDER BY a.attnum)
		   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
		  = '{"relation regclass","kind text","made_at timestamp with time zone"}';
	IF candidate IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE relation = $1 AND kind = ''record'')', candidate)
		INTO is_record USING candidate;
	RETURN CASE WHEN is_record THEN candidate END;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_object_record(name) IS
	'the kpi_objects table in which create_kpi_views records what it made in target_schema, or NULL';

-- What create_kpi_views made in a schema and is still there, in the order it
-- can be dropped: KPI views (or tables), layer views, entity tables, summary
-- tables, the refresh state, source views, the record.
CREATE FUNCTION omnikpi.kpi_objects(target_schema name)
	RETURNS TABLE (relation regclass, relation_name name, relation_kind "char", kind text)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	record_table regclass := omnikpi.kpi_object_record(target_schema);
BEGIN
	IF record_table IS NOT NULL THEN
		RETURN QUERY EXECUTE format(
			'SELECT c.oid::regclass, c.relname, c.relkind, r.kind
			 FROM %s r
			 JOIN pg_catalog.pg_class c ON c.oid = r.relation
			 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = $1
			 ORDER BY array_position(ARRAY[''kpi view'', ''layer view'', ''entity table'', ''summary table'', ''refresh state'', ''source view'', ''record''], r.kind),
				c.relname', record_table)
			USING target_schema;
		RETURN;
	END IF;
	-- made by 0.1.0, before the record
	RETURN QUERY
	SELECT c.oid::regclass, c.relname, c.relkind, CASE WHEN v.view_name IS NULL THEN 'source view' ELSE 'kpi view' END
	FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN omnikpi.kpi_views v ON v.view_name = c.relname
	WHERE n.nspname = target_schema AND c.relkind = 'v'
	  AND (v.view_name IS NOT NULL
		   OR c.relname IN ('source_interactions', 'source_orders', 'source_touchpoints', 'source_conversions'))
	  AND obj_description(c.oid, 'pg_class') LIKE '% (omnikpi)'
	ORDER BY v.view_name IS NULL, c.relname;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_objects(name) IS
	'the relations create_kpi_views made in target_schema, by its record kpi_objects, in the order they can be dropped';
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
 -- (sign: the refresh of the materialized form reads the orders' changes here)
 $r$(SELECT customer_id, NULL::numeric AS amount, NULL::bigint AS sign FROM %13$s AS source_rows WHERE false)$r$,
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
	CASE WHEN o.channel = ANY (%3$L::text[] || %4$L::text[]) THEN r.customer_id IS NOT NULL END AS preceded_by_other_side
FROM %13$s AS o
-- whether a contact on the other side came within the window depends on
-- the customer, channel and time of the order only: found by a join on the
-- customer, not a subquery correlated with each order, which Citus cannot
-- plan when the orders are the touched ones of a refresh, on the
-- coordinator, and the interactions are distributed
LEFT JOIN (
	SELECT DISTINCT p.customer_id, p.channel, p.ordered_at
	FROM %13$s AS p
	JOIN %14$s AS i ON i.customer_id = p.customer_id
	WHERE p.channel = ANY (%3$L::text[] || %4$L::text[])
	  AND i.channel = ANY (CASE WHEN p.channel = ANY (%3$L::text[]) THEN %4$L::text[] ELSE %3$L::text[] END)
	  AND i.occurred_at < p.ordered_at
	  AND i.occurred_at >= ((p.ordered_at AT TIME ZONE %8$L) - %2$L::interval) AT TIME ZONE %8$L) AS r
	ON r.customer_id = o.customer_id AND r.channel = o.channel AND r.ordered_at = o.ordered_at$v$);

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
-- ---------------------------------------------------------------------------
-- The materialized form: every KPI view kept as a table, refreshed at the
-- cost of the new data.
--
-- create_kpi_views(..., materialized => true) makes, in the target schema,
-- besides the source views:
--   * entity tables (11-entity-tables.sql): each layer view of
--     06-journey-layer.sql and 09-entity-layer.sql (journeys, issues,
--     customer profiles, orders, conversion paths) as a table of the same
--     name, columns and rows, keyed by customer (or by journey, for paths of
--     data with journey ids);
--   * summary tables: daily partial sums of the interactions and touchpoints
--     (below), partial sums per month or customer segment added up from the
--     entity tables (12-summary-tables.sql), and Markov and journey_paths
--     states per month;
--   * every KPI view as a table of the same name, columns, types, comments
--     and rows as the plain view, rolled up from the summary tables
--     (56-materialized-kpis.sql);
--   * kpi_refresh_state: per source, the watermark of the last refresh.
-- refresh_kpi_views (15-refresh.sql) recomputes, in one transaction:
--   1. the days of the daily tables from each source's watermark minus the
--      late window on;
--   2. the entities touched by rows from there on (and those whose stored
--      rows reach there), from the source rows of those customers or
--      journeys only; the summary tables change by the difference between
--      the touched entities' new and old contributions;
--   3. the KPI tables' rows of the months (or quarters) that changed; a KPI
--      over all customers is recomputed whole from its small summaries.
-- Every step deletes and inserts rows of ordinary tables, so readers keep
-- reading the previous rows until the refresh commits, and a failed refresh
-- leaves them in place.  No statement numbers rows across customers or uses
-- a sequence: entity rows are deleted and inserted by their customer (or
-- journey) key, which is what lets them live on Citus workers beside the
-- sources.
-- ---------------------------------------------------------------------------

-- The daily summary tables: a template each for the rows of the days from a
-- given time on, $1 (a parameter, never text).  Templates take the arguments
-- of omnikpi.template_arguments (%1$I the target schema, %6$L the top of the
-- rating scale, %8$L the time zone) and read the rows of their source view
-- from %13$s (on an incremental refresh, its rows in the window), so rows
-- without a time are left out as everywhere else.
CREATE TABLE omnikpi.kpi_daily_summaries (
	table_name name PRIMARY KEY,
	source text NOT NULL,
	description text NOT NULL,
	columns text NOT NULL,			-- the column list of CREATE TABLE
	key_columns name[] NOT NULL,	-- unique, NULLS NOT DISTINCT; the first is the day
	column_comments text[] NOT NULL,	-- name, comment, name, comment, ...
	definition text NOT NULL
);
COMMENT ON TABLE omnikpi.kpi_daily_summaries IS
	'the daily summary tables of the materialized form of create_kpi_views, with the query that fills them';
GRANT SELECT ON omnikpi.kpi_daily_summaries TO PUBLIC;

INSERT INTO omnikpi.kpi_daily_summaries VALUES
('interactions_daily', 'interactions',
 'Daily partial sums of the interactions per day, channel and phase, from which the materialized KPI views are rolled up exactly; maintained by omnikpi.refresh_kpi_views',
 $c$day date, channel text, phase text, interactions bigint NOT NULL,
	ratings @extschema@.channel_summary, integration @extschema@.channel_summary,
	csat_responses bigint NOT NULL, csat_sum double precision, csat_top2 bigint NOT NULL,
	ces_responses bigint NOT NULL, ces_sum double precision,
	nps_responses bigint NOT NULL, promoters bigint NOT NULL, detractors bigint NOT NULL,
	timed_interactions bigint NOT NULL, duration_sum numeric$c$,
 '{day,channel,phase}',
 ARRAY['day', 'the day of the contacts, in the time zone recorded in kpi_refresh_state',
	   'channel', 'channel',
	   'phase', 'journey phase',
	   'interactions', 'contacts',
	   'ratings', 'channel_summary of the satisfaction ratings (roll up with rollup(), read with experience_rating())',
	   'integration', 'channel_summary of context_carried (roll up with rollup(), read with integration_index())',
	   'csat_responses', 'contacts with a satisfaction rating',
	   'csat_sum', 'sum of the satisfaction ratings',
	   'csat_top2', 'ratings in the two highest points of the rating scale',
	   'ces_responses', 'contacts with an effort score',
	   'ces_sum', 'sum of the effort scores',
	   'nps_responses', 'contacts with a likelihood-to-recommend answer',
	   'promoters', 'answers 9 or 10',
	   'detractors', 'answers 0 to 6',
	   'timed_interactions', 'contacts with a duration',
	   'duration_sum', 'sum of the durations, in seconds'],
 $v$SELECT (occurred_at AT TIME ZONE %8$L)::date AS day, channel, phase,
	count(*) AS interactions,
	@extschema@.channel_summary(channel, satisfaction) AS ratings,
	@extschema@.channel_summary(channel, context_carried) AS integration,
	count(satisfaction) AS csat_responses,
	sum(satisfaction) AS csat_sum,
	count(*) FILTER (WHERE satisfaction >= %6$L::double precision - 1) AS csat_top2,
	count(effort) AS ces_responses,
	sum(effort) AS ces_sum,
	count(nps) AS nps_responses,
	count(*) FILTER (WHERE nps >= 9) AS promoters,
	count(*) FILTER (WHERE nps <= 6) AS detractors,
	count(duration) AS timed_interactions,
	sum(duration) AS duration_sum
FROM %13$s AS source_rows
WHERE occurred_at >= $1
GROUP BY 1, 2, 3$v$),
('touchpoints_daily', 'touchpoints',
 'Daily touches and touch cost per day and channel, from which the touch cost of attribution_by_channel_monthly is rolled up; maintained by omnikpi.refresh_kpi_views',
 $c$day date, channel text, touches bigint NOT NULL, cost numeric$c$,
 '{day,channel}',
 ARRAY['day', 'the day of the touches, in the time zone recorded in kpi_refresh_state',
	   'channel', 'channel',
	   'touches', 'touches',
	   'cost', 'sum of their cost'],
 $v$SELECT (touched_at AT TIME ZONE %8$L)::date AS day, channel, count(*) AS touches, sum(cost) AS cost
FROM %13$s AS source_rows
WHERE touched_at >= $1
GROUP BY 1, 2$v$);

-- The entity tables: how the refresh keeps each layer view of one form as a
-- table.  A refresh first copies each source's rows in its window into
-- pg_temp.kpi_window_<source> (parameters $1 to $4: the first time to
-- recompute of the interactions, orders, touchpoints and conversions), then
-- per entity table
--   1. collects the touched keys into pg_temp.kpi_touched (touched: a
--      SELECT over the window's changed rows, pg_temp.kpi_delta_<source>,
--      the stored table and the parameters, $5 to $8 being where the stored
--      rows are touched too (infinity when the window was compared); plus
--      touched_by_optional when the layer's optional source was given);
--   2. computes the new rows of those keys with the layer's own template,
--      reading as %13$s the rows of inputs[1] and as %14$s those of
--      inputs[2] (or optional_input, or the layer's absent_input), or with
--      recompute when that is set (%15$s: the template's rows);
--   3. replaces the stored rows that matches pairs with a touched key (a
--      condition over the stored row e and the key t) by the new rows.
-- The stored rows of the touched keys are read and deleted by matches and
-- index_lookup together: index_lookup (a condition over e alone, the key
-- = ANY (the touched keys)) lets the key's index find them, whatever the
-- plan of the join.  The refresh's temporary tables, which have no index,
-- are paired by matches alone: there the lookup would be a linear search of
-- the touched keys per row, and matches' equality to t implies it.
-- An entity table with marks has a second table, <table>_marks: per key
-- (marks_key) the latest time of a source row that no entity row need show
-- (a conversion without touches), given by marks, a SELECT over the rows
-- read as %14$s; a refresh replaces the touched keys' marks, and touched
-- finds a key whose mark lies in the window.  Templates take the arguments
-- of omnikpi.template_arguments.  A full rebuild runs the bare template
-- over the source views instead.
-- A touched key's stored rows are replaced only when its new rows differ.
-- With row_key (columns that are never NULL and name one row of the table,
-- which matches may alone refer to), a stored and a new row are paired by
-- it and compared by their binary images; without it, the rows are compared
-- as a multiset of their text forms.
CREATE TABLE omnikpi.kpi_entity_tables (
	table_name name NOT NULL,
	keyed_by text NOT NULL,
	position integer NOT NULL,			-- maintenance order
	indexes text[] NOT NULL,			-- column lists of its indexes (btree)
	touched text NOT NULL,
	touched_by_optional text,
	matches text NOT NULL,
	inputs text[] NOT NULL,
	optional_input text,
	recompute text,
	marks_key name,
	marks text,
	index_lookup text NOT NULL,
	row_key name[],
	PRIMARY KEY (table_name, keyed_by),
	FOREIGN KEY (table_name, keyed_by) REFERENCES omnikpi.kpi_layer_views (view_name, keyed_by)
);
COMMENT ON TABLE omnikpi.kpi_entity_tables IS
	'how the refresh of the materialized form keeps each layer view as a table: which keys a refresh touches, which stored rows it replaces, and from which rows it recomputes them';
GRANT SELECT ON omnikpi.kpi_entity_tables TO PUBLIC;

-- The summary tables over entity tables and states: their columns, their
-- key, and either (kind delta) the contribution of entity rows, a SELECT
-- over %16$s (rows of the entity table with a column sign, -1 for a touched
-- entity's old row and 1 for its new one; parameters $1 to $4, the window
-- starts as for the entity tables) that gives the key columns and
-- the signed sums of the other columns, added to the stored sums; or (kind
-- period) the SELECT over the tables in reads that gives every row, run for
-- the months that changed in those tables.  count_column: a row whose count
-- falls to 0 is deleted.
CREATE TABLE omnikpi.kpi_summary_tables (
	table_name name PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('delta', 'period')),
	reads name[] NOT NULL,			-- delta: the entity table; period: summary tables
	position integer NOT NULL,
	description text NOT NULL,
	columns text NOT NULL,
	key_columns name[] NOT NULL,	-- unique, NULLS NOT DISTINCT
	count_column name,
	period_column name,				-- the month column, if any
	column_comments text[] NOT NULL,
	definition text NOT NULL
);
COMMENT ON TABLE omnikpi.kpi_summary_tables IS
	'the summary tables of the materialized form kept from the entity tables, by adding the changes of the touched entities (delta) or by recomputing the changed months (period)';
GRANT SELECT ON omnikpi.kpi_summary_tables TO PUBLIC;

-- The KPI views of the materialized form: the tables they are rolled up
-- from, the column that holds the month or quarter (NULL: the KPI is
-- recomputed whole, from small summaries), the key of its unique index, and
-- its definition over the tables in reads (NULL: the plain view's own
-- definition, which reads the entity tables), giving the plain view's rows;
-- it may read the months a refresh recomputes, $1 (that month and those
-- after it) and $2 (those months), to read no others.
CREATE TABLE omnikpi.kpi_materialized_views (
	view_name name PRIMARY KEY REFERENCES omnikpi.kpi_views (view_name),
	reads name[] NOT NULL,
	period_column name,
	key_columns name[] NOT NULL,
	definition text
);
COMMENT ON TABLE omnikpi.kpi_materialized_views IS
	'how the materialized form of create_kpi_views keeps each KPI view as a table: the summary or entity tables it is rolled up from and the months it is recomputed by';
GRANT SELECT ON omnikpi.kpi_materialized_views TO PUBLIC;

-- The advisory lock that serializes create, refresh and drop of the KPI
-- views of one schema (a transaction lock: it ends with the transaction).
-- The key is the schema's OID, moved into the int4 range.
CREATE FUNCTION omnikpi.lock_kpi_schema(target_schema name) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	PERFORM pg_advisory_xact_lock(1869442921, (n.oid::bigint - 2147483648)::integer)
	FROM pg_namespace n WHERE n.nspname = target_schema;
END
$fn$;
COMMENT ON FUNCTION omnikpi.lock_kpi_schema(name) IS
	'waits for and takes the transaction advisory lock that serializes creating, refreshing and dropping the KPI views of a schema';

-- The objects of the materialized form that create_kpi_views made in a
-- schema (by its record, omnikpi.kpi_objects), in the order they can be
-- dropped: KPI tables, entity tables, summary tables, the state.
CREATE FUNCTION omnikpi.materialized_objects(target_schema name)
	RETURNS TABLE (relation_name name, relation_kind "char", kind text)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT o.relation_name, o.relation_kind, o.kind
	FROM omnikpi.kpi_objects(target_schema) o
	WHERE o.kind IN ('entity table', 'summary table', 'refresh state')
	   OR (o.kind = 'kpi view' AND o.relation_kind IN ('r', 'm'))
$fn$;
COMMENT ON FUNCTION omnikpi.materialized_objects(name) IS
	'the KPI tables, entity tables, summary tables and refresh state the materialized form of create_kpi_views made in target_schema, in drop order';
-- ---------------------------------------------------------------------------
-- The entity tables of the materialized form: how a refresh keeps each
-- layer view (06-journey-layer.sql, 09-entity-layer.sql) as a table.
--
-- A refresh recomputes the entities touched since the last refresh: those
-- of a source row in the window (from the watermark minus the late window
-- on) that was inserted, updated or deleted since (found by comparing the
-- window with the rows kpi_refresh_window kept from the last one); without
-- a kept window to compare with, those of every row in the window and those
-- whose stored row reaches into it (a row deleted or moved leaves them).
-- Each is recomputed by the layer's own template, from
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
--     customer's history; its orders and revenue are kept, or counted
--     again from customer_orders when one of its orders changed.
-- Changes to rows older than the window are not seen (as for the daily
-- tables) until a full rebuild or a refresh whose window reaches them.
-- Orders wait for interactions (ROPO) and profiles for orders (revenue), so
-- the order of position matters.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_entity_tables (table_name, keyed_by, position, indexes, touched, touched_by_optional, matches,
									   index_lookup, inputs, optional_input, recompute, marks_key, marks, row_key) VALUES
('customer_orders', 'customer_id', 10, '{order_id,customer_id,last_event_at,ordered_at,month}',
 -- an order changes with its row; and with a changed contact of its
 -- customer before it (ROPO), so those after the first changed contact
 $t$SELECT customer_id, order_id FROM pg_temp.kpi_delta_orders
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE last_event_at >= $6$t$,
 $t$UNION
SELECT customer_id, order_id FROM %1$I.customer_orders
WHERE ordered_at >= greatest($1, (SELECT min(occurred_at) FROM pg_temp.kpi_delta_interactions))
  AND customer_id IN (SELECT customer_id FROM pg_temp.kpi_delta_interactions)
UNION
SELECT customer_id, order_id FROM %1$I.customer_orders WHERE ordered_at >= $5$t$,
 $m$e.order_id = t.order_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 $l$e.order_id = ANY (ARRAY(SELECT order_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT o.* FROM %1$I.source_orders AS o
	JOIN pg_temp.kpi_touched AS t ON o.order_id = t.order_id AND o.customer_id IS NOT DISTINCT FROM t.customer_id
	WHERE o.order_id = ANY (ARRAY(SELECT order_id FROM pg_temp.kpi_touched)))$i$],
 -- the contacts that can precede a touched order: its customer's, from the
 -- earliest touched order's ROPO window on, found through the source's
 -- index instead of a join with every contact of the history (the window
 -- is counted here in the session's calendar, in the template in that of
 -- the time zone; a week more covers the difference)
 $i$(SELECT i.* FROM %1$I.source_interactions AS i
	WHERE i.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched WHERE customer_id IS NOT NULL))
	  AND i.occurred_at >= (SELECT min(o.ordered_at) FROM pg_temp.kpi_input_1 AS o) - %2$L::interval - interval '7 days')$i$,
 NULL, NULL, NULL, NULL),
('interaction_journeys', 'journey_id', 20, '{journey_id,"customer_id, started_at",ended_at,month}',
 $t$SELECT customer_id, journey_id FROM pg_temp.kpi_delta_interactions WHERE journey_id IS NOT NULL
UNION
SELECT customer_id, journey_id FROM %1$I.interaction_journeys WHERE ended_at >= $5$t$,
 NULL,
 $m$e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 $l$e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.journey_id = t.journey_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1 AND e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.journey_id, w.channel, w.occurred_at, w.phase, w.context_carried
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.journey_id = t.journey_id AND w.customer_id IS NOT DISTINCT FROM t.customer_id)$i$],
 NULL, NULL, NULL, NULL, NULL),
('interaction_journeys', 'customer_id', 20, '{"customer_id, started_at",ended_at,month}',
 -- since: the start of the customer's last journey before the window, which
 -- a contact in the window may extend; the journeys before it stay.  Each
 -- touched customer's last journey is found by DISTINCT ON, not by a LATERAL
 -- subquery: Citus plans no lateral outer join from the touched customers (a
 -- temporary table) to a distributed entity table.
 $t$WITH c AS (
	SELECT customer_id FROM pg_temp.kpi_delta_interactions WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM %1$I.interaction_journeys WHERE ended_at >= $5)
SELECT c.customer_id, coalesce(k.started_at, '-infinity') AS since, coalesce(k.journey_no, 1) AS first_journey_no
FROM c
LEFT JOIN (
	SELECT DISTINCT ON (j.customer_id) j.customer_id, j.started_at, j.journey_no FROM %1$I.interaction_journeys AS j
	WHERE j.customer_id IN (SELECT customer_id FROM c) AND j.started_at < $1
	ORDER BY j.customer_id, j.started_at DESC) AS k ON k.customer_id = c.customer_id$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND e.started_at >= t.since$m$,
 $l$e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT e.customer_id, e.journey_id, c.channel, c.occurred_at, c.phase, c.context_carried
	FROM %1$I.interaction_journeys AS e
	JOIN pg_temp.kpi_touched AS t ON e.customer_id = t.customer_id AND e.started_at >= t.since
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.phases, e.context_carried) AS c(channel, occurred_at, phase, context_carried)
	WHERE c.occurred_at < $1 AND e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.journey_id, w.channel, w.occurred_at, w.phase, w.context_carried
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.customer_id = t.customer_id)$i$],
 NULL,
 $r$SELECT j.customer_id, j.journey_id, j.journey_no + t.first_journey_no - 1 AS journey_no, j.started_at, j.ended_at,
	j.month, j.contacts, j.channels, j.contact_times, j.phases, j.context_carried
FROM (%15$s) AS j
JOIN pg_temp.kpi_touched AS t USING (customer_id)$r$,
 NULL, NULL, NULL),
('interaction_issues', 'customer_id', 30, '{issue_id,last_contact_at,month}',
 $t$SELECT customer_id, issue_id FROM pg_temp.kpi_delta_interactions WHERE issue_id IS NOT NULL
UNION
SELECT customer_id, issue_id FROM %1$I.interaction_issues WHERE last_contact_at >= $5$t$,
 NULL,
 $m$e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id$m$,
 $l$e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT e.customer_id, e.issue_id, c.channel, c.occurred_at, c.resolved
	FROM %1$I.interaction_issues AS e
	JOIN pg_temp.kpi_touched AS t ON e.issue_id = t.issue_id AND e.customer_id IS NOT DISTINCT FROM t.customer_id
	CROSS JOIN LATERAL unnest(e.channels, e.contact_times, e.resolutions) AS c(channel, occurred_at, resolved)
	WHERE c.occurred_at < $1 AND e.issue_id = ANY (ARRAY(SELECT issue_id FROM pg_temp.kpi_touched))
	UNION ALL
	SELECT w.customer_id, w.issue_id, w.channel, w.occurred_at, w.resolved
	FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.issue_id = t.issue_id AND w.customer_id IS NOT DISTINCT FROM t.customer_id)$i$],
 NULL, NULL, NULL, NULL, NULL),
('customer_profiles', 'customer_id', 40, '{customer_id,last_at}',
 $t$SELECT customer_id FROM pg_temp.kpi_delta_interactions WHERE customer_id IS NOT NULL
UNION
SELECT customer_id FROM %1$I.customer_profiles WHERE last_at >= $5$t$,
 -- a changed order changes its customer's revenue
 $t$UNION SELECT customer_id FROM pg_temp.kpi_changes_customer_orders WHERE customer_id IS NOT NULL$t$,
 $m$e.customer_id = t.customer_id$m$,
 $l$e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT w.customer_id, w.channel, w.occurred_at FROM pg_temp.kpi_window_interactions AS w
	JOIN pg_temp.kpi_touched AS t ON w.customer_id = t.customer_id)$i$],
 -- The changes of the customers' orders (customer_orders' changes of this
 -- refresh), netted per customer and amount (an order whose ROPO flag
 -- changed keeps its amount), as rows of an amount and a count (sign) to
 -- add to the stored profile; and the orders of the customers that must be
 -- counted again instead (a row of sign 0, then each order with sign 1):
 -- those that lost an order with an amount (the sum of the rest could have
 -- fewer digits, or none) and those without a stored profile.  So a refresh
 -- reads no customer's whole order history to learn what did not change.
 $i$(WITH changed AS (
	SELECT customer_id, amount_text::numeric AS amount, sum(sign) AS sign
	FROM (SELECT customer_id, amount::text AS amount_text, sign FROM pg_temp.kpi_changes_customer_orders) AS c
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id, amount_text
	HAVING sum(sign) <> 0),
recounted AS (
	SELECT customer_id FROM changed WHERE sign < 0 AND amount IS NOT NULL
	UNION
	(SELECT customer_id FROM pg_temp.kpi_touched
	 EXCEPT
	 SELECT customer_id FROM %1$I.customer_profiles
	 WHERE customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))))
SELECT customer_id, amount, sign FROM changed WHERE customer_id NOT IN (SELECT customer_id FROM recounted)
UNION ALL
SELECT customer_id, NULL, 0 FROM recounted
UNION ALL
SELECT o.customer_id, o.amount, 1 FROM %1$I.customer_orders AS o
WHERE o.customer_id = ANY (ARRAY(SELECT customer_id FROM recounted)))$i$,
 -- The stored profile before the window's first day, $1's: its channels
 -- first used before $1, its days before that day, its active months
 -- before that day's month (later ones come only from days less than 90
 -- days before it, or in the window), merged with the window's contacts;
 -- its orders and revenue plus the changes of %14$s, or counted again.
 $r$WITH window_contacts AS (
	SELECT customer_id, channel, occurred_at, (occurred_at AT TIME ZONE %8$L)::date AS day FROM %13$s AS w),
bounds AS (
	SELECT ($1 AT TIME ZONE %8$L)::date AS first_day, date_trunc('month', $1 AT TIME ZONE %8$L)::date AS first_month),
stored AS (
	SELECT e.*, coalesce(width_bucket(b.first_day - 1, e.contact_days), 0) AS kept_days,
		coalesce(width_bucket(b.first_month - 1, e.active_months), 0) AS kept_months
	FROM %1$I.customer_profiles AS e JOIN pg_temp.kpi_touched AS t USING (customer_id) CROSS JOIN bounds AS b
	WHERE e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))),
window_channels AS (
	SELECT customer_id, channel, min(occurred_at) AS first_at FROM window_contacts GROUP BY 1, 2),
-- the customers whose channel use the window can change: without a stored
-- profile, with a channel in the window the profile has not, or with one
-- the profile first used in the window; the others keep theirs
new_channels AS (
	SELECT w.customer_id FROM window_channels AS w LEFT JOIN stored AS s USING (customer_id)
	WHERE s.customer_id IS NULL OR w.channel <> ALL (s.channels)
	UNION
	SELECT s.customer_id FROM stored AS s WHERE EXISTS (SELECT FROM unnest(s.channel_first_times) AS t WHERE t >= $1)),
channel_firsts AS (
	SELECT s.customer_id, c.channel, c.first_at
	FROM stored AS s CROSS JOIN LATERAL unnest(s.channels, s.channel_first_times) AS c(channel, first_at)
	WHERE c.first_at < $1 AND s.customer_id IN (SELECT customer_id FROM new_channels)
	UNION ALL
	SELECT customer_id, channel, first_at FROM window_channels WHERE customer_id IN (SELECT customer_id FROM new_channels)),
channel_use AS (
	SELECT customer_id, min(first_at) AS first_at,
		(array_agg(channel ORDER BY first_at, channel))[1] AS acquisition_channel,
		array_agg(channel ORDER BY channel) AS channels,
		array_agg(first_at ORDER BY channel) AS channel_first_times
	FROM (SELECT customer_id, channel, min(first_at) AS first_at FROM channel_firsts GROUP BY 1, 2) AS c
	GROUP BY customer_id
	UNION ALL
	SELECT customer_id, first_at, acquisition_channel, channels, channel_first_times
	FROM stored WHERE customer_id NOT IN (SELECT customer_id FROM new_channels)),
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
		s.active_months[1:s.kept_months] AS kept_active_months, coalesce(s.kept_days, 0) AS kept_days
	FROM stored AS s FULL JOIN window_days AS w USING (customer_id)),
recent_active AS (
	-- active months from the window's month on come from the last day
	-- before the window (all days before it lie in that month or earlier,
	-- so the latest reaches furthest) and the window's days
	SELECT r.customer_id, array_agg(DISTINCT m.month ORDER BY m.month) FILTER (WHERE m.month >= r.first_month) AS months
	FROM (SELECT a.customer_id, b.first_month, max(d) AS last_day
		  FROM activity AS a CROSS JOIN bounds AS b
		  CROSS JOIN LATERAL unnest(a.contact_days[greatest(a.kept_days, 1):]) AS d
		  GROUP BY a.customer_id, b.first_month, date_trunc('month', d::timestamp)) AS r
	CROSS JOIN LATERAL omnikpi.months_active_after(r.last_day) AS m(month)
	GROUP BY r.customer_id),
order_changes AS (
	SELECT customer_id, bool_or(sign = 0) AS recounted, sum(sign) AS orders, sum(amount * sign) AS revenue
	FROM %14$s AS source_rows
	WHERE customer_id IS NOT NULL
	GROUP BY customer_id)
SELECT c.customer_id, c.first_at, a.day_last_times[cardinality(a.day_last_times)] AS last_at, c.acquisition_channel,
	c.channels, cardinality(c.channels) AS channel_count, a.contact_days, a.contact_months::integer,
	a.kept_active_months || coalesce(r.months, '{}') AS active_months,
	CASE WHEN o.recounted THEN o.orders ELSE coalesce(s.orders, 0) + coalesce(o.orders, 0) END AS orders,
	CASE WHEN o.recounted THEN o.revenue WHEN o.revenue IS NULL THEN s.revenue
		 ELSE coalesce(s.revenue, 0) + o.revenue END AS revenue,
	c.channel_first_times, a.day_last_times
FROM channel_use AS c
JOIN activity AS a USING (customer_id)
LEFT JOIN recent_active AS r USING (customer_id)
LEFT JOIN order_changes AS o USING (customer_id)
LEFT JOIN stored AS s USING (customer_id)
WHERE cardinality(a.contact_days) > 0$r$,
 NULL, NULL, '{customer_id}'),
('attribution_paths', 'journey_id', 50,
 '{journey_id,"(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 $t$SELECT journey_id FROM pg_temp.kpi_delta_touchpoints WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM pg_temp.kpi_delta_conversions WHERE journey_id IS NOT NULL
UNION
SELECT journey_id FROM %1$I.attribution_paths
WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($7, $8)
UNION
SELECT journey_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($7, $8)$t$,
 NULL,
 $m$e.journey_id = t.journey_id$m$,
 $l$e.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched))$l$,
 ARRAY[$i$(SELECT p.* FROM %1$I.source_touchpoints AS p
	WHERE p.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched)))$i$,
	   $i$(SELECT c.* FROM %1$I.source_conversions AS c
	WHERE c.journey_id = ANY (ARRAY(SELECT journey_id FROM pg_temp.kpi_touched)))$i$],
 NULL, NULL,
 'journey_id',
 -- a conversion before every touch of its journey has no path, but its
 -- deletion changes the journey's paths
 $k$SELECT journey_id, max(converted_at) AS last_converted_at FROM %14$s AS c
WHERE journey_id IS NOT NULL GROUP BY journey_id$k$,
 NULL),
('attribution_paths', 'customer_id', 50,
 '{"customer_id, cycle","(coalesce(converted_at, touch_times[cardinality(touch_times)]))"}',
 -- since: the customer's last conversion with a path before the window; the
 -- cycles up to it stay (found by DISTINCT ON, for Citus, as for journeys)
 $t$WITH c AS (
	SELECT customer_id FROM pg_temp.kpi_delta_touchpoints WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM pg_temp.kpi_delta_conversions WHERE customer_id IS NOT NULL
	UNION
	SELECT customer_id FROM %1$I.attribution_paths
	WHERE coalesce(converted_at, touch_times[cardinality(touch_times)]) >= least($7, $8)
	UNION
	SELECT customer_id FROM %1$I.attribution_paths_marks WHERE last_converted_at >= least($7, $8))
SELECT c.customer_id, k.converted_at AS since, coalesce(k.cycle, 0) AS base_cycle
FROM c
LEFT JOIN (
	SELECT DISTINCT ON (p.customer_id) p.customer_id, p.converted_at, p.cycle FROM %1$I.attribution_paths AS p
	WHERE p.customer_id IN (SELECT customer_id FROM c) AND p.converted_at < least($3, $4)
	ORDER BY p.customer_id, p.cycle DESC) AS k ON k.customer_id = c.customer_id$t$,
 NULL,
 $m$e.customer_id = t.customer_id AND (e.cycle IS NULL OR e.cycle > t.base_cycle)$m$,
 $l$e.customer_id = ANY (ARRAY(SELECT customer_id FROM pg_temp.kpi_touched))$l$,
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
WHERE customer_id IS NOT NULL GROUP BY customer_id$k$,
 NULL);
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
 -- Only the months from the one before the interactions' window on ($1's
 -- month): a refresh keeps a touched profile's active months before the
 -- window's month, so the entries of the earlier ones (a churn entry looks
 -- one month ahead) are the same in its old and new rows and cancel; a
 -- profile that comes or goes has no month before it.  On a rebuild, $1 is
 -- -infinity: every month.
 $v$WITH marked AS (
	-- each active month of a customer from there on, with the one before and after it
	SELECT c.sign, c.active_months[m.n] AS month, c.active_months[m.n - 1] AS previous_month,
		c.active_months[m.n + 1] AS next_month
	FROM %16$s AS c
	CROSS JOIN LATERAL generate_series(
		coalesce(width_bucket((date_trunc('month', $1 AT TIME ZONE %8$L) - interval '1 month')::date - 1, c.active_months), 0) + 1,
		cardinality(c.active_months)) AS m(n)),
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
-- ---------------------------------------------------------------------------
-- Making the tables of the materialized form (10-materialized.sql), for
-- create_kpi_views.  Each table takes its columns and types from the query
-- that fills it (CREATE TABLE ... AS ... WITH NO DATA): an entity table from
-- its layer view's template, a KPI table from the plain view's definition
-- over the entity tables, so both forms have the same columns and types by
-- construction.  The tables start empty; create_kpi_views fills them with a
-- full refresh.
-- ---------------------------------------------------------------------------

-- Comments on the columns of a relation from a name, comment, ... list.
CREATE FUNCTION omnikpi.comment_columns(relation regclass, column_comments text[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	FOR i IN 1 .. coalesce(array_length(column_comments, 1), 0) BY 2 LOOP
		EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', relation, column_comments[i], column_comments[i + 1]);
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.comment_columns(regclass, text[]) IS
	'comments the columns of a relation from a list of column names and comments';

-- A unique index NULLS NOT DISTINCT on key columns: what the refresh's
-- upserts need, and a guard against a row counted twice.
CREATE FUNCTION omnikpi.create_key_index(relation regclass, key_columns name[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('CREATE UNIQUE INDEX ON %s (%s) NULLS NOT DISTINCT', relation,
				   (SELECT string_agg(format('%I', k), ', ' ORDER BY n) FROM unnest(key_columns) WITH ORDINALITY AS u(k, n)));
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_key_index(regclass, name[]) IS
	'creates the unique index (NULLS NOT DISTINCT) on the key of a table of the materialized form';

-- The entity table of a layer view, in the form create_kpi_views chose, and
-- its marks table if it has one.
CREATE FUNCTION omnikpi.create_entity_table(target_schema name, layer_name name, keyed_by text, given jsonb,
											template_args text[])
	RETURNS SETOF regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	layer record;
	entity record;
	relation regclass;
	index_columns text;
	inputs text[] := omnikpi.layer_inputs(target_schema, layer_name, keyed_by, given, template_args);
BEGIN
	SELECT l.* INTO STRICT layer FROM omnikpi.kpi_layer_views l
	WHERE l.view_name = layer_name AND l.keyed_by = create_entity_table.keyed_by;
	SELECT e.* INTO STRICT entity FROM omnikpi.kpi_entity_tables e
	WHERE e.table_name = layer_name AND e.keyed_by = create_entity_table.keyed_by;
	EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, layer_name)
		|| format(layer.definition, VARIADIC template_args || inputs) || ' WITH NO DATA';
	relation := format('%I.%I', target_schema, layer_name)::regclass;
	FOREACH index_columns IN ARRAY entity.indexes LOOP
		EXECUTE format('CREATE INDEX ON %s (%s)', relation, index_columns);
	END LOOP;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   layer.description || '; kept as a table, touched customers and journeys only, by omnikpi.refresh_kpi_views');
	PERFORM omnikpi.comment_columns(relation, layer.column_comments);
	RETURN NEXT relation;
	IF entity.marks IS NOT NULL THEN
		EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, layer_name || '_marks')
			|| format(entity.marks, VARIADIC template_args || inputs) || ' WITH NO DATA';
		relation := format('%I.%I', target_schema, layer_name || '_marks')::regclass;
		PERFORM omnikpi.create_key_index(relation, ARRAY[entity.marks_key]);
		EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
					   format('per %s, its latest conversion, which a refresh of %s needs even when no path shows it', entity.marks_key, layer_name));
		PERFORM omnikpi.comment_columns(relation, ARRAY[entity.marks_key::text, 'the key', 'last_converted_at', 'its latest conversion']);
		RETURN NEXT relation;
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_entity_table(name, name, text, jsonb, text[]) IS
	'creates, empty, the table that keeps a layer view of create_kpi_views in the materialized form, and its marks table';

-- The column Citus distributes a table by (hash distribution), or NULL: a
-- table outside Citus' metadata, or no Citus at all (every call into Citus
-- is dynamic SQL, so omnikpi does not depend on it).
CREATE FUNCTION omnikpi.distribution_column(relation regclass) RETURNS name
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	column_name name;
BEGIN
	IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE $q$SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
		FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1 AND p.partmethod = 'h'$q$
		INTO column_name USING relation;
	RETURN column_name;
END
$fn$;
COMMENT ON FUNCTION omnikpi.distribution_column(regclass) IS
	'the column Citus distributes the table by, or NULL when it is not a hash-distributed table';

-- On Citus, the entity tables whose source is a distributed table are
-- distributed too, by the column the source is distributed by and
-- co-located with it, so that a customer's (or journey's) entity rows live
-- on the worker that holds its source rows: a full rebuild then runs on the
-- workers (an INSERT ... SELECT between co-located tables), and the joins of
-- a refresh between entities and sources are joins on the distribution
-- column.  That column must be one the entity is keyed by (its key, or
-- customer_id: a journey, an issue or an order is one customer's), read
-- from the source as it is (not through an expression) and of the same
-- type; otherwise the table stays an ordinary table on the coordinator, as
-- every summary and KPI table does (they are small, and nothing joins them
-- with the sources).  Without Citus, or over sources outside its metadata,
-- nothing happens: every call into Citus is dynamic SQL, so omnikpi does not
-- depend on it.
CREATE FUNCTION omnikpi.distribute_entity_tables(target_schema name, plan jsonb, given jsonb, layers jsonb)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	entity record;
	source regclass;
	source_column name;
	source_type oid;
	key name;
	colocated text;
BEGIN
	FOR entity IN SELECT e.table_name, e.keyed_by, e.marks_key, l.sources[1] AS source
				  FROM omnikpi.kpi_entity_tables e
				  JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
				  WHERE layers ->> e.table_name::text = e.keyed_by
				  ORDER BY e.position LOOP
		source := (given ->> entity.source)::oid;
		source_column := omnikpi.distribution_column(source);
		CONTINUE WHEN source_column IS NULL;
		SELECT a.atttypid INTO source_type FROM pg_attribute a WHERE a.attrelid = source AND a.attname = source_column;
		SELECT k.name INTO key
		FROM unnest(ARRAY[entity.keyed_by::name, 'customer_id']) WITH ORDINALITY AS k(name, n)
		JOIN pg_attribute a ON a.attrelid = format('%I.%I', target_schema, entity.table_name)::regclass
			AND a.attname = k.name AND a.atttypid = source_type
		WHERE plan #>> ARRAY[entity.source, 'columns', k.name::text, 'sql'] = quote_ident(source_column)
		ORDER BY k.n LIMIT 1;
		CONTINUE WHEN NOT FOUND;
		FOREACH colocated IN ARRAY ARRAY[entity.table_name::text]
				|| CASE WHEN entity.marks_key = key THEN ARRAY[entity.table_name || '_marks'] ELSE '{}' END LOOP
			EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
				USING format('%I.%I', target_schema, colocated)::regclass, key::text, source::text;
		END LOOP;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.distribute_entity_tables(name, jsonb, jsonb, jsonb) IS
	'on Citus, distributes the entity tables of the materialized form whose source is distributed by one of their keys, co-located with that source';

-- The daily and summary tables the given KPI views are rolled up from,
-- directly or through other summary tables, in the order they are made.
CREATE FUNCTION omnikpi.summary_tables_for(kpi_names name[])
	RETURNS SETOF name
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	WITH RECURSIVE needed(table_name) AS (
		SELECT unnest(m.reads) FROM omnikpi.kpi_materialized_views m WHERE m.view_name = ANY (kpi_names)
		UNION
		SELECT unnest(s.reads) FROM omnikpi.kpi_summary_tables s JOIN needed n USING (table_name))
	SELECT t.table_name
	FROM (SELECT d.table_name, 0 AS position FROM omnikpi.kpi_daily_summaries d
		  UNION ALL
		  SELECT s.table_name, s.position FROM omnikpi.kpi_summary_tables s) AS t
	JOIN needed USING (table_name)
	ORDER BY t.position, t.table_name
$fn$;
COMMENT ON FUNCTION omnikpi.summary_tables_for(name[]) IS
	'the daily and summary tables the materialized form of the given KPI views is rolled up from';

CREATE FUNCTION omnikpi.create_summary_tables(target_schema name, kpi_names name[])
	RETURNS SETOF regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	summary record;
	relation regclass;
BEGIN
	FOR summary IN
		SELECT t.table_name, t.description, t.columns, t.key_columns, t.column_comments
		FROM omnikpi.summary_tables_for(kpi_names) WITH ORDINALITY AS n(table_name, position)
		JOIN (SELECT d.table_name, d.description, d.columns, d.key_columns, d.column_comments
			  FROM omnikpi.kpi_daily_summaries d
			  UNION ALL
			  SELECT s.table_name, s.description, s.columns, s.key_columns, s.column_comments
			  FROM omnikpi.kpi_summary_tables s) AS t USING (table_name)
		ORDER BY n.position
	LOOP
		EXECUTE format('CREATE TABLE %I.%I (%s)', target_schema, summary.table_name, summary.columns);
		relation := format('%I.%I', target_schema, summary.table_name)::regclass;
		PERFORM omnikpi.create_key_index(relation, summary.key_columns);
		EXECUTE format('COMMENT ON TABLE %s IS %L', relation, summary.description);
		PERFORM omnikpi.comment_columns(relation, summary.column_comments);
		RETURN NEXT relation;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_summary_tables(name, name[]) IS
	'creates, empty, the daily and summary tables the materialized form of the given KPI views is rolled up from';

-- The table of a KPI view in the materialized form, with the plain view's
-- columns and types (its definition reads the entity tables, which have the
-- layer views' columns).
CREATE FUNCTION omnikpi.create_kpi_table(target_schema name, kpi_name name, template_args text[])
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format('CREATE TABLE %I.%I AS ', target_schema, kpi_name)
		|| format((SELECT v.definition FROM omnikpi.kpi_views v WHERE v.view_name = kpi_name), VARIADIC template_args)
		|| ' WITH NO DATA';
	relation := format('%I.%I', target_schema, kpi_name)::regclass;
	PERFORM omnikpi.create_key_index(relation, (SELECT m.key_columns FROM omnikpi.kpi_materialized_views m
												WHERE m.view_name = kpi_name));
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_kpi_table(name, name, text[]) IS
	'creates, empty, the table that keeps a KPI view of create_kpi_views in the materialized form';

-- The refresh state: per source, the watermark, and the settings the refresh
-- formats its templates with.
CREATE FUNCTION omnikpi.create_refresh_state(target_schema name, given jsonb, settings jsonb)
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format($t$CREATE TABLE %I.kpi_refresh_state (
		source text PRIMARY KEY,
		time_zone text NOT NULL,
		watermark timestamptz,
		recomputed_from date,
		full_rebuild boolean,
		refreshed_at timestamptz,
		settings jsonb NOT NULL,
		window_from timestamptz)$t$, target_schema);
	relation := format('%I.kpi_refresh_state', target_schema)::regclass;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   'refresh state of the materialized KPI views, per source: the watermark (the newest time of its rows the last refresh saw, up to the time of that refresh) from which omnikpi.refresh_kpi_views recomputes, minus its late_window');
	PERFORM omnikpi.comment_columns(relation, ARRAY[
		'source', 'the source: interactions, orders, touchpoints or conversions',
		'time_zone', 'the time zone days are cut in (create_kpi_views'' time_zone, by default the zone of the session that called it)',
		'watermark', 'newest time, up to the last refresh, of the column that dates the source''s rows (occurred_at, ordered_at, touched_at or converted_at; an order''s later times do not count); the next refresh recomputes the rows with any time from the day of watermark - late_window on',
		'recomputed_from', 'first day the last refresh recomputed (-infinity: all of them)',
		'full_rebuild', 'whether the last refresh recomputed everything',
		'refreshed_at', 'when the last refresh ran',
		'settings', 'the settings of create_kpi_views the refresh computes with (the same in every row)',
		'window_from', 'start of the window whose rows kpi_refresh_window keeps (NULL: none kept; the next refresh then recomputes every entity with a row in its window)']);
	EXECUTE format('INSERT INTO %s (source, time_zone, settings) SELECT s, $1, $2 FROM jsonb_object_keys($3) AS s', relation)
		USING settings #>> '{template_arguments,7}', settings, given;
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_refresh_state(name, jsonb, jsonb) IS
	'creates the refresh state table of the materialized form, one row per given source';

-- The sources' rows in the last refresh's window, as text: the next
-- refresh compares its window with them to find the rows that changed.
-- They are copies of the raw rows, so grant_bi_access never grants them.
CREATE FUNCTION omnikpi.create_refresh_window(target_schema name) RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	relation regclass;
BEGIN
	EXECUTE format('CREATE TABLE %I.kpi_refresh_window (source text NOT NULL, latest_at timestamptz, form text NOT NULL)',
				   target_schema);
	relation := format('%I.kpi_refresh_window', target_schema)::regclass;
	EXECUTE format('COMMENT ON TABLE %s IS %L', relation,
				   'the sources'' rows in the window of the last refresh of the materialized KPI views, which the next refresh compares its window with to recompute only the entities whose rows changed; copies of the raw rows, never granted by grant_bi_access');
	PERFORM omnikpi.comment_columns(relation, ARRAY[
		'source', 'the source: interactions, orders, touchpoints or conversions',
		'latest_at', 'the latest of the row''s times',
		'form', 'the row of the source view, in its text form']);
	RETURN relation;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_refresh_window(name) IS
	'creates the table in which the refresh of the materialized form keeps the rows of its window';
-- ---------------------------------------------------------------------------
-- The refresh of the materialized form (10-materialized.sql):
-- refresh_kpi_views and the steps it takes.
--
-- Per source, the window starts at the local midnight of the day of
-- watermark - late_window (everything, on a full rebuild or the first
-- refresh).  The steps, in one transaction, each writing only ordinary
-- tables:
--   0. the window's rows, and those of them that changed since the last
--      refresh (compared with the rows it kept);
--   1. daily tables: the days of the window deleted and computed again;
--   2. entity tables, in their order: the touched keys, their old rows and
--      their new rows (pg_temp.kpi_changes_<table>, signed -1 and 1), the
--      old rows replaced by the new; then every delta summary of the entity
--      adds the new rows' contributions and subtracts the old ones';
--   3. period summaries, then KPI tables: the months (or quarters) that
--      changed in what they read are deleted and computed again; those
--      without a month, whole;
--   4. the window's rows kept for the next refresh (kpi_refresh_window).
-- pg_temp.kpi_changed lists, per table, the months that changed (and_later:
-- that month and every later one), so each table knows what to recompute.
-- ---------------------------------------------------------------------------

-- Drops the temporary tables of an earlier refresh in the same transaction
-- (they go at commit), without a notice for those that are not there.
CREATE FUNCTION omnikpi.drop_temp_tables(table_names name[]) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	temp_table regclass;
BEGIN
	FOR temp_table IN SELECT to_regclass(format('pg_temp.%I', t)) FROM unnest(table_names) t LOOP
		IF temp_table IS NOT NULL THEN
			EXECUTE format('DROP TABLE %s', temp_table);
		END IF;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.drop_temp_tables(name[]) IS
	'drops those of the named temporary tables of the refresh that exist';

-- Computes the new rows of the touched entities of a refresh
-- (pg_temp.kpi_new_rows, see refresh_entity_table) with the layer's
-- template.  The templates read the refresh's temporary tables and the
-- stored rows of the touched keys through the key's index (key = ANY (the
-- touched keys)): they need no nested loop but their LATERAL unnest(), and
-- one chosen on a temporary table's rough estimate rescans a whole
-- aggregate per key (a customer profile's months, 18 s for a day's 22,000
-- customers where hash joins take a second).
CREATE FUNCTION omnikpi.compute_entity_rows(entity record, relation text, columns text, new_rows text,
											since timestamptz[])
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET enable_nestloop = off
	-- rows without a row_key are compared by their text form (below):
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
BEGIN
	IF entity.row_key IS NULL THEN
		EXECUTE format('CREATE TEMP TABLE kpi_new_rows ON COMMIT DROP AS SELECT n::text AS form, n.* FROM (%s) AS n', new_rows)
			USING since[1], since[2], since[3], since[4];
	ELSE
		-- the table's own column types, which the binary images need
		EXECUTE format('CREATE TEMP TABLE kpi_new_rows (LIKE %s) ON COMMIT DROP', relation);
		EXECUTE format('INSERT INTO pg_temp.kpi_new_rows (%1$s) SELECT %1$s FROM (%2$s) AS n', columns, new_rows)
			USING since[1], since[2], since[3], since[4];
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.compute_entity_rows(record, text, text, text, timestamptz[]) IS
	'computes the new rows of the touched entities of a refresh of the materialized form';

-- Compares a refresh's old and new rows of the touched entities
-- (pg_temp.kpi_old_rows and kpi_new_rows, see refresh_entity_table) and
-- writes the keys whose rows changed (pg_temp.kpi_changed_keys) and the
-- changes, old rows signed -1 and new ones 1 (pg_temp.kpi_changes_<table>).
-- Only temporary tables are joined here, whose statistics are rough (their
-- keys are not analyzed, and matches' IS NOT DISTINCT FROM is estimated as
-- rare): an estimate of one row made a nested loop that searched thousands
-- of forms once per touched key, seconds where hash joins take
-- milliseconds.
CREATE FUNCTION omnikpi.compare_entity_rows(entity record, columns text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET enable_nestloop = off
AS $fn$
DECLARE
	-- the test a new row no touched key claims must pass to be inserted
	unclaimed text;
BEGIN
	-- Only the entities that change are replaced and reach the summaries:
	-- most touched entities come out the same (a journey that only reaches
	-- into the window, say), and rewriting them would cost index updates
	-- that grow with the stored history.  A touched key with a stored or new
	-- row that has no equal on the other side has all its stored rows
	-- replaced by all its new ones, so the result is the new rows,
	-- duplicates and NULLs included.  Rows with a row_key are paired by it
	-- and compared by their binary images (record_image_eq, as REFRESH
	-- MATERIALIZED VIEW CONCURRENTLY does: 1.0 and 1.00 differ, as their
	-- text does), which costs neither printing nor hashing their arrays; the
	-- others are compared as a multiset of their text forms.
	IF entity.row_key IS NULL THEN
		CREATE TEMP TABLE kpi_changed_rows ON COMMIT DROP AS
		SELECT c.form FROM (SELECT o.form, -1 AS sign FROM pg_temp.kpi_old_rows AS o
							UNION ALL
							SELECT n.form, 1 FROM pg_temp.kpi_new_rows AS n) AS c
		GROUP BY c.form HAVING sum(c.sign) <> 0;
		EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
			SELECT DISTINCT t.* FROM pg_temp.kpi_touched AS t
			JOIN (SELECT form, %2$s FROM pg_temp.kpi_old_rows UNION ALL SELECT form, %2$s FROM pg_temp.kpi_new_rows) AS e
				ON %1$s
			WHERE e.form IN (SELECT form FROM pg_temp.kpi_changed_rows)', entity.matches, columns);
		unclaimed := E'e.form IN (SELECT form FROM pg_temp.kpi_changed_rows)\n\t\t\tAND ';
	ELSE
		EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
			SELECT DISTINCT t.* FROM pg_temp.kpi_touched AS t
			JOIN (SELECT %3$s FROM pg_temp.kpi_old_rows AS o FULL JOIN pg_temp.kpi_new_rows AS n ON %2$s
				  WHERE o.%4$I IS NULL OR n.%4$I IS NULL OR NOT o OPERATOR(pg_catalog.*=) n) AS e
				ON %1$s', entity.matches,
					   (SELECT string_agg(format('o.%1$I = n.%1$I', k), ' AND ') FROM unnest(entity.row_key) k),
					   (SELECT string_agg(format('coalesce(o.%1$I, n.%1$I) AS %1$I', k), ', ') FROM unnest(entity.row_key) k),
					   entity.row_key[1]);
		unclaimed := '';
	END IF;
	ANALYZE pg_temp.kpi_changed_keys;
	-- the old rows are those the DELETE of refresh_entity_table removes; the
	-- new rows, those of the changed keys and any changed one no key claims
	-- (two branches, not one OR: under an OR the test of the form is a
	-- subplan, searched row by row when the forms do not fit in work_mem for
	-- hashing)
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT -1 AS sign, %2$s FROM pg_temp.kpi_old_rows AS e
		WHERE EXISTS (SELECT FROM pg_temp.kpi_changed_keys AS t WHERE %3$s)
		UNION ALL
		SELECT 1, %2$s FROM pg_temp.kpi_new_rows AS e
		WHERE EXISTS (SELECT FROM pg_temp.kpi_changed_keys AS t WHERE %3$s)
		UNION ALL
		SELECT 1, %2$s FROM pg_temp.kpi_new_rows AS e
		WHERE %4$sNOT EXISTS (SELECT FROM pg_temp.kpi_touched AS t WHERE %3$s)',
				   'kpi_changes_' || entity.table_name, columns, entity.matches, unclaimed);
END
$fn$;
COMMENT ON FUNCTION omnikpi.compare_entity_rows(record, text) IS
	'compares the old and new rows of the touched entities of a refresh of the materialized form and writes the changed keys and the signed changes';

-- The columns of a refresh's touched keys (pg_temp.kpi_touched) an entity
-- table has: customer_id and the entity's own id, or customer_id alone for
-- an entity numbered per customer (its touched keys carry where the
-- numbering starts again, which the table does not have).
CREATE FUNCTION omnikpi.touched_key_columns(relation regclass) RETURNS name[]
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT array_agg(t.attname ORDER BY t.attnum)
	FROM pg_attribute t
	WHERE t.attrelid = to_regclass('pg_temp.kpi_touched') AND t.attnum > 0 AND NOT t.attisdropped
	  AND EXISTS (SELECT FROM pg_attribute e WHERE e.attrelid = relation AND e.attname = t.attname
				  AND e.attnum > 0 AND NOT e.attisdropped)
$fn$;
COMMENT ON FUNCTION omnikpi.touched_key_columns(regclass) IS
	'the columns of the touched keys of a refresh of the materialized form that the entity table has';

-- The keys of a refresh's temporary table (keys) for an entity table, as
-- constants: for each of its touched key columns, the distinct values as
-- an array literal of the column's type ({"customer_id": "'{...}'::bigint[]"}).
-- A constant, not a subquery on a temporary table of the coordinator, is
-- what lets Citus prune the shards and run a whole statement on the
-- workers.  Computed once per keys table and statement family, then put
-- into the condition of each relation read (key_condition).
CREATE FUNCTION omnikpi.key_values(relation regclass, keys text) RETURNS jsonb
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	key record;
	literal text;
	key_values jsonb := '{}';
BEGIN
	FOR key IN SELECT k.attname, format_type(k.atttypid, k.atttypmod) AS type_name
			   FROM unnest(omnikpi.touched_key_columns(relation)) AS c(name)
			   JOIN pg_attribute k ON k.attrelid = to_regclass(keys) AND k.attname = c.name AND NOT k.attisdropped LOOP
		EXECUTE format('SELECT array_agg(DISTINCT %1$I ORDER BY %1$I)::text FROM %2$s WHERE %1$I IS NOT NULL',
					   key.attname, keys)
			INTO literal;
		key_values := key_values || jsonb_build_object(key.attname, format('%L::%s[]', coalesce(literal, '{}'), key.type_name));
	END LOOP;
	RETURN key_values;
END
$fn$;
COMMENT ON FUNCTION omnikpi.key_values(regclass, text) IS
	'the keys of a temporary table of a refresh for an entity table, written as constants, per key column';

-- The condition that limits a relation (the name of a table or view) to
-- the keys of key_values: alias.column = ANY (the values) for each key
-- column the relation has; NULL when it has none.
CREATE FUNCTION omnikpi.key_condition(relation text, alias text, key_values jsonb) RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT string_agg(format('%s.%I = ANY (%s)', alias, k.key, k.value), ' AND ' ORDER BY k.key)
	FROM jsonb_each_text(key_values) AS k
	WHERE EXISTS (SELECT FROM pg_attribute r WHERE r.attrelid = to_regclass(relation)
				  AND r.attname = k.key AND r.attnum > 0 AND NOT r.attisdropped)
$fn$;
COMMENT ON FUNCTION omnikpi.key_condition(text, text, jsonb) IS
	'the condition that limits a relation to the keys of a refresh written as constants (key_values)';

-- A layer view template's inputs for the given keys (key_values): its
-- sources, each limited to those keys (a source is keyed like its
-- entities, so all the rows of a key are there).
CREATE FUNCTION omnikpi.inputs_of_keys(target_schema name, entity record, settings jsonb, key_values jsonb)
	RETURNS text[]
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	inputs text[] := omnikpi.layer_inputs(target_schema, entity.table_name, entity.keyed_by, settings -> 'given',
										  ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments')));
	condition text;
BEGIN
	FOR i IN 1 .. cardinality(inputs) LOOP
		-- a subquery (an absent source's rows: none) or no input at all
		CONTINUE WHEN inputs[i] IS NULL OR left(inputs[i], 1) = '(';
		condition := omnikpi.key_condition(inputs[i], 'input', key_values);
		IF condition IS NOT NULL THEN
			inputs[i] := format('(SELECT * FROM %s AS input WHERE %s)', inputs[i], condition);
		END IF;
	END LOOP;
	RETURN inputs;
END
$fn$;
COMMENT ON FUNCTION omnikpi.inputs_of_keys(name, record, jsonb, jsonb) IS
	'the inputs of a layer view template of create_kpi_views limited to the keys of a refresh written as constants';

-- The query of the rows of a layer view for the keys of key_values: the
-- template of the full rebuild, its sources limited to those keys.  Over
-- sources distributed by one of the key columns, Citus runs it whole on
-- the workers, each shard computing the entities of its own keys from its
-- own rows.
CREATE FUNCTION omnikpi.entity_rows_query(target_schema name, entity record, settings jsonb, key_values jsonb)
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	RETURN format(entity.definition, VARIADIC ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'))
				  || omnikpi.inputs_of_keys(target_schema, entity, settings, key_values));
END
$fn$;
COMMENT ON FUNCTION omnikpi.entity_rows_query(name, record, jsonb, jsonb) IS
	'the query of the rows of a layer view of create_kpi_views for the keys of a refresh written as constants, read from its sources';

-- On Citus, an entity table distributed by a column of its touched keys
-- (distribute_entity_tables) is maintained on the workers: its touched
-- entities are recomputed there from their source rows
-- (entity_rows_query), and only their new rows, with the stored ones, come
-- to the coordinator, to be compared there (as a multiset of text forms
-- per key, printed here in this function's settings, whatever the
-- workers') and added to the summaries; the changed keys' rows are then
-- deleted and inserted, each statement routed to the workers that hold
-- them.  The rows each entity is recomputed from stay on the workers.  An
-- entity kept per customer (journeys without ids, customer profiles,
-- conversion paths by customer) is recomputed from the customer's whole
-- history, as the full rebuild computes it: the window's shortcuts of one
-- node (refresh_entity_table) read temporary tables of the coordinator,
-- which would bring every input row there.  The keys' condition limits
-- each column apart, so it may take in a few more entities than were
-- touched (a touched customer's untouched journey with a touched journey's
-- id): they are recomputed and compared like the others, and come out the
-- same.  columns: the entity table's, listed.
CREATE FUNCTION omnikpi.refresh_entities_on_workers(target_schema name, entity record, settings jsonb, columns text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation text := format('%I.%I', target_schema, entity.table_name);
	marks text := format('%I.%I', target_schema, entity.table_name || '_marks');
	changes name := 'kpi_changes_' || entity.table_name;
	keys text := array_to_string(ARRAY(SELECT format('%I', k)
									   FROM unnest(omnikpi.touched_key_columns(relation::regclass)) AS k), ', ');
	touched jsonb;
	changed jsonb;
BEGIN
	-- the touched keys' stored rows (-1) and new rows (1)
	EXECUTE format('CREATE TEMP TABLE kpi_touched_rows (sign integer, LIKE %s) ON COMMIT DROP', relation);
	IF EXISTS (SELECT FROM pg_temp.kpi_touched) THEN
		touched := omnikpi.key_values(relation::regclass, 'pg_temp.kpi_touched');
		EXECUTE format('INSERT INTO pg_temp.kpi_touched_rows
			SELECT -1, e.* FROM %s AS e WHERE %s
			UNION ALL
			SELECT 1, n.* FROM (%s) AS n', relation, omnikpi.key_condition(relation, 'e', touched),
					   omnikpi.entity_rows_query(target_schema, entity, settings, touched));
	END IF;
	-- the keys whose multiset of rows changed, and their rows: the changes
	EXECUTE format('CREATE TEMP TABLE kpi_changed_keys ON COMMIT DROP AS
		SELECT DISTINCT %1$s FROM pg_temp.kpi_touched_rows
		GROUP BY %1$s, ROW(%2$s)::text HAVING sum(sign) <> 0', keys, columns);
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT * FROM pg_temp.kpi_touched_rows WHERE (%s) IN (SELECT %s FROM pg_temp.kpi_changed_keys)',
				   changes, keys, keys);
	-- its size and signs only, as on one node (refresh_entity_table)
	EXECUTE format('ANALYZE pg_temp.%I (sign)', changes);
	IF EXISTS (SELECT FROM pg_temp.kpi_changed_keys) THEN
		changed := omnikpi.key_values(relation::regclass, 'pg_temp.kpi_changed_keys');
		EXECUTE format('DELETE FROM %s AS e WHERE %s', relation, omnikpi.key_condition(relation, 'e', changed));
		EXECUTE format('INSERT INTO %s SELECT %s FROM pg_temp.%I WHERE sign = 1', relation, columns, changes);
	END IF;
	DROP TABLE pg_temp.kpi_touched_rows;
	IF entity.marks IS NOT NULL AND touched IS NOT NULL THEN
		-- the marks of the touched keys, the others left out: the inputs'
		-- conditions may take in a few more
		EXECUTE format('DELETE FROM %s AS m WHERE %s', marks, omnikpi.key_condition(marks, 'm', touched));
		EXECUTE format('INSERT INTO %s SELECT m.* FROM (%s) AS m WHERE %s', marks,
					   format(entity.marks, VARIADIC args || omnikpi.inputs_of_keys(target_schema, entity, settings, touched)),
					   omnikpi.key_condition(marks, 'm', touched));
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_entities_on_workers(name, record, jsonb, text) IS
	'on Citus, recomputes the touched rows of a distributed entity table of the materialized form on the workers, replaces those that changed and writes the temporary table of its changes';

-- The window's start of each source ($1 interactions, $2 orders, $3
-- touchpoints, $4 conversions) and the templates' arguments are passed to
-- each step; a source the schema does not read starts at infinity.  The
-- touched keys are found from the changed rows of the window
-- (pg_temp.kpi_delta_<source>) and, from settings' stored_from on ($5 to
-- $8, in the same order), from the stored rows: there an entity may have
-- lost a source row that no changed row shows, when the refresh had no copy
-- of the last window to compare with (the window's start, else infinity).
CREATE FUNCTION omnikpi.refresh_entity_table(target_schema name, entity record, settings jsonb, since timestamptz[])
	RETURNS text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- rows without a row_key are compared by their text form (below):
	-- floats in their shortest exact form, so that two different values
	-- never print alike
	SET extra_float_digits = 1
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	given jsonb := settings -> 'given';
	stored_from timestamptz[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'stored_from'))::timestamptz[];
	relation text := format('%I.%I', target_schema, entity.table_name);
	changes text := format('pg_temp.%I', 'kpi_changes_' || entity.table_name);
	inputs text[] := '{}';
	new_rows text;
	columns text;
	-- the stored rows of the touched keys, found through the key's index;
	-- the temporary tables are paired by matches alone
	stored_matches text := entity.matches || E'\n\tAND ' || entity.index_lookup;
BEGIN
	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_touched', 'kpi_input_1', 'kpi_input_2', 'kpi_old_rows', 'kpi_new_rows',
											'kpi_changed_rows', 'kpi_changed_keys', 'kpi_changes_' || entity.table_name]);
	EXECUTE 'CREATE TEMP TABLE kpi_touched ON COMMIT DROP AS '
		|| format(entity.touched || CASE WHEN given ? entity.optional_source THEN E'\n' || entity.touched_by_optional ELSE '' END,
				  VARIADIC args)
		USING since[1], since[2], since[3], since[4], stored_from[1], stored_from[2], stored_from[3], stored_from[4];
	ANALYZE pg_temp.kpi_touched;
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO columns
	FROM pg_attribute a WHERE a.attrelid = relation::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	-- on Citus, an entity table distributed by one of the touched keys'
	-- columns is refreshed on the workers
	IF EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = to_regclass('pg_temp.kpi_touched')
			   AND a.attname = omnikpi.distribution_column(relation::regclass) AND NOT a.attisdropped) THEN
		PERFORM omnikpi.refresh_entities_on_workers(target_schema, entity, settings, columns);
		RETURN changes;
	END IF;
	-- the rows the template reads, for the touched keys only
	FOR i IN 1 .. cardinality(entity.inputs) LOOP
		EXECUTE format('CREATE TEMP TABLE kpi_input_%s ON COMMIT DROP AS SELECT * FROM %s AS input', i,
					   format(entity.inputs[i], VARIADIC args))
			USING since[1], since[2], since[3], since[4];
		EXECUTE format('ANALYZE pg_temp.kpi_input_%s', i);
		inputs := inputs || format('pg_temp.kpi_input_%s', i);
	END LOOP;
	IF entity.optional_source IS NOT NULL THEN
		inputs := inputs || CASE WHEN given ? entity.optional_source THEN format(entity.optional_input, VARIADIC args)
								 ELSE format(entity.absent_input, VARIADIC args || inputs) END;
	END IF;
	inputs := inputs || array_fill(NULL::text, ARRAY[2 - cardinality(inputs)]);
	new_rows := format(entity.definition, VARIADIC args || inputs);
	IF entity.recompute IS NOT NULL THEN
		new_rows := format(entity.recompute, VARIADIC args || inputs || new_rows);
	END IF;
	-- The old and new rows of the touched keys, compared by
	-- compare_entity_rows: rows without a row_key by their text forms,
	-- printed here.  The stored rows are deleted by key, not by form: on
	-- Citus an UPDATE or DELETE of a distributed table may not call a STABLE
	-- function such as a row's text form on its columns.
	EXECUTE format('CREATE TEMP TABLE kpi_old_rows ON COMMIT DROP AS
		SELECT %s e.* FROM %s AS e JOIN pg_temp.kpi_touched AS t ON %s',
				   CASE WHEN entity.row_key IS NULL THEN 'e::text AS form,' ELSE '' END, relation, stored_matches);
	PERFORM omnikpi.compute_entity_rows(entity, relation, columns, new_rows, since);
	PERFORM omnikpi.compare_entity_rows(entity, columns);
	-- its size and signs only: statistics of its array columns cost more
	-- than the plans that read it gain
	EXECUTE format('ANALYZE %s (sign)', changes);
	EXECUTE format('DELETE FROM %s AS e USING pg_temp.kpi_changed_keys AS t WHERE %s', relation, stored_matches);
	EXECUTE format('INSERT INTO %s SELECT %s FROM %s WHERE sign = 1', relation, columns, changes);
	IF entity.marks IS NOT NULL THEN
		-- through the key's index: the marks grow with the history
		EXECUTE format('DELETE FROM %I.%I AS m WHERE m.%I = ANY (ARRAY(SELECT t.%I FROM pg_temp.kpi_touched AS t))',
					   target_schema, entity.table_name || '_marks', entity.marks_key, entity.marks_key);
		EXECUTE format('INSERT INTO %I.%I ', target_schema, entity.table_name || '_marks')
			|| format(entity.marks, VARIADIC args || inputs);
	END IF;
	RETURN changes;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_entity_table(name, record, jsonb, timestamptz[]) IS
	'recomputes the touched rows of an entity table of the materialized form and returns the temporary table of its changes (old rows signed -1, new rows 1)';

-- Adds the contributions of signed entity rows (changes) to a delta summary
-- table, and notes the months that changed.  settings carries the window
-- starts of the refresh (window_starts, the parameters of the template).
CREATE FUNCTION omnikpi.add_to_summary(target_schema name, summary record, settings jsonb, changes text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, summary.table_name)::regclass;
	-- the window starts of the refresh (settings' window_starts), the
	-- template's $1 to $4
	since timestamptz[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'window_starts'))::timestamptz[];
	measures name[];
	emptied tid[];
BEGIN
	SELECT array_agg(a.attname ORDER BY a.attnum) INTO measures
	FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> ALL (summary.key_columns);
	-- The rows whose count fell to 0 go, found by the row ids the upsert
	-- returns: a DELETE by the count would scan the whole table, which grows
	-- with the history.
	EXECUTE format($q$WITH delta AS (%s),
changed AS (
	INSERT INTO %s AS s SELECT * FROM delta WHERE (%s) IS DISTINCT FROM (%s)
	ON CONFLICT (%s) DO UPDATE SET %s
	RETURNING %s AS month, s.ctid AS row_id, s.%I = 0 AS emptied),
noted AS (
	INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, month, false FROM changed)
SELECT array_agg(row_id) FILTER (WHERE emptied) FROM changed$q$,
		format(summary.definition, VARIADIC args || ARRAY[NULL, NULL, NULL, changes]),
		relation,
		(SELECT string_agg(format('%I', m), ', ') FROM unnest(measures) m),
		(SELECT string_agg('0', ', ') FROM unnest(measures) m),
		(SELECT string_agg(format('%I', k), ', ') FROM unnest(summary.key_columns) k),
		(SELECT string_agg(format('%1$I = s.%1$I + EXCLUDED.%1$I', m), ', ') FROM unnest(measures) m),
		coalesce(quote_ident(summary.period_column), 'NULL::date'),
		summary.count_column,
		summary.table_name)
		INTO emptied
		USING since[1], since[2], since[3], since[4];
	EXECUTE format('DELETE FROM %s WHERE ctid = ANY ($1) AND %I = 0', relation, summary.count_column) USING emptied;
END
$fn$;
COMMENT ON FUNCTION omnikpi.add_to_summary(name, record, jsonb, text) IS
	'adds the contributions of the changed rows of an entity table to a summary table of the materialized form';

-- Recomputes the months of a period summary or KPI table that changed in
-- the tables it reads (all of it on a rebuild, or when it has no month
-- column), and notes them as changed in it.
CREATE FUNCTION omnikpi.recompute_periods(target_schema name, table_name name, reads name[], period_column name,
										  definition text, settings jsonb, rebuild boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	args text[] := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	relation regclass := format('%I.%I', target_schema, table_name)::regclass;
	unit text := CASE period_column WHEN 'quarter' THEN 'quarter' ELSE 'month' END;
	touched boolean;
	whole boolean;
	lower date;
	months date[];
BEGIN
	SELECT count(*) > 0, bool_or(c.month IS NULL) OR bool_or(c.and_later AND c.month = '-infinity'),
		date_trunc(unit, min(c.month) FILTER (WHERE c.and_later))::date,
		array_agg(DISTINCT date_trunc(unit, c.month)::date) FILTER (WHERE NOT c.and_later)
	INTO touched, whole, lower, months
	FROM pg_temp.kpi_changed c WHERE c.relation = ANY (reads);
	IF NOT (touched OR rebuild) THEN
		RETURN;
	END IF;
	definition := format(definition, VARIADIC args);
	IF rebuild OR whole OR period_column IS NULL THEN
		EXECUTE format('DELETE FROM %s', relation);
		EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d', relation, definition)
			USING date '-infinity', '{}'::date[];
		INSERT INTO pg_temp.kpi_changed VALUES (table_name, CASE WHEN period_column IS NOT NULL THEN date '-infinity' END, true);
		RETURN;
	END IF;
	lower := coalesce(lower, 'infinity');
	months := coalesce(months, '{}');
	EXECUTE format('DELETE FROM %s WHERE %I >= $1 OR %I = ANY ($2)', relation, period_column, period_column)
		USING lower, months;
	EXECUTE format('INSERT INTO %s SELECT * FROM (%s) AS d WHERE d.%I >= $1 OR d.%I = ANY ($2)', relation, definition,
				   period_column, period_column)
		USING lower, months;
	INSERT INTO pg_temp.kpi_changed
	SELECT table_name, lower, true WHERE lower < 'infinity'
	UNION ALL
	SELECT table_name, m, false FROM unnest(months) m;
END
$fn$;
COMMENT ON FUNCTION omnikpi.recompute_periods(name, name, name[], name, text, jsonb, boolean) IS
	'recomputes the changed months of a table of the materialized form from the tables it reads';

-- Statistics of a temporary table of a source's rows: of its keys and
-- times only.
CREATE FUNCTION omnikpi.analyze_keys(temp_table name, source text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('ANALYZE pg_temp.%I (%s)', temp_table,
				   (SELECT string_agg(format('%I', c.column_name), ', ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = analyze_keys.source AND c.kind IN ('id', 'time')));
END
$fn$;
COMMENT ON FUNCTION omnikpi.analyze_keys(name, text) IS
	'analyzes the key and time columns of a temporary table of source rows of the refresh of the materialized form';

-- The window's rows of a source, read once into pg_temp.kpi_window_<source>:
-- those with any of their times from since on (an order's too, when only
-- its return is that late).  Statistics of its keys and times only, what
-- the plans that read it join and filter on: sampling every column took
-- more than twice as long.
CREATE FUNCTION omnikpi.copy_window_rows(target_schema name, source text, since timestamptz) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %I.%I WHERE %s',
				   'kpi_window_' || source, target_schema, 'source_' || source,
				   (SELECT string_agg(format('%I >= $1', c.column_name), ' OR ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = copy_window_rows.source AND c.kind = 'time'))
		USING since;
	PERFORM omnikpi.analyze_keys('kpi_window_' || source, source);
END
$fn$;
COMMENT ON FUNCTION omnikpi.copy_window_rows(name, text, timestamptz) IS
	'copies the rows of a source of the materialized form with a time from since on into a temporary table of the refresh';

-- The rows of a source's window that changed since the last refresh: the
-- window's rows (pg_temp.kpi_window_<source>) compared, as a multiset of
-- their text forms, with those kpi_refresh_window kept from the last
-- refresh's window, which began no later.  The forms with more copies on
-- one side (pg_temp.kpi_window_changed_<source>) go into
-- pg_temp.kpi_delta_<source> as the source's rows: new and updated rows as
-- they are, deleted and updated ones as they were, so that their keys are
-- touched.  pg_temp.kpi_window_forms_<source> holds the window's forms, for
-- keep_window.  Without window_table, only those.  The forms are printed and
-- read back with fixed settings: a refresh compares them with those an
-- earlier one printed, whatever the session's (a session whose TimeZone
-- differs would otherwise see every row changed).
CREATE FUNCTION omnikpi.window_changes(target_schema name, source text, since timestamptz, window_table regclass)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = 'postgres'
	SET TimeZone = 'UTC'
	SET extra_float_digits = 1
	SET bytea_output = 'hex'
AS $fn$
BEGIN
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT greatest(%s) AS latest_at, w::text AS form FROM pg_temp.%I AS w',
				   'kpi_window_forms_' || source,
				   (SELECT string_agg(format('w.%I', c.column_name), ', ' ORDER BY c.position)
					FROM omnikpi.source_columns c WHERE c.source = window_changes.source AND c.kind = 'time'),
				   'kpi_window_' || source);
	IF window_table IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT form FROM (SELECT form, 1 AS sign FROM pg_temp.%I
						  UNION ALL
						  SELECT form, -1 FROM %s WHERE source = $1 AND latest_at >= $2) AS f
		GROUP BY form HAVING sum(sign) <> 0',
				   'kpi_window_changed_' || source, 'kpi_window_forms_' || source, window_table)
		USING source, since;
	-- OFFSET 0 reads each changed form once, not once per column
	EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS
		SELECT (r.source_row).* FROM (SELECT c.form::%I.%I AS source_row FROM pg_temp.%I AS c OFFSET 0) AS r',
				   'kpi_delta_' || source, target_schema, 'source_' || source, 'kpi_window_changed_' || source);
	PERFORM omnikpi.analyze_keys('kpi_delta_' || source, source);
END
$fn$;
COMMENT ON FUNCTION omnikpi.window_changes(name, text, timestamptz, regclass) IS
	'collects the rows of a source''s window that changed since the last refresh of the materialized form (new, updated and deleted), comparing them with the rows kpi_refresh_window kept';

-- Keeps the rows of a source's window from kept_from on (their forms,
-- printed by window_changes) in kpi_refresh_window for the next refresh, in
-- place of the last ones; none when kept_from is NULL.  After a comparison
-- (changed_only) only what differs is written: the kept rows that left the
-- window go, and the changed forms are replaced by their copies in the
-- window, a fifth of the rows when a day is new in a window of five.
CREATE FUNCTION omnikpi.keep_window(source text, kept_from timestamptz, window_table regclass, changed_only boolean)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF changed_only THEN
		EXECUTE format('DELETE FROM %s WHERE source = $1 AND (latest_at < $2 OR form IN (SELECT form FROM pg_temp.%I))',
					   window_table, 'kpi_window_changed_' || source)
			USING source, kept_from;
		EXECUTE format('INSERT INTO %s (source, latest_at, form) SELECT $1, latest_at, form FROM pg_temp.%I
						WHERE form IN (SELECT form FROM pg_temp.%I)',
					   window_table, 'kpi_window_forms_' || source, 'kpi_window_changed_' || source)
			USING source;
		RETURN;
	END IF;
	-- DELETE, not TRUNCATE: a refresh needs no more privileges than that
	EXECUTE format('DELETE FROM %s WHERE source = $1', window_table) USING source;
	IF kept_from IS NOT NULL THEN
		EXECUTE format('INSERT INTO %s (source, latest_at, form) SELECT $1, latest_at, form FROM pg_temp.%I',
					   window_table, 'kpi_window_forms_' || source)
			USING source;
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.keep_window(text, timestamptz, regclass, boolean) IS
	'keeps the rows of a source''s window in kpi_refresh_window, for the next refresh of the materialized form to compare with';

-- One refresh of the materialized form of a schema (see the top of this
-- file).  It takes the schema's lock itself, so that a direct call cannot
-- interleave with another refresh either.
CREATE FUNCTION omnikpi.refresh_materialized_form(target_schema name, full_rebuild boolean, late_window interval)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	-- JIT compiles a statement whose estimated cost passes a threshold, and
	-- the estimates grow with the stored history: an incremental refresh
	-- paid a second or more per statement that took less to run.
	SET jit = off
AS $fn$
DECLARE
	sources text[] := ARRAY['interactions', 'orders', 'touchpoints', 'conversions'];
	since timestamptz[] := ARRAY['infinity', 'infinity', 'infinity', 'infinity'];
	newest timestamptz[] := ARRAY[NULL, NULL, NULL, NULL];
	-- the start of the window whose rows kpi_refresh_window keeps, per source
	kept_from timestamptz[] := ARRAY[NULL, NULL, NULL, NULL];
	-- where the touched keys come from stored rows too (refresh_entity_table)
	stored_from timestamptz[] := ARRAY['infinity', 'infinity', 'infinity', 'infinity'];
	window_table regclass;
	source_newest timestamptz;
	state record;
	settings jsonb;
	args text[];
	zone text;
	rebuild boolean := full_rebuild;
	step record;
	changes text;
	inputs text[];
	from_day date;
	i integer;
	current_table text;
	failure_state text;
	failure_detail text;
	failure_hint text;
BEGIN
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	-- The watermark of each source, read before anything is recomputed so
	-- that it never claims rows the recomputation did not see: the newest
	-- time up to now() of the column that dates a row's arrival, the one
	-- time every row has (an order's ordered_at).  Not the newest of an
	-- order's times: returns recorded as they happen run ahead of orders
	-- loaded days late, and would move the window past an order that
	-- arrives inside it.  Not a row dated in the future either, which would
	-- move it to now() ahead of a source that runs behind; such a row is
	-- after the window's start, so every refresh reads it anyway.
	FOR state IN EXECUTE format('SELECT * FROM %I.kpi_refresh_state ORDER BY source', target_schema) LOOP
		settings := state.settings;
		i := array_position(sources, state.source);
		EXECUTE (SELECT format('SELECT max(%1$I) FROM %2$I.%3$I WHERE %1$I <= now()', c.column_name, target_schema,
							   'source_' || state.source)
				 FROM omnikpi.source_columns c WHERE c.source = state.source AND c.kind = 'time' AND c.row_needs_value)
			INTO source_newest;
		newest[i] := source_newest;
		rebuild := rebuild OR state.watermark IS NULL;
		since[i] := state.watermark - late_window;
		-- a schema made before kpi_refresh_window has no window_from
		kept_from[i] := (to_jsonb(state) ->> 'window_from')::timestamptz;
	END LOOP;
	args := ARRAY(SELECT jsonb_array_elements_text(settings -> 'template_arguments'));
	zone := args[8];
	FOR i IN 1 .. 4 LOOP
		since[i] := CASE WHEN since[i] = 'infinity' THEN 'infinity'
						 WHEN rebuild THEN '-infinity'
						 ELSE ((since[i] AT TIME ZONE zone)::date)::timestamp AT TIME ZONE zone END;
	END LOOP;
	SELECT o.relation INTO window_table FROM omnikpi.kpi_objects(target_schema) o
	WHERE o.kind = 'refresh state' AND o.relation_name = 'kpi_refresh_window';

	PERFORM omnikpi.drop_temp_tables(ARRAY['kpi_changed']
		|| ARRAY(SELECT prefix || s FROM unnest(sources) s,
					   unnest(ARRAY['kpi_window_', 'kpi_window_forms_', 'kpi_window_changed_', 'kpi_delta_']) prefix)::name[]);
	CREATE TEMP TABLE kpi_changed (relation name, month date, and_later boolean) ON COMMIT DROP;
	BEGIN
		IF rebuild THEN
			-- DELETE, not TRUNCATE: readers of these tables are never blocked
			FOR step IN SELECT o.relation FROM omnikpi.kpi_objects(target_schema) o
						WHERE o.kind IN ('entity table', 'summary table') LOOP
				EXECUTE format('DELETE FROM %s', step.relation);
			END LOOP;
		ELSE
			-- Each source's rows in its window, read once, and those of them
			-- that changed since the last refresh: the entities touched are
			-- those of the changed rows, not every one with a row in the window.
			-- Without the last window's rows to compare with (a schema made
			-- before kpi_refresh_window, or a window that now starts earlier),
			-- every row of the window counts as changed, and the stored rows
			-- from its start on are touched too (they may have lost a row).
			FOR i IN 1 .. 4 LOOP
				CONTINUE WHEN since[i] = 'infinity';
				current_table := 'source_' || sources[i];
				PERFORM omnikpi.copy_window_rows(target_schema, sources[i], since[i]);
				IF window_table IS NOT NULL AND kept_from[i] <= since[i] THEN
					PERFORM omnikpi.window_changes(target_schema, sources[i], since[i], window_table);
				ELSE
					PERFORM omnikpi.window_changes(target_schema, sources[i], since[i], NULL);
					EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM pg_temp.%I',
								   'kpi_delta_' || sources[i], 'kpi_window_' || sources[i]);
					PERFORM omnikpi.analyze_keys('kpi_delta_' || sources[i], sources[i]);
					stored_from[i] := since[i];
				END IF;
			END LOOP;
		END IF;

		-- 1. daily tables
		FOR step IN SELECT d.* FROM omnikpi.kpi_daily_summaries d
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = d.table_name AND o.kind = 'summary table'
					ORDER BY d.table_name LOOP
			current_table := step.table_name;
			i := array_position(sources, step.source);
			from_day := CASE WHEN since[i] = '-infinity' THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END;
			EXECUTE format('DELETE FROM %I.%I WHERE day >= $1 OR day IS NULL', target_schema, step.table_name)
				USING from_day;
			EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
				|| format(step.definition, VARIADIC args || CASE WHEN rebuild THEN format('%I.%I', target_schema, 'source_' || step.source)
																 ELSE format('pg_temp.%I', 'kpi_window_' || step.source) END)
				USING since[i];
			INSERT INTO pg_temp.kpi_changed VALUES (step.table_name, date_trunc('month', from_day), true);
		END LOOP;

		-- 2. entity tables and the summaries added up from them
		FOR step IN SELECT e.*, l.definition, l.optional_source, l.absent_input
					FROM omnikpi.kpi_entity_tables e
					JOIN omnikpi.kpi_layer_views l ON l.view_name = e.table_name AND l.keyed_by = e.keyed_by
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = e.table_name AND o.kind = 'entity table'
					WHERE settings -> 'layers' ->> e.table_name::text = e.keyed_by
					ORDER BY e.position LOOP
			current_table := step.table_name;
			IF rebuild THEN
				inputs := omnikpi.layer_inputs(target_schema, step.table_name, step.keyed_by, settings -> 'given', args);
				EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name)
					|| format(step.definition, VARIADIC args || inputs);
				IF step.marks IS NOT NULL THEN
					EXECUTE format('INSERT INTO %I.%I ', target_schema, step.table_name || '_marks')
						|| format(step.marks, VARIADIC args || inputs);
				END IF;
				-- fresh statistics, for the plans of the refreshes that follow
				EXECUTE format('ANALYZE %I.%I', target_schema, step.table_name);
				changes := format('(SELECT 1 AS sign, e.* FROM %I.%I AS e)', target_schema, step.table_name);
			ELSE
				changes := omnikpi.refresh_entity_table(target_schema, step,
														settings || jsonb_build_object('stored_from', stored_from), since);
			END IF;
			EXECUTE format('INSERT INTO pg_temp.kpi_changed SELECT DISTINCT %L, %s, false FROM %s AS changes',
						   step.table_name,
						   CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
											 WHERE a.attrelid = format('%I.%I', target_schema, step.table_name)::regclass
											   AND a.attname = 'month' AND NOT a.attisdropped)
								THEN 'month' ELSE 'NULL::date' END,
						   changes);
			FOR state IN SELECT s.* FROM omnikpi.kpi_summary_tables s
						 JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = s.table_name AND o.kind = 'summary table'
						 WHERE s.kind = 'delta' AND s.reads = ARRAY[step.table_name]
						 ORDER BY s.position LOOP
				current_table := state.table_name;
				PERFORM omnikpi.add_to_summary(target_schema, state, settings || jsonb_build_object('window_starts', since),
											   changes);
			END LOOP;
		END LOOP;

		-- 3. period summaries, then the KPI tables
		FOR step IN SELECT t.* FROM (
						SELECT s.table_name, s.reads, s.period_column, s.definition, 1 AS stage, s.position
						FROM omnikpi.kpi_summary_tables s
						WHERE s.kind = 'period'
						UNION ALL
						SELECT m.view_name, m.reads, m.period_column, coalesce(m.definition, v.definition), 2, v.position
						FROM omnikpi.kpi_materialized_views m
						JOIN omnikpi.kpi_views v USING (view_name)) AS t
					JOIN omnikpi.kpi_objects(target_schema) o ON o.relation_name = t.table_name
						AND o.kind IN ('summary table', 'kpi view') AND o.relation_kind = 'r'
					ORDER BY t.stage, t.position LOOP
			current_table := step.table_name;
			PERFORM omnikpi.recompute_periods(target_schema, step.table_name, step.reads, step.period_column,
											  step.definition, settings, rebuild);
		END LOOP;

		-- 4. the window's rows, kept for the next refresh to compare with.
		-- After a full rebuild, those of the window the next refresh will
		-- most likely have (from the day of the new watermark - late_window).
		IF window_table IS NOT NULL THEN
			FOR i IN 1 .. 4 LOOP
				CONTINUE WHEN since[i] = 'infinity';
				current_table := 'kpi_refresh_window';
				IF rebuild THEN
					-- NULL when the source has no rows: none kept
					kept_from[i] := ((newest[i] - late_window) AT TIME ZONE zone)::date::timestamp AT TIME ZONE zone;
					IF kept_from[i] IS NOT NULL THEN
						PERFORM omnikpi.copy_window_rows(target_schema, sources[i], kept_from[i]);
						PERFORM omnikpi.window_changes(target_schema, sources[i], kept_from[i], NULL);
					END IF;
				ELSE
					kept_from[i] := since[i];
				END IF;
				PERFORM omnikpi.keep_window(sources[i], kept_from[i], window_table,
											NOT rebuild AND stored_from[i] = 'infinity');
			END LOOP;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- A failure (a rating outside the scale, say) is raised again with
		-- its message, detail and hint, but not the generated statement; the
		-- transaction rolls back, so the old numbers stay.
		GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_detail = PG_EXCEPTION_DETAIL,
								failure_hint = PG_EXCEPTION_HINT;
		PERFORM omnikpi.raise_again(failure_state, SQLERRM,
			concat_ws(' ', nullif(failure_detail, ''),
					  format('The refresh of %I.%I stopped there; the KPI views keep their previous numbers.',
							 target_schema, current_table)),
			failure_hint);
	END;

	FOR i IN 1 .. 4 LOOP
		CONTINUE WHEN since[i] = 'infinity';
		EXECUTE format('UPDATE %I.kpi_refresh_state SET watermark = $1, recomputed_from = $2, full_rebuild = $3,
						refreshed_at = now() WHERE source = $4', target_schema)
			USING newest[i], CASE WHEN rebuild THEN '-infinity' ELSE (since[i] AT TIME ZONE zone)::date END, rebuild, sources[i];
		IF window_table IS NOT NULL THEN
			EXECUTE format('UPDATE %I.kpi_refresh_state SET window_from = $1 WHERE source = $2', target_schema)
				USING kept_from[i], sources[i];
		END IF;
	END LOOP;
	DROP TABLE pg_temp.kpi_changed;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_materialized_form(name, boolean, interval) IS
	'recomputes the changed part (or all) of the materialized form of target_schema and moves its watermarks; called by refresh_kpi_views and create_kpi_views';

CREATE PROCEDURE omnikpi.refresh_kpi_views(target_schema name, full_rebuild boolean DEFAULT false,
										   late_window interval DEFAULT '3 days')
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	IF target_schema IS NULL OR full_rebuild IS NULL OR late_window IS NULL THEN
		RAISE EXCEPTION 'target_schema, full_rebuild and late_window must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF late_window < interval '0' THEN
		RAISE EXCEPTION 'late_window must not be negative, not %', late_window
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name';
	END IF;
	-- Two refreshes of one schema never interleave: the second waits, then
	-- starts from the watermarks the first one left.
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	IF NOT EXISTS (SELECT 1 FROM omnikpi.materialized_objects(target_schema) o WHERE o.kind = 'refresh state') THEN
		RAISE EXCEPTION 'schema "%" has no materialized KPI views', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them with omnikpi.create_kpi_views(''' || target_schema
						 || ''', interactions => ..., materialized => true).';
	END IF;
	PERFORM omnikpi.refresh_materialized_form(target_schema, full_rebuild, late_window);
END
$fn$;
COMMENT ON PROCEDURE omnikpi.refresh_kpi_views(name, boolean, interval) IS
	'refreshes the materialized KPI views of target_schema: recomputes what the sources hold from each watermark minus late_window on (everything with full_rebuild): daily tables, touched entities, their summaries, and the changed months of the KPI tables, in one transaction';

-- ---------------------------------------------------------------------------
-- Scheduling the refresh of materialized KPI views with pg_cron.
--
-- pg_cron is optional: nothing here refers to it when the extension is
-- created, every call into it is dynamic SQL, and without it the functions
-- say how to set it up.  pg_cron keeps its jobs in the one database named by
-- cron.database_name and runs them there, as the role that scheduled them, so
-- omnikpi schedules from that database only.  Any other scheduler can run the
-- same command, CALL omnikpi.refresh_kpi_views('schema').
-- ---------------------------------------------------------------------------

-- The pg_cron job name of a schema's refresh.  pg_cron stores job names as
-- type name (63 bytes) and would cut a longer one, so two long schema names
-- with a common prefix could end up sharing one job: those get a hash instead.
CREATE FUNCTION omnikpi.refresh_job_name(target_schema name)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT CASE WHEN octet_length('omnikpi_refresh_' || target_schema) <= 63
	THEN 'omnikpi_refresh_' || target_schema
	ELSE 'omnikpi_refresh_' || md5(target_schema::text) END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_job_name(name) IS
	'the pg_cron job name schedule_refresh gives the refresh of target_schema (omnikpi_refresh_<schema>, or a hash of a long name)';

-- pg_cron checks a schedule itself, but only once it is installed, and it
-- takes some nonsense (a sixth field, a range running backwards); checking
-- here gives the same clear error with or without pg_cron.
CREATE FUNCTION omnikpi.check_cron_schedule(schedule text)
	RETURNS text
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	fields text[];
	field_names text[] := '{minute,hour,day of month,month,day of week}';
	lows integer[] := '{0,0,1,1,0}';
	highs integer[] := '{59,23,31,12,7}';
	month_names text[] := '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}';
	day_names text[] := '{sun,mon,tue,wed,thu,fri,sat}';
	item text;
	parts text[];
	bound text;
	bound_value integer;
	range_values integer[];
	problem text;
	i integer;
BEGIN
	IF schedule IS NULL THEN
		RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	fields := regexp_split_to_array(btrim(schedule, E' \t\n\r'), E'[ \t\n\r]+');
	IF array_length(fields, 1) = 1 AND lower(fields[1]) IN
		('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly') THEN
		RETURN lower(fields[1]);
	END IF;
	IF array_length(fields, 1) = 1 AND fields[1] LIKE '@%' THEN
		problem := format('"%s" is not one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly and @annually.', fields[1]);
	ELSIF array_length(fields, 1) <> 5 THEN
		problem := format('A schedule has five fields (minute, hour, day of month, month, day of week), or is one of @hourly, @daily, @weekly, @monthly and @yearly; this one has %s.',
						  CASE WHEN fields = '{""}' THEN 'none' ELSE array_length(fields, 1)::text END);
	END IF;

	<<fields_loop>>
	FOR i IN 1 .. CASE WHEN problem IS NULL THEN 5 ELSE 0 END LOOP
		FOREACH item IN ARRAY string_to_array(fields[i], ',') LOOP
			-- item: * or a or a-b, then optionally /step (after * or a range)
			parts := regexp_match(item, '^(\*|[0-9a-zA-Z]+(?:-[0-9a-zA-Z]+)?)(?:/([0-9]+))?$');
			IF parts IS NULL OR (parts[2] IS NOT NULL AND parts[1] !~ '^\*$|-') THEN
				problem := format('The %s field "%s" is not a number, a range a-b, * or one of those followed by /step, separated by commas.',
								  field_names[i], fields[i]);
				EXIT fields_loop;
			END IF;
			IF parts[2] IS NOT NULL AND NOT (parts[2]::numeric BETWEEN 1 AND highs[i]) THEN
				problem := format('The step "/%s" of the %s field must be between 1 and %s.', parts[2], field_names[i], highs[i]);
				EXIT fields_loop;
			END IF;
			CONTINUE WHEN parts[1] = '*';
			range_values := '{}';
			FOREACH bound IN ARRAY string_to_array(parts[1], '-') LOOP
				bound_value := CASE
					WHEN bound ~ '^[0-9]{1,9}$' THEN bound::integer
					WHEN i = 4 THEN array_position(month_names, lower(bound))
					WHEN i = 5 THEN array_position(day_names, lower(bound)) - 1
				END;
				IF bound_value IS NULL OR NOT (bound_value BETWEEN lows[i] AND highs[i]) THEN
					problem := format('"%s" is not a valid %s: %s.', bound, field_names[i],
									  CASE i WHEN 4 THEN 'use 1 to 12 or jan to dec'
											 WHEN 5 THEN 'use 0 to 7 (0 and 7 are Sunday) or sun to sat'
											 ELSE format('use %s to %s', lows[i], highs[i]) END);
					EXIT fields_loop;
				END IF;
				range_values := range_values || bound_value;
			END LOOP;
			IF range_values[2] < range_values[1] THEN
				problem := format('The range "%s" of the %s field runs backwards.', parts[1], field_names[i]);
				EXIT fields_loop;
			END IF;
		END LOOP;
	END LOOP;

	IF problem IS NOT NULL THEN
		RAISE EXCEPTION 'invalid cron schedule "%"', schedule
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = problem,
				  HINT = 'For example ''15 2 * * *'' runs daily at 02:15 and ''*/30 * * * *'' every half hour; pg_cron 1.4 reads schedules in GMT and runs a job at most once a minute.';
	END IF;
	RETURN array_to_string(fields, ' ');
END
$fn$;
COMMENT ON FUNCTION omnikpi.check_cron_schedule(text) IS
	'checks a five-field cron schedule (or @hourly, @daily, ...) as schedule_refresh does, and returns it with single spaces';

-- Whether pg_cron can take jobs from this database, or the error that says
-- what is missing.  Which database pg_cron serves is only readable by roles
-- with pg_read_all_settings; for others the general advice has to do.
CREATE FUNCTION omnikpi.check_pg_cron()
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	cron_version text;
	cron_database text;
	package text := format('postgresql-%s-cron', current_setting('server_version_num')::integer / 10000);
BEGIN
	SELECT e.extversion INTO cron_version FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron';
	IF FOUND THEN
		-- First, as looking up anything in schema cron needs USAGE on it.
		IF NOT has_schema_privilege('cron', 'USAGE') THEN
			RAISE EXCEPTION 'permission denied for schema cron'
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'pg_cron lets only the roles with USAGE on its schema schedule jobs.',
					  HINT = format('A superuser can allow it: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
		END IF;
		-- Named jobs, which make re-scheduling replace a job, came with pg_cron 1.3.
		IF to_regprocedure('cron.schedule(text,text,text)') IS NULL
		   AND to_regprocedure('cron.schedule(name,text,text)') IS NULL THEN
			RAISE EXCEPTION 'pg_cron % cannot schedule named jobs', cron_version
				USING ERRCODE = 'feature_not_supported',
					  HINT = 'Update it to 1.3 or later: ALTER EXTENSION pg_cron UPDATE;';
		END IF;
		RETURN cron_version;
	END IF;

	SELECT s.setting INTO cron_database FROM pg_catalog.pg_settings s WHERE s.name = 'cron.database_name';
	IF cron_database = current_database() THEN
		RAISE EXCEPTION 'extension "pg_cron" is not installed in database "%"', current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Run CREATE EXTENSION pg_cron; in it as a superuser.';
	ELSIF cron_database IS NOT NULL THEN
		RAISE EXCEPTION 'pg_cron runs its jobs in database "%", not in "%"', cron_database, current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'cron.database_name names the one database whose jobs pg_cron runs.',
				  HINT = format('Set cron.database_name = %L in postgresql.conf and restart the server, or run CALL omnikpi.refresh_kpi_views(...) from another scheduler.',
								current_database());
	END IF;
	RAISE EXCEPTION 'pg_cron is not available in database "%"', current_database()
		USING ERRCODE = 'object_not_in_prerequisite_state',
			  HINT = format('Install the Debian package %s, set shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in postgresql.conf, restart the server and run CREATE EXTENSION pg_cron; in that database. Without pg_cron, run CALL omnikpi.refresh_kpi_views(...) from another scheduler.',
							package, current_database());
END
$fn$;
COMMENT ON FUNCTION omnikpi.check_pg_cron() IS
	'returns the version of pg_cron if it can schedule jobs from this database, and otherwise raises an error saying how to set it up';

CREATE FUNCTION omnikpi.schedule_refresh(target_schema name, schedule text DEFAULT '15 2 * * *')
	RETURNS bigint
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	job_name text;
	cron_schedule text;
	command text;
	other_owner text;
	owner_name name;
	old_job record;
	job_id bigint;
BEGIN
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Name the schema of your materialized KPI views, created with omnikpi.create_kpi_views(..., materialized => true).';
	END IF;
	-- The job would fail every time on a schema the refresh cannot refresh.
	IF NOT EXISTS (SELECT 1 FROM omnikpi.materialized_objects(target_schema) o
				   WHERE o.relation_kind = 'r' AND o.relation_name = 'kpi_refresh_state') THEN
		RAISE EXCEPTION 'schema "%" has no materialized KPI views', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them first with omnikpi.create_kpi_views(' || quote_literal(target_schema)
						 || ', interactions => ..., materialized => true).';
	END IF;
	cron_schedule := omnikpi.check_cron_schedule(schedule);
	PERFORM omnikpi.check_pg_cron();
	-- The job runs as the role that schedules it, and REFRESH MATERIALIZED
	-- VIEW needs its owner.
	SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO owner_name
	FROM omnikpi.materialized_objects(target_schema) o
	JOIN pg_catalog.pg_class c ON c.relname = o.relation_name
		AND c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema)
	WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
	LIMIT 1;
	IF owner_name IS NOT NULL THEN
		RAISE EXCEPTION 'role "%" cannot refresh the materialized KPI views of schema "%"', current_user, target_schema
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The job runs as the role that schedules it, and refreshing a materialized view takes its owner.',
				  HINT = format('Schedule it as role %I.', owner_name);
	END IF;

	job_name := omnikpi.refresh_job_name(target_schema);
	command := format('CALL omnikpi.refresh_kpi_views(%L)', target_schema);

	-- pg_cron keys named jobs by name and role: another role's job for the
	-- same schema would make a second, concurrent refresh.  Only a superuser
	-- sees other roles' jobs, so this catches what it can.
	EXECUTE 'SELECT j.username FROM cron.job j WHERE j.jobname = $1 AND j.username <> $2 LIMIT 1'
		INTO other_owner USING job_name, current_user::text;
	IF other_owner IS NOT NULL THEN
		RAISE EXCEPTION 'the refresh of schema "%" is already scheduled by role "%"', target_schema, other_owner
			USING ERRCODE = 'duplicate_object',
				  HINT = format('Unschedule it as that role first: SET ROLE %I; SELECT omnikpi.unschedule_refresh(%L);',
								other_owner, target_schema);
	END IF;

	-- Re-scheduling a job by name updates its schedule and command but keeps
	-- it paused if someone paused it (cron.alter_job), and keeps the database
	-- it was moved to: such a job is replaced by a fresh one.
	EXECUTE 'SELECT j.jobid, j.active, j.database, j.schedule FROM cron.job j WHERE j.jobname = $1 AND j.username = $2'
		INTO old_job USING job_name, current_user::text;
	IF old_job.jobid IS NOT NULL AND (NOT old_job.active OR old_job.database <> current_database()) THEN
		EXECUTE 'SELECT cron.unschedule($1)' USING old_job.jobid;
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id USING job_name, cron_schedule, command;
	IF old_job.jobid IS NOT NULL THEN
		RAISE NOTICE 'replaced the schedule "%" of the refresh of schema "%" by "%"',
			old_job.schedule, target_schema, cron_schedule;
	END IF;
	RETURN job_id;
END
$fn$;
COMMENT ON FUNCTION omnikpi.schedule_refresh(name, text) IS
	'schedules CALL omnikpi.refresh_kpi_views(target_schema) with pg_cron (cron syntax, GMT), replacing an earlier schedule of the schema; returns the pg_cron job id';

CREATE FUNCTION omnikpi.unschedule_refresh(target_schema name)
	RETURNS boolean
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	job_id bigint;
BEGIN
	-- The schema need not exist any more: a job outliving a dropped schema
	-- must still be removable.
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM omnikpi.check_pg_cron();
	EXECUTE 'SELECT j.jobid FROM cron.job j WHERE j.jobname = $1 AND j.username = $2'
		INTO job_id USING omnikpi.refresh_job_name(target_schema), current_user::text;
	IF job_id IS NULL THEN
		-- Like DROP ... IF EXISTS: the wanted state holds already.
		RAISE NOTICE 'no refresh of schema "%" is scheduled by role "%", skipping', target_schema, current_user;
		RETURN false;
	END IF;
	EXECUTE 'SELECT cron.unschedule($1)' USING job_id;
	RETURN true;
END
$fn$;
COMMENT ON FUNCTION omnikpi.unschedule_refresh(name) IS
	'removes the pg_cron job of schedule_refresh for target_schema; returns false, with a notice, when there was none';

-- ---------------------------------------------------------------------------
-- Read-only access for BI tools.
--
-- What a role needs to read a KPI relation depends on how it is built.  A
-- materialized view (or table) is read with its own privilege only.  The
-- plain KPI views are security_invoker views over the source_* views, which
-- are security_invoker views over the user's tables: PostgreSQL checks every
-- relation on that path against the role that queries, so reading a plain
-- view needs SELECT on the raw interaction rows too.  grant_bi_access grants
-- what each KPI relation needs when that stays inside the KPI schema, and
-- grants the raw tables only when asked to (include_sources).  It never
-- grants anything but USAGE and SELECT.
-- ---------------------------------------------------------------------------

CREATE FUNCTION omnikpi.grant_bi_access(role name, target_schema name, include_sources boolean DEFAULT false)
	RETURNS TABLE (object text, privilege text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	role_id oid;
	is_superuser boolean;
	kpi record;
	source regclass;
	granted_sources oid[] := '{}';
	skipped text[] := '{}';
	found_kpi boolean := false;
BEGIN
	IF role IS NULL OR target_schema IS NULL OR include_sources IS NULL THEN
		RAISE EXCEPTION 'role, target_schema and include_sources must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF lower(role) = 'public' THEN
		RAISE EXCEPTION 'cannot grant BI access to PUBLIC'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the BI tool''s own role; grant that role to other roles to share the access.';
	END IF;
	SELECT r.oid, r.rolsuper INTO role_id, is_superuser FROM pg_catalog.pg_roles r WHERE r.rolname = grant_bi_access.role;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', role
			USING ERRCODE = 'undefined_object',
				  HINT = format('Create a read-only login role first, e.g. CREATE ROLE %I LOGIN PASSWORD ''...'';', role);
	END IF;
	IF is_superuser THEN
		RAISE EXCEPTION 'role "%" is a superuser', role
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'A superuser can read and write everything, whatever is granted.',
				  HINT = 'Give the BI tool a role of its own without SUPERUSER.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Name the schema where omnikpi.create_kpi_views made the KPI views.';
	END IF;

	-- The KPI relations are those create_kpi_views made, as the schema's
	-- record says (omnikpi.kpi_objects), but the record itself.  For each,
	-- the relations the querying role needs SELECT on: itself, and through
	-- every security_invoker view on the way, what that view reads.  A view
	-- without security_invoker, a materialized view or a table reads the rest
	-- with its owner's privileges, so the walk stops there.
	FOR kpi IN
		WITH RECURSIVE kpi_relations AS (
			SELECT o.relation::oid AS oid, o.kind
			FROM omnikpi.kpi_objects(target_schema) o
			-- the refresh's copy of the window's raw rows is no KPI
			WHERE o.kind <> 'record' AND NOT (o.kind = 'refresh state' AND o.relation_name = 'kpi_refresh_window')
		), needs(root, rel) AS (
			SELECT k.oid, k.oid FROM kpi_relations k
			UNION
			SELECT needs.root, d.refobjid
			FROM needs
			JOIN pg_catalog.pg_class v ON v.oid = needs.rel AND v.relkind = 'v'
			JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
			JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
				AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
				AND d.refobjid <> v.oid
			JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p', 'v', 'm', 'f')
			WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(v.reloptions) o
						  WHERE o.option_name = 'security_invoker' AND o.option_value::boolean)
		)
		SELECT k.oid::regclass AS relation, k.kind,
			-- what lies outside the KPI schema and the role cannot read yet
			array_agg(DISTINCT n.rel) FILTER (
				WHERE n.rel NOT IN (SELECT oid FROM kpi_relations)
				  AND NOT pg_catalog.has_table_privilege(role_id, n.rel, 'SELECT')) AS sources
		FROM kpi_relations k JOIN needs n ON n.root = k.oid
		GROUP BY k.oid, k.kind
		ORDER BY k.oid::regclass::text
	LOOP
		IF NOT found_kpi THEN
			found_kpi := true;
			IF NOT has_schema_privilege(target_schema, 'USAGE WITH GRANT OPTION') THEN
				-- GRANT itself would only warn and grant nothing.
				RAISE EXCEPTION 'permission denied to grant USAGE on schema %', target_schema
					USING ERRCODE = 'insufficient_privilege',
						  HINT = 'Run grant_bi_access as the owner of the KPI views (or a role they granted WITH GRANT OPTION).';
			END IF;
			EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', target_schema, role);
			object := format('schema %I', target_schema);
			privilege := 'USAGE';
			RETURN NEXT;
			-- For ad-hoc queries with omnikpi's functions (rollup() over a
			-- daily summary, say); the views themselves do not need it.
			IF NOT has_schema_privilege(role_id, '@extschema@', 'USAGE')
			   AND has_schema_privilege('@extschema@', 'USAGE WITH GRANT OPTION') THEN
				EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', '@extschema@', role);
				object := format('schema %I', '@extschema@');
				RETURN NEXT;
			END IF;
		END IF;
		IF kpi.sources IS NOT NULL AND NOT include_sources THEN
			-- A source view is no KPI: the materialized form's readers never
			-- need it, and the plain views that do are counted themselves.
			IF kpi.kind <> 'source view' THEN
				skipped := skipped || kpi.relation::text;
			END IF;
			object := kpi.relation::text;
			privilege := 'none: reads ' || (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text)
											FROM unnest(kpi.sources) s)
						 || ' as the querying role';
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF EXISTS (SELECT 1 FROM unnest(kpi.sources || kpi.relation::oid) r
				   WHERE NOT has_table_privilege(r, 'SELECT WITH GRANT OPTION')) THEN
			RAISE EXCEPTION 'permission denied to grant SELECT on %', kpi.relation
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = CASE WHEN kpi.sources IS NOT NULL THEN
						  format('Reading it needs SELECT on %s too.', (SELECT string_agg(s::regclass::text, ', ' ORDER BY s::regclass::text) FROM unnest(kpi.sources) s)) END,
					  HINT = 'Run grant_bi_access as the owner of the KPI views and their source tables.';
		END IF;
		FOREACH source IN ARRAY coalesce(kpi.sources, '{}') LOOP
			CONTINUE WHEN source = ANY (granted_sources);
			EXECUTE format('GRANT SELECT ON TABLE %s TO %I', source, role);
			granted_sources := granted_sources || source::oid;
			object := source::text;
			privilege := 'SELECT (source)';
			RETURN NEXT;
		END LOOP;
		EXECUTE format('GRANT SELECT ON TABLE %s TO %I', kpi.relation, role);
		object := kpi.relation::text;
		privilege := 'SELECT';
		RETURN NEXT;
	END LOOP;

	IF NOT found_kpi THEN
		RAISE EXCEPTION 'schema "%" holds no KPI views of omnikpi', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them first with omnikpi.create_kpi_views.';
	END IF;
	IF skipped <> '{}' THEN
		RAISE NOTICE 'role "%" was not granted % of schema "%"', role,
			CASE WHEN cardinality(skipped) = 1 THEN 'one view' ELSE cardinality(skipped) || ' views' END, target_schema
			USING DETAIL = 'Those views read the source tables with the privileges of the role that queries them (security_invoker), and the role cannot read those tables.',
				  HINT = 'Materialized KPI views need no access to the source tables. To grant the plain views with SELECT on their source tables, call grant_bi_access again with include_sources => true.';
	END IF;
END
$fn$;
COMMENT ON FUNCTION omnikpi.grant_bi_access(name, name, boolean) IS
	'grants role read-only access (USAGE, SELECT) to the KPI views of target_schema, and to the source tables the plain views read only if include_sources; returns what it granted';
-- ---------------------------------------------------------------------------
-- Markov-chain attribution: the markov_model type, its aggregates, rollup,
-- markov_attribution, and the accessors transitions and channel_count.
-- ---------------------------------------------------------------------------

CREATE TYPE markov_model;

CREATE FUNCTION omnikpi_markov_in(cstring) RETURNS markov_model
	AS 'MODULE_PATHNAME', 'omnikpi_markov_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_out(markov_model) RETURNS cstring
	AS 'MODULE_PATHNAME', 'omnikpi_markov_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_recv(internal) RETURNS markov_model
	AS 'MODULE_PATHNAME', 'omnikpi_markov_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_send(markov_model) RETURNS bytea
	AS 'MODULE_PATHNAME', 'omnikpi_markov_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE markov_model (
	INPUT = omnikpi_markov_in,
	OUTPUT = omnikpi_markov_out,
	RECEIVE = omnikpi_markov_recv,
	SEND = omnikpi_markov_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended);
COMMENT ON TYPE markov_model IS
	'transition counts of customer journeys between (start), channel states, (conversion) and (null); combine with rollup(), read with markov_attribution() and transitions()';

-- Transition and combine functions.  The transition functions are not
-- STRICT: a row with a NULL path, outcome or count is skipped, and the first
-- usable row creates the state.  One C function serves the forms of one
-- journey per row, another those of counted paths.

CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision, integer)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_trans(markov_model, text[], boolean, double precision, integer, text)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_counted_trans(markov_model, text[], double precision,
											 double precision, double precision, integer)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_counted_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_counted_trans(markov_model, text[], double precision,
											 double precision, double precision, integer, text)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_counted_trans'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_markov_combine(markov_model, markov_model)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The stored form of a working state.
CREATE FUNCTION omnikpi_markov_final(markov_model)
	RETURNS markov_model AS 'MODULE_PATHNAME', 'omnikpi_markov_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- SSPACE, the bytes the planner counts for a group's state when it sizes a
-- hash aggregation: a state of the aggregates below starts as a journal of
-- its journeys as they came, and the typical small group (GROUP BY journey,
-- or a customer with a journey or two) is one journey of about ten touches,
-- about 100 bytes in a 128-byte chunk.  Measured in the hash plan's peak
-- memory beyond count()'s, a million groups each: 1 journey of 1 to 20
-- touches 159 bytes a group (the planner adds a 16-byte chunk header to
-- SSPACE), 2 journeys 252, 4 journeys 436, 23 journeys 3.9 kB; groups of
-- more than about 55 journeys build tables (17 kB a group at 1,000).  The
-- planner's group counts are high only for small groups, and a bigger
-- group than estimated makes the hash aggregation spill, not fail;
-- test/sql/aggregate_states.sql holds SSPACE to the measured size.
CREATE AGGREGATE markov_model(path text[], converted boolean) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean) IS
	'first-order Markov model of journeys, one row per journey: its channels in time order and whether it converted';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision) IS
	'first-order Markov model of journeys with the conversion value of each converting journey';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision, integer) IS
	'Markov model of journeys of order 1 to 4 (channel states are tuples of the last order channels); a channel touched twice in a row counts once';

CREATE AGGREGATE markov_model(path text[], converted boolean, value double precision, markov_order integer,
							  repeats text) (
	SFUNC = omnikpi_markov_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], boolean, double precision, integer, text) IS
	'Markov model of journeys of order 1 to 4; repeats collapse (a channel touched twice in a row counts once, the default) or keep (states from the path as it is, as in the ChannelAttribution package)';

CREATE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
							  value double precision, markov_order integer) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], double precision, double precision, double precision, integer) IS
	'Markov model of order 1 to 4 from paths already counted: conversions, non-conversions and conversion value per path';

CREATE AGGREGATE markov_model(path text[], conversions double precision, non_conversions double precision,
							  value double precision, markov_order integer, repeats text) (
	SFUNC = omnikpi_markov_counted_trans, STYPE = markov_model,
	SSPACE = 128, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE markov_model(text[], double precision, double precision, double precision, integer, text) IS
	'Markov model of order 1 to 4 from paths already counted; repeats collapse (the default) or keep';

-- SSPACE: rollup() builds tables from the stored models it reads, so its
-- typical small group, one stored model of one journey of 1 to 20 touches,
-- takes 1,267 bytes (measured as above; 4 models a group 4.2 kB).
CREATE AGGREGATE rollup(markov_model) (
	SFUNC = omnikpi_markov_combine, STYPE = markov_model,
	SSPACE = 1024, FINALFUNC = omnikpi_markov_final, COMBINEFUNC = omnikpi_markov_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(markov_model) IS
	'exact combination of Markov models of one order and one convention for repeats, e.g. daily models into a month';

CREATE FUNCTION markov_attribution(model markov_model)
	RETURNS TABLE (channel text, conversions double precision, value double precision,
				   share double precision, removal_effect double precision)
	AS 'MODULE_PATHNAME', 'omnikpi_markov_attribution'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION markov_attribution(markov_model) IS
	'per channel the observed conversions and value shared out in proportion to the exact removal effects, the share of the conversions, and the removal effect';

CREATE FUNCTION transitions(model markov_model)
	RETURNS TABLE (from_state text, to_state text, transitions double precision,
				   probability double precision)
	AS 'MODULE_PATHNAME', 'omnikpi_markov_transitions'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION transitions(markov_model) IS
	'every transition of a Markov model with its count and its probability among the transitions out of the same state';

CREATE FUNCTION channel_count(markov_model) RETURNS integer
	AS 'MODULE_PATHNAME', 'omnikpi_channel_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION channel_count(markov_model) IS
	'number of distinct channels in a Markov model';

-- ---------------------------------------------------------------------------
-- journey_paths: customer journeys summarized per distinct path, and the
-- data-driven attribution models that read it: Shapley values and Google's
-- fractribution.
-- ---------------------------------------------------------------------------

CREATE TYPE journey_paths;

CREATE FUNCTION omnikpi_jp_in(cstring) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_out(journey_paths) RETURNS cstring
	AS 'MODULE_PATHNAME', 'omnikpi_jp_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_recv(internal) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_send(journey_paths) RETURNS bytea
	AS 'MODULE_PATHNAME', 'omnikpi_jp_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE journey_paths (
	INPUT = omnikpi_jp_in,
	OUTPUT = omnikpi_jp_out,
	RECEIVE = omnikpi_jp_recv,
	SEND = omnikpi_jp_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE journey_paths IS
	'customer journeys per distinct channel path (repeats collapsed): conversions, non-conversions and value; read with shapley_attribution(), fractribution_attribution(), paths()';

-- The transition functions are not STRICT: rows with a NULL path or outcome
-- are skipped, and the first journey with a channel creates the state.
CREATE FUNCTION omnikpi_jp_trans(journey_paths, text[], boolean) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_value_trans(journey_paths, text[], boolean, double precision)
	RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_value_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_counted_trans(journey_paths, text[], double precision,
										 double precision, double precision)
	RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_counted_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION omnikpi_jp_combine(journey_paths, journey_paths) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The stored form of a working state.
CREATE FUNCTION omnikpi_jp_final(journey_paths) RETURNS journey_paths
	AS 'MODULE_PATHNAME', 'omnikpi_jp_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- SSPACE: as for markov_model, a journal of one journey of about ten
-- touches (1 to 20 touches: 143 bytes a group with the chunk header, 2
-- journeys 235, 4 journeys 403).
CREATE AGGREGATE journey_paths(path text[], converted boolean) (
	SFUNC = omnikpi_jp_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], boolean) IS
	'summary of journeys (one row each: channels in time order, converted or not) per distinct path, for data-driven attribution';

CREATE AGGREGATE journey_paths(path text[], converted boolean, value double precision) (
	SFUNC = omnikpi_jp_value_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], boolean, double precision) IS
	'summary of journeys (one row each: channels in time order, converted or not, conversion value) per distinct path, for data-driven attribution';

CREATE AGGREGATE journey_paths(path text[], conversions double precision,
							   non_conversions double precision, value double precision) (
	SFUNC = omnikpi_jp_counted_trans, STYPE = journey_paths,
	SSPACE = 128, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE journey_paths(text[], double precision, double precision, double precision) IS
	'summary of paths already counted (path, conversions, non-conversions, value), for data-driven attribution';

-- SSPACE: rollup() builds tables from the stored summaries it reads: one
-- stored summary of one journey of 1 to 20 touches takes 470 bytes a group
-- (measured as for markov_model; 4 a group 1,040).
CREATE AGGREGATE rollup(journey_paths) (
	SFUNC = omnikpi_jp_combine, STYPE = journey_paths,
	SSPACE = 512, FINALFUNC = omnikpi_jp_final, COMBINEFUNC = omnikpi_jp_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(journey_paths) IS
	'exact combination of journey_paths summaries, e.g. monthly summaries into a quarter';

CREATE FUNCTION paths(journey_paths, OUT path text[], OUT conversions double precision,
					  OUT non_conversions double precision, OUT value double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_jp_paths' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 100;
COMMENT ON FUNCTION paths(journey_paths) IS
	'the distinct paths of a journey_paths summary with their conversions, non-conversions and value';

CREATE FUNCTION channel_count(journey_paths) RETURNS integer
	AS 'MODULE_PATHNAME', 'omnikpi_channel_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION channel_count(journey_paths) IS
	'number of distinct channels on the paths of a journey_paths summary';

CREATE FUNCTION shapley_attribution(paths journey_paths, characteristic text DEFAULT 'conversions',
									OUT channel text, OUT conversions double precision,
									OUT value double precision, OUT share double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_shapley_attribution' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 8;
COMMENT ON FUNCTION shapley_attribution(journey_paths, text) IS
	'exact Shapley-value attribution per channel; characteristic conversions (Zhao et al. 2018: conversions of journeys whose channel set is inside the coalition) or conversion_rate';

CREATE FUNCTION fractribution_attribution(paths journey_paths,
										  OUT channel text, OUT conversions double precision,
										  OUT value double precision, OUT share double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'omnikpi_fractribution_attribution' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	ROWS 8;
COMMENT ON FUNCTION fractribution_attribution(journey_paths) IS
	'Google fractribution attribution per channel: leave-one-out counterfactual conversion probabilities per path, floored at 0, normalized, last touch when all are 0';

-- ---------------------------------------------------------------------------
-- Data-driven attribution per channel and month in the KPI views, next to
-- the rule-based attribution_by_channel_monthly: Markov-chain removal
-- effects, Shapley values and fractribution, each model fitted on one month
-- of paths (converted and not) from attribution_paths, the journey layer
-- every attribution view reads, with last touch beside it.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_views (position, view_name, sources, description, column_comments, definition,
							   needs_columns, optional_columns) VALUES
(30, 'attribution_markov_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with a first-order Markov chain (markov_attribution) fitted on the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); removal effect = 1 - P(conversion without the channel) / P(conversion), conversions and value shared out in proportion to the removal effects; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'removal_effect', 'share of the conversion probability lost when the channel is removed from the chain (0 to 1)',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.markov_model(path, converted, value) AS model
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.removal_effect, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.conversions / sum(a.conversions) OVER (PARTITION BY m.month) AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL @extschema@.markov_attribution(m.model) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}'),
(31, 'attribution_shapley_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with exact Shapley values (shapley_attribution) over the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); characteristic conversions: v(S) = conversions (value) of the journeys whose channels all lie in S (Zhao et al. 2018), which splits each conversion equally over its distinct channels; characteristic conversion_rate: v(S) = conversion rate of those journeys, scaled to the month''s conversions (months with at most 20 channels); last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'characteristic', 'the characteristic function: conversions or conversion_rate',
	   'attributed_conversions', 'conversions credited to the channel (negative under conversion_rate when the channel lowers conversion rates)',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.journey_paths(path, converted, value) AS paths
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.characteristic, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL (
	SELECT 'conversions' AS characteristic, s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(m.paths, 'conversions') s
	UNION ALL
	SELECT 'conversion_rate', s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(CASE WHEN @extschema@.channel_count(m.paths) <= 20 THEN m.paths END,
										 'conversion_rate') s) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}'),
(32, 'attribution_fractribution_monthly', '{touchpoints,conversions}',
 'Data-driven attribution per channel and month with Google''s fractribution model (fractribution_attribution) over the month''s paths from attribution_paths (a conversion with the touches that led to it, in the month of the conversion; touches that led to none, in the month of the last one); per path, each touch''s marginal = conversion probability of the path - that of the path without the touch (0 if never observed), floored at 0 and normalized, last touch when all are 0; last touch beside it',
 ARRAY['month', 'first day of the month (of the conversion, or of the last touch of a path without one)',
	   'channel', 'channel',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'share_pct', 'attributed_conversions in percent of the month''s conversions',
	   'last_touch_conversions', 'conversions credited to the channel by last touch (as in attribution_by_channel_monthly), for comparison',
	   'last_touch_value', 'conversion value credited to the channel by last touch'],
 $v$WITH journeys AS NOT MATERIALIZED (
	SELECT month, converted, value::double precision AS value, channels AS path
	FROM %1$I.attribution_paths),
last_touch AS (
	SELECT month, path[cardinality(path)] AS channel, count(*) AS conversions, sum(value) AS value
	FROM journeys WHERE converted GROUP BY 1, 2),
models AS (
	SELECT month, @extschema@.journey_paths(path, converted, value) AS paths
	FROM journeys GROUP BY month HAVING bool_or(converted))
SELECT m.month, a.channel, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM models m
CROSS JOIN LATERAL @extschema@.fractribution_attribution(m.paths) a
LEFT JOIN last_touch l ON l.month = m.month AND l.channel = a.channel$v$,
 '{}', '{conversions.value}');
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
-- ---------------------------------------------------------------------------
-- Every KPI view in the materialized form: its definition over the summary
-- tables (10-materialized.sql, 12-summary-tables.sql), with the plain
-- view's columns, types and rows.
--
-- Rates are recomputed from summed counts as the plain views' avg() does
-- (numeric sum / numeric count), means as sum / count, ratings from rolled
-- up channel_summary states: never an average of averages.  The order KPIs
-- keep the plain definition, which reads the customer_orders entity table:
-- they are recomputed for the months whose orders changed.  Percentiles
-- (fulfillment) are thus exact: percentile_cont over the month's orders.
-- Template arguments as in 07-kpi-view-definitions.sql.
-- ---------------------------------------------------------------------------

INSERT INTO omnikpi.kpi_materialized_views (view_name, reads, period_column, key_columns, definition) VALUES
('experience_rating_monthly', '{interactions_daily}', 'month', '{month}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	80::double precision AS target_pct,
	coalesce(@extschema@.channel_count(@extschema@.rollup(ratings)), 0) AS channels,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('experience_rating_by_phase_monthly', '{interactions_daily}', 'month', '{month,phase}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, phase,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('experience_rating_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('integration_index_quarterly', '{interactions_daily}', 'quarter', '{quarter}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_index,
	80::double precision AS target,
	coalesce(@extschema@.channel_count(@extschema@.rollup(integration)), 0) AS channels
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('integration_index_by_channel_quarterly', '{interactions_daily}', 'quarter', '{quarter,channel}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter, channel,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_score,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('satisfaction_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	sum(csat_responses)::bigint AS csat_responses,
	sum(csat_sum) / nullif(sum(csat_responses), 0)::double precision AS csat_mean,
	100 * (sum(csat_top2) / nullif(sum(csat_responses), 0))::double precision AS csat_top2_pct,
	sum(ces_responses)::bigint AS ces_responses,
	sum(ces_sum) / nullif(sum(ces_responses), 0)::double precision AS ces_mean,
	sum(nps_responses)::bigint AS nps_responses,
	100 * (sum(promoters) / nullif(sum(nps_responses), 0))::double precision AS promoters_pct,
	100 * (sum(detractors) / nullif(sum(nps_responses), 0))::double precision AS detractors_pct,
	100 * (sum(promoters) / nullif(sum(nps_responses), 0)
		   - sum(detractors) / nullif(sum(nps_responses), 0))::double precision AS nps
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('resolution_by_channel_monthly', '{issue_month_summary}', 'month', '{month,channel}',
 $v$SELECT month, channel, issues, resolved_issues,
	(resolved_issue_contacts::numeric / nullif(resolved_issues, 0))::double precision AS interactions_per_resolved_issue,
	100 * (resolved_first::numeric / issues)::double precision AS first_contact_resolution_pct
FROM %1$I.issue_month_summary$v$),
('channel_switching_monthly', '{journey_month_summary,issue_month_summary}', 'month', '{month}',
 $v$WITH by_issue AS (
	SELECT month, sum(issues) AS issues, sum(switches) AS switches
	FROM %1$I.issue_month_summary
	GROUP BY month)
SELECT month, coalesce(j.journeys, 0) AS journeys,
	(j.switches::numeric / j.journeys)::double precision AS switches_per_journey,
	100 * (j.multichannel_journeys::numeric / j.journeys)::double precision AS multichannel_journey_pct,
	coalesce(i.issues, 0) AS issues,
	(i.switches / i.issues)::double precision AS switches_per_issue,
	(100 * j.carried_switches::numeric / nullif(j.known_switches, 0))::double precision AS context_carried_switch_pct
FROM %1$I.journey_month_summary j
FULL JOIN by_issue i USING (month)$v$),
('channel_transitions_monthly', '{transition_month_summary}', 'month', '{month,from_channel,to_channel}',
 $v$SELECT month, from_channel, to_channel, transitions,
	(100.0 * transitions / sum(transitions) OVER (PARTITION BY month, from_channel))::double precision AS share_pct
FROM %1$I.transition_month_summary$v$),
('journey_funnel_monthly', '{funnel_month_summary}', 'month', '{month,phase}',
 $v$WITH reached AS (
	SELECT f.month, p.phase, p.phase_order::integer AS phase_order,
		coalesce(sum(f.journeys) FILTER (WHERE f.furthest_phase >= p.phase_order), 0) AS journeys,
		sum(f.journeys) AS all_journeys
	FROM %1$I.funnel_month_summary f
	CROSS JOIN unnest(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty']) WITH ORDINALITY AS p(phase, phase_order)
	GROUP BY 1, 2, 3)
SELECT month, phase, phase_order, journeys::bigint AS journeys,
	(100.0 * journeys / all_journeys)::double precision AS reached_pct,
	(100.0 * (lag(journeys) OVER w - journeys) / nullif(lag(journeys) OVER w, 0))::double precision AS dropoff_pct
FROM reached
WINDOW w AS (PARTITION BY month ORDER BY phase_order)$v$),
('engagement_depth', '{customer_retention_summary}', NULL, '{channel_depth}',
 $v$SELECT CASE WHEN cardinality(channels) >= 4 THEN '4+' ELSE cardinality(channels)::text END AS channel_depth,
	sum(customers)::bigint AS customers,
	100 * (sum(retained_customers) / sum(customers))::double precision AS retained_pct,
	100 * ((sum(customers) - sum(retained_customers)) / sum(customers))::double precision AS churned_pct,
	(sum(revenue) / sum(customers))::double precision AS revenue_per_customer
FROM %1$I.customer_retention_summary
GROUP BY 1$v$),
('churn_retention_monthly', '{customer_month_summary,customer_profiles}', NULL, '{month}',
 -- months after the last month of the data are not shown, as the plain
 -- view does not count activity past it
 $v$WITH data_end AS (
	SELECT date_trunc('month', max(last_at) AT TIME ZONE %8$L)::date AS last_month FROM %1$I.customer_profiles)
SELECT m.month, m.active_customers, m.new_customers, m.retained_customers, m.churned_customers,
	(100.0 * m.retained_customers / p.active_customers)::double precision AS retention_rate_pct,
	(100.0 * m.churned_customers / p.active_customers)::double precision AS churn_rate_pct
FROM %1$I.customer_month_summary m
CROSS JOIN data_end e
LEFT JOIN %1$I.customer_month_summary p ON p.month = (m.month - interval '1 month')::date AND p.active_customers > 0
WHERE m.active_customers > 0 AND m.month <= e.last_month$v$),
('conversion_by_channel_monthly', '{path_channel_summary}', 'month', '{month,channel}',
 $v$SELECT month, channel, paths AS journeys, converted_paths AS converted_journeys,
	(100.0 * converted_paths / paths)::double precision AS conversion_rate_pct
FROM %1$I.path_channel_summary$v$),
('attribution_by_channel_monthly', '{credit_month_summary,touchpoints_daily}', 'month', '{month,channel,model}',
 $v$WITH costs AS (
	SELECT date_trunc('month', day::timestamp)::date AS month, channel, sum(cost) AS touch_cost
	FROM %1$I.touchpoints_daily
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.model, c.attributed_conversions,
	CASE WHEN c.valued_touches > 0 THEN c.attributed_value END AS attributed_value,
	k.touch_cost, k.touch_cost / nullif(c.attributed_conversions, 0) AS cost_per_acquisition
FROM %1$I.credit_month_summary c
LEFT JOIN costs k USING (month, channel)$v$),
('ropo_monthly', '{customer_orders}', 'month', '{month}', NULL),
-- the plain view's, reading only the months recomputed: the outer filter
-- on the month reaches the counts, not the percentiles of the nullable side
('fulfillment_by_channel_monthly', '{customer_orders}', 'month', '{month,channel}',
 $v$WITH classified AS NOT MATERIALIZED (
	SELECT month, channel, fulfillment = 'bopis' AS bopis, ready_hours, wait_hours
	FROM %1$I.customer_orders
	WHERE month >= $1 OR month = ANY ($2)),
counts AS (
	SELECT month, channel, count(*) AS orders, count(*) FILTER (WHERE bopis) AS bopis_orders
	FROM classified
	GROUP BY 1, 2),
percentiles AS (
	SELECT month, channel,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_median_hours,
		(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours))::double precision AS click_to_collect_p90_hours,
		(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours))::double precision AS pickup_wait_median_hours
	FROM classified
	WHERE bopis
	GROUP BY 1, 2)
SELECT c.month, c.channel, c.orders, c.bopis_orders,
	(100.0 * c.bopis_orders / c.orders)::double precision AS bopis_share_pct,
	p.click_to_collect_median_hours, p.click_to_collect_p90_hours, p.pickup_wait_median_hours
FROM counts c LEFT JOIN percentiles p USING (month, channel)$v$),
('returns_by_channel_monthly', '{customer_orders}', 'month', '{month,channel}', NULL),
('retention_by_channel_combination', '{customer_retention_summary}', NULL, '{channel_combination}',
 $v$SELECT array_to_string(channels, '+') AS channel_combination, cardinality(channels) AS channel_count,
	customers,
	100 * (retained_customers::numeric / customers)::double precision AS retained_pct,
	100 * ((customers - retained_customers)::numeric / customers)::double precision AS churned_pct,
	(revenue / customers)::double precision AS revenue_per_customer
FROM %1$I.customer_retention_summary$v$),
('customer_lifetime_value', '{customer_segment_summary}', NULL, '{acquisition_channel,channel_depth}',
 $v$SELECT acquisition_channel, CASE WHEN cardinality(channels) >= 4 THEN '4+' ELSE cardinality(channels)::text END AS channel_depth,
	sum(customers)::bigint AS customers,
	sum(orders)::bigint AS orders,
	sum(revenue) AS revenue,
	(sum(revenue) / sum(customers))::double precision AS revenue_per_customer,
	(sum(revenue) / sum(contact_months))::double precision AS revenue_per_active_month
FROM %1$I.customer_segment_summary
GROUP BY 1, 2$v$),
('time_by_channel_monthly', '{interactions_daily}', 'month', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	sum(interactions)::bigint AS interactions,
	sum(timed_interactions)::bigint AS timed_interactions,
	(sum(duration_sum) / 3600)::double precision AS total_hours,
	(sum(duration_sum) / 60 / nullif(sum(timed_interactions), 0))::double precision AS mean_minutes
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('attribution_markov_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel}',
 $v$SELECT m.month, a.channel, a.removal_effect, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.conversions / sum(a.conversions) OVER (PARTITION BY m.month) AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL @extschema@.markov_attribution(m.markov) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$),
('attribution_shapley_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel,characteristic}',
 $v$SELECT m.month, a.channel, a.characteristic, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL (
	SELECT 'conversions' AS characteristic, s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(m.paths, 'conversions') s
	UNION ALL
	SELECT 'conversion_rate', s.channel, s.conversions, s.value, s.share
	FROM @extschema@.shapley_attribution(CASE WHEN @extschema@.channel_count(m.paths) <= 20 THEN m.paths END,
										 'conversion_rate') s) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$),
('attribution_fractribution_monthly', '{attribution_month_states,last_touch_month_summary}', 'month', '{month,channel}',
 $v$SELECT m.month, a.channel, a.conversions AS attributed_conversions, a.value AS attributed_value,
	100 * a.share AS share_pct,
	coalesce(l.conversions, 0) AS last_touch_conversions, coalesce(l.value, 0) AS last_touch_value
FROM %1$I.attribution_month_states m
CROSS JOIN LATERAL @extschema@.fractribution_attribution(m.paths) a
LEFT JOIN %1$I.last_touch_month_summary l ON l.month = m.month AND l.channel = a.channel$v$);
-- ---------------------------------------------------------------------------
-- Comparing two KPI schemas: the materialized form against the plain form
-- over the same sources, say, to check that the refreshes kept it exact, or
-- two refresh schedules against each other.
-- ---------------------------------------------------------------------------

-- Per KPI view and layer (view or entity table) that both schemas' records
-- hold under one name: whether the columns (names and types, in order) are
-- the same, and how many rows of either have no equal in the other.  KPI
-- rows are matched on the KPI's key (omnikpi.kpi_materialized_views), their
-- double precision columns equal within a relative 1e-9 (sums of
-- attribution credits added in another order differ in the last bits);
-- layer rows must be equal, row for row.  Runs with the caller's rights.
CREATE FUNCTION omnikpi.kpi_view_differences(schema_a name, schema_b name)
	RETURNS TABLE (relation name, kind text, same_columns boolean, differing_rows bigint)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	pair record;
	key_columns name[];
	column_list text;
	matched text;
	differs text;
BEGIN
	IF schema_a IS NULL OR schema_b IS NULL THEN
		RAISE EXCEPTION 'schema_a and schema_b must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR pair IN
		SELECT a.relation_name, a.relation AS a_relation, b.relation AS b_relation,
			CASE WHEN a.kind = 'kpi view' THEN 'kpi view' ELSE 'layer' END AS kind
		FROM omnikpi.kpi_objects(schema_a) a
		JOIN omnikpi.kpi_objects(schema_b) b ON b.relation_name = a.relation_name
		WHERE a.kind IN ('kpi view', 'layer view', 'entity table') AND b.kind IN ('kpi view', 'layer view', 'entity table')
		ORDER BY 4, 1
	LOOP
		relation := pair.relation_name;
		kind := pair.kind;
		SELECT array_agg(x.attname || ' ' || format_type(x.atttypid, x.atttypmod) ORDER BY x.attnum)
			   IS NOT DISTINCT FROM
			   (SELECT array_agg(y.attname || ' ' || format_type(y.atttypid, y.atttypmod) ORDER BY y.attnum)
				FROM pg_attribute y WHERE y.attrelid = pair.b_relation AND y.attnum > 0 AND NOT y.attisdropped),
			   string_agg(quote_ident(x.attname), ', ' ORDER BY x.attnum)
		INTO same_columns, column_list
		FROM pg_attribute x WHERE x.attrelid = pair.a_relation AND x.attnum > 0 AND NOT x.attisdropped;
		key_columns := (SELECT m.key_columns FROM omnikpi.kpi_materialized_views m WHERE m.view_name = pair.relation_name);
		IF NOT same_columns THEN
			differing_rows := NULL;
		ELSIF pair.kind = 'layer' OR key_columns IS NULL THEN
			EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM %2$s EXCEPT ALL SELECT %1$s FROM %3$s)
				UNION ALL (SELECT %1$s FROM %3$s EXCEPT ALL SELECT %1$s FROM %2$s)) AS d',
				column_list, pair.a_relation, pair.b_relation) INTO differing_rows;
		ELSE
			-- keys may be NULL (a phase, say): matched as text, NULL apart
			SELECT string_agg(format('coalesce(a.%1$I::text, chr(1)) = coalesce(b.%1$I::text, chr(1))', k), ' AND ')
			INTO matched FROM unnest(key_columns) k;
			SELECT string_agg(CASE WHEN x.atttypid = 'double precision'::regtype
				THEN format('(a.%1$I IS DISTINCT FROM b.%1$I AND NOT abs(a.%1$I - b.%1$I) <= 1e-9 * greatest(1, abs(a.%1$I), abs(b.%1$I)))',
							x.attname)
				ELSE format('a.%1$I IS DISTINCT FROM b.%1$I', x.attname) END, ' OR ' ORDER BY x.attnum)
			INTO differs FROM pg_attribute x WHERE x.attrelid = pair.a_relation AND x.attnum > 0 AND NOT x.attisdropped;
			EXECUTE format('SELECT count(*) FROM %s AS a FULL JOIN %s AS b ON %s WHERE %s',
						   pair.a_relation, pair.b_relation, matched, differs) INTO differing_rows;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.kpi_view_differences(name, name) IS
	'per KPI view and layer the two KPI schemas share: whether the columns are the same, and how many rows differ (KPIs matched on their key, floats within a relative 1e-9)';
-- ---------------------------------------------------------------------------
-- create_kpi_views and drop_kpi_views over the source contract
-- (05-source-contract.sql), the layers (06-journey-layer.sql,
-- 09-entity-layer.sql), the KPI view definitions (07, 50, 52), the record
-- (08) and the materialized form (10 to 15, 56).
--
-- create_kpi_views checks everything before it creates anything: the
-- settings, then the relations, mapping and translations (every problem in
-- one error), then that no relation of the user's bears a name it would use.
-- Then, under the schema's lock, it makes the source views, the layer views
-- and KPI views (or, materialized, their tables, the summary tables and the
-- refresh state, filled by a full refresh) and records each; what an
-- earlier call made and this one does not make again goes.  An error while creating is raised with its message, detail and
-- hint but never with the generated statement.
-- ---------------------------------------------------------------------------


-- Creates or replaces one view the schema's record holds (or none has the
-- name of).  A view whose columns changed since the earlier call cannot be
-- replaced: it is dropped and created, unless the user built on it.
CREATE FUNCTION omnikpi.replace_kpi_view(target_schema name, view_name name, definition text)
	RETURNS regclass
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	dependents text;
BEGIN
	BEGIN
		EXECUTE format('CREATE OR REPLACE VIEW %I.%I WITH (security_invoker = true) AS ', target_schema, view_name)
			|| definition;
	EXCEPTION WHEN invalid_table_definition THEN
		BEGIN
			EXECUTE format('DROP VIEW %I.%I', target_schema, view_name);
		EXCEPTION WHEN dependent_objects_still_exist THEN
			GET STACKED DIAGNOSTICS dependents = PG_EXCEPTION_DETAIL;
			RAISE EXCEPTION 'cannot replace view %.%: its columns changed, and other objects depend on it',
				quote_ident(target_schema), quote_ident(view_name)
				USING ERRCODE = 'dependent_objects_still_exist',
					  DETAIL = dependents,
					  HINT = 'Drop the objects that depend on it, call create_kpi_views again, then create them again.';
		END;
		EXECUTE format('CREATE VIEW %I.%I WITH (security_invoker = true) AS ', target_schema, view_name)
			|| definition;
	END;
	RETURN format('%I.%I', target_schema, view_name)::regclass;
END
$fn$;
COMMENT ON FUNCTION omnikpi.replace_kpi_view(name, name, text) IS
	'creates or replaces a security_invoker view of create_kpi_views, dropping it first when its columns changed';

CREATE FUNCTION omnikpi.create_kpi_views(
	target_schema name,
	interactions regclass DEFAULT NULL,
	orders regclass DEFAULT NULL,
	touchpoints regclass DEFAULT NULL,
	conversions regclass DEFAULT NULL,
	columns jsonb DEFAULT '{}',
	rating_scale_min double precision DEFAULT 1,
	rating_scale_max double precision DEFAULT 5,
	ropo_window interval DEFAULT '14 days',
	store_channels text[] DEFAULT '{store}',
	online_channels text[] DEFAULT '{web,app}',
	half_life interval DEFAULT '7 days',
	materialized boolean DEFAULT false,
	translations jsonb DEFAULT '{}',
	other_channels text[] DEFAULT '{call_center,chat,email,social,kiosk,sms,push,search,display,affiliate,referral,direct}',
	effort_scale_min double precision DEFAULT 1,
	effort_scale_max double precision DEFAULT 7,
	time_zone text DEFAULT NULL,
	lookback interval DEFAULT '30 days',
	max_touches integer DEFAULT NULL,
	exclude_channels text[] DEFAULT '{}',
	journey_gap interval DEFAULT '7 days')
	RETURNS TABLE (view_name name, status text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	settings jsonb;
	plan jsonb;
	given jsonb;
	template_args text[];
	sample_problems bigint;
	sample_details text;
	src text;
	source_columns_absent text[];
	kpi record;
	layer record;
	victim record;
	missing text[];
	absent text[];
	kpi_names name[];
	summary_table regclass;
	layers jsonb;
	planned name[] := '{}';
	kept regclass[] := '{}';
	legacy jsonb := '[]';
	made regclass[] := '{}';
	made_kinds text[] := '{}';
	clashes text;
	record_table regclass;
	failure_state text;
	failure_message text;
	failure_detail text;
	failure_hint text;
	outside_citus boolean;
	i integer;
BEGIN
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF materialized IS NULL THEN
		RAISE EXCEPTION 'materialized must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Create it first: CREATE SCHEMA ' || quote_ident(target_schema) || ';';
	END IF;
	IF NOT (ropo_window > interval '0') OR NOT (half_life > interval '0') THEN
		RAISE EXCEPTION 'ropo_window and half_life must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	settings := omnikpi.source_settings(rating_scale_min, rating_scale_max, effort_scale_min, effort_scale_max,
										store_channels, online_channels, other_channels, exclude_channels,
										time_zone, lookback, max_touches, journey_gap);
	given := omnikpi.given_sources(interactions, orders, touchpoints, conversions);
	plan := omnikpi.resolve_sources(given, columns, translations);
	template_args := omnikpi.template_arguments(target_schema, settings, ropo_window, half_life);
	-- On a Citus coordinator, a view over tables outside Citus' metadata
	-- exists on the coordinator only, and Citus says so in a WARNING per
	-- view.  That is right for such sources, so when none of them is in the
	-- metadata, DDL propagation is off for this call (the function's SET
	-- clause ends it with the call).
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = ANY ($1))'
			INTO outside_citus USING ARRAY[interactions, orders, touchpoints, conversions];
		IF outside_citus THEN
			PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
		END IF;
	END IF;

	-- The cheap checks: the row and value checks of check_sources, on a
	-- sample of each source.  What they find is a WARNING, not an error:
	-- the views are made, and say what they leave out.
	SELECT count(*), string_agg(format('%s.%s: %s (%s %s%s).', u.source, p.column_name, p.problem, p.rows,
									   CASE WHEN p.rows = 1 THEN 'row' ELSE 'rows' END,
									   CASE WHEN p.example IS NOT NULL THEN format(', e.g. "%s"', p.example) ELSE '' END),
								E'\n' ORDER BY u.n, p.ordinality)
	INTO sample_problems, sample_details
	FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) WITH ORDINALITY AS u(source, n)
	CROSS JOIN LATERAL omnikpi.source_row_problems(plan, settings, u.source, 10000) WITH ORDINALITY AS p
	WHERE given ? u.source;
	IF sample_problems > 0 THEN
		RAISE WARNING '% in the source data (from up to 10000 rows of each source)',
			CASE WHEN sample_problems = 1 THEN 'one problem' ELSE sample_problems || ' problems' END
			USING DETAIL = sample_details,
				  HINT = 'omnikpi.check_sources(...), with the same source arguments, reads every row, checks across sources too, and gives the fix for each problem.';
	END IF;

	-- What this call makes, by name: the record, the source views, the
	-- layer views (or entity tables), the summary tables and their state,
	-- the KPI views (or tables).
	layers := omnikpi.kpi_layer_forms(plan, given);
	kpi_names := ARRAY(SELECT v.view_name FROM omnikpi.kpi_views v
					   WHERE v.sources <@ ARRAY(SELECT jsonb_object_keys(given))
						 AND omnikpi.absent_columns(plan, v.needs_columns) IS NULL
					   ORDER BY v.position);
	planned := ARRAY['kpi_objects']::name[]
		|| ARRAY(SELECT ('source_' || s)::name FROM jsonb_object_keys(given) s)
		|| ARRAY(SELECT l::name FROM jsonb_object_keys(layers) l)
		|| CASE WHEN materialized THEN ARRAY(SELECT omnikpi.summary_tables_for(kpi_names)) || 'kpi_refresh_state'::name
				ELSE '{}' END
		|| kpi_names;

	-- A refresh of this schema in progress finishes first.  A relation of
	-- the user's never gives way to one of ours.
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	kept := ARRAY(SELECT o.relation FROM omnikpi.kpi_objects(target_schema) o);
	IF omnikpi.kpi_object_record(target_schema) IS NULL THEN
		-- a schema of omnikpi 0.1.0 (or none): its views are to be recorded
		legacy := (SELECT coalesce(jsonb_agg(jsonb_build_array(o.relation::oid, o.kind)), '[]')
				   FROM omnikpi.kpi_objects(target_schema) o);
	END IF;
	SELECT string_agg(format('%I.%I', target_schema, c.relname), ', ' ORDER BY c.relname) INTO clashes
	FROM pg_class c
	WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = target_schema)
	  AND c.relname = ANY (planned) AND c.oid <> ALL (kept);
	IF clashes IS NOT NULL THEN
		RAISE EXCEPTION 'schema "%" already holds relations create_kpi_views would make', target_schema
			USING ERRCODE = 'duplicate_table',
				  DETAIL = format('%s %s not made by create_kpi_views (they are not in the schema''s kpi_objects record).',
								  clashes, CASE WHEN clashes LIKE '%,%' THEN 'were' ELSE 'was' END),
				  HINT = 'Rename or drop them, or create the KPI views in a schema of their own.';
	END IF;

	BEGIN
		-- The record first, so that everything below is recorded in it.
		record_table := omnikpi.kpi_object_record(target_schema);
		IF record_table IS NULL THEN
			EXECUTE format($t$CREATE TABLE %I.kpi_objects (
				relation regclass PRIMARY KEY,
				kind text NOT NULL CHECK (kind IN ('record', 'source view', 'layer view', 'kpi view',
												   'entity table', 'summary table', 'refresh state')),
				made_at timestamptz NOT NULL DEFAULT now())$t$, target_schema);
			record_table := format('%I.kpi_objects', target_schema)::regclass;
			EXECUTE format('COMMENT ON TABLE %s IS %L', record_table,
						   'the relations omnikpi.create_kpi_views made in this schema; drop_kpi_views, refresh_kpi_views and grant_bi_access act on these and nothing else');
			EXECUTE format('COMMENT ON COLUMN %s.relation IS %L', record_table, 'the relation');
			EXECUTE format('COMMENT ON COLUMN %s.kind IS %L', record_table,
						   'record, source view, layer view, kpi view (a view, or a table in the materialized form), entity table, summary table or refresh state');
			EXECUTE format('COMMENT ON COLUMN %s.made_at IS %L', record_table, 'when create_kpi_views last made it');
			-- Whoever may use the schema may know what in it is omnikpi's (as
			-- pg_class tells them anyway): refresh_kpi_views and
			-- schedule_refresh read the record as the role that calls them.
			EXECUTE format('GRANT SELECT ON %s TO PUBLIC', record_table);
			EXECUTE format('INSERT INTO %s VALUES ($1, ''record'')', record_table) USING record_table;
			EXECUTE format('INSERT INTO %s (relation, kind) SELECT (e ->> 0)::oid, e ->> 1 FROM jsonb_array_elements($1) e',
						   record_table) USING legacy;
		END IF;
		EXECUTE format('DELETE FROM %s r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relation)',
					   record_table);
		made := ARRAY[record_table];
		made_kinds := ARRAY['record'];
		view_name := 'kpi_objects';
		status := 'created';
		RETURN NEXT;

		-- The materialized form made earlier goes; it is made afresh below,
		-- or replaced by plain views.  Its tables take the names of the
		-- plain KPI and layer views, which give way to them.
		FOR victim IN SELECT * FROM omnikpi.materialized_objects(target_schema) LOOP
			EXECUTE format('DROP %s %I.%I', CASE victim.relation_kind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
						   target_schema, victim.relation_name);
		END LOOP;
		IF materialized THEN
			FOR victim IN SELECT * FROM omnikpi.kpi_objects(target_schema) o
						  WHERE o.kind IN ('kpi view', 'layer view') AND o.relation_kind = 'v' LOOP
				EXECUTE format('DROP VIEW %s', victim.relation);
			END LOOP;
		END IF;

		-- The source views, then the journey views over them.
		FOR src IN SELECT s FROM unnest(ARRAY['interactions', 'orders', 'touchpoints', 'conversions']) WITH ORDINALITY u(s, n)
				   WHERE given ? s ORDER BY n LOOP
			made := made || omnikpi.replace_kpi_view(target_schema, 'source_' || src,
													 omnikpi.source_select_sql(plan, src, settings, true));
			made_kinds := made_kinds || 'source view'::text;
			EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, 'source_' || src,
						   format('%s as omnikpi reads them, from %s: mapped, vocabularies matched, times in %s, rows without a channel or time left out',
								  src, plan #>> ARRAY[src, 'relation_name'], settings ->> 'time_zone'));
			FOR kpi IN SELECT c.column_name, c.description FROM omnikpi.source_columns c WHERE c.source = src LOOP
				EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', target_schema, 'source_' || src,
							   kpi.column_name, kpi.description
							   || CASE WHEN omnikpi.plan_has_column(plan, src || '.' || kpi.column_name) THEN ''
									   ELSE ' (absent: always NULL)' END);
			END LOOP;
			view_name := 'source_' || src;
			status := 'created';
			RETURN NEXT;
		END LOOP;
		-- The layer views over them, or in the materialized form the entity
		-- tables that keep them, the summary tables and the refresh state.
		FOR layer IN SELECT l.* FROM omnikpi.kpi_layer_views l
					 WHERE layers ->> l.view_name::text = l.keyed_by ORDER BY l.view_name LOOP
			IF materialized THEN
				made := made || ARRAY(SELECT omnikpi.create_entity_table(target_schema, layer.view_name, layer.keyed_by, given,
																		 template_args));
				made_kinds := made_kinds || array_fill('entity table'::text, ARRAY[cardinality(made) - cardinality(made_kinds)]);
			ELSE
				made := made || omnikpi.replace_kpi_view(target_schema, layer.view_name,
					format(layer.definition, VARIADIC template_args
						   || omnikpi.layer_inputs(target_schema, layer.view_name, layer.keyed_by, given, template_args)));
				made_kinds := made_kinds || 'layer view'::text;
				EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, layer.view_name, layer.description);
				PERFORM omnikpi.comment_columns(made[cardinality(made)], layer.column_comments);
			END IF;
			view_name := layer.view_name;
			status := 'created';
			RETURN NEXT;
		END LOOP;
		IF materialized THEN
			PERFORM omnikpi.distribute_entity_tables(target_schema, plan, given, layers);
			FOR summary_table IN SELECT omnikpi.create_summary_tables(target_schema, kpi_names) LOOP
				made := made || summary_table;
				made_kinds := made_kinds || 'summary table'::text;
				view_name := (SELECT c.relname FROM pg_class c WHERE c.oid = summary_table);
				status := 'created';
				RETURN NEXT;
			END LOOP;
			made := made || omnikpi.create_refresh_state(target_schema, given, jsonb_build_object(
				'template_arguments', to_jsonb(template_args), 'layers', layers, 'given', given));
			made_kinds := made_kinds || 'refresh state'::text;
			view_name := 'kpi_refresh_state';
			status := 'created';
			RETURN NEXT;
			made := made || omnikpi.create_refresh_window(target_schema);
			made_kinds := made_kinds || 'refresh state'::text;
			view_name := 'kpi_refresh_window';
			RETURN NEXT;
		END IF;

		FOR kpi IN SELECT v.* FROM omnikpi.kpi_views v ORDER BY v.position LOOP
			view_name := kpi.view_name;
			SELECT array_agg(s ORDER BY s) INTO missing FROM unnest(kpi.sources) s WHERE NOT given ? s;
			IF missing IS NOT NULL THEN
				status := 'skipped: needs ' || array_to_string(missing, ' and ');
				RAISE NOTICE 'view %.% not created: it needs %', target_schema, kpi.view_name,
					array_to_string(missing, ' and ');
				RETURN NEXT;
				CONTINUE;
			END IF;
			missing := omnikpi.absent_columns(plan, kpi.needs_columns);
			IF missing IS NOT NULL THEN
				status := 'skipped: needs ' || array_to_string(missing, ' and ');
				RAISE NOTICE 'view %.% not created: it needs %, which the source does not have',
					target_schema, kpi.view_name, array_to_string(missing, ' and ');
				RETURN NEXT;
				CONTINUE;
			END IF;
			absent := omnikpi.absent_columns(plan, kpi.optional_columns);
			IF absent IS NOT NULL THEN
				RAISE NOTICE 'view %.% created without %, which the source does not have: what it computes from it is empty',
					target_schema, kpi.view_name, array_to_string(absent, ' and ');
			END IF;
			IF materialized THEN
				made := made || omnikpi.create_kpi_table(target_schema, kpi.view_name, template_args);
				EXECUTE format('COMMENT ON TABLE %I.%I IS %L', target_schema, kpi.view_name,
							   kpi.description || '; materialized, refreshed by omnikpi.refresh_kpi_views');
				status := 'materialized';
			ELSE
				made := made || omnikpi.replace_kpi_view(target_schema, kpi.view_name,
														 format(kpi.definition, VARIADIC template_args));
				EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, kpi.view_name, kpi.description);
				status := 'created';
			END IF;
			made_kinds := made_kinds || 'kpi view'::text;
			PERFORM omnikpi.comment_columns(made[cardinality(made)], kpi.column_comments);
			RETURN NEXT;
		END LOOP;

		-- Record what was made; what an earlier call made and this one did
		-- not make again goes (views that now lack a source, say).
		EXECUTE format('INSERT INTO %s (relation, kind) SELECT * FROM unnest($1, $2)
						ON CONFLICT (relation) DO UPDATE SET kind = EXCLUDED.kind, made_at = now()', record_table)
			USING made, made_kinds;
		FOR victim IN SELECT * FROM omnikpi.kpi_objects(target_schema) o WHERE o.relation <> ALL (made) LOOP
			EXECUTE format('DROP %s %s', CASE victim.relation_kind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
											 ELSE 'TABLE' END, victim.relation);
		END LOOP;
		-- what went, here or above, leaves the record: its OID may be reused
		EXECUTE format('DELETE FROM %s r WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relation)',
					   record_table);
		-- the refresh finds the tables to fill by the record; it keeps the
		-- window of refresh_kpi_views' default late_window for the next one
		IF materialized THEN
			PERFORM omnikpi.refresh_materialized_form(target_schema, true, interval '3 days');
		END IF;
	EXCEPTION WHEN OTHERS THEN
		-- the same error, without the generated statement in its context
		GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT,
								failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
		PERFORM omnikpi.raise_again(failure_state, failure_message,
			concat_ws(' ', nullif(failure_detail, ''), format('create_kpi_views changed nothing in schema "%s".', target_schema)),
			failure_hint);
	END;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_kpi_views(name, regclass, regclass, regclass, regclass, jsonb,
											 double precision, double precision, interval, text[], text[], interval,
											 boolean, jsonb, text[], double precision, double precision, text,
											 interval, integer, text[], interval) IS
	'creates (or replaces) the source views, layer views and KPI views over the given source relations in target_schema (with materialized => true every KPI view and layer view as a table, with the summary tables they are refreshed from), records them in kpi_objects, and says which views were skipped for want of a source or column';


CREATE OR REPLACE FUNCTION omnikpi.drop_kpi_views(target_schema name)
	RETURNS TABLE (view_name name)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	victim record;
BEGIN
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	-- Only what the schema's record holds, in dependency order, the record last.
	FOR victim IN SELECT * FROM omnikpi.kpi_objects(target_schema) LOOP
		EXECUTE format('DROP %s %s',
					   CASE victim.relation_kind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
					   victim.relation);
		view_name := victim.relation_name;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.drop_kpi_views(name) IS
	'drops what create_kpi_views made in target_schema, as its kpi_objects record lists it (views, tables of the materialized form, refresh state, the record), and nothing else';
