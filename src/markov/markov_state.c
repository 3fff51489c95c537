/*
 * markov_state.c: the working state of markov_model and rollup(markov_model),
 * an expanded object.
 *
 * The executor adopts a read-write expanded object whose context is a child
 * of the aggregate context, so the transition function updates one state in
 * place for the whole group.  The state holds three open-addressing hash
 * tables: channel names to channel numbers, channel tuples to state numbers,
 * and (from, to) state pairs to transition counts.  Its size is therefore
 * O(channels + states + transitions), whatever the number of rows.  It is
 * flattened to the canonical MarkovModel only when it leaves the aggregate.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
/*
 * arrayaccess.h's inline functions compare signed and unsigned offsets,
 * which -Wextra reports; the code is PostgreSQL's own.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "utils/arrayaccess.h"
#pragma GCC diagnostic pop
#include "utils/memutils.h"

#include "markov/markov.h"
#include "channel_summary/channel_summary.h"
#include "common/channel_name_hash.h"

#define INITIAL_CHANNELS	16
#define INITIAL_TUPLES		64
#define INITIAL_TRANSITION_SLOTS 256

static Size markov_get_flat_size(ExpandedObjectHeader *eohptr);
static void markov_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

const ExpandedObjectMethods omnikpi_markov_methods = {
	markov_get_flat_size,
	markov_flatten_into
};

static void
assert_state_valid(const MarkovState *state)
{
#ifdef USE_ASSERT_CHECKING
	int			i;
	Size		name_bytes = 0;

	Assert(state->order >= 1 && state->order <= MARKOV_MAX_ORDER);
	Assert(state->nchannels >= 0 && state->nchannels <= state->channel_capacity);
	Assert(state->ntuples >= 0 && state->ntuples <= state->tuple_capacity);
	Assert((state->channel_nslots & (state->channel_nslots - 1)) == 0);
	Assert((state->tuple_nslots & (state->tuple_nslots - 1)) == 0);
	Assert((state->transition_nslots & (state->transition_nslots - 1)) == 0);
	Assert(state->ntransitions <= state->transition_nslots / 2);
	for (i = 0; i < state->nchannels; i++)
		name_bytes += state->name_lens[i];
	Assert(name_bytes == state->name_bytes);
#endif
}

/* Bytes of the flat form; checked against MaxAllocSize by the callers. */
Size
omnikpi_markov_flat_size(int order, int64 nchannels, int64 ntuples, int64 ntransitions,
						 Size name_bytes)
{
	return sizeof(MarkovModel) + ntransitions * sizeof(MarkovTransition) +
		ntuples * order * sizeof(int32) + nchannels * sizeof(int32) + name_bytes;
}

/* 54000 when one more channel, state or transition would not fit in a value. */
static void
check_size(const MarkovState *state, int64 nchannels, int64 ntuples, int64 ntransitions,
		   Size name_bytes)
{
	if (nchannels > PG_INT32_MAX / 8 || ntuples > PG_INT32_MAX / 8 ||
		ntransitions > PG_INT32_MAX / 8 ||
		omnikpi_markov_flat_size(state->order, nchannels, ntuples, ntransitions,
								 name_bytes) > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Markov model would exceed the maximum size of %zu bytes",
						(Size) MaxAllocSize),
				 errhint("Use a lower order or fewer distinct channels.")));
}

/* A 64-bit mix (the finalizer of MurmurHash3). */
static inline uint64
mix64(uint64 h)
{
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint32
hash_tuple(const int32 *channels)
{
	uint64		a = ((uint64) (uint32) channels[0] << 32) | (uint32) channels[1];
	uint64		b = ((uint64) (uint32) channels[2] << 32) | (uint32) channels[3];

	return (uint32) mix64(mix64(a) ^ b);
}

/* A new empty state in its own context under parent. */
MarkovState *
omnikpi_markov_state_create(MemoryContext parent, int order)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "markov_model state",
											  ALLOCSET_DEFAULT_SIZES);
	MarkovState *state = MemoryContextAllocZero(cxt, sizeof(MarkovState));

	Assert(order >= 1 && order <= MARKOV_MAX_ORDER);
	EOH_init_header(&state->hdr, &omnikpi_markov_methods, cxt);
	state->order = order;
	state->channel_capacity = INITIAL_CHANNELS;
	state->names = MemoryContextAlloc(cxt, INITIAL_CHANNELS * sizeof(char *));
	state->name_lens = MemoryContextAlloc(cxt, INITIAL_CHANNELS * sizeof(int32));
	state->name_hashes = MemoryContextAlloc(cxt, INITIAL_CHANNELS * sizeof(uint32));
	state->single_state = MemoryContextAlloc(cxt, INITIAL_CHANNELS * sizeof(int32));
	state->channel_nslots = 4 * INITIAL_CHANNELS;
	state->channel_slots = MemoryContextAllocZero(cxt, state->channel_nslots * sizeof(MarkovSlot));
	state->tuple_capacity = INITIAL_TUPLES;
	state->tuples = MemoryContextAlloc(cxt, INITIAL_TUPLES * MARKOV_MAX_ORDER * sizeof(int32));
	state->tuple_hashes = MemoryContextAlloc(cxt, INITIAL_TUPLES * sizeof(uint32));
	state->tuple_nslots = 4 * INITIAL_TUPLES;
	state->tuple_slots = MemoryContextAllocZero(cxt, state->tuple_nslots * sizeof(MarkovSlot));
	state->transition_nslots = INITIAL_TRANSITION_SLOTS;
	state->transitions = MemoryContextAllocZero(cxt, INITIAL_TRANSITION_SLOTS * sizeof(MarkovEntry));
	assert_state_valid(state);
	return state;
}

/* A new state under parent holding the same transitions as d (flat or expanded). */
MarkovState *
omnikpi_markov_state_from_datum(Datum d, MemoryContext parent)
{
	MarkovModel *flat = DatumGetMarkovModelP(d);
	MarkovState *state = omnikpi_markov_state_create(parent, flat->order);

	omnikpi_markov_state_merge_flat(state, flat);
	return state;
}

/* Put index into the first free slot of hash's probe sequence. */
static void
slot_insert(MarkovSlot *slots, int32 nslots, uint32 hash, int32 index)
{
	uint32		mask = nslots - 1;
	uint32		slot = hash & mask;

	while (slots[slot].index != 0)
		slot = (slot + 1) & mask;
	slots[slot].hash = hash;
	slots[slot].index = index + 1;
}

/* Double the channel arrays and rehash. */
static void
grow_channels(MarkovState *state)
{
	MemoryContext cxt = state->hdr.eoh_context;
	int32		capacity = state->channel_capacity * 2;
	int32		i;

	state->names = repalloc_huge(state->names, capacity * sizeof(char *));
	state->name_lens = repalloc_huge(state->name_lens, capacity * sizeof(int32));
	state->name_hashes = repalloc_huge(state->name_hashes, capacity * sizeof(uint32));
	state->single_state = repalloc_huge(state->single_state, capacity * sizeof(int32));
	pfree(state->channel_slots);
	state->channel_nslots = 4 * capacity;
	state->channel_slots = MemoryContextAllocExtended(cxt, (Size) state->channel_nslots * sizeof(MarkovSlot),
													  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	state->channel_capacity = capacity;
	for (i = 0; i < state->nchannels; i++)
		slot_insert(state->channel_slots, state->channel_nslots, state->name_hashes[i], i);
}

/* The number of the channel called name, created when new. */
int32
omnikpi_markov_state_channel(MarkovState *state, const char *name, int len)
{
	uint32		hash = omnikpi_hash_channel_name(name, len);
	uint32		mask = state->channel_nslots - 1;
	uint32		slot;
	int32		index;

	for (slot = hash & mask; state->channel_slots[slot].index != 0; slot = (slot + 1) & mask)
	{
		if (state->channel_slots[slot].hash == hash)
		{
			int32		found = state->channel_slots[slot].index - 1;

			if (state->name_lens[found] == len && omnikpi_channel_names_equal(state->names[found], name, len))
				return found;
		}
	}
	check_size(state, (int64) state->nchannels + 1, state->ntuples, state->ntransitions,
			   state->name_bytes + len);
	if (state->nchannels == state->channel_capacity)
		grow_channels(state);
	index = state->nchannels++;
	state->names[index] = MemoryContextAlloc(state->hdr.eoh_context, Max(len, 1));
	memcpy(state->names[index], name, len);
	state->name_lens[index] = len;
	state->name_hashes[index] = hash;
	state->single_state[index] = -1;
	state->name_bytes += len;
	slot_insert(state->channel_slots, state->channel_nslots, hash, index);
	return index;
}

static void
grow_tuples(MarkovState *state)
{
	MemoryContext cxt = state->hdr.eoh_context;
	int32		capacity = state->tuple_capacity * 2;
	int32		i;

	state->tuples = repalloc_huge(state->tuples, (Size) capacity * MARKOV_MAX_ORDER * sizeof(int32));
	state->tuple_hashes = repalloc_huge(state->tuple_hashes, capacity * sizeof(uint32));
	pfree(state->tuple_slots);
	state->tuple_nslots = 4 * capacity;
	state->tuple_slots = MemoryContextAllocExtended(cxt, (Size) state->tuple_nslots * sizeof(MarkovSlot),
													MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	state->tuple_capacity = capacity;
	for (i = 0; i < state->ntuples; i++)
		slot_insert(state->tuple_slots, state->tuple_nslots, state->tuple_hashes[i], i);
}

/*
 * The state number of the tuple channels[0 .. len - 1] (1 <= len <= order,
 * no channel twice in a row: the callers check), created when new.
 */
int32
omnikpi_markov_state_tuple(MarkovState *state, const int32 *channels, int len)
{
	int32		key[MARKOV_MAX_ORDER] = {-1, -1, -1, -1};
	uint32		hash;
	uint32		mask = state->tuple_nslots - 1;
	uint32		slot;
	int32		index;

	Assert(len >= 1 && len <= state->order);
	if (len == 1 && state->single_state[channels[0]] >= 0)
		return state->single_state[channels[0]];
	memcpy(key, channels, len * sizeof(int32));
	hash = hash_tuple(key);
	for (slot = hash & mask; state->tuple_slots[slot].index != 0; slot = (slot + 1) & mask)
	{
		if (state->tuple_slots[slot].hash == hash)
		{
			int32		found = state->tuple_slots[slot].index - 1;

			if (memcmp(state->tuples + (Size) found * MARKOV_MAX_ORDER, key, sizeof(key)) == 0)
				return MARKOV_FIRST_TUPLE + found;
		}
	}
	check_size(state, state->nchannels, (int64) state->ntuples + 1, state->ntransitions,
			   state->name_bytes);
	if (state->ntuples == state->tuple_capacity)
		grow_tuples(state);
	index = state->ntuples++;
	memcpy(state->tuples + (Size) index * MARKOV_MAX_ORDER, key, sizeof(key));
	state->tuple_hashes[index] = hash;
	slot_insert(state->tuple_slots, state->tuple_nslots, hash, index);
	if (len == 1)
		state->single_state[channels[0]] = MARKOV_FIRST_TUPLE + index;
	return MARKOV_FIRST_TUPLE + index;
}

static inline uint32
hash_transition(uint64 key)
{
	return (uint32) mix64(key);
}

/* Double the transition table and rehash. */
static void
grow_transitions(MarkovState *state)
{
	MarkovEntry *old = state->transitions;
	int32		old_nslots = state->transition_nslots;
	int32		nslots = old_nslots * 2;
	uint32		mask = nslots - 1;
	int32		i;

	state->transitions = MemoryContextAllocExtended(state->hdr.eoh_context,
													(Size) nslots * sizeof(MarkovEntry),
													MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	state->transition_nslots = nslots;
	for (i = 0; i < old_nslots; i++)
	{
		uint32		slot;

		if (old[i].key == 0)
			continue;
		for (slot = hash_transition(old[i].key) & mask; state->transitions[slot].key != 0;
			 slot = (slot + 1) & mask)
			;
		state->transitions[slot] = old[i];
	}
	pfree(old);
}

/* The channel a step touches, or -1 for the steps that end a journey. */
static inline int32
step_channel(int32 step)
{
	return step >= MARKOV_FIRST_TUPLE ? step - MARKOV_FIRST_TUPLE : -1;
}

/*
 * The state a step leads to from state from: an end, or from's channels
 * (without the first at full length) followed by the step's channel.
 */
static int32
step_target(MarkovState *state, int32 from, int32 step)
{
	int32		channels[MARKOV_MAX_ORDER];
	int			len = 0;

	if (step < MARKOV_FIRST_TUPLE)
		return step;
	if (from != MARKOV_START)
	{
		const int32 *tuple = state->tuples + (Size) (from - MARKOV_FIRST_TUPLE) * MARKOV_MAX_ORDER;
		int			from_len = 0;
		int			i;

		while (from_len < state->order && tuple[from_len] >= 0)
			from_len++;
		for (i = from_len == state->order ? 1 : 0; i < from_len; i++)
			channels[len++] = tuple[i];
	}
	channels[len++] = step_channel(step);
	return omnikpi_markov_state_tuple(state, channels, len);
}

/*
 * The entry of the transition (from, step), created with count 0 when new;
 * *created says which.  The caller checked that the step is a valid move
 * (a channel other than from's last, or an end from a channel state).
 */
static inline MarkovEntry *
transition_entry(MarkovState *state, int32 from, int32 step, bool *created)
{
	uint64		key = ((uint64) (uint32) from << 32) | (uint32) step;
	uint32		mask = state->transition_nslots - 1;
	uint32		slot;
	MarkovEntry *entry;

	Assert(key != 0);			/* (start) never ends a journey */
	for (slot = hash_transition(key) & mask;; slot = (slot + 1) & mask)
	{
		entry = &state->transitions[slot];
		if (entry->key == key)
		{
			*created = false;
			return entry;
		}
		if (entry->key == 0)
			break;
	}
	check_size(state, state->nchannels, state->ntuples, (int64) state->ntransitions + 1,
			   state->name_bytes);
	if (state->ntransitions + 1 > state->transition_nslots / 2)
	{
		grow_transitions(state);
		return transition_entry(state, from, step, created);
	}
	/* find the target before claiming the slot: it may fail on size */
	entry->to = step_target(state, from, step);
	entry->key = key;
	entry->count = 0.0;
	entry->value = 0.0;
	state->ntransitions++;
	*created = true;
	return entry;
}

/* Add count and value to an entry; 22003 when a sum leaves the doubles. */
static inline void
entry_add(MarkovEntry *entry, double count, double value)
{
	entry->count += count;
	entry->value += value;
	if (unlikely(!isfinite(entry->count) || !isfinite(entry->value)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("transition count or conversion value of a Markov model is out of range")));
}

/*
 * Add count (> 0) and value to the transition from -> to, where to follows
 * from by one touch or ends the journey.  Returns false when the state
 * rejects duplicates (reading a model's text or binary form) and the
 * transition is already there; then nothing is added.
 */
bool
omnikpi_markov_state_add_transition(MarkovState *state, int32 from, int32 to,
									double count, double value)
{
	int32		step = to;
	bool		created;
	MarkovEntry *entry;

	if (to >= MARKOV_FIRST_TUPLE)
	{
		const int32 *tuple = state->tuples + (Size) (to - MARKOV_FIRST_TUPLE) * MARKOV_MAX_ORDER;
		int			len = 0;

		while (len < state->order && tuple[len] >= 0)
			len++;
		step = tuple[len - 1] + MARKOV_FIRST_TUPLE;
	}
	entry = transition_entry(state, from, step, &created);
	Assert(entry->to == to);
	if (!created && state->reject_duplicates)
		return false;
	entry_add(entry, count, value);
	return true;
}

/*
 * Add one journey: every transition along its path with weight conversions +
 * non_conversions, then the last state's move to (conversion) with
 * conversions and value, and to (null) with non_conversions.  NULL channels
 * are skipped and consecutive repeats collapse.  Returns false, adding
 * nothing, when the path has no channel left.
 */
bool
omnikpi_markov_state_add_path(MarkovState *state, AnyArrayType *path, double conversions,
							  double non_conversions, double value)
{
	int			nitems;
	array_iter	iter;
	int			i;
	int32		previous_channel = -1;
	int32		current = MARKOV_START;
	double		weight = conversions + non_conversions;
	bool		created;

	if (AARR_NDIM(path) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a journey's path must be a one-dimensional array"),
				 errdetail("The path has %d dimensions.", AARR_NDIM(path))));
	nitems = ArrayGetNItems(AARR_NDIM(path), AARR_DIMS(path));
	array_iter_setup(&iter, path);
	for (i = 0; i < nitems; i++)
	{
		bool		isnull;
		Datum		element = array_iter_next(&iter, &isnull, i, -1, false, TYPALIGN_INT);
		int32		channel;
		MarkovEntry *entry;

		if (isnull)
			continue;
		channel = omnikpi_markov_state_channel(state, VARDATA_ANY(DatumGetPointer(element)),
											   VARSIZE_ANY_EXHDR(DatumGetPointer(element)));
		if (channel == previous_channel)
			continue;
		previous_channel = channel;
		entry = transition_entry(state, current, channel + MARKOV_FIRST_TUPLE, &created);
		entry_add(entry, weight, 0.0);
		current = entry->to;
		if ((i & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
	}
	if (current == MARKOV_START)
		return false;
	if (conversions > 0)
		entry_add(transition_entry(state, current, MARKOV_CONVERSION, &created), conversions, value);
	if (non_conversions > 0)
		entry_add(transition_entry(state, current, MARKOV_NULL, &created), non_conversions, 0.0);
	assert_state_valid(state);
	return true;
}

/* The error of mixing orders, shared by the aggregates and rollup. */
void
omnikpi_report_order_mismatch(int have, int got)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot combine Markov models of order %d and %d", have, got),
			 errhint("Build and combine models of one order only.")));
}

/* Add every transition of a flat model (of the same order). */
void
omnikpi_markov_state_merge_flat(MarkovState *state, const MarkovModel *flat)
{
	int32	   *channel_map;
	int32	   *state_map;
	const int32 *tuples = MARKOV_TUPLES(flat);
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(flat);
	int			i;

	if (flat->order != state->order)
		omnikpi_report_order_mismatch(state->order, flat->order);
	channel_map = palloc(Max(flat->nchannels, 1) * sizeof(int32));
	state_map = palloc(((Size) flat->ntuples + MARKOV_FIRST_TUPLE) * sizeof(int32));
	for (i = 0; i < flat->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_markov_channel_name(flat, i, &len);

		channel_map[i] = omnikpi_markov_state_channel(state, name, len);
	}
	state_map[MARKOV_START] = MARKOV_START;
	state_map[MARKOV_CONVERSION] = MARKOV_CONVERSION;
	state_map[MARKOV_NULL] = MARKOV_NULL;
	for (i = 0; i < flat->ntuples; i++)
	{
		int32		channels[MARKOV_MAX_ORDER];
		int			len = 0;

		while (len < flat->order && tuples[(Size) i * flat->order + len] >= 0)
		{
			channels[len] = channel_map[tuples[(Size) i * flat->order + len]];
			len++;
		}
		state_map[MARKOV_FIRST_TUPLE + i] = omnikpi_markov_state_tuple(state, channels, len);
	}
	for (i = 0; i < flat->ntransitions; i++)
		omnikpi_markov_state_add_transition(state, state_map[transitions[i].from],
											state_map[transitions[i].to],
											transitions[i].count, transitions[i].value);
	pfree(channel_map);
	pfree(state_map);
	assert_state_valid(state);
}

/* ---- flattening: the canonical sorted form ---- */

typedef struct FlattenContext
{
	const MarkovState *state;
	const int32 *channel_rank;	/* channel -> its position in name order */
} FlattenContext;

static int
compare_channels(const void *a, const void *b, void *arg)
{
	const MarkovState *state = (const MarkovState *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;
	int			cmp = memcmp(state->names[x], state->names[y],
							 Min(state->name_lens[x], state->name_lens[y]));

	if (cmp != 0)
		return cmp;
	return (state->name_lens[x] > state->name_lens[y]) - (state->name_lens[x] < state->name_lens[y]);
}

static int
tuple_length(const int32 *tuple)
{
	int			len = 0;

	while (len < MARKOV_MAX_ORDER && tuple[len] >= 0)
		len++;
	return len;
}

/* Tuples by length, then channel by channel in name order. */
static int
compare_tuples(const void *a, const void *b, void *arg)
{
	const FlattenContext *context = (const FlattenContext *) arg;
	const int32 *x = context->state->tuples + (Size) (*(const int32 *) a) * MARKOV_MAX_ORDER;
	const int32 *y = context->state->tuples + (Size) (*(const int32 *) b) * MARKOV_MAX_ORDER;
	int			xlen = tuple_length(x);
	int			ylen = tuple_length(y);
	int			i;

	if (xlen != ylen)
		return (xlen > ylen) - (xlen < ylen);
	for (i = 0; i < xlen; i++)
	{
		int32		rx = context->channel_rank[x[i]];
		int32		ry = context->channel_rank[y[i]];

		if (rx != ry)
			return (rx > ry) - (rx < ry);
	}
	return 0;
}

static int
compare_transitions(const void *a, const void *b)
{
	const MarkovTransition *x = (const MarkovTransition *) a;
	const MarkovTransition *y = (const MarkovTransition *) b;

	if (x->from != y->from)
		return (x->from > y->from) - (x->from < y->from);
	return (x->to > y->to) - (x->to < y->to);
}

static Size
markov_get_flat_size(ExpandedObjectHeader *eohptr)
{
	MarkovState *state = (MarkovState *) eohptr;

	return omnikpi_markov_flat_size(state->order, state->nchannels, state->ntuples,
									state->ntransitions, state->name_bytes);
}

static void
markov_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	MarkovState *state = (MarkovState *) eohptr;
	MarkovModel *flat = (MarkovModel *) result;
	int32	   *channel_order = palloc(Max(state->nchannels, 1) * sizeof(int32));
	int32	   *channel_rank = palloc(Max(state->nchannels, 1) * sizeof(int32));
	int32	   *tuple_order = palloc(Max(state->ntuples, 1) * sizeof(int32));
	int32	   *state_rank = palloc(((Size) state->ntuples + MARKOV_FIRST_TUPLE) * sizeof(int32));
	FlattenContext context;
	MarkovTransition *transitions;
	int32	   *tuples;
	int32	   *name_ends;
	char	   *names;
	int32		offset = 0;
	int32		n = 0;
	int			i;
	int			j;

	for (i = 0; i < state->nchannels; i++)
		channel_order[i] = i;
	qsort_arg(channel_order, state->nchannels, sizeof(int32), compare_channels, state);
	for (i = 0; i < state->nchannels; i++)
		channel_rank[channel_order[i]] = i;
	for (i = 0; i < state->ntuples; i++)
		tuple_order[i] = i;
	context.state = state;
	context.channel_rank = channel_rank;
	qsort_arg(tuple_order, state->ntuples, sizeof(int32), compare_tuples, &context);
	for (i = 0; i < MARKOV_FIRST_TUPLE; i++)
		state_rank[i] = i;
	for (i = 0; i < state->ntuples; i++)
		state_rank[MARKOV_FIRST_TUPLE + tuple_order[i]] = MARKOV_FIRST_TUPLE + i;

	memset(flat, 0, sizeof(MarkovModel));
	SET_VARSIZE(flat, allocated_size);
	flat->format = MARKOV_FORMAT;
	flat->order = state->order;
	flat->nchannels = state->nchannels;
	flat->ntuples = state->ntuples;
	flat->ntransitions = state->ntransitions;

	transitions = MARKOV_TRANSITIONS(flat);
	for (i = 0; i < state->transition_nslots; i++)
	{
		const MarkovEntry *entry = &state->transitions[i];

		if (entry->key == 0)
			continue;
		transitions[n].from = state_rank[(int32) (entry->key >> 32)];
		transitions[n].to = state_rank[entry->to];
		transitions[n].count = entry->count;
		transitions[n].value = entry->value;
		n++;
	}
	Assert(n == state->ntransitions);
	qsort(transitions, n, sizeof(MarkovTransition), compare_transitions);

	tuples = MARKOV_TUPLES(flat);
	for (i = 0; i < state->ntuples; i++)
	{
		const int32 *tuple = state->tuples + (Size) tuple_order[i] * MARKOV_MAX_ORDER;

		for (j = 0; j < state->order; j++)
			tuples[(Size) i * state->order + j] = tuple[j] >= 0 ? channel_rank[tuple[j]] : -1;
	}

	name_ends = MARKOV_NAME_ENDS(flat);
	names = MARKOV_NAMES(flat);
	for (i = 0; i < state->nchannels; i++)
	{
		int32		c = channel_order[i];

		memcpy(names + offset, state->names[c], state->name_lens[c]);
		offset += state->name_lens[c];
		name_ends[i] = offset;
	}
	Assert((Size) (names + offset - (char *) flat) == allocated_size);
	pfree(channel_order);
	pfree(channel_rank);
	pfree(tuple_order);
	pfree(state_rank);
}

/* The flat form of a state, palloc'd in the current context. */
MarkovModel *
omnikpi_markov_state_flatten(MarkovState *state)
{
	Size		size = markov_get_flat_size(&state->hdr);
	MarkovModel *flat = palloc(size);

	markov_flatten_into(&state->hdr, flat, size);
	return flat;
}
