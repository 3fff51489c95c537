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
