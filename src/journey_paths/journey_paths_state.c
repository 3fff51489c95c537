/*
 * journey_paths_state.c: the working state of the journey_paths aggregates,
 * an expanded object, and its flat form.
 *
 * The executor adopts a read-write expanded object whose memory context is a
 * child of the aggregate context, so a transition function updates one state
 * in place for the whole group.  Two open-addressing hash tables do the work
 * per row: channel name to channel number, and path (a run of channel
 * numbers in one shared pool) to its counts.  A row allocates nothing once
 * its channels and its path have been seen.  The state is flattened, with
 * channels sorted by name and paths in canonical order, only when it leaves
 * the aggregate.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/memutils.h"

#include "journey_paths/journey_paths.h"
#include "common/channel_name_hash.h"

#define INITIAL_CHANNELS	8
#define INITIAL_PATHS		16
#define INITIAL_STEPS		64
#define SLOTS_PER_CHANNEL	4
#define SLOTS_PER_PATH		2

static Size jp_get_flat_size(ExpandedObjectHeader *eohptr);
static void jp_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

const ExpandedObjectMethods omnikpi_jp_methods = {
	jp_get_flat_size,
	jp_flatten_into
};

static void
assert_state_valid(const JourneyPathsState *state)
{
#ifdef USE_ASSERT_CHECKING
	int32		i;
	Size		name_bytes = 0;
	int64		steps = 0;

	Assert(state->nchannels >= 0 && state->nchannels <= state->channel_capacity);
	Assert(state->npaths >= 0 && state->npaths <= state->path_capacity);
	Assert(state->channel_nslots >= SLOTS_PER_CHANNEL * state->channel_capacity);
	Assert(state->path_nslots >= SLOTS_PER_PATH * state->path_capacity);
	for (i = 0; i < state->nchannels; i++)
		name_bytes += state->channels[i].len;
	Assert(name_bytes == state->name_bytes);
	for (i = 0; i < state->npaths; i++)
	{
		const PathEntry *path = &state->paths[i];

		Assert(path->start == steps && path->len >= 1);
		Assert(omnikpi_jp_stats_invalid(&path->stats) == NULL);
		steps += path->len;
	}
	Assert(steps == state->nsteps && steps <= state->step_capacity);
#endif
}

/* Size of a flat form with these counts. */
static Size
flat_size(int64 nchannels, Size name_bytes, int64 npaths, int64 nsteps)
{
	return sizeof(JourneyPaths) + npaths * (sizeof(PathStats) + sizeof(int32)) +
		nsteps * sizeof(int32) + nchannels * sizeof(int32) + name_bytes;
}

static void
check_flat_size(const JourneyPathsState *state, int64 more_channels, Size more_name_bytes,
				int64 more_paths, int64 more_steps)
{
	if (flat_size(state->nchannels + more_channels, state->name_bytes + more_name_bytes,
				  state->npaths + more_paths, state->nsteps + more_steps) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("journey_paths would exceed the maximum size of %zu bytes",
						(Size) MaxAllocSize),
				 errhint("Summarize fewer journeys at once, e.g. per month, or group rare channels.")));
}

/* A new empty state in its own context under parent (the aggregate context). */
JourneyPathsState *
omnikpi_jp_state_create(MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "journey_paths state",
											  ALLOCSET_DEFAULT_SIZES);
	JourneyPathsState *state = MemoryContextAllocZero(cxt, sizeof(JourneyPathsState));

	EOH_init_header(&state->hdr, &omnikpi_jp_methods, cxt);
	state->channel_capacity = INITIAL_CHANNELS;
	state->channels = MemoryContextAlloc(cxt, INITIAL_CHANNELS * sizeof(ChannelName));
	state->channel_nslots = SLOTS_PER_CHANNEL * INITIAL_CHANNELS;
	state->channel_slots = MemoryContextAllocZero(cxt, state->channel_nslots * sizeof(ChannelSlot));
	state->path_capacity = INITIAL_PATHS;
	state->paths = MemoryContextAlloc(cxt, INITIAL_PATHS * sizeof(PathEntry));
	state->path_nslots = SLOTS_PER_PATH * INITIAL_PATHS;
	state->path_slots = MemoryContextAllocZero(cxt, state->path_nslots * sizeof(ChannelSlot));
	state->step_capacity = INITIAL_STEPS;
	state->steps = MemoryContextAlloc(cxt, INITIAL_STEPS * sizeof(int32));
	state->scratch_capacity = INITIAL_STEPS;
	state->scratch = MemoryContextAlloc(cxt, INITIAL_STEPS * sizeof(int32));
	assert_state_valid(state);
	return state;
}

/*
 * The state behind d when d is a read-write pointer to one of ours, else
 * NULL (a flat value, or a read-only pointer that must not be changed).
 */
JourneyPathsState *
omnikpi_jp_state_if_writable(Datum d)
{
	if (!VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
		return NULL;
	if (DatumGetEOHP(d)->eoh_methods != &omnikpi_jp_methods)
		return NULL;
	return (JourneyPathsState *) DatumGetEOHP(d);
}

/* A new state under parent holding the same paths as d (flat or expanded). */
JourneyPathsState *
omnikpi_jp_state_from_datum(Datum d, MemoryContext parent)
{
	JourneyPathsState *state = omnikpi_jp_state_create(parent);

	omnikpi_jp_state_merge_flat(state, DatumGetJourneyPathsP(d));
	return state;
}

/* Insert index + 1 with hash into an open-addressing table known to have room. */
static inline void
slot_insert(ChannelSlot *slots, int32 nslots, uint32 hash, int32 index)
{
	uint32		mask = (uint32) nslots - 1;
	uint32		slot = hash & mask;

	while (slots[slot].index != 0)
		slot = (slot + 1) & mask;
	slots[slot].hash = hash;
	slots[slot].index = index + 1;
}

/* A zeroed table of nslots slots in cxt, for a rehash. */
static ChannelSlot *
new_slots(MemoryContext cxt, int32 nslots)
{
	return MemoryContextAllocExtended(cxt, (Size) nslots * sizeof(ChannelSlot),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static void
grow_channels(JourneyPathsState *state)
{
	int32		capacity;
	int32		i;

	if (state->channel_capacity > PG_INT32_MAX / (2 * SLOTS_PER_CHANNEL))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("journey_paths cannot hold more than %d channels", state->channel_capacity)));
	capacity = state->channel_capacity * 2;
	state->channels = repalloc_huge(state->channels, capacity * sizeof(ChannelName));
	pfree(state->channel_slots);
	state->channel_nslots = SLOTS_PER_CHANNEL * capacity;
	state->channel_slots = new_slots(state->hdr.eoh_context, state->channel_nslots);
	state->channel_capacity = capacity;
	for (i = 0; i < state->nchannels; i++)
		slot_insert(state->channel_slots, state->channel_nslots, state->channels[i].hash, i);
}

/* Number of the channel called name, added to the state if it is new. */
int32
omnikpi_jp_state_channel(JourneyPathsState *state, const char *name, int len)
{
	uint32		hash = omnikpi_hash_channel_name(name, len);
	uint32		mask = (uint32) state->channel_nslots - 1;
	uint32		slot;
	int32		index;
	ChannelName *channel;

	for (slot = hash & mask; state->channel_slots[slot].index != 0; slot = (slot + 1) & mask)
	{
		if (state->channel_slots[slot].hash == hash)
		{
			const ChannelName *existing = &state->channels[state->channel_slots[slot].index - 1];

			if (existing->len == len && memcmp(existing->data, name, len) == 0)
				return state->channel_slots[slot].index - 1;
		}
	}
	check_flat_size(state, 1, len, 0, 0);
	if (state->nchannels == state->channel_capacity)
		grow_channels(state);
	index = state->nchannels++;
	channel = &state->channels[index];
	channel->data = MemoryContextAlloc(state->hdr.eoh_context, Max(len, 1));
	memcpy(channel->data, name, len);
	channel->len = len;
	channel->hash = hash;
	state->name_bytes += len;
	slot_insert(state->channel_slots, state->channel_nslots, hash, index);
	return index;
}

/* The state's scratch buffer, with room for len steps; its content is kept. */
int32 *
omnikpi_jp_state_scratch(JourneyPathsState *state, int64 len)
{
	if (len > state->scratch_capacity)
	{
		int64		capacity = state->scratch_capacity;

		while (capacity < len)
			capacity *= 2;
		if (capacity > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a journey path cannot have more than %d channels", PG_INT32_MAX)));
		state->scratch = repalloc_huge(state->scratch, capacity * sizeof(int32));
		state->scratch_capacity = (int32) capacity;
	}
	return state->scratch;
}

static void
grow_paths(JourneyPathsState *state)
{
	int32		capacity;
	int32		i;

	if (state->path_capacity > PG_INT32_MAX / (2 * SLOTS_PER_PATH))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("journey_paths cannot hold more than %d distinct paths", state->path_capacity)));
	capacity = state->path_capacity * 2;
	state->paths = repalloc_huge(state->paths, capacity * sizeof(PathEntry));
	pfree(state->path_slots);
	state->path_nslots = SLOTS_PER_PATH * capacity;
	state->path_slots = new_slots(state->hdr.eoh_context, state->path_nslots);
	state->path_capacity = capacity;
	for (i = 0; i < state->npaths; i++)
		slot_insert(state->path_slots, state->path_nslots, state->paths[i].hash, i);
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

/*
 * Add the counts of one path (len >= 1 channel numbers, no channel twice in
 * a row).  With reject_duplicate (reading a summary's text or binary form) a
 * path that is already present is invalid input: nothing is added and the
 * result is false.
 */
bool
omnikpi_jp_state_add(JourneyPathsState *state, const int32 *steps, int32 len,
					 const PathStats *stats, bool reject_duplicate)
{
	uint64		h = 0;
	uint32		hash;
	uint32		mask;
	uint32		slot;
	int32		i;
	int32		index;
	PathEntry  *path;

	Assert(len >= 1);
	for (i = 0; i < len; i++)
		h = jp_hash_step(h, steps[i]);
	hash = jp_hash_finish(h, len);
	mask = (uint32) state->path_nslots - 1;
	for (slot = hash & mask; state->path_slots[slot].index != 0; slot = (slot + 1) & mask)
	{
		if (state->path_slots[slot].hash == hash)
		{
			path = &state->paths[state->path_slots[slot].index - 1];
			if (path->len == len &&
				memcmp(state->steps + path->start, steps, len * sizeof(int32)) == 0)
			{
				if (reject_duplicate)
					return false;
				path->stats.conversions += stats->conversions;
				path->stats.non_conversions += stats->non_conversions;
				path->stats.value += stats->value;
				check_stats_finite(&path->stats);
				return true;
			}
		}
	}

	check_flat_size(state, 0, 0, 1, len);
	if (state->npaths == state->path_capacity)
		grow_paths(state);
	if (state->nsteps + len > state->step_capacity)
	{
		int64		capacity = state->step_capacity;

		while (capacity < state->nsteps + len)
			capacity *= 2;
		state->steps = repalloc_huge(state->steps, capacity * sizeof(int32));
		state->step_capacity = capacity;
	}
	index = state->npaths++;
	path = &state->paths[index];
	path->start = state->nsteps;
	path->len = len;
	path->hash = hash;
	path->stats = *stats;
	memcpy(state->steps + state->nsteps, steps, len * sizeof(int32));
	state->nsteps += len;
	slot_insert(state->path_slots, state->path_nslots, hash, index);
	check_stats_finite(&path->stats);
	assert_state_valid(state);
	return true;
}

/* Add every path of a flat summary. */
void
omnikpi_jp_state_merge_flat(JourneyPathsState *state, const JourneyPaths *flat)
{
	int32	   *channel_map = palloc(Max(flat->nchannels, 1) * sizeof(int32));
	const PathStats *stats = JP_STATS(flat);
	int32		i;

	for (i = 0; i < flat->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(flat, i, &len);

		channel_map[i] = omnikpi_jp_state_channel(state, name, len);
	}
	for (i = 0; i < flat->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(flat, i, &len);
		int32	   *mapped = omnikpi_jp_state_scratch(state, len);
		int			k;

		for (k = 0; k < len; k++)
			mapped[k] = channel_map[steps[k]];
		omnikpi_jp_state_add(state, mapped, len, &stats[i], false);
	}
	pfree(channel_map);
	assert_state_valid(state);
}

/*
 * What is wrong with a path's counts read from outside, or NULL: counts are
 * finite and at least 0, not both 0, and a path without conversions has no
 * value.
 */
const char *
omnikpi_jp_stats_invalid(const PathStats *stats)
{
	if (!isfinite(stats->conversions) || !isfinite(stats->non_conversions) ||
		!isfinite(stats->value))
		return "Counts and values must be finite.";
	if (stats->conversions < 0 || stats->non_conversions < 0)
		return "Counts must not be negative.";
	if (stats->conversions == 0 && stats->non_conversions == 0)
		return "A path must have at least one journey.";
	if (stats->conversions == 0 && stats->value != 0)
		return "A path without conversions must have the value 0.";
	return NULL;
}

/* Name of channel i of a flat summary; *len gets its length. */
const char *
omnikpi_jp_channel_name(const JourneyPaths *paths, int i, int *len)
{
	const int32 *ends = JP_NAME_ENDS(paths);
	int32		start = i == 0 ? 0 : ends[i - 1];

	*len = ends[i] - start;
	return JP_NAMES(paths) + start;
}

/* Steps of path i of a flat summary; *len gets its length. */
const int32 *
omnikpi_jp_path(const JourneyPaths *paths, int i, int *len)
{
	const int32 *ends = JP_PATH_ENDS(paths);
	int32		start = i == 0 ? 0 : ends[i - 1];

	*len = ends[i] - start;
	return JP_STEPS(paths) + start;
}

/* qsort_arg comparator: channel numbers by name, in byte order. */
static int
compare_channels(const void *a, const void *b, void *arg)
{
	const ChannelName *channels = (const ChannelName *) arg;
	const ChannelName *x = &channels[*(const int32 *) a];
	const ChannelName *y = &channels[*(const int32 *) b];
	int			cmp = memcmp(x->data, y->data, Min(x->len, y->len));

	if (cmp != 0)
		return cmp;
	return (x->len > y->len) - (x->len < y->len);
}

typedef struct PathOrder
{
	const JourneyPathsState *state;
	const int32 *rank;			/* channel number -> position in name order */
} PathOrder;

/* qsort_arg comparator: paths by their channels' ranks, lexicographically. */
static int
compare_paths(const void *a, const void *b, void *arg)
{
	const PathOrder *order = (const PathOrder *) arg;
	const PathEntry *x = &order->state->paths[*(const int32 *) a];
	const PathEntry *y = &order->state->paths[*(const int32 *) b];
	const int32 *xs = order->state->steps + x->start;
	const int32 *ys = order->state->steps + y->start;
	int32		n = Min(x->len, y->len);
	int32		i;

	for (i = 0; i < n; i++)
	{
		int32		rx = order->rank[xs[i]];
		int32		ry = order->rank[ys[i]];

		if (rx != ry)
			return rx < ry ? -1 : 1;
	}
	return (x->len > y->len) - (x->len < y->len);
}

static Size
jp_get_flat_size(ExpandedObjectHeader *eohptr)
{
	JourneyPathsState *state = (JourneyPathsState *) eohptr;

	return flat_size(state->nchannels, state->name_bytes, state->npaths, state->nsteps);
}

/* Write the flat form: channels in name order, paths in canonical order. */
static void
jp_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	JourneyPathsState *state = (JourneyPathsState *) eohptr;
	JourneyPaths *flat = (JourneyPaths *) result;
	int32	   *channel_order = palloc(Max(state->nchannels, 1) * sizeof(int32));
	int32	   *rank = palloc(Max(state->nchannels, 1) * sizeof(int32));
	int32	   *path_order = palloc_extended(Max(state->npaths, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	PathOrder	order;
	PathStats  *stats;
	int32	   *path_ends;
	int32	   *steps;
	int32	   *name_ends;
	char	   *names;
	int32		offset = 0;
	int32		i;

	Assert(allocated_size == jp_get_flat_size(eohptr));
	for (i = 0; i < state->nchannels; i++)
		channel_order[i] = i;
	qsort_arg(channel_order, state->nchannels, sizeof(int32), compare_channels, state->channels);
	for (i = 0; i < state->nchannels; i++)
		rank[channel_order[i]] = i;
	for (i = 0; i < state->npaths; i++)
		path_order[i] = i;
	order.state = state;
	order.rank = rank;
	qsort_arg(path_order, state->npaths, sizeof(int32), compare_paths, &order);

	memset(flat, 0, sizeof(JourneyPaths));
	SET_VARSIZE(flat, allocated_size);
	flat->format = JOURNEY_PATHS_FORMAT;
	flat->nchannels = state->nchannels;
	flat->npaths = state->npaths;
	flat->nsteps = (int32) state->nsteps;
	stats = JP_STATS(flat);
	path_ends = JP_PATH_ENDS(flat);
	steps = JP_STEPS(flat);
	name_ends = JP_NAME_ENDS(flat);
	names = JP_NAMES(flat);
	for (i = 0; i < state->npaths; i++)
	{
		const PathEntry *path = &state->paths[path_order[i]];
		int32		k;

		stats[i] = path->stats;
		for (k = 0; k < path->len; k++)
			steps[offset + k] = rank[state->steps[path->start + k]];
		offset += path->len;
		path_ends[i] = offset;
	}
	offset = 0;
	for (i = 0; i < state->nchannels; i++)
	{
		const ChannelName *channel = &state->channels[channel_order[i]];

		memcpy(names + offset, channel->data, channel->len);
		offset += channel->len;
		name_ends[i] = offset;
	}
	Assert((Size) (names + offset - (char *) flat) == allocated_size);
	pfree(channel_order);
	pfree(rank);
	pfree(path_order);
}

/* The flat form of a state, palloc'd in the current context. */
JourneyPaths *
omnikpi_jp_state_flatten(JourneyPathsState *state)
{
	Size		size = jp_get_flat_size(&state->hdr);
	JourneyPaths *flat = palloc_extended(size, 0);

	jp_flatten_into(&state->hdr, flat, size);
	return flat;
}
