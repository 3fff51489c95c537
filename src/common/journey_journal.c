/*
 * journey_journal.c: writing and reading the dictionary and the records of
 * a working state's journal (see journey_journal.h for why a small state
 * keeps one).
 */
#include "postgres.h"

#include <math.h>

#include "port/pg_bitutils.h"

#include "common/journey_journal.h"
#include "common/key_table.h"

/* Which counts a record holds; a count that is neither flagged nor stored is 0. */
#define JOURNAL_CONVERSION_ONE		0x01	/* conversions is 1 */
#define JOURNAL_CONVERSIONS			0x02	/* conversions follows */
#define JOURNAL_NON_CONVERSION_ONE	0x04	/* non_conversions is 1 */
#define JOURNAL_NON_CONVERSIONS		0x08	/* non_conversions follows */
#define JOURNAL_VALUE				0x10	/* value follows */

static Size
number_size(uint32 n)
{
	Size		size = 1;

	while (n >= 0x80)
	{
		n >>= 7;
		size++;
	}
	return size;
}

static char *
write_number(char *at, uint32 n)
{
	while (n >= 0x80)
	{
		*at++ = (char) (0x80 | (n & 0x7F));
		n >>= 7;
	}
	*at++ = (char) n;
	return at;
}

/* Is d +0.0?  -0.0 is written as it is, so that the tables see the same doubles. */
static inline bool
is_plus_zero(double d)
{
	return d == 0.0 && !signbit(d);
}

/* The flags of a row's counts: 0 and 1 take no bytes. */
static uint8
count_flags(const JourneyRow *row)
{
	uint8		flags = 0;

	if (row->conversions == 1.0)
		flags |= JOURNAL_CONVERSION_ONE;
	else if (!is_plus_zero(row->conversions))
		flags |= JOURNAL_CONVERSIONS;
	if (row->non_conversions == 1.0)
		flags |= JOURNAL_NON_CONVERSION_ONE;
	else if (!is_plus_zero(row->non_conversions))
		flags |= JOURNAL_NON_CONVERSIONS;
	if (!is_plus_zero(row->value))
		flags |= JOURNAL_VALUE;
	return flags;
}

static char *
write_double(char *at, double d)
{
	memcpy(at, &d, sizeof(d));
	return at + sizeof(d);
}

static const char *
read_double(const char *at, double *d)
{
	memcpy(d, at, sizeof(*d));
	return at + sizeof(*d);
}

/* The dictionary's first name; names follow each other. */
static inline const char *
journal_names(const JournalHead *head)
{
	return (const char *) (head + 1);
}

StaticAssertDecl(JOURNAL_STACK_NAMES % KEY_TAGS_PER_VECTOR == 0 &&
				 JOURNAL_STACK_NAMES >= KEY_TAGS_FIRST && JOURNAL_STACK_NAMES <= 64,
				 "the stack's signatures hold as many names, padded (signatures_padded)");

/*
 * A name's signature as a dictionary keeps it (omnikpi_name_signature in 32
 * bits): exact for a name shorter than a journal, as all its names but one
 * that ends a journey's entry are.  Such a name and the padding after the
 * last name take PG_UINT32_MAX, which no shorter name has, and
 * dictionary_number looks for no longer one.
 */
static inline uint32
dictionary_signature(const char *name, int32 len)
{
	return len < JOURNAL_MAX_BYTES ? (uint32) omnikpi_name_signature(name, len) : PG_UINT32_MAX;
}

/*
 * Signatures a dictionary of up to n names keeps: dictionary_number reads
 * whole vectors, and KEY_TAGS_FIRST at least from each 64.
 */
static inline int32
signatures_padded(int32 n)
{
	return Max((int32) TYPEALIGN(KEY_TAGS_PER_VECTOR, n), Max(n - 1, 0) / 64 * 64 + KEY_TAGS_FIRST);
}

/*
 * The dictionary of the journal of head, listed.  With signed_names, with
 * each name's signature too, which only a lookup reads (a reader's
 * dictionary has none), and room for the names a journey adds
 * (dictionary_append): the stack's, or twice the journal's names.  Inline,
 * so that each caller's copy knows which.
 */
static pg_attribute_always_inline void
dictionary_init(JournalNames *dictionary, const JournalHead *head, bool signed_names)
{
	const char *at = journal_names(head);
	int32		i;

	if (head->nnames <= JOURNAL_STACK_NAMES)
	{
		dictionary->names = dictionary->stack_names;
		dictionary->lens = dictionary->stack_lens;
		dictionary->signatures = dictionary->stack_signatures;
		dictionary->capacity = JOURNAL_STACK_NAMES;
	}
	else
	{
		dictionary->capacity = signed_names ? 2 * head->nnames : head->nnames;
		dictionary->names = palloc(dictionary->capacity * sizeof(const char *));
		dictionary->lens = palloc(dictionary->capacity * sizeof(int32));
		dictionary->signatures = signed_names ?
			palloc(signatures_padded(dictionary->capacity) * sizeof(uint32)) : NULL;
	}
	for (i = 0; i < head->nnames; i++)
	{
		uint32		len;

		at = journal_read_number(at, &len);
		dictionary->names[i] = at;
		dictionary->lens[i] = (int32) len;
		if (signed_names)
			dictionary->signatures[i] = dictionary_signature(at, (int32) len);
		at += len;
	}
	dictionary->padded = signed_names ? signatures_padded(head->nnames) : 0;
	for (; i < dictionary->padded; i++)
		dictionary->signatures[i] = PG_UINT32_MAX;
	Assert(at == journal_names(head) + head->names_bytes);
	dictionary->nnames = head->nnames;
}

static void
dictionary_free(JournalNames *dictionary)
{
	if (dictionary->names != dictionary->stack_names)
	{
		pfree(dictionary->names);
		pfree(dictionary->lens);
		if (dictionary->signatures != NULL)
			pfree(dictionary->signatures);
	}
}

/* A lookup dictionary whose room is full takes twice as much, in the heap. */
static pg_noinline void
dictionary_grow(JournalNames *dictionary)
{
	int32		capacity = 2 * dictionary->capacity;
	const char **names = palloc(capacity * sizeof(const char *));
	int32	   *lens = palloc(capacity * sizeof(int32));
	uint32	   *signatures = palloc(signatures_padded(capacity) * sizeof(uint32));

	memcpy(names, dictionary->names, dictionary->nnames * sizeof(const char *));
	memcpy(lens, dictionary->lens, dictionary->nnames * sizeof(int32));
	memcpy(signatures, dictionary->signatures, dictionary->padded * sizeof(uint32));
	dictionary_free(dictionary);
	dictionary->names = names;
	dictionary->lens = lens;
	dictionary->signatures = signatures;
	dictionary->capacity = capacity;
}

/*
 * A name new to a lookup dictionary takes the next number, which the next
 * touches of the name find; returns it.  The padding grows with the names.
 */
static inline int32
dictionary_append(JournalNames *dictionary, const char *name, int32 len)
{
	int32		number = dictionary->nnames++;

	if (unlikely(number == dictionary->capacity))
		dictionary_grow(dictionary);
	if (number == dictionary->padded)
	{
		int32		padded = signatures_padded(number + 1);

		for (; dictionary->padded < padded; dictionary->padded++)
			dictionary->signatures[dictionary->padded] = PG_UINT32_MAX;
	}
	dictionary->names[number] = name;
	dictionary->lens[number] = len;
	dictionary->signatures[number] = dictionary_signature(name, len);
	return number;
}

/*
 * The number of the name in the dictionary, or -1.  The signatures are
 * compared a vector at a time (key_tags_agree; the first KEY_TAGS_FIRST,
 * which every dictionary has, without a loop) into a mask of 64, without a
 * branch on the outcome (the name a touch has is in a random place of the
 * dictionary, and a loop that stopped there went the wrong way on most
 * touches); the names whose signatures agree, mostly the one, are compared
 * byte by byte.
 */
static int32
dictionary_number(const JournalNames *dictionary, const char *name, int32 len)
{
	uint32		signature = dictionary_signature(name, len);
	int32		first;

	/* no dictionary holds a name this long, whose signature the padding has */
	if (len >= JOURNAL_MAX_BYTES)
		return -1;
	for (first = 0; first < dictionary->nnames; first += 64)
	{
		const uint32 *signatures = dictionary->signatures + first;
		int32		n = Min(dictionary->nnames - first, 64);
		uint64		agree;
		int32		i;

		agree = key_tags_agree(signatures, signature) |
			key_tags_agree(signatures + KEY_TAGS_PER_VECTOR, signature) << KEY_TAGS_PER_VECTOR;
		for (i = KEY_TAGS_FIRST; i < n; i += KEY_TAGS_PER_VECTOR)
			agree |= (uint64) key_tags_agree(signatures + i, signature) << i;
		for (; agree != 0; agree &= agree - 1)
		{
			int32		number = first + pg_rightmost_one_pos64(agree);

			if (memcmp(dictionary->names[number], name, len) == 0)
				return number;
		}
	}
	return -1;
}

/*
 * What the journey of touches and row's counts adds to the journal of
 * head: each touch's number in the dictionary (a name the dictionary has
 * not, or not yet, takes the next number, once for the journey), the bytes
 * the new names take and the record's.  false, with the entry unfinished,
 * as soon as they pass room: the journey goes to the tables instead, and a
 * long one is not looked up to its end (one of more touches than room is
 * not looked up at all).
 */
bool
omnikpi_journal_entry(JournalEntry *entry, const JournalHead *head,
					  const JourneyTouches *touches, const JourneyRow *row, Size room)
{
	uint8		flags = count_flags(row);
	JournalNames dictionary;
	bool		fits = true;
	int32		i;

	entry->numbers = entry->stack_numbers;
	entry->new_names = 0;
	entry->names_bytes = 0;
	/* every touch takes a byte at least */
	if ((Size) touches->n > room)
		return false;
	if (touches->n > JOURNEY_STACK_TOUCHES)
		entry->numbers = palloc((Size) touches->n * sizeof(int32));
	entry->record_bytes = 1 + number_size(touches->n) +
		sizeof(double) * (((flags & JOURNAL_CONVERSIONS) != 0) +
						  ((flags & JOURNAL_NON_CONVERSIONS) != 0) +
						  ((flags & JOURNAL_VALUE) != 0));
	dictionary_init(&dictionary, head, true);
	for (i = 0; i < touches->n && fits; i++)
	{
		const char *name = touches->names[i];
		int32		len = touches->lens[i];
		int32		number = dictionary_number(&dictionary, name, len);

		if (number < 0)
		{
			number = dictionary_append(&dictionary, name, len);
			entry->names_bytes += number_size(len) + len;
		}
		entry->numbers[i] = number;
		entry->record_bytes += number_size(number);
		fits = entry->names_bytes + entry->record_bytes <= room;
	}
	entry->new_names = dictionary.nnames - head->nnames;
	dictionary_free(&dictionary);
	return fits && entry->record_bytes <= room;
}

void
omnikpi_journal_entry_free(JournalEntry *entry)
{
	if (entry->numbers != entry->stack_numbers)
		pfree(entry->numbers);
}

/*
 * Add the journey of entry (from omnikpi_journal_entry on this journal) to
 * the journal of head, which has room for entry's bytes after its used
 * ones: its new names at the dictionary's end, the records moved after
 * them, its record at the end.
 */
void
omnikpi_journal_add(JournalHead *head, const JournalEntry *entry,
					const JourneyTouches *touches, const JourneyRow *row)
{
	char	   *names_end = (char *) journal_names(head) + head->names_bytes;
	char	   *at;
	uint8		flags = count_flags(row);
	int32		next_number = head->nnames;
	int32		i;

	Assert(sizeof(JournalHead) + head->used + entry->names_bytes + entry->record_bytes
		   <= JOURNAL_MAX_BYTES);
	if (entry->new_names > 0)
	{
		memmove(names_end + entry->names_bytes, names_end, head->used - head->names_bytes);
		at = names_end;
		for (i = 0; i < touches->n; i++)
		{
			if (entry->numbers[i] != next_number)
				continue;
			at = write_number(at, touches->lens[i]);
			memcpy(at, touches->names[i], touches->lens[i]);
			at += touches->lens[i];
			next_number++;
		}
		Assert(at == names_end + entry->names_bytes);
		head->nnames = next_number;
		head->names_bytes += entry->names_bytes;
		head->used += entry->names_bytes;
	}
	at = (char *) journal_names(head) + head->used;
	*at++ = (char) flags;
	if (flags & JOURNAL_CONVERSIONS)
		at = write_double(at, row->conversions);
	if (flags & JOURNAL_NON_CONVERSIONS)
		at = write_double(at, row->non_conversions);
	if (flags & JOURNAL_VALUE)
		at = write_double(at, row->value);
	at = write_number(at, touches->n);
	for (i = 0; i < touches->n; i++)
		at = write_number(at, entry->numbers[i]);
	Assert(at == journal_names(head) + head->used + entry->record_bytes);
	head->used += entry->record_bytes;
}

/* Ready to read the records of the journal of head, its names listed. */
void
omnikpi_journal_reader_init(JournalReader *reader, const JournalHead *head)
{
	dictionary_init(&reader->dictionary, head, false);
	reader->at = journal_names(head) + head->names_bytes;
	reader->end = journal_names(head) + head->used;
}

/*
 * Read the next record's counts into row (row->path is NULL) and its
 * number of touches, at least 1, into *ntouches: the caller reads that
 * many numbers with omnikpi_journal_touch next.  false after the last
 * record.
 */
bool
omnikpi_journal_next_record(JournalReader *reader, JourneyRow *row, int32 *ntouches)
{
	const char *at = reader->at;
	uint8		flags;
	uint32		n;

	if (at >= reader->end)
		return false;
	flags = (uint8) *at++;
	row->path = NULL;
	row->conversions = (flags & JOURNAL_CONVERSION_ONE) ? 1.0 : 0.0;
	row->non_conversions = (flags & JOURNAL_NON_CONVERSION_ONE) ? 1.0 : 0.0;
	row->value = 0.0;
	if (flags & JOURNAL_CONVERSIONS)
		at = read_double(at, &row->conversions);
	if (flags & JOURNAL_NON_CONVERSIONS)
		at = read_double(at, &row->non_conversions);
	if (flags & JOURNAL_VALUE)
		at = read_double(at, &row->value);
	at = journal_read_number(at, &n);
	Assert(n >= 1 && at + n <= reader->end);
	reader->at = at;
	*ntouches = (int32) n;
	return true;
}

/*
 * The dictionary's names in byte order, the order of the stored forms'
 * channels: order[k] is the number of the k-th name, rank[number] its
 * place.  Returns the bytes of all the names.
 */
Size
omnikpi_journal_names_ranked(const JournalNames *dictionary, int32 *order, int32 *rank)
{
	Size		name_bytes = 0;
	int32		i;

	key_names_ranks(dictionary->names, dictionary->lens, dictionary->nnames, order, rank);
	for (i = 0; i < dictionary->nnames; i++)
		name_bytes += dictionary->lens[i];
	return name_bytes;
}

void
omnikpi_journal_reader_free(JournalReader *reader)
{
	dictionary_free(&reader->dictionary);
}
