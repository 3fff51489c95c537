/*
 * fractribution.c: fractribution_attribution, the attribution model of
 * Google's fractribution (its "shapley" model, a simplified Shapley value),
 * over a journey_paths summary.
 *
 * Paths are summarized with consecutive repeats collapsed (fractribution's
 * "exposure" path transform).  For each path with conversions:
 *   p(path) = conversions / (conversions + non_conversions) of that path;
 *   for each position k, the counterfactual path is the path with the
 *   channel at k removed, looked up as it is (it is not collapsed again, as
 *   in fractribution: removing b from a > b > a gives a > a, which is never
 *   observed), with p = 0 when that path was never observed;
 *   marginal(k) = max(p(path) - p(counterfactual), 0), and a path of one
 *   channel gets marginal p(path);
 *   the marginals are normalized to sum to 1 (all 0: the last channel gets
 *   1, last touch), and the path's conversions and value are credited to the
 *   channels in those proportions, summed when a channel occurs twice.
 *
 * Counterfactual paths are found through a hash index of the summary's
 * paths.  The hash is polynomial, so the hash of a path without position k
 * comes from its prefix hashes in O(1); only a hash match is compared step
 * by step.
 */
#include "postgres.h"

#include "funcapi.h"

#include "common/channel_credits.h"
#include "journey_paths/journey_paths.h"

/* A slot of the index: a path's polynomial hash and its number + 1 (0: empty). */
typedef struct PathSlot
{
	uint32		hash;
	int32		path;
} PathSlot;

typedef struct PathIndex
{
	const JourneyPaths *paths;
	PathSlot   *slots;
	uint32		mask;
} PathIndex;

static void
index_build(PathIndex *index, const JourneyPaths *paths)
{
	uint32		nslots = 4;
	int32		i;

	while (nslots < 2 * (uint32) paths->npaths)
		nslots *= 2;
	index->paths = paths;
	index->mask = nslots - 1;
	index->slots = palloc_extended((Size) nslots * sizeof(PathSlot),
								   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		uint64		h = 0;
		uint32		hash;
		uint32		slot;
		int			k;

		for (k = 0; k < len; k++)
			h = jp_hash_step(h, steps[k]);
		hash = jp_hash_finish(h, len);
		for (slot = hash & index->mask; index->slots[slot].path != 0; slot = (slot + 1) & index->mask)
			;
		index->slots[slot].hash = hash;
		index->slots[slot].path = i + 1;
	}
}

/*
 * Conversion probability of the path steps[] without position skip (whose
 * polynomial hash is h), or 0 when that path was never observed.
 */
static double
counterfactual_probability(const PathIndex *index, const int32 *steps, int len, int skip,
						   uint64 h)
{
	uint32		hash = jp_hash_finish(h, len - 1);
	uint32		slot;

	for (slot = hash & index->mask; index->slots[slot].path != 0; slot = (slot + 1) & index->mask)
	{
		int32		found = index->slots[slot].path - 1;
		int			found_len;
		const int32 *found_steps;
		int			k;

		if (index->slots[slot].hash != hash)
			continue;
		found_steps = omnikpi_jp_path(index->paths, found, &found_len);
		if (found_len != len - 1)
			continue;
		for (k = 0; k < found_len; k++)
			if (found_steps[k] != steps[k < skip ? k : k + 1])
				break;
		if (k == found_len)
		{
			const PathStats *stats = &JP_STATS(index->paths)[found];

			return stats->conversions / (stats->conversions + stats->non_conversions);
		}
	}
	return 0.0;
}

/* Fractribution credits of every channel, into conversions and values. */
static void
fractribution(const JourneyPaths *paths, double *conversions, double *values)
{
	const PathStats *stats = JP_STATS(paths);
	PathIndex	index;
	int			max_len = 1;
	uint64	   *prefix;
	uint64	   *power;
	double	   *marginal;
	int32		i;

	index_build(&index, paths);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;

		(void) omnikpi_jp_path(paths, i, &len);
		max_len = Max(max_len, len);
	}
	prefix = palloc_extended((max_len + 1) * sizeof(uint64), MCXT_ALLOC_HUGE);
	power = palloc_extended((max_len + 1) * sizeof(uint64), MCXT_ALLOC_HUGE);
	marginal = palloc_extended(max_len * sizeof(double), MCXT_ALLOC_HUGE);
	power[0] = 1;
	for (i = 1; i <= max_len; i++)
		power[i] = power[i - 1] * JP_HASH_BASE;

	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		double		p;
		double		sum = 0;
		int			k;

		if (stats[i].conversions == 0)
			continue;
		p = stats[i].conversions / (stats[i].conversions + stats[i].non_conversions);
		if (len == 1)
		{
			conversions[steps[0]] += stats[i].conversions;
			values[steps[0]] += stats[i].value;
			continue;
		}
		prefix[0] = 0;
		for (k = 0; k < len; k++)
			prefix[k + 1] = jp_hash_step(prefix[k], steps[k]);
		for (k = 0; k < len; k++)
		{
			/* hash of the path without k: prefix before k, shifted, plus the suffix after k */
			uint64		suffix = prefix[len] - prefix[k + 1] * power[len - 1 - k];
			uint64		h = prefix[k] * power[len - 1 - k] + suffix;
			double		m = p - counterfactual_probability(&index, steps, len, k, h);

			marginal[k] = m > 0 ? m : 0.0;
			sum += marginal[k];
		}
		if (sum == 0)
		{
			/* no channel made a difference: last touch */
			conversions[steps[len - 1]] += stats[i].conversions;
			values[steps[len - 1]] += stats[i].value;
			continue;
		}
		for (k = 0; k < len; k++)
		{
			double		share = marginal[k] / sum;

			conversions[steps[k]] += share * stats[i].conversions;
			values[steps[k]] += share * stats[i].value;
		}
	}
	pfree(index.slots);
	pfree(prefix);
	pfree(power);
	pfree(marginal);
}

/*
 * omnikpi_fractribution_attribution: fractribution_attribution(journey_paths):
 * one row per channel with the conversions and value fractribution credits
 * to it and its share of the conversions.
 */
PG_FUNCTION_INFO_V1(omnikpi_fractribution_attribution);
Datum
omnikpi_fractribution_attribution(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	JourneyTotals totals = omnikpi_jp_totals(paths, "fractribution_attribution");
	ChannelCredits credits;

	omnikpi_credits_init(&credits, JP_FLAT_NAMES(paths), false);
	credits.total_conversions = totals.conversions;
	fractribution(paths, credits.conversions, credits.values);
	omnikpi_credits_return(fcinfo, &credits);
	return (Datum) 0;
}
