/*
 * summary_state.c: the working state of the channel_summary aggregates on
 * the engine of common/aggregate_state.h: a SummaryHeader (the scale) and
 * one key table from channel name to ChannelTally, in order of first
 * appearance.  Stored with its channels in byte order of their names.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"
#include "utils/memutils.h"

#include "channel_summary/channel_summary.h"
#include "common/messages.h"

static void
assert_state_valid(const StateBody *body)
{
#ifdef USE_ASSERT_CHECKING
	const KeyTable *channels = summary_channels(body);
	int32		i;

	omnikpi_state_assert_valid(body, &omnikpi_summary_family);
	for (i = 0; i < channels->nentries; i++)
	{
		const ChannelTally *tally = summary_tally(channels, i);

		Assert(tally->stats.count >= 0);
		Assert(tally->stats.count == 0 || tally->stats.min <= tally->stats.max);
	}
#endif
}

/* Size of the stored form of n channels whose names take name_bytes. */
static Size
stored_size(int64 nchannels, Size name_bytes)
{
	return sizeof(ChannelSummary) +
		nchannels * (sizeof(ChannelStats) + sizeof(int32)) + name_bytes;
}

/* A new empty state to return as a transition value, on scale. */
void
omnikpi_summary_state_new(StateRef *ref, FunctionCallInfo fcinfo, SummaryScale scale)
{
	omnikpi_state_new_value(ref, &omnikpi_summary_family, fcinfo, false);
	summary_set_scale(ref->body, scale);
}

/* A new empty state in home; moving keeps sums exact so that values can be removed. */
void
omnikpi_summary_state_new_private(StateRef *ref, MemoryContext home, SummaryScale scale,
								  bool moving)
{
	omnikpi_state_new_private(ref, &omnikpi_summary_family, home);
	summary_set_scale(ref->body, scale);
	summary_header(ref->body)->moving = moving;
}

/* The channel's tally, created with count 0 when new. */
static ChannelTally *
channel_tally(StateRef *ref, const KeyProbe *channel)
{
	int32		i = omnikpi_state_find_or_add(ref, SUMMARY_TABLE_CHANNELS, channel);

	return summary_tally(summary_channels(ref->body), i);
}

/* 54000 when the stored form could not hold one more channel. */
static void
summary_check_add(const StateBody *body, int table, int32 key_len)
{
	const KeyTable *channels = summary_channels(body);

	if (stored_size((int64) channels->nentries + 1, channels->total_length + key_len) > MaxAllocSize)
		omnikpi_report_too_large("channel_summary", NULL);
}

/* Add one value (already validated) to its channel. */
void
omnikpi_summary_state_add(StateRef *ref, const KeyProbe *channel, double value)
{
	ChannelTally *tally = channel_tally(ref, channel);

	if (!summary_header(ref->body)->moving)
		channel_tally_add(tally, value, channel, &omnikpi_no_scale, false);
	else
	{
		if (!omnikpi_channel_stats_add_exact(&tally->stats, &tally->sum_low, value))
			summary_header(ref->body)->inexact = true;
		if (unlikely(!isfinite(tally->stats.sum)))
			omnikpi_report_sum_out_of_range(channel->key, channel->len);
	}
	assert_state_valid(ref->body);
}

/*
 * Remove a value that was added before.  Returns false when the state can no
 * longer give exact sums, so the caller must recompute from scratch.
 */
bool
omnikpi_summary_state_remove(StateRef *ref, const KeyProbe *channel, double value)
{
	SummaryHeader *header = summary_header(ref->body);
	KeyTable   *channels = summary_channels(ref->body);
	int32		i = key_table_find(channels, channel);
	ChannelTally *tally;

	Assert(header->moving);
	if (i < 0 || summary_tally(channels, i)->stats.count == 0)
		elog(ERROR, "channel_summary: removing a value of channel \"%s\" that was never added",
			 omnikpi_clip_for_message(channel->key, channel->len));
	tally = summary_tally(channels, i);
	if (!omnikpi_channel_stats_remove(&tally->stats, &tally->sum_low, value))
		header->inexact = true;
	assert_state_valid(ref->body);
	return !header->inexact;
}

/*
 * Merge one channel's stats.  With reject_duplicate (reading a summary's text
 * or binary form) a channel that is already present is invalid input: then
 * nothing is merged and the result is false.  A count past the largest
 * bigint or a sum past the doubles is 22003.
 */
bool
omnikpi_summary_state_insert_stats(StateRef *ref, const char *name, int len,
								   const ChannelStats *stats, bool reject_duplicate)
{
	KeyProbe	channel;
	ChannelTally *tally;

	key_probe_init(&channel, name, len);
	tally = channel_tally(ref, &channel);
	if (reject_duplicate && tally->stats.count != 0)
		return false;
	if (!omnikpi_channel_stats_merge(&tally->stats, &tally->sum_low, stats))
		omnikpi_report_count_overflow(omnikpi_summary_family.type_name);
	if (!isfinite(tally->stats.sum))
		omnikpi_report_sum_out_of_range(name, len);
	assert_state_valid(ref->body);
	return true;
}

/* The KPI of a working state on scale: the mean over its channels' percentages. */
double
omnikpi_summary_state_kpi(const StateBody *body, SummaryScale scale, bool *isnull)
{
	const KeyTable *channels = summary_channels(body);
	KpiMean		kpi;
	int32		i;

	omnikpi_kpi_start(&kpi, scale.min, scale.max);
	for (i = 0; i < channels->nentries; i++)
	{
		const ChannelTally *tally = summary_tally(channels, i);

		omnikpi_kpi_add(&kpi, &tally->stats, tally->sum_low);
	}
	return omnikpi_kpi_result(&kpi, isnull);
}

/* The error of summary scales that differ, out of line. */
void
omnikpi_report_scale_mismatch(SummaryScale have, SummaryScale got)
{
	if (have.known && got.known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot mix the scales %s to %s and %s to %s in one aggregate",
						float8out_internal(have.min), float8out_internal(have.max),
						float8out_internal(got.min), float8out_internal(got.max)),
				 errhint("Use one scale for all rows and summaries that are aggregated together.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot mix a channel summary without a scale and one on the scale %s to %s in one aggregate",
					float8out_internal(have.known ? have.min : got.min),
					float8out_internal(have.known ? have.max : got.max)),
			 errdetail("Summaries of values have no scale; summaries of flags and the states of the KPI aggregates have one.")));
}

/* A channel's sum left the doubles: 22003. */
void
omnikpi_report_sum_out_of_range(const char *name, int len)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("sum of channel \"%s\" is out of range",
					omnikpi_clip_for_message(name, len))));
}

/* A new state from a stored summary takes its scale. */
static void
summary_take_parameters(StateBody *body, const void *stored)
{
	summary_set_scale(body, omnikpi_summary_scale((const ChannelSummary *) stored));
}

/* Add every channel of a stored summary; summaries on other scales are rejected. */
static void
summary_merge(StateRef *ref, const void *stored)
{
	const ChannelSummary *flat = (const ChannelSummary *) stored;
	const ChannelStats *stats = SUMMARY_STATS(flat);
	SummaryScale scale = omnikpi_summary_scale(flat);
	int			i;

	if (!summary_state_on_scale(ref->body, scale))
		omnikpi_report_scale_mismatch(summary_state_scale(ref->body), scale);
	for (i = 0; i < flat->h.nchannels; i++)
	{
		int			len;
		const char *name = flat_name(&SUMMARY_FLAT_NAMES(flat), i, &len);

		omnikpi_summary_state_insert_stats(ref, name, len, &stats[i], false);
	}
}

/* The stored form leaves out the channels a moving window emptied. */
static Size
summary_stored_size(const StateBody *body)
{
	const KeyTable *channels = summary_channels(body);
	int64		nchannels = 0;
	Size		name_bytes = 0;
	int32		i;

	for (i = 0; i < channels->nentries; i++)
		if (summary_tally(channels, i)->stats.count != 0)
		{
			nchannels++;
			name_bytes += key_table_key_length(channels, i);
		}
	return stored_size(nchannels, name_bytes);
}

/*
 * Write the stored form, channels in byte order of their names; the sum
 * written is high + low, rounded once.
 */
static void
summary_store(const StateBody *body, void *result, Size size)
{
	const SummaryHeader *header = summary_header(body);
	const KeyTable *channels = summary_channels(body);
	ChannelSummary *flat = (ChannelSummary *) result;
	/* a scanned table's order on the stack: a GROUP BY by customer stores a state a group */
	int32		scanned_order[KEY_TABLE_SCAN_MAX];
	int32	   *order = channels->nentries <= KEY_TABLE_SCAN_MAX ? scanned_order :
		palloc(channels->nentries * sizeof(int32));
	int32		nchannels = 0;
	ChannelStats *stats;
	int32		i;

	Assert(size == summary_stored_size(body));
	key_table_sort(channels, order);
	for (i = 0; i < channels->nentries; i++)
		if (summary_tally(channels, order[i])->stats.count != 0)
			order[nchannels++] = order[i];

	memset(flat, 0, sizeof(ChannelSummary));
	SET_VARSIZE(flat, size);
	flat->h.format = CHANNEL_SUMMARY_FORMAT;
	flat->h.flags = header->scale_known ? SUMMARY_HAS_SCALE : 0;
	flat->h.nchannels = nchannels;
	flat->scale_min = header->scale_known ? header->scale_min : 0.0;
	flat->scale_max = header->scale_known ? header->scale_max : 0.0;
	stats = SUMMARY_STATS(flat);
	for (i = 0; i < nchannels; i++)
	{
		const ChannelTally *tally = summary_tally(channels, order[i]);

		stats[i] = tally->stats;
		stats[i].sum += tally->sum_low;
	}
	flat_names_write(channels, order, nchannels, SUMMARY_NAME_ENDS(flat));
	if (order != scanned_order)
		pfree(order);
}

/*
 * Two channels to start with: a new state takes 248 bytes (a 256-byte
 * chunk), as a customer's or a day's state of few channels should when
 * there are a million of them.  Grown as a transition value, it takes the
 * room of its chunk: six channels in 512 bytes, thirteen in 1 kB.  Its
 * table is tagged: every row of the KPI aggregates looks a channel up.  In
 * the order of StateFamily: type, id, tables, header, payloads, initial
 * entries and key bytes, tagged tables, then the functions.
 */
const StateFamily omnikpi_summary_family = {
	"channel_summary", SUMMARY_FAMILY_ID, 1, sizeof(SummaryHeader), {sizeof(ChannelTally)}, {2}, {0},
	{true},
	summary_stored_size, summary_store, summary_check_add, summary_take_parameters, summary_merge,
	NULL, NULL, NULL
};
