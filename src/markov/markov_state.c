/*
 * markov_state.c: the working state of markov_model and rollup(markov_model)
 * on the engine of common/aggregate_state.h: the order, and three key
 * tables -- channel names to channel numbers, channel tuples to state
 * numbers, and (from, step) to transition counts.  Its size is therefore
 * O(channels + states + transitions), whatever the number of rows.  It is
 * stored as the canonical MarkovModel.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "common/journey_journal.h"
#include "common/messages.h"
#include "markov/markov.h"

static void
assert_state_valid(const StateBody *body)
{
	omnikpi_state_assert_valid(body, &omnikpi_markov_family);
	Assert(markov_header(body)->order >= 1 && markov_header(body)->order <= MARKOV_MAX_ORDER);
}

/* Bytes of the stored form; checked against MaxAllocSize by the callers. */
Size
omnikpi_markov_flat_size(int order, int64 nchannels, int64 ntuples, int64 ntransitions,
						 Size name_bytes)
{
	return sizeof(MarkovModel) + ntransitions * sizeof(MarkovTransition) +
		ntuples * order * sizeof(int32) + nchannels * sizeof(int32) + name_bytes;
}

/*
 * 54000 when the stored form could not hold one more key: a channel (whose
 * name takes key_len bytes), a state or a transition.
 */
static void
markov_check_add(const StateBody *body, int table, int32 key_len)
{
	const KeyTable *channels = omnikpi_state_table(body, MARKOV_TABLE_CHANNELS);
	int64		nchannels = channels->nentries + (table == MARKOV_TABLE_CHANNELS);
	int64		ntuples = omnikpi_state_table(body, MARKOV_TABLE_TUPLES)->nentries +
		(table == MARKOV_TABLE_TUPLES);
	int64		ntransitions = omnikpi_state_table(body, MARKOV_TABLE_TRANSITIONS)->nentries +
		(table == MARKOV_TABLE_TRANSITIONS);
	Size		name_bytes = channels->total_length +
		(table == MARKOV_TABLE_CHANNELS ? key_len : 0);

	/*
	 * Every new key of every row comes here: far below the limits (a stored
	 * form of at most 2^26 bytes), skip computing the stored size.
	 */
	if (likely(nchannels + ntuples + ntransitions < (1 << 20) && name_bytes < (1 << 24)))
		return;
	if (nchannels > PG_INT32_MAX / 8 || ntuples > PG_INT32_MAX / 8 ||
		ntransitions > PG_INT32_MAX / 8 ||
		omnikpi_markov_flat_size(markov_header(body)->order, nchannels, ntuples, ntransitions,
								 name_bytes) > MaxAllocSize)
		omnikpi_report_too_large("markov_model", "Use a lower order or fewer distinct channels.");
}

/* A new empty model in the current memory context, for input functions. */
void
omnikpi_markov_state_new_private(StateRef *ref, int order, bool keep_repeats)
{
	Assert(order >= 1 && order <= MARKOV_MAX_ORDER);
	omnikpi_state_new_private(ref, &omnikpi_markov_family, CurrentMemoryContext);
	markov_header(ref->body)->order = order;
	markov_header(ref->body)->keep_repeats = keep_repeats;
}

static MarkovChannel *
markov_channel(const StateBody *body, int32 channel)
{
	return key_table_payload(omnikpi_state_table(body, MARKOV_TABLE_CHANNELS), channel);
}

/* The channels of tuple number tuple, -1 padded; returns how many there are. */
static int
tuple_channels(const StateBody *body, int32 tuple, int32 *channels)
{
	char		buffer[KEY_INLINE_BYTES];
	int32		len;
	const char *key = key_table_key(omnikpi_state_table(body, MARKOV_TABLE_TUPLES), tuple,
									buffer, &len);
	int			n = 0;

	Assert(len == MARKOV_MAX_ORDER * sizeof(int32));
	memcpy(channels, key, MARKOV_MAX_ORDER * sizeof(int32));
	while (n < MARKOV_MAX_ORDER && channels[n] >= 0)
		n++;
	return n;
}

/*
 * The state number of the tuple channels[0 .. len - 1] (1 <= len <= order;
 * a channel twice in a row only in a model that keeps repeats: the callers
 * check), created when new.
 */
int32
omnikpi_markov_state_tuple(StateRef *ref, const int32 *channels, int len)
{
	int32		key[MARKOV_MAX_ORDER] = {-1, -1, -1, -1};
	KeyProbe	probe;
	int32		tuple;

	Assert(len >= 1 && len <= markov_header(ref->body)->order);
	if (len == 1 && markov_channel(ref->body, channels[0])->single_state != 0)
		return markov_channel(ref->body, channels[0])->single_state;
	memcpy(key, channels, len * sizeof(int32));
	key_probe_init(&probe, (const char *) key, sizeof(key));
	tuple = omnikpi_state_find_or_add(ref, MARKOV_TABLE_TUPLES, &probe);
	if (len == 1)
		markov_channel(ref->body, channels[0])->single_state = MARKOV_FIRST_TUPLE + tuple;
	return MARKOV_FIRST_TUPLE + tuple;
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
step_target(StateRef *ref, int32 from, int32 step)
{
	int32		channels[MARKOV_MAX_ORDER + 1];
	int			len = 0;

	if (step < MARKOV_FIRST_TUPLE)
		return step;
	if (from != MARKOV_START)
	{
		int			from_len = tuple_channels(ref->body, from - MARKOV_FIRST_TUPLE, channels);

		if (from_len == markov_header(ref->body)->order)
		{
			memmove(channels, channels + 1, (from_len - 1) * sizeof(int32));
			from_len--;
		}
		len = from_len;
	}
	channels[len++] = step_channel(step);
	return omnikpi_markov_state_tuple(ref, channels, len);
}

/*
 * The key of the transition (from, step): the two numbers side by side in
 * one word, which the table compares whole (key_table_find_word).
 */
static inline uint64
transition_key(int32 from, int32 step)
{
	return ((uint64) (uint32) from << 32) | (uint32) step;
}

/* The transition (from, step), new: added with count 0. */
static pg_noinline MarkovCount *
transition_added(StateRef *ref, int32 from, int32 step)
{
	uint64		key = transition_key(from, step);
	KeyProbe	probe;
	MarkovCount *transition;
	int32		to;
	int32		i;

	/* the target first: finding it may add a tuple and move the body */
	to = step_target(ref, from, step);
	key_probe_init(&probe, (const char *) &key, sizeof(key));
	i = omnikpi_state_add_key(ref, MARKOV_TABLE_TRANSITIONS, &probe);
	transition = key_table_payload(omnikpi_state_table(ref->body, MARKOV_TABLE_TRANSITIONS), i);
	/* an end's payload keeps its value, zeroed by the table */
	if (step >= MARKOV_FIRST_TUPLE)
		transition->u.to = to;
	return transition;
}

/*
 * The transition (from, step), created with count 0 when new; *created
 * says which.  The caller checked that the step is a valid move (a channel,
 * other than from's last unless the model keeps repeats, or an end from a
 * channel state).  Always inline: every touch of a journey finds its
 * transition here, and all but a state's first few find it.
 */
static pg_attribute_always_inline MarkovCount *
transition_count(StateRef *ref, int32 from, int32 step, bool *created)
{
	const KeyTable *transitions = omnikpi_state_table(ref->body, MARKOV_TABLE_TRANSITIONS);
	int32		i = key_table_find_word(transitions, transition_key(from, step));

	*created = i < 0;
	if (unlikely(i < 0))
		return transition_added(ref, from, step);
	return key_table_payload(transitions, i);
}

/* The state a transition by step leads to. */
static inline int32
count_target(const MarkovCount *transition, int32 step)
{
	return step >= MARKOV_FIRST_TUPLE ? transition->u.to : step;
}

/* Add count to a transition by a step into a channel; 22003 when the sum leaves the doubles. */
static inline void
count_add(MarkovCount *transition, double count)
{
	transition->count += count;
	if (unlikely(!isfinite(transition->count)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("transition count or conversion value of a Markov model is out of range")));
}

/* Add count and value to a transition that ends the journey; 22003 as above. */
static inline void
end_count_add(MarkovCount *transition, double count, double value)
{
	transition->count += count;
	transition->u.value += value;
	if (unlikely(!isfinite(transition->count) || !isfinite(transition->u.value)))
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
omnikpi_markov_state_add_transition(StateRef *ref, int32 from, int32 to, double count,
									double value)
{
	int32		step = to;
	bool		created;
	MarkovCount *transition;

	if (to >= MARKOV_FIRST_TUPLE)
	{
		int32		channels[MARKOV_MAX_ORDER];
		int			len = tuple_channels(ref->body, to - MARKOV_FIRST_TUPLE, channels);

		step = channels[len - 1] + MARKOV_FIRST_TUPLE;
	}
	transition = transition_count(ref, from, step, &created);
	Assert(count_target(transition, step) == to);
	if (!created && markov_header(ref->body)->reject_duplicates)
		return false;
	if (step < MARKOV_FIRST_TUPLE)
		end_count_add(transition, count, value);
	else
	{
		/* the type's input and receive reject a value anywhere else */
		if (value != 0.0)
			elog(ERROR, "markov_model: a transition into a channel state carries a conversion value");
		count_add(transition, count);
	}
	return true;
}

/* The channel of a journey's touch i: given by its number, or looked up by its name. */
typedef int32 (*TouchChannel) (StateRef *ref, const void *touches, int32 i);

static inline int32
numbered_channel(StateRef *ref, const void *touches, int32 i)
{
	return ((const int32 *) touches)[i];
}

static inline int32
named_channel(StateRef *ref, const void *touches, int32 i)
{
	const JourneyTouches *named = (const JourneyTouches *) touches;

	return omnikpi_state_channel(ref, named->names[i], named->lens[i]);
}

/*
 * Add one journey of n touches (at least one, repeats collapsed unless the
 * model keeps them), each touch's channel given by channel_of: every
 * transition along its path with weight conversions + non_conversions, then
 * the last state's move to (conversion) with conversions and value, and to
 * (null) with non_conversions.  Always inline, with channel_of a constant:
 * a row's journey looks each name up just before its transition, so that
 * the processor runs both lookups of a touch beside the others; a journal
 * replayed gives the numbers.
 */
static pg_attribute_always_inline void
add_touches(StateRef *ref, const void *touches, int32 n, TouchChannel channel_of,
			const JourneyRow *row)
{
	int32		current = MARKOV_START;
	double		weight = row->conversions + row->non_conversions;
	bool		first_order = markov_header(ref->body)->order == 1;
	bool		created;
	int32		i;

	Assert(n >= 1);
	if (omnikpi_state_table(ref->body, MARKOV_TABLE_TRANSITIONS)->nentries == 0)
	{
		/* each touch adds at most a channel, a state and a transition; the end one more */
		int32		reserve = Min(n, STATE_RESERVE_TOUCHES);
		int32		entries[] = {channel_of == named_channel ? reserve : 0, reserve, reserve + 1};
		Size		key_bytes[] = {0, 0, 0};

		omnikpi_state_reserve(ref, entries, key_bytes);
	}
	for (i = 0; i < n; i++)
	{
		int32		channel = channel_of(ref, touches, i);
		MarkovCount *transition = transition_count(ref, current, channel + MARKOV_FIRST_TUPLE,
												   &created);

		count_add(transition, weight);

		/*
		 * At order 1 the state a touch leads to is its channel's, whatever
		 * the state before: read from the channel, the next touch's lookup
		 * does not wait for this one's transition, so the processor looks
		 * up several touches at once.
		 */
		current = first_order ? markov_channel(ref->body, channel)->single_state : transition->u.to;
		Assert(current == transition->u.to);
		if ((i & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
	}
	if (row->conversions > 0)
		end_count_add(transition_count(ref, current, MARKOV_CONVERSION, &created),
					  row->conversions, row->value);
	if (row->non_conversions > 0)
		end_count_add(transition_count(ref, current, MARKOV_NULL, &created),
					  row->non_conversions, 0.0);
	assert_state_valid(ref->body);
}

static void
markov_add_journey(StateRef *ref, const int32 *channels, int32 n, const JourneyRow *row)
{
	add_touches(ref, channels, n, numbered_channel, row);
}

static void
markov_add_named_journey(StateRef *ref, const JourneyTouches *touches, const JourneyRow *row)
{
	add_touches(ref, touches, touches->n, named_channel, row);
}

/*
 * Models of different orders or conventions cannot be combined (22023):
 * checked by the aggregates on every row and by rollup on every model.
 */
void
omnikpi_markov_check_parameters(const StateBody *body, int order, bool keep_repeats)
{
	const MarkovHeader *header = markov_header(body);

	if (header->order != order)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine Markov models of order %d and %d", header->order, order),
				 errhint("Build and combine models of one order only.")));
	if (header->keep_repeats != keep_repeats)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine a Markov model that collapses repeated channels with one that keeps them"),
				 errhint("Build and combine models with one value of repeats only.")));
}

/* A new state from a stored model takes its order and convention. */
static void
markov_take_parameters(StateBody *body, const void *stored)
{
	const MarkovModel *model = (const MarkovModel *) stored;

	markov_header(body)->order = model->order;
	markov_header(body)->keep_repeats = (model->h.flags & MARKOV_KEEP_REPEATS) != 0;
}

/* Add every transition of a stored model of the same order and convention. */
static void
markov_merge(StateRef *ref, const void *stored)
{
	const MarkovModel *flat = (const MarkovModel *) stored;
	int32	   *channel_map;
	int32	   *state_map;
	const int32 *tuples = MARKOV_TUPLES(flat);
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(flat);
	int			i;

	omnikpi_markov_check_parameters(ref->body, flat->order,
									(flat->h.flags & MARKOV_KEEP_REPEATS) != 0);
	channel_map = palloc(Max(flat->h.nchannels, 1) * sizeof(int32));
	state_map = palloc(((Size) flat->ntuples + MARKOV_FIRST_TUPLE) * sizeof(int32));
	for (i = 0; i < flat->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&MARKOV_FLAT_NAMES(flat), i, &len);

		channel_map[i] = omnikpi_state_channel(ref, name, len);
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
		state_map[MARKOV_FIRST_TUPLE + i] = omnikpi_markov_state_tuple(ref, channels, len);
	}
	for (i = 0; i < flat->ntransitions; i++)
		omnikpi_markov_state_add_transition(ref, state_map[transitions[i].from],
											state_map[transitions[i].to],
											transitions[i].count, transitions[i].value);
	pfree(channel_map);
	pfree(state_map);
	assert_state_valid(ref->body);
}

/* ---- the stored form: canonical and sorted ---- */

/*
 * The stored form's sorts run once per group, and a GROUP BY by journey or
 * customer has many groups of a few transitions each: sorted through a
 * comparator called by pointer on keys decoded at every comparison, they
 * took a third of such a query.  So each tuple's sort key is computed once,
 * and both sorts are sort_template.h's with the comparison inlined.
 *
 * A tuple's sort key: its length, then its channels' ranks (-1 past its
 * length), so that tuples sort by length, then channel by channel in name
 * order.
 */
typedef struct TupleSortKey
{
	int32		len;
	int32		rank[MARKOV_MAX_ORDER];
	int32		tuple;
} TupleSortKey;

static inline int
compare_tuple_keys(const TupleSortKey *x, const TupleSortKey *y)
{
	int			j;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	for (j = 0; j < x->len; j++)
		if (x->rank[j] != y->rank[j])
			return x->rank[j] < y->rank[j] ? -1 : 1;
	return 0;
}

#define ST_SORT sort_tuple_keys
#define ST_ELEMENT_TYPE TupleSortKey
#define ST_COMPARE(a, b) compare_tuple_keys(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* Transitions by (from, to). */
static inline int
compare_transitions(const MarkovTransition *x, const MarkovTransition *y)
{
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return 0;
}

#define ST_SORT sort_transitions
#define ST_ELEMENT_TYPE MarkovTransition
#define ST_COMPARE(a, b) compare_transitions(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static Size
markov_stored_size(const StateBody *body)
{
	const KeyTable *channels = omnikpi_state_table(body, MARKOV_TABLE_CHANNELS);

	return omnikpi_markov_flat_size(markov_header(body)->order, channels->nentries,
									omnikpi_state_table(body, MARKOV_TABLE_TUPLES)->nentries,
									omnikpi_state_table(body, MARKOV_TABLE_TRANSITIONS)->nentries,
									channels->total_length);
}

/* The stored form's header, of a model of the state's order and convention. */
static void
markov_write_header(MarkovModel *flat, Size size, const MarkovHeader *header, int32 nchannels,
					int32 ntuples, int32 ntransitions)
{
	memset(flat, 0, sizeof(MarkovModel));
	SET_VARSIZE(flat, size);
	flat->h.format = MARKOV_FORMAT;
	flat->order = header->order;
	flat->h.flags = header->keep_repeats ? MARKOV_KEEP_REPEATS : 0;
	flat->h.nchannels = nchannels;
	flat->ntuples = ntuples;
	flat->ntransitions = ntransitions;
}

static void
markov_store(const StateBody *body, void *result, Size size)
{
	int			order = markov_header(body)->order;
	const KeyTable *channel_table = omnikpi_state_table(body, MARKOV_TABLE_CHANNELS);
	const KeyTable *tuple_table = omnikpi_state_table(body, MARKOV_TABLE_TUPLES);
	const KeyTable *transition_table = omnikpi_state_table(body, MARKOV_TABLE_TRANSITIONS);
	int32		nchannels = channel_table->nentries;
	int32		ntuples = tuple_table->nentries;
	MarkovModel *flat = (MarkovModel *) result;
	int32	   *channel_order = palloc(Max(nchannels, 1) * sizeof(int32));
	int32	   *channel_rank = palloc(Max(nchannels, 1) * sizeof(int32));
	TupleSortKey *tuple_keys = palloc(Max(ntuples, 1) * sizeof(TupleSortKey));
	int32	   *state_rank = palloc(((Size) ntuples + MARKOV_FIRST_TUPLE) * sizeof(int32));
	MarkovTransition *transitions;
	int32	   *tuples;
	int32		i;
	int			j;

	Assert(size == markov_stored_size(body));
	key_table_ranks(channel_table, channel_order, channel_rank);
	for (i = 0; i < ntuples; i++)
	{
		int32		channels[MARKOV_MAX_ORDER];

		tuple_keys[i].len = tuple_channels(body, i, channels);
		for (j = 0; j < MARKOV_MAX_ORDER; j++)
			tuple_keys[i].rank[j] = channels[j] >= 0 ? channel_rank[channels[j]] : -1;
		tuple_keys[i].tuple = i;
	}
	sort_tuple_keys(tuple_keys, ntuples);
	for (i = 0; i < MARKOV_FIRST_TUPLE; i++)
		state_rank[i] = i;
	for (i = 0; i < ntuples; i++)
		state_rank[MARKOV_FIRST_TUPLE + tuple_keys[i].tuple] = MARKOV_FIRST_TUPLE + i;

	markov_write_header(flat, size, markov_header(body), nchannels, ntuples,
						transition_table->nentries);

	transitions = MARKOV_TRANSITIONS(flat);
	for (i = 0; i < transition_table->nentries; i++)
	{
		const MarkovCount *count = key_table_payload(transition_table, i);
		char		buffer[KEY_INLINE_BYTES];
		int32		len;
		uint64		key;
		int32		step;

		memcpy(&key, key_table_key(transition_table, i, buffer, &len), sizeof(key));
		step = (int32) (uint32) key;
		transitions[i].from = state_rank[(int32) (key >> 32)];
		transitions[i].to = state_rank[count_target(count, step)];
		transitions[i].count = count->count;
		transitions[i].value = step >= MARKOV_FIRST_TUPLE ? 0.0 : count->u.value;
	}
	sort_transitions(transitions, transition_table->nentries);

	tuples = MARKOV_TUPLES(flat);
	for (i = 0; i < ntuples; i++)
		for (j = 0; j < order; j++)
			tuples[(Size) i * order + j] = tuple_keys[i].rank[j];

	flat_names_write(channel_table, channel_order, nchannels, MARKOV_NAME_ENDS(flat));
	pfree(channel_order);
	pfree(channel_rank);
	pfree(tuple_keys);
	pfree(state_rank);
}

/*
 * The stored form of an order-1 model written straight from its journal,
 * without the tables.  A GROUP BY by journey or customer stores one small
 * journal per group, and building its three tables key by key, to sort
 * them again for the stored form, took two thirds of such a group's
 * instructions.  At order 1 the states are the channels themselves, so a
 * model of n channels has at most (n + 1) x (n + 2) transitions, from
 * (start) or a channel to an end or a channel: counted in a matrix indexed
 * by the channels' ranks in name order, they come out in the stored form's
 * order.  Each cell adds its counts in the journal's order, as the tables
 * would: the same doubles, the same errors.  NULL, for the tables to build
 * it: at higher orders, and for a dictionary of more than
 * MARKOV_MATRIX_CHANNELS names, whose matrix would cost more to clear than
 * the tables to build.
 */
#define MARKOV_MATRIX_CHANNELS 32
StaticAssertDecl(MARKOV_MATRIX_CHANNELS + 2 <= 64, "a row of the matrix is a 64-bit word of cells");

static void *
markov_store_journal(const StateBody *body, const JournalHead *journal)
{
	int32		nchannels = journal->nnames;
	int32		width = nchannels + 2;	/* (conversion), (null), the channels */
	int32		cells = (nchannels + 1) * width;	/* rows: (start), the channels */
	int32		order[MARKOV_MATRIX_CHANNELS];
	int32		rank[MARKOV_MATRIX_CHANNELS];
	JournalReader reader;
	JourneyRow	row;
	int32		ntouches;
	MarkovCount *counts;
	uint64		made[MARKOV_MATRIX_CHANNELS + 1];	/* a row's cells, a bit each */
	int32		ntransitions = 0;
	Size		name_bytes;
	Size		size;
	MarkovModel *flat;
	MarkovTransition *transition;
	int32		from;
	int32		i;

	if (markov_header(body)->order != 1 || nchannels > MARKOV_MATRIX_CHANNELS)
		return NULL;
	counts = palloc0(cells * sizeof(MarkovCount));
	memset(made, 0, (nchannels + 1) * sizeof(uint64));
	omnikpi_journal_reader_init(&reader, journal);
	name_bytes = omnikpi_journal_names_ranked(&reader.dictionary, order, rank);
	while (omnikpi_journal_next_record(&reader, &row, &ntouches))
	{
		double		weight = row.conversions + row.non_conversions;

		from = 0;
		for (i = 0; i < ntouches; i++)
		{
			int32		channel = rank[omnikpi_journal_touch(&reader)];

			made[from] |= UINT64CONST(1) << (2 + channel);
			count_add(&counts[from * width + 2 + channel], weight);
			from = 1 + channel;
		}
		if (row.conversions > 0)
		{
			made[from] |= UINT64CONST(1);
			end_count_add(&counts[from * width], row.conversions, row.value);
		}
		if (row.non_conversions > 0)
		{
			made[from] |= UINT64CONST(1) << 1;
			end_count_add(&counts[from * width + 1], row.non_conversions, 0.0);
		}
	}
	for (from = 0; from <= nchannels; from++)
		ntransitions += pg_popcount64(made[from]);

	size = omnikpi_markov_flat_size(1, nchannels, nchannels, ntransitions, name_bytes);
	flat = palloc(size);
	markov_write_header(flat, size, markov_header(body), nchannels, nchannels, ntransitions);
	transition = MARKOV_TRANSITIONS(flat);
	/*
	 * The cells made, row by row, bit by bit: with a test of every cell,
	 * which went the wrong way on most cells made, and a division a cell to
	 * find its row, this function took a seventh of the time of a sorted
	 * GROUP BY of a journey a group; 9% now.
	 */
	for (from = 0; from <= nchannels; from++)
	{
		uint64		cells_made;

		for (cells_made = made[from]; cells_made != 0; cells_made &= cells_made - 1)
		{
			int32		to = pg_rightmost_one_pos64(cells_made);
			const MarkovCount *count = &counts[from * width + to];

			transition->from = from == 0 ? MARKOV_START : MARKOV_FIRST_TUPLE + from - 1;
			transition->to = MARKOV_CONVERSION + to;
			transition->count = count->count;
			transition->value = transition->to < MARKOV_FIRST_TUPLE ? count->u.value : 0.0;
			transition++;
		}
	}
	for (i = 0; i < nchannels; i++)
		MARKOV_TUPLES(flat)[i] = i;
	flat_names_write_listed(reader.dictionary.names, reader.dictionary.lens, order, nchannels,
							MARKOV_NAME_ENDS(flat));
	omnikpi_journal_reader_free(&reader);
	pfree(counts);
	return flat;
}

/*
 * No room to start with: the tables take it when their first key comes, and
 * a model created by a row leaves it with its tables just full
 * (common/aggregate_state.h), so a group of one journey of three channels
 * keeps 512 bytes.  No tags, which would take 4 bytes an entry of such
 * small states.  In the order of StateFamily: type, id, tables, header,
 * payloads, initial entries and key bytes, tagged tables, then the
 * functions.
 */
const StateFamily omnikpi_markov_family = {
	"markov_model", 2, 3, sizeof(MarkovHeader), {sizeof(MarkovChannel), 0, sizeof(MarkovCount)},
	{0, 0, 0}, {0, 0, 0}, {false, false, false},
	markov_stored_size, markov_store, markov_check_add, markov_take_parameters, markov_merge,
	markov_add_journey, markov_add_named_journey, markov_store_journal
};
