/*
 * markov_aggregates.c: transition, combine and final functions of
 * markov_model and rollup(markov_model).
 *
 * The state is the markov_model type itself (a working state of
 * common/aggregate_state.h while it works), so parallel workers and Citus
 * ship partial models as plain values and the same values can be stored per
 * day and rolled up later.  The transition functions are not STRICT: rows
 * are read by the rules the journey aggregates share (common/journey_input.h),
 * and the first usable row creates the state; later rows update it in place.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "common/journey_input.h"
#include "common/messages.h"
#include "markov/markov.h"

/* The order argument: not NULL (22004) and 1 to 4 (22023). */
static int
order_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		order;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the order of a Markov model must not be NULL")));
	order = PG_GETARG_INT32(argno);
	if (order < 1 || order > MARKOV_MAX_ORDER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Markov model order %d is out of range", order),
				 errhint("Use an order from 1 to %d.", MARKOV_MAX_ORDER)));
	return order;
}

/*
 * The repeats argument, when there is one: 'collapse' (the default) or
 * 'keep', in any case; NULL is 22004, another word 22023.
 */
static bool
keep_repeats_arg(FunctionCallInfo fcinfo, int argno)
{
	static const char *const conventions[] = {"collapse", "keep"};

	if (PG_NARGS() <= argno)
		return false;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the repeats convention of a Markov model must not be NULL")));
	return omnikpi_word_arg(text_to_cstring(PG_GETARG_TEXT_PP(argno)), conventions,
							lengthof(conventions), "repeats convention",
							"Use 'collapse' (a channel touched twice in a row counts once, the default) or 'keep' (ChannelAttribution's states from the raw path).") == 1;
}

/* Add one journey's path, creating the state on the first usable row. */
static Datum
add_journey(FunctionCallInfo fcinfo, int order, bool keep_repeats, const JourneyRow *row)
{
	StateRef	ref;

	if (omnikpi_state_of_arg(&ref, fcinfo, 0, &omnikpi_markov_family))
		omnikpi_state_prefetch_row(fcinfo, ref.body);
	else
	{
		/* a path without channels before any other row: still no state */
		if (!omnikpi_path_has_channel(row->path))
			return omnikpi_state_unchanged(fcinfo);
		omnikpi_state_writable(&ref, fcinfo, &omnikpi_markov_family, true);
		if (PG_ARGISNULL(0))
		{
			markov_header(ref.body)->order = order;
			markov_header(ref.body)->keep_repeats = keep_repeats;
		}
	}
	omnikpi_markov_check_parameters(ref.body, order, keep_repeats);
	omnikpi_state_add_journey(&ref, row, !keep_repeats);
	return omnikpi_state_value(&ref);
}

/*
 * omnikpi_markov_trans: markov_model(path, converted [, value [,
 * markov_order [, repeats]]]), one row per journey.  The order and the
 * convention must be the same on every row.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_trans);
Datum
omnikpi_markov_trans(PG_FUNCTION_ARGS)
{
	int			order = PG_NARGS() >= 5 ? order_arg(fcinfo, 4) : 1;
	bool		keep_repeats = keep_repeats_arg(fcinfo, 5);
	JourneyRow	row;

	omnikpi_state_prefetch_arg(fcinfo, 0);
	if (!omnikpi_journey_row(fcinfo, PG_NARGS() >= 4 ? JOURNEY_ONE_VALUED : JOURNEY_ONE, &row))
		return omnikpi_state_unchanged(fcinfo);
	return add_journey(fcinfo, order, keep_repeats, &row);
}

/*
 * omnikpi_markov_counted_trans: markov_model(path, conversions,
 * non_conversions, value, markov_order [, repeats]) for paths already
 * counted (one row per distinct path, as the ChannelAttribution package
 * takes them).
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_counted_trans);
Datum
omnikpi_markov_counted_trans(PG_FUNCTION_ARGS)
{
	int			order = order_arg(fcinfo, 5);
	bool		keep_repeats = keep_repeats_arg(fcinfo, 6);
	JourneyRow	row;

	omnikpi_state_prefetch_arg(fcinfo, 0);
	if (!omnikpi_journey_row(fcinfo, JOURNEY_COUNTED, &row))
		return omnikpi_state_unchanged(fcinfo);
	return add_journey(fcinfo, order, keep_repeats, &row);
}

/*
 * omnikpi_markov_combine: merge the second model into the first; the
 * combine function of markov_model and the transition function of
 * rollup(markov_model).  NULLs are skipped.  Counts and values add, so the
 * merge is exact for whole counts (up to 2^53) and commutative; models of
 * different orders or conventions are rejected, and a sum past the doubles
 * is 22003.
 *
 * omnikpi_markov_final: the final function of the markov_model aggregates
 * and rollup(): the stored, canonical form.  Read-only; no rows gives NULL.
 */
OMNIKPI_STATE_SUPPORT_FUNCTIONS(omnikpi_markov_combine, omnikpi_markov_final,
								omnikpi_markov_family)
