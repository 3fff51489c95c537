/*
 * markov_text.h: the markov_model text format, parsed and written without
 * server calls so that the fuzz target checks the server's own parser and
 * writer outside PostgreSQL.
 *
 * JSON of a fixed shape, like channel_summary's, so `model::text::jsonb`
 * works:
 *
 *   {"version":1,"order":1,"transitions":[["start",["web"],2],
 *    [["web"],"conversion",1,25.5],[["web"],"null",1]]}
 *
 * A model that keeps repeated channels (markov.h) says so after its order:
 * "order":2,"repeats":"keep"; "repeats":"collapse", the default, is
 * accepted and not written.
 * A transition is [from, to, count] or, into "conversion", [from, to,
 * count, value].  A state is one of the strings "start", "conversion" and
 * "null", or the array of the channels of a channel state (so a channel
 * called "start" is ["start"], never confused with (start)).  Keys come in
 * exactly this order; white space between tokens is allowed on input.
 * Strings use the JSON escapes of channel_summary's text form.
 */
#ifndef OMNIKPI_MARKOV_TEXT_H
#define OMNIKPI_MARKOV_TEXT_H

#include "lib/stringinfo.h"

#include "common/json_lexer.h"
#include "markov/markov.h"

/*
 * A state as the text form spells it, read or to be written: kind is
 * MARKOV_START, _CONVERSION, _NULL or _FIRST_TUPLE (then len names).
 */
typedef struct MarkovTextState
{
	int			kind;
	int			len;			/* channels of a tuple */
	const char *names[MARKOV_MAX_ORDER];
	int			lens[MARKOV_MAX_ORDER];
} MarkovTextState;

/* Where parsed content goes; each callback returns a problem or NULL. */
typedef struct MarkovTextSink
{
	void	   *arg;
	const char *(*set_order) (void *arg, int64 order, bool keep_repeats);
	const char *(*add_transition) (void *arg, const MarkovTextState *from,
								   const MarkovTextState *to, double count,
								   bool has_value, double value);
} MarkovTextSink;

/* message (a sentence, for errdetail) and byte offset of a parse error */
typedef OmnikpiJsonError MarkovParseError;

extern bool omnikpi_markov_text_parse(const char *text, char *name_buffer,
									  const MarkovTextSink *sink, MarkovParseError *error);
extern void omnikpi_markov_text_append_start(StringInfo out, int64 order, bool keep_repeats);
extern void omnikpi_markov_text_append_transition(StringInfo out, int i,
												  const MarkovTextState *from,
												  const MarkovTextState *to, double count,
												  bool has_value, double value);
extern void omnikpi_markov_text_append_end(StringInfo out);

#endif							/* OMNIKPI_MARKOV_TEXT_H */
