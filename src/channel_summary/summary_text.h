/*
 * summary_text.h: the channel_summary text format, parsed and written without
 * server calls so that the parser can be fuzzed outside PostgreSQL.
 *
 * The format is JSON of a fixed shape, so that it reads easily and
 * `summary::text::jsonb` works:
 *
 *   {"version":1,"scale":[1,5],"channels":{"web":{"n":3,"sum":12,"min":3,"max":5}}}
 *
 * "scale" is present only for summaries that carry one.  Keys come in exactly
 * this order; white space between tokens is allowed on input.  Channel names
 * use JSON escapes (\" \\ \/ \b \f \n \r \t and \u0001 to \u007f); other
 * characters are written as they are, in the database encoding.
 */
#ifndef SUMMARY_TEXT_H
#define SUMMARY_TEXT_H

#include "lib/stringinfo.h"

#include "common/json_lexer.h"

#include "channel_summary/channel_summary.h"

/* Where parsed content goes; add_channel returns a problem or NULL. */
typedef struct SummaryTextSink
{
	void	   *arg;
	void		(*set_scale) (void *arg, double scale_min, double scale_max);
	const char *(*add_channel) (void *arg, const char *name, int len,
								const ChannelStats *stats);
} SummaryTextSink;

/* message (a sentence, for errdetail) and byte offset of a parse error */
typedef OmnikpiJsonError SummaryParseError;

extern bool omnikpi_summary_text_parse(const char *text, char *name_buffer,
									   const SummaryTextSink *sink,
									   SummaryParseError *error);
extern void omnikpi_summary_text_append_start(StringInfo out, SummaryScale scale);
extern void omnikpi_summary_text_append_channel(StringInfo out, int i, const char *name,
												int len, const ChannelStats *stats);
extern void omnikpi_summary_text_append_end(StringInfo out);

#endif							/* SUMMARY_TEXT_H */
