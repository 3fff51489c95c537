/*
 * attribution_weights.c: the arithmetic of multi-touch attribution.
 *
 * Model names, position shares, custom weights and time-decay weights, with
 * no server calls (no palloc, no ereport), so that this file can be unit-
 * tested and fuzzed outside PostgreSQL.  Callers validate with the *_check
 * and *_parse functions first and report errors themselves.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"

#include "attribution/attribution_weights.h"

/*
 * Accepted model names, lowercase, with their lengths (parsing runs once per
 * partition, and journeys are often a handful of rows); u_shaped is an alias
 * of position_based.
 */
#define MODEL_NAME(name, model) {name, sizeof(name) - 1, model}

static const struct
{
	const char *name;
	size_t		len;
	AttributionModel model;
}			model_names[] =
{
	MODEL_NAME("first_touch", ATTRIBUTION_FIRST_TOUCH),
	MODEL_NAME("last_touch", ATTRIBUTION_LAST_TOUCH),
	MODEL_NAME("linear", ATTRIBUTION_LINEAR),
	MODEL_NAME("position_based", ATTRIBUTION_POSITION_BASED),
	MODEL_NAME("u_shaped", ATTRIBUTION_POSITION_BASED),
	MODEL_NAME("j_curve", ATTRIBUTION_J_CURVE),
	MODEL_NAME("inverse_j", ATTRIBUTION_INVERSE_J),
	MODEL_NAME("time_decay", ATTRIBUTION_TIME_DECAY),
};

/*
 * Position weights of the built-in models: first, all middle touches
 * together and last when n >= 3, first and last when n = 2.  These are the
 * conventions of Adobe Attribution IQ, Google Ads and Snowplow.  Linear is
 * not in the table: its middle total depends on n.
 */
typedef struct PositionModel
{
	AttributionModel model;
	double		first;
	double		middle;
	double		last;
	double		first_of_two;
	double		last_of_two;
} PositionModel;

static const PositionModel position_models[] =
{
	{ATTRIBUTION_FIRST_TOUCH, 1.0, 0.0, 0.0, 1.0, 0.0},
	{ATTRIBUTION_LAST_TOUCH, 0.0, 0.0, 1.0, 0.0, 1.0},
	{ATTRIBUTION_POSITION_BASED, 0.4, 0.2, 0.4, 0.5, 0.5},
	{ATTRIBUTION_J_CURVE, 0.2, 0.2, 0.6, 0.25, 0.75},
	{ATTRIBUTION_INVERSE_J, 0.6, 0.2, 0.2, 0.75, 0.25},
};

/*
 * omnikpi_attribution_model_parse: the model called name (len bytes, not
 * NUL-terminated: it comes straight from a text datum).  Case-insensitive
 * in ASCII, as date_trunc's units are, so 'Linear' works; the folding does
 * not depend on the locale, so the same name parses the same everywhere.
 * Returns false for an unknown name.
 */
bool
omnikpi_attribution_model_parse(const char *name, size_t len,
								AttributionModel *model)
{
	size_t		i;

	for (i = 0; i < lengthof(model_names); i++)
	{
		const char *candidate = model_names[i].name;
		size_t		k;

		if (model_names[i].len != len)
			continue;
		for (k = 0; k < len; k++)
		{
			char		c = name[k];

			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (c != candidate[k])
				break;
		}
		if (k == len)
		{
			*model = model_names[i].model;
			return true;
		}
	}
	return false;
}

/*
 * omnikpi_attribution_model_name: the canonical (lowercase, non-alias) name,
 * for messages.
 */
const char *
omnikpi_attribution_model_name(AttributionModel model)
{
	switch (model)
	{
		case ATTRIBUTION_FIRST_TOUCH:
			return "first_touch";
		case ATTRIBUTION_LAST_TOUCH:
			return "last_touch";
		case ATTRIBUTION_LINEAR:
			return "linear";
		case ATTRIBUTION_POSITION_BASED:
			return "position_based";
		case ATTRIBUTION_J_CURVE:
			return "j_curve";
		case ATTRIBUTION_INVERSE_J:
			return "inverse_j";
		case ATTRIBUTION_TIME_DECAY:
			return "time_decay";
	}
	return "unknown";
}

/*
 * omnikpi_attribution_model_shares: the shares of a journey of ntouches (>= 1)
 * touches under a position model.  Returns false for time_decay, whose
 * shares depend on the touch times rather than on positions.
 */
bool
omnikpi_attribution_model_shares(AttributionModel model, int64 ntouches,
								 AttributionShares *shares)
{
	size_t		i;

	if (model == ATTRIBUTION_TIME_DECAY)
		return false;

	/* every model gives all the credit to a single-touch journey */
	if (ntouches <= 1)
	{
		shares->first = 1.0;
		shares->middle = 0.0;
		shares->last = 1.0;
		return true;
	}

	if (model == ATTRIBUTION_LINEAR)
	{
		shares->first = shares->middle = shares->last = 1.0 / (double) ntouches;
		return true;
	}

	for (i = 0; i < lengthof(position_models); i++)
	{
		const PositionModel *pm = &position_models[i];

		if (pm->model != model)
			continue;
		if (ntouches == 2)
		{
			shares->first = pm->first_of_two;
			shares->middle = 0.0;
			shares->last = pm->last_of_two;
		}
		else
		{
			shares->first = pm->first;
			shares->middle = pm->middle / (double) (ntouches - 2);
			shares->last = pm->last;
		}
		return true;
	}
	return false;
}

/*
 * omnikpi_attribution_weights_check: whether custom weights (first, middle,
 * last) can be normalized.  Each must be finite and not negative, and one must
 * be positive.  On failure *bad_index is the first offending weight's index
 * (ATTRIBUTION_WEIGHT_*), or -1 when they are all zero.
 */
AttributionWeightsCheck
omnikpi_attribution_weights_check(const double *weights, int *bad_index)
{
	int			i;
	bool		any_positive = false;

	*bad_index = -1;
	for (i = 0; i < ATTRIBUTION_NWEIGHTS; i++)
	{
		if (isnan(weights[i]) || isinf(weights[i]))
		{
			*bad_index = i;
			return ATTRIBUTION_WEIGHTS_NOT_FINITE;
		}
		if (weights[i] < 0.0)
		{
			*bad_index = i;
			return ATTRIBUTION_WEIGHTS_NEGATIVE;
		}
		if (weights[i] > 0.0)
			any_positive = true;
	}
	return any_positive ? ATTRIBUTION_WEIGHTS_OK : ATTRIBUTION_WEIGHTS_ALL_ZERO;
}

/*
 * omnikpi_attribution_custom_shares: the shares of a journey of ntouches (>=
 * 1) touches under custom weights that passed the check of
 * omnikpi_attribution_weights_check().
 *
 * The weights are normalized to sum to 1 and the middle weight is split
 * equally over the middle touches.  A journey of two touches has no middle, so
 * the middle weight is ignored and first and last are renormalized; if they
 * are both zero (all the weight was on a middle that does not exist), the two
 * touches share the credit 50/50, as linear would, rather than giving no
 * credit at all.
 *
 * The weights are first divided by the largest, so that weights near DBL_MAX
 * do not overflow their sum and tiny ones do not underflow.
 */
void
omnikpi_attribution_custom_shares(const double *weights, int64 ntouches,
								  AttributionShares *shares)
{
	double		scale;
	double		first;
	double		middle;
	double		last;
	double		total;

	if (ntouches <= 1)
	{
		shares->first = 1.0;
		shares->middle = 0.0;
		shares->last = 1.0;
		return;
	}

	scale = Max(Max(weights[ATTRIBUTION_WEIGHT_FIRST],
					weights[ATTRIBUTION_WEIGHT_MIDDLE]),
				weights[ATTRIBUTION_WEIGHT_LAST]);
	first = weights[ATTRIBUTION_WEIGHT_FIRST] / scale;
	middle = weights[ATTRIBUTION_WEIGHT_MIDDLE] / scale;
	last = weights[ATTRIBUTION_WEIGHT_LAST] / scale;

	if (ntouches == 2)
	{
		total = first + last;
		shares->middle = 0.0;
		if (total == 0.0)
		{
			shares->first = 0.5;
			shares->last = 0.5;
		}
		else
		{
			shares->first = first / total;
			shares->last = last / total;
		}
		return;
	}

	total = first + middle + last;
	shares->first = first / total;
	shares->middle = middle / total / (double) (ntouches - 2);
	shares->last = last / total;
}

/*
 * omnikpi_attribution_half_life_usecs: a half-life in microseconds, counting a
 * month as 30 days and a day as 24 hours (as interval comparison does).
 * Computed in double: the largest intervals (178 million years) overflow
 * int64.
 */
double
omnikpi_attribution_half_life_usecs(const Interval *half_life)
{
	return (double) half_life->month * (DAYS_PER_MONTH * (double) USECS_PER_DAY) +
		(double) half_life->day * (double) USECS_PER_DAY +
		(double) half_life->time;
}

/*
 * How far later is after earlier, in microseconds.  Exact in int64 except
 * between the extremes of the timestamp range, where the difference
 * overflows; there the difference in double is precise enough, since it
 * only decides weights that are 0 anyway.
 */
static double
time_difference_usecs(TimestampTz later, TimestampTz earlier)
{
	int64		difference;

	if (pg_sub_s64_overflow(later, earlier, &difference))
		return (double) later - (double) earlier;
	return (double) difference;
}

/*
 * decay_weight: 2^(-(latest - touched) / half_life) for a touch at or
 * before latest.  Weights are taken relative to the journey's
 * latest touch rather than to the conversion: normalization cancels the
 * conversion time, and this way the latest touch weighs 1, so the journey's
 * total is at least 1 and cannot underflow to zero however long ago the
 * touches were.
 */
static double
decay_weight(TimestampTz latest, TimestampTz touched, double half_life_usecs)
{
	return exp2(-time_difference_usecs(latest, touched) / half_life_usecs);
}

/*
 * Neumaier summation: adds value to a running sum, keeping the low-order
 * bits that plain addition would round away.
 */
static void
sum_add(AttributionSum *acc, double value)
{
	double		t = acc->sum + value;

	if (fabs(acc->sum) >= fabs(value))
		acc->compensation += (acc->sum - t) + value;
	else
		acc->compensation += (value - t) + acc->sum;
	acc->sum = t;
}

/*
 * omnikpi_attribution_decay_weights: replaces the touch times of a journey of
 * ntouches (>= 1) touches, latest being the latest of them, by their weights
 * 2^(-(latest - touched) / half_life), and returns the journey's total weight.
 *
 * Relative to the latest touch every weight is at most 1 and the latest
 * weighs exactly 1, so the total is at least 1 however long ago the touches
 * were; touches hundreds of half-lives before the latest underflow to 0, as
 * their shares would.  The total is a compensated sum, so the shares of a
 * journey of a million touches still sum to 1 within 1e-12, and the rounded
 * total is clamped at 1, so that no share comes out above 1.  Storing the
 * weights costs 8 bytes a touch and saves computing each weight twice.
 */
double
omnikpi_attribution_decay_weights(AttributionDecayTouch *touches, int64 ntouches,
								  TimestampTz latest, double half_life_usecs)
{
	AttributionSum total = {0.0, 0.0};
	int64		i;

	for (i = 0; i < ntouches; i++)
	{
		double		weight = decay_weight(latest,
															  touches[i].touched,
															  half_life_usecs);

		touches[i].weight = weight;
		sum_add(&total, weight);
	}
	return Max(total.sum + total.compensation, 1.0);
}
