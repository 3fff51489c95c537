/*
 * aggregate_state.c: creating, growing, promoting, storing and combining
 * the working states of the aggregates (see aggregate_state.h for the
 * memory rules they follow and why).
 */
#include "postgres.h"

#include "nodes/execnodes.h"
#include "utils/memutils.h"

#include "common/aggregate_state.h"
#include "common/journey_journal.h"
#include "common/messages.h"

/* A working state that outgrew STATE_PROMOTE_BYTES, in a context of its own. */
typedef struct PromotedState
{
	ExpandedObjectHeader hdr;
	const StateFamily *family;
	StateBody  *body;
} PromotedState;

static Size
promoted_stored_size(ExpandedObjectHeader *eohptr)
{
	PromotedState *promoted = (PromotedState *) eohptr;

	return promoted->family->stored_size(promoted->body);
}

static void
promoted_store(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	PromotedState *promoted = (PromotedState *) eohptr;

	promoted->family->store(promoted->body, result, allocated_size);
}

/* Flattening a promoted state writes the family's stored form. */
const ExpandedObjectMethods omnikpi_promoted_state_methods = {
	promoted_stored_size,
	promoted_store
};

/* The aggregate's memory context, or an error when called as a plain function. */
MemoryContext
omnikpi_aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "omnikpi aggregate support function called in non-aggregate context");
	return aggcxt;
}

/*
 * Is the call a transition of hash aggregation that has made at least
 * groups groups?  Grouping sets that hash some of their groupings count.
 */
static bool
among_hashed_groups(FunctionCallInfo fcinfo, uint64 groups)
{
	AggState   *aggstate;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, AggState))
		return false;
	aggstate = (AggState *) fcinfo->context;
	return (aggstate->aggstrategy == AGG_HASHED || aggstate->aggstrategy == AGG_MIXED) &&
		aggstate->hash_ngroups_current >= groups;
}

/* Keep in the transition's fn_extra how much of its state it asked for (bytes > 0). */
void
omnikpi_state_remember_prefetch(FunctionCallInfo fcinfo, uint32 bytes)
{
	StatePrefetchHint *hint = fcinfo->flinfo->fn_extra;

	Assert(bytes > 0);
	if (hint == NULL)
	{
		hint = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(StatePrefetchHint));
		fcinfo->flinfo->fn_extra = hint;
	}
	hint->bytes = bytes;
}

static Size
headers_size(const StateFamily *family)
{
	return sizeof(StateBody) + MAXALIGN(family->header_size);
}

/* Bytes of a body with these headers and tables of this much room. */
static Size
body_size(const StateFamily *family, Size headers, const int32 *capacity,
		  const Size *key_capacity)
{
	Size		size = headers;
	int			k;

	for (k = 0; k < family->ntables; k++)
		size += key_table_size(capacity[k], key_capacity[k], family->payload_size[k],
							   family->tagged[k]);
	return size;
}

/*
 * A body's journal follows its headers: a journaling body's where its
 * tables would start (table_offset[0]), a pending one's in the
 * pending_bytes() before its tables.
 */
StaticAssertDecl(STATE_JOURNAL_BYTES <= JOURNAL_MAX_BYTES &&
				 STATE_PENDING_MIN_BYTES << STATE_PENDING_MAX_SHIFT <= JOURNAL_MAX_BYTES,
				 "a journal head cannot describe a journal that big");

/* The bytes of a body's pending journal, its head included. */
static inline Size
pending_bytes(const StateBody *body)
{
	Assert(omnikpi_state_has_pending(body));
	return (Size) STATE_PENDING_MIN_BYTES << (body->layout - STATE_TABLES_PENDING);
}

static inline JournalHead *
journal_head(const StateBody *body)
{
	Assert(body->layout != STATE_TABLES);
	return (JournalHead *) ((char *) body + body->table_offset[0] -
							(omnikpi_state_has_pending(body) ? pending_bytes(body) : 0));
}

/* Bytes of a body up to the end of its journal's last record. */
static inline Size
journal_end(const StateBody *body)
{
	const JournalHead *head = journal_head(body);

	return (const char *) head - (const char *) body + sizeof(JournalHead) + head->used;
}

/* Bytes of a body its journal may reach. */
static inline Size
journal_limit(const StateBody *body)
{
	return body->layout == STATE_JOURNAL ? STATE_JOURNAL_BYTES : body->table_offset[0];
}

/*
 * A new body laid out, zeroed, in cxt: a journal without records, or the
 * family's empty tables.
 */
static StateBody *
build_body(const StateFamily *family, MemoryContext cxt, bool journal)
{
	Size		size;
	StateBody  *body;
	int			k;

	if (journal)
		size = headers_size(family) + sizeof(JournalHead);
	else
		size = body_size(family, headers_size(family), family->initial_entries,
						 family->initial_key_bytes);
	body = MemoryContextAllocZero(cxt, size);
	SET_VARSIZE(body, size);	/* far below MaxAllocSize */
	body->format = STATE_WORKING_FORMAT;
	body->family = family->id;
	body->layout = journal ? STATE_JOURNAL : STATE_TABLES;
	body->size = size;
	size = headers_size(family);
	if (journal)
	{
		body->table_offset[0] = size;
		return body;
	}
	for (k = 0; k < family->ntables; k++)
	{
		body->table_offset[k] = size;
		key_table_init(omnikpi_state_table(body, k), family->initial_entries[k],
					   family->initial_key_bytes[k], family->payload_size[k], family->tagged[k]);
		size += key_table_block_size(omnikpi_state_table(body, k));
	}
	Assert(size == body->size);
	return body;
}

/*
 * The family's empty body with tables, laid out once a backend: a GROUP BY
 * by customer or journey makes a state for every group, and copying its
 * bytes costs a fraction of laying the tables out again, their sizes
 * computed table by table and the block zeroed.
 */
static const StateBody *
empty_tables_body(const StateFamily *family)
{
	static StateBody *empty[STATE_FAMILIES + 1];	/* by id */

	Assert(family->id >= 1 && family->id <= STATE_FAMILIES);
	if (empty[family->id] == NULL)
		empty[family->id] = build_body(family, TopMemoryContext, false);
	return empty[family->id];
}

/* A new body in cxt: a journal without records, or the family's empty tables. */
static StateBody *
new_body(const StateFamily *family, MemoryContext cxt, bool journal)
{
	const StateBody *empty;

	if (journal)
		return build_body(family, cxt, true);
	empty = empty_tables_body(family);
	return memcpy(MemoryContextAlloc(cxt, empty->size), empty, empty->size);
}

/* A private state of body, allocated in cxt. */
static void
private_state(StateRef *ref, const StateFamily *family, StateBody *body, MemoryContext cxt)
{
	ref->body = body;
	ref->family = family;
	ref->promoted = NULL;
	ref->home = cxt;
	ref->fcinfo = NULL;
	ref->owned = true;
	ref->created = false;
}

/* A new empty private state in cxt, a journal or with tables. */
static void
new_state(StateRef *ref, const StateFamily *family, MemoryContext cxt, bool journal)
{
	private_state(ref, family, new_body(family, cxt, journal), cxt);
}

/*
 * A new empty state to return as the transition value, a journal when
 * journal is true and the family keeps one.  It is allocated in the
 * per-call context: the executor copies it into the aggregate context.  The
 * caller sets the family's header (scale, order).
 */
void
omnikpi_state_new_value(StateRef *ref, const StateFamily *family, FunctionCallInfo fcinfo,
						bool journal)
{
	(void) omnikpi_aggregate_context(fcinfo);
	new_state(ref, family, CurrentMemoryContext, journal && family->add_journey != NULL);
	ref->body->prefetch = among_hashed_groups(fcinfo, STATE_PREFETCH_GROUPS);
	ref->home = NULL;
	ref->fcinfo = fcinfo;
	ref->created = true;
}

/* A new empty state with tables in home, for input functions and moving windows. */
void
omnikpi_state_new_private(StateRef *ref, const StateFamily *family, MemoryContext home)
{
	new_state(ref, family, home, false);
}

/* Free a private state. */
void
omnikpi_state_free(StateRef *ref)
{
	Assert(ref->home != NULL);
	pfree(ref->body);
	ref->body = NULL;
}

/* The working state behind an expanded datum of the family's, or NULL. */
StateBody *
omnikpi_state_promoted_body(Datum d, const StateFamily *family)
{
	PromotedState *promoted = (PromotedState *) DatumGetEOHP(d);

	if (promoted->hdr.eoh_methods != &omnikpi_promoted_state_methods ||
		promoted->family != family)
		return NULL;
	return promoted->body;
}

/*
 * Is argument argno of a transition or combine function one of the
 * family's working states?  Then ref is set to update it in place.
 */
bool
omnikpi_state_of_arg(StateRef *ref, FunctionCallInfo fcinfo, int argno, const StateFamily *family)
{
	Datum		d;

	if (PG_ARGISNULL(argno))
		return false;
	d = PG_GETARG_DATUM(argno);
	ref->body = omnikpi_state_body(d, family);
	if (ref->body == NULL)
		return false;
	ref->family = family;
	ref->promoted = VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)) ?
		(PromotedState *) DatumGetEOHP(d) : NULL;
	ref->home = NULL;
	ref->fcinfo = fcinfo;
	ref->owned = false;
	ref->created = false;
	return true;
}

/*
 * Room in the channel table for entries more channels of key_bytes of its
 * key area in all, made at once.
 */
static void
reserve_channels(StateRef *ref, int32 entries, Size key_bytes)
{
	int32		more[STATE_MAX_TABLES] = {0};
	Size		more_bytes[STATE_MAX_TABLES] = {0};

	more[STATE_TABLE_CHANNELS] = entries;
	more_bytes[STATE_TABLE_CHANNELS] = key_bytes;
	omnikpi_state_reserve(ref, more, more_bytes);
}

/*
 * Add a journey given by its channels' names: the family's own way, or
 * each name looked up in the channel table (added when new) and the family
 * given their numbers.
 */
static void
add_touches(StateRef *ref, const JourneyTouches *touches, const JourneyRow *row)
{
	int32		stack_channels[JOURNEY_STACK_TOUCHES];
	int32	   *channels = stack_channels;
	int32		i;

	Assert(touches->n >= 1);
	if (ref->family->add_named_journey != NULL)
	{
		ref->family->add_named_journey(ref, touches, row);
		return;
	}
	if (touches->n > JOURNEY_STACK_TOUCHES)
		channels = palloc_extended((Size) touches->n * sizeof(int32), MCXT_ALLOC_HUGE);
	if (omnikpi_state_table(ref->body, STATE_TABLE_CHANNELS)->nentries == 0)
		reserve_channels(ref, Min(touches->n, STATE_RESERVE_TOUCHES), 0);
	for (i = 0; i < touches->n; i++)
		channels[i] = omnikpi_state_channel(ref, touches->names[i], touches->lens[i]);
	ref->family->add_journey(ref, channels, touches->n, row);
	if (channels != stack_channels)
		pfree(channels);
}

/*
 * Add the journeys of a journal to the tables of ref's state in the order
 * they came, so the tables hold the same sums as if they had been added
 * row by row.  The dictionary's names are looked up once, in the order the
 * journal met them, which the rows would have added them in (an empty
 * channel table takes room for all of them first; a pending journal's
 * names are mostly in the table already); a touch is then its name's
 * channel number.
 */
static void
replay_journal(StateRef *ref, const JournalHead *journal)
{
	JournalReader reader;
	JourneyRow	row;
	int32		nnames = journal->nnames;
	int32		stack_map[JOURNAL_STACK_NAMES];
	int32	   *channel_of = nnames > JOURNAL_STACK_NAMES ?
		palloc(nnames * sizeof(int32)) : stack_map;
	int32		stack_channels[JOURNEY_STACK_TOUCHES];
	int32	   *channels = stack_channels;
	int32		capacity = JOURNEY_STACK_TOUCHES;
	int32		n;
	int32		i;

	omnikpi_journal_reader_init(&reader, journal);
	if (omnikpi_state_table(ref->body, STATE_TABLE_CHANNELS)->nentries == 0)
	{
		Size		key_bytes = 0;

		for (i = 0; i < nnames; i++)
			key_bytes += key_area_bytes(reader.dictionary.lens[i]);
		reserve_channels(ref, nnames, key_bytes);
	}
	for (i = 0; i < nnames; i++)
		channel_of[i] = omnikpi_state_channel(ref, reader.dictionary.names[i],
											  reader.dictionary.lens[i]);
	while (omnikpi_journal_next_record(&reader, &row, &n))
	{
		if (n > capacity)
		{
			if (channels != stack_channels)
				pfree(channels);
			capacity = n;
			channels = palloc(capacity * sizeof(int32));
		}
		for (i = 0; i < n; i++)
			channels[i] = channel_of[omnikpi_journal_touch(&reader)];
		ref->family->add_journey(ref, channels, n, &row);
	}
	if (channels != stack_channels)
		pfree(channels);
	if (channel_of != stack_map)
		pfree(channel_of);
	omnikpi_journal_reader_free(&reader);
}

/*
 * Add the journeys of a journaling body to the tables of ref's state, whose
 * header is set from the journal's.
 */
static void
replay(StateRef *ref, const StateBody *journaled)
{
	Assert(journaled->layout == STATE_JOURNAL && ref->body->layout != STATE_JOURNAL);
	memcpy(omnikpi_state_header(ref->body), omnikpi_state_header(journaled),
		   ref->family->header_size);
	replay_journal(ref, journal_head(journaled));
}

/*
 * Add the journeys of a pending journal to the tables, and empty it.  The
 * journal moves out first: adding may grow the tables, and rebuild them
 * elsewhere.
 */
static void
add_pending(StateRef *ref)
{
	JournalHead *head = journal_head(ref->body);
	Size		bytes = sizeof(JournalHead) + head->used;
	JournalHead *pending;

	Assert(omnikpi_state_has_pending(ref->body));
	if (head->used == 0)
		return;
	pending = memcpy(palloc(bytes), head, bytes);
	memset(head, 0, sizeof(JournalHead));
	replay_journal(ref, pending);
	pfree(pending);
}

/*
 * A journaling value becomes a state with tables, built in the per-call
 * context in one go; the executor takes the new pointer and frees the
 * journal, or it is freed here when it is ours.
 */
static void
build_tables(StateRef *ref)
{
	StateBody  *journaled = ref->body;
	bool		owned = ref->owned;

	Assert(ref->home == NULL && ref->promoted == NULL);
	ref->body = new_body(ref->family, CurrentMemoryContext, false);
	ref->body->prefetch = journaled->prefetch;
	ref->owned = true;
	replay(ref, journaled);
	if (owned)
		pfree(journaled);
}

/*
 * The doublings of STATE_PENDING_MIN_BYTES of the pending journal a state
 * that just built its tables takes (a quarter of its bytes, rounded up, at
 * most STATE_PENDING_MAX_SHIFT), or -1 for none: it takes one when it is
 * one of a hash aggregation's groups whose states, were they all as big,
 * would pass STATE_PENDING_CACHED_BYTES; not when it is promoted or would
 * be with the journal (such states are few).
 */
static int
pending_shift(const StateRef *ref)
{
	Size		size = ref->body->size;
	int			shift = 0;

	if (ref->promoted != NULL ||
		!among_hashed_groups(ref->fcinfo, STATE_PENDING_CACHED_BYTES / size))
		return -1;
	while (shift < STATE_PENDING_MAX_SHIFT && ((Size) STATE_PENDING_MIN_BYTES << shift) < size / 4)
		shift++;
	if (size + ((Size) STATE_PENDING_MIN_BYTES << shift) > STATE_PROMOTE_BYTES)
		return -1;
	return shift;
}

/*
 * A state with tables, not promoted, gets an empty pending journal of
 * STATE_PENDING_MIN_BYTES << shift bytes before its tables: a body that
 * much longer, its tables moved up whole (a table's block is relocatable).
 */
static void
make_pending(StateRef *ref, int shift)
{
	StateBody  *old = ref->body;
	Size		headers = old->table_offset[0];
	Size		room = (Size) STATE_PENDING_MIN_BYTES << shift;
	Size		size = old->size + room;
	StateBody  *body;
	int			k;

	Assert(old->layout == STATE_TABLES && ref->promoted == NULL && ref->home == NULL);
	Assert(shift >= 0 && shift <= STATE_PENDING_MAX_SHIFT);
	body = palloc(size);
	memcpy(body, old, headers);
	memset((char *) body + headers, 0, room);
	memcpy((char *) body + headers + room, (char *) old + headers, old->size - headers);
	for (k = 0; k < ref->family->ntables; k++)
		body->table_offset[k] += room;
	body->layout = STATE_TABLES_PENDING + shift;
	body->size = size;
	SET_VARSIZE(body, size);
	if (ref->owned)
		pfree(old);
	ref->owned = true;
	ref->body = body;
}

/*
 * The state of argument 0 ready to update: ours as it is (unless journal
 * is true, with its tables built and its pending journeys in them), else a
 * new one, empty when the argument is NULL (a journal when journal is
 * true; the caller sets the family's header), or else holding what the
 * argument holds (a stored value).
 */
void
omnikpi_state_writable(StateRef *ref, FunctionCallInfo fcinfo, const StateFamily *family,
					   bool journal)
{
	void	   *stored;

	if (omnikpi_state_of_arg(ref, fcinfo, 0, family))
	{
		if (ref->body->layout == STATE_JOURNAL && !journal)
			build_tables(ref);
		else if (omnikpi_state_has_pending(ref->body) && !journal)
			add_pending(ref);
		return;
	}
	omnikpi_state_new_value(ref, family, fcinfo, journal && PG_ARGISNULL(0));
	if (PG_ARGISNULL(0))
		return;
	stored = omnikpi_state_stored(PG_GETARG_DATUM(0), family);
	family->take_parameters(ref->body, stored);
	family->merge(ref, stored);
}

/* A working state moves into an expanded object in a new child of the aggregate context. */
static PromotedState *
promote(StateRef *ref)
{
	MemoryContext cxt = AllocSetContextCreate(omnikpi_aggregate_context(ref->fcinfo),
											  "omnikpi aggregate state",
											  ALLOCSET_DEFAULT_SIZES);
	PromotedState *promoted = MemoryContextAllocZero(cxt, sizeof(PromotedState));

	EOH_init_header(&promoted->hdr, &omnikpi_promoted_state_methods, cxt);
	promoted->family = ref->family;
	return promoted;
}

/*
 * Memory for a grown body of size bytes, where the state lives; a value
 * past STATE_PROMOTE_BYTES is promoted first.
 */
static StateBody *
allocate_grown(StateRef *ref, Size size)
{
	if (ref->home != NULL)
		return MemoryContextAllocExtended(ref->home, size, MCXT_ALLOC_HUGE);
	if (ref->promoted == NULL && size > STATE_PROMOTE_BYTES)
	{
		ref->promoted = promote(ref);
		/* the old body is the executor's to free, or freed below when it is ours */
	}
	if (ref->promoted != NULL)
		return MemoryContextAllocExtended(ref->promoted->hdr.eoh_context, size, MCXT_ALLOC_HUGE);
	return palloc(size);
}

/*
 * Rebuild the body with room for capacity[k] entries and key_capacity[k]
 * key bytes in table k: a table whose room stays is copied as it is (a
 * table's block is relocatable), another entry by entry.  A value that is
 * not promoted is rebuilt in the per-call context; the executor takes the
 * new pointer and frees the old body.
 */
static void
rebuild(StateRef *ref, const int32 *capacity, const Size *key_capacity)
{
	const StateFamily *family = ref->family;
	StateBody  *old = ref->body;
	Size		size = body_size(family, old->table_offset[0], capacity, key_capacity);
	Size		offset = old->table_offset[0];
	StateBody  *body;
	bool		was_promoted = ref->promoted != NULL;
	int			k;

	/* the stored forms' limits come first; this is the working state's own */
	if (size > PG_UINT32_MAX)
		omnikpi_report_too_large(family->type_name, NULL);
	/* tables grow while a pending journal is empty (add_pending) */
	Assert(!omnikpi_state_has_pending(old) || journal_head(old)->used == 0);
	body = allocate_grown(ref, size);
	memcpy(body, old, offset);
	/* a promoted state, one of few, adds its journeys at once */
	if (ref->promoted != NULL)
		body->layout = STATE_TABLES;
	for (k = 0; k < family->ntables; k++)
	{
		const KeyTable *from = omnikpi_state_table(old, k);
		KeyTable   *to;

		body->table_offset[k] = offset;
		to = omnikpi_state_table(body, k);
		if (capacity[k] == from->capacity && MAXALIGN(key_capacity[k]) == from->key_capacity)
			memcpy(to, from, key_table_block_size(from));
		else
		{
			key_table_init(to, capacity[k], key_capacity[k], family->payload_size[k],
						   family->tagged[k]);
			key_table_copy(from, to);
		}
		offset += key_table_block_size(to);
	}
	Assert(offset == size);
	body->size = size;
	/* only an unpromoted value is used as a varlena; the others may be larger */
	SET_VARSIZE(body, size <= MaxAllocSize ? size : 0);
	if (ref->home != NULL || was_promoted || ref->owned)
		pfree(old);
	/* an unpromoted value's new body is in the per-call context, ours to free */
	ref->owned = ref->home == NULL && ref->promoted == NULL;
	if (ref->promoted != NULL)
		ref->promoted->body = body;
	ref->body = body;
}

/* AllocSet's largest chunk of a power of two; a larger one has its exact size. */
#define ALLOCSET_CHUNK_LIMIT	8192

/*
 * The aggregate context's allocator hands out chunks of a power of two up
 * to ALLOCSET_CHUNK_LIMIT, and the executor copies a grown value into one.
 * A family with one table (channel_summary) takes the room the chunk has
 * beyond the capacity asked for: a state of one channel has room for a
 * second in its 256 bytes, one of four for six in 512, and a group grows
 * less often for the same memory.  Its table stays scanned
 * (KEY_TABLE_SCAN_MAX).  Only for values: private states grow as asked.
 */
static void
fill_chunk(const StateRef *ref, int32 *capacity, const Size *key_capacity)
{
	Size		headers = ref->body->table_offset[0];
	Size		payload = ref->family->payload_size[0];
	bool		tagged = ref->family->tagged[0];
	Size		chunk;

	if (ref->family->ntables != 1 || ref->home != NULL || ref->promoted != NULL ||
		capacity[0] >= KEY_TABLE_SCAN_MAX)
		return;
	chunk = pg_nextpower2_32((uint32) (headers + key_table_size(capacity[0], key_capacity[0],
																 payload, tagged)));
	if (chunk > ALLOCSET_CHUNK_LIMIT)
		return;
	while (capacity[0] < KEY_TABLE_SCAN_MAX &&
		   headers + key_table_size(capacity[0] + 1, key_capacity[0], payload, tagged) <= chunk)
		capacity[0]++;
}

/* Rebuild the body with more room in table grow_table, the others as they are. */
static void
grow(StateRef *ref, int grow_table, int32 more_entries, Size more_key_bytes)
{
	int32		capacity[STATE_MAX_TABLES];
	Size		key_capacity[STATE_MAX_TABLES];
	int			k;

	for (k = 0; k < ref->family->ntables; k++)
	{
		const KeyTable *table = omnikpi_state_table(ref->body, k);

		capacity[k] = table->capacity;
		key_capacity[k] = table->key_capacity;
	}
	key_table_grown_size(omnikpi_state_table(ref->body, grow_table), more_entries,
						 more_key_bytes, &capacity[grow_table], &key_capacity[grow_table]);
	if (capacity[grow_table] > PG_INT32_MAX / 4 || key_capacity[grow_table] > PG_UINT32_MAX / 2)
		omnikpi_report_too_large(ref->family->type_name, NULL);
	fill_chunk(ref, capacity, key_capacity);
	rebuild(ref, capacity, key_capacity);
}

/*
 * Room for bytes more at the end of a journal, which stays within its
 * limit (the caller checked); returns its head.  A new state takes just
 * its first journey (most never see a second), a growing one the next
 * power of two, which the aggregate context's chunks of a power of two
 * hold without waste; a pending journal has its room.
 */
static JournalHead *
journal_room(StateRef *ref, Size bytes)
{
	Size		end = journal_end(ref->body);

	Assert(end + bytes <= journal_limit(ref->body));
	if (end + bytes > ref->body->size)
	{
		Size		size = ref->created ? end + bytes :
			Min(pg_nextpower2_32(end + bytes), STATE_JOURNAL_BYTES);
		StateBody  *body = allocate_grown(ref, size);

		memcpy(body, ref->body, end);
		memset((char *) body + end, 0, size - end);
		body->size = size;
		SET_VARSIZE(body, size);
		if (ref->home != NULL || ref->owned)
			pfree(ref->body);
		ref->owned = ref->home == NULL;
		ref->body = body;
	}
	return journal_head(ref->body);
}

/*
 * Add the journey of a row of a journey aggregate to its family's state:
 * to the journal while it has room, else to the tables.  A journaling
 * state builds its tables first, and in a hash aggregation of many groups
 * keeps a pending journal from then on; a pending journal's journeys are
 * added to the tables first.  collapse: a channel touched twice in a row
 * counts once.  A path without a channel adds nothing.
 */
void
omnikpi_state_add_journey(StateRef *ref, const JourneyRow *row, bool collapse)
{
	JourneyTouches touches;

	omnikpi_touches_of_path(&touches, row->path, collapse);
	if (touches.n > 0 && ref->body->layout != STATE_TABLES)
	{
		JournalEntry entry;

		if (omnikpi_journal_entry(&entry, journal_head(ref->body), &touches, row,
								  journal_limit(ref->body) - journal_end(ref->body)))
			omnikpi_journal_add(journal_room(ref, entry.names_bytes + entry.record_bytes),
								&entry, &touches, row);
		else
		{
			if (ref->body->layout == STATE_JOURNAL)
			{
				int			shift;

				build_tables(ref);
				shift = pending_shift(ref);
				if (shift >= 0)
					make_pending(ref, shift);
			}
			else
				add_pending(ref);
			add_touches(ref, &touches, row);
		}
		omnikpi_journal_entry_free(&entry);
	}
	else if (touches.n > 0)
		add_touches(ref, &touches, row);
	omnikpi_touches_free(&touches);
}

/*
 * Room in every table k for entries[k] more keys that take key_bytes[k] of
 * its key area, made at once: the keys of the first journey of a state
 * with tables, added one by one, would double each table in turn, a
 * rebuild each.
 */
void
omnikpi_state_reserve(StateRef *ref, const int32 *entries, const Size *key_bytes)
{
	int32		capacity[STATE_MAX_TABLES];
	Size		key_capacity[STATE_MAX_TABLES];
	bool		short_of_room = false;
	int			k;

	for (k = 0; k < ref->family->ntables; k++)
	{
		const KeyTable *table = omnikpi_state_table(ref->body, k);

		capacity[k] = table->capacity;
		key_capacity[k] = table->key_capacity;
		if (!key_table_has_room(table, entries[k], key_bytes[k]))
		{
			key_table_grown_size(table, entries[k], key_bytes[k], &capacity[k], &key_capacity[k]);
			short_of_room = true;
		}
	}
	if (short_of_room)
		rebuild(ref, capacity, key_capacity);
}

/*
 * A state created in this call leaves it with its tables just full (a
 * family of one table: with the room of its chunk, fill_chunk): the
 * executor copies it into the aggregate context as it is, and most states
 * of a GROUP BY by customer or journey never see a second row, so the room
 * the doubling left would stay empty for good.  Rows that grow a state
 * later double it as usual, so this costs one copy per group.  A state
 * whose tables just full would take the chunk it takes already is left as
 * it is: the allocator rounds both to the same power of two, so rebuilding
 * it would save nothing (a state of one channel, in the 256 bytes of two).
 */
static void
compact_created(StateRef *ref)
{
	int32		capacity[STATE_MAX_TABLES];
	Size		key_capacity[STATE_MAX_TABLES];
	Size		compact_size;
	bool		spare = false;
	int			k;

	/* a new journal grew to just its first journey */
	if (!ref->created || ref->promoted != NULL || ref->home != NULL ||
		ref->body->layout == STATE_JOURNAL)
		return;
	ref->created = false;
	for (k = 0; k < ref->family->ntables; k++)
	{
		const KeyTable *table = omnikpi_state_table(ref->body, k);

		capacity[k] = table->nentries;
		key_capacity[k] = table->key_bytes;
	}
	compact_size = body_size(ref->family, ref->body->table_offset[0], capacity, key_capacity);
	if (ref->body->size <= ALLOCSET_CHUNK_LIMIT &&
		pg_nextpower2_32((uint32) compact_size) == pg_nextpower2_32(ref->body->size))
		return;
	fill_chunk(ref, capacity, key_capacity);
	for (k = 0; k < ref->family->ntables; k++)
	{
		const KeyTable *table = omnikpi_state_table(ref->body, k);

		spare |= capacity[k] < table->capacity || MAXALIGN(key_capacity[k]) < table->key_capacity;
	}
	if (spare)
		rebuild(ref, capacity, key_capacity);
}

/* The datum to return for the state; one created in this call is compacted first. */
Datum
omnikpi_state_value(StateRef *ref)
{
	compact_created(ref);
	if (ref->promoted != NULL)
		return EOHPGetRWDatum(&ref->promoted->hdr);
	return PointerGetDatum(ref->body);
}

/*
 * Table number table with room for entries more keys that take key_bytes
 * of its key area (key_area_bytes), growing the state when it is full.  The
 * body may move.
 */
KeyTable *
omnikpi_state_make_room(StateRef *ref, int table, int32 entries, Size key_bytes)
{
	KeyTable   *t = omnikpi_state_table(ref->body, table);

	if (likely(key_table_has_room(t, entries, key_bytes)))
		return t;
	grow(ref, table, entries, key_bytes);
	return omnikpi_state_table(ref->body, table);
}

/*
 * Add the probe's key, which table does not hold, when the stored form can
 * still hold it; returns its entry.
 */
int32
omnikpi_state_add_key(StateRef *ref, int table, const KeyProbe *probe)
{
	ref->family->check_add(ref->body, table, probe->len);
	return key_table_add(omnikpi_state_make_room(ref, table, 1, key_area_bytes(probe->len)),
						 probe);
}

/*
 * The stored form of a working state, palloc'd.  A journal's tables are
 * built for it, in the current context, and freed.
 */
void *
omnikpi_state_store(const StateBody *body, const StateFamily *family)
{
	Size		size;
	void	   *stored;

	if (body->layout == STATE_JOURNAL)
	{
		StateRef	built;

		if (family->store_journal != NULL &&
			(stored = family->store_journal(body, journal_head(body))) != NULL)
			return stored;
		omnikpi_state_new_private(&built, family, CurrentMemoryContext);
		replay(&built, body);
		stored = omnikpi_state_store(built.body, family);
		omnikpi_state_free(&built);
		return stored;
	}
	if (omnikpi_state_has_pending(body) && journal_head(body)->used > 0)
	{
		StateRef	copy;

		/* a copy takes the journeys: a final function leaves its state as it is */
		private_state(&copy, family, memcpy(palloc(body->size), body, body->size),
					  CurrentMemoryContext);
		add_pending(&copy);
		stored = omnikpi_state_store(copy.body, family);
		omnikpi_state_free(&copy);
		return stored;
	}
	/* the final function of a hash aggregation of many groups finds body cold */
	omnikpi_state_prefetch(body);
	size = family->stored_size(body);
	stored = palloc(size);
	family->store(body, stored, size);
	return stored;
}

/* The stored form of a private state, which is freed: what a type's input builds. */
void *
omnikpi_state_finish(StateRef *ref, const StateFamily *family)
{
	void	   *stored = omnikpi_state_store(ref->body, family);

	omnikpi_state_free(ref);
	return stored;
}

/*
 * The stored form of any value of the family's type: a stored value as it
 * is (detoasted), a promoted state flattened, a working state (the partial
 * state of a parallel worker) stored.
 */
void *
omnikpi_state_stored(Datum d, const StateFamily *family)
{
	StateBody  *body = (StateBody *) PG_DETOAST_DATUM(d);

	if (body->format != STATE_WORKING_FORMAT)
		return body;
	if (body->family != family->id)
		elog(ERROR, "%s: working state of another type", family->type_name);
	return omnikpi_state_store(body, family);
}

/*
 * A combine function: merge argument 1 into the state of argument 0; both
 * the combine function of every aggregate and the transition function of
 * the family's rollup().  NULLs are skipped.
 */
Datum
omnikpi_state_combine(FunctionCallInfo fcinfo, const StateFamily *family)
{
	StateRef	ref;
	void	   *other;

	(void) omnikpi_aggregate_context(fcinfo);
	if (PG_ARGISNULL(1))
		return omnikpi_state_unchanged(fcinfo);
	other = omnikpi_state_stored(PG_GETARG_DATUM(1), family);
	omnikpi_state_writable(&ref, fcinfo, family, false);
	omnikpi_state_prefetch(ref.body);
	if (PG_ARGISNULL(0))
		family->take_parameters(ref.body, other);
	family->merge(&ref, other);
	return omnikpi_state_value(&ref);
}

/* A final function that hands out the stored form; no rows gives NULL. */
Datum
omnikpi_state_final(FunctionCallInfo fcinfo, const StateFamily *family)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(omnikpi_state_stored(PG_GETARG_DATUM(0), family));
}

/*
 * The number of channels of a working state: its channel table's entries,
 * and the names of its journal's dictionary, which holds each name a touch
 * of the journal has once, that the table does not hold.
 */
int32
omnikpi_state_channel_count(const StateBody *body)
{
	KeyTable   *channels;
	JournalReader reader;
	int32		count;
	int32		i;

	if (body->layout == STATE_JOURNAL)
		return journal_head(body)->nnames;
	channels = omnikpi_state_table(body, STATE_TABLE_CHANNELS);
	count = channels->nentries;
	if (body->layout == STATE_TABLES)
		return count;
	omnikpi_journal_reader_init(&reader, journal_head(body));
	for (i = 0; i < reader.dictionary.nnames; i++)
	{
		KeyProbe	probe;

		key_probe_init(&probe, reader.dictionary.names[i], reader.dictionary.lens[i]);
		count += key_table_find(channels, &probe) < 0;
	}
	omnikpi_journal_reader_free(&reader);
	return count;
}
