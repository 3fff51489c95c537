/*
 * summary_state.c: the aggregates' working state, an expanded object.
 *
 * The executor adopts a read-write expanded object whose memory context is a
 * child of the aggregate context, so the transition functions update one
 * state in place for the whole group: no copy per row, and a real hash table
 * from channel name to a dense array of ChannelStats, however many channels
 * there are.  The state is flattened to the sorted ChannelSummary varlena
 * only when it leaves the aggregate (output, storage, parallel workers).
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/memutils.h"

#include "channel_summary/channel_summary.h"
#include "common/channel_name_hash.h"

#define INITIAL_CAPACITY	8
#define SLOTS_PER_CHANNEL	4

static Size summary_get_flat_size(ExpandedObjectHeader *eohptr);
static void summary_flatten_into(ExpandedObjectHeader *eohptr,
								 void *result, Size allocated_size);

const ExpandedObjectMethods omnikpi_summary_methods = {
	summary_get_flat_size,
	summary_flatten_into
};

static void
assert_state_valid(const SummaryState *state)
{
#ifdef USE_ASSERT_CHECKING
	int			i;
	Size		name_bytes = 0;

	Assert(state->nchannels >= 0 && state->nchannels <= state->capacity);
	Assert(state->nslots >= SLOTS_PER_CHANNEL * state->capacity);
	Assert((state->nslots & (state->nslots - 1)) == 0);
	for (i = 0; i < state->nchannels; i++)
	{
		Assert(state->stats[i].count >= 0);
		Assert(state->stats[i].count == 0 ||
			   state->stats[i].min <= state->stats[i].max);
		name_bytes += state->names[i].len;
	}
	Assert(name_bytes == state->name_bytes);
#endif
}

/* Size of the flat form of n channels whose names take name_bytes. */
static Size
flat_size(int64 nchannels, Size name_bytes)
{
	return sizeof(ChannelSummary) +
		nchannels * (sizeof(ChannelStats) + sizeof(int32)) + name_bytes;
}

/* A new empty state in its own context under parent (the aggregate context). */
SummaryState *
omnikpi_summary_state_create(MemoryContext parent, SummaryScale scale)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "channel_summary state",
											  ALLOCSET_SMALL_SIZES);
	SummaryState *state = MemoryContextAllocZero(cxt, sizeof(SummaryState));

	EOH_init_header(&state->hdr, &omnikpi_summary_methods, cxt);
	state->scale = scale;
	state->capacity = INITIAL_CAPACITY;
	state->stats = MemoryContextAlloc(cxt, INITIAL_CAPACITY * sizeof(ChannelStats));
	state->sum_low = MemoryContextAlloc(cxt, INITIAL_CAPACITY * sizeof(double));
	state->names = MemoryContextAlloc(cxt, INITIAL_CAPACITY * sizeof(ChannelName));
	state->nslots = SLOTS_PER_CHANNEL * INITIAL_CAPACITY;
	state->slots = MemoryContextAllocZero(cxt, state->nslots * sizeof(ChannelSlot));
	assert_state_valid(state);
	return state;
}

/* A state for moving windows: exact sums, so that removals undo additions. */
SummaryState *
omnikpi_summary_state_create_moving(MemoryContext parent, SummaryScale scale)
{
	SummaryState *state = omnikpi_summary_state_create(parent, scale);

	state->moving = true;
	return state;
}

/* Is d an expanded channel_summary state (read-write or read-only)? */
bool
omnikpi_summary_state_is_ours(Datum d)
{
	return VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &omnikpi_summary_methods;
}

/* The state behind an expanded datum; the caller checked omnikpi_summary_state_is_ours. */
SummaryState *
omnikpi_summary_state_from_expanded(Datum d)
{
	Assert(omnikpi_summary_state_is_ours(d));
	return (SummaryState *) DatumGetEOHP(d);
}

/* A new state under parent holding the same channels as d (flat or expanded). */
SummaryState *
omnikpi_summary_state_from_datum(Datum d, MemoryContext parent)
{
	ChannelSummary *flat = DatumGetChannelSummaryP(d);
	SummaryState *state = omnikpi_summary_state_create(parent, omnikpi_summary_scale(flat));

	omnikpi_summary_state_merge_flat(state, flat);
	return state;
}

/* Double the arrays and rehash; one copy per doubling, not per row. */
static void
grow(SummaryState *state)
{
	MemoryContext cxt = state->hdr.eoh_context;
	int32		capacity;
	int32		i;

	if (state->capacity > PG_INT32_MAX / (2 * SLOTS_PER_CHANNEL))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("channel summary cannot hold more than %d channels",
						state->capacity)));
	capacity = state->capacity * 2;
	state->stats = repalloc_huge(state->stats, capacity * sizeof(ChannelStats));
	state->sum_low = repalloc_huge(state->sum_low, capacity * sizeof(double));
	state->names = repalloc_huge(state->names, capacity * sizeof(ChannelName));
	pfree(state->slots);
	state->nslots = SLOTS_PER_CHANNEL * capacity;
	state->slots = MemoryContextAllocExtended(cxt, (Size) state->nslots * sizeof(ChannelSlot),
											  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	state->capacity = capacity;
	for (i = 0; i < state->nchannels; i++)
	{
		uint32		mask = state->nslots - 1;
		uint32		slot = state->names[i].hash & mask;

		while (state->slots[slot].index != 0)
			slot = (slot + 1) & mask;
		state->slots[slot].hash = state->names[i].hash;
		state->slots[slot].index = i + 1;
	}
}

/*
 * Index of the channel called name, or -1 when it is absent and create is
 * false.  A created channel starts with count 0.
 */
static inline int
lookup(SummaryState *state, const char *name, int len, bool create)
{
	uint32		hash = omnikpi_hash_channel_name(name, len);
	uint32		mask = state->nslots - 1;
	uint32		slot = hash & mask;
	int32		index;

	for (; state->slots[slot].index != 0; slot = (slot + 1) & mask)
	{
		if (state->slots[slot].hash == hash)
		{
			int32		found = state->slots[slot].index - 1;
			const ChannelName *existing = &state->names[found];

			if (existing->len == len && omnikpi_channel_names_equal(existing->data, name, len))
				return found;
		}
	}
	if (!create)
		return -1;

	if (flat_size((int64) state->nchannels + 1, state->name_bytes + len) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("channel summary would exceed the maximum size of %zu bytes",
						(Size) MaxAllocSize)));
	if (state->nchannels == state->capacity)
	{
		grow(state);
		mask = state->nslots - 1;
		for (slot = hash & mask; state->slots[slot].index != 0; slot = (slot + 1) & mask)
			;
	}

	index = state->nchannels++;
	state->names[index].data = MemoryContextAlloc(state->hdr.eoh_context, Max(len, 1));
	memcpy(state->names[index].data, name, len);
	state->names[index].len = len;
	state->names[index].hash = hash;
	state->stats[index].count = 0;
	state->sum_low[index] = 0.0;
	state->slots[slot].hash = hash;
	state->slots[slot].index = index + 1;
	state->name_bytes += len;
	return index;
}

/* Add one value (already validated) to its channel. */
void
omnikpi_summary_state_add(SummaryState *state, const char *name, int len, double value)
{
	int			i = lookup(state, name, len, true);

	if (!state->moving)
		channel_stats_add(&state->stats[i], &state->sum_low[i], value);
	else if (!omnikpi_channel_stats_add_exact(&state->stats[i], &state->sum_low[i], value))
		state->inexact = true;
	if (unlikely(!isfinite(state->stats[i].sum)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sum of channel \"%s\" is out of range",
						omnikpi_clip_for_message(name, len))));
	assert_state_valid(state);
}

/*
 * Remove a value that was added before.  Returns false when the state can no
 * longer give exact sums, so the caller must recompute from scratch.
 */
bool
omnikpi_summary_state_remove(SummaryState *state, const char *name, int len, double value)
{
	int			i = lookup(state, name, len, false);

	Assert(state->moving);
	if (i < 0 || state->stats[i].count == 0)
		elog(ERROR, "channel_summary: removing a value of channel \"%s\" that was never added",
			 omnikpi_clip_for_message(name, len));
	if (!omnikpi_channel_stats_remove(&state->stats[i], &state->sum_low[i], value))
		state->inexact = true;
	assert_state_valid(state);
	return !state->inexact;
}

/*
 * Merge one channel's stats.  With reject_duplicate (reading a summary's text
 * or binary form) a channel that is already present is invalid input: then
 * nothing is merged and the result is false.
 */
bool
omnikpi_summary_state_insert_stats(SummaryState *state, const char *name, int len,
								   const ChannelStats *stats, bool reject_duplicate)
{
	int			i = lookup(state, name, len, true);

	if (reject_duplicate && state->stats[i].count != 0)
		return false;
	omnikpi_channel_stats_merge(&state->stats[i], &state->sum_low[i], stats);
	if (!isfinite(state->stats[i].sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sum of channel \"%s\" is out of range",
						omnikpi_clip_for_message(name, len))));
	assert_state_valid(state);
	return true;
}

/* The error of summary_state_check_scale, out of line. */
void
omnikpi_report_scale_mismatch(SummaryScale have, SummaryScale got)
{
	if (have.known && got.known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot mix the scales %s to %s and %s to %s in one aggregate",
						float8out_internal(have.min), float8out_internal(have.max),
						float8out_internal(got.min), float8out_internal(got.max)),
				 errhint("Use one scale for all rows and summaries that are aggregated together.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot mix a channel summary without a scale and one on the scale %s to %s in one aggregate",
					float8out_internal(have.known ? have.min : got.min),
					float8out_internal(have.known ? have.max : got.max)),
			 errdetail("Summaries of values have no scale; summaries of flags and the states of the KPI aggregates have one.")));
}

/* Add every channel of a flat summary. */
void
omnikpi_summary_state_merge_flat(SummaryState *state, const ChannelSummary *flat)
{
	const ChannelStats *stats = SUMMARY_STATS(flat);
	int			i;

	summary_state_check_scale(state, omnikpi_summary_scale(flat));
	for (i = 0; i < flat->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_summary_channel_name(flat, i, &len);

		omnikpi_summary_state_insert_stats(state, name, len, &stats[i], false);
	}
}

/* qsort_arg comparator: channel indexes by name, in byte order. */
static int
compare_names(const void *a, const void *b, void *arg)
{
	const ChannelName *names = (const ChannelName *) arg;
	const ChannelName *x = &names[*(const int32 *) a];
	const ChannelName *y = &names[*(const int32 *) b];
	int			cmp = memcmp(x->data, y->data, Min(x->len, y->len));

	if (cmp != 0)
		return cmp;
	return (x->len > y->len) - (x->len < y->len);
}

static Size
summary_get_flat_size(ExpandedObjectHeader *eohptr)
{
	SummaryState *state = (SummaryState *) eohptr;
	int64		nchannels = 0;
	Size		name_bytes = 0;
	int			i;

	for (i = 0; i < state->nchannels; i++)
	{
		if (state->stats[i].count == 0)
			continue;
		nchannels++;
		name_bytes += state->names[i].len;
	}
	return flat_size(nchannels, name_bytes);
}

/*
 * Write the sorted flat form.  Channels emptied by a moving window are left
 * out; the sum written is high + low, rounded once.
 */
static void
summary_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	SummaryState *state = (SummaryState *) eohptr;
	ChannelSummary *flat = (ChannelSummary *) result;
	int32	   *order = palloc(Max(state->nchannels, 1) * sizeof(int32));
	int32		nchannels = 0;
	ChannelStats *stats;
	int32	   *name_ends;
	char	   *names;
	int32		offset = 0;
	int			i;

	for (i = 0; i < state->nchannels; i++)
		if (state->stats[i].count != 0)
			order[nchannels++] = i;
	qsort_arg(order, nchannels, sizeof(int32), compare_names, state->names);

	memset(flat, 0, sizeof(ChannelSummary));
	SET_VARSIZE(flat, allocated_size);
	flat->format = CHANNEL_SUMMARY_FORMAT;
	flat->flags = state->scale.known ? SUMMARY_HAS_SCALE : 0;
	flat->nchannels = nchannels;
	flat->scale_min = state->scale.known ? state->scale.min : 0.0;
	flat->scale_max = state->scale.known ? state->scale.max : 0.0;
	stats = SUMMARY_STATS(flat);
	name_ends = SUMMARY_NAME_ENDS(flat);
	names = SUMMARY_NAMES(flat);
	for (i = 0; i < nchannels; i++)
	{
		const ChannelName *name = &state->names[order[i]];

		stats[i] = state->stats[order[i]];
		stats[i].sum += state->sum_low[order[i]];
		memcpy(names + offset, name->data, name->len);
		offset += name->len;
		name_ends[i] = offset;
	}
	Assert((Size) (names + offset - (char *) flat) == allocated_size);
	pfree(order);
}

/* The flat form of a state, palloc'd in the current context. */
ChannelSummary *
omnikpi_summary_state_flatten(SummaryState *state)
{
	Size		size = summary_get_flat_size(&state->hdr);
	ChannelSummary *flat = palloc(size);

	summary_flatten_into(&state->hdr, flat, size);
	return flat;
}
