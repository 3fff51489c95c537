/*
 * channel_summary.h: the channel_summary type and the KPI aggregates built
 * on it.
 *
 * A channel summary keeps, for every channel, the count, sum, min and max of
 * a measure (ratings, integration scores, 0/1 flags).  It exists in three
 * forms:
 *   - ChannelStats: the plain arithmetic (channel_stats.c), free of server
 *     calls;
 *   - the stored ChannelSummary varlena: what is stored, sent and printed
 *     (summary_io.c, summary_text.c, summary_binary.c), channels in byte
 *     order of their names;
 *   - the aggregates' working state (summary_state.c), one of the engine's
 *     StateBody (common/aggregate_state.h): a SummaryHeader and one key
 *     table from channel name to its ChannelTally.
 */
#ifndef OMNIKPI_CHANNEL_SUMMARY_H
#define OMNIKPI_CHANNEL_SUMMARY_H

#include <math.h>

#include "fmgr.h"

#include "common/aggregate_state.h"
#include "common/flat_names.h"

/* Running statistics of one channel. */
typedef struct ChannelStats
{
	int64		count;
	double		sum;
	double		min;
	double		max;
} ChannelStats;

/*
 * The scale a summary's values were validated against, when it has one: the
 * KPI aggregates record theirs (1..5 or the caller's for ratings, 0..100 for
 * scores, 0..1 for flags) so that the final function can normalize, and so
 * that states built on different scales are never merged.
 */
typedef struct SummaryScale
{
	bool		known;
	double		min;
	double		max;
} SummaryScale;

/* Which KPI reads a summary; chooses the default scale and the error wording. */
typedef enum SummaryMeasure
{
	MEASURE_RATING,				/* experience rating: default scale 1..5 */
	MEASURE_SCORE				/* integration index: default scale 0..100 */
} SummaryMeasure;

/* ---- channel_stats.c: pure arithmetic ---- */

/* The KPI's running mean over channels (omnikpi_kpi_add, omnikpi_kpi_result). */
typedef struct KpiMean
{
	double		scale_min;
	double		factor;			/* 100 / (scale_max - scale_min) */
	double		total;			/* the percentages' sum as they came */
	double		total_low;		/* the sum of its additions' errors */
	int			counted;
} KpiMean;

extern void omnikpi_channel_stats_init(ChannelStats *stats, double *sum_low, double value);
extern bool omnikpi_channel_stats_add_exact(ChannelStats *stats, double *sum_low, double value);
extern bool omnikpi_channel_stats_remove(ChannelStats *stats, double *sum_low, double value);
extern bool omnikpi_channel_stats_merge(ChannelStats *into, double *into_low,
										const ChannelStats *from);
extern const char *omnikpi_channel_stats_invalid(const ChannelStats *stats);
extern const char *omnikpi_scale_invalid(double scale_min, double scale_max);
extern double omnikpi_channel_mean(const ChannelStats *stats, double sum_low);
extern void omnikpi_kpi_start(KpiMean *kpi, double scale_min, double scale_max);
extern void omnikpi_kpi_add(KpiMean *kpi, const ChannelStats *stats, double sum_low);
extern double omnikpi_kpi_result(const KpiMean *kpi, bool *isnull);

/* ---- the stored form (summary_io.c) ---- */

#define CHANNEL_SUMMARY_FORMAT	1	/* bump when the on-disk layout changes */
#define SUMMARY_HAS_SCALE		0x01

/*
 * The stored form.  After the fixed header come nchannels ChannelStats in
 * ascending byte order of channel name, then nchannels int32 end offsets of
 * the names, then the names themselves (no terminators).  The header is 32
 * bytes, so the ChannelStats array is MAXALIGNed in a detoasted copy.
 */
typedef struct ChannelSummary
{
	StoredHeader h;				/* format CHANNEL_SUMMARY_FORMAT, flags SUMMARY_HAS_SCALE */
	int32		reserved2;		/* zero; pads the header to 32 bytes */
	double		scale_min;		/* valid when SUMMARY_HAS_SCALE */
	double		scale_max;
} ChannelSummary;

StaticAssertDecl(sizeof(ChannelSummary) == 32, "the stored form of 0.1.0 has a 32-byte header");

#define SUMMARY_STATS(s)	((ChannelStats *) ((char *) (s) + sizeof(ChannelSummary)))
#define SUMMARY_NAME_ENDS(s)	((int32 *) (SUMMARY_STATS(s) + (s)->h.nchannels))
#define SUMMARY_FLAT_NAMES(s)	STORED_FLAT_NAMES(s, SUMMARY_NAME_ENDS(s))
/* Any channel_summary datum in its stored form (a working state is stored first). */
#define DatumGetChannelSummaryP(d) \
	((ChannelSummary *) omnikpi_state_stored((d), &omnikpi_summary_family))
#define PG_GETARG_CHANNEL_SUMMARY_P(n)	DatumGetChannelSummaryP(PG_GETARG_DATUM(n))

extern SummaryScale omnikpi_summary_scale(const ChannelSummary *summary);
extern double omnikpi_summary_measure_kpi(const ChannelStats *stats, int nchannels,
										  SummaryScale scale, SummaryMeasure measure,
										  bool *isnull);

/* ---- the working state (summary_state.c) ---- */

/* The family's header in a working state. */
typedef struct SummaryHeader
{
	double		scale_min;		/* the scale, when scale_known */
	double		scale_max;
	bool		scale_known;
	bool		moving;			/* exact sums, so that values can be removed */
	bool		inexact;		/* a sum was rounded: removal cannot undo it */
} SummaryHeader;

/* The payload of a channel: its statistics and the low part of its sum. */
typedef struct ChannelTally
{
	ChannelStats stats;
	double		sum_low;
} ChannelTally;

#define SUMMARY_TABLE_CHANNELS	STATE_TABLE_CHANNELS	/* the state's one table */
#define SUMMARY_FAMILY_ID		1

extern const StateFamily omnikpi_summary_family;

extern void omnikpi_summary_state_new(StateRef *ref, FunctionCallInfo fcinfo, SummaryScale scale);
extern void omnikpi_summary_state_new_private(StateRef *ref, MemoryContext home,
											  SummaryScale scale, bool moving);
extern void omnikpi_summary_state_add(StateRef *ref, const KeyProbe *channel, double value);
extern bool omnikpi_summary_state_remove(StateRef *ref, const KeyProbe *channel, double value);
extern bool omnikpi_summary_state_insert_stats(StateRef *ref, const char *name, int len,
											   const ChannelStats *stats, bool reject_duplicate);
extern double omnikpi_summary_state_kpi(const StateBody *body, SummaryScale scale, bool *isnull);
extern void omnikpi_report_scale_mismatch(SummaryScale have, SummaryScale got) pg_attribute_noreturn();
extern void omnikpi_report_sum_out_of_range(const char *name, int len) pg_attribute_noreturn();

/* ---- checks and messages shared by aggregates and accessors (summary_scale.c) ---- */

/*
 * The fixed scales, constants in the header so that the per-row path folds
 * them into its comparisons.
 */
static const SummaryScale omnikpi_rating_default_scale = {true, 1.0, 5.0};
static const SummaryScale omnikpi_score_scale = {true, 0.0, 100.0};
static const SummaryScale omnikpi_flag_scale = {true, 0.0, 1.0};	/* false and true */
static const SummaryScale omnikpi_no_scale = {false, 0.0, 0.0};

extern SummaryScale omnikpi_rating_scale_arg(double scale_min, double scale_max);
extern void omnikpi_report_value_outside_scale(double value, const SummaryScale *scale,
											   SummaryMeasure measure) pg_attribute_noreturn();

extern void omnikpi_check_value_finite(double value);

/*
 * The per-row path of the aggregates, inline: every row of every group goes
 * through these, and a call each costs as much as the work.
 */

static inline SummaryHeader *
summary_header(const StateBody *body)
{
	return (SummaryHeader *) omnikpi_state_header(body);
}

static inline KeyTable *
summary_channels(const StateBody *body)
{
	return omnikpi_state_table(body, SUMMARY_TABLE_CHANNELS);
}

/*
 * Channel i's tally.  The payloads of the channel table, as key_table_payload
 * gives them, with their size a constant: every row asks.
 */
static inline ChannelTally *
summary_tally(const KeyTable *channels, int32 i)
{
	StaticAssertStmt(sizeof(ChannelTally) == MAXALIGN(sizeof(ChannelTally)),
					 "the table's payloads are MAXALIGNed ChannelTallies");
	Assert(channels->payload_size == sizeof(ChannelTally));
	return (ChannelTally *) (KEY_TABLE_PAYLOADS(channels) + (Size) i * sizeof(ChannelTally));
}

static inline bool
summary_scales_equal(SummaryScale a, SummaryScale b)
{
	return a.min == b.min && a.max == b.max && a.known == b.known;
}

static inline SummaryScale
summary_state_scale(const StateBody *body)
{
	const SummaryHeader *header = summary_header(body);
	SummaryScale scale;

	scale.known = header->scale_known;
	scale.min = header->scale_min;
	scale.max = header->scale_max;
	return scale;
}

static inline void
summary_set_scale(StateBody *body, SummaryScale scale)
{
	SummaryHeader *header = summary_header(body);

	header->scale_known = scale.known;
	header->scale_min = scale.min;
	header->scale_max = scale.max;
}

/* Is the state's scale this one?  Both bounds in one comparison: every row asks. */
static inline bool
summary_state_on_scale(const StateBody *body, SummaryScale scale)
{
	const SummaryHeader *header = summary_header(body);

#ifdef __SSE2__
	__m128d		same = _mm_cmpeq_pd(_mm_loadu_pd(&header->scale_min),
									_mm_set_pd(scale.max, scale.min));

	StaticAssertStmt(offsetof(SummaryHeader, scale_max) ==
					 offsetof(SummaryHeader, scale_min) + sizeof(double),
					 "the bounds are next to each other");
	return _mm_movemask_pd(same) == 3 && header->scale_known == scale.known;
#else
	return header->scale_min == scale.min && header->scale_max == scale.max &&
		header->scale_known == scale.known;
#endif
}

/*
 * A value outside its scale (NaN and infinities included): 22003.  The
 * scale by reference, so that a row's check copies nothing for the error.
 */
static inline void
check_value_in_scale(double value, const SummaryScale *scale, SummaryMeasure measure)
{
	if (unlikely(!(value >= scale->min && value <= scale->max)))
		omnikpi_report_value_outside_scale(value, scale, measure);
}

/* Count the value and keep min and max; true when the channel was empty. */
static inline bool
channel_stats_count_value(ChannelStats *stats, double *sum_low, double value)
{
	if (stats->count == 0)
	{
		omnikpi_channel_stats_init(stats, sum_low, value);
		return true;
	}
	stats->count++;
	if (value < stats->min)
		stats->min = value;
	if (value > stats->max)
		stats->max = value;
	return false;
}

/*
 * Add one value, Neumaier's way: the high part is a plain running sum and the
 * low part collects each addition's rounding error, so the loop-carried
 * dependency is one addition per row.  high + low is the sum to within one
 * rounding of the low part, however many rows.  A channel whose count is
 * zero starts afresh.
 */
static inline void
channel_stats_add(ChannelStats *stats, double *sum_low, double value)
{
	double		sum;

	if (channel_stats_count_value(stats, sum_low, value))
		return;
	sum = stats->sum + value;
	if (fabs(stats->sum) >= fabs(value))
		*sum_low += (stats->sum - sum) + value;
	else
		*sum_low += (value - sum) + stats->sum;
	stats->sum = sum;
}

/*
 * Can a sum of values on this scale leave the doubles?  Not while the count
 * fits an int64 (below 2^63) and the bounds are below 1e280 (2^63 * 1e280 is
 * far below DBL_MAX): then the per-row check is left out.
 */
static inline bool
summary_sum_may_overflow(const SummaryScale *scale)
{
	return !scale->known || fabs(scale->min) > 1e280 || fabs(scale->max) > 1e280;
}

/*
 * Add a validated value to a channel's tally; 22003 when its sum overflows.
 * A flag (is_flag: the value 1 or 0) is added without the low part: a sum
 * of ones is a whole number, exact in a double up to 2^53 rows, so each
 * addition's rounding error is 0 and the low part would only add 0.
 */
static inline void
channel_tally_add(ChannelTally *tally, double value, const KeyProbe *channel,
				  const SummaryScale *scale, bool is_flag)
{
	if (is_flag)
	{
		if (!channel_stats_count_value(&tally->stats, &tally->sum_low, value))
			tally->stats.sum += value;
		return;
	}
	channel_stats_add(&tally->stats, &tally->sum_low, value);
	if (summary_sum_may_overflow(scale) && unlikely(!isfinite(tally->stats.sum)))
		omnikpi_report_sum_out_of_range(channel->key, channel->len);
}

#endif							/* OMNIKPI_CHANNEL_SUMMARY_H */
