/*
 * fuzz_markov.c: libFuzzer target for the markov_model text parser,
 * omnikpi_markov_text_parse (src/markov/markov_text.c).  The input, cut at
 * its first zero byte as a cstring would be, is parsed with a sink that
 * accepts everything and writes what it reads back with the writer
 * omnikpi_markov_out uses (omnikpi_markov_text_append_*);
 * fuzz_round_trip.c checks the round trip.
 */
#include "postgres.h"

#include "markov/markov_text.h"

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
	omnikpi_markov_text_append_start(((Writer *) arg)->out, order, keep_repeats);
	return NULL;
}

/* What the writer may assume of a state, checked before it is written. */
static void
check_state(const MarkovTextState *state)
{
	int			i;

	if (state->kind == MARKOV_START || state->kind == MARKOV_CONVERSION ||
		state->kind == MARKOV_NULL)
		return;
	if (state->kind != MARKOV_FIRST_TUPLE || state->len < 1 || state->len > MARKOV_MAX_ORDER)
		fuzz_die("a parsed state is neither a keyword nor 1 to 4 channels", NULL, NULL);
	for (i = 0; i < state->len; i++)
		if ((int) strlen(state->names[i]) != state->lens[i])
			fuzz_die("a decoded name is not NUL-terminated at its length", state->names[i], NULL);
}

static const char *
sink_add_transition(void *arg, const MarkovTextState *from, const MarkovTextState *to,
					double count, bool has_value, double value)
{
	Writer	   *writer = (Writer *) arg;

	check_state(from);
	check_state(to);
	omnikpi_markov_text_append_transition(writer->out, writer->ntransitions++, from, to,
										  count, has_value, value);
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
	omnikpi_markov_text_append_end(out);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_round_trip(data, size, parse);
	return 0;
}
