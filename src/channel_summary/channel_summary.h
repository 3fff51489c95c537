/*
 * omnikpi.h: shared types and prototypes of the channel_summary machinery.
 *
 * A channel summary keeps, for every channel, the count, sum, min and max of
 * a measure (ratings, integration scores, 0/1 flags).  It exists in three
 * forms:
 *   - ChannelStats arrays: the plain arithmetic (channel_stats.c), free of
 *     server calls;
 *   - the flat varlena ChannelSummary: what is stored, sent and printed
 *     (channel_summary.c, summary_text.c, summary_binary.c);
 *   - SummaryState: the working state of the aggregates, an expanded object
 *     with a hash table from channel name to its stats (summary_state.c).
 */
#ifndef OMNIKPI_CHANNEL_SUMMARY_H
#define OMNIKPI_CHANNEL_SUMMARY_H

#include <math.h>

#include "fmgr.h"
#include "utils/expandeddatum.h"

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

extern void omnikpi_channel_stats_init(ChannelStats *stats, double *sum_low, double value);
extern bool omnikpi_channel_stats_add_exact(ChannelStats *stats, double *sum_low, double value);
extern bool omnikpi_channel_stats_remove(ChannelStats *stats, double *sum_low, double value);
extern void omnikpi_channel_stats_merge(ChannelStats *into, double *into_low,
										const ChannelStats *from);
extern const char *omnikpi_channel_stats_invalid(const ChannelStats *stats);
extern const char *omnikpi_scale_invalid(double scale_min, double scale_max);
extern double omnikpi_channel_mean(const ChannelStats *stats, double sum_low);
extern double omnikpi_summary_kpi_percent(const ChannelStats *stats, const double *sum_low,
										  int nchannels, double scale_min, double scale_max,
										  bool *isnull);

/* ---- flat varlena form (channel_summary.c) ---- */

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
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		format;			/* CHANNEL_SUMMARY_FORMAT */
	uint8		flags;			/* SUMMARY_HAS_SCALE */
	uint16		reserved;		/* zero */
	int32		nchannels;
	int32		reserved2;		/* zero; pads the header to 32 bytes */
	double		scale_min;		/* valid when SUMMARY_HAS_SCALE */
	double		scale_max;
} ChannelSummary;

#define SUMMARY_STATS(s)	((ChannelStats *) ((char *) (s) + sizeof(ChannelSummary)))
#define SUMMARY_NAME_ENDS(s) \
	((int32 *) (SUMMARY_STATS(s) + (s)->nchannels))
#define SUMMARY_NAMES(s) \
	((char *) (SUMMARY_NAME_ENDS(s) + (s)->nchannels))
#define DatumGetChannelSummaryP(d)	((ChannelSummary *) PG_DETOAST_DATUM(d))
#define PG_GETARG_CHANNEL_SUMMARY_P(n)	DatumGetChannelSummaryP(PG_GETARG_DATUM(n))

extern const char *omnikpi_summary_channel_name(const ChannelSummary *summary, int i, int *len);
extern SummaryScale omnikpi_summary_scale(const ChannelSummary *summary);
extern double omnikpi_summary_measure_kpi(const ChannelStats *stats, int nchannels,
										  SummaryScale scale, SummaryMeasure measure,
										  bool *isnull);

/* ---- working state (summary_state.c) ---- */

typedef struct ChannelName
{
	char	   *data;
	int32		len;
	uint32		hash;
} ChannelName;

/* A hash table slot: the name's hash beside the index, so probing stays in one array. */
typedef struct ChannelSlot
{
	uint32		hash;
	int32		index;			/* index + 1 into the dense arrays, or 0 if empty */
} ChannelSlot;

typedef struct SummaryState
{
	ExpandedObjectHeader hdr;
	SummaryScale scale;
	int32		nchannels;
	int32		capacity;		/* allocated length of the three arrays below */
	ChannelStats *stats;		/* dense, in order of first appearance */
	double	   *sum_low;		/* low parts of the compensated sums */
	ChannelName *names;
	ChannelSlot *slots;			/* open addressing with linear probing */
	int32		nslots;			/* a power of two, 4 * capacity: probes stay short */
	Size		name_bytes;		/* total length of all names */
	bool		moving;			/* keep sums exact so that values can be removed */
	bool		inexact;		/* a sum was rounded: removal cannot undo it */
} SummaryState;

extern SummaryState *omnikpi_summary_state_create(MemoryContext parent, SummaryScale scale);
extern SummaryState *omnikpi_summary_state_create_moving(MemoryContext parent, SummaryScale scale);
extern SummaryState *omnikpi_summary_state_from_datum(Datum d, MemoryContext parent);
extern bool omnikpi_summary_state_is_ours(Datum d);
extern SummaryState *omnikpi_summary_state_from_expanded(Datum d);
extern const ExpandedObjectMethods omnikpi_summary_methods;
extern void omnikpi_summary_state_add(SummaryState *state, const char *name, int len,
									  double value);
extern bool omnikpi_summary_state_remove(SummaryState *state, const char *name, int len,
										 double value);
extern bool omnikpi_summary_state_insert_stats(SummaryState *state, const char *name, int len,
											   const ChannelStats *stats, bool reject_duplicate);
extern void omnikpi_summary_state_merge_flat(SummaryState *state, const ChannelSummary *flat);
extern void omnikpi_report_scale_mismatch(SummaryScale have, SummaryScale got) pg_attribute_noreturn();
extern ChannelSummary *omnikpi_summary_state_flatten(SummaryState *state);

/* ---- checks and messages shared by aggregates and accessors (summary_scale.c) ---- */

extern const SummaryScale omnikpi_rating_default_scale;	/* 1 to 5 */
extern const SummaryScale omnikpi_score_scale;	/* 0 to 100 */
extern const SummaryScale omnikpi_flag_scale;	/* 0 to 1: false and true */
extern const SummaryScale omnikpi_no_scale;

extern SummaryScale omnikpi_rating_scale_arg(double scale_min, double scale_max);
extern void omnikpi_report_value_outside_scale(double value, SummaryScale scale,
											   SummaryMeasure measure) pg_attribute_noreturn();

extern void omnikpi_check_value_finite(double value);
extern char *omnikpi_clip_for_message(const char *s, int len);

/*
 * The per-row path of the aggregates, inline: every row of every group goes
 * through these, and a call each costs as much as the work.
 */

/* A value outside its scale (NaN and infinities included): 22003. */
static inline void
check_value_in_scale(double value, SummaryScale scale, SummaryMeasure measure)
{
	if (unlikely(!(value >= scale.min && value <= scale.max)))
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
 * The state behind d when d is a read-write pointer to one of ours, else
 * NULL.  The expanded pointer is read here rather than through DatumGetEOHP,
 * which is not inline.
 */
static inline SummaryState *
summary_state_if_writable(Datum d)
{
	varatt_expanded pointer;

	if (!VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
		return NULL;
	memcpy(&pointer, VARDATA_EXTERNAL(DatumGetPointer(d)), sizeof(pointer));
	if (pointer.eohptr->eoh_methods != &omnikpi_summary_methods)
		return NULL;
	return (SummaryState *) pointer.eohptr;
}

/* Summaries built on different scales measure different things: 22023. */
static inline void
summary_state_check_scale(const SummaryState *state, SummaryScale scale)
{
	if (unlikely(state->scale.known != scale.known || state->scale.min != scale.min ||
				 state->scale.max != scale.max))
		omnikpi_report_scale_mismatch(state->scale, scale);
}

#endif							/* OMNIKPI_CHANNEL_SUMMARY_H */
