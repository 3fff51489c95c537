/*
 * channel_count.c: channel_count() of channel_summary, markov_model and
 * journey_paths, one function for one thing: every stored form starts with
 * a StoredHeader, and every working state keeps its channels in its first
 * table or names them in its journal.
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
	const void *value = PG_DETOAST_DATUM(PG_GETARG_DATUM(0));

	if (((const StoredHeader *) value)->format == STATE_WORKING_FORMAT)
		PG_RETURN_INT32(omnikpi_state_channel_count(value));
	PG_RETURN_INT32(((const StoredHeader *) value)->nchannels);
}
