/*
 * json_lexer.c: the tokens of the JSON-shaped text forms (see json_lexer.h).
 * The grammar is JSON's, kept strict: finite numbers only, no leading zeros,
 * a restricted set of \u escapes, so that each value has one spelling the
 * writers produce and the parsers accept.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "common/json_lexer.h"

void
omnikpi_json_init(OmnikpiJsonLexer *lex, const char *text, OmnikpiJsonError *error)
{
	lex->start = text;
	lex->p = text;
	lex->error = error;
}

/* Record message at the current position; returns false for the caller. */
bool
omnikpi_json_fail(OmnikpiJsonLexer *lex, const char *message)
{
	lex->error->message = message;
	lex->error->offset = (int) (lex->p - lex->start);
	return false;
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
 * A JSON string, decoded into out and NUL-terminated; *len gets its decoded
 * length.  The decoded string plus its terminator is never longer than its
 * encoding with the quotes, so out needs no more room than the input has
 * left.
 */
bool
omnikpi_json_string(OmnikpiJsonLexer *lex, char *out, int *len)
{
	char	   *begin = out;

	omnikpi_json_skip_space(lex);
	if (*lex->p != '"')
		return omnikpi_json_fail(lex, "Expected a double-quoted string.");
	lex->p++;
	for (;;)
	{
		char		c = *lex->p;

		if (c == '\0')
			return omnikpi_json_fail(lex, "Unterminated string.");
		if (c == '"')
			break;
		if ((unsigned char) c < 0x20)
			return omnikpi_json_fail(lex, "Control characters in strings must be escaped.");
		lex->p++;
		if (c != '\\')
		{
			*out++ = c;
			continue;
		}
		switch (*lex->p)
		{
			case '"':
			case '\\':
			case '/':
				*out++ = *lex->p;
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
						int			digit = hex_value(lex->p[i]);

						if (digit < 0)
							return omnikpi_json_fail(lex, "Invalid \\u escape: four hexadecimal digits are required.");
						code = code * 16 + digit;
					}
					if (code == 0 || code > 0x7f)
						return omnikpi_json_fail(lex, "Only \\u0001 to \\u007f are accepted; write other characters as they are.");
					*out++ = (char) code;
					lex->p += 4;
					break;
				}
			default:
				return omnikpi_json_fail(lex, "Invalid escape sequence in a string.");
		}
		lex->p++;
	}
	lex->p++;
	*out = '\0';
	*len = (int) (out - begin);
	return true;
}

/*
 * The key given as a JSON string (escapes allowed, decoded into scratch),
 * then a colon.  Anything else but a missing colon is reported as message,
 * at the start of the key.
 */
bool
omnikpi_json_key(OmnikpiJsonLexer *lex, const char *key, char *scratch, const char *message)
{
	const char *at;
	int			len;

	omnikpi_json_skip_space(lex);
	at = lex->p;
	if (!omnikpi_json_string(lex, scratch, &len) || (int) strlen(key) != len ||
		memcmp(scratch, key, len) != 0)
	{
		lex->p = at;
		return omnikpi_json_fail(lex, message);
	}
	return omnikpi_json_expect(lex, ':', "Expected \":\" after a key.");
}

/*
 * The start every text form shares, up to the comma after the version:
 * {"version":1, with the only version there is and nothing that continues
 * the number.  The key is decoded into scratch.
 */
bool
omnikpi_json_version(OmnikpiJsonLexer *lex, char *scratch)
{
	const char *p;

	if (!omnikpi_json_expect(lex, '{', "Expected \"{\" at the start.") ||
		!omnikpi_json_key(lex, "version", scratch, "Expected key \"version\" first."))
		return false;
	omnikpi_json_skip_space(lex);
	p = lex->p;
	if (p[0] != '1' || (p[1] >= '0' && p[1] <= '9') || p[1] == '.' || p[1] == 'e' ||
		p[1] == 'E')
		return omnikpi_json_fail(lex, "Unsupported version: this build reads version 1.");
	lex->p++;
	return omnikpi_json_expect(lex, ',', "Expected \",\" after the version.");
}

/*
 * A whole number: decimal digits, no sign, no leading zeros, 0 .. INT64_MAX.
 * The callers name what they expect in missing and out_of_range.
 */
bool
omnikpi_json_integer(OmnikpiJsonLexer *lex, int64 *result, const char *missing,
					 const char *out_of_range)
{
	uint64		value = 0;
	const char *digits;

	omnikpi_json_skip_space(lex);
	digits = lex->p;
	while (*lex->p >= '0' && *lex->p <= '9')
	{
		if (value > (uint64) (PG_INT64_MAX - (*lex->p - '0')) / 10)
			return omnikpi_json_fail(lex, out_of_range);
		value = value * 10 + (*lex->p - '0');
		lex->p++;
	}
	if (lex->p == digits)
		return omnikpi_json_fail(lex, missing);
	if (*digits == '0' && lex->p - digits > 1)
		return omnikpi_json_fail(lex, "Numbers must not have leading zeros.");
	*result = (int64) value;
	return true;
}

/*
 * A JSON number that is a finite double.  The JSON grammar is checked first;
 * strtod, which accepts more (hexadecimal, "inf"), must then end exactly where
 * the grammar did.
 */
bool
omnikpi_json_number(OmnikpiJsonLexer *lex, double *result)
{
	const char *begin;
	const char *digit;
	char	   *end;
	double		value;
	bool		nonzero_digit = false;

	omnikpi_json_skip_space(lex);
	begin = lex->p;
	if (*lex->p == '-')
		lex->p++;
	if (*lex->p == '0')
		lex->p++;
	else if (*lex->p >= '1' && *lex->p <= '9')
		while (*lex->p >= '0' && *lex->p <= '9')
			lex->p++;
	else
	{
		lex->p = begin;
		return omnikpi_json_fail(lex, "Expected a number.");
	}
	if (*lex->p == '.')
	{
		lex->p++;
		if (!(*lex->p >= '0' && *lex->p <= '9'))
			return omnikpi_json_fail(lex, "Expected digits after the decimal point.");
		while (*lex->p >= '0' && *lex->p <= '9')
			lex->p++;
	}
	if (*lex->p == 'e' || *lex->p == 'E')
	{
		lex->p++;
		if (*lex->p == '+' || *lex->p == '-')
			lex->p++;
		if (!(*lex->p >= '0' && *lex->p <= '9'))
			return omnikpi_json_fail(lex, "Expected digits in the exponent.");
		while (*lex->p >= '0' && *lex->p <= '9')
			lex->p++;
	}
	for (digit = begin; digit < lex->p && *digit != 'e' && *digit != 'E'; digit++)
		if (*digit >= '1' && *digit <= '9')
			nonzero_digit = true;
	errno = 0;
	value = strtod(begin, &end);
	if (end != lex->p)
	{
		lex->p = begin;
		return omnikpi_json_fail(lex, "Expected a number.");
	}
	/* ERANGE with a nonzero finite result is a subnormal, which is fine */
	if (!isfinite(value) || (errno == ERANGE && value == 0.0 && nonzero_digit))
	{
		lex->p = begin;
		return omnikpi_json_fail(lex, "Number is out of range for double precision.");
	}
	*result = value;
	return true;
}

/* The number members of fields, in their order (see json_lexer.h). */
bool
omnikpi_json_number_fields(OmnikpiJsonLexer *lex, const OmnikpiJsonNumberField *fields,
						   int nfields, char *scratch)
{
	int			i;

	for (i = 0; i < nfields; i++)
	{
		if (i > 0 && !omnikpi_json_expect(lex, ',', fields[i - 1].no_comma))
			return false;
		if (!omnikpi_json_key(lex, fields[i].key, scratch, fields[i].missing) ||
			!omnikpi_json_number(lex, fields[i].value))
			return false;
	}
	return true;
}

/* The list that ends a text form (see json_lexer.h). */
bool
omnikpi_json_final_list(OmnikpiJsonLexer *lex, const OmnikpiJsonList *list, char *buffer,
						OmnikpiJsonMemberReader member_reader, const void *sink)
{
	if (!omnikpi_json_key(lex, list->key, buffer, list->missing_key) ||
		!omnikpi_json_expect(lex, list->open, list->no_open))
		return false;
	omnikpi_json_skip_space(lex);
	if (*lex->p != list->close)
		do
		{
			if (!member_reader(lex, buffer, sink))
				return false;
		} while (omnikpi_json_next(lex, ','));
	return omnikpi_json_expect(lex, list->close, list->no_close) && omnikpi_json_end(lex);
}
