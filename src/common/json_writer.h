/*
 * json_writer.h: the writing half of the JSON-shaped text forms of
 * channel_summary, markov_model and journey_paths, the counterpart of
 * json_lexer.h: strings with the escapes the lexer reads back, and doubles
 * in the shortest form that reads back exactly.  Server-free, so that the
 * fuzz targets check their round trips through the writers the server uses.
 */
#ifndef OMNIKPI_JSON_WRITER_H
#define OMNIKPI_JSON_WRITER_H

#include "lib/stringinfo.h"

extern void omnikpi_json_append_string(StringInfo out, const char *s, int len);
extern void omnikpi_json_append_double(StringInfo out, double value);
extern void omnikpi_json_append_number_members(StringInfo out, const char *const *keys,
											   const double *values, int n);

#endif							/* OMNIKPI_JSON_WRITER_H */
