/*
 * markov_text.c: parser and writer of the markov_model text format (see
 * markov_text.h).  Strict like channel_summary's: one fixed shape, finite
 * numbers only, no trailing garbage, and the offset where it went wrong.
 * What the numbers and states mean (positive counts, states that fit the
 * order, duplicates) is checked by the sink, shared with the binary input.
 *
 * The tokens are those of every JSON-shaped text form (json_lexer.c).
 */
#include "postgres.h"

#include "common/json_writer.h"
#include "markov/markov_text.h"

/*
 * The lexer and where the next decoded string goes.  The lexer comes first:
 * the list reader hands it to read_transition, which reads it as its parser.
 */
typedef struct Parser
{
	OmnikpiJsonLexer lex;
	char	   *buffer;
} Parser;

StaticAssertDecl(offsetof(Parser, lex) == 0, "read_transition takes the lexer for its parser");

/*
 * A string kept until the end of its transition: decoded into the buffer,
 * which then moves past it.
 */
static bool
parse_string(Parser *parser, const char **result, int *len)
{
	if (!omnikpi_json_string(&parser->lex, parser->buffer, len))
		return false;
	*result = parser->buffer;
	parser->buffer += *len + 1;
	return true;
}

/* A whole number (the order), in markov_model's words. */
static bool
parse_integer(Parser *parser, int64 *result)
{
	return omnikpi_json_integer(&parser->lex, result, "Expected a whole number.",
								"Number is out of range.");
}

/* "start", "conversion", "null" or an array of channel names. */
static bool
parse_state(Parser *parser, MarkovTextState *state)
{
	omnikpi_json_skip_space(&parser->lex);
	if (*parser->lex.p == '"')
	{
		const char *at = parser->lex.p;
		const char *word;
		int			len;

		if (!parse_string(parser, &word, &len))
			return false;
		if (strcmp(word, "start") == 0 && len == 5)
			state->kind = MARKOV_START;
		else if (strcmp(word, "conversion") == 0 && len == 10)
			state->kind = MARKOV_CONVERSION;
		else if (strcmp(word, "null") == 0 && len == 4)
			state->kind = MARKOV_NULL;
		else
		{
			parser->lex.p = at;
			return omnikpi_json_fail(&parser->lex, "A state is \"start\", \"conversion\", \"null\" or an array of channels.");
		}
		state->len = 0;
		return true;
	}
	if (!omnikpi_json_expect(&parser->lex, '[', "A state is \"start\", \"conversion\", \"null\" or an array of channels."))
		return false;
	state->kind = MARKOV_FIRST_TUPLE;
	state->len = 0;
	for (;;)
	{
		if (state->len == MARKOV_MAX_ORDER)
			return omnikpi_json_fail(&parser->lex, "A channel state holds at most 4 channels.");
		if (!parse_string(parser, &state->names[state->len], &state->lens[state->len]))
			return false;
		state->len++;
		omnikpi_json_skip_space(&parser->lex);
		if (*parser->lex.p != ',')
			break;
		parser->lex.p++;
	}
	return omnikpi_json_expect(&parser->lex, ']', "Expected \"]\" to close a channel state.");
}

/*
 * The optional "repeats":"collapse" or "repeats":"keep" and its comma;
 * *keep_repeats gets which (false when absent).
 */
static bool
parse_repeats(Parser *parser, bool *keep_repeats)
{
	const char *at;
	const char *word;
	int			len;

	*keep_repeats = false;
	omnikpi_json_skip_space(&parser->lex);
	at = parser->lex.p;
	if (!omnikpi_json_key(&parser->lex, "repeats", parser->buffer, ""))
	{
		parser->lex.p = at;
		return true;
	}
	omnikpi_json_skip_space(&parser->lex);
	at = parser->lex.p;
	if (!parse_string(parser, &word, &len))
		return false;
	if (len == 4 && memcmp(word, "keep", 4) == 0)
		*keep_repeats = true;
	else if (!(len == 8 && memcmp(word, "collapse", 8) == 0))
	{
		parser->lex.p = at;
		return omnikpi_json_fail(&parser->lex, "Repeats are \"collapse\" or \"keep\".");
	}
	return omnikpi_json_expect(&parser->lex, ',', "Expected \",\" after the repeats.");
}

/* [from, to, count] or [from, to, count, value] */
static bool
parse_transition(Parser *parser, const MarkovTextSink *sink, char *buffer)
{
	MarkovTextState from;
	MarkovTextState to;
	double		count;
	double		value = 0.0;
	bool		has_value = false;
	const char *at;

	omnikpi_json_skip_space(&parser->lex);
	at = parser->lex.p;
	parser->buffer = buffer;
	if (!omnikpi_json_expect(&parser->lex, '[', "Expected \"[\" to open a transition.") ||
		!parse_state(parser, &from) ||
		!omnikpi_json_expect(&parser->lex, ',', "Expected \",\" after a transition's first state.") ||
		!parse_state(parser, &to) ||
		!omnikpi_json_expect(&parser->lex, ',', "Expected \",\" after a transition's second state.") ||
		!omnikpi_json_number(&parser->lex, &count))
		return false;
	omnikpi_json_skip_space(&parser->lex);
	if (*parser->lex.p == ',')
	{
		parser->lex.p++;
		if (!omnikpi_json_number(&parser->lex, &value))
			return false;
		has_value = true;
	}
	if (!omnikpi_json_expect(&parser->lex, ']', "Expected \"]\" to close a transition."))
		return false;
	if (!omnikpi_json_verdict(&parser->lex, at,
							  sink->add_transition(sink->arg, &from, &to, count, has_value, value)))
		return false;
	return true;
}

/* A transition as a member of the list; lex is its parser's. */
static bool
read_transition(OmnikpiJsonLexer *lex, char *buffer, const void *sink)
{
	return parse_transition((Parser *) lex, sink, buffer);
}

static const OmnikpiJsonList transitions = OMNIKPI_JSON_ARRAY("transitions");

/*
 * Parse text into sink.  name_buffer must hold strlen(text) + 1 bytes; it
 * is reused for each transition.
 */
bool
omnikpi_markov_text_parse(const char *text, char *name_buffer, const MarkovTextSink *sink,
						  MarkovParseError *error)
{
	Parser		parser;
	int64		number;
	bool		keep_repeats;
	const char *at;

	omnikpi_json_init(&parser.lex, text, error);
	parser.buffer = name_buffer;

	if (!omnikpi_json_version(&parser.lex, parser.buffer) ||
		!omnikpi_json_key(&parser.lex, "order", parser.buffer, "Expected key \"order\"."))
		return false;
	omnikpi_json_skip_space(&parser.lex);
	at = parser.lex.p;
	if (!parse_integer(&parser, &number) ||
		!omnikpi_json_expect(&parser.lex, ',', "Expected \",\" after the order.") ||
		!parse_repeats(&parser, &keep_repeats))
		return false;
	if (!omnikpi_json_verdict(&parser.lex, at, sink->set_order(sink->arg, number, keep_repeats)))
		return false;
	return omnikpi_json_final_list(&parser.lex, &transitions, name_buffer, read_transition, sink);
}

/* Everything before the first transition: version, order, repeats when kept. */
void
omnikpi_markov_text_append_start(StringInfo out, int64 order, bool keep_repeats)
{
	appendStringInfo(out, "{\"version\":1,\"order\":" INT64_FORMAT ",%s\"transitions\":[",
					 order, keep_repeats ? "\"repeats\":\"keep\"," : "");
}

/* A state: "start", "conversion", "null" or the array of its channels. */
static void
append_state(StringInfo out, const MarkovTextState *state)
{
	int			i;

	switch (state->kind)
	{
		case MARKOV_START:
			appendStringInfoString(out, "\"start\"");
			return;
		case MARKOV_CONVERSION:
			appendStringInfoString(out, "\"conversion\"");
			return;
		case MARKOV_NULL:
			appendStringInfoString(out, "\"null\"");
			return;
	}
	appendStringInfoChar(out, '[');
	for (i = 0; i < state->len; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		omnikpi_json_append_string(out, state->names[i], state->lens[i]);
	}
	appendStringInfoChar(out, ']');
}

/* Transition number i (from 0): [from, to, count] or [from, to, count, value]. */
void
omnikpi_markov_text_append_transition(StringInfo out, int i, const MarkovTextState *from,
									  const MarkovTextState *to, double count, bool has_value,
									  double value)
{
	if (i > 0)
		appendStringInfoChar(out, ',');
	appendStringInfoChar(out, '[');
	append_state(out, from);
	appendStringInfoChar(out, ',');
	append_state(out, to);
	appendStringInfoChar(out, ',');
	omnikpi_json_append_double(out, count);
	if (has_value)
	{
		appendStringInfoChar(out, ',');
		omnikpi_json_append_double(out, value);
	}
	appendStringInfoChar(out, ']');
}

/* What closes the transitions and the model. */
void
omnikpi_markov_text_append_end(StringInfo out)
{
	appendStringInfoString(out, "]}");
}
