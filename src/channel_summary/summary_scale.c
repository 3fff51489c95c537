/*
 * summary_scale.c: the checks of values and scales shared by the aggregates
 * and the accessors, so that a value outside its scale raises the same error
 * whether it arrives row by row or inside a stored summary.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "channel_summary/channel_summary.h"


/* The noun used in messages for a value of this measure. */
static const char *
measure_noun(SummaryMeasure measure)
{
	return measure == MEASURE_RATING ? "rating" : "score";
}

/* A scale given as arguments: both bounds finite and min < max, or 22023. */
SummaryScale
omnikpi_rating_scale_arg(double scale_min, double scale_max)
{
	SummaryScale scale;
	const char *problem = omnikpi_scale_invalid(scale_min, scale_max);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid rating scale %s to %s",
						float8out_internal(scale_min), float8out_internal(scale_max)),
				 errdetail("%s", problem)));
	scale.known = true;
	scale.min = scale_min;
	scale.max = scale_max;
	return scale;
}

/*
 * The error of check_value_in_scale, out of line to keep the check cheap.
 * A scale given as arguments is validated on a state's first row; a value
 * that comes first reports an invalid scale here.
 */
void
omnikpi_report_value_outside_scale(double value, const SummaryScale *scale, SummaryMeasure measure)
{
	(void) omnikpi_rating_scale_arg(scale->min, scale->max);
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s %s is outside the scale %s to %s",
					measure_noun(measure), float8out_internal(value),
					float8out_internal(scale->min), float8out_internal(scale->max)),
			 measure == MEASURE_RATING ?
			 errhint("Pass the survey's scale, e.g. omni_experience_rating(channel, rating, 0, 10).") : 0));
}

/* A value of an unscaled summary must still be a number: 22003. */
void
omnikpi_check_value_finite(double value)
{
	if (!isfinite(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s cannot be summarized", float8out_internal(value)),
				 errdetail("Channel summaries hold finite numbers only.")));
}
