/*
 * markov_aggregates.c: transition and combine functions of markov_model and
 * rollup(markov_model).
 *
 * The state is the markov_model type itself (a working state of
 * common/aggregate_state.h while it works), so parallel workers and Citus
 * ship partial models as plain values and the same values can be stored per
 * day and rolled up later.  The transition functions are not STRICT: a row
 * with a NULL path or outcome is skipped, and the first usable row creates
 * the state; later rows update it in place.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "common/journey_input.h"
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

/* A count or value argument: NULL counts as 0; else finite and >= 0 (22003). */
static double
amount_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	double		amount;

	if (PG_ARGISNULL(argno))
		return 0.0;
	amount = PG_GETARG_FLOAT8(argno);
	if (!(amount >= 0) || !isfinite(amount))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s is out of range for a Markov model", what, float8out_internal(amount)),
				 errdetail("Counts and conversion values must be finite and not negative.")));
	return amount;
}

/* Add one journey's path, creating the state on the first usable row. */
static Datum
add_journey(FunctionCallInfo fcinfo, int order, double conversions, double non_conversions,
			double value)
{
	ArrayType  *path = omnikpi_path_arg(fcinfo, 1);
	StateRef	ref;

	if (!omnikpi_path_has_channel(path))
		return omnikpi_state_unchanged(fcinfo);
	if (!omnikpi_state_of_arg(&ref, fcinfo, 0, &omnikpi_markov_family))
	{
		omnikpi_state_writable(&ref, fcinfo, &omnikpi_markov_family);
		if (PG_ARGISNULL(0))
			markov_header(ref.body)->order = order;
	}
	if (markov_header(ref.body)->order != order)
		omnikpi_report_order_mismatch(markov_header(ref.body)->order, order);
	omnikpi_markov_state_add_path(&ref, path, conversions, non_conversions, value);
	return omnikpi_state_value(&ref);
}

/*
 * omnikpi_markov_trans: markov_model(path, converted [, value [, order]]),
 * one row per journey.  The row is skipped when path or converted is NULL;
 * a NULL value counts as 0, and the value of a journey that did not convert
 * is not used.  The order must be the same on every row.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_trans);
Datum
omnikpi_markov_trans(PG_FUNCTION_ARGS)
{
	int			order = PG_NARGS() >= 5 ? order_arg(fcinfo, 4) : 1;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (!PG_GETARG_BOOL(2))
		return add_journey(fcinfo, order, 0.0, 1.0, 0.0);
	return add_journey(fcinfo, order, 1.0, 0.0,
					   PG_NARGS() >= 4 ? amount_arg(fcinfo, 3, "conversion value") : 0.0);
}

/*
 * omnikpi_markov_counted_trans: markov_model(path, conversions,
 * non_conversions, value, order) for paths already counted (one row per
 * distinct path, as the ChannelAttribution package takes them).  NULL
 * counts and values count as 0; a row with no journeys is skipped.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_counted_trans);
Datum
omnikpi_markov_counted_trans(PG_FUNCTION_ARGS)
{
	int			order = order_arg(fcinfo, 5);
	double		conversions = amount_arg(fcinfo, 2, "conversion count");
	double		non_conversions = amount_arg(fcinfo, 3, "non-conversion count");
	double		value = amount_arg(fcinfo, 4, "conversion value");

	if (value > 0 && conversions == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conversion value %s given for a path without conversions",
						float8out_internal(value))));
	if (PG_ARGISNULL(1) || conversions + non_conversions == 0)
		return omnikpi_state_unchanged(fcinfo);
	return add_journey(fcinfo, order, conversions, non_conversions, value);
}

/*
 * omnikpi_markov_combine: merge the second model into the first; the
 * combine function of markov_model and the transition function of
 * rollup(markov_model).  NULLs are skipped.  Counts and values add, so the
 * merge is exact for whole counts (up to 2^53) and commutative; models of
 * different orders are rejected.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_combine);
Datum
omnikpi_markov_combine(PG_FUNCTION_ARGS)
{
	return omnikpi_state_combine(fcinfo, &omnikpi_markov_family);
}

/*
 * omnikpi_markov_final: the final function of the markov_model aggregates
 * and rollup(): the stored, canonical form.  Read-only; no rows gives NULL.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_final);
Datum
omnikpi_markov_final(PG_FUNCTION_ARGS)
{
	return omnikpi_state_final(fcinfo, &omnikpi_markov_family);
}
