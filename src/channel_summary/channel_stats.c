/*
 * channel_stats.c: the arithmetic of one channel's count, sum, min and max,
 * and of the KPI over many channels.  No server calls, so it can be tested
 * and fuzzed outside PostgreSQL.
 *
 * Sums are compensated: the working state keeps each sum as an unevaluated
 * pair (high, low) whose sum is the channel's total.  Plain aggregation uses
 * Neumaier's summation (cheap, and accurate to about one rounding whatever
 * the number of rows, so the row order barely matters).  Moving windows use
 * error-free transformations (TwoSum) that keep the pair exactly equal to the
 * sum as long as the values span fewer than about 106 bits, which covers
 * every realistic rating or score, so removing a value undoes adding it; when
 * a low part itself had to be rounded, the caller learns it and stops
 * trusting removals.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/int.h"

#include "channel_summary/channel_summary.h"

/* s + err == a + b exactly (Knuth's TwoSum; no branch, no FMA needed). */
static inline double
two_sum(double a, double b, double *err)
{
	double		s = a + b;
	double		b_virtual = s - a;

	*err = (a - (s - b_virtual)) + (b - b_virtual);
	return s;
}

/*
 * Add value to the compensated sum (*high, *low).  Returns false when the
 * result is not exactly high + low + value (the low part was rounded).
 */
static bool
compensated_add(double *high, double *low, double value)
{
	double		err_high;
	double		err_low;
	double		s = two_sum(*high, value, &err_high);
	double		t = two_sum(*low, err_high, &err_low);

	*high = two_sum(s, t, low);
	return err_low == 0.0;
}

/* Start a channel's stats with its first value. */
void
omnikpi_channel_stats_init(ChannelStats *stats, double *sum_low, double value)
{
	stats->count = 1;
	stats->sum = value;
	stats->min = value;
	stats->max = value;
	*sum_low = 0.0;
}

/*
 * Add one value keeping (high, low) normalized and exact when possible, for
 * moving windows that must later remove it.  Returns whether the sum stayed
 * exact.
 */
bool
omnikpi_channel_stats_add_exact(ChannelStats *stats, double *sum_low, double value)
{
	if (channel_stats_count_value(stats, sum_low, value))
		return true;
	return compensated_add(&stats->sum, sum_low, value);
}

/*
 * Remove a value added earlier (moving-aggregate mode).  min and max cannot
 * be undone and are left as they are: the moving state never shows them.
 * Returns whether the sum stayed exact.
 */
bool
omnikpi_channel_stats_remove(ChannelStats *stats, double *sum_low, double value)
{
	stats->count--;
	if (stats->count == 0)
	{
		stats->sum = 0.0;
		*sum_low = 0.0;
		return true;
	}
	return compensated_add(&stats->sum, sum_low, -value);
}

/*
 * Merge another channel's stats (a stored summary has no low part).
 * Returns false, merging nothing, when the count would pass the largest
 * int64: the caller reports it.
 */
bool
omnikpi_channel_stats_merge(ChannelStats *into, double *into_low, const ChannelStats *from)
{
	int64		count;

	if (into->count == 0)
	{
		*into = *from;
		*into_low = 0.0;
		return true;
	}
	if (pg_add_s64_overflow(into->count, from->count, &count))
		return false;
	into->count = count;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	(void) compensated_add(&into->sum, into_low, from->sum);
	return true;
}

/*
 * Why a channel's stats cannot have come from real values, or NULL when they
 * can.  The sum may differ from the exact sum of the values by rounding: a
 * stored sum is the correctly rounded compensated sum, and rolling up k
 * summaries adds at most one rounding of each, so the error stays below
 * eps * (sum of |values|) <= eps * count * M, with M the larger of |min| and
 * |max|.  The check allows 16 times that, and the rounding of count * min.
 * The tolerance is capped at DBL_MAX: for a count near 2^63 with values near
 * 1e305 it overflowed, and an infinite count * min minus an infinite
 * tolerance is NaN, which let any sum pass.  Capped, an infinite count * min
 * still means what it should (a sum that cannot be reached, or no bound).
 */
const char *
omnikpi_channel_stats_invalid(const ChannelStats *stats)
{
	double		n = (double) stats->count;
	double		magnitude;
	double		tolerance;

	if (stats->count < 1)
		return "A channel's count must be at least 1.";
	if (!isfinite(stats->sum) || !isfinite(stats->min) || !isfinite(stats->max))
		return "Sums, minimums and maximums must be finite.";
	if (stats->min > stats->max)
		return "A channel's min must not exceed its max.";
	magnitude = Max(fabs(stats->min), fabs(stats->max));
	tolerance = Min(16 * DBL_EPSILON * n * magnitude, DBL_MAX);
	if (stats->sum < n * stats->min - tolerance ||
		stats->sum > n * stats->max + tolerance)
		return "A channel's sum must lie between count * min and count * max.";
	return NULL;
}

/* Why a scale is unusable, or NULL when it is fine. */
const char *
omnikpi_scale_invalid(double scale_min, double scale_max)
{
	if (!isfinite(scale_min) || !isfinite(scale_max))
		return "The scale bounds must be finite.";
	if (scale_min >= scale_max)
		return "scale_min must be less than scale_max.";
	if (!isfinite(scale_max - scale_min))
		return "The scale is wider than double precision can hold.";
	return NULL;
}

/* The channel's mean value. */
double
omnikpi_channel_mean(const ChannelStats *stats, double sum_low)
{
	return (stats->sum + sum_low) / (double) stats->count;
}

/*
 * The KPI of the seed formulas: every channel's mean, normalized to percent
 * of the scale, averaged with equal weight per channel.  Channels whose
 * count is zero (emptied in a moving window) do not count.  The per-channel
 * percentage is clamped to 0..100 so that the rounding of a mean that sits
 * on a bound cannot push the result outside the scale.  Start, add each
 * channel, read the result: the stored form and the working state keep
 * their channels differently.
 */
void
omnikpi_kpi_start(KpiMean *kpi, double scale_min, double scale_max)
{
	kpi->scale_min = scale_min;
	kpi->factor = 100.0 / (scale_max - scale_min);
	kpi->total = 0.0;
	kpi->total_low = 0.0;
	kpi->counted = 0;
}

/* One channel; sum_low is 0 for a stored summary. */
void
omnikpi_kpi_add(KpiMean *kpi, const ChannelStats *stats, double sum_low)
{
	double		percent;
	double		err;

	if (stats->count == 0)
		return;
	percent = (omnikpi_channel_mean(stats, sum_low) - kpi->scale_min) * kpi->factor;
	/*
	 * Summed exactly and rounded once (omnikpi_kpi_result), so that the
	 * KPI does not depend on the order of the channels: a state keeps them
	 * in the order its rows met them, which a hash plan and a sort plan,
	 * or a state and its stored form (channels in name order), do not
	 * share.  Added up as they came, 925 of 30,011 customers' KPIs
	 * differed between the two plans in their last bit.  Each addition's
	 * error is exact (two_sum), and their sum, far below the total, is
	 * exact unless the percentages span more than a double's 53 bits
	 * between them: total + total_low is the exact sum, rounded once.
	 */
	kpi->total = two_sum(kpi->total, Min(Max(percent, 0.0), 100.0), &err);
	kpi->total_low += err;
	kpi->counted++;
}

/* The KPI in percent; NULL (*isnull) when no channel counted. */
double
omnikpi_kpi_result(const KpiMean *kpi, bool *isnull)
{
	*isnull = (kpi->counted == 0);
	return kpi->counted == 0 ? 0.0 : (kpi->total + kpi->total_low) / kpi->counted;
}
