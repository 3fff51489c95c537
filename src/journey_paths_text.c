/*
 * journey_paths_text.c: parser of the journey_paths text format (see
 * journey_paths_text.h).  Strict: one fixed shape, finite numbers only, no
 * trailing garbage; anything else is reported with the offset where it went
 * wrong.  Checks of the content (empty paths, repeats, counts) belong to the
 * sink, which is shared with the binary input.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "journey_paths_text.h"

typedef struct Parser
{
	const char *start;
	const char *p;
	char	   *buffer;			/* strlen(input) + 1 bytes */
	JourneyPathsParseError *error;
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

/* A JSON string into the buffer; *len gets its decoded length. */
static bool
parse_string(Parser *parser, int *len)
{
	char	   *out = parser->buffer;

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
		parser->p++;
		if (c != '\\')
		{
			*out++ = c;
			continue;
		}
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
	*out = '\0';
	*len = (int) (out - parser->buffer);
	return true;
}

/* A key given as a JSON string, then a colon. */
static bool
expect_key(Parser *parser, const char *key, const char *message)
{
	int			len;
	const char *at;

	skip_space(parser);
	at = parser->p;
	if (!parse_string(parser, &len) || (int) strlen(key) != len ||
		memcmp(parser->buffer, key, len) != 0)
	{
		parser->p = at;
		return fail(parser, message);
	}
	return expect_char(parser, ':', "Expected \":\" after a key.");
}

/*
 * A JSON number that is a finite double.  The JSON grammar is checked first;
 * strtod, which accepts more (hexadecimal, "inf"), must then end exactly where
 * the grammar did.
 */
static bool
parse_number(Parser *parser, double *result)
{
	const char *begin;
	char	   *end;
	double		value;
	bool		nonzero_digit = false;
	const char *digit;

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

/* {"path":[...],"conversions":..,"non_conversions":..,"value":..} */
static bool
parse_path(Parser *parser, const JourneyPathsTextSink *sink)
{
	const char *at;
	const char *problem;
	PathStats	stats;

	skip_space(parser);
	at = parser->p;
	if (!expect_char(parser, '{', "Expected \"{\" to open a path.") ||
		!expect_key(parser, "path", "Expected key \"path\".") ||
		!expect_char(parser, '[', "Expected \"[\" to open the channels of a path."))
		return false;
	skip_space(parser);
	if (*parser->p != ']')
	{
		for (;;)
		{
			const char *name_at;
			int			len;

			skip_space(parser);
			name_at = parser->p;
			if (!parse_string(parser, &len))
				return false;
			problem = sink->add_step(sink->arg, parser->buffer, len);
			if (problem != NULL)
			{
				parser->p = name_at;
				return fail(parser, problem);
			}
			skip_space(parser);
			if (*parser->p != ',')
				break;
			parser->p++;
		}
	}
	if (!expect_char(parser, ']', "Expected \"]\" to close the channels of a path.") ||
		!expect_char(parser, ',', "Expected \",\" after the channels of a path.") ||
		!expect_key(parser, "conversions", "Expected key \"conversions\".") ||
		!parse_number(parser, &stats.conversions) ||
		!expect_char(parser, ',', "Expected \",\" after \"conversions\".") ||
		!expect_key(parser, "non_conversions", "Expected key \"non_conversions\".") ||
		!parse_number(parser, &stats.non_conversions) ||
		!expect_char(parser, ',', "Expected \",\" after \"non_conversions\".") ||
		!expect_key(parser, "value", "Expected key \"value\".") ||
		!parse_number(parser, &stats.value) ||
		!expect_char(parser, '}', "Expected \"}\" to close a path."))
		return false;
	problem = sink->end_path(sink->arg, &stats);
	if (problem != NULL)
	{
		parser->p = at;
		return fail(parser, problem);
	}
	return true;
}

/* Parse text into sink; buffer must hold strlen(text) + 1 bytes. */
bool
omnikpi_jp_text_parse(const char *text, char *buffer, const JourneyPathsTextSink *sink,
					  JourneyPathsParseError *error)
{
	Parser		parser;

	parser.start = text;
	parser.p = text;
	parser.buffer = buffer;
	parser.error = error;

	if (!expect_char(&parser, '{', "Expected \"{\" at the start.") ||
		!expect_key(&parser, "version", "Expected key \"version\" first."))
		return false;
	/* the only version there is: "1" and nothing that continues the number */
	skip_space(&parser);
	if (*parser.p != '1' || (parser.p[1] >= '0' && parser.p[1] <= '9') || parser.p[1] == '.' ||
		parser.p[1] == 'e' || parser.p[1] == 'E')
		return fail(&parser, "Unsupported version: this build reads version 1.");
	parser.p++;
	if (!expect_char(&parser, ',', "Expected \",\" after the version.") ||
		!expect_key(&parser, "paths", "Expected key \"paths\".") ||
		!expect_char(&parser, '[', "Expected \"[\" to open the paths."))
		return false;
	skip_space(&parser);
	if (*parser.p != ']')
	{
		for (;;)
		{
			if (!parse_path(&parser, sink))
				return false;
			skip_space(&parser);
			if (*parser.p != ',')
				break;
			parser.p++;
		}
	}
	if (!expect_char(&parser, ']', "Expected \"]\" to close the paths.") ||
		!expect_char(&parser, '}', "Expected \"}\" at the end."))
		return false;
	skip_space(&parser);
	if (*parser.p != '\0')
		return fail(&parser, "Unexpected characters after the end.");
	return true;
}
