-- ---------------------------------------------------------------------------
-- Materialized KPIs: a daily summary layer, monthly and quarterly
-- materialized views rolled up from it, and an incremental refresh.
--
-- create_kpi_views(..., materialized => true) makes, in the target schema:
--   * <source>_daily: an ordinary table of per-day partial sums (counts, sums,
--     channel_summary states) per day, channel and phase, so that every KPI
--     built on it is exact for any period: never an average of averages;
--   * the KPI views that have a row in omnikpi.kpi_materialized_views as
--     materialized views over that table, each with a unique index, so that
--     REFRESH MATERIALIZED VIEW CONCURRENTLY never blocks a reader;
--   * every other KPI view as the same plain view as without materialized
--     (KPIs over whole journeys, issues, customers or percentiles do not
--     decompose by day);
--   * kpi_refresh_state: per daily table the watermark of the last refresh.
-- refresh_kpi_views(target_schema) recomputes the days from the watermark
-- minus the late-data window on (DELETE and INSERT of those days only), then
-- refreshes the materialized views concurrently, all in one transaction.
-- ---------------------------------------------------------------------------

-- The daily summary tables: a template each for the rows of the days from a
-- given time on.  In the template %1$I is the target schema, %2$L the time
-- zone days are cut in, %3$L and %4$L the rating scale, and $1 (a parameter,
-- never text) the first timestamptz to recompute.  They read the source
-- views, so rows without a time are left out as everywhere else.
CREATE TABLE omnikpi.kpi_daily_summaries (
	table_name name PRIMARY KEY,
	source text NOT NULL,
	time_column name NOT NULL,
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
('interactions_daily', 'interactions', 'occurred_at',
 'Daily partial sums of the interactions per day, channel and phase, from which the materialized KPI views are rolled up exactly; maintained by omnikpi.refresh_kpi_views',
 $c$day date, channel text, phase text, interactions bigint NOT NULL,
	ratings @extschema@.channel_summary, integration @extschema@.channel_summary,
	csat_responses bigint NOT NULL, csat_sum double precision, csat_top2 bigint NOT NULL,
	ces_responses bigint NOT NULL, ces_sum double precision,
	nps_responses bigint NOT NULL, promoters bigint NOT NULL, detractors bigint NOT NULL$c$,
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
	   'detractors', 'answers 0 to 6'],
 $v$SELECT (occurred_at AT TIME ZONE %2$L)::date AS day, channel, phase,
	count(*) AS interactions,
	@extschema@.channel_summary(channel, satisfaction) AS ratings,
	@extschema@.channel_summary(channel, context_carried) AS integration,
	count(satisfaction) AS csat_responses,
	sum(satisfaction) AS csat_sum,
	count(*) FILTER (WHERE satisfaction >= %4$L::double precision - 1) AS csat_top2,
	count(effort) AS ces_responses,
	sum(effort) AS ces_sum,
	count(nps) AS nps_responses,
	count(*) FILTER (WHERE nps >= 9) AS promoters,
	count(*) FILTER (WHERE nps <= 6) AS detractors
FROM %1$I.source_interactions
WHERE occurred_at >= $1
GROUP BY 1, 2, 3$v$);

-- The KPI views the materialized form materializes, with their definition
-- over a daily summary table.  The templates take the same arguments as
-- those of omnikpi.kpi_views, and give the same columns with the same types;
-- a KPI view without a row here stays a plain view in the materialized form.
CREATE TABLE omnikpi.kpi_materialized_views (
	view_name name PRIMARY KEY REFERENCES omnikpi.kpi_views (view_name),
	daily_table name NOT NULL REFERENCES omnikpi.kpi_daily_summaries (table_name),
	key_columns name[] NOT NULL,	-- of its unique index, NULLS NOT DISTINCT
	definition text NOT NULL
);
COMMENT ON TABLE omnikpi.kpi_materialized_views IS
	'the KPI views create_kpi_views materializes when asked to, rolled up from a daily summary table';
GRANT SELECT ON omnikpi.kpi_materialized_views TO PUBLIC;

-- Rates are recomputed from counts as the plain views' avg() does (numeric
-- sum / numeric count), and means as sum / count, so that the materialized
-- numbers are the plain views' numbers, not averages of daily averages.
INSERT INTO omnikpi.kpi_materialized_views VALUES
('experience_rating_monthly', 'interactions_daily', '{month}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	80::double precision AS target_pct,
	coalesce(@extschema@.channel_count(@extschema@.rollup(ratings)), 0) AS channels,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('experience_rating_by_phase_monthly', 'interactions_daily', '{month,phase}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, phase,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('experience_rating_by_channel_monthly', 'interactions_daily', '{month,channel}',
 $v$SELECT date_trunc('month', day::timestamp)::date AS month, channel,
	@extschema@.experience_rating(@extschema@.rollup(ratings), %5$L::double precision, %6$L::double precision) AS rating_pct,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('integration_index_quarterly', 'interactions_daily', '{quarter}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_index,
	80::double precision AS target,
	coalesce(@extschema@.channel_count(@extschema@.rollup(integration)), 0) AS channels
FROM %1$I.interactions_daily
GROUP BY 1$v$),
('integration_index_by_channel_quarterly', 'interactions_daily', '{quarter,channel}',
 $v$SELECT date_trunc('quarter', day::timestamp)::date AS quarter, channel,
	@extschema@.integration_index(@extschema@.rollup(integration)) AS integration_score,
	sum(interactions)::bigint AS interactions
FROM %1$I.interactions_daily
GROUP BY 1, 2$v$),
('satisfaction_by_channel_monthly', 'interactions_daily', '{month,channel}',
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
GROUP BY 1, 2$v$);

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
-- dropped: materialized views, daily tables, the state table.
CREATE FUNCTION omnikpi.materialized_objects(target_schema name)
	RETURNS TABLE (relation_name name, relation_kind "char")
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
	SELECT o.relation_name, o.relation_kind
	FROM omnikpi.kpi_objects(target_schema) o
	WHERE o.relation_kind = 'm' OR o.kind IN ('daily summary', 'refresh state')
$fn$;
COMMENT ON FUNCTION omnikpi.materialized_objects(name) IS
	'the materialized views, daily summary tables and refresh state the materialized form of create_kpi_views made in target_schema, in drop order';

-- Recomputes the daily summary tables of a schema: every day (full_rebuild,
-- or a table never filled) or the days from the watermark minus late_window
-- on, then moves the watermark.  It takes the schema's lock itself (the
-- callers already hold it; a transaction may take it again) so that a direct
-- call cannot interleave with a refresh either.
CREATE FUNCTION omnikpi.refresh_daily_summaries(target_schema name, full_rebuild boolean,
												late_window interval)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	state record;
	daily record;
	new_watermark timestamptz;
	from_day date;
	failure_state text;
	failure_detail text;
	failure_hint text;
BEGIN
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	FOR state IN EXECUTE format(
		'SELECT daily_table, time_zone, rating_scale_min, rating_scale_max, watermark
		 FROM %I.kpi_refresh_state ORDER BY daily_table', target_schema)
	LOOP
		SELECT * INTO daily FROM omnikpi.kpi_daily_summaries s WHERE s.table_name = state.daily_table;
		IF NOT FOUND OR to_regclass(format('%I.%I', target_schema, state.daily_table)) IS NULL THEN
			RAISE EXCEPTION 'daily summary table %.% is missing or unknown', target_schema, state.daily_table
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Create the materialized KPI views again with omnikpi.create_kpi_views(..., materialized => true).';
		END IF;
		-- The newest time in the data, read before the days are recomputed so
		-- that the watermark never claims rows the recomputation did not see.
		-- A row dated in the future cannot move it past now(); the days after
		-- the watermark are recomputed every time anyway.
		EXECUTE format('SELECT max(%I) FROM %I.%I', daily.time_column, target_schema, 'source_' || daily.source)
			INTO new_watermark;
		IF new_watermark > now() THEN
			new_watermark := now();
		END IF;
		IF full_rebuild OR state.watermark IS NULL THEN
			from_day := '-infinity';
		ELSE
			from_day := ((state.watermark - late_window) AT TIME ZONE state.time_zone)::date;
		END IF;
		EXECUTE format('DELETE FROM %I.%I WHERE %I >= $1 OR %I IS NULL', target_schema, daily.table_name,
					   daily.key_columns[1], daily.key_columns[1])
			USING from_day;
		-- A failure (a rating outside the scale, say) is raised again with
		-- its message, detail and hint, but not the generated statement; the
		-- caller's transaction rolls back, so the old numbers stay.
		BEGIN
			EXECUTE format('INSERT INTO %I.%I ', target_schema, daily.table_name)
				|| format(daily.definition, target_schema, state.time_zone, state.rating_scale_min,
						  state.rating_scale_max)
				USING from_day::timestamp AT TIME ZONE state.time_zone;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_detail = PG_EXCEPTION_DETAIL,
									failure_hint = PG_EXCEPTION_HINT;
			PERFORM omnikpi.raise_again(failure_state, SQLERRM,
				concat_ws(' ', nullif(failure_detail, ''),
						  format('The refresh of %I.%I stopped there; the KPI views keep their previous numbers.',
								 target_schema, daily.table_name)),
				failure_hint);
		END;
		EXECUTE format('UPDATE %I.kpi_refresh_state SET watermark = $1, recomputed_from = $2,
						full_rebuild = $3, refreshed_at = now() WHERE daily_table = $4', target_schema)
			USING new_watermark, from_day, full_rebuild OR state.watermark IS NULL, state.daily_table;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.refresh_daily_summaries(name, boolean, interval) IS
	'recomputes the changed days (or all days) of the daily summary tables of target_schema and moves their watermark; called by refresh_kpi_views and create_kpi_views';

CREATE PROCEDURE omnikpi.refresh_kpi_views(target_schema name, full_rebuild boolean DEFAULT false,
										   late_window interval DEFAULT '3 days')
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	victim record;
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
	-- starts from the watermark the first one left.
	PERFORM omnikpi.lock_kpi_schema(target_schema);
	IF NOT EXISTS (SELECT 1 FROM omnikpi.materialized_objects(target_schema) o
				   WHERE o.relation_kind = 'r' AND o.relation_name = 'kpi_refresh_state') THEN
		RAISE EXCEPTION 'schema "%" has no materialized KPI views', target_schema
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Create them with omnikpi.create_kpi_views(''' || target_schema
						 || ''', interactions => ..., materialized => true).';
	END IF;

	PERFORM omnikpi.refresh_daily_summaries(target_schema, full_rebuild, late_window);
	-- CONCURRENTLY: readers keep reading the previous rows meanwhile (it takes
	-- an EXCLUSIVE lock, which does not conflict with SELECT), and see the new
	-- ones when this transaction commits.
	FOR victim IN SELECT * FROM omnikpi.materialized_objects(target_schema) o
				  WHERE o.relation_kind = 'm' ORDER BY o.relation_name LOOP
		EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', target_schema, victim.relation_name);
	END LOOP;
END
$fn$;
COMMENT ON PROCEDURE omnikpi.refresh_kpi_views(name, boolean, interval) IS
	'refreshes the materialized KPI views of target_schema: recomputes the days from the watermark minus late_window on (all days with full_rebuild), then refreshes the monthly and quarterly views concurrently';
