/*
 * channel_credits.c: the rows of the attribution functions (see
 * channel_credits.h).
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "common/channel_credits.h"
#include "common/type_io.h"

/* Zeroed credits for names, with the model's own column when extra. */
void
omnikpi_credits_init(ChannelCredits *credits, FlatNames names, bool extra)
{
	Size		size = Max(names.count, 1) * sizeof(double);

	credits->names = names;
	credits->conversions = palloc0(size);
	credits->values = palloc0(size);
	credits->extra = extra ? palloc0(size) : NULL;
	credits->total_conversions = 0.0;
}

/*
 * Attribution hands out conversions: a summary of journeys none of which
 * converted is an error (22023) rather than a table of zeros and NaN
 * shares; totals past the doubles are 22003.
 */
void
omnikpi_check_conversions(const char *function, double conversions, double journeys)
{
	if (!(conversions > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs at least one converted journey", function),
				 errdetail("Journeys in the summary: %s, of which converted: 0.",
						   float8out_internal(journeys)),
				 errhint("Attribute only groups with conversions, e.g. GROUP BY month HAVING bool_or(converted).")));
	if (!isfinite(conversions) || !isfinite(journeys))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total journeys of the summary out of range for double precision")));
}

/* Return the rows (channel, conversions, value, share [, extra]). */
void
omnikpi_credits_return(FunctionCallInfo fcinfo, const ChannelCredits *credits)
{
	int32		i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < credits->names.count; i++)
	{
		int			len;
		const char *name = flat_name(&credits->names, i, &len);
		Datum		row[5];
		bool		nulls[5] = {false, false, false, false, false};

		row[0] = PointerGetDatum(cstring_to_text_with_len(name, len));
		row[1] = Float8GetDatum(credits->conversions[i]);
		row[2] = Float8GetDatum(credits->values[i]);
		row[3] = Float8GetDatum(credits->conversions[i] / credits->total_conversions);
		if (credits->extra != NULL)
			row[4] = Float8GetDatum(credits->extra[i]);
		omnikpi_put_row(fcinfo, row, nulls);
		pfree(DatumGetPointer(row[0]));
	}
}
