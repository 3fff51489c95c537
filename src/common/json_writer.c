/*
 * json_writer.c: strings and doubles of the JSON-shaped text forms (see
 * json_writer.h).  Each value has the one spelling the lexer accepts and
 * writes back the same way: the escapes of json_lexer.h, finite doubles in
 * the shortest decimal that reads back bit for bit, as float8out writes.
 */
#include "postgres.h"

#include "common/shortest_dec.h"

#include "common/json_writer.h"

/* s as a JSON string: quotes, backslashes and control characters escaped. */
void
omnikpi_json_append_string(StringInfo out, const char *s, int len)
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
omnikpi_json_append_double(StringInfo out, double value)
{
	char		buffer[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(value, buffer);
	appendStringInfoString(out, buffer);
}

/*
 * ,"key":value for each of n number members: the counterpart of
 * omnikpi_json_number_fields, after a member already written.
 */
void
omnikpi_json_append_number_members(StringInfo out, const char *const *keys,
								   const double *values, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		appendStringInfo(out, ",\"%s\":", keys[i]);
		omnikpi_json_append_double(out, values[i]);
	}
}
