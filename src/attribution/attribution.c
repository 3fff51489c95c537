/*
 * attribution.c: the attribution_share window functions.
 *
 * Each returns the current touchpoint's share of its journey's conversion
 * credit; a journey is a window partition and the shares of a partition sum
 * to 1.  The functions are thin: they read their arguments, keep the
 * journey's shares in partition-local memory and leave the arithmetic to
 * attribution_weights.c.  Everything that depends on the whole journey (its
 * touch count, its parameters, for time decay its latest touch and total
 * weight) is computed once, on the partition's first row, so a partition of
 * n touches costs O(n) in all.
 *
 * None of them sets a mark (WinSetMarkPosition), though no earlier row is
 * read again: each spools its whole partition on the first row, for the row
 * count, so the partition's memory peaks there whatever the mark does, and
 * moving the mark on every row costs two read-pointer switches and skips in
 * the tuplestore, more than the rest of a position model's work per row.
 *
 * Positions are row positions in the window's ORDER BY, as row_number()
 * numbers them: peers (ties) get different positions, so add a tiebreaker
 * column to make the result deterministic.  The frame clause is ignored, as
 * ntile() ignores it.
 *
 * The model and its parameters must be the same on every row of a
 * partition.  An argument that is a constant or an external parameter is
 * read once per partition; any other is read on every row and compared with
 * the partition's first row, and a change is an error (different spellings
 * of one model, 'Linear' and 'linear', are no change).  A NULL model or
 * parameter gives NULL shares, as a strict function would (STRICT itself has
 * no effect on window functions), and the other parameters are then not
 * validated; only a non-NULL model name is always checked, since a wrong
 * name is a mistake in the query rather than in the data.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/timestamp.h"
#include "windowapi.h"

#include "attribution/attribution_weights.h"

/* Argument numbers of the time-decay forms. */
#define DECAY_ARG_MODEL			0
#define DECAY_ARG_TOUCHED_AT	1
#define DECAY_ARG_HALF_LIFE		2
#define DECAY_ARG_CONVERTED_AT	3

/* SQL names of the custom weights, in argument order. */
static const char *const weight_arg_names[ATTRIBUTION_NWEIGHTS] =
{
	"first_weight", "middle_weight", "last_weight"
};

/* Partition state of attribution_share(model). */
typedef struct ModelPartition
{
	bool		ready;			/* false on the first row of each partition */
	bool		model_stable;	/* the model is read once per partition */
	bool		model_isnull;	/* first row's model, to detect a change */
	AttributionModel model;
	int64		ntouches;		/* valid unless model_isnull */
	AttributionShares shares;	/* valid unless model_isnull */
} ModelPartition;

/*
 * Partition state of attribution_share(first_weight, middle_weight,
 * last_weight).
 */
typedef struct WeightedPartition
{
	bool		ready;			/* false on the first row of each partition */
	bool		isnull;			/* a NULL weight: every share is NULL */
	bool		stable[ATTRIBUTION_NWEIGHTS];	/* read once per partition */
	/* the first row's weights, to detect a change */
	bool		weight_isnull[ATTRIBUTION_NWEIGHTS];
	double		weights[ATTRIBUTION_NWEIGHTS];
	int64		ntouches;		/* valid unless isnull */
	AttributionShares shares;	/* valid unless isnull */
} WeightedPartition;

/* Partition state of attribution_share('time_decay', touched_at, ...). */
typedef struct DecayPartition
{
	bool		ready;			/* false on the first row of each partition */
	bool		isnull;			/* NULL model, half_life or converted_at */
	bool		has_conversion; /* the 4-argument form */
	bool		model_stable;
	bool		half_life_stable;
	bool		converted_stable;
	/* the first row's parameters, to detect a change */
	bool		model_isnull;
	AttributionModel model;
	bool		half_life_isnull;
	Interval	half_life;
	double		half_life_usecs;
	bool		converted_isnull;
	TimestampTz converted_at;
	/* the journey, valid unless isnull */
	TimestampTz latest;			/* latest touched_at: its weight is 1 */
	double		total;			/* sum of the weights, >= 1 */
	AttributionDecayTouch *touches; /* per position, its weight (DecayBuffer) */
} DecayPartition;

/*
 * The touches of the current time-decay journey, in fn_extra: one array for
 * the whole query, reused by every partition and grown to the longest
 * journey, so a query over many short journeys allocates once.
 */
typedef struct DecayBuffer
{
	int64		capacity;
	AttributionDecayTouch *touches;
} DecayBuffer;

#ifdef USE_ASSERT_CHECKING
/*
 * Invariants of a journey's position shares: each in [0, 1], summing to 1
 * (the middle share counts ntouches - 2 times; one touch is first and last).
 * Only the assert_*_valid functions below call it.
 */
static void
assert_shares_valid(const AttributionShares *shares, int64 ntouches)
{
	Assert(ntouches >= 1);
	Assert(shares->first >= 0.0 && shares->first <= 1.0);
	Assert(shares->middle >= 0.0 && shares->middle <= 1.0);
	Assert(shares->last >= 0.0 && shares->last <= 1.0);
	if (ntouches == 1)
		Assert(shares->first == 1.0);
	else
		Assert(fabs(shares->first + shares->middle * (double) (ntouches - 2) +
					shares->last - 1.0) < 1e-12);
}
#endif

static void
assert_model_partition_valid(const ModelPartition *part)
{
#ifdef USE_ASSERT_CHECKING
	Assert(part->ready);
	if (!part->model_isnull)
	{
		Assert(part->model != ATTRIBUTION_TIME_DECAY);
		assert_shares_valid(&part->shares, part->ntouches);
	}
#endif
}

static void
assert_weighted_partition_valid(const WeightedPartition *part)
{
#ifdef USE_ASSERT_CHECKING
	int			i;

	Assert(part->ready);
	for (i = 0; i < ATTRIBUTION_NWEIGHTS; i++)
		Assert(!part->weight_isnull[i] || part->isnull);
	if (!part->isnull)
		assert_shares_valid(&part->shares, part->ntouches);
#endif
}

static void
assert_decay_partition_valid(const DecayPartition *part)
{
#ifdef USE_ASSERT_CHECKING
	Assert(part->ready);
	if (!part->isnull)
	{
		Assert(part->model == ATTRIBUTION_TIME_DECAY);
		Assert(part->half_life_usecs > 0.0);
		Assert(!TIMESTAMP_NOT_FINITE(part->latest));
		Assert(!part->has_conversion || part->latest <= part->converted_at);
		Assert(part->total >= 1.0 && !isinf(part->total));
		Assert(part->touches != NULL);
	}
#endif
}

/*
 * Values for messages: in double quotes, or NULL.  They are only called on
 * the way to an error, so their allocations do not matter.
 */
static const char *
quoted_model(bool isnull, AttributionModel model)
{
	if (isnull)
		return "NULL";
	return psprintf("\"%s\"", omnikpi_attribution_model_name(model));
}

static const char *
quoted_interval(bool isnull, const Interval *iv)
{
	if (isnull)
		return "NULL";
	return psprintf("\"%s\"",
					DatumGetCString(DirectFunctionCall1(interval_out,
														IntervalPGetDatum(iv))));
}

static const char *
quoted_timestamptz(bool isnull, TimestampTz t)
{
	if (isnull)
		return "NULL";
	return psprintf("\"%s\"",
					DatumGetCString(DirectFunctionCall1(timestamptz_out,
														TimestampTzGetDatum(t))));
}

/*
 * A parameter that must hold for the whole journey differs from the
 * partition's first row.  Reported with both values, since a change usually
 * means the PARTITION BY is coarser than intended.
 */
static void
report_parameter_change(const char *what, const char *first,
						const char *current)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s changed within a partition", what),
			 errdetail("The partition's first row has %s and the current row has %s.",
					   first, current),
			 errhint("Pass one value for the whole journey, or add it to PARTITION BY.")));
}

/*
 * Reads the model of the current row.  Returns false for NULL.  An unknown
 * name is an error whose hint lists every model, so a typo is fixed at once.
 */
static bool
model_arg(WindowObject winobj, int argno, AttributionModel *model)
{
	bool		isnull;
	Datum		datum;
	text	   *name;

	datum = WinGetFuncArgCurrent(winobj, argno, &isnull);
	if (isnull)
		return false;
	name = DatumGetTextPP(datum);
	if (!omnikpi_attribution_model_parse(VARDATA_ANY(name),
										 VARSIZE_ANY_EXHDR(name), model))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown attribution model \"%s\"", text_to_cstring(name)),
				 errhint("Valid models are " ATTRIBUTION_MODEL_LIST ".")));
	return true;
}

/* Errors out if the current row's model differs from the partition's. */
static void
check_model_unchanged(WindowObject winobj, int argno, bool first_isnull,
					  AttributionModel first_model)
{
	AttributionModel model = first_model;
	bool		isnull;

	isnull = !model_arg(winobj, argno, &model);
	if (isnull != first_isnull || (!isnull && model != first_model))
		report_parameter_change("attribution model",
								quoted_model(first_isnull, first_model),
								quoted_model(isnull, model));
}

/*
 * omnikpi_attribution_share: attribution_share(model text), the share of the
 * current touch under a position model (first_touch, last_touch, linear,
 * position_based alias u_shaped, j_curve, inverse_j).  It needs only the
 * touch's position and the journey's touch count, so the shares are
 * computed once per partition and each row just picks its own; the result
 * does not depend on the frame.  time_decay needs the touch times and is
 * rejected here with a hint naming the form that takes them.
 */
PG_FUNCTION_INFO_V1(omnikpi_attribution_share);
Datum
omnikpi_attribution_share(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	ModelPartition *part;
	int64		pos = WinGetCurrentPosition(winobj);

	part = (ModelPartition *) WinGetPartitionLocalMemory(winobj,
														 sizeof(ModelPartition));
	if (!part->ready)
	{
		part->model_stable = get_fn_expr_arg_stable(fcinfo->flinfo, 0);
		part->model_isnull = !model_arg(winobj, 0, &part->model);
		if (!part->model_isnull)
		{
			if (part->model == ATTRIBUTION_TIME_DECAY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("attribution model \"time_decay\" needs the touch times"),
						 errhint("Use attribution_share('time_decay', touched_at [, half_life [, converted_at]]).")));
			part->ntouches = WinGetPartitionRowCount(winobj);
			if (!omnikpi_attribution_model_shares(part->model, part->ntouches,
												  &part->shares))
				elog(ERROR, "no position shares for attribution model %d",
					 (int) part->model);
		}
		part->ready = true;
		assert_model_partition_valid(part);
	}
	else if (!part->model_stable)
		check_model_unchanged(winobj, 0, part->model_isnull, part->model);

	if (part->model_isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(attribution_share_at(&part->shares, pos, part->ntouches));
}

/* The weights as "(a, b, c)", NULLs included, for the detail of a change. */
static const char *
weights_text(const bool *isnull, const double *weights)
{
	const char *shown[ATTRIBUTION_NWEIGHTS];
	int			i;

	for (i = 0; i < ATTRIBUTION_NWEIGHTS; i++)
		shown[i] = isnull[i] ? "NULL" : float8out_internal(weights[i]);
	return psprintf("(%s, %s, %s)", shown[0], shown[1], shown[2]);
}

/* Validates custom weights that are all non-NULL; errors name the weight. */
static void
check_weights(const double *weights)
{
	int			bad;

	switch (omnikpi_attribution_weights_check(weights, &bad))
	{
		case ATTRIBUTION_WEIGHTS_OK:
			break;
		case ATTRIBUTION_WEIGHTS_NOT_FINITE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attribution weight %s is %s", weight_arg_names[bad],
							float8out_internal(weights[bad])),
					 errdetail("Attribution weights must be finite.")));
			break;
		case ATTRIBUTION_WEIGHTS_NEGATIVE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attribution weight %s is negative: %s",
							weight_arg_names[bad],
							float8out_internal(weights[bad])),
					 errdetail("Attribution weights must be zero or positive.")));
			break;
		case ATTRIBUTION_WEIGHTS_ALL_ZERO:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attribution weights are all zero"),
					 errhint("Give at least one of first_weight, middle_weight and last_weight a positive value.")));
			break;
	}
}

/*
 * omnikpi_attribution_share_weighted: attribution_share(first_weight,
 * middle_weight, last_weight), the share of the current touch under custom
 * position weights.  The weights are normalized to sum to 1 and the middle
 * weight is split equally over the middle touches; a two-touch journey ignores
 * the middle weight and renormalizes first and last, splitting 50/50 when both
 * are zero (see omnikpi_attribution_custom_shares).  Like the model form, the
 * shares are computed once per partition and the frame is ignored.  Negative,
 * NaN, infinite or all-zero weights are an error; a NULL weight gives NULL
 * shares.
 */
PG_FUNCTION_INFO_V1(omnikpi_attribution_share_weighted);
Datum
omnikpi_attribution_share_weighted(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	WeightedPartition *part;
	int64		pos = WinGetCurrentPosition(winobj);
	int			i;

	part = (WeightedPartition *) WinGetPartitionLocalMemory(winobj,
															sizeof(WeightedPartition));
	if (!part->ready)
	{
		for (i = 0; i < ATTRIBUTION_NWEIGHTS; i++)
		{
			Datum		datum;
			bool		isnull;

			part->stable[i] = get_fn_expr_arg_stable(fcinfo->flinfo, i);
			datum = WinGetFuncArgCurrent(winobj, i, &isnull);
			part->weight_isnull[i] = isnull;
			part->weights[i] = isnull ? 0.0 : DatumGetFloat8(datum);
			if (isnull)
				part->isnull = true;
		}
		if (!part->isnull)
		{
			check_weights(part->weights);
			part->ntouches = WinGetPartitionRowCount(winobj);
			omnikpi_attribution_custom_shares(part->weights, part->ntouches,
											  &part->shares);
		}
		part->ready = true;
		assert_weighted_partition_valid(part);
	}
	else
	{
		for (i = 0; i < ATTRIBUTION_NWEIGHTS; i++)
		{
			Datum		datum;
			bool		isnull;
			double		weight;

			if (part->stable[i])
				continue;
			datum = WinGetFuncArgCurrent(winobj, i, &isnull);
			weight = isnull ? 0.0 : DatumGetFloat8(datum);
			/* NaN equals NaN here: the same NaN on every row is no change */
			if (isnull != part->weight_isnull[i] ||
				(!isnull && weight != part->weights[i] &&
				 !(isnan(weight) && isnan(part->weights[i]))))
			{
				bool		now_isnull[ATTRIBUTION_NWEIGHTS];
				double		now_weights[ATTRIBUTION_NWEIGHTS];

				memcpy(now_isnull, part->weight_isnull, sizeof(now_isnull));
				memcpy(now_weights, part->weights, sizeof(now_weights));
				now_isnull[i] = isnull;
				now_weights[i] = weight;
				report_parameter_change("attribution weights",
										weights_text(part->weight_isnull,
													 part->weights),
										weights_text(now_isnull, now_weights));
			}
		}
	}

	if (part->isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(attribution_share_at(&part->shares, pos, part->ntouches));
}

/* An infinite touched_at or converted_at is an error: it has no decay. */
static void
check_finite_time(const char *argname, TimestampTz t)
{
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is not a finite time", argname,
						quoted_timestamptz(false, t))));
}

/*
 * Reads the current row's model, half_life and converted_at into part (the
 * first row) or checks them against it (later rows, non-stable arguments).
 */
static void
decay_parameters(WindowObject winobj, DecayPartition *part, bool first_row)
{
	Datum		datum;
	bool		isnull;

	if (first_row)
	{
		part->model_isnull = !model_arg(winobj, DECAY_ARG_MODEL, &part->model);

		datum = WinGetFuncArgCurrent(winobj, DECAY_ARG_HALF_LIFE, &isnull);
		part->half_life_isnull = isnull;
		if (!isnull)
		{
			part->half_life = *DatumGetIntervalP(datum);
			part->half_life_usecs =
				omnikpi_attribution_half_life_usecs(&part->half_life);
		}

		part->converted_isnull = true;
		if (part->has_conversion)
		{
			datum = WinGetFuncArgCurrent(winobj, DECAY_ARG_CONVERTED_AT,
										 &isnull);
			part->converted_isnull = isnull;
			if (!isnull)
				part->converted_at = DatumGetTimestampTz(datum);
		}
		return;
	}

	if (!part->model_stable)
		check_model_unchanged(winobj, DECAY_ARG_MODEL, part->model_isnull,
							  part->model);

	if (!part->half_life_stable)
	{
		Interval   *half_life = NULL;

		datum = WinGetFuncArgCurrent(winobj, DECAY_ARG_HALF_LIFE, &isnull);
		if (!isnull)
			half_life = DatumGetIntervalP(datum);
		/* equal durations ('1 day', '24 hours') decay alike: no change */
		if (isnull != part->half_life_isnull ||
			(!isnull && omnikpi_attribution_half_life_usecs(half_life) !=
			 part->half_life_usecs))
			report_parameter_change("half_life",
									quoted_interval(part->half_life_isnull,
													&part->half_life),
									quoted_interval(isnull, half_life));
	}

	if (part->has_conversion && !part->converted_stable)
	{
		TimestampTz converted_at = 0;

		datum = WinGetFuncArgCurrent(winobj, DECAY_ARG_CONVERTED_AT, &isnull);
		if (!isnull)
			converted_at = DatumGetTimestampTz(datum);
		if (isnull != part->converted_isnull ||
			(!isnull && converted_at != part->converted_at))
			report_parameter_change("converted_at",
									quoted_timestamptz(part->converted_isnull,
													   part->converted_at),
									quoted_timestamptz(isnull, converted_at));
	}
}

/* An array for ntouches touches, from the query's DecayBuffer. */
static AttributionDecayTouch *
decay_buffer(FmgrInfo *flinfo, int64 ntouches)
{
	DecayBuffer *buffer = (DecayBuffer *) flinfo->fn_extra;

	if (buffer == NULL)
	{
		buffer = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(DecayBuffer));
		flinfo->fn_extra = buffer;
	}
	if (buffer->capacity < ntouches)
	{
		int64		capacity = Max(ntouches, 2 * buffer->capacity);

		if (buffer->touches != NULL)
			pfree(buffer->touches);
		buffer->touches = MemoryContextAllocHuge(flinfo->fn_mcxt,
												 (Size) capacity * sizeof(AttributionDecayTouch));
		buffer->capacity = capacity;
	}
	return buffer->touches;
}

/*
 * Validates the journey's touch times and computes every touch's weight, its
 * latest touch and its total weight.  The partition is read once, on its
 * first row, into the query's DecayBuffer; each row then only divides its
 * weight by the total.  (Reading touched_at again and computing its weight on
 * every row was almost a fifth of the function's extra work over row_number()
 * on journeys of 50 touches, by callgrind's count.)
 */
static void
decay_scan_partition(WindowObject winobj, FmgrInfo *flinfo, DecayPartition *part)
{
	int64		ntouches = WinGetPartitionRowCount(winobj);
	AttributionDecayTouch *touches = decay_buffer(flinfo, ntouches);
	TimestampTz latest = DT_NOBEGIN;
	int64		i;

	for (i = 0; i < ntouches; i++)
	{
		Datum		datum;
		bool		isnull;
		bool		isout;
		TimestampTz touched;

		datum = WinGetFuncArgInPartition(winobj, DECAY_ARG_TOUCHED_AT, i,
										 WINDOW_SEEK_HEAD, false,
										 &isnull, &isout);
		if (isout)
			elog(ERROR, "touch %lld is outside its partition of %lld rows",
				 (long long) i, (long long) ntouches);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("touched_at cannot be NULL in a time-decay attribution"),
					 errhint("Leave out the touches without a time, e.g. WHERE touched_at IS NOT NULL.")));
		touched = DatumGetTimestampTz(datum);
		check_finite_time("touched_at", touched);
		if (part->has_conversion && touched > part->converted_at)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("touch at %s is after the conversion at %s",
							quoted_timestamptz(false, touched),
							quoted_timestamptz(false, part->converted_at)),
					 errhint("Attribute only the touches up to the conversion, e.g. WHERE touched_at <= converted_at.")));
		touches[i].touched = touched;
		if (touched > latest)
			latest = touched;
	}
	part->touches = touches;
	part->latest = latest;
	part->total = omnikpi_attribution_decay_weights(touches, ntouches, latest,
													part->half_life_usecs);
}

/*
 * omnikpi_attribution_share_decay: attribution_share('time_decay', touched_at,
 * half_life [, converted_at]), the time-decay share of the current touch.  A
 * touch's weight halves every half_life before the conversion:
 * 2^(-(converted_at - touched_at) / half_life), normalized over the journey.
 * The 3-argument form (half_life defaults to 7 days) takes the journey's
 * latest touch as the conversion time; the 4-argument form takes converted_at,
 * and a NULL converted_at means the journey did not convert, so its rows get
 * NULL (and its touch times are not checked).
 *
 * Normalization cancels converted_at, so the weights are computed relative to
 * the latest touch (see omnikpi_attribution_decay_weights) and converted_at
 * only serves to reject touches after the conversion.  Every touch's weight
 * and the journey's total are computed once per partition, on its first row;
 * each row then costs one division.  The shares depend on the touch times,
 * not on positions, so neither the ORDER BY nor the frame changes them.
 *
 * half_life must be positive (a month counts 30 days); touched_at must be
 * non-NULL and finite on every row of a journey that has a result.
 */
PG_FUNCTION_INFO_V1(omnikpi_attribution_share_decay);
Datum
omnikpi_attribution_share_decay(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	DecayPartition *part;
	int64		pos = WinGetCurrentPosition(winobj);

	part = (DecayPartition *) WinGetPartitionLocalMemory(winobj,
														 sizeof(DecayPartition));
	if (!part->ready)
	{
		FmgrInfo   *flinfo = fcinfo->flinfo;

		/* the planner inserts the default half_life: 3 or 4 arguments */
		part->has_conversion = (PG_NARGS() > DECAY_ARG_CONVERTED_AT);
		part->model_stable = get_fn_expr_arg_stable(flinfo, DECAY_ARG_MODEL);
		part->half_life_stable = get_fn_expr_arg_stable(flinfo,
														DECAY_ARG_HALF_LIFE);
		part->converted_stable = part->has_conversion &&
			get_fn_expr_arg_stable(flinfo, DECAY_ARG_CONVERTED_AT);
		decay_parameters(winobj, part, true);

		if (!part->model_isnull && part->model != ATTRIBUTION_TIME_DECAY)
		{
			/* name the model as the caller spelled it */
			bool		isnull;
			char	   *name;

			name = TextDatumGetCString(WinGetFuncArgCurrent(winobj, DECAY_ARG_MODEL,
															&isnull));

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attribution model \"%s\" does not take touch times", name),
					 errhint("Use attribution_share('%s') for a position model; touched_at, half_life and converted_at are for time_decay only.",
							 name)));
		}

		part->isnull = part->model_isnull || part->half_life_isnull ||
			(part->has_conversion && part->converted_isnull);
		if (!part->isnull)
		{
			if (!(part->half_life_usecs > 0.0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("half_life %s is not positive",
								quoted_interval(false, &part->half_life)),
						 errhint("Pass a positive interval such as '7 days'.")));
			if (part->has_conversion)
				check_finite_time("converted_at", part->converted_at);
			decay_scan_partition(winobj, flinfo, part);
		}
		part->ready = true;
		assert_decay_partition_valid(part);
	}
	else
		decay_parameters(winobj, part, false);

	if (part->isnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(part->touches[pos].weight / part->total);
}
