/*
 * attribution_weights.h: the arithmetic of multi-touch attribution.
 *
 * Everything declared here is pure computation: no memory allocation, no
 * error reporting, no catalog access.  The window functions in attribution.c
 * validate their arguments with these helpers and turn the outcome into
 * errors; a unit test or a fuzzer can link attribution_weights.c on its own
 * (with libm) and call them directly.  Include "postgres.h" first.
 */
#ifndef ATTRIBUTION_WEIGHTS_H
#define ATTRIBUTION_WEIGHTS_H

#include "datatype/timestamp.h"

/* The models attribution_share() knows; u_shaped parses as position_based. */
typedef enum AttributionModel
{
	ATTRIBUTION_FIRST_TOUCH,
	ATTRIBUTION_LAST_TOUCH,
	ATTRIBUTION_LINEAR,
	ATTRIBUTION_POSITION_BASED,
	ATTRIBUTION_J_CURVE,
	ATTRIBUTION_INVERSE_J,
	ATTRIBUTION_TIME_DECAY
} AttributionModel;

/*
 * The hint of an unknown model: every name omnikpi_attribution_model_parse()
 * accepts, aliases included, so the user can copy one.
 */
#define ATTRIBUTION_MODEL_LIST \
	"first_touch, last_touch, linear, position_based, u_shaped, j_curve, inverse_j and time_decay"

/*
 * Custom position weights as the caller passed them, in argument order of
 * attribution_share(first_weight, middle_weight, last_weight).
 */
#define ATTRIBUTION_WEIGHT_FIRST	0
#define ATTRIBUTION_WEIGHT_MIDDLE	1
#define ATTRIBUTION_WEIGHT_LAST		2
#define ATTRIBUTION_NWEIGHTS		3

/* Outcome of omnikpi_attribution_weights_check(). */
typedef enum AttributionWeightsCheck
{
	ATTRIBUTION_WEIGHTS_OK,
	ATTRIBUTION_WEIGHTS_NOT_FINITE, /* NaN or infinite */
	ATTRIBUTION_WEIGHTS_NEGATIVE,
	ATTRIBUTION_WEIGHTS_ALL_ZERO
} AttributionWeightsCheck;

/*
 * The shares of a journey of n touches under a position model or custom
 * weights.  Every share depends only on the touch's position and on n, and
 * all middle touches get the same share, so three numbers, computed once per
 * partition, describe the whole journey.  When n = 1 the single touch is both
 * first and last, and both fields are 1.
 */
typedef struct AttributionShares
{
	double		first;			/* share of the first touch */
	double		middle;			/* share of each touch strictly between */
	double		last;			/* share of the last touch */
} AttributionShares;

/*
 * A compensated (Neumaier) running sum: a time-decay total over a partition
 * of a million touches stays exact to a few ulps, so that the shares still
 * sum to 1 within 1e-12.
 */
typedef struct AttributionSum
{
	double		sum;
	double		compensation;
} AttributionSum;

/*
 * One touch of a time-decay journey: its time while the journey is read, then
 * its weight (omnikpi_attribution_decay_weights overwrites one with the
 * other, so a journey of n touches needs one array of n).
 */
typedef union AttributionDecayTouch
{
	TimestampTz touched;
	double		weight;
} AttributionDecayTouch;

extern bool omnikpi_attribution_model_parse(const char *name, size_t len,
											AttributionModel *model);
extern const char *omnikpi_attribution_model_name(AttributionModel model);
extern bool omnikpi_attribution_model_shares(AttributionModel model,
											 int64 ntouches,
											 AttributionShares *shares);

extern AttributionWeightsCheck omnikpi_attribution_weights_check(const double *weights,
																 int *bad_index);
extern void omnikpi_attribution_custom_shares(const double *weights,
											  int64 ntouches,
											  AttributionShares *shares);

extern double omnikpi_attribution_half_life_usecs(const Interval *half_life);
extern double omnikpi_attribution_decay_weights(AttributionDecayTouch *touches,
												int64 ntouches, TimestampTz latest,
												double half_life_usecs);

/*
 * Share of the touch at 0-based position pos among ntouches, given the
 * journey's shares.  Inline: it runs once per row.
 */
static inline double
attribution_share_at(const AttributionShares *shares, int64 pos, int64 ntouches)
{
	if (pos == 0)
		return shares->first;
	if (pos == ntouches - 1)
		return shares->last;
	return shares->middle;
}

#endif							/* ATTRIBUTION_WEIGHTS_H */
