/*
 * markov_text.h: the markov_model text format, parsed without server calls
 * so that the parser can be fuzzed outside PostgreSQL.
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

#include "common/json_lexer.h"
#include "markov/markov.h"

/* A state as read: kind is MARKOV_START, _CONVERSION, _NULL or _FIRST_TUPLE. */
typedef struct MarkovParsedState
{
	int			kind;
	int			len;			/* channels of a tuple */
	const char *names[MARKOV_MAX_ORDER];
	int			lens[MARKOV_MAX_ORDER];
} MarkovParsedState;

/* Where parsed content goes; each callback returns a problem or NULL. */
typedef struct MarkovTextSink
{
	void	   *arg;
	const char *(*set_order) (void *arg, int64 order, bool keep_repeats);
	const char *(*add_transition) (void *arg, const MarkovParsedState *from,
								   const MarkovParsedState *to, double count,
								   bool has_value, double value);
} MarkovTextSink;

/* message (a sentence, for errdetail) and byte offset of a parse error */
typedef OmnikpiJsonError MarkovParseError;

extern bool omnikpi_markov_text_parse(const char *text, char *name_buffer,
									  const MarkovTextSink *sink, MarkovParseError *error);

#endif							/* OMNIKPI_MARKOV_TEXT_H */
