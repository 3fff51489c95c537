/*
 * journey_paths_accessors.c: what the attribution functions share (the
 * totals of a summary, the rows they return) and the accessors of a
 * journey_paths summary.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "journey_paths/journey_paths.h"

/* ---- shared by the attribution functions ---- */

/*
 * The totals of a summary.  Attribution hands out conversions: a summary
 * without any is an error (22023) rather than a table of zeros and NaN shares.
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
	if (!(totals.conversions > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs at least one converted journey", function),
				 errdetail("The summary holds %s journeys, none of them converted.",
						   float8out_internal(totals.journeys)),
				 errhint("Attribute only groups with conversions, e.g. GROUP BY month HAVING bool_or(converted).")));
	if (!isfinite(totals.value) || !isfinite(totals.journeys))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total journeys or value of the summary out of range for double precision")));
	return totals;
}

/*
 * One row per channel of the summary, in byte order of the names: the
 * conversions and value credited to it and its share of all conversions.
 */
void
omnikpi_jp_put_credits(ReturnSetInfo *rsinfo, const JourneyPaths *paths,
					   const double *conversions, const double *values,
					   const JourneyTotals *totals)
{
	int32		i;

	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(paths, i, &len);
		Datum		row[4];
		bool		nulls[4] = {false, false, false, false};

		row[0] = PointerGetDatum(cstring_to_text_with_len(name, len));
		row[1] = Float8GetDatum(conversions[i]);
		row[2] = Float8GetDatum(values[i]);
		row[3] = Float8GetDatum(conversions[i] / totals->conversions);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
		pfree(DatumGetPointer(row[0]));
	}
}

/* ---- accessors ---- */

/* omnikpi_jp_channel_count: number of distinct channels on the paths. */
PG_FUNCTION_INFO_V1(omnikpi_jp_channel_count);
Datum
omnikpi_jp_channel_count(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);

	PG_RETURN_INT32(paths->nchannels);
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
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PathStats *stats = JP_STATS(paths);
	Datum	   *names = palloc(Max(paths->nchannels, 1) * sizeof(Datum));
	Datum	   *elements = NULL;
	int			capacity = 0;
	int32		i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(paths, i, &len);

		names[i] = PointerGetDatum(cstring_to_text_with_len(name, len));
	}
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			k;

		if (len > capacity)
		{
			capacity = Max(len, 2 * capacity);
			elements = elements ? repalloc_huge(elements, capacity * sizeof(Datum))
				: palloc_extended(capacity * sizeof(Datum), MCXT_ALLOC_HUGE);
		}
		for (k = 0; k < len; k++)
			elements[k] = names[steps[k]];
		values[0] = PointerGetDatum(construct_array(elements, len, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = Float8GetDatum(stats[i].conversions);
		values[2] = Float8GetDatum(stats[i].non_conversions);
		values[3] = Float8GetDatum(stats[i].value);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}
