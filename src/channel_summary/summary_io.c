/*
 * channel_summary.c: the channel_summary type's flat form and its text and
 * binary input/output.
 *
 * Both inputs trust nothing: they go through one builder that checks every
 * channel's numbers, the scale, and duplicate names, then writes the sorted
 * flat form.  The text form is what pg_dump, COPY and Citus ship, so floats
 * are written in their shortest exact form and read back bit for bit.
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/float.h"

#include "channel_summary/channel_summary.h"
#include "channel_summary/summary_binary.h"
#include "channel_summary/summary_text.h"
#include "common/messages.h"

/* The scale a flat summary carries, if any. */
SummaryScale
omnikpi_summary_scale(const ChannelSummary *summary)
{
	SummaryScale scale;

	scale.known = (summary->flags & SUMMARY_HAS_SCALE) != 0;
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
} SummaryBuilder;

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
	return NULL;
}

static void
builder_init(SummaryBuilder *builder, int errcode)
{
	builder->scale.known = false;
	builder->scale.min = 0.0;
	builder->scale.max = 0.0;
	builder->started = false;
	builder->errcode = errcode;
}

/* The flat summary of what was read; the scratch state is freed. */
static ChannelSummary *
builder_finish(SummaryBuilder *builder)
{
	ChannelSummary *flat;

	if (!builder->started)
		omnikpi_summary_state_new_private(&builder->state, CurrentMemoryContext,
										  builder->scale, false);
	flat = omnikpi_state_store(builder->state.body, &omnikpi_summary_family);
	omnikpi_state_free(&builder->state);
	return flat;
}

/*
 * omnikpi_summary_in: channel_summary from its JSON-shaped text (see
 * summary_text.h).  Every number, name and the structure are checked; any
 * problem is 22P02 with the place and the reason.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_in);
Datum
omnikpi_summary_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	char	   *name_buffer = palloc(strlen(text) + 1);
	SummaryBuilder builder;
	SummaryTextSink sink;
	SummaryParseError error;

	builder_init(&builder, ERRCODE_INVALID_TEXT_REPRESENTATION);
	sink.arg = &builder;
	sink.set_scale = builder_set_scale;
	sink.add_channel = builder_add_channel;
	if (!omnikpi_summary_text_parse(text, name_buffer, &sink, &error))
		omnikpi_report_syntax_error("channel_summary", text, &error);
	pfree(name_buffer);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/*
 * omnikpi_summary_out: the text form, channels in byte order of their names,
 * floats in the shortest form that reads back exactly.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_out);
Datum
omnikpi_summary_out(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);
	const ChannelStats *stats = SUMMARY_STATS(summary);
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	omnikpi_summary_text_append_start(&out, omnikpi_summary_scale(summary));
	for (i = 0; i < summary->nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(summary), i, &len);

		omnikpi_summary_text_append_channel(&out, i, name, len, &stats[i]);
	}
	omnikpi_summary_text_append_end(&out);
	PG_RETURN_CSTRING(out.data);
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
		case SUMMARY_BINARY_NO_DATA:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("no data left in message")));
			break;
		case SUMMARY_BINARY_INSUFFICIENT_DATA:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("insufficient data left in message")));
			break;
		case SUMMARY_BINARY_TRAILING_DATA:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("invalid message format")));
			break;
		case SUMMARY_BINARY_BAD_FORMAT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("unsupported binary channel_summary format %d", error->value),
					 errdetail("This build reads format %d.", CHANNEL_SUMMARY_FORMAT)));
			break;
		case SUMMARY_BINARY_BAD_FLAGS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid flags %d in binary channel_summary", error->value)));
			break;
		case SUMMARY_BINARY_BAD_COUNT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid channel count %d in binary channel_summary", error->value)));
			break;
		case SUMMARY_BINARY_BAD_CHANNEL:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid channel \"%s\" in binary channel_summary",
							omnikpi_clip_for_message(error->name, error->name_len)),
					 errdetail("%s", error->detail)));
			break;
	}
	elog(ERROR, "unknown binary channel_summary problem %d", (int) error->problem);
}

/*
 * The binary sink: names arrive in the client encoding, converted as
 * pq_getmsgtext would (invalid bytes are an error there); a converted copy
 * is freed once its channel is stored.
 */
typedef struct BinaryBuilder
{
	SummaryBuilder builder;
	char	   *converted;
} BinaryBuilder;

static void
binary_set_scale(void *arg, double scale_min, double scale_max)
{
	builder_set_scale(&((BinaryBuilder *) arg)->builder, scale_min, scale_max);
}

static const char *
binary_decode_name(void *arg, const char *raw, int raw_len, int *len)
{
	BinaryBuilder *binary = (BinaryBuilder *) arg;
	char	   *name = pg_client_to_server(raw, raw_len);

	if (name == raw)
	{
		binary->converted = NULL;
		*len = raw_len;
	}
	else
	{
		binary->converted = name;
		*len = (int) strlen(name);
	}
	return name;
}

static const char *
binary_add_channel(void *arg, const char *name, int len, const ChannelStats *stats)
{
	BinaryBuilder *binary = (BinaryBuilder *) arg;
	const char *problem = builder_add_channel(&binary->builder, name, len, stats);

	/* on a problem the name is still needed for the message */
	if (problem == NULL && binary->converted != NULL)
	{
		pfree(binary->converted);
		binary->converted = NULL;
	}
	return problem;
}

/*
 * omnikpi_summary_recv: binary input (layout in summary_binary.h).  The
 * decoder checks every length against the message and reports a short or
 * overlong one as the pq_getmsg functions do (08P01); the numbers get the
 * same checks as the text input, as 22P03.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_recv);
Datum
omnikpi_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	BinaryBuilder binary;
	SummaryBinarySink sink;
	SummaryBinaryError error;

	builder_init(&binary.builder, ERRCODE_INVALID_BINARY_REPRESENTATION);
	binary.converted = NULL;
	sink.arg = &binary;
	sink.set_scale = binary_set_scale;
	sink.decode_name = binary_decode_name;
	sink.add_channel = binary_add_channel;
	if (!omnikpi_summary_binary_parse(buf->data + buf->cursor, buf->len - buf->cursor,
									  &sink, &error))
		report_binary_error(&error);
	/* the caller checks that the whole message was read */
	buf->cursor = buf->len;
	PG_RETURN_POINTER(builder_finish(&binary.builder));
}

/*
 * omnikpi_summary_send: binary output, the layout omnikpi_summary_recv reads;
 * names are converted to the client encoding as pq_sendcountedtext does.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_send);
Datum
omnikpi_summary_send(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);
	const ChannelStats *stats = SUMMARY_STATS(summary);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	omnikpi_summary_binary_append_start(&buf, omnikpi_summary_scale(summary),
										summary->nchannels);
	for (i = 0; i < summary->nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(summary), i, &len);
		char	   *converted = pg_server_to_client(name, len);

		if (converted != name)
		{
			omnikpi_summary_binary_append_channel(&buf, converted, (int) strlen(converted),
												  &stats[i]);
			pfree(converted);
		}
		else
			omnikpi_summary_binary_append_channel(&buf, name, len, &stats[i]);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
