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
--      SELECT over the window tables, the stored table and the parameters;
--      plus touched_by_optional when the layer's optional source was given);
--   2. computes the new rows of those keys with the layer's own template,
--      reading as %13$s the rows of inputs[1] and as %14$s those of
--      inputs[2] (or optional_input, or the layer's absent_input), or with
--      recompute when that is set (%15$s: the template's rows);
--   3. replaces the stored rows that matches pairs with a touched key (a
--      condition over the stored row e and the key t) by the new rows.
-- An entity table with marks has a second table, <table>_marks: per key
-- (marks_key) the latest time of a source row that no entity row need show
-- (a conversion without touches), given by marks, a SELECT over the rows
-- read as %14$s; a refresh replaces the touched keys' marks, and touched
-- finds a key whose mark lies in the window.  Templates take the arguments
-- of omnikpi.template_arguments.  A full rebuild runs the bare template
-- over the source views instead.
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
	PRIMARY KEY (table_name, keyed_by),
	FOREIGN KEY (table_name, keyed_by) REFERENCES omnikpi.kpi_layer_views (view_name, keyed_by)
);
COMMENT ON TABLE omnikpi.kpi_entity_tables IS
	'how the refresh of the materialized form keeps each layer view as a table: which keys a refresh touches, which stored rows it replaces, and from which rows it recomputes them';
GRANT SELECT ON omnikpi.kpi_entity_tables TO PUBLIC;

-- The summary tables over entity tables and states: their columns, their
-- key, and either (kind delta) the contribution of entity rows, a SELECT
-- over %16$s (rows of the entity table with a column sign, -1 for a touched
-- entity's old row and 1 for its new one) that gives the key columns and
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
-- definition, which reads the entity tables), giving the plain view's rows.
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
