/*
 * summary_accessors.c: reading KPIs and drill-down rows out of a stored
 * channel_summary.  A summary's values are checked against the scale it is
 * read on, so a summary of 0..10 ratings read on the 1..5 scale fails the way
 * the aggregate would, instead of giving a percentage above 100.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "channel_summary/channel_summary.h"
#include "common/type_io.h"

/*
 * The KPI of a summary's channels on scale, or on the measure's default
 * scale when the summary has none: every channel's min and max must lie in
 * the scale (22003 otherwise).
 */
double
omnikpi_summary_measure_kpi(const ChannelStats *stats, int nchannels, SummaryScale scale,
							SummaryMeasure measure, bool *isnull)
{
	KpiMean		kpi;
	int			i;

	if (!scale.known)
		scale = measure == MEASURE_RATING ? omnikpi_rating_default_scale : omnikpi_score_scale;
	omnikpi_kpi_start(&kpi, scale.min, scale.max);
	for (i = 0; i < nchannels; i++)
	{
		check_value_in_scale(stats[i].min, &scale, measure);
		check_value_in_scale(stats[i].max, &scale, measure);
		omnikpi_kpi_add(&kpi, &stats[i], 0.0);
	}
	return omnikpi_kpi_result(&kpi, isnull);
}

/* The KPI of a flat summary as a nullable float8 Datum. */
static Datum
kpi_datum(const ChannelSummary *summary, SummaryScale scale, SummaryMeasure measure,
		  bool *isnull)
{
	return Float8GetDatum(omnikpi_summary_measure_kpi(SUMMARY_STATS(summary), summary->h.nchannels,
													  scale, measure, isnull));
}

/*
 * omnikpi_experience_rating: experience_rating(summary), in percent, on the
 * summary's own scale (a flag summary's is 0 to 1) or else 1 to 5.
 */
PG_FUNCTION_INFO_V1(omnikpi_experience_rating);
Datum
omnikpi_experience_rating(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);

	return kpi_datum(summary, omnikpi_summary_scale(summary), MEASURE_RATING, &fcinfo->isnull);
}

/*
 * omnikpi_experience_rating_scaled: experience_rating(summary, scale_min,
 * scale_max): the given scale replaces the summary's.
 */
PG_FUNCTION_INFO_V1(omnikpi_experience_rating_scaled);
Datum
omnikpi_experience_rating_scaled(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);
	SummaryScale scale = omnikpi_rating_scale_arg(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));

	return kpi_datum(summary, scale, MEASURE_RATING, &fcinfo->isnull);
}

/*
 * omnikpi_integration_index: integration_index(summary), 0 to 100: scores on
 * 0 to 100 are averaged as they are, flags become percentages of true.
 */
PG_FUNCTION_INFO_V1(omnikpi_integration_index);
Datum
omnikpi_integration_index(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);

	return kpi_datum(summary, omnikpi_summary_scale(summary), MEASURE_SCORE, &fcinfo->isnull);
}

/*
 * omnikpi_channels: one row per channel (channel, n, mean, min, max) in byte
 * order of the names, for drill-down.  Materialized at once: a summary is
 * already in memory, and the rows are few.
 */
PG_FUNCTION_INFO_V1(omnikpi_channels);
Datum
omnikpi_channels(PG_FUNCTION_ARGS)
{
	ChannelSummary *summary = PG_GETARG_CHANNEL_SUMMARY_P(0);
	const ChannelStats *stats = SUMMARY_STATS(summary);
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < summary->h.nchannels; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(summary), i, &len);

		values[0] = PointerGetDatum(cstring_to_text_with_len(name, len));
		values[1] = Int64GetDatum(stats[i].count);
		values[2] = Float8GetDatum(omnikpi_channel_mean(&stats[i], 0.0));
		values[3] = Float8GetDatum(stats[i].min);
		values[4] = Float8GetDatum(stats[i].max);
		omnikpi_put_row(fcinfo, values, nulls);
	}
	return (Datum) 0;
}
