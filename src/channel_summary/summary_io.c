/*
 * summary_io.c: the channel_summary type's flat form and its text and
 * binary input/output.
 *
 * Both inputs trust nothing: they go through one builder that checks every
 * channel's numbers, the scale, and duplicate names, then writes the sorted
 * flat form.  The text form is what pg_dump, COPY and Citus ship, so floats
 * are written in their shortest exact form and read back bit for bit.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/float.h"

#include "channel_summary/channel_summary.h"
#include "channel_summary/summary_binary.h"
#include "channel_summary/summary_text.h"
#include "common/messages.h"
#include "common/type_io.h"

/* The scale a flat summary carries, if any. */
SummaryScale
omnikpi_summary_scale(const ChannelSummary *summary)
{
	SummaryScale scale;

	scale.known = (summary->h.flags & SUMMARY_HAS_SCALE) != 0;
	scale.min = scale.known ? summary->scale_min : 0.0;
	scale.max = scale.known ? summary->scale_max : 0.0;
	return scale;
}

/*
 * Collects the channels of a summary being read, in a private working state
 * in the current memory context.  errcode is 22P02 for text input and 22P03
 * for binary input.
 */
typedef struct SummaryBuilder
{
	SummaryScale scale;
	bool		started;		/* state holds a working state */
	StateRef	state;
	int			errcode;
	char	   *converted;		/* a binary name in the server encoding, or NULL */
} SummaryBuilder;

static void
builder_start(void *arg, int errcode)
{
	SummaryBuilder *builder = (SummaryBuilder *) arg;

	builder->scale.known = false;
	builder->started = false;
	builder->errcode = errcode;
	builder->converted = NULL;
}

static void
builder_set_scale(void *arg, double scale_min, double scale_max)
{
	SummaryBuilder *builder = (SummaryBuilder *) arg;
	const char *problem = omnikpi_scale_invalid(scale_min, scale_max);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(builder->errcode),
				 errmsg("invalid scale %s to %s in channel_summary",
						float8out_internal(scale_min), float8out_internal(scale_max)),
				 errdetail("%s", problem)));
	builder->scale.known = true;
	builder->scale.min = scale_min;
	builder->scale.max = scale_max;
}

/* Check and add one channel; returns the problem, or NULL. */
static const char *
builder_add_channel(void *arg, const char *name, int len, const ChannelStats *stats)
{
	SummaryBuilder *builder = (SummaryBuilder *) arg;
	const char *problem = omnikpi_channel_stats_invalid(stats);

	if (problem != NULL)
		return problem;
	if (builder->scale.known &&
		(stats->min < builder->scale.min || stats->max > builder->scale.max))
		return "A channel's values lie outside the summary's scale.";
	if (!builder->started)
	{
		omnikpi_summary_state_new_private(&builder->state, CurrentMemoryContext,
										  builder->scale, false);
		builder->started = true;
	}
	if (!omnikpi_summary_state_insert_stats(&builder->state, name, len, stats, true))
		return "A channel appears twice.";
	/* on a problem a converted name is still needed for the message */
	if (builder->converted != NULL)
	{
		pfree(builder->converted);
		builder->converted = NULL;
	}
	return NULL;
}

/* The text form (see summary_text.h), read into the builder. */
static bool
parse_text(const char *text, char *name_buffer, void *builder, OmnikpiJsonError *error)
{
	SummaryTextSink sink = {builder, builder_set_scale, builder_add_channel};

	return omnikpi_summary_text_parse(text, name_buffer, &sink, error);
}

/* The flat summary of what was read; the scratch state is freed. */
static void *
builder_finish(void *arg)
{
	SummaryBuilder *builder = (SummaryBuilder *) arg;

	if (!builder->started)
		omnikpi_summary_state_new_private(&builder->state, CurrentMemoryContext,
										  builder->scale, false);
	return omnikpi_state_finish(&builder->state, &omnikpi_summary_family);
}

/* The text form: channels in byte order of their names, floats exact. */
static void
write_text(StringInfo out, const void *stored)
{
	const ChannelSummary *summary = stored;
	int			i;

	omnikpi_summary_text_append_start(out, omnikpi_summary_scale(summary));
	for (i = 0; i < summary->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(summary), i, &len);

		omnikpi_summary_text_append_channel(out, i, name, len, &SUMMARY_STATS(summary)[i]);
	}
	omnikpi_summary_text_append_end(out);
}

/*
 * The ereport for what stopped the binary decoder: the SQLSTATEs and
 * messages of the pq_getmsg functions for lengths, ours for the content.
 */
static void pg_attribute_noreturn()
report_binary_error(const SummaryBinaryError *error)
{
	switch (error->problem)
	{
		case SUMMARY_BINARY_READER:
			omnikpi_report_binary_problem(error->reader);
			break;
		case SUMMARY_BINARY_BAD_FORMAT:
			omnikpi_binary_check_format("channel_summary", error->value, CHANNEL_SUMMARY_FORMAT);
			break;
		case SUMMARY_BINARY_BAD_FLAGS:
			omnikpi_report_invalid_binary(psprintf("invalid flags %d in binary channel_summary",
												   error->value), NULL);
			break;
		case SUMMARY_BINARY_BAD_COUNT:
			omnikpi_report_invalid_binary(psprintf("invalid channel count %d in binary channel_summary",
												   error->value), NULL);
			break;
		case SUMMARY_BINARY_BAD_CHANNEL:
			omnikpi_report_invalid_binary(psprintf("invalid channel \"%s\" in binary channel_summary",
												   omnikpi_clip_for_message(error->name,
																			error->name_len)),
										  error->detail);
			break;
	}
	elog(ERROR, "unknown binary channel_summary problem %d", (int) error->problem);
}

/*
 * A binary name arrives in the client encoding, converted as pq_getmsgtext
 * would (invalid bytes are an error there); a converted copy is freed once
 * its channel is stored.
 */
static const char *
binary_decode_name(void *arg, const char *raw, int raw_len, int *len)
{
	SummaryBuilder *builder = (SummaryBuilder *) arg;
	char	   *name = pg_client_to_server(raw, raw_len);

	if (name == raw)
	{
		*len = raw_len;
		return name;
	}
	builder->converted = name;
	*len = (int) strlen(name);
	return name;
}

/*
 * The binary form (layout in summary_binary.h), by the server-free decoder
 * the fuzzer runs too; it reads to the end of the value.
 */
static void
read_binary(BinaryReader *reader, void *builder)
{
	SummaryBinarySink sink = {builder, builder_set_scale, binary_decode_name,
	builder_add_channel};
	SummaryBinaryError error;

	if (!omnikpi_summary_binary_parse((const char *) reader->data + reader->cursor,
									  binary_bytes_left(reader), &sink, &error))
		report_binary_error(&error);
	reader->cursor = reader->len;
}

/* The binary form; names are converted to the client encoding as pq_sendcountedtext does. */
static void
write_binary(StringInfo out, const void *stored)
{
	const ChannelSummary *summary = stored;
	int			i;

	omnikpi_summary_binary_append_start(out, omnikpi_summary_scale(summary),
										summary->h.nchannels);
	for (i = 0; i < summary->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(summary), i, &len);
		char	   *converted = pg_server_to_client(name, len);

		omnikpi_summary_binary_append_channel(out, converted,
											  converted == name ? len : (int) strlen(converted),
											  &SUMMARY_STATS(summary)[i]);
		if (converted != name)
			pfree(converted);
	}
}

/*
 * omnikpi_summary_in, _out, _recv, _send: the type's input and output
 * functions.  Both inputs check every number, name and the structure (text
 * problems are 22P02 with the place and the reason, binary 22P03, or 08P01
 * for a message cut short or too long); the text output has the channels in
 * byte order of their names and floats in the shortest form that reads back
 * exactly.
 */
OMNIKPI_TYPE_IO_FUNCTIONS(omnikpi_summary_in, omnikpi_summary_out, omnikpi_summary_recv,
						  omnikpi_summary_send, omnikpi_summary_family, SummaryBuilder)
