/*
 * journey_input.h: reading the rows of the journey aggregates, which
 * markov_model and journey_paths take in the same shapes: one journey
 * (path, converted [, value]) or paths already counted (path, conversions,
 * non_conversions, value).  Both families read a row here, so the same
 * journeys give the same totals in both and the same mistake the same
 * error.
 */
#ifndef OMNIKPI_JOURNEY_INPUT_H
#define OMNIKPI_JOURNEY_INPUT_H

#include "fmgr.h"
#include "utils/array.h"

/* Walks a path's channels without copying them. */
typedef struct PathWalk
{
	const char *next;			/* the next element's data */
	const bits8 *nulls;			/* NULL bitmap, or NULL when there are no NULLs */
	int			nitems;
	int			i;
} PathWalk;

extern ArrayType *omnikpi_path_arg(FunctionCallInfo fcinfo, int argno);
extern void omnikpi_path_walk_start(PathWalk *walk, ArrayType *path);
extern bool omnikpi_path_has_channel(ArrayType *path);

/*
 * The next channel (a text), or NULL for a NULL element; the caller counts
 * to nitems.  Inline: it runs once per touch.
 */
static inline const text *
omnikpi_path_walk_next(PathWalk *walk)
{
	const text *element;
	int			i = walk->i++;

	if (walk->nulls != NULL && !(walk->nulls[i / 8] & (1 << (i % 8))))
		return NULL;
	element = (const text *) walk->next;
	walk->next += VARSIZE_ANY(element);
	walk->next = (const char *) TYPEALIGN(ALIGNOF_INT, walk->next);
	return element;
}

#endif							/* OMNIKPI_JOURNEY_INPUT_H */
