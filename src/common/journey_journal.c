/*
 * journey_journal.c: writing and reading the records of a working state's
 * journal (see journey_journal.h for why a small state keeps one).
 */
#include "postgres.h"

#include <math.h>

#include "common/journey_journal.h"

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

static const char *
read_number(const char *at, uint32 *n)
{
	uint32		result = 0;
	int			shift = 0;
	uint8		byte;

	do
	{
		byte = (uint8) *at++;
		result |= (uint32) (byte & 0x7F) << shift;
		shift += 7;
	} while (byte & 0x80);
	*n = result;
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

/* Bytes of the record of one journey. */
Size
omnikpi_journal_record_size(const JourneyTouches *touches, const JourneyRow *row)
{
	uint8		flags = count_flags(row);
	Size		size = 1 + number_size(touches->n);
	int32		i;

	size += sizeof(double) * (((flags & JOURNAL_CONVERSIONS) != 0) +
							  ((flags & JOURNAL_NON_CONVERSIONS) != 0) +
							  ((flags & JOURNAL_VALUE) != 0));
	for (i = 0; i < touches->n; i++)
		size += number_size(touches->lens[i]) + touches->lens[i];
	return size;
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

/* Write the record of one journey at at; returns the byte after it. */
char *
omnikpi_journal_write(char *at, const JourneyTouches *touches, const JourneyRow *row)
{
	uint8		flags = count_flags(row);
	int32		i;

	*at++ = (char) flags;
	if (flags & JOURNAL_CONVERSIONS)
		at = write_double(at, row->conversions);
	if (flags & JOURNAL_NON_CONVERSIONS)
		at = write_double(at, row->non_conversions);
	if (flags & JOURNAL_VALUE)
		at = write_double(at, row->value);
	at = write_number(at, touches->n);
	for (i = 0; i < touches->n; i++)
	{
		at = write_number(at, touches->lens[i]);
		memcpy(at, touches->names[i], touches->lens[i]);
		at += touches->lens[i];
	}
	return at;
}

/* The number of touches of the record at at, to size the touches it is read into. */
int32
omnikpi_journal_touch_count(const char *at)
{
	uint8		flags = (uint8) *at++;
	uint32		n;

	at += sizeof(double) * (((flags & JOURNAL_CONVERSIONS) != 0) +
							((flags & JOURNAL_NON_CONVERSIONS) != 0) +
							((flags & JOURNAL_VALUE) != 0));
	read_number(at, &n);
	return (int32) n;
}

/*
 * Read the record at at into touches (with room for its touches: see
 * omnikpi_journal_touch_count) and row's counts; row->path is NULL.
 * Returns the byte after the record.
 */
const char *
omnikpi_journal_read(const char *at, JourneyTouches *touches, JourneyRow *row)
{
	uint8		flags = (uint8) *at++;
	uint32		n;
	uint32		i;

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
	at = read_number(at, &n);
	for (i = 0; i < n; i++)
	{
		uint32		len;

		at = read_number(at, &len);
		touches->names[i] = at;
		touches->lens[i] = (int32) len;
		at += len;
	}
	touches->n = (int32) n;
	return at;
}
