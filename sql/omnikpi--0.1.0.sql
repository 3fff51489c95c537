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

-- ---------------------------------------------------------------------------
-- The headline KPIs
-- ---------------------------------------------------------------------------

CREATE AGGREGATE omni_experience_rating(channel text, rating double precision) (
	SFUNC = omnikpi_rating_trans, STYPE = channel_summary,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_mtrans, MINVFUNC = omnikpi_rating_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_experience_rating(text, double precision) IS
	'omnichannel experience rating in percent: unweighted mean over channels of each channel''s mean rating on the 1 to 5 scale';

CREATE AGGREGATE omni_experience_rating(channel text, rating double precision,
										scale_min double precision,
										scale_max double precision) (
	SFUNC = omnikpi_rating_scaled_trans, STYPE = channel_summary,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_scaled_mtrans, MINVFUNC = omnikpi_rating_scaled_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_experience_rating(text, double precision, double precision, double precision) IS
	'omnichannel experience rating in percent: unweighted mean over channels of each channel''s mean rating, normalized to the given scale';

CREATE AGGREGATE omni_integration_index(channel text, score double precision) (
	SFUNC = omnikpi_score_trans, STYPE = channel_summary,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_score_mtrans, MINVFUNC = omnikpi_score_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE omni_integration_index(text, double precision) IS
	'omnichannel integration index 0 to 100: sum of the channels'' mean integration scores divided by the number of channels';

CREATE AGGREGATE omni_integration_index(channel text, integrated boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary,
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
	SFUNC = omnikpi_summary_value_trans, STYPE = channel_summary,
	COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE channel_summary(text, double precision) IS
	'per-channel count, sum, min and max of the values, for storing and rolling up later';

CREATE AGGREGATE channel_summary(channel text, flag boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary,
	COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE channel_summary(text, boolean) IS
	'per-channel count of rows and of true flags (a summary on the scale 0 to 1), for storing and rolling up later';

-- Rolling up is merging: the combine function is the transition function too.
CREATE AGGREGATE rollup(channel_summary) (
	SFUNC = omnikpi_summary_combine, STYPE = channel_summary,
	COMBINEFUNC = omnikpi_summary_combine,
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

-- The KPI views create_kpi_views can create: a template each, where %1$I is
-- the target schema, %2$L the ROPO window, %3$L the store channels, %4$L the
-- online channels, %5$L and %6$L the rating scale, %7$L the time-decay half
-- life.  The source_* views they read are made by create_kpi_views itself.
CREATE TABLE omnikpi.kpi_views (
	position integer PRIMARY KEY,
	view_name name NOT NULL UNIQUE,
	sources text[] NOT NULL,
	description text NOT NULL,
	column_comments text[] NOT NULL,	-- name, comment, name, comment, ...
	definition text NOT NULL
);
COMMENT ON TABLE omnikpi.kpi_views IS
	'the KPI views create_kpi_views creates, with the sources each needs and its definition';
GRANT SELECT ON omnikpi.kpi_views TO PUBLIC;

INSERT INTO omnikpi.kpi_views VALUES
(1, 'experience_rating_monthly', '{interactions}',
 'Omnichannel Experience Rating per month: the unweighted mean over channels of each channel''s mean satisfaction, in percent of the rating scale (omni_experience_rating); target above 80%',
 ARRAY['month', 'first day of the month',
	   'rating_pct', 'omnichannel experience rating in percent (0 to 100)',
	   'target_pct', 'the usual target, 80%',
	   'channels', 'channels with at least one rating',
	   'interactions', 'contacts in the month, rated or not'],
 $v$SELECT date_trunc('month', occurred_at)::date AS month,
	@extschema@.omni_experience_rating(channel, satisfaction, %5$L::double precision, %6$L::double precision) AS rating_pct,
	80::double precision AS target_pct,
	(count(DISTINCT channel) FILTER (WHERE satisfaction IS NOT NULL))::integer AS channels,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1$v$),
(2, 'experience_rating_by_phase_monthly', '{interactions}',
 'Omnichannel Experience Rating per month and journey phase, in percent of the rating scale; target above 80%',
 ARRAY['month', 'first day of the month',
	   'phase', 'journey phase',
	   'rating_pct', 'omnichannel experience rating in percent (0 to 100) within the phase',
	   'interactions', 'contacts in the month and phase'],
 $v$SELECT date_trunc('month', occurred_at)::date AS month, phase,
	@extschema@.omni_experience_rating(channel, satisfaction, %5$L::double precision, %6$L::double precision) AS rating_pct,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$),
(3, 'experience_rating_by_channel_monthly', '{interactions}',
 'Experience rating of each channel per month: its mean satisfaction in percent of the rating scale',
 ARRAY['month', 'first day of the month',
	   'channel', 'channel',
	   'rating_pct', 'mean satisfaction of the channel in percent of the rating scale (0 to 100)',
	   'interactions', 'contacts on the channel in the month'],
 $v$SELECT date_trunc('month', occurred_at)::date AS month, channel,
	@extschema@.omni_experience_rating(channel, satisfaction, %5$L::double precision, %6$L::double precision) AS rating_pct,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$),
(4, 'integration_index_quarterly', '{interactions}',
 'Omnichannel Integration Index per quarter: sum over channels of the percentage of contacts where the customer''s context was carried over, divided by the number of channels (omni_integration_index), 0 to 100; target above 80',
 ARRAY['quarter', 'first day of the quarter',
	   'integration_index', 'omnichannel integration index, 0 to 100',
	   'target', 'the usual target, 80',
	   'channels', 'channels with at least one contact'],
 $v$SELECT date_trunc('quarter', occurred_at)::date AS quarter,
	@extschema@.omni_integration_index(channel, context_carried) AS integration_index,
	80::double precision AS target,
	(count(DISTINCT channel) FILTER (WHERE context_carried IS NOT NULL))::integer AS channels
FROM %1$I.source_interactions
GROUP BY 1$v$),
(5, 'integration_index_by_channel_quarterly', '{interactions}',
 'Integration score of each channel per quarter: the percentage of its contacts where the customer''s context was carried over',
 ARRAY['quarter', 'first day of the quarter',
	   'channel', 'channel',
	   'integration_score', 'percentage of the channel''s contacts with the context carried over, 0 to 100',
	   'interactions', 'contacts on the channel in the quarter'],
 $v$SELECT date_trunc('quarter', occurred_at)::date AS quarter, channel,
	@extschema@.omni_integration_index(channel, context_carried) AS integration_score,
	count(*) AS interactions
FROM %1$I.source_interactions
GROUP BY 1, 2$v$),
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
 $v$SELECT date_trunc('month', occurred_at)::date AS month, channel,
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
GROUP BY 1, 2$v$),
(7, 'resolution_by_channel_monthly', '{interactions}',
 'Service issues per month and channel of their first contact: interactions needed per resolved issue, and first-contact resolution rate (issues resolved by their first contact)',
 ARRAY['month', 'first day of the month the issue was opened',
	   'channel', 'channel of the issue''s first contact',
	   'issues', 'issues opened',
	   'resolved_issues', 'issues resolved by any of their contacts',
	   'interactions_per_resolved_issue', 'mean number of contacts of a resolved issue',
	   'first_contact_resolution_pct', 'percentage of issues resolved by their first contact'],
 $v$WITH contacts AS (
	SELECT issue_id, channel, occurred_at, resolved,
		row_number() OVER (PARTITION BY issue_id ORDER BY occurred_at, channel) AS contact_no
	FROM %1$I.source_interactions
	WHERE issue_id IS NOT NULL),
issues AS (
	SELECT issue_id, min(occurred_at) AS opened_at,
		min(channel) FILTER (WHERE contact_no = 1) AS channel,
		count(*) AS contacts,
		coalesce(bool_or(resolved), false) AS resolved,
		coalesce(bool_or(resolved) FILTER (WHERE contact_no = 1), false) AS resolved_first
	FROM contacts GROUP BY issue_id)
SELECT date_trunc('month', opened_at)::date AS month, channel,
	count(*) AS issues,
	count(*) FILTER (WHERE resolved) AS resolved_issues,
	(avg(contacts) FILTER (WHERE resolved))::double precision AS interactions_per_resolved_issue,
	100 * avg(resolved_first::integer)::double precision AS first_contact_resolution_pct
FROM issues
GROUP BY 1, 2$v$),
(8, 'channel_switching_monthly', '{interactions}',
 'Channel switching per month (of a journey''s or issue''s first contact): switches (consecutive contacts on different channels) per journey and per issue, share of journeys using 2 or more channels, and share of switches where the new channel had the customer''s context',
 ARRAY['month', 'first day of the month',
	   'journeys', 'journeys started in the month',
	   'switches_per_journey', 'mean number of channel switches per journey',
	   'multichannel_journey_pct', 'percentage of journeys using 2 or more channels',
	   'issues', 'issues opened in the month',
	   'switches_per_issue', 'mean number of channel switches per issue',
	   'context_carried_switch_pct', 'percentage of switches within journeys where the new channel had the context'],
 $v$WITH steps AS (
	SELECT journey_id, issue_id, channel, occurred_at, context_carried,
		lag(channel) OVER (PARTITION BY journey_id ORDER BY occurred_at, channel) AS journey_previous,
		lag(channel) OVER (PARTITION BY issue_id ORDER BY occurred_at, channel) AS issue_previous
	FROM %1$I.source_interactions),
journeys AS (
	SELECT date_trunc('month', min(occurred_at))::date AS month,
		count(*) FILTER (WHERE channel <> journey_previous) AS switches,
		count(*) FILTER (WHERE channel <> journey_previous AND context_carried) AS carried,
		count(DISTINCT channel) AS channels
	FROM steps WHERE journey_id IS NOT NULL GROUP BY journey_id),
issues AS (
	SELECT date_trunc('month', min(occurred_at))::date AS month,
		count(*) FILTER (WHERE channel <> issue_previous) AS switches
	FROM steps WHERE issue_id IS NOT NULL GROUP BY issue_id),
by_journey AS (
	SELECT month, count(*) AS journeys, avg(switches)::double precision AS switches_per_journey,
		100 * avg((channels >= 2)::integer)::double precision AS multichannel_journey_pct,
		sum(switches) AS switches, sum(carried) AS carried
	FROM journeys GROUP BY month),
by_issue AS (
	SELECT month, count(*) AS issues, avg(switches)::double precision AS switches_per_issue
	FROM issues GROUP BY month)
SELECT month, coalesce(journeys, 0) AS journeys, switches_per_journey, multichannel_journey_pct,
	coalesce(issues, 0) AS issues, switches_per_issue,
	(100 * carried / nullif(switches, 0))::double precision AS context_carried_switch_pct
FROM by_journey FULL JOIN by_issue USING (month)$v$),
(9, 'channel_transitions_monthly', '{interactions}',
 'Channel transition matrix per month for journey heat maps: how often a journey''s next contact is on to_channel after a contact on from_channel (staying on a channel included)',
 ARRAY['month', 'first day of the month of the later contact',
	   'from_channel', 'channel of the earlier contact',
	   'to_channel', 'channel of the next contact in the same journey',
	   'transitions', 'number of such consecutive pairs',
	   'share_pct', 'percentage of the transitions out of from_channel in the month that go to to_channel'],
 $v$WITH steps AS (
	SELECT date_trunc('month', occurred_at)::date AS month, channel AS to_channel,
		lag(channel) OVER (PARTITION BY journey_id ORDER BY occurred_at, channel) AS from_channel
	FROM %1$I.source_interactions
	WHERE journey_id IS NOT NULL)
SELECT month, from_channel, to_channel,
	count(*) AS transitions,
	(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY month, from_channel))::double precision AS share_pct
FROM steps
WHERE from_channel IS NOT NULL
GROUP BY 1, 2, 3$v$),
(10, 'journey_funnel_monthly', '{interactions}',
 'Journey funnel per month (of the journey''s first contact): journeys reaching each phase (a contact in that phase or a later one, in the order awareness, consideration, decision, service, loyalty) and the drop-off from the previous phase',
 ARRAY['month', 'first day of the month the journey started',
	   'phase', 'journey phase',
	   'phase_order', 'position of the phase, 1 (awareness) to 5 (loyalty)',
	   'journeys', 'journeys that reached the phase',
	   'reached_pct', 'percentage of the month''s journeys that reached the phase',
	   'dropoff_pct', 'percentage of the journeys that reached the previous phase but not this one'],
 $v$WITH journeys AS (
	SELECT date_trunc('month', min(occurred_at))::date AS month,
		max(array_position(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'], lower(phase))) AS furthest
	FROM %1$I.source_interactions
	WHERE journey_id IS NOT NULL
	GROUP BY journey_id),
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
WINDOW w AS (PARTITION BY month ORDER BY phase_order)$v$),
(11, 'engagement_depth', '{interactions,orders}',
 'Customers by engagement depth (number of channels they used: 1, 2, 3, 4+) with retention, churn and revenue per customer; a customer is retained when active (any contact) in the 90 days before the latest contact in the data, else churned',
 ARRAY['channel_depth', 'number of channels the customer used: 1, 2, 3 or 4+',
	   'customers', 'customers with that depth',
	   'retained_pct', 'percentage active in the last 90 days of the data',
	   'churned_pct', 'percentage not active in the last 90 days of the data',
	   'revenue_per_customer', 'order amount per customer, all time'],
 $v$WITH customers AS (
	SELECT customer_id, count(DISTINCT channel) AS channels, max(occurred_at) AS last_seen
	FROM %1$I.source_interactions GROUP BY customer_id),
data_end AS (SELECT max(occurred_at) AS at FROM %1$I.source_interactions),
revenue AS (SELECT customer_id, sum(amount) AS amount FROM %1$I.source_orders GROUP BY customer_id)
SELECT CASE WHEN c.channels >= 4 THEN '4+' ELSE c.channels::text END AS channel_depth,
	count(*) AS customers,
	100 * avg((c.last_seen > e.at - interval '90 days')::integer)::double precision AS retained_pct,
	100 * avg((c.last_seen <= e.at - interval '90 days')::integer)::double precision AS churned_pct,
	(sum(coalesce(r.amount, 0)) / count(*))::double precision AS revenue_per_customer
FROM customers c CROSS JOIN data_end e LEFT JOIN revenue r USING (customer_id)
GROUP BY 1$v$),
(12, 'churn_retention_monthly', '{interactions}',
 'Customer churn and retention per month: a customer is active in a month when they had a contact in the 90 days up to the month''s end (the definition engagement_depth uses); retained = active this month and the previous one, churned = active the previous month but not this one; rates are relative to the previous month''s active customers',
 ARRAY['month', 'first day of the month',
	   'active_customers', 'customers with a contact in the 90 days up to the month''s end',
	   'new_customers', 'active customers never active before',
	   'retained_customers', 'customers active this month and the previous one',
	   'churned_customers', 'customers active the previous month but not this one',
	   'retention_rate_pct', 'retained customers in percent of the previous month''s active customers',
	   'churn_rate_pct', 'churned customers in percent of the previous month''s active customers'],
 $v$WITH contact_days AS (
	SELECT DISTINCT customer_id, date_trunc('day', occurred_at) AS day
	FROM %1$I.source_interactions),
data_months AS (
	SELECT date_trunc('month', min(occurred_at)) AS first_month, date_trunc('month', max(occurred_at)) AS last_month
	FROM %1$I.source_interactions),
active AS (
	-- a contact on day keeps its customer active in every month whose end lies
	-- less than 90 days after it
	SELECT DISTINCT c.customer_id, m.month::date AS month
	FROM contact_days c
	CROSS JOIN data_months d
	CROSS JOIN LATERAL generate_series(date_trunc('month', c.day), least(d.last_month, date_trunc('month', c.day + interval '90 days')),
									   interval '1 month') AS m(month)
	WHERE m.month + interval '1 month' <= c.day + interval '90 days'),
marked AS (
	SELECT month,
		lag(month) OVER (PARTITION BY customer_id ORDER BY month) AS previous_month,
		lead(month) OVER (PARTITION BY customer_id ORDER BY month) AS next_month
	FROM active),
per_month AS (
	SELECT month, count(*) AS active_customers,
		count(*) FILTER (WHERE previous_month IS NULL) AS new_customers,
		count(*) FILTER (WHERE previous_month = (month - interval '1 month')::date) AS retained_customers
	FROM marked GROUP BY month),
churned AS (
	SELECT (month + interval '1 month')::date AS month, count(*) AS churned_customers
	FROM marked
	WHERE next_month IS DISTINCT FROM (month + interval '1 month')::date
	GROUP BY 1)
SELECT m.month, m.active_customers, m.new_customers, m.retained_customers,
	coalesce(c.churned_customers, 0) AS churned_customers,
	(100.0 * m.retained_customers / p.active_customers)::double precision AS retention_rate_pct,
	(100.0 * coalesce(c.churned_customers, 0) / p.active_customers)::double precision AS churn_rate_pct
FROM per_month m
LEFT JOIN per_month p ON p.month = (m.month - interval '1 month')::date
LEFT JOIN churned c ON c.month = m.month$v$),
(13, 'conversion_by_channel_monthly', '{touchpoints,conversions}',
 'Conversion rate per channel and month (of the journey''s first touch): of the journeys that touched the channel, the percentage that converted',
 ARRAY['month', 'first day of the month the journey started',
	   'channel', 'channel',
	   'journeys', 'journeys with a touch on the channel',
	   'converted_journeys', 'of those, journeys that converted',
	   'conversion_rate_pct', 'converted_journeys in percent of journeys'],
 $v$WITH journeys AS (
	SELECT journey_id, date_trunc('month', min(touched_at))::date AS month
	FROM %1$I.source_touchpoints GROUP BY journey_id),
journey_channels AS (SELECT DISTINCT journey_id, channel FROM %1$I.source_touchpoints)
SELECT j.month, jc.channel, count(*) AS journeys, count(c.journey_id) AS converted_journeys,
	(100.0 * count(c.journey_id) / count(*))::double precision AS conversion_rate_pct
FROM journey_channels jc
JOIN journeys j USING (journey_id)
LEFT JOIN %1$I.source_conversions c USING (journey_id)
GROUP BY 1, 2$v$),
(14, 'attribution_by_channel_monthly', '{touchpoints,conversions}',
 'Multi-touch attribution per channel, month (of the conversion) and model (first_touch, last_touch, linear, position_based, j_curve, inverse_j, time_decay): conversions and value credited to the channel by attribution_share over the touches up to the conversion, and pathway cost per acquisition = touch cost / attributed conversions',
 ARRAY['month', 'first day of the month of the conversion (of the touches, for touch_cost)',
	   'channel', 'channel',
	   'model', 'attribution model',
	   'attributed_conversions', 'conversions credited to the channel',
	   'attributed_value', 'conversion value credited to the channel',
	   'touch_cost', 'cost of all the channel''s touches in the month',
	   'cost_per_acquisition', 'touch_cost / attributed_conversions'],
 $v$WITH touches AS (
	SELECT t.journey_id, t.channel, t.touched_at, c.converted_at, c.value
	FROM %1$I.source_touchpoints t
	JOIN %1$I.source_conversions c USING (journey_id)
	WHERE t.touched_at <= c.converted_at),
shares AS (
	SELECT m.model, t.channel, t.converted_at, t.value,
		@extschema@.attribution_share(m.model) OVER (PARTITION BY m.model, t.journey_id ORDER BY t.touched_at, t.channel) AS share
	FROM touches t
	CROSS JOIN unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'j_curve', 'inverse_j']) AS m(model)
	UNION ALL
	SELECT 'time_decay', channel, converted_at, value,
		@extschema@.attribution_share('time_decay', touched_at, %7$L::interval, converted_at) OVER (PARTITION BY journey_id ORDER BY touched_at, channel)
	FROM touches),
credited AS (
	SELECT date_trunc('month', converted_at)::date AS month, channel, model,
		sum(share) AS attributed_conversions, sum(share * value) AS attributed_value
	FROM shares GROUP BY 1, 2, 3),
costs AS (
	SELECT date_trunc('month', touched_at)::date AS month, channel, sum(cost) AS touch_cost
	FROM %1$I.source_touchpoints GROUP BY 1, 2)
SELECT month, channel, model, attributed_conversions, attributed_value, touch_cost,
	touch_cost / nullif(attributed_conversions, 0) AS cost_per_acquisition
FROM credited LEFT JOIN costs USING (month, channel)$v$),
(15, 'ropo_monthly', '{interactions,orders}',
 'ROPO (research online, purchase offline) per month: share of store purchases preceded by a web or app contact of the same customer within the ROPO window, and the reverse, showrooming: share of online purchases preceded by a store contact',
 ARRAY['month', 'first day of the month of the purchase',
	   'store_purchases', 'orders on a store channel',
	   'researched_online', 'of those, orders preceded by an online contact within the window',
	   'ropo_pct', 'researched_online in percent of store_purchases',
	   'online_purchases', 'orders on an online channel',
	   'showroomed', 'of those, orders preceded by a store contact within the window',
	   'showrooming_pct', 'showroomed in percent of online_purchases'],
 $v$WITH purchases AS (
	SELECT date_trunc('month', o.ordered_at)::date AS month,
		o.channel = ANY (%3$L::text[]) AS in_store,
		EXISTS (SELECT 1 FROM %1$I.source_interactions i
				WHERE i.customer_id = o.customer_id
				  AND i.channel = ANY (CASE WHEN o.channel = ANY (%3$L::text[]) THEN %4$L::text[] ELSE %3$L::text[] END)
				  AND i.occurred_at < o.ordered_at
				  AND i.occurred_at >= o.ordered_at - %2$L::interval) AS preceded
	FROM %1$I.source_orders o
	WHERE o.channel = ANY (%3$L::text[] || %4$L::text[]))
SELECT month,
	count(*) FILTER (WHERE in_store) AS store_purchases,
	count(*) FILTER (WHERE in_store AND preceded) AS researched_online,
	(100.0 * count(*) FILTER (WHERE in_store AND preceded) / nullif(count(*) FILTER (WHERE in_store), 0))::double precision AS ropo_pct,
	count(*) FILTER (WHERE NOT in_store) AS online_purchases,
	count(*) FILTER (WHERE NOT in_store AND preceded) AS showroomed,
	(100.0 * count(*) FILTER (WHERE NOT in_store AND preceded) / nullif(count(*) FILTER (WHERE NOT in_store), 0))::double precision AS showrooming_pct
FROM purchases
GROUP BY month$v$),
(16, 'fulfillment_by_channel_monthly', '{orders}',
 'Fulfillment per purchase channel and month: BOPIS share of orders (fulfillment bopis or click_and_collect), click-to-collect time (ordered to ready for pickup) median and 90th percentile in hours, and pickup wait (ready to collected) median in hours',
 ARRAY['month', 'first day of the month of the order',
	   'channel', 'purchase channel',
	   'orders', 'orders',
	   'bopis_orders', 'orders for pickup in store (bopis or click_and_collect)',
	   'bopis_share_pct', 'bopis_orders in percent of orders',
	   'click_to_collect_median_hours', 'median hours from order to ready for pickup',
	   'click_to_collect_p90_hours', '90th percentile of the hours from order to ready for pickup',
	   'pickup_wait_median_hours', 'median hours from ready to collected'],
 $v$WITH classified AS (
	SELECT date_trunc('month', ordered_at)::date AS month, channel,
		lower(replace(fulfillment, '-', '_')) IN ('bopis', 'click_and_collect') AS bopis,
		extract(epoch FROM ready_at - ordered_at) / 3600 AS ready_hours,
		extract(epoch FROM collected_at - ready_at) / 3600 AS wait_hours
	FROM %1$I.source_orders)
SELECT month, channel, count(*) AS orders,
	count(*) FILTER (WHERE bopis) AS bopis_orders,
	(100.0 * count(*) FILTER (WHERE bopis) / count(*))::double precision AS bopis_share_pct,
	(percentile_cont(0.5) WITHIN GROUP (ORDER BY ready_hours) FILTER (WHERE bopis))::double precision AS click_to_collect_median_hours,
	(percentile_cont(0.9) WITHIN GROUP (ORDER BY ready_hours) FILTER (WHERE bopis))::double precision AS click_to_collect_p90_hours,
	(percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_hours) FILTER (WHERE bopis))::double precision AS pickup_wait_median_hours
FROM classified
GROUP BY 1, 2$v$),
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
 $v$SELECT date_trunc('month', ordered_at)::date AS month, channel,
	count(*) AS orders,
	count(returned_at) AS returns,
	count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) AS cross_channel_returns,
	(100.0 * count(returned_at) / count(*))::double precision AS return_rate_pct,
	(100.0 * count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) / count(*))::double precision AS cross_channel_return_rate_pct,
	(100.0 * count(*) FILTER (WHERE returned_at IS NOT NULL AND return_channel IS DISTINCT FROM channel) / nullif(count(returned_at), 0))::double precision AS cross_channel_share_of_returns_pct
FROM %1$I.source_orders
GROUP BY 1, 2$v$);

-- The CREATE VIEW statement of source_<source>: the user's relation with its
-- columns renamed to omnikpi's names and read as omnikpi's types.  Checks
-- every mapped column first: it must exist and have a usable type.
CREATE FUNCTION omnikpi.source_view_sql(target_schema name, source text,
										relation regclass, mapping jsonb)
	RETURNS text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	wanted record;
	attr record;
	unknown text;
	column_name name;
	select_list text[] := '{}';
BEGIN
	IF mapping IS NOT NULL AND jsonb_typeof(mapping) <> 'object' THEN
		RAISE EXCEPTION 'the column mapping of % must be a JSON object', source
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Map omnikpi''s column names to yours, e.g. {"' || source || '": {"customer_id": "cust_no"}}.';
	END IF;
	SELECT string_agg(format('"%s"', k), ', ') INTO unknown
	FROM jsonb_object_keys(coalesce(mapping, '{}')) AS k
	WHERE NOT EXISTS (SELECT 1 FROM omnikpi.source_columns c
					  WHERE c.source = source_view_sql.source AND c.column_name = k);
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'unknown column % in the mapping of %', unknown, source
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The columns omnikpi reads are listed in omnikpi.source_columns.';
	END IF;

	FOR wanted IN
		SELECT c.column_name AS name, c.kind, c.read_as
		FROM omnikpi.source_columns c
		WHERE c.source = source_view_sql.source
		ORDER BY c.position
	LOOP
		IF mapping ? wanted.name AND jsonb_typeof(mapping -> wanted.name) <> 'string' THEN
			RAISE EXCEPTION 'the mapping of column % of % must be a column name in a JSON string',
				wanted.name, source
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		column_name := coalesce(mapping ->> wanted.name, wanted.name);
		SELECT a.attname, t.typcategory,
			   coalesce(nullif(t.typbasetype, 0), t.oid) AS base_type,
			   format_type(a.atttypid, a.atttypmod) AS type_name
		INTO attr
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = relation AND a.attname = column_name
		  AND a.attnum > 0 AND NOT a.attisdropped;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'column "%" of % does not exist', column_name, relation
				USING ERRCODE = 'undefined_column',
					  DETAIL = format('omnikpi reads it as the %s column %s.', source, wanted.name),
					  HINT = 'Name the right column in the columns mapping, e.g. {"' || source || '": {"' || wanted.name || '": "your_column"}}.';
		END IF;
		IF (wanted.kind = 'time' AND attr.base_type NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype))
		   OR (wanted.kind = 'number' AND attr.typcategory <> 'N')
		   OR (wanted.kind = 'flag' AND attr.base_type <> 'boolean'::regtype) THEN
			RAISE EXCEPTION 'column "%" of % has type %, which cannot be read as the % column %',
				column_name, relation, attr.type_name, source, wanted.name
				USING ERRCODE = 'datatype_mismatch',
					  DETAIL = CASE wanted.kind
						  WHEN 'time' THEN 'It must be a date, timestamp or timestamptz.'
						  WHEN 'number' THEN 'It must be a number.'
						  ELSE 'It must be a boolean.' END;
		END IF;
		select_list := select_list || CASE WHEN wanted.read_as = ''
			THEN format('%I AS %I', column_name, wanted.name)
			ELSE format('%I::%s AS %I', column_name, wanted.read_as, wanted.name) END;
	END LOOP;
	RETURN format('CREATE OR REPLACE VIEW %I.%I WITH (security_invoker = true) AS SELECT %s FROM %s',
				  target_schema, 'source_' || source, array_to_string(select_list, ', '), relation);
END
$fn$;
COMMENT ON FUNCTION omnikpi.source_view_sql(name, text, regclass, jsonb) IS
	'the CREATE VIEW statement of a source view of create_kpi_views, after checking the column mapping';

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
	half_life interval DEFAULT '7 days')
	RETURNS TABLE (view_name name, status text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	given jsonb;
	statements text[] := '{}';
	src text;
	statement text;
	kpi record;
	missing text[];
	i integer;
BEGIN
	IF target_schema IS NULL THEN
		RAISE EXCEPTION 'target_schema must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
		RAISE EXCEPTION 'schema "%" does not exist', target_schema
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'Create it first: CREATE SCHEMA ' || quote_ident(target_schema) || ';';
	END IF;
	IF NOT (rating_scale_min < rating_scale_max) OR rating_scale_min IN ('Infinity', '-Infinity')
	   OR rating_scale_max IN ('Infinity', '-Infinity') THEN
		RAISE EXCEPTION 'invalid rating scale % to %', rating_scale_min, rating_scale_max
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT (ropo_window > interval '0') OR NOT (half_life > interval '0') THEN
		RAISE EXCEPTION 'ropo_window and half_life must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF columns IS NULL OR jsonb_typeof(columns) <> 'object' THEN
		RAISE EXCEPTION 'columns must be a JSON object keyed by source'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"interactions": {"customer_id": "cust_no"}}.';
	END IF;

	given := jsonb_strip_nulls(jsonb_build_object(
		'interactions', interactions::text, 'orders', orders::text,
		'touchpoints', touchpoints::text, 'conversions', conversions::text));
	IF given = '{}' THEN
		RAISE EXCEPTION 'no source relation given'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass at least one of interactions, orders, touchpoints and conversions.';
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_object_keys(columns) k
			   WHERE k NOT IN ('interactions', 'orders', 'touchpoints', 'conversions')) THEN
		RAISE EXCEPTION 'columns names an unknown source'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The sources are interactions, orders, touchpoints and conversions.';
	END IF;

	-- Check every mapping before creating anything.
	FOR src IN SELECT jsonb_object_keys(given) LOOP
		statements := statements || omnikpi.source_view_sql(target_schema, src,
			CASE src WHEN 'interactions' THEN interactions WHEN 'orders' THEN orders
				 WHEN 'touchpoints' THEN touchpoints ELSE conversions END,
			columns -> src);
	END LOOP;
	FOREACH statement IN ARRAY statements LOOP
		EXECUTE statement;
	END LOOP;
	FOR src IN SELECT jsonb_object_keys(given) LOOP
		EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, 'source_' || src,
					   format('%s as omnikpi reads them, from %s (omnikpi)', src, given ->> src));
		FOR kpi IN SELECT c.column_name, c.description FROM omnikpi.source_columns c WHERE c.source = src LOOP
			EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', target_schema, 'source_' || src,
						   kpi.column_name, kpi.description);
		END LOOP;
		view_name := 'source_' || src;
		status := 'created';
		RETURN NEXT;
	END LOOP;

	FOR kpi IN SELECT * FROM omnikpi.kpi_views v ORDER BY v.position LOOP
		SELECT array_agg(s ORDER BY s) INTO missing
		FROM unnest(kpi.sources) s WHERE NOT given ? s;
		view_name := kpi.view_name;
		IF missing IS NOT NULL THEN
			status := 'skipped: needs ' || array_to_string(missing, ' and ');
			RAISE NOTICE 'view %.% not created: it needs %', target_schema, kpi.view_name,
				array_to_string(missing, ' and ');
			RETURN NEXT;
			CONTINUE;
		END IF;
		EXECUTE format('CREATE OR REPLACE VIEW %I.%I WITH (security_invoker = true) AS ',
					   target_schema, kpi.view_name)
			|| format(kpi.definition, target_schema, ropo_window, store_channels, online_channels,
					  rating_scale_min, rating_scale_max, half_life);
		EXECUTE format('COMMENT ON VIEW %I.%I IS %L', target_schema, kpi.view_name,
					   kpi.description || ' (omnikpi)');
		FOR i IN 1 .. array_length(kpi.column_comments, 1) BY 2 LOOP
			EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', target_schema, kpi.view_name,
						   kpi.column_comments[i], kpi.column_comments[i + 1]);
		END LOOP;
		status := 'created';
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.create_kpi_views(name, regclass, regclass, regclass, regclass, jsonb,
											 double precision, double precision, interval, text[], text[], interval) IS
	'creates (or replaces) the KPI views over the given source relations in target_schema, and says which views were skipped for want of a source';

CREATE FUNCTION omnikpi.drop_kpi_views(target_schema name)
	RETURNS TABLE (view_name name)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	victim name;
BEGIN
	-- KPI views first (they read the source views), latest first; only views
	-- that create_kpi_views made, as their comment says.
	FOR victim IN
		SELECT c.relname
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN omnikpi.kpi_views v ON v.view_name = c.relname
		WHERE n.nspname = target_schema AND c.relkind = 'v'
		  AND (v.view_name IS NOT NULL
			   OR c.relname IN ('source_interactions', 'source_orders', 'source_touchpoints', 'source_conversions'))
		  AND obj_description(c.oid, 'pg_class') LIKE '% (omnikpi)'
		ORDER BY v.position DESC NULLS LAST
	LOOP
		EXECUTE format('DROP VIEW %I.%I', target_schema, victim);
		view_name := victim;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION omnikpi.drop_kpi_views(name) IS
	'drops the views create_kpi_views made in target_schema, and nothing else';
