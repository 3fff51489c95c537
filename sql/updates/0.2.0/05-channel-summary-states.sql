
-- ---------------------------------------------------------------------------
-- The channel_summary aggregates on 0.2.0's working states (one allocation
-- per group, no memory context of its own): channel_summary() and rollup()
-- get a final function that writes the stored form, and every aggregate
-- declares SSPACE, the size of a state of about four channels, so that the
-- planner's estimate of a hash aggregation's memory is honest.  CREATE OR
-- REPLACE keeps the aggregates' identity, so views that use them stay.
-- ---------------------------------------------------------------------------

CREATE FUNCTION omnikpi_summary_final(channel_summary) RETURNS channel_summary
	AS 'MODULE_PATHNAME', 'omnikpi_summary_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE AGGREGATE omni_experience_rating(channel text, rating double precision) (
	SFUNC = omnikpi_rating_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_mtrans, MINVFUNC = omnikpi_rating_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE omni_experience_rating(channel text, rating double precision,
												   scale_min double precision,
												   scale_max double precision) (
	SFUNC = omnikpi_rating_scaled_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_rating_scaled_mtrans, MINVFUNC = omnikpi_rating_scaled_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE omni_integration_index(channel text, score double precision) (
	SFUNC = omnikpi_score_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_score_mtrans, MINVFUNC = omnikpi_score_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE omni_integration_index(channel text, integrated boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_kpi_final, COMBINEFUNC = omnikpi_summary_combine,
	MSFUNC = omnikpi_flag_mtrans, MINVFUNC = omnikpi_flag_minv,
	MSTYPE = internal, MFINALFUNC = omnikpi_moving_kpi_final,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE channel_summary(channel text, value double precision) (
	SFUNC = omnikpi_summary_value_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE channel_summary(channel text, flag boolean) (
	SFUNC = omnikpi_summary_flag_trans, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);

CREATE OR REPLACE AGGREGATE rollup(channel_summary) (
	SFUNC = omnikpi_summary_combine, STYPE = channel_summary, SSPACE = 512,
	FINALFUNC = omnikpi_summary_final, COMBINEFUNC = omnikpi_summary_combine,
	PARALLEL = SAFE);
