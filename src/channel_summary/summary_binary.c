/*
 * summary_binary.c: decoder and encoder of the channel_summary binary format
 * (see summary_binary.h).  The decoder checks every length against the bytes
 * it has, in the order the pq_getmsg functions would, so that recv reports
 * exactly what a pq_getmsg-based reader reported; the numbers are checked by
 * the sink, which is shared with the text input.
 */
#include "postgres.h"

#include "port/pg_bswap.h"

#include "channel_summary/summary_binary.h"

typedef struct Reader
{
	const unsigned char *data;
	int			len;
	int			cursor;
	SummaryBinaryError *error;
} Reader;

static bool
fail(Reader *reader, SummaryBinaryProblem problem, int value)
{
	reader->error->problem = problem;
	reader->error->value = value;
	reader->error->name = NULL;
	reader->error->name_len = 0;
	reader->error->detail = NULL;
	return false;
}

/* One byte, as pq_getmsgbyte. */
static bool
read_byte(Reader *reader, int *result)
{
	if (reader->cursor >= reader->len)
		return fail(reader, SUMMARY_BINARY_NO_DATA, 0);
	*result = reader->data[reader->cursor++];
	return true;
}

/* n bytes, as pq_copymsgbytes: all there, or nothing is read. */
static bool
read_bytes(Reader *reader, void *result, int n)
{
	if (n > reader->len - reader->cursor)
		return fail(reader, SUMMARY_BINARY_INSUFFICIENT_DATA, 0);
	memcpy(result, reader->data + reader->cursor, n);
	reader->cursor += n;
	return true;
}

static bool
read_int32(Reader *reader, int32 *result)
{
	uint32		n;

	if (!read_bytes(reader, &n, sizeof(n)))
		return false;
	*result = (int32) pg_ntoh32(n);
	return true;
}

static bool
read_int64(Reader *reader, int64 *result)
{
	uint64		n;

	if (!read_bytes(reader, &n, sizeof(n)))
		return false;
	*result = (int64) pg_ntoh64(n);
	return true;
}

/* A float8 is sent as the int64 with the same bits (pq_sendfloat8). */
static bool
read_float8(Reader *reader, double *result)
{
	int64		bits;

	if (!read_int64(reader, &bits))
		return false;
	memcpy(result, &bits, sizeof(*result));
	return true;
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
	Reader		reader;
	int			format;
	int			flags;
	int32		nchannels;
	int32		i;

	reader.data = (const unsigned char *) data;
	reader.len = len;
	reader.cursor = 0;
	reader.error = error;

	if (!read_byte(&reader, &format))
		return false;
	if (format != CHANNEL_SUMMARY_FORMAT)
		return fail(&reader, SUMMARY_BINARY_BAD_FORMAT, format);
	if (!read_byte(&reader, &flags))
		return false;
	if ((flags & ~SUMMARY_HAS_SCALE) != 0)
		return fail(&reader, SUMMARY_BINARY_BAD_FLAGS, flags);
	if (flags & SUMMARY_HAS_SCALE)
	{
		double		scale_min;
		double		scale_max;

		if (!read_float8(&reader, &scale_min) || !read_float8(&reader, &scale_max))
			return false;
		sink->set_scale(sink->arg, scale_min, scale_max);
	}
	if (!read_int32(&reader, &nchannels))
		return false;
	if (nchannels < 0)
		return fail(&reader, SUMMARY_BINARY_BAD_COUNT, nchannels);
	for (i = 0; i < nchannels; i++)
	{
		int32		raw_len;
		const char *name;
		int			name_len;
		ChannelStats stats;
		const char *problem;

		if (!read_int32(&reader, &raw_len))
			return false;
		/* as pq_getmsgtext: a negative length is data that is not there */
		if (raw_len < 0 || raw_len > reader.len - reader.cursor)
			return fail(&reader, SUMMARY_BINARY_INSUFFICIENT_DATA, 0);
		name = sink->decode_name(sink->arg, data + reader.cursor, raw_len, &name_len);
		reader.cursor += raw_len;
		if (!read_int64(&reader, &stats.count) ||
			!read_float8(&reader, &stats.sum) ||
			!read_float8(&reader, &stats.min) ||
			!read_float8(&reader, &stats.max))
			return false;
		problem = sink->add_channel(sink->arg, name, name_len, &stats);
		if (problem != NULL)
		{
			fail(&reader, SUMMARY_BINARY_BAD_CHANNEL, 0);
			error->name = name;
			error->name_len = name_len;
			error->detail = problem;
			return false;
		}
	}
	if (reader.cursor != reader.len)
		return fail(&reader, SUMMARY_BINARY_TRAILING_DATA, 0);
	return true;
}

static void
append_int32(StringInfo out, int32 value)
{
	uint32		n = pg_hton32((uint32) value);

	appendBinaryStringInfo(out, (const char *) &n, sizeof(n));
}

static void
append_int64(StringInfo out, int64 value)
{
	uint64		n = pg_hton64((uint64) value);

	appendBinaryStringInfo(out, (const char *) &n, sizeof(n));
}

static void
append_float8(StringInfo out, double value)
{
	int64		bits;

	memcpy(&bits, &value, sizeof(bits));
	append_int64(out, bits);
}

/* Everything before the first channel. */
void
omnikpi_summary_binary_append_start(StringInfo out, SummaryScale scale, int32 nchannels)
{
	appendStringInfoCharMacro(out, (char) CHANNEL_SUMMARY_FORMAT);
	appendStringInfoCharMacro(out, (char) (scale.known ? SUMMARY_HAS_SCALE : 0));
	if (scale.known)
	{
		append_float8(out, scale.min);
		append_float8(out, scale.max);
	}
	append_int32(out, nchannels);
}

/* One channel; name is already in the encoding the reader expects. */
void
omnikpi_summary_binary_append_channel(StringInfo out, const char *name, int len,
									  const ChannelStats *stats)
{
	append_int32(out, len);
	appendBinaryStringInfo(out, name, len);
	append_int64(out, stats->count);
	append_float8(out, stats->sum);
	append_float8(out, stats->min);
	append_float8(out, stats->max);
}
