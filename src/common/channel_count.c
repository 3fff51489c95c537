/*
 * channel_count.c: channel_count() of channel_summary, markov_model and
 * journey_paths, one function for one thing: every stored form keeps its
 * number of channels at STORED_NCHANNELS_OFFSET, and every working state
 * keeps its channels in its first table.
 */
#include "postgres.h"

#include "common/aggregate_state.h"

/*
 * omnikpi_channel_count: the number of distinct channels in a summary,
 * model or summary of paths.
 */
PG_FUNCTION_INFO_V1(omnikpi_channel_count);
Datum
omnikpi_channel_count(PG_FUNCTION_ARGS)
{
	const StateBody *value = (const StateBody *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	int32		nchannels;

	if (value->format == STATE_WORKING_FORMAT)
		PG_RETURN_INT32(omnikpi_state_table(value, STATE_TABLE_CHANNELS)->nentries);
	memcpy(&nchannels, (const char *) value + STORED_NCHANNELS_OFFSET, sizeof(nchannels));
	PG_RETURN_INT32(nchannels);
}
