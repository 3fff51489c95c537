/*
 * aggregate_state.h: the working state of every omnikpi aggregate
 * (channel_summary, markov_model, journey_paths), and the server glue that
 * creates, copies, grows and combines it in the aggregate context.
 *
 * A working state is one allocation, a StateBody: a small header, the
 * family's own header (a scale, a Markov order), then the family's key
 * tables (common/key_table.h), all addressed by offsets.  It is a varlena of
 * the family's SQL type, so the executor keeps it as the transition value:
 *
 *   - it lives in the aggregate context with no memory context of its own.
 *     PostgreSQL 15's hash aggregation adds up the memory of every child of
 *     its hash context each time it starts a group, so a context per group
 *     makes GROUP BY quadratic in the number of groups; a plain allocation
 *     costs nothing there;
 *   - a row updates it in place and returns the same pointer, which the
 *     executor keeps as it is;
 *   - a state of the journey families (markov_model, journey_paths) starts
 *     as a journal (common/journey_journal.h): its header, then its
 *     journeys as they came, each name once and a byte a touch, and no
 *     tables.  Its tables are built from the journal in one go when it is
 *     stored or combined, or when the journal would pass
 *     STATE_JOURNAL_BYTES; from then on its rows go to the tables.  A
 *     family may write the stored form straight from a journal instead
 *     (StateFamily.store_journal);
 *   - in a hash aggregation whose states would not stay in the caches,
 *     a journey state that built its tables keeps a pending journal
 *     before them (STATE_PENDING_MIN_BYTES): its rows wait there, and go to
 *     the tables a journal at a time, when it is full or when the state
 *     is stored or combined, so that the tables are read warm;
 *   - a new state with tables is a copy of the family's empty one, laid
 *     out once a backend;
 *   - its tables start empty (a family may give them a first size) and
 *     take room when their first key comes; when a table or the journal is
 *     full, the state is rebuilt larger in the per-call context and the new
 *     pointer returned: the executor copies it into the aggregate context
 *     and frees the old one, one copy per doubling;
 *   - a state created by a call leaves it with no spare room, so a group
 *     of one small journey keeps about as many bytes as its path, not the
 *     room of its last doubling; a family of one table (channel_summary)
 *     takes the room of the power-of-two chunk the executor copies it into
 *     instead, which costs no memory and saves growing;
 *   - hash aggregation of many groups marks its states, and a row, a
 *     merge or the final function asks for the first bytes of such a
 *     state at once (omnikpi_state_prefetch); a row asks before it
 *     reads the state, as many bytes as its last state's
 *     (omnikpi_state_prefetch_arg);
 *   - a state that outgrows STATE_PROMOTE_BYTES moves into an expanded
 *     object with a context of its own, which then grows in place; such
 *     states take a megabyte each, so there are few of them;
 *   - it leaves the aggregate as the family's stored form: through the
 *     final function, through the expanded object's flattening, or through
 *     omnikpi_state_stored(), which every reader of the type calls.  A
 *     working state reaches another function only as the partial state of a
 *     parallel or partitionwise plan, which the combine function reads.
 *
 * Input functions and moving-window aggregates use the same states in
 * memory of their own (omnikpi_state_new_private).
 */
#ifndef OMNIKPI_AGGREGATE_STATE_H
#define OMNIKPI_AGGREGATE_STATE_H

#include "fmgr.h"
#include "utils/expandeddatum.h"

#include "common/journey_journal.h"
#include "common/key_table.h"

/* The format byte of a working state; every stored form has a small number there. */
#define STATE_WORKING_FORMAT	0xA0
#define STATE_MAX_TABLES		3
/* The families, numbered 1 to STATE_FAMILIES (StateFamily.id). */
#define STATE_FAMILIES			3
/* Every family's first table holds its channels. */
#define STATE_TABLE_CHANNELS	0
/*
 * The largest journaling state, in bytes: a journey that would take it
 * past this builds its tables.  A journal takes each distinct name once and
 * about a byte a touch; a markov_model of a few dozen journeys on a
 * handful of channels takes 4 to 8 kB of tables, so below this the journal
 * is the smaller.
 */
#define STATE_JOURNAL_BYTES		4096
/*
 * The first journey of a state with empty tables reserves room for its
 * keys up to this many touches at once; a longer journey's tables grow as
 * its keys come.
 */
#define STATE_RESERVE_TOUCHES	16
/*
 * Hash aggregation's states are prefetched from this many groups on (a
 * megabyte of states of a few channels, what the caches nearest a core
 * hold), and up to this many of their first bytes: a channel_summary state
 * of up to 13 channels whole (the 1 kB chunk it fills), the first channels
 * of a bigger one.
 */
#define STATE_PREFETCH_GROUPS	1024
#define STATE_PREFETCH_BYTES	1024
/*
 * A journey state whose journal outgrows STATE_JOURNAL_BYTES in a hash
 * aggregation whose groups' states would take more than
 * STATE_PENDING_CACHED_BYTES if all were as big (the cache nearest a core
 * holds one or two megabytes) keeps a journal before its tables, and its
 * journeys wait there to be added to the tables a journal at a time: such
 * states do not stay in the caches from one of a group's rows to the next,
 * and a journey added at once waits for memory at most of its touches,
 * where a journal's hundred journeys wait once for the tables.  The
 * journal takes a quarter of the state's bytes, rounded up to
 * STATE_PENDING_MIN_BYTES times a power of two, up to
 * STATE_PENDING_MAX_SHIFT doublings: a bigger state's tables cost more to
 * bring in, and more journeys share that cost.
 */
#define STATE_PENDING_CACHED_BYTES	(2 * 1024 * 1024)
#define STATE_PENDING_MIN_BYTES		STATE_JOURNAL_BYTES
#define STATE_PENDING_MAX_SHIFT		2
/* A working state larger than this becomes an expanded object. */
#define STATE_PROMOTE_BYTES		(1024 * 1024)

/*
 * The 12 bytes every stored form starts with, so that one channel_count()
 * reads all three and the format byte tells a stored form from a working
 * state (STATE_WORKING_FORMAT).  The family's fields follow.
 */
typedef struct StoredHeader
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		format;			/* the family's format number */
	uint8		flags;			/* the family's flags */
	uint16		reserved;		/* zero */
	int32		nchannels;		/* channels, in byte order of their names */
} StoredHeader;

/*
 * What follows a working state's headers (StateBody.layout): the family's
 * tables; a journal and no tables (a small journey state); or, from
 * STATE_TABLES_PENDING on, a journal of journeys not yet added, of
 * STATE_PENDING_MIN_BYTES << (layout - STATE_TABLES_PENDING) bytes, then
 * the tables.
 */
#define STATE_TABLES			0
#define STATE_JOURNAL			1
#define STATE_TABLES_PENDING	2

/*
 * 24 bytes: a state is created for every group, and hash aggregation keeps
 * them all.
 */
typedef struct StateBody
{
	int32		vl_len_;		/* varlena header, while the body is a value */
	uint8		format;			/* STATE_WORKING_FORMAT: stored forms put theirs here */
	uint8		family;			/* StateFamily.id */
	uint8		layout;			/* STATE_TABLES, STATE_JOURNAL, STATE_TABLES_PENDING and up */
	bool		prefetch;		/* one of many groups' states: omnikpi_state_prefetch */
	uint32		size;			/* bytes allocated */
	uint32		table_offset[STATE_MAX_TABLES];	/* from the start of the body */
	/* the family's header follows, then its tables or its journal */
} StateBody;

/* Does a pending journal lie before the body's tables? */
static inline bool
omnikpi_state_has_pending(const StateBody *body)
{
	return body->layout >= STATE_TABLES_PENDING;
}

struct StateRef;

/* What the engine knows of a family. */
typedef struct StateFamily
{
	const char *type_name;		/* the SQL type, for messages */
	uint8		id;				/* a number of its own, 1 to STATE_FAMILIES */
	uint8		ntables;
	Size		header_size;	/* the family's header */
	Size		payload_size[STATE_MAX_TABLES];
	int32		initial_entries[STATE_MAX_TABLES];
	Size		initial_key_bytes[STATE_MAX_TABLES];
	bool		tagged[STATE_MAX_TABLES];	/* key tables with tags: key_table.h */
	/* the stored form of a working state */
	Size		(*stored_size) (const StateBody *body);
	void		(*store) (const StateBody *body, void *stored, Size size);
	/* 54000 when the stored form could not hold one more key of key_len bytes */
	void		(*check_add) (const StateBody *body, int table, int32 key_len);
	/* a new state takes a stored value's parameters (scale, order) */
	void		(*take_parameters) (StateBody *body, const void *stored);
	/* add a stored value to a state; rejects one of other parameters */
	void		(*merge) (struct StateRef *ref, const void *stored);
	/*
	 * the journey families: add a journey of n touches (n >= 1) to the
	 * tables, each touch its channel's number in the channel table; NULL:
	 * the state never journals
	 */
	void		(*add_journey) (struct StateRef *ref, const int32 *channels, int32 n,
								const JourneyRow *row);

	/*
	 * the journey families: add a journey given by its touches' names,
	 * looked up as the family goes; NULL: the engine looks them up first
	 * and calls add_journey
	 */
	void		(*add_named_journey) (struct StateRef *ref, const JourneyTouches *touches,
									  const JourneyRow *row);

	/*
	 * The journey families: the stored form of a journaling state written
	 * straight from its journal, palloc'd, or NULL for the engine to build
	 * the tables and store them; NULL: the tables are always built
	 */
	void	   *(*store_journal) (const StateBody *body, const JournalHead *journal);
} StateFamily;

/* Where a state lives and how it grows. */
typedef struct StateRef
{
	StateBody  *body;
	const StateFamily *family;
	struct PromotedState *promoted;	/* the expanded object holding body, or NULL */
	MemoryContext home;			/* private states: their memory; NULL for a value */
	FunctionCallInfo fcinfo;	/* values: the call, for the aggregate context */
	bool		owned;			/* body was allocated in this call: free it when it moves */
	bool		created;		/* a new value: compacted when it leaves the call */
} StateRef;

extern const ExpandedObjectMethods omnikpi_promoted_state_methods;

extern MemoryContext omnikpi_aggregate_context(FunctionCallInfo fcinfo);
extern void omnikpi_state_new_value(StateRef *ref, const StateFamily *family,
									FunctionCallInfo fcinfo, bool journal);
extern void omnikpi_state_new_private(StateRef *ref, const StateFamily *family,
									  MemoryContext home);
extern void omnikpi_state_free(StateRef *ref);
extern bool omnikpi_state_of_arg(StateRef *ref, FunctionCallInfo fcinfo, int argno,
								 const StateFamily *family);
extern void omnikpi_state_writable(StateRef *ref, FunctionCallInfo fcinfo,
								   const StateFamily *family, bool journal);
extern Datum omnikpi_state_value(StateRef *ref);
extern KeyTable *omnikpi_state_make_room(StateRef *ref, int table, int32 entries,
										 Size key_bytes);
extern int32 omnikpi_state_add_key(StateRef *ref, int table, const KeyProbe *probe);
extern void omnikpi_state_reserve(StateRef *ref, const int32 *entries, const Size *key_bytes);
extern void omnikpi_state_add_journey(StateRef *ref, const JourneyRow *row, bool collapse);
extern int32 omnikpi_state_channel_count(const StateBody *body);
extern StateBody *omnikpi_state_promoted_body(Datum d, const StateFamily *family);
extern void *omnikpi_state_stored(Datum d, const StateFamily *family);
extern void *omnikpi_state_store(const StateBody *body, const StateFamily *family);
extern void *omnikpi_state_finish(StateRef *ref, const StateFamily *family);
extern Datum omnikpi_state_combine(FunctionCallInfo fcinfo, const StateFamily *family);
extern Datum omnikpi_state_final(FunctionCallInfo fcinfo, const StateFamily *family);

/* The result for a skipped row: the state as it was (NULL before any row). */
static inline Datum
omnikpi_state_unchanged(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

static inline void *
omnikpi_state_header(const StateBody *body)
{
	return (char *) body + sizeof(StateBody);
}

static inline KeyTable *
omnikpi_state_table(const StateBody *body, int table)
{
	return (KeyTable *) ((char *) body + body->table_offset[table]);
}

/*
 * The working state behind d when d is one of the family's, else NULL (a
 * stored value).  A transition function may update what it gets for its
 * state argument in place; every other caller only reads it.  Inline: every
 * row asks first, with the family's id a constant.
 */
static inline StateBody *
omnikpi_state_body_of(Datum d, const StateFamily *family, uint8 id)
{
	StateBody  *body = (StateBody *) DatumGetPointer(d);

	if (VARATT_IS_4B_U(body))
		return body->format == STATE_WORKING_FORMAT && body->family == id ? body : NULL;
	if (VARATT_IS_EXTERNAL_EXPANDED(body))
		return omnikpi_state_promoted_body(d, family);
	return NULL;
}

#define omnikpi_state_body(d, family)	omnikpi_state_body_of((d), (family), (family)->id)

static inline void
state_prefetch_line(const char *at)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	/* an asm: GCC 12's dead-code elimination drops a __builtin_prefetch under a test */
	__asm__ volatile("prefetcht0 %0" : : "m"(*at));
#elif defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(at);
#endif
}

/* Ask for the lines of bytes from to to of the state at at, its first line left out. */
static inline void
state_prefetch_range(const void *at, Size from, Size to)
{
	/* lines of 64 bytes, those of the processors we run on */
	const char *second = (const char *) ((uintptr_t) at & ~(uintptr_t) 63) + 64;
	const char *line = (const char *) ((uintptr_t) ((const char *) at + from) & ~(uintptr_t) 63);
	const char *end = (const char *) at + to;

	for (line = Max(line, second); line < end; line += 64)
		state_prefetch_line(line);
}

/* The first bytes of the state asked for at once: STATE_PREFETCH_BYTES of one of many. */
static inline uint32
state_prefetch_bytes(const StateBody *body)
{
	return body->prefetch ? Min(body->size, STATE_PREFETCH_BYTES) : 0;
}

/*
 * Ask for the rest of a state's first STATE_PREFETCH_BYTES at once, when it
 * is one of many groups' states of hash aggregation; the caller has read
 * its first line.  Hash aggregation keeps every group's state and visits a
 * group once in many rows, so a row (or a merged value, in rollup() and
 * the combine step) finds its state cold, and the lookup's reads -- the
 * channels' first words, then the matching channel's other words and
 * payload -- each wait for the one before: several trips to memory a row
 * where avg() makes one.  Asked for together, they overlap.  The final
 * function, which visits the groups in the order of hash aggregation's
 * buckets, finds each state cold too, and reads all of it.
 * The states of sorted and plain aggregation, and of a hash aggregation of
 * a few groups, stay warm and are left alone: there the requests would be
 * only instructions.
 */
static inline void
omnikpi_state_prefetch(const StateBody *body)
{
	state_prefetch_range(body, 0, state_prefetch_bytes(body));
}

/*
 * What a transition function keeps in its fn_extra: how many of its last
 * state's first bytes it asked for (omnikpi_state_prefetch_row).
 */
typedef struct StatePrefetchHint
{
	uint32		bytes;
} StatePrefetchHint;

extern void omnikpi_state_remember_prefetch(FunctionCallInfo fcinfo, uint32 bytes);

/*
 * A transition function's first request, before it reads its state: as
 * many of the state argument's first bytes as its last state had asked
 * for.  omnikpi_state_prefetch asks for a state's lines once its first line
 * has come, a second trip to memory a row; the states of one hash
 * aggregation are much alike, so the last one's bytes are a good guess,
 * and the lines guessed come with the first.  A guess past a smaller
 * state's end asks for lines of the aggregate's memory that the row does
 * not read, which costs a request and no more.  Only a state asked for
 * makes a hint: sorted and plain aggregation find none.
 */
static inline void
omnikpi_state_prefetch_arg(FunctionCallInfo fcinfo, int argno)
{
	const StatePrefetchHint *hint = (const StatePrefetchHint *) fcinfo->flinfo->fn_extra;

	if (hint != NULL && !PG_ARGISNULL(argno))
		state_prefetch_range(DatumGetPointer(PG_GETARG_DATUM(argno)), 0, hint->bytes);
}

/*
 * A transition's omnikpi_state_prefetch, after omnikpi_state_prefetch_arg:
 * it asks for what the guess left out, and keeps this state's bytes as the
 * next row's guess.  Sorted and plain aggregation pass its first test
 * only.  A state with a pending journal is left out: its row reads the
 * journal's head and dictionary and writes at its end, none of the
 * journeys between, which most of its first kilobyte is.
 */
static inline void
omnikpi_state_prefetch_row(FunctionCallInfo fcinfo, const StateBody *body)
{
	const StatePrefetchHint *hint;
	uint32		want;

	if (!body->prefetch || omnikpi_state_has_pending(body))
		return;
	want = state_prefetch_bytes(body);
	hint = (const StatePrefetchHint *) fcinfo->flinfo->fn_extra;
	if (unlikely(hint == NULL || hint->bytes != want))
	{
		if (hint == NULL || hint->bytes < want)
			state_prefetch_range(body, hint != NULL ? hint->bytes : 0, want);
		omnikpi_state_remember_prefetch(fcinfo, want);
	}
}

/*
 * The entry of the probe's key in table, added (with a zeroed payload) when
 * absent.  Adding may move the body: re-read table pointers from ref->body
 * afterwards.  Always inline: the journey families look up every touch's
 * channel here, and a call (GCC made one) cost a fifth of the lookup.
 */
static pg_attribute_always_inline int32
omnikpi_state_find_or_add(StateRef *ref, int table, const KeyProbe *probe)
{
	int32		i = key_table_find(omnikpi_state_table(ref->body, table), probe);

	if (likely(i >= 0))
		return i;
	return omnikpi_state_add_key(ref, table, probe);
}

/*
 * The number of the channel called name in the state's channel table,
 * added when new: the lookup every touch of a journey makes, inline in the
 * journey families' loops.
 */
static pg_attribute_always_inline int32
omnikpi_state_channel(StateRef *ref, const char *name, int32 len)
{
	KeyProbe	probe;

	key_probe_init(&probe, name, len);
	return omnikpi_state_find_or_add(ref, STATE_TABLE_CHANNELS, &probe);
}

/* What holds for every working state of the family (with assertions on). */
static inline void
omnikpi_state_assert_valid(const StateBody *body, const StateFamily *family)
{
#ifdef USE_ASSERT_CHECKING
	int			k;

	Assert(body->format == STATE_WORKING_FORMAT && body->family == family->id);
	Assert(body->layout == STATE_TABLES || family->add_journey != NULL);
	for (k = 0; k < family->ntables && body->layout != STATE_JOURNAL; k++)
	{
		const KeyTable *table = omnikpi_state_table(body, k);

		Assert(table->nentries >= 0 && table->nentries <= table->capacity);
	}
#endif
}

/*
 * A combine function and a final function for a family, both SQL-callable:
 * combine merges its second argument into the state of its first (the
 * combine function of every aggregate of the family, and the transition
 * function of its rollup()); final hands out the stored form (the final
 * function of the aggregates that return the type itself).  The same two
 * for every family, so written once.
 */
#define OMNIKPI_STATE_SUPPORT_FUNCTIONS(combine, final, family) \
	PG_FUNCTION_INFO_V1(combine); \
	Datum combine(PG_FUNCTION_ARGS) { return omnikpi_state_combine(fcinfo, &(family)); } \
	PG_FUNCTION_INFO_V1(final); \
	Datum final(PG_FUNCTION_ARGS) { return omnikpi_state_final(fcinfo, &(family)); }

/*
 * A text argument's bytes and length, without a call for the usual text
 * with a one-byte header (a short value from a table) or a plain one.
 */
static inline const char *
omnikpi_text_arg(Datum d, int *len)
{
	const struct varlena *v = (const struct varlena *) DatumGetPointer(d);

	if (likely(VARATT_IS_SHORT(v) && !VARATT_IS_EXTERNAL(v)))
	{
		*len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;
		return VARDATA_SHORT(v);
	}
	if (unlikely(VARATT_IS_EXTENDED(v)))
		v = pg_detoast_datum_packed((struct varlena *) v);
	*len = VARSIZE_ANY_EXHDR(v);
	return VARDATA_ANY(v);
}

#endif							/* OMNIKPI_AGGREGATE_STATE_H */
