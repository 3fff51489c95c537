/*
 * fuzz_round_trip.c: the input, cut at its first zero byte as a cstring
 * would be, is parsed; a rejection must carry a message and point inside
 * the input, and what is accepted, written back, must parse again and
 * write back identically.  Any violation aborts, which libFuzzer reports as
 * a crash with the input that caused it.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_round_trip.h"

void
fuzz_die(const char *what, const char *first, const char *second)
{
	fprintf(stderr, "fuzz check failed: %s\n  first: %s\n  second: %s\n", what, first,
			second ? second : "");
	abort();
}

/* One parse into a fresh out; the buffer is the parser's, as in the server. */
static bool
parse_once(const char *text, StringInfo out, FuzzTextParse parse)
{
	size_t		len = strlen(text);
	char	   *buffer = malloc(len + 1);
	int			offset = -1;
	const char *message = NULL;
	bool		ok;

	if (buffer == NULL)
		abort();
	initStringInfo(out);
	ok = parse(text, buffer, out, &offset, &message);
	free(buffer);
	if (!ok && (message == NULL || offset < 0 || (size_t) offset > len))
		fuzz_die("a rejection without a message or outside the input", text, NULL);
	return ok;
}

void
fuzz_round_trip(const uint8_t *data, size_t size, FuzzTextParse parse)
{
	char	   *text = malloc(size + 1);
	StringInfoData first;
	StringInfoData second;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (parse_once(text, &first, parse))
	{
		if (!parse_once(first.data, &second, parse))
			fuzz_die("the written form is rejected", first.data, NULL);
		if (strcmp(first.data, second.data) != 0)
			fuzz_die("the written form reads back differently", first.data, second.data);
		pfree(second.data);
	}
	pfree(first.data);
	free(text);
}
