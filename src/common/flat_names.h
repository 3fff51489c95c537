/*
 * flat_names.h: the block of channel names that every stored form ends
 * with (channel_summary, markov_model, journey_paths): the end offset of
 * each name as an int32, then the names back to back, no terminators, in
 * byte order.  Server-free.
 */
#ifndef OMNIKPI_FLAT_NAMES_H
#define OMNIKPI_FLAT_NAMES_H

#include "common/key_table.h"

typedef struct FlatNames
{
	int32		count;
	const int32 *ends;			/* where each name ends in bytes */
	const char *bytes;
} FlatNames;

/* Name i; *len gets its length. */
static inline const char *
flat_name(const FlatNames *names, int32 i, int *len)
{
	int32		start = i == 0 ? 0 : names->ends[i - 1];

	*len = names->ends[i] - start;
	return names->bytes + start;
}

/*
 * Write the keys of table's entries order[0 .. n - 1] as a block of names
 * into ends (n int32) and bytes (their lengths added up).
 */
static inline void
flat_names_write(const KeyTable *table, const int32 *order, int32 n, int32 *ends, char *bytes)
{
	int32		offset = 0;
	int32		i;

	for (i = 0; i < n; i++)
	{
		char		buffer[KEY_INLINE_BYTES];
		int32		len;
		const char *name = key_table_key(table, order[i], buffer, &len);

		memcpy(bytes + offset, name, len);
		offset += len;
		ends[i] = offset;
	}
}

#endif							/* OMNIKPI_FLAT_NAMES_H */
