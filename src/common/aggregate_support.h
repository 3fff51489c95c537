/*
 * aggregate_support.h: what the support functions of every omnikpi aggregate
 * (channel_summary, markov_model, journey_paths) share.  Inline, as both run
 * on every row.
 */
#ifndef OMNIKPI_AGGREGATE_SUPPORT_H
#define OMNIKPI_AGGREGATE_SUPPORT_H

#include "fmgr.h"

/* The aggregate's memory context, or an error when called as a plain function. */
static inline MemoryContext
omnikpi_aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "omnikpi aggregate support function called in non-aggregate context");
	return aggcxt;
}

/* The result for a skipped row: the state as it was (NULL before any row). */
static inline Datum
omnikpi_state_unchanged(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

#endif							/* OMNIKPI_AGGREGATE_SUPPORT_H */
