/*
 * key_table.c: the out-of-line part of the key tables (see key_table.h):
 * hashing, probing the slots, adding a key, copying a table into a larger
 * block, and the byte order of the keys (and of names listed in arrays)
 * that every stored form uses.
 */
#include "postgres.h"

#include "common/key_table.h"

/* Slots for a table of capacity entries: none while it is scanned, else at most half full. */
static inline int32
slots_for(int32 capacity)
{
	int32		nslots = 32;

	if (capacity <= KEY_TABLE_SCAN_MAX)
		return 0;
	while (nslots < 2 * capacity)
		nslots *= 2;
	return nslots;
}

StaticAssertDecl(KEY_COLUMN_BYTES % MAXIMUM_ALIGNOF == 0 && sizeof(KeyTable) % MAXIMUM_ALIGNOF == 0,
				 "the payloads after the columns must be MAXALIGNed");

/*
 * Tags of a table of capacity entries: none unless tagged, none once it is
 * hashed, else one an entry in whole vectors and at least KEY_TAGS_FIRST,
 * an empty table's included.
 */
static inline int32
tags_for(int32 capacity, bool tagged)
{
	if (!tagged || slots_for(capacity) != 0)
		return 0;
	return Max(KEY_TAGS_FIRST, TYPEALIGN(KEY_TAGS_PER_VECTOR, capacity));
}

/*
 * Where a table's payloads start: after the header, the columns w0, w1, len
 * and key offset, and the tags (16 bytes a vector, so still MAXALIGNed).
 */
static inline Size
payloads_at(int32 capacity, bool tagged)
{
	return sizeof(KeyTable) + (Size) capacity * KEY_COLUMN_BYTES +
		(Size) tags_for(capacity, tagged) * sizeof(uint32);
}

/* Where its key area starts: after the payloads and the slots, MAXALIGNed. */
static inline Size
keys_at(int32 capacity, Size payload_size, bool tagged)
{
	return MAXALIGN(payloads_at(capacity, tagged) + (Size) capacity * MAXALIGN(payload_size) +
					(Size) slots_for(capacity) * sizeof(KeySlot));
}

/*
 * Bytes of a table's block with room for capacity entries and key_capacity
 * key bytes; tagged: with tags while it is scanned (key_table_find).
 */
Size
key_table_size(int32 capacity, Size key_capacity, Size payload_size, bool tagged)
{
	return keys_at(capacity, payload_size, tagged) + MAXALIGN(key_capacity);
}

/* An empty table in a block of key_table_size() bytes. */
void
key_table_init(KeyTable *table, int32 capacity, Size key_capacity, Size payload_size,
			   bool tagged)
{
	memset(table, 0, sizeof(KeyTable));
	table->capacity = capacity;
	table->nslots = slots_for(capacity);
	table->payload_size = (uint32) MAXALIGN(payload_size);
	table->key_capacity = (uint32) MAXALIGN(key_capacity);
	table->payloads_at = (uint32) payloads_at(capacity, tagged);
	table->keys_at = (uint32) keys_at(capacity, payload_size, tagged);
	/* a scan reads whole vectors of tags: those past the last entry must be 0 (key_words_tag) */
	memset(KEY_TABLE_TAGS(table), 0, (Size) tags_for(capacity, tagged) * sizeof(uint32));
	memset(KEY_TABLE_SLOTS(table), 0, (Size) table->nslots * sizeof(KeySlot));
}

/*
 * The hash of a key.  Its words determine a key of up to 16 bytes; a longer
 * one is hashed eight bytes at a time (the last eight overlapping), so keys
 * that differ only in the middle spread over the table too.  Each table is
 * private to one state, so the hash needs no stability across versions.
 */
uint32
key_probe_hash(const KeyProbe *probe)
{
	uint64		h = key_hash_start(probe->w0, probe->w1, probe->len);

	if (probe->len > 16)
	{
		int32		i;

		for (i = 8; i < probe->len - 8; i += 8)
			h = key_hash_more(h, key_load64(probe->key + i));
	}
	return key_hash_finish(h);
}

/* The probe of entry i's key, for rehashing or tagging it: its words are the entry's. */
static KeyProbe
entry_probe(const KeyTable *table, int32 i)
{
	KeyProbe	probe;

	probe.len = KEY_TABLE_LEN(table)[i];
	probe.key = probe.len > KEY_INLINE_BYTES ? KEY_TABLE_KEYS(table) + KEY_TABLE_OFFSET(table)[i] : NULL;
	probe.w0 = KEY_TABLE_W0(table)[i];
	probe.w1 = KEY_TABLE_W1(table)[i];
	return probe;
}

/*
 * key_table_find beyond the scanned size: probe the slots.  The probe comes
 * field by field, in registers: a probe passed whole has to be written to
 * memory first, and the compiler writes it on every lookup, scanned tables'
 * too.
 */
int32
key_table_find_hashed(KeyTable *table, const char *key, int32 len, uint64 w0, uint64 w1)
{
	KeyProbe	probe = {key, len, w0, w1};
	uint32		hash = key_probe_hash(&probe);
	uint32		mask = (uint32) table->nslots - 1;
	const KeySlot *slots = KEY_TABLE_SLOTS(table);
	uint32		slot;

	if (table->last < table->nentries && key_entry_matches(table, table->last, &probe))
		return table->last;
	for (slot = hash & mask; slots[slot] != 0; slot = (slot + 1) & mask)
	{
		int32		i = (int32) slots[slot] - 1;

		if (key_entry_matches(table, i, &probe))
		{
			table->last = i;
			return i;
		}
	}
	return -1;
}

/* The middle bytes of a key longer than KEY_INLINE_BYTES, whose words agree. */
bool
key_table_middle_matches(const KeyTable *table, int32 i, const char *key, int32 len)
{
	return memcmp(KEY_TABLE_KEYS(table) + KEY_TABLE_OFFSET(table)[i] + 8, key + 8, len - 16) == 0;
}

static void
slot_insert(KeyTable *table, uint32 hash, int32 i)
{
	uint32		mask = (uint32) table->nslots - 1;
	KeySlot    *slots = KEY_TABLE_SLOTS(table);
	uint32		slot;

	for (slot = hash & mask; slots[slot] != 0; slot = (slot + 1) & mask)
		;
	slots[slot] = (uint32) i + 1;
}

/*
 * Add the probe's key, which the table does not hold, with a zeroed payload;
 * returns its entry number.  The caller made room (key_table_has_room).
 */
int32
key_table_add(KeyTable *table, const KeyProbe *probe)
{
	int32		i = table->nentries;

	Assert(key_table_has_room(table, 1, key_area_bytes(probe->len)));
	KEY_TABLE_W0(table)[i] = probe->w0;
	KEY_TABLE_W1(table)[i] = probe->w1;
	KEY_TABLE_LEN(table)[i] = probe->len;
	KEY_TABLE_OFFSET(table)[i] = table->key_bytes;
	if (probe->len > KEY_INLINE_BYTES)
	{
		memcpy(KEY_TABLE_KEYS(table) + table->key_bytes, probe->key, probe->len);
		table->key_bytes += probe->len;
	}
	memset(key_table_payload(table, i), 0, table->payload_size);
	table->total_length += probe->len;
	table->nentries++;
	table->last = i;
	if (table->nslots != 0)
		slot_insert(table, key_probe_hash(probe), i);
	else if (key_table_tagged(table))
		KEY_TABLE_TAGS(table)[i] = key_probe_tag(probe);
	return i;
}

/*
 * Copy every entry, payload and key of from into to, an empty table of the
 * same payload with at least as much room; the slots or tags to has are
 * built anew.
 */
void
key_table_copy(const KeyTable *from, KeyTable *to)
{
	int32		n = from->nentries;
	int32		i;

	Assert(to->nentries == 0 && to->payload_size == from->payload_size);
	Assert(to->capacity >= n && to->key_capacity >= from->key_bytes);
	memcpy(KEY_TABLE_W0(to), KEY_TABLE_W0(from), n * sizeof(uint64));
	memcpy(KEY_TABLE_W1(to), KEY_TABLE_W1(from), n * sizeof(uint64));
	memcpy(KEY_TABLE_LEN(to), KEY_TABLE_LEN(from), n * sizeof(int32));
	memcpy(KEY_TABLE_OFFSET(to), KEY_TABLE_OFFSET(from), n * sizeof(uint32));
	memcpy(KEY_TABLE_PAYLOADS(to), KEY_TABLE_PAYLOADS(from), (Size) n * from->payload_size);
	memcpy(KEY_TABLE_KEYS(to), KEY_TABLE_KEYS(from), from->key_bytes);
	to->nentries = n;
	to->key_bytes = from->key_bytes;
	to->total_length = from->total_length;
	to->last = from->last;
	/* a scanned table without tags has nothing more to build; else slots or tags */
	if (to->nslots == 0 && !key_table_tagged(to))
		return;
	for (i = 0; i < n; i++)
	{
		KeyProbe	probe = entry_probe(to, i);

		if (to->nslots != 0)
			slot_insert(to, key_probe_hash(&probe), i);
		else
			KEY_TABLE_TAGS(to)[i] = key_probe_tag(&probe);
	}
}

/*
 * The room a table needs to take more_entries more keys of more_key_bytes
 * bytes in all: each of entries (from KEY_TABLE_FIRST_CAPACITY) and key
 * bytes doubled until they fit.  The caller checks the result against its
 * limits.
 */
void
key_table_grown_size(const KeyTable *table, int32 more_entries, Size more_key_bytes,
					 int32 *capacity, Size *key_capacity)
{
	int64		entries = Max(table->capacity, KEY_TABLE_FIRST_CAPACITY);
	Size		bytes = table->key_capacity;
	Size		needed = table->key_bytes + more_key_bytes;

	while (entries < table->nentries + (int64) more_entries)
		entries *= 2;
	if (needed > bytes)
	{
		bytes = Max(bytes, 32);
		while (bytes < needed)
			bytes *= 2;
	}
	*capacity = (int32) Min(entries, PG_INT32_MAX);
	*key_capacity = bytes;
}

/*
 * Byte order of two keys, a prefix first: the order of every stored form.
 * Most channel names differ in their first byte, told apart here without
 * a call to memcmp(), which took half the time of sorting a group's few
 * names.
 */
static inline int
key_compare(const char *a, int32 alen, const char *b, int32 blen)
{
	int			cmp;

	if (alen > 0 && blen > 0 && a[0] != b[0])
		return (uint8) a[0] < (uint8) b[0] ? -1 : 1;
	cmp = memcmp(a, b, Min(alen, blen));

	if (cmp != 0)
		return cmp;
	return (alen > blen) - (alen < blen);
}

/*
 * What a sort of names reads: a table's keys, or names listed in arrays
 * (a journal's dictionary).
 */
typedef struct NameSource
{
	const KeyTable *table;		/* or NULL: */
	const char *const *names;
	const int32 *lens;
} NameSource;

static pg_attribute_always_inline const char *
source_name(const NameSource *source, int32 i, char *buffer, int32 *len)
{
	if (source->table != NULL)
		return key_table_key(source->table, i, buffer, len);
	*len = source->lens[i];
	return source->names[i];
}

/*
 * Names a and b by byte order.  Inlined into the sort below: every stored
 * form sorts its channels once per group, and a GROUP BY by journey or
 * customer has many groups of a few channels each, for which qsort_arg's
 * comparator called by pointer cost more than the comparisons themselves.
 */
static pg_attribute_always_inline int
compare_names(const int32 *a, const int32 *b, const NameSource *source)
{
	char		abuffer[KEY_INLINE_BYTES];
	char		bbuffer[KEY_INLINE_BYTES];
	int32		alen;
	int32		blen;
	const char *aname = source_name(source, *a, abuffer, &alen);
	const char *bname = source_name(source, *b, bbuffer, &blen);

	return key_compare(aname, alen, bname, blen);
}

#define ST_SORT sort_names
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE_ARG_TYPE const NameSource
#define ST_COMPARE(a, b, source) compare_names(a, b, source)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* order[0 .. n - 1]: the numbers of source's n names in byte order. */
static void
order_names(const NameSource *source, int32 n, int32 *order)
{
	int32		i;

	for (i = 0; i < n; i++)
		order[i] = i;
	/* a state of one channel, as a group of one row has, is in order already */
	if (n > 1)
		sort_names(order, n, source);
}

/* order[0 .. nentries - 1]: the entry numbers in byte order of their keys. */
void
key_table_sort(const KeyTable *table, int32 *order)
{
	NameSource	source = {table, NULL, NULL};

	order_names(&source, table->nentries, order);
}

/* order_names, and rank[i]: name i's position in that order. */
static void
rank_names(const NameSource *source, int32 n, int32 *order, int32 *rank)
{
	int32		i;

	order_names(source, n, order);
	for (i = 0; i < n; i++)
		rank[order[i]] = i;
}

/*
 * rank[entry]: the entry's position in byte order of the keys, with
 * key_table_sort's order in order[0 .. nentries - 1].
 */
void
key_table_ranks(const KeyTable *table, int32 *order, int32 *rank)
{
	NameSource	source = {table, NULL, NULL};

	rank_names(&source, table->nentries, order, rank);
}

/* The same for names[i] of lens[i] bytes, 0 <= i < n, listed in arrays. */
void
key_names_ranks(const char *const *names, const int32 *lens, int32 n, int32 *order, int32 *rank)
{
	NameSource	source = {NULL, names, lens};

	rank_names(&source, n, order, rank);
}
