/*
 * summary_binary.c: decoder and encoder of the channel_summary binary format
 * (see summary_binary.h), on the reader and writer every binary form shares
 * (common/binary_io.h), which reports short and overlong input exactly as a
 * pq_getmsg-based reader would; the numbers are checked by the sink, which
 * is shared with the text input.
 */
#include "postgres.h"

#include "channel_summary/summary_binary.h"

static bool
fail(SummaryBinaryError *error, SummaryBinaryProblem problem, int value)
{
	error->problem = problem;
	error->value = value;
	error->name = NULL;
	error->name_len = 0;
	error->detail = NULL;
	return false;
}

/* What stopped the reader, as the error. */
static bool
reader_fail(const BinaryReader *reader, SummaryBinaryError *error)
{
	fail(error, SUMMARY_BINARY_READER, 0);
	error->reader = reader->problem;
	return false;
}

/*
 * Decode data[0 .. len - 1] into sink.  Returns false with *error filled in
 * when the bytes are not a channel_summary; the sink's own checks may also
 * raise errors, which then come at the same point as in a pq_getmsg reader.
 */
bool
omnikpi_summary_binary_parse(const char *data, int len, const SummaryBinarySink *sink,
							 SummaryBinaryError *error)
{
	BinaryReader reader;
	int			format;
	int			flags;
	int32		nchannels;
	int32		i;

	binary_reader_init(&reader, data, len);
	if (!binary_read_byte(&reader, &format))
		return reader_fail(&reader, error);
	if (format != CHANNEL_SUMMARY_FORMAT)
		return fail(error, SUMMARY_BINARY_BAD_FORMAT, format);
	if (!binary_read_byte(&reader, &flags))
		return reader_fail(&reader, error);
	if ((flags & ~SUMMARY_HAS_SCALE) != 0)
		return fail(error, SUMMARY_BINARY_BAD_FLAGS, flags);
	if (flags & SUMMARY_HAS_SCALE)
	{
		double		scale_min;
		double		scale_max;

		if (!binary_read_float8(&reader, &scale_min) || !binary_read_float8(&reader, &scale_max))
			return reader_fail(&reader, error);
		sink->set_scale(sink->arg, scale_min, scale_max);
	}
	if (!binary_read_int32(&reader, &nchannels))
		return reader_fail(&reader, error);
	if (nchannels < 0)
		return fail(error, SUMMARY_BINARY_BAD_COUNT, nchannels);
	for (i = 0; i < nchannels; i++)
	{
		const char *raw;
		int32		raw_len;
		const char *name;
		int			name_len;
		ChannelStats stats;
		const char *problem;

		if (!binary_read_counted(&reader, &raw, &raw_len))
			return reader_fail(&reader, error);
		name = sink->decode_name(sink->arg, raw, raw_len, &name_len);
		if (!binary_read_int64(&reader, &stats.count) ||
			!binary_read_float8(&reader, &stats.sum) ||
			!binary_read_float8(&reader, &stats.min) ||
			!binary_read_float8(&reader, &stats.max))
			return reader_fail(&reader, error);
		problem = sink->add_channel(sink->arg, name, name_len, &stats);
		if (problem != NULL)
		{
			fail(error, SUMMARY_BINARY_BAD_CHANNEL, 0);
			error->name = name;
			error->name_len = name_len;
			error->detail = problem;
			return false;
		}
	}
	if (!binary_read_end(&reader))
		return reader_fail(&reader, error);
	return true;
}

/* Everything before the first channel. */
void
omnikpi_summary_binary_append_start(StringInfo out, SummaryScale scale, int32 nchannels)
{
	binary_append_byte(out, CHANNEL_SUMMARY_FORMAT);
	binary_append_byte(out, scale.known ? SUMMARY_HAS_SCALE : 0);
	if (scale.known)
	{
		binary_append_float8(out, scale.min);
		binary_append_float8(out, scale.max);
	}
	binary_append_int32(out, nchannels);
}

/* One channel; name is already in the encoding the reader expects. */
void
omnikpi_summary_binary_append_channel(StringInfo out, const char *name, int len,
									  const ChannelStats *stats)
{
	binary_append_int32(out, len);
	appendBinaryStringInfo(out, name, len);
	binary_append_int64(out, stats->count);
	binary_append_float8(out, stats->sum);
	binary_append_float8(out, stats->min);
	binary_append_float8(out, stats->max);
}
