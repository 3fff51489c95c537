/*
 * fuzz_journey_paths.c: libFuzzer target for the journey_paths text parser,
 * omnikpi_jp_text_parse (src/journey_paths_text.c).  The input, cut at its
 * first zero byte as a cstring would be, is parsed with a sink that accepts
 * everything and writes what it reads back in the text form, the way
 * omnikpi_jp_out does (same string and double writers, but from the parsed
 * values: the server's writer works on the built value, which needs the
 * server).  That text must parse again and write back identically, and a
 * rejection must point inside the input.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "journey_paths_text.h"
#include "summary_text.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Writer
{
	StringInfoData out;
	int			npaths;
	int			nsteps;			/* of the current path */
} Writer;

static void
die(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz check failed: %s\n  first: %s\n  second: %s\n", what, a, b ? b : "");
	abort();
}

static void
start_path(Writer *writer)
{
	if (writer->npaths > 0)
		appendStringInfoChar(&writer->out, ',');
	appendStringInfoString(&writer->out, "{\"path\":[");
}

static const char *
sink_add_step(void *arg, const char *name, int len)
{
	Writer	   *writer = (Writer *) arg;

	if ((int) strlen(name) != len)
		die("a decoded name is not NUL-terminated at its length", name, NULL);
	if (writer->nsteps == 0)
		start_path(writer);
	else
		appendStringInfoChar(&writer->out, ',');
	writer->nsteps++;
	omnikpi_summary_text_append_string(&writer->out, name, len);
	return NULL;
}

static const char *
sink_end_path(void *arg, const PathStats *stats)
{
	Writer	   *writer = (Writer *) arg;
	StringInfo	out = &writer->out;

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

/* Parse text; on success writer->out holds it as written back. */
static bool
parse(const char *text, Writer *writer)
{
	size_t		len = strlen(text);
	char	   *buffer = malloc(len + 1);
	JourneyPathsTextSink sink;
	JourneyPathsParseError error;
	bool		ok;

	if (buffer == NULL)
		abort();
	initStringInfo(&writer->out);
	appendStringInfoString(&writer->out, "{\"version\":1,\"paths\":[");
	writer->npaths = 0;
	writer->nsteps = 0;
	sink.arg = writer;
	sink.add_step = sink_add_step;
	sink.end_path = sink_end_path;
	ok = omnikpi_jp_text_parse(text, buffer, &sink, &error);
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
