/*
 * journey_input.c: the rows of the journey aggregates, read by one set of
 * rules for markov_model and journey_paths (see journey_input.h).
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "common/journey_input.h"

/* A count or value argument: finite and not negative, else 22003. */
static double
amount_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	double		amount = PG_GETARG_FLOAT8(argno);

	if (unlikely(!(amount >= 0) || !isfinite(amount)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range", what, float8out_internal(amount)),
				 errdetail("Journey counts and conversion values must be finite and not negative.")));
	return amount;
}

/*
 * The journeys of a row of the given shape, arguments from 1 on; false when
 * the row is skipped.  The rules are in journey_input.h.
 */
bool
omnikpi_journey_row(FunctionCallInfo fcinfo, JourneyShape shape, JourneyRow *row)
{
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return false;
	row->value = 0.0;
	if (shape == JOURNEY_COUNTED)
	{
		if (PG_ARGISNULL(3))
			return false;
		row->conversions = amount_arg(fcinfo, 2, "conversion count");
		row->non_conversions = amount_arg(fcinfo, 3, "non-conversion count");
		if (!PG_ARGISNULL(4))
			row->value = amount_arg(fcinfo, 4, "conversion value");
		if (row->conversions == 0 && row->value != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("conversion value %s given for a path without conversions",
							float8out_internal(row->value))));
		if (row->conversions + row->non_conversions == 0)
			return false;
	}
	else if (PG_GETARG_BOOL(2))
	{
		row->conversions = 1.0;
		row->non_conversions = 0.0;
		if (shape == JOURNEY_ONE_VALUED && !PG_ARGISNULL(3))
			row->value = amount_arg(fcinfo, 3, "conversion value");
	}
	else
	{
		row->conversions = 0.0;
		row->non_conversions = 1.0;
	}
	row->path = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(row->path) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a journey path must be a one-dimensional array, not %d-dimensional",
						ARR_NDIM(row->path)),
				 errhint("Pass the journey's channels in time order, e.g. array_agg(channel ORDER BY touched_at).")));
	return true;
}

void
omnikpi_path_walk_start(PathWalk *walk, ArrayType *path)
{
	Size		offset = ARR_HASNULL(path) ? (Size) path->dataoffset :
		ARR_OVERHEAD_NONULLS(ARR_NDIM(path));

	walk->next = (const char *) path + offset;
	walk->nulls = ARR_NULLBITMAP(path);
	walk->nitems = ArrayGetNItems(ARR_NDIM(path), ARR_DIMS(path));
	walk->i = 0;
}

/* Does the path have a channel, an element that is not NULL? */
bool
omnikpi_path_has_channel(ArrayType *path)
{
	PathWalk	walk;

	omnikpi_path_walk_start(&walk, path);
	while (walk.i < walk.nitems)
		if (omnikpi_path_walk_next(&walk) != NULL)
			return true;
	return false;
}

/* Room for capacity touches: on the stack up to JOURNEY_STACK_TOUCHES. */
static void
touches_init(JourneyTouches *touches, int32 capacity)
{
	touches->n = 0;
	if (capacity <= JOURNEY_STACK_TOUCHES)
	{
		touches->names = touches->stack_names;
		touches->lens = touches->stack_lens;
		return;
	}
	touches->names = palloc_extended((Size) capacity * sizeof(const char *), MCXT_ALLOC_HUGE);
	touches->lens = palloc_extended((Size) capacity * sizeof(int32), MCXT_ALLOC_HUGE);
}

/*
 * The touches of a path: its channels that are not NULL, and with collapse
 * a channel touched twice in a row once (compared by its bytes, as the
 * families' channel tables compare names).  A touch is compared with the
 * one before by their signatures first (omnikpi_name_signature): testing
 * the lengths alone, a path of names of a few lengths in random order sent
 * the processor the wrong way on one touch in four or so.
 */
void
omnikpi_touches_of_path(JourneyTouches *touches, ArrayType *path, bool collapse)
{
	PathWalk	walk;
	uint64		previous = PG_UINT64_MAX;	/* no name's signature */

	omnikpi_path_walk_start(&walk, path);
	touches_init(touches, walk.nitems);
	while (walk.i < walk.nitems)
	{
		const text *element = omnikpi_path_walk_next(&walk);
		const char *name;
		int32		len;
		uint64		signature;
		int32		n = touches->n;

		if (element == NULL)
			continue;
		name = VARDATA_ANY(element);
		len = VARSIZE_ANY_EXHDR(element);
		signature = omnikpi_name_signature(name, len);
		if (collapse && signature == previous && memcmp(touches->names[n - 1], name, len) == 0)
			continue;
		previous = signature;
		touches->names[n] = name;
		touches->lens[n] = len;
		touches->n = n + 1;
	}
}

void
omnikpi_touches_free(JourneyTouches *touches)
{
	if (touches->names != touches->stack_names)
	{
		pfree(touches->names);
		pfree(touches->lens);
	}
}
