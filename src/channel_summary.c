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

#include "omnikpi.h"
#include "summary_text.h"

/* Name of channel i of a flat summary; *len gets its length. */
const char *
omnikpi_summary_channel_name(const ChannelSummary *summary, int i, int *len)
{
	const int32 *ends = SUMMARY_NAME_ENDS(summary);
	int32		start = i == 0 ? 0 : ends[i - 1];

	*len = ends[i] - start;
	return SUMMARY_NAMES(summary) + start;
}

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
 * Collects the channels of a summary being read, in a scratch SummaryState
 * in the current memory context.  errcode is 22P02 for text input and 22P03
 * for binary input.
 */
typedef struct SummaryBuilder
{
	SummaryScale scale;
	SummaryState *state;
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
	if (builder->state == NULL)
		builder->state = omnikpi_summary_state_create(CurrentMemoryContext, builder->scale);
	if (!omnikpi_summary_state_insert_stats(builder->state, name, len, stats, true))
		return "A channel appears twice.";
	return NULL;
}

static void
builder_init(SummaryBuilder *builder, int errcode)
{
	builder->scale.known = false;
	builder->scale.min = 0.0;
	builder->scale.max = 0.0;
	builder->state = NULL;
	builder->errcode = errcode;
}

/* The flat summary of what was read; the scratch state is freed. */
static ChannelSummary *
builder_finish(SummaryBuilder *builder)
{
	ChannelSummary *flat;

	if (builder->state == NULL)
		builder->state = omnikpi_summary_state_create(CurrentMemoryContext, builder->scale);
	flat = omnikpi_summary_state_flatten(builder->state);
	DeleteExpandedObject(EOHPGetRWDatum(&builder->state->hdr));
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
	size_t		len = strlen(text);
	char	   *name_buffer = palloc(len + 1);
	SummaryBuilder builder;
	SummaryTextSink sink;
	SummaryParseError error;

	builder_init(&builder, ERRCODE_INVALID_TEXT_REPRESENTATION);
	sink.arg = &builder;
	sink.set_scale = builder_set_scale;
	sink.add_channel = builder_add_channel;
	if (!omnikpi_summary_text_parse(text, name_buffer, &sink, &error))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type channel_summary: \"%s\"",
						omnikpi_clip_for_message(text, (int) Min(len, PG_INT32_MAX))),
				 errdetail("At character %d: %s", error.offset + 1, error.message)));
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
	appendStringInfoString(&out, "{\"version\":1,");
	if (summary->flags & SUMMARY_HAS_SCALE)
	{
		appendStringInfoString(&out, "\"scale\":[");
		omnikpi_summary_text_append_double(&out, summary->scale_min);
		appendStringInfoChar(&out, ',');
		omnikpi_summary_text_append_double(&out, summary->scale_max);
		appendStringInfoString(&out, "],");
	}
	appendStringInfoString(&out, "\"channels\":{");
	for (i = 0; i < summary->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_summary_channel_name(summary, i, &len);

		if (i > 0)
			appendStringInfoChar(&out, ',');
		omnikpi_summary_text_append_string(&out, name, len);
		appendStringInfo(&out, ":{\"n\":" INT64_FORMAT ",\"sum\":", stats[i].count);
		omnikpi_summary_text_append_double(&out, stats[i].sum);
		appendStringInfoString(&out, ",\"min\":");
		omnikpi_summary_text_append_double(&out, stats[i].min);
		appendStringInfoString(&out, ",\"max\":");
		omnikpi_summary_text_append_double(&out, stats[i].max);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "}}");
	PG_RETURN_CSTRING(out.data);
}

/*
 * omnikpi_summary_recv: binary input.  Layout: format byte (1), flags byte,
 * the scale as two float8 when flags has SUMMARY_HAS_SCALE, int32 channel
 * count, then per channel its name (int32 length and bytes, converted from
 * the client encoding), int64 count and float8 sum, min, max.  The pq_getmsg
 * functions check every length against the message; the numbers get the
 * same checks as the text input, as 22P03.
 */
PG_FUNCTION_INFO_V1(omnikpi_summary_recv);
Datum
omnikpi_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	SummaryBuilder builder;
	int			format = pq_getmsgbyte(buf);
	int			flags;
	int32		nchannels;
	int32		i;

	if (format != CHANNEL_SUMMARY_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary channel_summary format %d", format),
				 errdetail("This build reads format %d.", CHANNEL_SUMMARY_FORMAT)));
	builder_init(&builder, ERRCODE_INVALID_BINARY_REPRESENTATION);
	flags = pq_getmsgbyte(buf);
	if ((flags & ~SUMMARY_HAS_SCALE) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid flags %d in binary channel_summary", flags)));
	if (flags & SUMMARY_HAS_SCALE)
	{
		double		scale_min = pq_getmsgfloat8(buf);
		double		scale_max = pq_getmsgfloat8(buf);

		builder_set_scale(&builder, scale_min, scale_max);
	}
	nchannels = pq_getmsgint(buf, 4);
	if (nchannels < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid channel count %d in binary channel_summary", nchannels)));
	for (i = 0; i < nchannels; i++)
	{
		int32		raw_len = pq_getmsgint(buf, 4);
		int			len;
		char	   *name = pq_getmsgtext(buf, raw_len, &len);
		ChannelStats stats;
		const char *problem;

		stats.count = pq_getmsgint64(buf);
		stats.sum = pq_getmsgfloat8(buf);
		stats.min = pq_getmsgfloat8(buf);
		stats.max = pq_getmsgfloat8(buf);
		problem = builder_add_channel(&builder, name, len, &stats);
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid channel \"%s\" in binary channel_summary",
							omnikpi_clip_for_message(name, len)),
					 errdetail("%s", problem)));
		pfree(name);
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/* omnikpi_summary_send: binary output, the layout omnikpi_summary_recv reads. */
PG_FUNCTION_INFO_V1(omnikpi_summary_send);
Datum
omnikpi_summary_send(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);
	const ChannelStats *stats = SUMMARY_STATS(summary);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CHANNEL_SUMMARY_FORMAT);
	pq_sendbyte(&buf, summary->flags);
	if (summary->flags & SUMMARY_HAS_SCALE)
	{
		pq_sendfloat8(&buf, summary->scale_min);
		pq_sendfloat8(&buf, summary->scale_max);
	}
	pq_sendint32(&buf, summary->nchannels);
	for (i = 0; i < summary->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_summary_channel_name(summary, i, &len);

		pq_sendcountedtext(&buf, name, len, false);
		pq_sendint64(&buf, stats[i].count);
		pq_sendfloat8(&buf, stats[i].sum);
		pq_sendfloat8(&buf, stats[i].min);
		pq_sendfloat8(&buf, stats[i].max);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
