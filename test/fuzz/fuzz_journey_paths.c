/*
 * fuzz_journey_paths.c: libFuzzer target for the journey_paths text parser,
 * omnikpi_jp_text_parse (src/journey_paths_text.c).  The input, cut at its
 * first zero byte as a cstring would be, is parsed with a sink that accepts
 * everything and writes what it reads back in the text form, the way
 * omnikpi_jp_out does (same string and double writers, but from the parsed
 * values: the server's writer works on the built value, which needs the
 * server); fuzz_round_trip.c checks the round trip.
 */
#include "postgres.h"

#include "journey_paths/journey_paths_text.h"
#include "channel_summary/summary_text.h"

#include "fuzz_round_trip.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Writer
{
	StringInfo	out;
	int			npaths;
	int			nsteps;			/* of the current path */
} Writer;

static void
start_path(Writer *writer)
{
	if (writer->npaths > 0)
		appendStringInfoChar(writer->out, ',');
	appendStringInfoString(writer->out, "{\"path\":[");
}

static const char *
sink_add_step(void *arg, const char *name, int len)
{
	Writer	   *writer = (Writer *) arg;

	if ((int) strlen(name) != len)
		fuzz_die("a decoded name is not NUL-terminated at its length", name, NULL);
	if (writer->nsteps == 0)
		start_path(writer);
	else
		appendStringInfoChar(writer->out, ',');
	writer->nsteps++;
	omnikpi_summary_text_append_string(writer->out, name, len);
	return NULL;
}

static const char *
sink_end_path(void *arg, const PathStats *stats)
{
	Writer	   *writer = (Writer *) arg;
	StringInfo	out = writer->out;

	/* an empty path is the sink's to reject; here it is written as read */
	if (writer->nsteps == 0)
		start_path(writer);
	appendStringInfoString(out, "],\"conversions\":");
	omnikpi_summary_text_append_double(out, stats->conversions);
	appendStringInfoString(out, ",\"non_conversions\":");
	omnikpi_summary_text_append_double(out, stats->non_conversions);
	appendStringInfoString(out, ",\"value\":");
	omnikpi_summary_text_append_double(out, stats->value);
	appendStringInfoChar(out, '}');
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

	appendStringInfoString(out, "{\"version\":1,\"paths\":[");
	if (!omnikpi_jp_text_parse(text, buffer, &sink, &error))
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
