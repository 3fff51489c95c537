/*
 * fuzz_markov.c: libFuzzer target for the markov_model text parser,
 * omnikpi_markov_text_parse (src/markov_text.c).  The input, cut at its
 * first zero byte as a cstring would be, is parsed with a sink that accepts
 * everything and writes what it reads back in the text form, the way
 * omnikpi_markov_out does (same string and double writers, but from the
 * parsed values: the server's writer works on the built model, which needs
 * the server); fuzz_round_trip.c checks the round trip.
 */
#include "postgres.h"

#include "markov/markov_text.h"
#include "channel_summary/summary_text.h"

#include "fuzz_round_trip.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Writer
{
	StringInfo	out;
	int			ntransitions;
} Writer;

static const char *
sink_set_order(void *arg, int64 order, bool keep_repeats)
{
	Writer	   *writer = (Writer *) arg;

	appendStringInfo(writer->out, "{\"version\":1,\"order\":" INT64_FORMAT ",%s\"transitions\":[",
					 order, keep_repeats ? "\"repeats\":\"keep\"," : "");
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
		fuzz_die("a parsed state is neither a keyword nor 1 to 4 channels", out->data, NULL);
	appendStringInfoChar(out, '[');
	for (i = 0; i < state->len; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		if ((int) strlen(state->names[i]) != state->lens[i])
			fuzz_die("a decoded name is not NUL-terminated at its length", state->names[i], NULL);
		omnikpi_summary_text_append_string(out, state->names[i], state->lens[i]);
	}
	appendStringInfoChar(out, ']');
}

static const char *
sink_add_transition(void *arg, const MarkovParsedState *from, const MarkovParsedState *to,
					double count, bool has_value, double value)
{
	Writer	   *writer = (Writer *) arg;
	StringInfo	out = writer->out;

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

static bool
parse(const char *text, char *buffer, StringInfo out, int *error_offset,
	  const char **error_message)
{
	Writer		writer = {out, 0};
	MarkovTextSink sink = {&writer, sink_set_order, sink_add_transition};
	MarkovParseError error;

	if (!omnikpi_markov_text_parse(text, buffer, &sink, &error))
	{
		*error_offset = error.offset;
		*error_message = error.message;
		return false;
	}
	appendStringInfoString(out, "]}");
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_round_trip(data, size, parse);
	return 0;
}
