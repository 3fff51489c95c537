/*
 * journey_journal.h: the journal of a small markov_model or journey_paths
 * working state -- its journeys as they came, back to back in one byte
 * string, the way array_agg() keeps its values.
 *
 * Hash aggregation keeps every group's state at once.  A state's tables
 * (channels, states, transitions, paths) take kilobytes as soon as a group
 * has a few journeys, and all of them grow side by side, so a GROUP BY by
 * day or customer spends its time faulting in fresh pages and waiting for
 * states that went cold.  A journey written as it came takes a byte or two
 * a touch: a group's state stays small until its journal passes
 * STATE_JOURNAL_BYTES (common/aggregate_state.h), and its tables are built
 * from the journal in one go, warm in the cache, when the state is stored,
 * combined or gets big.  A big state of a hash aggregation of many groups
 * keeps a journal too, of the journeys its tables have yet to take
 * (STATE_PENDING_MIN_BYTES in common/aggregate_state.h).
 *
 * A journal is a JournalHead, then its dictionary, then its records.  The
 * dictionary holds each distinct channel name once, numbered 0, 1, ... in
 * the order the journal met them: its length, then its bytes.  A record:
 * one byte of JOURNAL_* flags saying which counts differ from 0 and 1,
 * those counts as doubles, the number of touches, then each touch's number
 * in the dictionary.  A group's journeys mostly repeat a handful of
 * channels, so a touch takes one byte, not its name's length and bytes.
 * Numbers are unsigned LEB128 (a byte per 7 bits), doubles are unaligned.
 * Server calls: palloc only, for journeys and dictionaries too long for
 * the stack; include "postgres.h" first.
 */
#ifndef OMNIKPI_JOURNEY_JOURNAL_H
#define OMNIKPI_JOURNEY_JOURNAL_H

#include "common/journey_input.h"

/* A journal's first bytes. */
typedef struct JournalHead
{
	uint32		used;			/* bytes of dictionary and records after the head */
	uint16		nnames;			/* names in the dictionary */
	uint16		names_bytes;	/* bytes of the dictionary */
} JournalHead;

/* The largest journal a head can describe (its dictionary's counts are 16 bits). */
#define JOURNAL_MAX_BYTES	PG_UINT16_MAX

/*
 * What a journey adds to a journal: its touches' numbers, looked up in the
 * dictionary (on the stack, a palloc for a long journey), and its bytes.
 */
typedef struct JournalEntry
{
	int32	   *numbers;		/* each touch's name's number in the dictionary */
	int32		stack_numbers[JOURNEY_STACK_TOUCHES];
	int32		new_names;		/* names the journey adds: numbers nnames and up */
	Size		names_bytes;	/* bytes they add to the dictionary */
	Size		record_bytes;	/* bytes of the journey's record */
} JournalEntry;

/*
 * A journal's dictionary at hand: each name where it lies in the journal
 * (or, for a name a journey adds, in its path), its length and, to look
 * names up, its signature (omnikpi_name_signature: 32 bits hold it whole, a
 * dictionary's names being shorter than a journal), in arrays on the stack
 * (a palloc for a big dictionary).  The signatures are compared
 * KEY_TAGS_PER_VECTOR at a time, so their array runs past the last name to
 * whole vectors.
 */
#define JOURNAL_STACK_NAMES		64
typedef struct JournalNames
{
	const char **names;
	int32	   *lens;
	uint32	   *signatures;
	const char *stack_names[JOURNAL_STACK_NAMES];
	int32		stack_lens[JOURNAL_STACK_NAMES];
	uint32		stack_signatures[JOURNAL_STACK_NAMES];
	int32		nnames;
	int32		capacity;		/* names there is room for */
	int32		padded;			/* signatures set: the names' and the padding's */
} JournalNames;

/* Reads a journal's records in order, with its dictionary's names at hand. */
typedef struct JournalReader
{
	JournalNames dictionary;
	const char *at;				/* the next record */
	const char *end;
} JournalReader;

/*
 * Read an unsigned LEB128 number at at into *n; returns the byte after it.
 * Inline with a path of its own for one byte: it runs once per touch.
 */
static inline const char *
journal_read_number(const char *at, uint32 *n)
{
	uint32		result = 0;
	int			shift = 0;
	uint8		byte = (uint8) *at;

	if (likely(byte < 0x80))
	{
		*n = byte;
		return at + 1;
	}
	do
	{
		byte = (uint8) *at++;
		result |= (uint32) (byte & 0x7F) << shift;
		shift += 7;
	} while (byte & 0x80);
	*n = result;
	return at;
}

/*
 * The number in the dictionary of the next touch of the record that
 * omnikpi_journal_next_record began.
 */
static inline int32
omnikpi_journal_touch(JournalReader *reader)
{
	uint32		number;

	reader->at = journal_read_number(reader->at, &number);
	Assert(number < (uint32) reader->dictionary.nnames && reader->at <= reader->end);
	return (int32) number;
}

extern bool omnikpi_journal_entry(JournalEntry *entry, const JournalHead *head,
								  const JourneyTouches *touches, const JourneyRow *row,
								  Size room);
extern void omnikpi_journal_add(JournalHead *head, const JournalEntry *entry,
								const JourneyTouches *touches, const JourneyRow *row);
extern void omnikpi_journal_entry_free(JournalEntry *entry);
extern void omnikpi_journal_reader_init(JournalReader *reader, const JournalHead *head);
extern bool omnikpi_journal_next_record(JournalReader *reader, JourneyRow *row, int32 *ntouches);
extern Size omnikpi_journal_names_ranked(const JournalNames *dictionary, int32 *order, int32 *rank);
extern void omnikpi_journal_reader_free(JournalReader *reader);

#endif							/* OMNIKPI_JOURNEY_JOURNAL_H */
