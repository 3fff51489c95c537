/*
 * summary_aggregates.c: transition, combine and final functions of
 * omni_experience_rating, omni_integration_index, channel_summary and rollup.
 *
 * Every one of them keeps its state in the channel_summary type (an expanded
 * SummaryState while it works), so Citus can split them into worker partials
 * and parallel workers hand their partial states over as plain values.  The
 * transition functions are not STRICT: a row with a NULL channel or value is
 * skipped, and the first usable row creates the state in the aggregate
 * context; later rows update it in place and return the same pointer, which
 * the executor keeps without copying.
 */
#include "postgres.h"

#include "channel_summary/channel_summary.h"
#include "common/aggregate_support.h"

/*
 * The state to update in place: ours when the executor passes our read-write
 * state, else a new one under aggcxt holding a copy of what was passed (a
 * flat value from a parallel worker, or a read-only one from a partial
 * aggregate of a partition).
 */
static SummaryState *
writable_state(NullableDatum state, MemoryContext aggcxt, SummaryScale scale)
{
	SummaryState *writable;

	if (state.isnull)
		return omnikpi_summary_state_create(aggcxt, scale);
	writable = summary_state_if_writable(state.value);
	if (writable == NULL)
		writable = omnikpi_summary_state_from_datum(state.value, aggcxt);
	summary_state_check_scale(writable, scale);
	return writable;
}

/*
 * One row of a transition function whose value is argument 2 (a float8, or
 * a boolean counted as 1 or 0 when is_flag): skipped when the channel or the
 * value is NULL, else checked against scale and added to the state, which is
 * created in the aggregate context on the first row.  Without a scale the
 * value only has to be finite.
 */
static Datum
transition(FunctionCallInfo fcinfo, SummaryScale scale, SummaryMeasure measure,
		   bool is_flag)
{
	SummaryState *state;
	const text *channel;
	double		value;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (is_flag)
		value = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	else
		value = PG_GETARG_FLOAT8(2);
	if (scale.known)
		check_value_in_scale(value, scale, measure);
	else
		omnikpi_check_value_finite(value);
	channel = PG_GETARG_TEXT_PP(1);
	/*
	 * Every row after the first finds its own read-write state and needs no
	 * aggregate context; creating or copying a state asks for it, which is
	 * where a call outside an aggregate fails.
	 */
	state = PG_ARGISNULL(0) ? NULL : summary_state_if_writable(PG_GETARG_DATUM(0));
	if (state != NULL)
		summary_state_check_scale(state, scale);
	else
		state = writable_state(fcinfo->args[0], omnikpi_aggregate_context(fcinfo), scale);
	omnikpi_summary_state_add(state, VARDATA_ANY(channel), VARSIZE_ANY_EXHDR(channel), value);
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

/*
 * omnikpi_rating_trans: omni_experience_rating(channel, rating) on the
 * default scale 1 to 5; a rating outside it is an error, not skipped.
 */
PG_FUNCTION_INFO_V1(omnikpi_rating_trans);
Datum
omnikpi_rating_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, omnikpi_rating_default_scale, MEASURE_RATING, false);
}

/*
 * omnikpi_rating_scaled_trans: omni_experience_rating(channel, rating,
 * scale_min, scale_max).  The scale is recorded in the state, so the final
 * function can normalize and a scale that changes between rows is caught.
 */
PG_FUNCTION_INFO_V1(omnikpi_rating_scaled_trans);
Datum
omnikpi_rating_scaled_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rating scale bounds must not be NULL")));
	return transition(fcinfo, omnikpi_rating_scale_arg(PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4)),
					  MEASURE_RATING, false);
}

/* omnikpi_score_trans: omni_integration_index(channel, score), scores 0 to 100. */
PG_FUNCTION_INFO_V1(omnikpi_score_trans);
Datum
omnikpi_score_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, omnikpi_score_scale, MEASURE_SCORE, false);
}

/*
 * omnikpi_summary_flag_trans: channel_summary(channel, flag) and
 * omni_integration_index(channel, integrated).  A flag is the value 1 or 0
 * on the scale 0 to 1, so a channel's mean is its share of true rows.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_flag_trans);
Datum
omnikpi_summary_flag_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, omnikpi_flag_scale, MEASURE_SCORE, true);
}

/*
 * omnikpi_summary_value_trans: channel_summary(channel, value), any finite
 * value and no scale: the scale is chosen when the summary is read.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_value_trans);
Datum
omnikpi_summary_value_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, omnikpi_no_scale, MEASURE_RATING, false);
}

/*
 * omnikpi_summary_combine: merge the second summary into the first; both
 * the combine function of every aggregate here and the transition function
 * of rollup().  NULLs are skipped.  Merging adds counts and sums and takes
 * min and max, so it is exact up to the rounding of one addition per merged
 * channel, and commutative.  Summaries on different scales are rejected.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_combine);
Datum
omnikpi_summary_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = omnikpi_aggregate_context(fcinfo);
	ChannelSummary *other;
	SummaryState *writable;

	if (PG_ARGISNULL(1))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(EOHPGetRWDatum(&omnikpi_summary_state_from_datum(PG_GETARG_DATUM(1),
																		 aggcxt)->hdr));
	other = PG_GETARG_CHANNEL_SUMMARY_P(1);
	writable = writable_state(fcinfo->args[0], aggcxt, omnikpi_summary_scale(other));
	omnikpi_summary_state_merge_flat(writable, other);
	PG_RETURN_DATUM(EOHPGetRWDatum(&writable->hdr));
}

/*
 * omnikpi_kpi_final: the final function of both KPI aggregates: the mean
 * over channels of each channel's mean in percent of the state's scale.  It
 * only reads the state (under OVER it runs once per row); no rows gives NULL.
 */
PG_FUNCTION_INFO_V1(omnikpi_kpi_final);
Datum
omnikpi_kpi_final(PG_FUNCTION_ARGS)
{
	Datum		state;
	double		result;
	bool		isnull;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = PG_GETARG_DATUM(0);
	if (omnikpi_summary_state_is_ours(state))
	{
		SummaryState *working = omnikpi_summary_state_from_expanded(state);
		SummaryScale scale = working->scale.known ? working->scale : omnikpi_rating_default_scale;

		result = omnikpi_summary_kpi_percent(working->stats, working->sum_low,
											 working->nchannels, scale.min, scale.max,
											 &isnull);
	}
	else
	{
		ChannelSummary *flat = DatumGetChannelSummaryP(state);

		result = omnikpi_summary_measure_kpi(SUMMARY_STATS(flat), flat->nchannels,
											 omnikpi_summary_scale(flat), MEASURE_RATING, &isnull);
	}
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(result);
}
