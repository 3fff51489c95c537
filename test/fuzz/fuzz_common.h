/*
 * fuzz_common.h: what the libFuzzer targets for the channel_summary parsers
 * share (fuzz_common.c): a sink that collects what a parser read, with the
 * checks of the server's input functions, independent invariants, and the
 * round trips through both writers.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "postgres.h"

#include "channel_summary/summary_binary.h"
#include "channel_summary/summary_text.h"

typedef struct FuzzChannel
{
	char	   *name;
	int			len;
	ChannelStats stats;
} FuzzChannel;

/* A parsed summary, in input order. */
typedef struct FuzzSummary
{
	SummaryScale scale;
	int			nchannels;
	int			capacity;
	FuzzChannel *channels;

	/*
	 * Set where the server's input function would have raised an error from
	 * inside the sink (an invalid scale, a name that is not valid text): the
	 * parser goes on here, but the value must not be used.
	 */
	bool		rejected;
} FuzzSummary;

extern void fuzz_summary_init(FuzzSummary *summary);
extern void fuzz_summary_free(FuzzSummary *summary);
extern bool fuzz_parse_text(const char *text, FuzzSummary *summary);
extern bool fuzz_parse_binary(const char *data, int len, FuzzSummary *summary);
extern void fuzz_check_accepted(const FuzzSummary *summary);

#endif							/* FUZZ_COMMON_H */
