/*
 * key_table.h: the hash table every aggregate state is built from.  Channel
 * names, Markov states and transitions, and journey paths are all keys:
 * byte strings of any length, each with a fixed-size payload (a channel's
 * statistics, a transition's counts, a path's journeys).
 *
 * A table is one block of memory addressed by offsets, never by pointers,
 * so a state holding several tables is one allocation that can be copied
 * with memcpy and passed around as a value.  The block holds its entries in
 * columns, so that a lookup reads one cache line of first words instead of
 * one line per entry -- the line that matters when hash aggregation visits a
 * cold state on every row:
 *
 *   KeyTable | w0[capacity] | w1[capacity] | len[capacity] | key offset[capacity]
 *            | tags (tagged tables) | payload[capacity] | slots[nslots] | key bytes
 *
 * Up to KEY_TABLE_SCAN_MAX entries a table has no slots: a lookup compares
 * the probe's first word with every entry's, two at a time, which for a
 * handful of channels costs less than hashing.  A table its family makes
 * tagged (the channels of channel_summary, looked up once a row by the KPI
 * aggregates) keeps a tag of each key too, 31 bits of its words and length
 * (key_words_tag) in vectors of four, and compares those instead: four at a
 * time, in fewer instructions, for 4 bytes an entry more, which the journey
 * families' small states do without.  Beyond, the slots (open addressing,
 * linear probing, at most half full) hold entry numbers, and no table has
 * tags.  A key of up to 16 bytes -- most channel names, every Markov state
 * and transition -- is kept whole in its two words (key_probe_init), so it
 * compares in three integer comparisons and takes no more room; a longer
 * key keeps its first and last eight bytes there too and the rest in the
 * key area, compared only when the words agree.  A hashed table tries the
 * entry found last first, so rows sorted or clustered by key find theirs
 * at once.  A table whose keys are all 8 bytes (a Markov model's
 * transitions, two numbers) is looked up by the one word they make
 * (key_table_find_word).  A hashed table keeps no hash per entry: a probe's
 * words already tell its key from another's, and a table rehashes its keys
 * only when it is copied into a larger block -- 4 bytes less per entry,
 * which a state of many small journeys feels.
 *
 * No server calls: a table never allocates and never raises an error.  The
 * caller checks for room (key_table_has_room) and moves a full table into a
 * larger block (key_table_copy); common/aggregate_state.c does both for the
 * states.  Include "postgres.h" (or "postgres_fe.h") first.
 */
#ifndef OMNIKPI_KEY_TABLE_H
#define OMNIKPI_KEY_TABLE_H

#include "port/pg_bitutils.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * The largest table that is scanned rather than hashed: comparing the first
 * words of 16 entries costs about as much as hashing and probing, and a
 * state of a few channels needs no slots at all.
 */
#define KEY_TABLE_SCAN_MAX	16

/* The capacity a table takes when its first key comes (an empty table has none). */
#define KEY_TABLE_FIRST_CAPACITY	4

/*
 * Tags a scan compares at once: a 16-byte vector of them.  A tagged table
 * has at least KEY_TAGS_FIRST of them, which a scan compares without a loop
 * or a test.
 */
#define KEY_TAGS_PER_VECTOR	4
#define KEY_TAGS_FIRST		(2 * KEY_TAGS_PER_VECTOR)

/* Keys up to this long live in their entry's words only. */
#define KEY_INLINE_BYTES	16

/* A key to look up, with its words computed once. */
typedef struct KeyProbe
{
	const char *key;
	int32		len;
	uint64		w0;				/* see key_probe_init */
	uint64		w1;
} KeyProbe;

/* A slot: an entry number + 1; 0 is an empty slot. */
typedef uint32 KeySlot;

typedef struct KeyTable
{
	int32		nentries;
	int32		capacity;		/* entries there is room for */
	int32		nslots;			/* a power of two, or 0 while the table is scanned */
	int32		last;			/* the entry found or added last (hashed tables) */
	uint32		payload_size;	/* bytes of a payload, MAXALIGNed */
	uint32		key_bytes;		/* bytes used in the key area */
	uint32		key_capacity;	/* bytes of the key area */
	uint32		total_length;	/* the lengths of all keys, added up */
	uint32		payloads_at;	/* where the payloads start, from the table's start */
	uint32		keys_at;		/* where the key area starts */
} KeyTable;

/*
 * The columns.  The key offset is where a key longer than KEY_INLINE_BYTES
 * starts in the key area.  An entry's columns take 24 bytes and a tagged
 * table's tags 16 bytes a vector, so the payloads after them stay
 * MAXALIGNed.
 */
#define KEY_TABLE_W0(t)		((uint64 *) ((char *) (t) + sizeof(KeyTable)))
#define KEY_TABLE_W1(t)		(KEY_TABLE_W0(t) + (t)->capacity)
#define KEY_TABLE_LEN(t)	((int32 *) (KEY_TABLE_W1(t) + (t)->capacity))
#define KEY_TABLE_OFFSET(t)	((uint32 *) (KEY_TABLE_LEN(t) + (t)->capacity))
#define KEY_TABLE_TAGS(t)	((uint32 *) (KEY_TABLE_OFFSET(t) + (t)->capacity))
/* Bytes of one entry's columns before the tags: w0, w1, len, key offset. */
#define KEY_COLUMN_BYTES	(2 * sizeof(uint64) + sizeof(int32) + sizeof(uint32))
#define KEY_TABLE_PAYLOADS(t)	((char *) (t) + (t)->payloads_at)
#define KEY_TABLE_SLOTS(t) \
	((KeySlot *) (KEY_TABLE_PAYLOADS(t) + (Size) (t)->capacity * (t)->payload_size))
#define KEY_TABLE_KEYS(t)	((char *) (t) + (t)->keys_at)

extern Size key_table_size(int32 capacity, Size key_capacity, Size payload_size,
							bool tagged);
extern void key_table_init(KeyTable *table, int32 capacity, Size key_capacity,
						   Size payload_size, bool tagged);
extern uint32 key_probe_hash(const KeyProbe *probe);
extern int32 key_table_find_hashed(KeyTable *table, const char *key, int32 len, uint64 w0,
								   uint64 w1);
extern bool key_table_middle_matches(const KeyTable *table, int32 i, const char *key, int32 len);
extern int32 key_table_add(KeyTable *table, const KeyProbe *probe);
extern void key_table_copy(const KeyTable *from, KeyTable *to);
extern void key_table_grown_size(const KeyTable *table, int32 more_entries, Size more_key_bytes,
								 int32 *capacity, Size *key_capacity);
extern void key_table_sort(const KeyTable *table, int32 *order);
extern void key_table_ranks(const KeyTable *table, int32 *order, int32 *rank);
extern void key_names_ranks(const char *const *names, const int32 *lens, int32 n, int32 *order,
							int32 *rank);

/* Bytes of the table's block as it is. */
static inline Size
key_table_block_size(const KeyTable *table)
{
	return (Size) table->keys_at + table->key_capacity;
}

static inline uint64
key_load64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32
key_load32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * A key's hash (key_probe_hash) and its tag (key_words_tag) are made of
 * these: its first word and length multiplied, its second word added, the
 * middle words of a longer key each mixed in the same way (key_hash_more),
 * and 32 bits taken from the product of the result (key_hash_finish).  A
 * product's high bits depend on all of a factor's bits only below them, so
 * the high half is folded down before each product: names that differ in
 * their last byte alone (store_24, store_28), which sits in a word's top
 * bits, hash as differently as any.  Two products and no more (there were
 * four): a Markov model looks its transition up on every touch, and above
 * order 1 the next touch's lookup waits for this one's hash.
 */
#define KEY_HASH_FIRST		UINT64CONST(0x9E3779B97F4A7C15)
#define KEY_HASH_LAST		UINT64CONST(0xC2B2AE3D27D4EB4F)

static inline uint64
key_hash_start(uint64 w0, uint64 w1, int32 len)
{
	return ((w0 ^ (uint64) (uint32) len) * KEY_HASH_FIRST) ^ w1;
}

static inline uint64
key_hash_more(uint64 h, uint64 word)
{
	h ^= h >> 29;
	return (h * KEY_HASH_FIRST) ^ word;
}

static inline uint32
key_hash_finish(uint64 h)
{
	h ^= h >> 29;
	return (uint32) ((h * KEY_HASH_LAST) >> 32);
}

/*
 * key_probe_hash of a key of 8 bytes, whose two words are both its bytes:
 * the hash a table of such keys probes with (key_table_find_word).
 */
static inline uint32
key_word_hash(uint64 word)
{
	return key_hash_finish(key_hash_start(word, word, sizeof(word)));
}

/* What key_probe_init reads instead of the bytes a short key does not have. */
static const char key_no_bytes[8] = {0};

/*
 * at when use is all ones, key_no_bytes when it is zero: chosen by a mask,
 * because the compiler turns a conditional expression here into a branch.
 */
static inline const char *
key_bytes_or_none(uintptr_t use, const char *at)
{
	return (const char *) ((uintptr_t) key_no_bytes + (((uintptr_t) at - (uintptr_t) key_no_bytes) & use));
}

/*
 * The key's words: for 8 bytes or more its first and its last eight bytes
 * (overlapping when it is shorter than 16), for 4 to 7 bytes its first and
 * last four, for 1 to 3 bytes its first, middle and last byte.  Together
 * with the length they determine a key of up to 16 bytes completely, and
 * they are read without touching a byte past the key's end.
 *
 * Written without branches: all three forms are read, from the key where
 * it is long enough and from key_no_bytes where not, and the length picks
 * one by masks.  Channel names of 3 to 11 bytes in random row order made
 * the tests of the length mispredicted branches on about one row in three,
 * a cost an instruction count does not show (callgrind --branch-sim=yes
 * does).
 */
static inline void
key_probe_init(KeyProbe *probe, const char *key, int32 len)
{
	uint64		has8 = (uint64) 0 - (uint64) (len >= 8);
	uint64		has4 = (uint64) 0 - (uint64) (len >= 4);
	uint64		has1 = (uint64) 0 - (uint64) (len > 0);
	const char *from8 = key_bytes_or_none(has8, key);
	const char *from4 = key_bytes_or_none(has4, key);
	const char *from1 = key_bytes_or_none(has1, key);
	uint64		words4 = key_load32(from4) |
		(uint64) key_load32(from4 + ((len - 4) & (int32) has4)) << 32;
	uint64		bytes = (uint64) (unsigned char) from1[0] |
		(uint64) (unsigned char) from1[len / 2] << 8 |
		(uint64) (unsigned char) from1[(len - 1) & (int32) has1] << 16;

	probe->key = key;
	probe->len = len;
	/* a form read from key_no_bytes is 0 already; only a shorter form read from the key is masked */
	probe->w0 = key_load64(from8) | (words4 & ~has8) | (bytes & ~has4);
	probe->w1 = key_load64(from8 + ((len - 8) & (int32) has8));
}

/*
 * The tag of a key: 31 bits that depend on every bit of its words and its
 * length (a hash of them, key_hash_start), and a last bit always 1, which a
 * tagged table keeps for each entry.  Keys whose tags differ differ; keys
 * whose tags agree are compared whole.  The tags past a table's last entry
 * are 0, which no key's is, so a scan needs no mask for them.
 */
static inline uint32
key_words_tag(uint64 w0, uint64 w1, int32 len)
{
	return key_hash_finish(key_hash_start(w0, w1, len)) | 1;
}

static inline uint32
key_probe_tag(const KeyProbe *probe)
{
	return key_words_tag(probe->w0, probe->w1, probe->len);
}

/*
 * Is entry i the probe's key?  Its words and length say so for a key of up
 * to 16 bytes, and rule most other keys out; a longer key whose words agree
 * compares its middle bytes (key_table_middle_matches).
 */
static inline bool
key_entry_matches(const KeyTable *table, int32 i, const KeyProbe *probe)
{
	if (((KEY_TABLE_W0(table)[i] ^ probe->w0) | (KEY_TABLE_W1(table)[i] ^ probe->w1) |
		 (uint32) (KEY_TABLE_LEN(table)[i] ^ probe->len)) != 0)
		return false;
	return probe->len <= KEY_INLINE_BYTES ||
		key_table_middle_matches(table, i, probe->key, probe->len);
}

StaticAssertDecl(KEY_TABLE_SCAN_MAX <= 32, "a scanned table's entries fit a 32-bit mask");

/* Which of the KEY_TAGS_PER_VECTOR tags from tags on are tag: a bit each. */
static inline uint32
key_tags_agree(const uint32 *tags, uint32 tag)
{
#ifdef __SSE2__
	__m128i		same = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *) tags),
									   _mm_set1_epi32((int) tag));

	return (uint32) _mm_movemask_ps(_mm_castsi128_ps(same));
#else
	uint32		agree = 0;
	int			k;

	for (k = 0; k < KEY_TAGS_PER_VECTOR; k++)
		agree |= (uint32) (tags[k] == tag) << k;
	return agree;
#endif
}

/*
 * Does the table keep tags?  A scanned table of a family that asks for them
 * (key_table_init) does: they lie between its columns and its payloads.
 */
static inline bool
key_table_tagged(const KeyTable *table)
{
	return table->payloads_at != sizeof(KeyTable) + (Size) table->capacity * KEY_COLUMN_BYTES;
}

/* The entries of a tagged table whose tags are the probe's, a bit each. */
static pg_attribute_always_inline uint32
key_table_tags_agree(const KeyTable *table, const KeyProbe *probe)
{
	const uint32 *tags = KEY_TABLE_TAGS(table);
	uint32		tag = key_probe_tag(probe);
	uint32		agree;
	int32		i;

	/* tags past the last entry are 0, and agree with no probe */
	agree = key_tags_agree(tags, tag) | key_tags_agree(tags + KEY_TAGS_PER_VECTOR, tag) << 4;
	for (i = KEY_TAGS_FIRST; i < table->nentries; i += KEY_TAGS_PER_VECTOR)
		agree |= key_tags_agree(tags + i, tag) << i;
	return agree;
}

/* The entries of a scanned table whose first words are word, a bit each. */
static pg_attribute_always_inline uint32
key_table_words_agree(const KeyTable *table, uint64 word)
{
	const uint64 *w0 = KEY_TABLE_W0(table);
	uint32		agree = 0;
	int32		i = 0;

#ifdef __SSE2__
	{
		/* two entries at a time: both halves of a word equal */
		__m128i		want = _mm_set1_epi64x((long long) word);

		for (; i + 2 <= table->nentries; i += 2)
		{
			__m128i		halves = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *) (w0 + i)), want);
			__m128i		words = _mm_and_si128(halves, _mm_shuffle_epi32(halves, _MM_SHUFFLE(2, 3, 0, 1)));

			agree |= (uint32) _mm_movemask_pd(_mm_castsi128_pd(words)) << i;
		}
	}
#endif
	for (; i < table->nentries; i++)
		agree |= (uint32) (w0[i] == word) << i;
	return agree;
}

/*
 * Of the entries agree marks, the one holding the probe's key, or -1.  The
 * one entry that agrees is compared whole; keys sharing a tag or a first
 * word (names alike in their first eight bytes) are told apart one by one.
 */
static pg_attribute_always_inline int32
key_table_match(const KeyTable *table, const KeyProbe *probe, uint32 agree)
{
	int32		i;

	if (likely(agree != 0 && (agree & (agree - 1)) == 0))
	{
		i = pg_rightmost_one_pos32(agree);
		return key_entry_matches(table, i, probe) ? i : -1;
	}
	for (; agree != 0; agree &= agree - 1)
	{
		i = pg_rightmost_one_pos32(agree);
		if (key_entry_matches(table, i, probe))
			return i;
	}
	return -1;
}

/*
 * The entry holding the probe's key, or -1.  A scanned table compares the
 * probe's tag or first word with every entry's without a branch on the
 * outcome, collecting the entries that agree in a mask: with a few
 * channels in random row order, a loop that stops at the match exits at a
 * place the processor guesses wrong on most rows, which costs more than the
 * comparisons it saves.  The loops' own branches depend only on the number
 * of entries, the same row after row.
 */
static pg_attribute_always_inline int32
key_table_find(KeyTable *table, const KeyProbe *probe)
{
	if (table->nslots != 0)
		return key_table_find_hashed(table, probe->key, probe->len, probe->w0, probe->w1);
	return key_table_match(table, probe,
						   key_table_tagged(table) ? key_table_tags_agree(table, probe) :
						   key_table_words_agree(table, probe->w0));
}

/*
 * key_table_find for a table whose keys are all 8 bytes (a Markov model's
 * transitions), given as the word they make: an entry's first word is its
 * whole key, so neither the probe's other word and length nor the entry's
 * are read -- two cache lines fewer a lookup in a cold state, and no
 * probe to compute.  The slots are probed with the hash key_table_add gave
 * the key (key_word_hash); a scanned table's one entry whose word agrees is
 * the key.
 */
static pg_attribute_always_inline int32
key_table_find_word(const KeyTable *table, uint64 word)
{
	const uint64 *w0 = KEY_TABLE_W0(table);
	uint32		agree;

	if (table->nslots != 0)
	{
		uint32		mask = (uint32) table->nslots - 1;
		const KeySlot *slots = KEY_TABLE_SLOTS(table);
		uint32		slot;

		for (slot = key_word_hash(word) & mask; slots[slot] != 0; slot = (slot + 1) & mask)
		{
			int32		i = (int32) slots[slot] - 1;

			if (w0[i] == word)
			{
				Assert(KEY_TABLE_LEN(table)[i] == sizeof(uint64));
				return i;
			}
		}
		return -1;
	}
	agree = key_table_words_agree(table, word);
	Assert((agree & (agree - 1)) == 0);
	if (agree == 0)
		return -1;
	Assert(KEY_TABLE_LEN(table)[pg_rightmost_one_pos32(agree)] == sizeof(uint64));
	return pg_rightmost_one_pos32(agree);
}

/*
 * key_table_find for a table its family makes tagged, without asking
 * whether it is: for the lookup a row of the KPI aggregates makes.
 */
static pg_attribute_always_inline int32
key_table_find_tagged(KeyTable *table, const KeyProbe *probe)
{
	if (table->nslots != 0)
		return key_table_find_hashed(table, probe->key, probe->len, probe->w0, probe->w1);
	Assert(key_table_tagged(table));
	return key_table_match(table, probe, key_table_tags_agree(table, probe));
}

/* Bytes a key of len bytes takes in the key area. */
static inline Size
key_area_bytes(int32 len)
{
	return len > KEY_INLINE_BYTES ? len : 0;
}

/*
 * Is there room for more_entries keys that take more_key_bytes of the key
 * area (key_area_bytes) in all?
 */
static inline bool
key_table_has_room(const KeyTable *table, int32 more_entries, Size more_key_bytes)
{
	return table->nentries + (int64) more_entries <= table->capacity &&
		table->key_bytes + more_key_bytes <= table->key_capacity;
}

static inline void *
key_table_payload(const KeyTable *table, int32 i)
{
	return KEY_TABLE_PAYLOADS(table) + (Size) i * table->payload_size;
}

/* Length of entry i's key. */
static inline int32
key_table_key_length(const KeyTable *table, int32 i)
{
	return KEY_TABLE_LEN(table)[i];
}

/*
 * Entry i's key bytes; *len gets their number.  A key kept in its entry's
 * words is written into buffer (KEY_INLINE_BYTES bytes), a longer one is
 * returned where it lies.
 */
static inline const char *
key_table_key(const KeyTable *table, int32 i, char *buffer, int32 *len)
{
	uint64		w0 = KEY_TABLE_W0(table)[i];
	uint64		w1 = KEY_TABLE_W1(table)[i];
	int32		n = KEY_TABLE_LEN(table)[i];

	*len = n;
	if (n > KEY_INLINE_BYTES)
		return KEY_TABLE_KEYS(table) + KEY_TABLE_OFFSET(table)[i];
	if (n >= 8)
	{
		memcpy(buffer, &w0, 8);
		memcpy(buffer + n - 8, &w1, 8);
	}
	else if (n >= 4)
	{
		uint32		first = (uint32) w0;
		uint32		last = (uint32) (w0 >> 32);

		memcpy(buffer, &first, 4);
		memcpy(buffer + n - 4, &last, 4);
	}
	else if (n > 0)
	{
		buffer[0] = (char) (w0 & 0xFF);
		buffer[n / 2] = (char) ((w0 >> 8) & 0xFF);
		buffer[n - 1] = (char) ((w0 >> 16) & 0xFF);
	}
	return buffer;
}

#endif							/* OMNIKPI_KEY_TABLE_H */
