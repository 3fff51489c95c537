/*
 * journey_input.h: reading the rows of the journey aggregates, which
 * markov_model and journey_paths take in the same shapes: one journey
 * (path, converted [, value]) or paths already counted (path, conversions,
 * non_conversions, value).  Both families read a row here, so the same
 * journeys give the same totals in both and the same mistake the same
 * error.  The rules, one for both:
 *   - a NULL path, converted flag or count skips the row: how many journeys
 *     it stands for, or whether they converted, is unknown;
 *   - a NULL conversion value adds nothing, as in sum(), and the value of a
 *     journey that did not convert is not used;
 *   - counts and values are finite and not negative, else 22003;
 *   - a value on a counted path without conversions is 22023, and a counted
 *     row of no journeys is skipped;
 *   - a path is a one-dimensional text[], else 22023; NULL channels in it
 *     are skipped, and a path without a channel skips the row.
 */
#ifndef OMNIKPI_JOURNEY_INPUT_H
#define OMNIKPI_JOURNEY_INPUT_H

#include "fmgr.h"
#include "utils/array.h"

/* The shapes of a journey aggregate's row (argument 0 is the state). */
typedef enum JourneyShape
{
	JOURNEY_ONE,				/* path, converted */
	JOURNEY_ONE_VALUED,			/* path, converted, value */
	JOURNEY_COUNTED				/* path, conversions, non_conversions, value */
} JourneyShape;

/* The journeys a row stands for. */
typedef struct JourneyRow
{
	ArrayType  *path;
	double		conversions;
	double		non_conversions;
	double		value;			/* of the conversions */
} JourneyRow;

/* Walks a path's channels without copying them. */
typedef struct PathWalk
{
	const char *next;			/* the next element's data */
	const bits8 *nulls;			/* NULL bitmap, or NULL when there are no NULLs */
	int			nitems;
	int			i;
} PathWalk;

/* Touches read on the stack; a longer path takes a palloc. */
#define JOURNEY_STACK_TOUCHES	64

/*
 * A journey's channel names in time order, NULLs skipped and, when asked,
 * a channel touched twice in a row kept once: what a row adds, to a
 * state's journal (common/journey_journal.h) or its tables.  The names
 * point into the path, which must outlive them.
 */
typedef struct JourneyTouches
{
	int32		n;
	const char **names;
	int32	   *lens;
	const char *stack_names[JOURNEY_STACK_TOUCHES];
	int32		stack_lens[JOURNEY_STACK_TOUCHES];
} JourneyTouches;

extern bool omnikpi_journey_row(FunctionCallInfo fcinfo, JourneyShape shape, JourneyRow *row);
extern void omnikpi_path_walk_start(PathWalk *walk, ArrayType *path);
extern bool omnikpi_path_has_channel(ArrayType *path);
extern void omnikpi_touches_of_path(JourneyTouches *touches, ArrayType *path, bool collapse);
extern void omnikpi_touches_free(JourneyTouches *touches);

/*
 * A name's length and first byte side by side: two names of different
 * signatures differ, and two of the same one are compared byte by byte.
 * Names are compared by signature first, in one test where comparing the
 * lengths and then the bytes took two, and channel names of a few lengths
 * in random order sent the processor the wrong way on the first.
 */
static inline uint64
omnikpi_name_signature(const char *name, int32 len)
{
	return (uint64) (uint32) len << 8 | (len > 0 ? (unsigned char) name[0] : 0);
}

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
