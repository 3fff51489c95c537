/*
 * journey_paths.h: the journey_paths type, a summary of customer journeys
 * for data-driven attribution (Shapley values, fractribution).
 *
 * A journey is the list of channels it touched, in time order, and whether
 * it converted (and for what value).  The summary keeps, per distinct path,
 * the number of journeys that converted and that did not, and the total
 * conversion value.  Consecutive repeats of one channel are collapsed when a
 * path is added (web, web, email, web becomes web, email, web): the
 * "exposure" path transform of Google's fractribution and the convention of
 * the Markov models.  Its size grows with the number of distinct paths, not
 * with the number of journeys.
 *
 * Like channel_summary it has two forms:
 *   - the aggregates' working state, one of the engine's StateBody
 *     (common/aggregate_state.h) with key tables from channel name to
 *     channel number and from path to its counts (journey_paths_state.c);
 *   - the flat varlena JourneyPaths: what is stored, sent and printed, with
 *     channels in byte order of their names and paths in a canonical order,
 *     so that equal summaries are equal byte for byte.
 */
#ifndef JOURNEY_PATHS_H
#define JOURNEY_PATHS_H

#include "fmgr.h"
#include "nodes/execnodes.h"

#include "common/aggregate_state.h"
#include "common/flat_names.h"

/* Counts of one distinct path. */
typedef struct PathStats
{
	double		conversions;	/* journeys (or weights) that converted */
	double		non_conversions;	/* journeys that did not */
	double		value;			/* total conversion value; 0 without conversions */
} PathStats;

#define JOURNEY_PATHS_FORMAT	1	/* bump when the on-disk layout changes */

/*
 * The flat form.  After the 24-byte header come npaths PathStats (so they
 * are MAXALIGNed in a detoasted copy), npaths int32 end offsets of the paths
 * in the step array, nsteps int32 channel numbers (indexes into the sorted
 * channel list), nchannels int32 end offsets of the names, and the names.
 * Paths are sorted by their channel numbers, lexicographically; no path is
 * empty or has one channel twice in a row, and no two paths are equal.
 */
typedef struct JourneyPaths
{
	StoredHeader h;				/* format JOURNEY_PATHS_FORMAT, flags zero */
	int32		npaths;
	int32		nsteps;
	int32		reserved2;		/* zero; pads the header to 24 bytes */
} JourneyPaths;

#define JP_STATS(s)		((PathStats *) ((char *) (s) + sizeof(JourneyPaths)))
#define JP_PATH_ENDS(s)	((int32 *) (JP_STATS(s) + (s)->npaths))
#define JP_STEPS(s)		(JP_PATH_ENDS(s) + (s)->npaths)
#define JP_NAME_ENDS(s)	(JP_STEPS(s) + (s)->nsteps)
#define JP_FLAT_NAMES(s)	STORED_FLAT_NAMES(s, JP_NAME_ENDS(s))
/* Any journey_paths datum in its stored form (a working state is stored first). */
#define DatumGetJourneyPathsP(d) \
	((JourneyPaths *) omnikpi_state_stored((d), &omnikpi_jp_family))
#define PG_GETARG_JOURNEY_PATHS_P(n)	DatumGetJourneyPathsP(PG_GETARG_DATUM(n))

extern const int32 *omnikpi_jp_path(const JourneyPaths *paths, int i, int *len);

/* Totals of a summary, for the attribution functions (journey_paths.c). */
typedef struct JourneyTotals
{
	double		conversions;
	double		value;
	double		journeys;		/* conversions + non_conversions */
} JourneyTotals;

extern JourneyTotals omnikpi_jp_totals(const JourneyPaths *paths, const char *function);

/* ---- working state (journey_paths_state.c) ---- */

/*
 * The working state has no header of its own and two key tables: channel
 * name to nothing (its entry number is the channel's number) and path (its
 * channel numbers as int32, back to back) to its PathStats.
 */
#define JP_TABLE_CHANNELS	STATE_TABLE_CHANNELS
#define JP_TABLE_PATHS		1

extern const StateFamily omnikpi_jp_family;

extern void omnikpi_jp_state_new_private(StateRef *ref);
extern bool omnikpi_jp_state_add(StateRef *ref, const int32 *steps, int32 len,
								 const PathStats *stats, bool reject_duplicate);
extern const char *omnikpi_jp_stats_invalid(const PathStats *stats);

/*
 * Polynomial hash of a path, h = sum of (step + 1) * P^(len - 1 - k) modulo
 * 2^64, then mixed.  Polynomial so that fractribution can compute the hash of
 * a path with one step removed in O(1) from prefix hashes.
 */
#define JP_HASH_BASE	UINT64CONST(0x100000001B3)

static inline uint64
jp_hash_step(uint64 h, int32 step)
{
	return h * JP_HASH_BASE + (uint64) step + 1;
}

static inline uint32
jp_hash_finish(uint64 h, int32 len)
{
	h ^= (uint64) len * UINT64CONST(0x9E3779B97F4A7C15);
	h ^= h >> 33;
	h *= UINT64CONST(0xFF51AFD7ED558CCD);
	h ^= h >> 33;
	h *= UINT64CONST(0xC4CEB9FE1A85EC53);
	h ^= h >> 33;
	return (uint32) h;
}

/*
 * A scratch array of at least len elements of size bytes, reused path
 * after path: when a path is longer, grown to len or twice its capacity.
 */
static inline void *
omnikpi_jp_scratch(void *array, int *capacity, int len, Size size)
{
	if (len <= *capacity)
		return array;
	*capacity = Max(len, 2 * *capacity);
	return array ? repalloc_huge(array, (Size) *capacity * size)
		: palloc_extended((Size) *capacity * size, MCXT_ALLOC_HUGE);
}

#endif							/* JOURNEY_PATHS_H */
