/*
 * aggregate_state.c: creating, growing, promoting, storing and combining
 * the working states of the aggregates (see aggregate_state.h for the
 * memory rules they follow and why).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "common/aggregate_state.h"
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

static Size
headers_size(const StateFamily *family)
{
	return sizeof(StateBody) + MAXALIGN(family->header_size);
}

/* A new body with the family's empty tables, zeroed, in cxt. */
static StateBody *
new_body(const StateFamily *family, MemoryContext cxt)
{
	Size		size = headers_size(family);
	StateBody  *body;
	int			k;

	for (k = 0; k < family->ntables; k++)
		size += key_table_size(family->initial_entries[k], family->initial_key_bytes[k],
							   family->payload_size[k]);
	body = MemoryContextAllocZero(cxt, size);
	SET_VARSIZE(body, size);	/* far below MaxAllocSize */
	body->format = STATE_WORKING_FORMAT;
	body->family = family->id;
	body->size = size;
	size = headers_size(family);
	for (k = 0; k < family->ntables; k++)
	{
		body->table_offset[k] = size;
		key_table_init(omnikpi_state_table(body, k), family->initial_entries[k],
					   family->initial_key_bytes[k], family->payload_size[k]);
		size += key_table_block_size(omnikpi_state_table(body, k));
	}
	Assert(size == body->size);
	return body;
}

/*
 * A new empty state to return as the transition value.  It is allocated in
 * the per-call context: the executor copies it into the aggregate context.
 * The caller sets the family's header (scale, order).
 */
void
omnikpi_state_new_value(StateRef *ref, const StateFamily *family, FunctionCallInfo fcinfo)
{
	(void) omnikpi_aggregate_context(fcinfo);
	omnikpi_state_new_private(ref, family, CurrentMemoryContext);
	ref->home = NULL;
	ref->fcinfo = fcinfo;
}

/* A new empty state in home, for input functions and moving windows. */
void
omnikpi_state_new_private(StateRef *ref, const StateFamily *family, MemoryContext home)
{
	ref->body = new_body(family, home);
	ref->family = family;
	ref->promoted = NULL;
	ref->home = home;
	ref->fcinfo = NULL;
	ref->owned = true;
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
	return true;
}

/*
 * The state of argument 0 ready to update: ours as it is, else a new one,
 * empty when the argument is NULL (the caller sets the family's header),
 * or else holding what the argument holds (a stored value).
 */
void
omnikpi_state_writable(StateRef *ref, FunctionCallInfo fcinfo, const StateFamily *family)
{
	void	   *stored;

	if (omnikpi_state_of_arg(ref, fcinfo, 0, family))
		return;
	omnikpi_state_new_value(ref, family, fcinfo);
	if (PG_ARGISNULL(0))
		return;
	stored = omnikpi_state_stored(PG_GETARG_DATUM(0), family);
	family->take_parameters(ref->body, stored);
	family->merge(ref, stored);
}

/* The datum to return for the state. */
Datum
omnikpi_state_value(const StateRef *ref)
{
	if (ref->promoted != NULL)
		return EOHPGetRWDatum(&ref->promoted->hdr);
	return PointerGetDatum(ref->body);
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
 * Rebuild the body with more room in table grow: every other table is
 * copied as it is (a table's block is relocatable), the grown one entry by
 * entry.  A value that is not promoted is rebuilt in the per-call context;
 * the executor takes the new pointer and frees the old body.
 */
static void
grow(StateRef *ref, int grow_table, int32 more_entries, Size more_key_bytes)
{
	const StateFamily *family = ref->family;
	StateBody  *old = ref->body;
	const KeyTable *old_grown = omnikpi_state_table(old, grow_table);
	int32		capacity;
	Size		key_capacity;
	Size		size = old->table_offset[0];
	Size		offset = size;
	StateBody  *body;
	bool		was_promoted = ref->promoted != NULL;
	int			k;

	key_table_grown_size(old_grown, more_entries, more_key_bytes, &capacity, &key_capacity);
	if (capacity > PG_INT32_MAX / 4 || key_capacity > PG_UINT32_MAX / 2)
		omnikpi_report_too_large(family->type_name, NULL);
	for (k = 0; k < family->ntables; k++)
		size += k == grow_table ?
			key_table_size(capacity, key_capacity, family->payload_size[k]) :
			key_table_block_size(omnikpi_state_table(old, k));
	/* the stored forms' limits come first; this is the working state's own */
	if (size > PG_UINT32_MAX)
		omnikpi_report_too_large(family->type_name, NULL);
	body = allocate_grown(ref, size);
	memcpy(body, old, offset);
	for (k = 0; k < family->ntables; k++)
	{
		const KeyTable *from = omnikpi_state_table(old, k);
		KeyTable   *to;

		body->table_offset[k] = offset;
		to = omnikpi_state_table(body, k);
		if (k == grow_table)
		{
			key_table_init(to, capacity, key_capacity, family->payload_size[k]);
			key_table_copy(from, to);
		}
		else
			memcpy(to, from, key_table_block_size(from));
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

/* The stored form of a working state, palloc'd. */
void *
omnikpi_state_store(const StateBody *body, const StateFamily *family)
{
	Size		size = family->stored_size(body);
	void	   *stored = palloc(size);

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
	omnikpi_state_writable(&ref, fcinfo, family);
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
