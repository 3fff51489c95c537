/*
 * summary_moving.c: moving-aggregate mode of omni_experience_rating and
 * omni_integration_index, so that a sliding window frame costs O(1) per row
 * instead of re-aggregating the whole frame.
 *
 * The moving state is a working state kept private in the window's
 * aggregate context and passed as internal: it never leaves the WindowAgg
 * node, and the context is reset when the frame restarts.  Removing a row
 * subtracts its value from the channel's compensated sum; a channel whose
 * count drops to zero stops counting in the KPI.  The inverse function
 * returns NULL, which makes PostgreSQL recompute the frame from scratch,
 * when some sum could no longer be kept exactly (its values span more than
 * about 106 bits), so a moving result always equals the plain aggregate
 * over the same frame.  min and max are not kept up to date here: the KPI
 * does not read them, and this state is never output.
 */
#include "postgres.h"

#include "channel_summary/channel_summary.h"

/*
 * The moving state: the body moves when it grows, this holder does not.
 * Created under the window's aggregate context on the first row: msfunc
 * must never return NULL, even when that row is skipped.
 */
typedef struct MovingSummary
{
	StateRef	ref;
} MovingSummary;

static MovingSummary *
moving_state(FunctionCallInfo fcinfo, SummaryScale scale)
{
	MemoryContext aggcxt = omnikpi_aggregate_context(fcinfo);
	MovingSummary *moving;
	SummaryScale have;

	if (PG_ARGISNULL(0))
	{
		moving = MemoryContextAlloc(aggcxt, sizeof(MovingSummary));
		omnikpi_summary_state_new_private(&moving->ref, aggcxt, scale, true);
		return moving;
	}
	moving = (MovingSummary *) PG_GETARG_POINTER(0);
	have = summary_state_scale(moving->ref.body);
	if (!summary_scales_equal(have, scale))
		omnikpi_report_scale_mismatch(have, scale);
	return moving;
}

/*
 * One moving step of a row: skip it when the channel or the value is NULL,
 * else check the value against the scale (on the way in) and add it, or
 * remove it.  A removal that cannot be exact returns NULL, which asks
 * PostgreSQL to restart the frame.  The value is argument 2, a float8, or a
 * boolean counted as 1 or 0 on the scale 0 to 1 when is_flag.
 */
static Datum
moving_step(FunctionCallInfo fcinfo, SummaryScale scale, SummaryMeasure measure,
			bool is_flag, bool remove)
{
	MovingSummary *moving = moving_state(fcinfo, scale);
	const char *name;
	int			len;
	KeyProbe	channel;
	double		value;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(moving);
	name = omnikpi_text_arg(PG_GETARG_DATUM(1), &len);
	key_probe_init(&channel, name, len);
	if (is_flag)
		value = PG_GETARG_BOOL(2) ? 1.0 : 0.0;
	else
		value = PG_GETARG_FLOAT8(2);
	if (remove)
	{
		if (!omnikpi_summary_state_remove(&moving->ref, &channel, value))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(moving);
	}
	check_value_in_scale(value, &scale, measure);
	omnikpi_summary_state_add(&moving->ref, &channel, value);
	PG_RETURN_POINTER(moving);
}

/* A scale given as the 4th and 5th arguments of the scaled rating. */
static SummaryScale
scale_args(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rating scale bounds must not be NULL")));
	return omnikpi_rating_scale_arg(PG_GETARG_FLOAT8(3), PG_GETARG_FLOAT8(4));
}

/* omnikpi_rating_mtrans: moving transition of omni_experience_rating(channel, rating). */
PG_FUNCTION_INFO_V1(omnikpi_rating_mtrans);
Datum
omnikpi_rating_mtrans(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_rating_default_scale, MEASURE_RATING, false, false);
}

/* omnikpi_rating_minv: inverse of omnikpi_rating_mtrans. */
PG_FUNCTION_INFO_V1(omnikpi_rating_minv);
Datum
omnikpi_rating_minv(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_rating_default_scale, MEASURE_RATING, false, true);
}

/* omnikpi_rating_scaled_mtrans: moving transition of the scaled rating. */
PG_FUNCTION_INFO_V1(omnikpi_rating_scaled_mtrans);
Datum
omnikpi_rating_scaled_mtrans(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, scale_args(fcinfo), MEASURE_RATING, false, false);
}

/* omnikpi_rating_scaled_minv: inverse of omnikpi_rating_scaled_mtrans. */
PG_FUNCTION_INFO_V1(omnikpi_rating_scaled_minv);
Datum
omnikpi_rating_scaled_minv(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, scale_args(fcinfo), MEASURE_RATING, false, true);
}

/* omnikpi_score_mtrans: moving transition of omni_integration_index(channel, score). */
PG_FUNCTION_INFO_V1(omnikpi_score_mtrans);
Datum
omnikpi_score_mtrans(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_score_scale, MEASURE_SCORE, false, false);
}

/* omnikpi_score_minv: inverse of omnikpi_score_mtrans. */
PG_FUNCTION_INFO_V1(omnikpi_score_minv);
Datum
omnikpi_score_minv(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_score_scale, MEASURE_SCORE, false, true);
}

/* omnikpi_flag_mtrans: moving transition of omni_integration_index(channel, integrated). */
PG_FUNCTION_INFO_V1(omnikpi_flag_mtrans);
Datum
omnikpi_flag_mtrans(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_flag_scale, MEASURE_SCORE, true, false);
}

/* omnikpi_flag_minv: inverse of omnikpi_flag_mtrans. */
PG_FUNCTION_INFO_V1(omnikpi_flag_minv);
Datum
omnikpi_flag_minv(PG_FUNCTION_ARGS)
{
	return moving_step(fcinfo, omnikpi_flag_scale, MEASURE_SCORE, true, true);
}

/*
 * omnikpi_moving_kpi_final: the KPI of the current frame; channels whose
 * rows have all left the frame do not count.  Read-only.
 */
PG_FUNCTION_INFO_V1(omnikpi_moving_kpi_final);
Datum
omnikpi_moving_kpi_final(PG_FUNCTION_ARGS)
{
	MovingSummary *moving;
	double		result;
	bool		isnull;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	moving = (MovingSummary *) PG_GETARG_POINTER(0);
	result = omnikpi_summary_state_kpi(moving->ref.body, summary_state_scale(moving->ref.body),
									   &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(result);
}
