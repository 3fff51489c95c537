/*
 * summary_aggregates.c: transition, combine and final functions of
 * omni_experience_rating, omni_integration_index, channel_summary and rollup.
 *
 * Every one of them keeps its state in the channel_summary type (a working
 * state of common/aggregate_state.h while it works), so Citus can split them
 * into worker partials and parallel workers hand their partial states over
 * as plain values.  The transition functions are not STRICT: a row with a
 * NULL channel or value is skipped, and the first usable row creates the
 * state; later rows update it in place and return the same pointer, which
 * the executor keeps without copying.
 *
 * The per-row path is written for the KPI aggregates' budget, that of
 * avg(value), count(channel): inlined into each transition function with
 * its scale a constant; the channel read without a call when its text has
 * a short header; its name found by its tag, four channels' at a time, and
 * compared as words (no hash while a state has up to 16 channels); its
 * tally updated in place, the sum's overflow checked only where the scale
 * allows one; anything else -- a new channel, a new state, a state on
 * another scale -- left to the slow path.
 */
#include "postgres.h"

#include "channel_summary/channel_summary.h"

/*
 * Everything but the common row: create or copy the state, check its scale,
 * add a channel, grow.
 */
static pg_noinline Datum
transition_slow(FunctionCallInfo fcinfo, const SummaryScale *scale, const char *name, int len,
				double value)
{
	StateRef	ref;
	KeyProbe	channel;

	if (scale->known)
		(void) omnikpi_rating_scale_arg(scale->min, scale->max);
	omnikpi_state_writable(&ref, fcinfo, &omnikpi_summary_family, false);
	if (PG_ARGISNULL(0))
		summary_set_scale(ref.body, *scale);
	else if (!summary_state_on_scale(ref.body, *scale))
		omnikpi_report_scale_mismatch(summary_state_scale(ref.body), *scale);
	key_probe_init(&channel, name, len);
	omnikpi_summary_state_add(&ref, &channel, value);
	return omnikpi_state_value(&ref);
}

/*
 * One row of a transition function whose value is argument 2 (a float8, or
 * a boolean counted as 1 or 0 when is_flag): skipped when the channel or the
 * value is NULL, else checked against scale and added to the state.
 * Without a scale the value only has to be finite.  Inlined into each
 * transition function with its scale a constant, and the channel's words
 * kept in registers: the slow path gets the name, not the probe.
 */
static pg_attribute_always_inline Datum
transition(FunctionCallInfo fcinfo, const SummaryScale *scale, SummaryMeasure measure,
		   bool is_flag)
{
	const char *name;
	int			len;
	KeyProbe	channel;
	double		value;
	StateBody  *body;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	/*
	 * A flag is 1 or 0, always on its scale: 1.0's bits or none, by a mask.
	 * The compiler makes a choice of two constants a branch, which flags in
	 * random order send the wrong way on many rows.
	 */
	if (is_flag)
	{
		uint64		bits = ((uint64) 0 - (uint64) PG_GETARG_BOOL(2)) &
			UINT64CONST(0x3FF0000000000000);

		memcpy(&value, &bits, sizeof(value));
	}
	else if (scale->known)
	{
		value = PG_GETARG_FLOAT8(2);
		check_value_in_scale(value, scale, measure);
	}
	else
	{
		value = PG_GETARG_FLOAT8(2);
		omnikpi_check_value_finite(value);
	}
	name = omnikpi_text_arg(PG_GETARG_DATUM(1), &len);
	key_probe_init(&channel, name, len);

	/*
	 * The common row: a state of ours on this scale that has the channel.
	 * It needs no aggregate context; creating or copying a state asks for
	 * it, which is where a call outside an aggregate fails.
	 */
	omnikpi_state_prefetch_arg(fcinfo, 0);
	body = PG_ARGISNULL(0) ? NULL :
		omnikpi_state_body_of(PG_GETARG_DATUM(0), &omnikpi_summary_family, SUMMARY_FAMILY_ID);
	if (likely(body != NULL) && likely(summary_state_on_scale(body, *scale)))
	{
		KeyTable   *channels;
		int32		i;

		omnikpi_state_prefetch_row(fcinfo, body);
		channels = summary_channels(body);
		i = key_table_find_tagged(channels, &channel);

		if (likely(i >= 0))
		{
			channel_tally_add(summary_tally(channels, i), value, &channel, scale, is_flag);
			PG_RETURN_DATUM(PG_GETARG_DATUM(0));
		}
	}
	return transition_slow(fcinfo, scale, channel.key, channel.len, value);
}

/*
 * omnikpi_rating_trans: omni_experience_rating(channel, rating) on the
 * default scale 1 to 5; a rating outside it is an error, not skipped.
 */
PG_FUNCTION_INFO_V1(omnikpi_rating_trans);
Datum
omnikpi_rating_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, &omnikpi_rating_default_scale, MEASURE_RATING, false);
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
	SummaryScale scale;

	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rating scale bounds must not be NULL")));
	/* validated where it matters: a new state, or a value outside it */
	scale.known = true;
	scale.min = PG_GETARG_FLOAT8(3);
	scale.max = PG_GETARG_FLOAT8(4);
	return transition(fcinfo, &scale, MEASURE_RATING, false);
}

/* omnikpi_score_trans: omni_integration_index(channel, score), scores 0 to 100. */
PG_FUNCTION_INFO_V1(omnikpi_score_trans);
Datum
omnikpi_score_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, &omnikpi_score_scale, MEASURE_SCORE, false);
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
	return transition(fcinfo, &omnikpi_flag_scale, MEASURE_SCORE, true);
}

/*
 * omnikpi_summary_value_trans: channel_summary(channel, value), any finite
 * value and no scale: the scale is chosen when the summary is read.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_value_trans);
Datum
omnikpi_summary_value_trans(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, &omnikpi_no_scale, MEASURE_RATING, false);
}

/*
 * omnikpi_summary_combine: merge the second summary into the first; both
 * the combine function of every aggregate here and the transition function
 * of rollup().  NULLs are skipped.  Merging adds counts and sums and takes
 * min and max, so it is exact up to the rounding of one addition per merged
 * channel, and commutative.  Summaries on different scales are rejected, and
 * a count that would pass the largest bigint is 22003.
 *
 * omnikpi_summary_final: the final function of channel_summary() and
 * rollup(): the stored form, channels in byte order.  It only reads the
 * state; no rows gives NULL.
 */
OMNIKPI_STATE_SUPPORT_FUNCTIONS(omnikpi_summary_combine, omnikpi_summary_final,
								omnikpi_summary_family)

/*
 * omnikpi_kpi_final: the final function of both KPI aggregates: the mean
 * over channels of each channel's mean in percent of the state's scale.  It
 * only reads the state (under OVER it runs once per row); no rows gives NULL.
 */
PG_FUNCTION_INFO_V1(omnikpi_kpi_final);
Datum
omnikpi_kpi_final(PG_FUNCTION_ARGS)
{
	const StateBody *body;
	double		result;
	bool		isnull;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	body = omnikpi_state_body(PG_GETARG_DATUM(0), &omnikpi_summary_family);
	if (body != NULL)
	{
		SummaryScale scale = summary_state_scale(body);

		result = omnikpi_summary_state_kpi(body, scale.known ? scale : omnikpi_rating_default_scale,
										   &isnull);
	}
	else
	{
		ChannelSummary *flat = PG_GETARG_CHANNEL_SUMMARY_P(0);

		result = omnikpi_summary_measure_kpi(SUMMARY_STATS(flat), flat->h.nchannels,
											 omnikpi_summary_scale(flat), MEASURE_RATING, &isnull);
	}
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(result);
}
