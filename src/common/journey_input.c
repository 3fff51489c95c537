/*
 * journey_input.c: the rows of the journey aggregates (see journey_input.h).
 */
#include "postgres.h"

#include "common/journey_input.h"

/*
 * Argument argno as a path: a one-dimensional text[] (22023 otherwise),
 * detoasted.  The caller checked it is not NULL.
 */
ArrayType *
omnikpi_path_arg(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *path = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_NDIM(path) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a journey path must be a one-dimensional array, not %d-dimensional",
						ARR_NDIM(path)),
				 errhint("Pass the journey's channels in time order, e.g. array_agg(channel ORDER BY touched_at).")));
	return path;
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
