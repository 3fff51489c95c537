/*
 * journey_paths_aggregates.c: the journey_paths aggregates -- one row per
 * journey, or per counted path, and rollup.
 *
 * The state is the journey_paths type itself (a working state of
 * common/aggregate_state.h while it works), so parallel workers and Citus
 * ship partial summaries as plain values.  The transition functions are not
 * STRICT: rows are read by the rules the journey aggregates share
 * (common/journey_input.h), and the first journey with a channel creates
 * the state; later rows update it in place.
 */
#include "postgres.h"

#include "common/journey_input.h"
#include "journey_paths/journey_paths.h"

/*
 * Add one row's path with its counts to the state, collapsing consecutive
 * repeats and skipping NULL channels.  A path without channels is skipped.
 */
static Datum
add_path(FunctionCallInfo fcinfo, JourneyShape shape)
{
	JourneyRow	row;
	StateRef	ref;

	if (!omnikpi_journey_row(fcinfo, shape, &row))
		return omnikpi_state_unchanged(fcinfo);
	/*
	 * after the row's arguments: asked for before them, 1k groups (where
	 * nothing is asked for) took 3 to 5% more time
	 */
	omnikpi_state_prefetch_arg(fcinfo, 0);
	if (omnikpi_state_of_arg(&ref, fcinfo, 0, &omnikpi_jp_family))
		omnikpi_state_prefetch_row(fcinfo, ref.body);
	else
	{
		/* a journey without channels leaves a group without journeys NULL */
		if (!omnikpi_path_has_channel(row.path))
			return omnikpi_state_unchanged(fcinfo);
		omnikpi_state_writable(&ref, fcinfo, &omnikpi_jp_family, true);
	}
	omnikpi_state_add_journey(&ref, &row, true);
	return omnikpi_state_value(&ref);
}

/* omnikpi_jp_trans: journey_paths(path, converted), one row per journey. */
PG_FUNCTION_INFO_V1(omnikpi_jp_trans);
Datum
omnikpi_jp_trans(PG_FUNCTION_ARGS)
{
	return add_path(fcinfo, JOURNEY_ONE);
}

/*
 * omnikpi_jp_value_trans: journey_paths(path, converted, value); the value
 * of a converted journey adds to its path's value.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_value_trans);
Datum
omnikpi_jp_value_trans(PG_FUNCTION_ARGS)
{
	return add_path(fcinfo, JOURNEY_ONE_VALUED);
}

/*
 * omnikpi_jp_counted_trans: journey_paths(path, conversions, non_conversions,
 * value) for paths already counted (fractribution's input shape).
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_counted_trans);
Datum
omnikpi_jp_counted_trans(PG_FUNCTION_ARGS)
{
	return add_path(fcinfo, JOURNEY_COUNTED);
}

/*
 * omnikpi_jp_combine: merge the second summary into the first; the combine
 * function of every journey_paths aggregate and the transition function of
 * rollup(journey_paths).  NULLs are skipped.  Counts and values of equal
 * paths add, so merging is exact up to one rounding per added value, and
 * commutative; a sum past the doubles is 22003.
 *
 * omnikpi_jp_final: the final function of the journey_paths aggregates and
 * rollup(): the stored, canonical form.  Read-only; no rows gives NULL.
 */
OMNIKPI_STATE_SUPPORT_FUNCTIONS(omnikpi_jp_combine, omnikpi_jp_final, omnikpi_jp_family)
