/*
 * journey_paths_text.h: the journey_paths text format, parsed and written
 * without server calls so that the fuzz target checks the server's own
 * parser and writer outside PostgreSQL.
 *
 * JSON of a fixed shape, so that `paths::text::jsonb` works:
 *
 *   {"version":1,"paths":[{"path":["email","web"],"conversions":1,"non_conversions":2,"value":120}]}
 *
 * Keys come in exactly this order; white space between tokens is allowed on
 * input.  Channel names use the JSON escapes of channel_summary (\" \\ \/ \b
 * \f \n \r \t and \u0001 to \u007f); other characters are written as they
 * are, in the database encoding.
 */
#ifndef JOURNEY_PATHS_TEXT_H
#define JOURNEY_PATHS_TEXT_H

#include "lib/stringinfo.h"

#include "common/json_lexer.h"
#include "journey_paths/journey_paths.h"

/*
 * Where parsed content goes: add_step for each channel of the current path,
 * then end_path with its counts.  Both return a problem (a sentence) or NULL.
 */
typedef struct JourneyPathsTextSink
{
	void	   *arg;
	const char *(*add_step) (void *arg, const char *name, int len);
	const char *(*end_path) (void *arg, const PathStats *stats);
} JourneyPathsTextSink;

/* message (a sentence, for errdetail) and byte offset of a parse error */
typedef OmnikpiJsonError JourneyPathsParseError;

extern bool omnikpi_jp_text_parse(const char *text, char *name_buffer,
								  const JourneyPathsTextSink *sink,
								  JourneyPathsParseError *error);
extern void omnikpi_jp_text_append_start(StringInfo out);
extern void omnikpi_jp_text_append_path_start(StringInfo out, int path);
extern void omnikpi_jp_text_append_step(StringInfo out, int step, const char *name, int len);
extern void omnikpi_jp_text_append_path_end(StringInfo out, const PathStats *stats);
extern void omnikpi_jp_text_append_end(StringInfo out);

#endif							/* JOURNEY_PATHS_TEXT_H */
