/*
 * journey_paths_io.c: the journey_paths type's text and binary input and
 * output.
 *
 * Both inputs trust nothing: they go through one builder that checks every
 * path (not empty, no channel twice in a row, no path twice) and its counts,
 * then writes the canonical flat form.  The text form is what pg_dump, COPY
 * and Citus ship, so floats are written in their shortest exact form and
 * read back bit for bit.
 */
#include "postgres.h"

#include <math.h>

#include "libpq/pqformat.h"

#include "channel_summary/summary_text.h"
#include "common/messages.h"
#include "journey_paths/journey_paths.h"
#include "journey_paths/journey_paths_text.h"

/*
 * Collects the paths of a summary being read, in a private working state in
 * the current memory context; the path being read grows in steps.
 */
typedef struct PathsBuilder
{
	StateRef	state;
	int32	   *steps;			/* the current path */
	int32		len;			/* its steps so far */
	int32		capacity;
} PathsBuilder;

static void
builder_init(PathsBuilder *builder)
{
	omnikpi_jp_state_new_private(&builder->state);
	builder->capacity = 16;
	builder->steps = palloc(builder->capacity * sizeof(int32));
	builder->len = 0;
}

/* Room for len steps in the current path. */
static int32 *
builder_steps(PathsBuilder *builder, int64 len)
{
	if (len > builder->capacity)
	{
		int64		capacity = builder->capacity;

		while (capacity < len)
			capacity *= 2;
		if (capacity > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a journey path cannot have more than %d channels", PG_INT32_MAX)));
		builder->steps = repalloc_huge(builder->steps, capacity * sizeof(int32));
		builder->capacity = (int32) capacity;
	}
	return builder->steps;
}

static const char *
builder_add_step(void *arg, const char *name, int len)
{
	PathsBuilder *builder = (PathsBuilder *) arg;
	int32		channel = omnikpi_jp_state_channel(&builder->state, name, len);
	int32	   *steps = builder_steps(builder, (int64) builder->len + 1);

	if (builder->len > 0 && steps[builder->len - 1] == channel)
		return "A path has one channel twice in a row; paths are stored with repeats collapsed.";
	steps[builder->len++] = channel;
	return NULL;
}

static const char *
builder_end_path(void *arg, const PathStats *stats)
{
	PathsBuilder *builder = (PathsBuilder *) arg;
	const char *problem = omnikpi_jp_stats_invalid(stats);
	int32		len = builder->len;

	builder->len = 0;
	if (len == 0)
		return "A path must have at least one channel.";
	if (problem != NULL)
		return problem;
	if (!omnikpi_jp_state_add(&builder->state, builder->steps, len, stats, true))
		return "A path appears twice.";
	return NULL;
}

/* The stored summary of what was read; the working state is freed. */
static JourneyPaths *
builder_finish(PathsBuilder *builder)
{
	JourneyPaths *flat = omnikpi_state_store(builder->state.body, &omnikpi_jp_family);

	omnikpi_state_free(&builder->state);
	pfree(builder->steps);
	return flat;
}

/*
 * omnikpi_jp_in: journey_paths from its JSON-shaped text (see
 * journey_paths_text.h).  Any problem is 22P02 with the place and the reason.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_in);
Datum
omnikpi_jp_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	char	   *buffer = palloc(strlen(text) + 1);
	PathsBuilder builder;
	JourneyPathsTextSink sink;
	JourneyPathsParseError error;

	builder_init(&builder);
	sink.arg = &builder;
	sink.add_step = builder_add_step;
	sink.end_path = builder_end_path;
	if (!omnikpi_jp_text_parse(text, buffer, &sink, &error))
		omnikpi_report_syntax_error("journey_paths", text, &error);
	pfree(buffer);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/*
 * omnikpi_jp_out: the text form, paths in the canonical order (by their
 * channels' names), floats in the shortest form that reads back exactly.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_out);
Datum
omnikpi_jp_out(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	const PathStats *stats = JP_STATS(paths);
	StringInfoData out;
	int32		i;

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"version\":1,\"paths\":[");
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, "{\"path\":[");
		for (k = 0; k < len; k++)
		{
			int			name_len;
			const char *name = flat_name(&JP_FLAT_NAMES(paths), steps[k], &name_len);

			if (k > 0)
				appendStringInfoChar(&out, ',');
			omnikpi_summary_text_append_string(&out, name, name_len);
		}
		appendStringInfoString(&out, "],\"conversions\":");
		omnikpi_summary_text_append_double(&out, stats[i].conversions);
		appendStringInfoString(&out, ",\"non_conversions\":");
		omnikpi_summary_text_append_double(&out, stats[i].non_conversions);
		appendStringInfoString(&out, ",\"value\":");
		omnikpi_summary_text_append_double(&out, stats[i].value);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_CSTRING(out.data);
}

static void
report_invalid_binary(const char *message, const char *detail) pg_attribute_noreturn();

static void
report_invalid_binary(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * omnikpi_jp_recv: binary input.  Layout: format byte (1), int32 channel
 * count, the channel names (int32 length and bytes, converted from the
 * client encoding), int32 path count, then per path an int32 length, that
 * many int32 channel numbers (indexes into the names) and float8
 * conversions, non_conversions and value.  The pq_getmsg functions check
 * every length against the message; the content gets the checks of the text
 * input, as 22P03, and every channel must be used by some path.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_recv);
Datum
omnikpi_jp_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			format = pq_getmsgbyte(buf);
	PathsBuilder builder;
	int32		nchannels;
	int32		npaths;
	int32		i;
	bool	   *used;

	if (format != JOURNEY_PATHS_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary journey_paths format %d", format),
				 errdetail("This build reads format %d.", JOURNEY_PATHS_FORMAT)));
	builder_init(&builder);
	nchannels = pq_getmsgint(buf, 4);
	/* every channel takes at least its 4-byte length in the message */
	if (nchannels < 0 || nchannels > (buf->len - buf->cursor) / 4)
		report_invalid_binary(psprintf("invalid channel count %d in binary journey_paths", nchannels),
							  NULL);
	for (i = 0; i < nchannels; i++)
	{
		int32		raw_len = pq_getmsgint(buf, 4);
		int			len;
		char	   *name = pq_getmsgtext(buf, raw_len, &len);

		if (omnikpi_jp_state_channel(&builder.state, name, len) != i)
			report_invalid_binary(psprintf("channel \"%s\" appears twice in binary journey_paths",
										   omnikpi_clip_for_message(name, len)), NULL);
		pfree(name);
	}
	used = palloc0(Max(nchannels, 1) * sizeof(bool));
	npaths = pq_getmsgint(buf, 4);
	if (npaths < 0)
		report_invalid_binary(psprintf("invalid path count %d in binary journey_paths", npaths),
							  NULL);
	for (i = 0; i < npaths; i++)
	{
		int32		len = pq_getmsgint(buf, 4);
		int32		k;
		int32	   *steps;
		PathStats	stats;
		const char *problem;

		/* each step takes 4 bytes of the message: a bogus length fails before allocating */
		if (len < 1 || len > (buf->len - buf->cursor) / 4)
			report_invalid_binary(psprintf("invalid path length %d in binary journey_paths", len),
								  "A path has at least one channel and fits in the message.");
		steps = builder_steps(&builder, len);
		for (k = 0; k < len; k++)
		{
			int32		channel = pq_getmsgint(buf, 4);

			if (channel < 0 || channel >= nchannels)
				report_invalid_binary(psprintf("invalid channel number %d in binary journey_paths", channel),
									  NULL);
			if (k > 0 && steps[k - 1] == channel)
				report_invalid_binary("invalid path in binary journey_paths",
									  "A path has one channel twice in a row; paths are stored with repeats collapsed.");
			steps[k] = channel;
			used[channel] = true;
		}
		stats.conversions = pq_getmsgfloat8(buf);
		stats.non_conversions = pq_getmsgfloat8(buf);
		stats.value = pq_getmsgfloat8(buf);
		problem = omnikpi_jp_stats_invalid(&stats);
		if (problem != NULL)
			report_invalid_binary("invalid path counts in binary journey_paths", problem);
		if (!omnikpi_jp_state_add(&builder.state, steps, len, &stats, true))
			report_invalid_binary("invalid path in binary journey_paths", "A path appears twice.");
	}
	pq_getmsgend(buf);
	for (i = 0; i < nchannels; i++)
		if (!used[i])
		{
			char		buffer[KEY_INLINE_BYTES];
			int32		len;
			const char *name = key_table_key(omnikpi_state_table(builder.state.body,
																 JP_TABLE_CHANNELS), i, buffer, &len);

			report_invalid_binary(psprintf("channel \"%s\" of binary journey_paths is on no path",
										   omnikpi_clip_for_message(name, len)), NULL);
		}
	pfree(used);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/* omnikpi_jp_send: binary output, the layout omnikpi_jp_recv reads. */
PG_FUNCTION_INFO_V1(omnikpi_jp_send);
Datum
omnikpi_jp_send(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	const PathStats *stats = JP_STATS(paths);
	StringInfoData buf;
	int32		i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, JOURNEY_PATHS_FORMAT);
	pq_sendint32(&buf, paths->nchannels);
	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&JP_FLAT_NAMES(paths), i, &len);

		pq_sendcountedtext(&buf, name, len, false);
	}
	pq_sendint32(&buf, paths->npaths);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		pq_sendint32(&buf, len);
		for (k = 0; k < len; k++)
			pq_sendint32(&buf, steps[k]);
		pq_sendfloat8(&buf, stats[i].conversions);
		pq_sendfloat8(&buf, stats[i].non_conversions);
		pq_sendfloat8(&buf, stats[i].value);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

