/*
 * channel_name_hash.h: hashing and comparing channel names for the private
 * hash tables of the aggregate states (channel_summary, markov_model,
 * journey_paths).  Inline, as they run on every row.
 */
#ifndef OMNIKPI_CHANNEL_NAME_HASH_H
#define OMNIKPI_CHANNEL_NAME_HASH_H

#include "c.h"

/*
 * Hash of a channel name.  Names are short ("web", "call_center"), so this
 * reads eight bytes at a time and mixes with multiplications: several times
 * cheaper per row than hash_bytes, and each table is private to one state, so
 * it needs no stability across versions or platforms.
 */
static inline uint32
omnikpi_hash_channel_name(const char *name, int len)
{
	uint64		h = UINT64CONST(0x9E3779B97F4A7C15) ^ (uint64) len;
	uint64		chunk;

	while (len >= 8)
	{
		memcpy(&chunk, name, 8);
		h = (h ^ chunk) * UINT64CONST(0xFF51AFD7ED558CCD);
		h ^= h >> 29;
		name += 8;
		len -= 8;
	}
	if (len > 0)
	{
		/* the tail byte by byte: a variable-length memcpy is a libc call */
		chunk = 0;
		while (len-- > 0)
			chunk = (chunk << 8) | (unsigned char) name[len];
		h = (h ^ chunk) * UINT64CONST(0xFF51AFD7ED558CCD);
	}
	h ^= h >> 32;
	h *= UINT64CONST(0xC4CEB9FE1A85EC53);
	h ^= h >> 29;
	return (uint32) h;
}

/* memcmp(a, b, len) == 0 inline: channel names are short, a libc call is not. */
static inline bool
omnikpi_channel_names_equal(const char *a, const char *b, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

#endif							/* OMNIKPI_CHANNEL_NAME_HASH_H */
