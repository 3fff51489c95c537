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

#include "common/binary_io.h"
#include "common/messages.h"
#include "common/type_io.h"
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

/* errcode: every problem names its own (22P02 text, 22P03 binary) */
static void
builder_start(void *arg, int errcode)
{
	PathsBuilder *builder = (PathsBuilder *) arg;

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
	int32		channel = omnikpi_state_channel(&builder->state, name, len);
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
static void *
builder_finish(void *arg)
{
	PathsBuilder *builder = (PathsBuilder *) arg;

	pfree(builder->steps);
	return omnikpi_state_finish(&builder->state, &omnikpi_jp_family);
}

/* The text form (see journey_paths_text.h), read into the builder. */
static bool
parse_text(const char *text, char *name_buffer, void *builder, OmnikpiJsonError *error)
{
	JourneyPathsTextSink sink = {builder, builder_add_step, builder_end_path};

	return omnikpi_jp_text_parse(text, name_buffer, &sink, error);
}

/*
 * The text form: paths in the canonical order (by their channels' names),
 * floats in the shortest form that reads back exactly.
 */
static void
write_text(StringInfo out, const void *stored)
{
	const JourneyPaths *paths = stored;
	int32		i;

	omnikpi_jp_text_append_start(out);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		omnikpi_jp_text_append_path_start(out, i);
		for (k = 0; k < len; k++)
		{
			int			name_len;
			const char *name = flat_name(&JP_FLAT_NAMES(paths), steps[k], &name_len);

			omnikpi_jp_text_append_step(out, k, name, name_len);
		}
		omnikpi_jp_text_append_path_end(out, &JP_STATS(paths)[i]);
	}
	omnikpi_jp_text_append_end(out);
}

/* The channel names of the binary form: distinct, and each on some path. */
static void
check_binary_channels(PathsBuilder *builder, BinaryReader *reader, int32 nchannels)
{
	int32		i;

	for (i = 0; i < nchannels; i++)
	{
		int			len;
		char	   *name = omnikpi_binary_get_name(reader, &len);

		if (omnikpi_state_channel(&builder->state, name, len) != i)
			omnikpi_report_invalid_binary(psprintf("channel \"%s\" appears twice in binary journey_paths",
												   omnikpi_clip_for_message(name, len)), NULL);
		pfree(name);
	}
}

/* A channel that no path of the binary form uses. */
static void
report_unused_channel(PathsBuilder *builder, int32 channel)
{
	char		buffer[KEY_INLINE_BYTES];
	int32		len;
	const char *name = key_table_key(omnikpi_state_table(builder->state.body, JP_TABLE_CHANNELS),
									 channel, buffer, &len);

	omnikpi_report_invalid_binary(psprintf("channel \"%s\" of binary journey_paths is on no path",
										   omnikpi_clip_for_message(name, len)), NULL);
}

/*
 * The binary form.  Layout: format byte (1), int32 channel count, the
 * channel names (int32 length and bytes, converted from the client
 * encoding), int32 path count, then per path an int32 length, that many
 * int32 channel numbers (indexes into the names) and float8 conversions,
 * non_conversions and value.  The content gets the checks of the text
 * input, and every channel must be used by some path.
 */
static void
read_binary(BinaryReader *reader, void *arg)
{
	PathsBuilder *builder = (PathsBuilder *) arg;
	int32		nchannels;
	int32		npaths;
	int32		i;
	bool	   *used;

	omnikpi_binary_check_format("journey_paths", omnikpi_binary_get_byte(reader),
								JOURNEY_PATHS_FORMAT);
	nchannels = omnikpi_binary_get_int32(reader);
	/* every channel takes at least its 4-byte length in the message */
	if (nchannels < 0 || nchannels > binary_bytes_left(reader) / 4)
		omnikpi_report_invalid_binary(psprintf("invalid channel count %d in binary journey_paths",
											   nchannels), NULL);
	check_binary_channels(builder, reader, nchannels);
	used = palloc0(Max(nchannels, 1) * sizeof(bool));
	npaths = omnikpi_binary_get_int32(reader);
	if (npaths < 0)
		omnikpi_report_invalid_binary(psprintf("invalid path count %d in binary journey_paths",
											   npaths), NULL);
	for (i = 0; i < npaths; i++)
	{
		int32		len = omnikpi_binary_get_int32(reader);
		int32		k;
		int32	   *steps;
		PathStats	stats;
		const char *problem;

		/* each step takes 4 bytes of the message: a bogus length fails before allocating */
		if (len < 1 || len > binary_bytes_left(reader) / 4)
			omnikpi_report_invalid_binary(psprintf("invalid path length %d in binary journey_paths", len),
										  "A path has at least one channel and fits in the message.");
		steps = builder_steps(builder, len);
		for (k = 0; k < len; k++)
		{
			int32		channel = omnikpi_binary_get_int32(reader);

			if (channel < 0 || channel >= nchannels)
				omnikpi_report_invalid_binary(psprintf("invalid channel number %d in binary journey_paths",
													   channel), NULL);
			if (k > 0 && steps[k - 1] == channel)
				omnikpi_report_invalid_binary("invalid path in binary journey_paths",
											  "A path has one channel twice in a row; paths are stored with repeats collapsed.");
			steps[k] = channel;
			used[channel] = true;
		}
		stats.conversions = omnikpi_binary_get_float8(reader);
		stats.non_conversions = omnikpi_binary_get_float8(reader);
		stats.value = omnikpi_binary_get_float8(reader);
		problem = omnikpi_jp_stats_invalid(&stats);
		if (problem != NULL)
			omnikpi_report_invalid_binary("invalid path counts in binary journey_paths", problem);
		if (!omnikpi_jp_state_add(&builder->state, steps, len, &stats, true))
			omnikpi_report_invalid_binary("invalid path in binary journey_paths",
										  "A path appears twice.");
	}
	for (i = 0; i < nchannels; i++)
		if (!used[i])
			report_unused_channel(builder, i);
	pfree(used);
}

/* The binary form read_binary reads. */
static void
write_binary(StringInfo out, const void *stored)
{
	const JourneyPaths *paths = stored;
	int32		i;

	binary_append_byte(out, JOURNEY_PATHS_FORMAT);
	binary_append_int32(out, paths->h.nchannels);
	for (i = 0; i < paths->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&JP_FLAT_NAMES(paths), i, &len);

		omnikpi_binary_append_name(out, name, len);
	}
	binary_append_int32(out, paths->npaths);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		binary_append_int32(out, len);
		for (k = 0; k < len; k++)
			binary_append_int32(out, steps[k]);
		binary_append_float8(out, JP_STATS(paths)[i].conversions);
		binary_append_float8(out, JP_STATS(paths)[i].non_conversions);
		binary_append_float8(out, JP_STATS(paths)[i].value);
	}
}

/*
 * omnikpi_jp_in, _out, _recv, _send: the type's input and output functions
 * (common/type_io.h).  Both inputs trust nothing: text problems are 22P02
 * with the place and the reason, binary ones 22P03, or 08P01 for a message
 * cut short or too long.
 */
OMNIKPI_TYPE_IO_FUNCTIONS(omnikpi_jp_in, omnikpi_jp_out, omnikpi_jp_recv, omnikpi_jp_send,
						  omnikpi_jp_family, PathsBuilder)
