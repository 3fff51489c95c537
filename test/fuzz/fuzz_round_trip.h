/*
 * fuzz_round_trip.h: the check the markov_model and journey_paths text
 * targets share (fuzz_round_trip.c).  Their parse function writes what its
 * parser accepted back in the text form.
 */
#ifndef FUZZ_ROUND_TRIP_H
#define FUZZ_ROUND_TRIP_H

#include <stddef.h>
#include <stdint.h>

#include "c.h"
#include "lib/stringinfo.h"

/*
 * Parse text; on success append it as written back to out and return true,
 * else store the error's offset and message.
 */
typedef bool (*FuzzTextParse) (const char *text, char *buffer, StringInfo out,
							   int *error_offset, const char **error_message);

extern void fuzz_die(const char *what, const char *first, const char *second);
extern void fuzz_round_trip(const uint8_t *data, size_t size, FuzzTextParse parse);

#endif							/* FUZZ_ROUND_TRIP_H */
