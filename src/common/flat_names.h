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

/*
 * The names of a stored form s (whose header is s->h, a StoredHeader) that
 * start with their end offsets at name_ends.
 */
#define STORED_FLAT_NAMES(s, name_ends) \
	((FlatNames) {(s)->h.nchannels, (name_ends), (const char *) ((name_ends) + (s)->h.nchannels)})

/* Name i; *len gets its length. */
static inline const char *
flat_name(const FlatNames *names, int32 i, int *len)
{
	int32		start = i == 0 ? 0 : names->ends[i - 1];

	*len = names->ends[i] - start;
	return names->bytes + start;
}

/*
 * Write name i (of len bytes) of a block of n names whose end offsets start
 * at ends, after names 0 .. i - 1.
 */
static inline void
flat_name_write(int32 *ends, int32 n, int32 i, const char *name, int32 len)
{
	int32		start = i == 0 ? 0 : ends[i - 1];

	memcpy((char *) (ends + n) + start, name, len);
	ends[i] = start + len;
}

/*
 * Write the names order[0 .. n - 1] of names[] (lens[] bytes each) as a
 * block of names: n int32 end offsets at ends, the names right after them.
 */
static inline void
flat_names_write_listed(const char *const *names, const int32 *lens, const int32 *order, int32 n,
						int32 *ends)
{
	int32		i;

	for (i = 0; i < n; i++)
		flat_name_write(ends, n, i, names[order[i]], lens[order[i]]);
}

/*
 * Write the keys of table's entries order[0 .. n - 1] as a block of names:
 * n int32 end offsets at ends, the names right after them.
 */
static inline void
flat_names_write(const KeyTable *table, const int32 *order, int32 n, int32 *ends)
{
	int32		i;

	for (i = 0; i < n; i++)
	{
		char		buffer[KEY_INLINE_BYTES];
		int32		len;
		const char *name = key_table_key(table, order[i], buffer, &len);

		flat_name_write(ends, n, i, name, len);
	}
}

#endif							/* OMNIKPI_FLAT_NAMES_H */
