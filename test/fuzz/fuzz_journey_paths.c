/*
 * fuzz_journey_paths.c: libFuzzer target for the journey_paths text parser,
 * omnikpi_jp_text_parse (src/journey_paths/journey_paths_text.c).  The
 * input, cut at its first zero byte as a cstring would be, is parsed with a
 * sink that accepts everything and writes what it reads back with the
 * writer omnikpi_jp_out uses (omnikpi_jp_text_append_*); fuzz_round_trip.c
 * checks the round trip.
 */
#include "postgres.h"

#include "journey_paths/journey_paths_text.h"

#include "fuzz_round_trip.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Writer
{
	StringInfo	out;
	int			npaths;
	int			nsteps;			/* of the current path */
} Writer;

static const char *
sink_add_step(void *arg, const char *name, int len)
{
	Writer	   *writer = (Writer *) arg;

	if ((int) strlen(name) != len)
		fuzz_die("a decoded name is not NUL-terminated at its length", name, NULL);
	if (writer->nsteps == 0)
		omnikpi_jp_text_append_path_start(writer->out, writer->npaths);
	omnikpi_jp_text_append_step(writer->out, writer->nsteps++, name, len);
	return NULL;
}

static const char *
sink_end_path(void *arg, const PathStats *stats)
{
	Writer	   *writer = (Writer *) arg;

	/* an empty path is the sink's to reject; here it is written as read */
	if (writer->nsteps == 0)
		omnikpi_jp_text_append_path_start(writer->out, writer->npaths);
	omnikpi_jp_text_append_path_end(writer->out, stats);
	writer->npaths++;
	writer->nsteps = 0;
	return NULL;
}

static bool
parse(const char *text, char *buffer, StringInfo out, int *error_offset,
	  const char **error_message)
{
	Writer		writer = {out, 0, 0};
	JourneyPathsTextSink sink = {&writer, sink_add_step, sink_end_path};
	JourneyPathsParseError error;

	omnikpi_jp_text_append_start(out);
	if (!omnikpi_jp_text_parse(text, buffer, &sink, &error))
	{
		*error_offset = error.offset;
		*error_message = error.message;
		return false;
	}
	omnikpi_jp_text_append_end(out);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_round_trip(data, size, parse);
	return 0;
}
