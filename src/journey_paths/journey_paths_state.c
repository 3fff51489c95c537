/*
 * journey_paths_state.c: the working state of the journey_paths aggregates
 * on the engine of common/aggregate_state.h, and its stored form.
 *
 * Two key tables do the work per row: channel name to channel number, and
 * path (its channel numbers) to its counts.  A row adds nothing to the
 * state once its channels and its path have been seen.  The state is
 * stored with channels sorted by name and paths in canonical order.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "common/messages.h"
#include "journey_paths/journey_paths.h"

static void
assert_state_valid(const StateBody *body)
{
#ifdef USE_ASSERT_CHECKING
	const KeyTable *paths = omnikpi_state_table(body, JP_TABLE_PATHS);
	int32		i;

	omnikpi_state_assert_valid(body, &omnikpi_jp_family);
	for (i = 0; i < paths->nentries; i++)
	{
		Assert(key_table_key_length(paths, i) >= (int32) sizeof(int32));
		Assert(omnikpi_jp_stats_invalid(key_table_payload(paths, i)) == NULL);
	}
#endif
}

/* Size of a stored form with these counts. */
static Size
stored_size(int64 nchannels, Size name_bytes, int64 npaths, int64 nsteps)
{
	return sizeof(JourneyPaths) + npaths * (sizeof(PathStats) + sizeof(int32)) +
		nsteps * sizeof(int32) + nchannels * sizeof(int32) + name_bytes;
}

/*
 * 54000 when the stored form could not hold one more key: a channel whose
 * name, or a path whose steps, take key_len bytes.
 */
static void
jp_check_add(const StateBody *body, int table, int32 key_len)
{
	const KeyTable *channels = omnikpi_state_table(body, JP_TABLE_CHANNELS);
	const KeyTable *paths = omnikpi_state_table(body, JP_TABLE_PATHS);
	bool		channel = table == JP_TABLE_CHANNELS;

	if (channels->nentries + channel > PG_INT32_MAX / 8 ||
		paths->nentries + !channel > PG_INT32_MAX / 8 ||
		stored_size(channels->nentries + channel, channels->total_length + (channel ? key_len : 0),
					paths->nentries + !channel,
					(paths->total_length + (channel ? 0 : key_len)) / sizeof(int32)) > MaxAllocSize)
		omnikpi_report_too_large("journey_paths",
								 "Summarize fewer journeys at once, e.g. per month, or group rare channels.");
}

/* A new empty state in the current memory context, for input functions. */
void
omnikpi_jp_state_new_private(StateRef *ref)
{
	omnikpi_state_new_private(ref, &omnikpi_jp_family, CurrentMemoryContext);
}

/* The sums of a path must stay finite: 22003. */
static void
check_stats_finite(const PathStats *stats)
{
	if (unlikely(!isfinite(stats->conversions) || !isfinite(stats->non_conversions) ||
				 !isfinite(stats->value)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("journey_paths counts or value out of range for double precision")));
}

/* Add from's counts and value into to; 22003 when a sum leaves the doubles. */
static void
stats_add(PathStats *to, const PathStats *from)
{
	to->conversions += from->conversions;
	to->non_conversions += from->non_conversions;
	to->value += from->value;
	check_stats_finite(to);
}

/*
 * Add the counts of one path (len >= 1 channel numbers, no channel twice in
 * a row).  With reject_duplicate (reading a summary's text or binary form) a
 * path that is already present is invalid input: nothing is added and the
 * result is false.
 */
bool
omnikpi_jp_state_add(StateRef *ref, const int32 *steps, int32 len, const PathStats *stats,
					 bool reject_duplicate)
{
	KeyProbe	probe;
	int32		i;

	Assert(len >= 1);
	key_probe_init(&probe, (const char *) steps, len * sizeof(int32));
	i = key_table_find(omnikpi_state_table(ref->body, JP_TABLE_PATHS), &probe);
	if (i >= 0)
	{
		if (reject_duplicate)
			return false;
		stats_add(key_table_payload(omnikpi_state_table(ref->body, JP_TABLE_PATHS), i), stats);
	}
	else
	{
		PathStats  *path;

		i = omnikpi_state_add_key(ref, JP_TABLE_PATHS, &probe);
		path = key_table_payload(omnikpi_state_table(ref->body, JP_TABLE_PATHS), i);
		*path = *stats;
		check_stats_finite(path);
	}
	assert_state_valid(ref->body);
	return true;
}

/*
 * Add one journey of n touches (at least one, repeats collapsed), each its
 * channel's number: the path's lookup is a probe of the paths table, and
 * nothing is added for a path seen before.
 */
static void
jp_add_journey(StateRef *ref, const int32 *channels, int32 n, const JourneyRow *row)
{
	PathStats	stats;

	Assert(n >= 1);
	if (omnikpi_state_table(ref->body, JP_TABLE_PATHS)->nentries == 0)
	{
		/* the journey is one path of a step per touch */
		int32		entries[] = {0, 1};
		Size		key_bytes[] = {0, key_area_bytes(Min(n, STATE_RESERVE_TOUCHES) * sizeof(int32))};

		omnikpi_state_reserve(ref, entries, key_bytes);
	}
	stats.conversions = row->conversions;
	stats.non_conversions = row->non_conversions;
	stats.value = row->value;
	omnikpi_jp_state_add(ref, channels, n, &stats, false);
}

/* A summary has no parameters to take from a stored one. */
static void
jp_take_parameters(StateBody *body, const void *stored)
{
}

/* Add every path of a stored summary. */
static void
jp_merge(StateRef *ref, const void *stored)
{
	const JourneyPaths *flat = (const JourneyPaths *) stored;
	int32	   *channel_map = palloc(Max(flat->h.nchannels, 1) * sizeof(int32));
	int32	   *mapped = NULL;
	int			capacity = 0;
	const PathStats *stats = JP_STATS(flat);
	int32		i;

	for (i = 0; i < flat->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&JP_FLAT_NAMES(flat), i, &len);

		channel_map[i] = omnikpi_state_channel(ref, name, len);
	}
	for (i = 0; i < flat->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(flat, i, &len);
		int			k;

		mapped = omnikpi_jp_scratch(mapped, &capacity, len, sizeof(int32));
		for (k = 0; k < len; k++)
			mapped[k] = channel_map[steps[k]];
		omnikpi_jp_state_add(ref, mapped, len, &stats[i], false);
	}
	pfree(channel_map);
	if (mapped)
		pfree(mapped);
}

/*
 * What is wrong with a path's counts read from outside, or NULL: counts and
 * value are finite and at least 0 (as the aggregates take them), the counts
 * not both 0, and a path without conversions has no value.
 */
const char *
omnikpi_jp_stats_invalid(const PathStats *stats)
{
	if (!isfinite(stats->conversions) || !isfinite(stats->non_conversions) ||
		!isfinite(stats->value))
		return "Counts and values must be finite.";
	if (stats->conversions < 0 || stats->non_conversions < 0 || stats->value < 0)
		return "Counts and values must not be negative.";
	if (stats->conversions == 0 && stats->non_conversions == 0)
		return "A path must have at least one journey.";
	if (stats->conversions == 0 && stats->value != 0)
		return "A path without conversions must have the value 0.";
	return NULL;
}

/* Steps of path i of a stored summary; *len gets its length. */
const int32 *
omnikpi_jp_path(const JourneyPaths *paths, int i, int *len)
{
	const int32 *ends = JP_PATH_ENDS(paths);
	int32		start = i == 0 ? 0 : ends[i - 1];

	*len = ends[i] - start;
	return JP_STEPS(paths) + start;
}

/*
 * A group's paths on their way to the stored form, from its tables or
 * straight from its journal: each path's steps as the ranks of its
 * channels (their positions in name order), back to back in steps, and its
 * counts.  A journal's paths come once a journey, so they may repeat.
 */
typedef struct RankedPath
{
	int32		start;			/* its first step in RankedPaths.steps */
	int32		len;
	PathStats	stats;
} RankedPath;

typedef struct RankedPaths
{
	int32	   *steps;
	RankedPath *paths;
	int32		npaths;
	int32		nsteps;
} RankedPaths;

/*
 * The canonical order of the paths: by their channels' ranks, step by step,
 * a path before the longer ones it begins.  The stored form sorts a group's
 * paths once, and a GROUP BY by day or customer has many groups of many
 * paths: compared through a comparator called by pointer that decoded both
 * paths at every comparison, their sort took a fifth of such a query's
 * instructions and more than half of its mispredicted branches.  So each
 * path's sort key is computed once and the comparison is sort_template.h's,
 * inlined: the ranks of a path's first steps, each + 1 in a field of
 * bits_per_step bits, packed into a word from its top down, so that the
 * words compare as the paths do up to there (a path that ends within them
 * has 0 where a longer one has a step).  Paths whose words agree are
 * compared from the first step past them on: long paths that begin alike.
 * Equal paths (a journal's) keep the order they came in.
 */
typedef struct PathSortKey
{
	uint64		prefix;
	int32		path;			/* in RankedPaths.paths */
} PathSortKey;

/* What a comparison of two paths' sort keys reads besides them. */
typedef struct PathOrder
{
	const RankedPaths *ranked;
	int32		prefix_steps;	/* steps in a prefix */
} PathOrder;

/* Bits of a step in a prefix: enough for each rank + 1 of nchannels. */
static int
bits_per_step(int32 nchannels)
{
	return pg_leftmost_one_pos32((uint32) Max(nchannels, 1)) + 1;
}

static uint64
path_prefix(const int32 *steps, int32 len, int bits, int32 prefix_steps)
{
	uint64		prefix = 0;
	int32		k;

	for (k = 0; k < Min(len, prefix_steps); k++)
		prefix |= ((uint64) steps[k] + 1) << (64 - bits * (k + 1));
	return prefix;
}

/* Two paths whose prefixes agree, from their first step past the prefix on. */
static int
compare_path_rests(const PathSortKey *x, const PathSortKey *y, const PathOrder *order)
{
	const RankedPath *xpath = &order->ranked->paths[x->path];
	const RankedPath *ypath = &order->ranked->paths[y->path];
	const int32 *xs = order->ranked->steps + xpath->start;
	const int32 *ys = order->ranked->steps + ypath->start;
	int32		k;

	for (k = order->prefix_steps; k < Min(xpath->len, ypath->len); k++)
		if (xs[k] != ys[k])
			return xs[k] < ys[k] ? -1 : 1;
	if (xpath->len != ypath->len)
		return xpath->len < ypath->len ? -1 : 1;
	return (x->path > y->path) - (x->path < y->path);
}

static inline int
compare_path_keys(const PathSortKey *x, const PathSortKey *y, const PathOrder *order)
{
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return compare_path_rests(x, y, order);
}

#define ST_SORT sort_path_keys
#define ST_ELEMENT_TYPE PathSortKey
#define ST_COMPARE_ARG_TYPE const PathOrder
#define ST_COMPARE(a, b, order) compare_path_keys(a, b, order)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* The paths in canonical order, as numbers into path_order. */
static void
sort_paths(const RankedPaths *ranked, int32 nchannels, int32 *path_order)
{
	int			bits = bits_per_step(nchannels);
	PathOrder	order;
	PathSortKey *keys;
	int32		i;

	/* a group of one journey, common in a GROUP BY by journey, has nothing to sort */
	if (ranked->npaths < 2)
	{
		for (i = 0; i < ranked->npaths; i++)
			path_order[i] = i;
		return;
	}
	keys = palloc_extended(ranked->npaths * sizeof(PathSortKey), MCXT_ALLOC_HUGE);
	order.ranked = ranked;
	order.prefix_steps = 64 / bits;
	for (i = 0; i < ranked->npaths; i++)
	{
		const RankedPath *path = &ranked->paths[i];

		keys[i].prefix = path_prefix(ranked->steps + path->start, path->len, bits,
									 order.prefix_steps);
		keys[i].path = i;
	}
	sort_path_keys(keys, ranked->npaths, &order);
	for (i = 0; i < ranked->npaths; i++)
		path_order[i] = keys[i].path;
	pfree(keys);
}

/* A summary of nchannels channels and the paths path_order[0 .. npaths - 1], but its names. */
static void
write_paths(JourneyPaths *flat, Size size, int32 nchannels, const RankedPaths *ranked,
			const int32 *path_order, int32 npaths, int32 nsteps)
{
	PathStats  *stats;
	int32	   *path_ends;
	int32	   *steps;
	int32		offset = 0;
	int32		i;

	memset(flat, 0, sizeof(JourneyPaths));
	SET_VARSIZE(flat, size);
	flat->h.format = JOURNEY_PATHS_FORMAT;
	flat->h.nchannels = nchannels;
	flat->npaths = npaths;
	flat->nsteps = nsteps;
	stats = JP_STATS(flat);
	path_ends = JP_PATH_ENDS(flat);
	steps = JP_STEPS(flat);
	for (i = 0; i < npaths; i++)
	{
		const RankedPath *path = &ranked->paths[path_order[i]];

		stats[i] = path->stats;
		memcpy(steps + offset, ranked->steps + path->start, path->len * sizeof(int32));
		offset += path->len;
		path_ends[i] = offset;
	}
	Assert(offset == nsteps);
}

static Size
jp_stored_size(const StateBody *body)
{
	const KeyTable *channels = omnikpi_state_table(body, JP_TABLE_CHANNELS);
	const KeyTable *paths = omnikpi_state_table(body, JP_TABLE_PATHS);

	return stored_size(channels->nentries, channels->total_length, paths->nentries,
					   paths->total_length / sizeof(int32));
}

/* Write the stored form: channels in name order, paths in canonical order. */
static void
jp_store(const StateBody *body, void *result, Size size)
{
	const KeyTable *channels = omnikpi_state_table(body, JP_TABLE_CHANNELS);
	const KeyTable *paths = omnikpi_state_table(body, JP_TABLE_PATHS);
	int32	   *channel_order = palloc(Max(channels->nentries, 1) * sizeof(int32));
	int32	   *rank = palloc(Max(channels->nentries, 1) * sizeof(int32));
	int32	   *path_order = palloc_extended(Max(paths->nentries, 1) * sizeof(int32),
											 MCXT_ALLOC_HUGE);
	RankedPaths ranked;
	int32		i;

	Assert(size == jp_stored_size(body));
	key_table_ranks(channels, channel_order, rank);
	ranked.npaths = paths->nentries;
	ranked.paths = palloc_extended(Max(ranked.npaths, 1) * sizeof(RankedPath), MCXT_ALLOC_HUGE);
	ranked.steps = palloc_extended(Max(paths->total_length, sizeof(int32)), MCXT_ALLOC_HUGE);
	ranked.nsteps = 0;
	for (i = 0; i < paths->nentries; i++)
	{
		char		buffer[KEY_INLINE_BYTES];
		int32		len;
		const char *steps = key_table_key(paths, i, buffer, &len);
		RankedPath *path = &ranked.paths[i];
		int32		k;

		path->start = ranked.nsteps;
		path->len = len / (int32) sizeof(int32);
		path->stats = *(const PathStats *) key_table_payload(paths, i);
		for (k = 0; k < path->len; k++)
		{
			int32		channel;

			memcpy(&channel, steps + k * sizeof(int32), sizeof(int32));
			ranked.steps[ranked.nsteps++] = rank[channel];
		}
	}
	sort_paths(&ranked, channels->nentries, path_order);
	write_paths((JourneyPaths *) result, size, channels->nentries, &ranked, path_order,
				ranked.npaths, ranked.nsteps);
	flat_names_write(channels, channel_order, channels->nentries,
					 JP_NAME_ENDS((JourneyPaths *) result));
	pfree(channel_order);
	pfree(rank);
	pfree(path_order);
	pfree(ranked.paths);
	pfree(ranked.steps);
}

/*
 * The stored form written straight from a journal, without the tables.  A
 * GROUP BY by journey or customer stores one small journal per group, and
 * building its tables key by key, to sort them again for the stored form,
 * took half of such a group's instructions.  The journeys' paths are
 * ranked and sorted as they came, and equal ones, next to each other in
 * the order they came, add their counts in that order, as the tables
 * would: the same doubles, the same errors.
 */
static void *
jp_store_journal(const StateBody *body, const JournalHead *journal)
{
	int32		nchannels = journal->nnames;
	int32	   *channel_order = palloc(Max(nchannels, 1) * sizeof(int32));
	int32	   *rank = palloc(Max(nchannels, 1) * sizeof(int32));
	JournalReader reader;
	JourneyRow	row;
	int32		ntouches;
	RankedPaths ranked;
	int32	   *path_order;
	int32		npaths = 0;
	int32		nsteps = 0;
	Size		name_bytes;
	Size		size;
	JourneyPaths *flat;
	int32		i;

	omnikpi_journal_reader_init(&reader, journal);
	name_bytes = omnikpi_journal_names_ranked(&reader.dictionary, channel_order, rank);
	/* a touch takes a byte at least, a record three (its flags, touches and a touch) */
	ranked.steps = palloc(journal->used * sizeof(int32));
	ranked.paths = palloc((journal->used / 3 + 1) * sizeof(RankedPath));
	ranked.npaths = 0;
	ranked.nsteps = 0;
	while (omnikpi_journal_next_record(&reader, &row, &ntouches))
	{
		RankedPath *path = &ranked.paths[ranked.npaths++];

		path->start = ranked.nsteps;
		path->len = ntouches;
		path->stats.conversions = row.conversions;
		path->stats.non_conversions = row.non_conversions;
		path->stats.value = row.value;
		for (i = 0; i < ntouches; i++)
			ranked.steps[ranked.nsteps++] = rank[omnikpi_journal_touch(&reader)];
	}
	path_order = palloc(Max(ranked.npaths, 1) * sizeof(int32));
	sort_paths(&ranked, nchannels, path_order);

	/* each run of equal paths into its first */
	for (i = 0; i < ranked.npaths; i++)
	{
		RankedPath *path = &ranked.paths[path_order[i]];
		RankedPath *last = npaths > 0 ? &ranked.paths[path_order[npaths - 1]] : NULL;

		if (last != NULL && last->len == path->len &&
			memcmp(ranked.steps + last->start, ranked.steps + path->start,
				   path->len * sizeof(int32)) == 0)
		{
			stats_add(&last->stats, &path->stats);
			continue;
		}
		path_order[npaths++] = path_order[i];
		nsteps += path->len;
	}

	size = stored_size(nchannels, name_bytes, npaths, nsteps);
	flat = palloc(size);
	write_paths(flat, size, nchannels, &ranked, path_order, npaths, nsteps);
	flat_names_write_listed(reader.dictionary.names, reader.dictionary.lens, channel_order,
							nchannels, JP_NAME_ENDS(flat));
	omnikpi_journal_reader_free(&reader);
	pfree(channel_order);
	pfree(rank);
	pfree(path_order);
	pfree(ranked.paths);
	pfree(ranked.steps);
	return flat;
}

/*
 * No room to start with: the tables take it when their first key comes, and
 * a summary created by a row leaves it with its tables just full
 * (common/aggregate_state.h), so a group of one journey of three channels
 * keeps 224 bytes.  No tags, which would take 4 bytes an entry of such
 * small states.  In the order of StateFamily: type, id, tables, header,
 * payloads, initial entries and key bytes, tagged tables, then the
 * functions.
 */
const StateFamily omnikpi_jp_family = {
	"journey_paths", 3, 2, 0, {0, sizeof(PathStats)}, {0, 0}, {0, 0}, {false, false},
	jp_stored_size, jp_store, jp_check_add, jp_take_parameters, jp_merge, jp_add_journey,
	NULL, jp_store_journal
};
