/*
 * markov_text.c: parser of the markov_model text format (see
 * markov_text.h).  Strict like channel_summary's: one fixed shape, finite
 * numbers only, no trailing garbage, and the offset where it went wrong.
 * What the numbers and states mean (positive counts, states that fit the
 * order, duplicates) is checked by the sink, shared with the binary input.
 *
 * The string and number rules are those of summary_text.c, whose lexer is
 * private to that file; they are repeated here rather than changing it.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "markov_text.h"

typedef struct Parser
{
	const char *start;
	const char *p;
	char	   *buffer;			/* where the next decoded string goes */
	MarkovParseError *error;
} Parser;

static bool
fail(Parser *parser, const char *message)
{
	parser->error->message = message;
	parser->error->offset = (int) (parser->p - parser->start);
	return false;
}

static void
skip_space(Parser *parser)
{
	while (*parser->p == ' ' || *parser->p == '\t' ||
		   *parser->p == '\n' || *parser->p == '\r')
		parser->p++;
}

static bool
expect_char(Parser *parser, char c, const char *message)
{
	skip_space(parser);
	if (*parser->p != c)
		return fail(parser, message);
	parser->p++;
	return true;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A JSON string, decoded into the buffer and NUL-terminated; *out and *len
 * get it.  A decoded string plus its terminator is never longer than its
 * encoding with the quotes, so the strings of one transition fit in a
 * buffer as long as the input.
 */
static bool
parse_string(Parser *parser, const char **result, int *len)
{
	char	   *begin = parser->buffer;
	char	   *out = begin;

	skip_space(parser);
	if (*parser->p != '"')
		return fail(parser, "Expected a double-quoted string.");
	parser->p++;
	for (;;)
	{
		char		c = *parser->p;

		if (c == '\0')
			return fail(parser, "Unterminated string.");
		if (c == '"')
			break;
		if ((unsigned char) c < 0x20)
			return fail(parser, "Control characters in strings must be escaped.");
		if (c != '\\')
		{
			*out++ = c;
			parser->p++;
			continue;
		}
		parser->p++;
		switch (*parser->p)
		{
			case '"':
			case '\\':
			case '/':
				*out++ = *parser->p;
				break;
			case 'b':
				*out++ = '\b';
				break;
			case 'f':
				*out++ = '\f';
				break;
			case 'n':
				*out++ = '\n';
				break;
			case 'r':
				*out++ = '\r';
				break;
			case 't':
				*out++ = '\t';
				break;
			case 'u':
				{
					int			code = 0;
					int			i;

					for (i = 1; i <= 4; i++)
					{
						int			digit = hex_value(parser->p[i]);

						if (digit < 0)
							return fail(parser, "Invalid \\u escape: four hexadecimal digits are required.");
						code = code * 16 + digit;
					}
					if (code == 0 || code > 0x7f)
						return fail(parser, "Only \\u0001 to \\u007f are accepted; write other characters as they are.");
					*out++ = (char) code;
					parser->p += 4;
					break;
				}
			default:
				return fail(parser, "Invalid escape sequence in a string.");
		}
		parser->p++;
	}
	parser->p++;
	*out++ = '\0';
	*result = begin;
	*len = (int) (out - begin - 1);
	parser->buffer = out;
	return true;
}

/* A key given as a JSON string, then a colon. */
static bool
expect_key(Parser *parser, const char *key, const char *message)
{
	const char *at;
	const char *got;
	int			len;
	char	   *buffer = parser->buffer;

	skip_space(parser);
	at = parser->p;
	if (!parse_string(parser, &got, &len) || strcmp(got, key) != 0 ||
		(int) strlen(key) != len)
	{
		parser->p = at;
		parser->buffer = buffer;
		return fail(parser, message);
	}
	parser->buffer = buffer;
	return expect_char(parser, ':', "Expected \":\" after a key.");
}

/* A whole number: decimal digits, no sign, no leading zeros, 0 .. INT64_MAX. */
static bool
parse_integer(Parser *parser, int64 *result)
{
	uint64		value = 0;
	const char *digits;

	skip_space(parser);
	digits = parser->p;
	while (*parser->p >= '0' && *parser->p <= '9')
	{
		if (value > (uint64) (PG_INT64_MAX - (*parser->p - '0')) / 10)
			return fail(parser, "Number is out of range.");
		value = value * 10 + (*parser->p - '0');
		parser->p++;
	}
	if (parser->p == digits)
		return fail(parser, "Expected a whole number.");
	if (*digits == '0' && parser->p - digits > 1)
		return fail(parser, "Numbers must not have leading zeros.");
	*result = (int64) value;
	return true;
}

/*
 * A JSON number that is a finite double: the JSON grammar first, then
 * strtod, which must end exactly where the grammar did.
 */
static bool
parse_number(Parser *parser, double *result)
{
	const char *begin;
	const char *digit;
	char	   *end;
	double		value;
	bool		nonzero_digit = false;

	skip_space(parser);
	begin = parser->p;
	if (*parser->p == '-')
		parser->p++;
	if (*parser->p == '0')
		parser->p++;
	else if (*parser->p >= '1' && *parser->p <= '9')
		while (*parser->p >= '0' && *parser->p <= '9')
			parser->p++;
	else
	{
		parser->p = begin;
		return fail(parser, "Expected a number.");
	}
	if (*parser->p == '.')
	{
		parser->p++;
		if (!(*parser->p >= '0' && *parser->p <= '9'))
			return fail(parser, "Expected digits after the decimal point.");
		while (*parser->p >= '0' && *parser->p <= '9')
			parser->p++;
	}
	if (*parser->p == 'e' || *parser->p == 'E')
	{
		parser->p++;
		if (*parser->p == '+' || *parser->p == '-')
			parser->p++;
		if (!(*parser->p >= '0' && *parser->p <= '9'))
			return fail(parser, "Expected digits in the exponent.");
		while (*parser->p >= '0' && *parser->p <= '9')
			parser->p++;
	}
	for (digit = begin; digit < parser->p && *digit != 'e' && *digit != 'E'; digit++)
		if (*digit >= '1' && *digit <= '9')
			nonzero_digit = true;
	errno = 0;
	value = strtod(begin, &end);
	if (end != parser->p)
	{
		parser->p = begin;
		return fail(parser, "Expected a number.");
	}
	/* ERANGE with a nonzero finite result is a subnormal, which is fine */
	if (!isfinite(value) || (errno == ERANGE && value == 0.0 && nonzero_digit))
	{
		parser->p = begin;
		return fail(parser, "Number is out of range for double precision.");
	}
	*result = value;
	return true;
}

/* "start", "conversion", "null" or an array of channel names. */
static bool
parse_state(Parser *parser, MarkovParsedState *state)
{
	skip_space(parser);
	if (*parser->p == '"')
	{
		const char *at = parser->p;
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
			parser->p = at;
			return fail(parser, "A state is \"start\", \"conversion\", \"null\" or an array of channels.");
		}
		state->len = 0;
		return true;
	}
	if (!expect_char(parser, '[', "A state is \"start\", \"conversion\", \"null\" or an array of channels."))
		return false;
	state->kind = MARKOV_FIRST_TUPLE;
	state->len = 0;
	for (;;)
	{
		if (state->len == MARKOV_MAX_ORDER)
			return fail(parser, "A channel state holds at most 4 channels.");
		if (!parse_string(parser, &state->names[state->len], &state->lens[state->len]))
			return false;
		state->len++;
		skip_space(parser);
		if (*parser->p != ',')
			break;
		parser->p++;
	}
	return expect_char(parser, ']', "Expected \"]\" to close a channel state.");
}

/* [from, to, count] or [from, to, count, value] */
static bool
parse_transition(Parser *parser, const MarkovTextSink *sink, char *buffer)
{
	MarkovParsedState from;
	MarkovParsedState to;
	double		count;
	double		value = 0.0;
	bool		has_value = false;
	const char *at;
	const char *problem;

	skip_space(parser);
	at = parser->p;
	parser->buffer = buffer;
	if (!expect_char(parser, '[', "Expected \"[\" to open a transition.") ||
		!parse_state(parser, &from) ||
		!expect_char(parser, ',', "Expected \",\" after a transition's first state.") ||
		!parse_state(parser, &to) ||
		!expect_char(parser, ',', "Expected \",\" after a transition's second state.") ||
		!parse_number(parser, &count))
		return false;
	skip_space(parser);
	if (*parser->p == ',')
	{
		parser->p++;
		if (!parse_number(parser, &value))
			return false;
		has_value = true;
	}
	if (!expect_char(parser, ']', "Expected \"]\" to close a transition."))
		return false;
	problem = sink->add_transition(sink->arg, &from, &to, count, has_value, value);
	if (problem != NULL)
	{
		parser->p = at;
		return fail(parser, problem);
	}
	return true;
}

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
	const char *at;
	const char *problem;

	parser.start = text;
	parser.p = text;
	parser.buffer = name_buffer;
	parser.error = error;

	if (!expect_char(&parser, '{', "Expected \"{\" at the start.") ||
		!expect_key(&parser, "version", "Expected key \"version\" first."))
		return false;
	skip_space(&parser);
	at = parser.p;
	if (!parse_integer(&parser, &number))
		return false;
	if (number != 1)
	{
		parser.p = at;
		return fail(&parser, "Unsupported version: this build reads version 1.");
	}
	if (!expect_char(&parser, ',', "Expected \",\" after the version.") ||
		!expect_key(&parser, "order", "Expected key \"order\"."))
		return false;
	skip_space(&parser);
	at = parser.p;
	if (!parse_integer(&parser, &number))
		return false;
	problem = sink->set_order(sink->arg, number);
	if (problem != NULL)
	{
		parser.p = at;
		return fail(&parser, problem);
	}
	if (!expect_char(&parser, ',', "Expected \",\" after the order.") ||
		!expect_key(&parser, "transitions", "Expected key \"transitions\".") ||
		!expect_char(&parser, '[', "Expected \"[\" to open the transitions."))
		return false;
	skip_space(&parser);
	if (*parser.p != ']')
	{
		for (;;)
		{
			if (!parse_transition(&parser, sink, name_buffer))
				return false;
			skip_space(&parser);
			if (*parser.p != ',')
				break;
			parser.p++;
		}
	}
	if (!expect_char(&parser, ']', "Expected \"]\" to close the transitions.") ||
		!expect_char(&parser, '}', "Expected \"}\" at the end."))
		return false;
	skip_space(&parser);
	if (*parser.p != '\0')
		return fail(&parser, "Unexpected characters after the end.");
	return true;
}
