/*
 * fuzz_markov.c: libFuzzer target for the markov_model text parser,
 * omnikpi_markov_text_parse (src/markov_text.c).  The input, cut at its
 * first zero byte as a cstring would be, is parsed with a sink that accepts
 * everything and writes what it reads back in the text form, the way
 * omnikpi_markov_out does (same string and double writers, but from the
 * parsed values: the server's writer works on the built model, which needs
 * the server).  That text must parse again and write back identically, and a
 * rejection must point inside the input.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "markov_text.h"
#include "summary_text.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Writer
{
	StringInfoData out;
	int			ntransitions;
} Writer;

static void
die(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz check failed: %s\n  first: %s\n  second: %s\n", what, a, b ? b : "");
	abort();
}

static const char *
sink_set_order(void *arg, int64 order)
{
	Writer	   *writer = (Writer *) arg;

	appendStringInfo(&writer->out, "{\"version\":1,\"order\":" INT64_FORMAT ",\"transitions\":[",
					 order);
	return NULL;
}

static void
append_state(StringInfo out, const MarkovParsedState *state)
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
	if (state->kind != MARKOV_FIRST_TUPLE || state->len < 1 || state->len > MARKOV_MAX_ORDER)
		die("a parsed state is neither a keyword nor 1 to 4 channels", out->data, NULL);
	appendStringInfoChar(out, '[');
	for (i = 0; i < state->len; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		if ((int) strlen(state->names[i]) != state->lens[i])
			die("a decoded name is not NUL-terminated at its length", state->names[i], NULL);
		omnikpi_summary_text_append_string(out, state->names[i], state->lens[i]);
	}
	appendStringInfoChar(out, ']');
}

static const char *
sink_add_transition(void *arg, const MarkovParsedState *from, const MarkovParsedState *to,
					double count, bool has_value, double value)
{
	Writer	   *writer = (Writer *) arg;
	StringInfo	out = &writer->out;

	if (writer->ntransitions++ > 0)
		appendStringInfoChar(out, ',');
	appendStringInfoChar(out, '[');
	append_state(out, from);
	appendStringInfoChar(out, ',');
	append_state(out, to);
	appendStringInfoChar(out, ',');
	omnikpi_summary_text_append_double(out, count);
	if (has_value)
	{
		appendStringInfoChar(out, ',');
		omnikpi_summary_text_append_double(out, value);
	}
	appendStringInfoChar(out, ']');
	return NULL;
}

/* Parse text; on success writer->out holds it as written back. */
static bool
parse(const char *text, Writer *writer)
{
	size_t		len = strlen(text);
	char	   *buffer = malloc(len + 1);
	MarkovTextSink sink;
	MarkovParseError error;
	bool		ok;

	if (buffer == NULL)
		abort();
	initStringInfo(&writer->out);
	writer->ntransitions = 0;
	sink.arg = writer;
	sink.set_order = sink_set_order;
	sink.add_transition = sink_add_transition;
	ok = omnikpi_markov_text_parse(text, buffer, &sink, &error);
	free(buffer);
	if (ok)
		appendStringInfoString(&writer->out, "]}");
	else if (error.message == NULL || error.offset < 0 || (size_t) error.offset > len)
		die("a rejection without a message or outside the input", text, NULL);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	Writer		first;
	Writer		second;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (parse(text, &first))
	{
		if (!parse(first.out.data, &second))
			die("the written form is rejected", first.out.data, NULL);
		if (strcmp(first.out.data, second.out.data) != 0)
			die("the written form reads back differently", first.out.data, second.out.data);
		pfree(second.out.data);
	}
	pfree(first.out.data);
	free(text);
	return 0;
}
