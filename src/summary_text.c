/*
 * summary_text.c: parser and writer of the channel_summary text format (see
 * summary_text.h).  The parser is strict: one fixed shape, finite numbers
 * only, no trailing garbage; anything else is reported with the offset where
 * it went wrong.  Semantic checks of the numbers (count >= 1, min <= max, ...)
 * belong to the sink, which is shared with the binary input.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "common/shortest_dec.h"

#include "summary_text.h"

typedef struct Parser
{
	const char *start;
	const char *p;
	char	   *name_buffer;	/* at least strlen(input) + 1 bytes */
	SummaryParseError *error;
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

/* A JSON string into name_buffer; *len gets its decoded length. */
static bool
parse_string(Parser *parser, int *len)
{
	char	   *out = parser->name_buffer;

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
	*out = '\0';
	*len = (int) (out - parser->name_buffer);
	return true;
}

/* A key given as a JSON string, then a colon. */
static bool
expect_key(Parser *parser, const char *key, const char *message)
{
	int			len;
	const char *at = parser->p;

	if (!parse_string(parser, &len) || strcmp(parser->name_buffer, key) != 0 ||
		(int) strlen(key) != len)
	{
		parser->p = at;
		skip_space(parser);
		return fail(parser, message);
	}
	return expect_char(parser, ':', "Expected \":\" after a key.");
}

/* A count: decimal digits, no sign, no leading zeros, 1 .. INT64_MAX. */
static bool
parse_count(Parser *parser, int64 *result)
{
	uint64		value = 0;
	const char *digits;

	skip_space(parser);
	digits = parser->p;
	while (*parser->p >= '0' && *parser->p <= '9')
	{
		if (value > (uint64) (PG_INT64_MAX - (*parser->p - '0')) / 10)
			return fail(parser, "Count is out of range.");
		value = value * 10 + (*parser->p - '0');
		parser->p++;
	}
	if (parser->p == digits)
		return fail(parser, "Expected a count (a whole number).");
	if (*digits == '0' && parser->p - digits > 1)
		return fail(parser, "Numbers must not have leading zeros.");
	*result = (int64) value;
	return true;
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

/* "name":{"n":..,"sum":..,"min":..,"max":..} */
static bool
parse_channel(Parser *parser, const SummaryTextSink *sink)
{
	const char *at;
	int			len;
	ChannelStats stats;
	const char *problem;
	char	   *name;

	skip_space(parser);
	at = parser->p;
	if (!parse_string(parser, &len))
		return false;
	/* the name must outlive the key parsing that reuses the buffer */
	name = parser->name_buffer;
	parser->name_buffer += len + 1;
	if (!expect_char(parser, ':', "Expected \":\" after a channel name.") ||
		!expect_char(parser, '{', "Expected \"{\" to open a channel's statistics.") ||
		!expect_key(parser, "n", "Expected key \"n\".") ||
		!parse_count(parser, &stats.count) ||
		!expect_char(parser, ',', "Expected \",\" after \"n\".") ||
		!expect_key(parser, "sum", "Expected key \"sum\".") ||
		!parse_number(parser, &stats.sum) ||
		!expect_char(parser, ',', "Expected \",\" after \"sum\".") ||
		!expect_key(parser, "min", "Expected key \"min\".") ||
		!parse_number(parser, &stats.min) ||
		!expect_char(parser, ',', "Expected \",\" after \"min\".") ||
		!expect_key(parser, "max", "Expected key \"max\".") ||
		!parse_number(parser, &stats.max) ||
		!expect_char(parser, '}', "Expected \"}\" to close a channel's statistics."))
		return false;
	parser->name_buffer = name;
	problem = sink->add_channel(sink->arg, name, len, &stats);
	if (problem != NULL)
	{
		parser->p = at;
		return fail(parser, problem);
	}
	return true;
}

/*
 * Parse text into sink.  name_buffer must hold strlen(text) + 1 bytes: a
 * decoded string is never longer than its encoding, and a channel name and
 * the key after it are never longer than the input together.
 */
bool
omnikpi_summary_text_parse(const char *text, char *name_buffer,
						   const SummaryTextSink *sink, SummaryParseError *error)
{
	Parser		parser;
	int64		version;
	const char *at;

	parser.start = text;
	parser.p = text;
	parser.name_buffer = name_buffer;
	parser.error = error;

	if (!expect_char(&parser, '{', "Expected \"{\" at the start.") ||
		!expect_key(&parser, "version", "Expected key \"version\" first."))
		return false;
	skip_space(&parser);
	at = parser.p;
	if (!parse_count(&parser, &version))
		return false;
	if (version != 1)
	{
		parser.p = at;
		return fail(&parser, "Unsupported version: this build reads version 1.");
	}
	if (!expect_char(&parser, ',', "Expected \",\" after the version."))
		return false;

	skip_space(&parser);
	at = parser.p;
	if (expect_key(&parser, "scale", ""))
	{
		double		scale_min;
		double		scale_max;

		if (!expect_char(&parser, '[', "Expected \"[\" to open the scale.") ||
			!parse_number(&parser, &scale_min) ||
			!expect_char(&parser, ',', "Expected \",\" between the scale bounds.") ||
			!parse_number(&parser, &scale_max) ||
			!expect_char(&parser, ']', "Expected \"]\" to close the scale.") ||
			!expect_char(&parser, ',', "Expected \",\" after the scale."))
			return false;
		sink->set_scale(sink->arg, scale_min, scale_max);
	}
	else
		parser.p = at;

	if (!expect_key(&parser, "channels", "Expected key \"channels\".") ||
		!expect_char(&parser, '{', "Expected \"{\" to open the channels."))
		return false;
	skip_space(&parser);
	if (*parser.p != '}')
	{
		for (;;)
		{
			if (!parse_channel(&parser, sink))
				return false;
			skip_space(&parser);
			if (*parser.p != ',')
				break;
			parser.p++;
		}
	}
	if (!expect_char(&parser, '}', "Expected \"}\" to close the channels.") ||
		!expect_char(&parser, '}', "Expected \"}\" at the end."))
		return false;
	skip_space(&parser);
	if (*parser.p != '\0')
		return fail(&parser, "Unexpected characters after the end.");
	return true;
}

/* s as a JSON string: quotes, backslashes and control characters escaped. */
void
omnikpi_summary_text_append_string(StringInfo out, const char *s, int len)
{
	int			i;

	appendStringInfoChar(out, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				appendStringInfoString(out, "\\\"");
				break;
			case '\\':
				appendStringInfoString(out, "\\\\");
				break;
			case '\n':
				appendStringInfoString(out, "\\n");
				break;
			case '\r':
				appendStringInfoString(out, "\\r");
				break;
			case '\t':
				appendStringInfoString(out, "\\t");
				break;
			default:
				if (c < 0x20)
					appendStringInfo(out, "\\u%04x", c);
				else
					appendStringInfoChar(out, (char) c);
		}
	}
	appendStringInfoChar(out, '"');
}

/* The shortest decimal that reads back as exactly value (as float8out). */
void
omnikpi_summary_text_append_double(StringInfo out, double value)
{
	char		buffer[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(value, buffer);
	appendStringInfoString(out, buffer);
}

/* Everything before the first channel: version, scale if known, "channels". */
void
omnikpi_summary_text_append_start(StringInfo out, SummaryScale scale)
{
	appendStringInfoString(out, "{\"version\":1,");
	if (scale.known)
	{
		appendStringInfoString(out, "\"scale\":[");
		omnikpi_summary_text_append_double(out, scale.min);
		appendStringInfoChar(out, ',');
		omnikpi_summary_text_append_double(out, scale.max);
		appendStringInfoString(out, "],");
	}
	appendStringInfoString(out, "\"channels\":{");
}

/* Channel number i (from 0), its name and its statistics. */
void
omnikpi_summary_text_append_channel(StringInfo out, int i, const char *name, int len,
									const ChannelStats *stats)
{
	if (i > 0)
		appendStringInfoChar(out, ',');
	omnikpi_summary_text_append_string(out, name, len);
	appendStringInfo(out, ":{\"n\":" INT64_FORMAT ",\"sum\":", stats->count);
	omnikpi_summary_text_append_double(out, stats->sum);
	appendStringInfoString(out, ",\"min\":");
	omnikpi_summary_text_append_double(out, stats->min);
	appendStringInfoString(out, ",\"max\":");
	omnikpi_summary_text_append_double(out, stats->max);
	appendStringInfoChar(out, '}');
}

/* What closes the channels and the summary. */
void
omnikpi_summary_text_append_end(StringInfo out)
{
	appendStringInfoString(out, "}}");
}
