/*
 * journey_paths_aggregates.c: the journey_paths aggregates -- one row per
 * journey, or per counted path, and rollup.
 *
 * The state is the journey_paths type itself (a working state of
 * common/aggregate_state.h while it works), so parallel workers and Citus
 * ship partial summaries as plain values.  The transition functions are not
 * STRICT: rows with a NULL path or outcome are skipped, and the first
 * journey with a channel creates the state; later rows update it in place.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "common/journey_input.h"
#include "journey_paths/journey_paths.h"

/* Steps of a path read on the stack; longer paths take a palloc. */
#define PATH_STACK_STEPS	64

/*
 * Add one path (argument 1) with its counts to the state, collapsing
 * consecutive repeats and skipping NULL channels.  A path without channels
 * is skipped.  The channel lookups and the path lookup are probes of the
 * state's tables: nothing is added for a path seen before.
 */
static Datum
add_path(FunctionCallInfo fcinfo, const PathStats *stats)
{
	ArrayType  *path = omnikpi_path_arg(fcinfo, 1);
	int32		stack_steps[PATH_STACK_STEPS];
	int32	   *steps = stack_steps;
	int32		len = 0;
	PathWalk	walk;
	StateRef	ref;

	if (!omnikpi_state_of_arg(&ref, fcinfo, 0, &omnikpi_jp_family))
	{
		/* a journey without channels leaves a group without journeys NULL */
		if (!omnikpi_path_has_channel(path))
			return omnikpi_state_unchanged(fcinfo);
		omnikpi_state_writable(&ref, fcinfo, &omnikpi_jp_family);
	}
	omnikpi_path_walk_start(&walk, path);
	if (walk.nitems > PATH_STACK_STEPS)
		steps = palloc_extended(walk.nitems * sizeof(int32), MCXT_ALLOC_HUGE);
	while (walk.i < walk.nitems)
	{
		const text *element = omnikpi_path_walk_next(&walk);
		int32		channel;

		if (element == NULL)
			continue;
		channel = omnikpi_jp_state_channel(&ref, VARDATA_ANY(element), VARSIZE_ANY_EXHDR(element));
		if (len > 0 && steps[len - 1] == channel)
			continue;
		steps[len++] = channel;
	}
	if (len > 0)
		omnikpi_jp_state_add(&ref, steps, len, stats, false);
	return omnikpi_state_value(&ref);
}

/* A conversion value must be finite: 22003. */
static void
check_value(double value)
{
	if (unlikely(!isfinite(value)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("conversion value %s is not a finite number", float8out_internal(value))));
}

/*
 * omnikpi_jp_trans: journey_paths(path, converted), one row per journey.
 * Rows with a NULL path or a NULL converted are skipped: a journey whose
 * outcome is unknown teaches nothing.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_trans);
Datum
omnikpi_jp_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats = {0, 0, 0};

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_GETARG_BOOL(2))
		stats.conversions = 1;
	else
		stats.non_conversions = 1;
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_value_trans: journey_paths(path, converted, value).  The value
 * of a converted journey adds to its path's value (NULL adds nothing, as in
 * sum()); that of a journey that did not convert is ignored.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_value_trans);
Datum
omnikpi_jp_value_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats = {0, 0, 0};

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_GETARG_BOOL(2))
	{
		stats.conversions = 1;
		if (!PG_ARGISNULL(3))
		{
			stats.value = PG_GETARG_FLOAT8(3);
			check_value(stats.value);
		}
	}
	else
		stats.non_conversions = 1;
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_counted_trans: journey_paths(path, conversions, non_conversions,
 * value) for paths already counted (fractribution's input shape).  Counts
 * are finite and at least 0; a NULL path or count skips the row, a NULL
 * value adds nothing, and a row with both counts 0 adds nothing.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_counted_trans);
Datum
omnikpi_jp_counted_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		return omnikpi_state_unchanged(fcinfo);
	stats.conversions = PG_GETARG_FLOAT8(2);
	stats.non_conversions = PG_GETARG_FLOAT8(3);
	stats.value = PG_ARGISNULL(4) ? 0.0 : PG_GETARG_FLOAT8(4);
	if (!isfinite(stats.conversions) || !isfinite(stats.non_conversions))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("journey counts %s and %s must be finite",
						float8out_internal(stats.conversions),
						float8out_internal(stats.non_conversions))));
	if (stats.conversions < 0 || stats.non_conversions < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("journey counts %s and %s must not be negative",
						float8out_internal(stats.conversions),
						float8out_internal(stats.non_conversions))));
	check_value(stats.value);
	if (stats.conversions == 0 && stats.value != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conversion value %s given for a path without conversions",
						float8out_internal(stats.value))));
	if (stats.conversions == 0 && stats.non_conversions == 0)
		return omnikpi_state_unchanged(fcinfo);
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_combine: merge the second summary into the first; the combine
 * function of every journey_paths aggregate and the transition function of
 * rollup(journey_paths).  NULLs are skipped.  Counts and values of equal
 * paths add, so merging is exact up to one rounding per added value, and
 * commutative.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_combine);
Datum
omnikpi_jp_combine(PG_FUNCTION_ARGS)
{
	return omnikpi_state_combine(fcinfo, &omnikpi_jp_family);
}

/*
 * omnikpi_jp_final: the final function of the journey_paths aggregates and
 * rollup(): the stored, canonical form.  Read-only; no rows gives NULL.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_final);
Datum
omnikpi_jp_final(PG_FUNCTION_ARGS)
{
	return omnikpi_state_final(fcinfo, &omnikpi_jp_family);
}
