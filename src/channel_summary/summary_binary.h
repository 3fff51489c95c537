/*
 * summary_binary.h: the channel_summary binary format, read and written
 * without server calls so that the decoder can be fuzzed outside PostgreSQL
 * (test/fuzz/).  channel_summary's recv and send functions are thin wrappers
 * around these.
 *
 * Layout, all integers and floats in network byte order (as pq_sendint32,
 * pq_sendint64 and pq_sendfloat8 write them):
 *
 *   uint8   format (CHANNEL_SUMMARY_FORMAT)
 *   uint8   flags (SUMMARY_HAS_SCALE or 0)
 *   float8  scale_min, float8 scale_max     only with SUMMARY_HAS_SCALE
 *   int32   number of channels
 *   per channel: int32 name length, the name's bytes (client encoding),
 *                int64 count, float8 sum, float8 min, float8 max
 */
#ifndef SUMMARY_BINARY_H
#define SUMMARY_BINARY_H

#include "lib/stringinfo.h"

#include "channel_summary/channel_summary.h"
#include "common/binary_io.h"

/*
 * Where decoded content goes.  set_scale and add_channel are those of the
 * text parser (summary_text.h); decode_name turns the raw name bytes into
 * the name add_channel gets (the server converts from the client encoding
 * here and may raise an error), setting *len to its length.
 */
typedef struct SummaryBinarySink
{
	void	   *arg;
	void		(*set_scale) (void *arg, double scale_min, double scale_max);
	const char *(*decode_name) (void *arg, const char *raw, int raw_len, int *len);
	const char *(*add_channel) (void *arg, const char *name, int len,
								const ChannelStats *stats);
} SummaryBinarySink;

/* What stopped the decoder; the server turns each into its ereport. */
typedef enum SummaryBinaryProblem
{
	SUMMARY_BINARY_READER,		/* reader: too few or too many bytes */
	SUMMARY_BINARY_BAD_FORMAT,	/* value: the format byte */
	SUMMARY_BINARY_BAD_FLAGS,	/* value: the flags byte */
	SUMMARY_BINARY_BAD_COUNT,	/* value: the channel count */
	SUMMARY_BINARY_BAD_CHANNEL	/* name, name_len, detail: add_channel's problem */
} SummaryBinaryProblem;

typedef struct SummaryBinaryError
{
	SummaryBinaryProblem problem;
	BinaryProblem reader;
	int			value;
	const char *name;
	int			name_len;
	const char *detail;
} SummaryBinaryError;

extern bool omnikpi_summary_binary_parse(const char *data, int len,
										 const SummaryBinarySink *sink,
										 SummaryBinaryError *error);
extern void omnikpi_summary_binary_append_start(StringInfo out, SummaryScale scale,
												int32 nchannels);
extern void omnikpi_summary_binary_append_channel(StringInfo out, const char *name, int len,
												  const ChannelStats *stats);

#endif							/* SUMMARY_BINARY_H */
