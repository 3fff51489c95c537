/*
 * journey_paths_accessors.c: the totals the attribution functions start
 * from, and the accessors of a journey_paths summary.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "common/channel_credits.h"
#include "common/type_io.h"
#include "journey_paths/journey_paths.h"

/* ---- shared by the attribution functions ---- */

/*
 * The totals of a summary, for the attribution functions; a summary without
 * conversions, or with totals past the doubles, is their shared error.
 */
JourneyTotals
omnikpi_jp_totals(const JourneyPaths *paths, const char *function)
{
	const PathStats *stats = JP_STATS(paths);
	JourneyTotals totals = {0, 0, 0};
	int32		i;

	for (i = 0; i < paths->npaths; i++)
	{
		totals.conversions += stats[i].conversions;
		totals.value += stats[i].value;
		totals.journeys += stats[i].conversions + stats[i].non_conversions;
	}
	omnikpi_check_conversions(function, totals.conversions, totals.journeys);
	if (!isfinite(totals.value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total value of the summary out of range for double precision")));
	return totals;
}

/*
 * omnikpi_jp_paths: the distinct paths with their counts, in the canonical
 * order, for inspection and for exporting to other tools.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_paths);
Datum
omnikpi_jp_paths(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	const PathStats *stats = JP_STATS(paths);
	Datum	   *names = palloc(Max(paths->h.nchannels, 1) * sizeof(Datum));
	Datum	   *elements = NULL;
	int			capacity = 0;
	int32		i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < paths->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&JP_FLAT_NAMES(paths), i, &len);

		names[i] = PointerGetDatum(cstring_to_text_with_len(name, len));
	}
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			k;

		elements = omnikpi_jp_scratch(elements, &capacity, len, sizeof(Datum));
		for (k = 0; k < len; k++)
			elements[k] = names[steps[k]];
		values[0] = PointerGetDatum(construct_array(elements, len, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = Float8GetDatum(stats[i].conversions);
		values[2] = Float8GetDatum(stats[i].non_conversions);
		values[3] = Float8GetDatum(stats[i].value);
		omnikpi_put_row(fcinfo, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}
