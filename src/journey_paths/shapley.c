/*
 * shapley.c: shapley_attribution, exact Shapley values of channels over the
 * channel sets of the journeys in a journey_paths summary.
 *
 * The players are the channels of the summary; a journey "belongs" to a
 * coalition S when every channel it touched is in S.  Two characteristic
 * functions:
 *
 *   conversions (Zhao et al. 2018, "Shapley Value Methods for Attribution
 *   Modeling in Online Advertising"): v(S) = conversions (for the value
 *   column: conversion value) of the journeys whose channel set is a subset
 *   of S.  v is the sum over observed channel sets T of v_T times the
 *   unanimity game of T (v_T = conversions of the journeys whose set is
 *   exactly T), and the Shapley value of a unanimity game splits it equally
 *   over T, so phi_i = sum over T containing i of v_T / |T|: each converting
 *   journey's conversions and value are split equally among its distinct
 *   channels.  Exact for any number of channels, in one pass over the paths.
 *
 *   conversion_rate: v(S) = conversions / journeys of the journeys whose
 *   channel set is a subset of S (0 when there are none).  Not additive, so
 *   the Shapley value needs the whole game: the totals per exact channel set
 *   are summed over subsets with a zeta transform (O(n 2^n)), then
 *   phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! *
 *   (v(S + i) - v(S)), again O(n 2^n), once per summary.  The values sum to
 *   the overall conversion rate; they are scaled by the number of journeys,
 *   so the conversions column sums to the conversions.  The value column is
 *   the same game with value per journey.  A channel can get negative credit:
 *   adding it to coalitions lowers their conversion rate.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "common/channel_credits.h"
#include "common/messages.h"
#include "journey_paths/journey_paths.h"

/* 2^20 coalitions, three arrays of float8: 24 MB, a fraction of a second */
#define SHAPLEY_MAX_CHANNELS	20

typedef enum ShapleyCharacteristic
{
	SHAPLEY_CONVERSIONS,
	SHAPLEY_CONVERSION_RATE
} ShapleyCharacteristic;

static ShapleyCharacteristic
characteristic_from_name(const char *name)
{
	static const char *const names[] = {"conversions", "conversion_rate"};

	return (ShapleyCharacteristic) omnikpi_word_arg(name, names, lengthof(names),
													"Shapley characteristic function",
													"Valid characteristic functions are conversions and conversion_rate.");
}

/*
 * The closed form of the conversions game: each path's conversions and value
 * split equally over its distinct channels.
 */
static void
shapley_conversions(const JourneyPaths *paths, double *conversions, double *values)
{
	const PathStats *stats = JP_STATS(paths);
	int32	   *seen = palloc(Max(paths->h.nchannels, 1) * sizeof(int32));
	int32	   *distinct = NULL;
	int			capacity = 0;
	int32		i;

	for (i = 0; i < paths->h.nchannels; i++)
		seen[i] = -1;
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			n = 0;
		int			k;

		if (stats[i].conversions == 0)
			continue;
		distinct = omnikpi_jp_scratch(distinct, &capacity, len, sizeof(int32));
		for (k = 0; k < len; k++)
			if (seen[steps[k]] != i)
			{
				seen[steps[k]] = i;
				distinct[n++] = steps[k];
			}
		for (k = 0; k < n; k++)
		{
			conversions[distinct[k]] += stats[i].conversions / n;
			values[distinct[k]] += stats[i].value / n;
		}
	}
	pfree(seen);
	if (distinct)
		pfree(distinct);
}

/* f(S) := sum of f(T) over the subsets T of S, for every S of n bits. */
static void
zeta_transform(double *f, int n)
{
	uint32		size = (uint32) 1 << n;
	uint32		player_bit;

	for (player_bit = 1; player_bit < size; player_bit <<= 1)
	{
		uint32		base;

		for (base = 0; base < size; base += 2 * player_bit)
		{
			uint32		m;

			for (m = base + player_bit; m < base + 2 * player_bit; m++)
				f[m] += f[m - player_bit];
		}
	}
}

/*
 * Shapley values of the game v (2^n entries) into phi.  For player i the
 * marginal contributions are summed per coalition size first, then weighted
 * by |S|! (n-|S|-1)! / n!, so each weight multiplies once.
 */
static void
shapley_of_game(const double *v, const uint8 *popcount, int n, double *phi)
{
	uint32		size = (uint32) 1 << n;
	double		weight[SHAPLEY_MAX_CHANNELS];
	double		by_size[SHAPLEY_MAX_CHANNELS];
	int			i;
	int			s;

	/* weight[s] = s! (n-1-s)! / n! = 1 / (n * C(n-1, s)) */
	weight[0] = 1.0 / n;
	for (s = 0; s + 1 < n; s++)
		weight[s + 1] = weight[s] * (s + 1) / (n - 1 - s);
	for (i = 0; i < n; i++)
	{
		uint32		player_bit = (uint32) 1 << i;
		uint32		base;
		double		sum = 0;

		memset(by_size, 0, sizeof(by_size));
		for (base = 0; base < size; base += 2 * player_bit)
		{
			uint32		m;

			for (m = base; m < base + player_bit; m++)
				by_size[popcount[m]] += v[m + player_bit] - v[m];
		}
		for (s = 0; s < n; s++)
			sum += weight[s] * by_size[s];
		phi[i] = sum;
	}
}

/*
 * The conversion-rate game: totals per exact channel set, summed over
 * subsets, turned into rates, and their Shapley values scaled by the number
 * of journeys.
 */
static void
shapley_conversion_rate(const JourneyPaths *paths, const JourneyTotals *totals,
						double *conversions, double *values)
{
	const PathStats *stats = JP_STATS(paths);
	int			n = paths->h.nchannels;
	uint32		size;
	double	   *journeys;
	double	   *converted;
	double	   *value;
	uint8	   *popcount;
	uint32		m;
	int32		i;

	if (n > SHAPLEY_MAX_CHANNELS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("shapley_attribution with the characteristic function conversion_rate supports at most %d channels, the summary has %d",
						SHAPLEY_MAX_CHANNELS, n),
				 errdetail("The game has 2^n coalitions, and each is evaluated."),
				 errhint("Use the characteristic function conversions, which is exact for any number of channels, or map rare channels to one channel such as 'other' before summarizing.")));
	size = (uint32) 1 << n;
	journeys = palloc0(size * sizeof(double));
	converted = palloc0(size * sizeof(double));
	value = palloc0(size * sizeof(double));
	popcount = palloc(size);

	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		uint32		set = 0;
		int			k;

		for (k = 0; k < len; k++)
			set |= (uint32) 1 << steps[k];
		journeys[set] += stats[i].conversions + stats[i].non_conversions;
		converted[set] += stats[i].conversions;
		value[set] += stats[i].value;
	}
	zeta_transform(journeys, n);
	zeta_transform(converted, n);
	zeta_transform(value, n);
	popcount[0] = 0;
	for (m = 1; m < size; m++)
		popcount[m] = popcount[m >> 1] + (m & 1);
	for (m = 0; m < size; m++)
	{
		converted[m] = journeys[m] > 0 ? converted[m] / journeys[m] : 0.0;
		value[m] = journeys[m] > 0 ? value[m] / journeys[m] : 0.0;
	}
	shapley_of_game(converted, popcount, n, conversions);
	shapley_of_game(value, popcount, n, values);
	for (i = 0; i < n; i++)
	{
		conversions[i] *= totals->journeys;
		values[i] *= totals->journeys;
	}
	pfree(journeys);
	pfree(converted);
	pfree(value);
	pfree(popcount);
}

/*
 * omnikpi_shapley_attribution: shapley_attribution(journey_paths,
 * characteristic): one row per channel with the conversions and value its
 * Shapley value credits to it and its share of the conversions.
 */
PG_FUNCTION_INFO_V1(omnikpi_shapley_attribution);
Datum
omnikpi_shapley_attribution(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	ShapleyCharacteristic characteristic = characteristic_from_name(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	JourneyTotals totals = omnikpi_jp_totals(paths, "shapley_attribution");
	ChannelCredits credits;

	omnikpi_credits_init(&credits, JP_FLAT_NAMES(paths), false);
	credits.total_conversions = totals.conversions;
	if (characteristic == SHAPLEY_CONVERSIONS)
		shapley_conversions(paths, credits.conversions, credits.values);
	else
		shapley_conversion_rate(paths, &totals, credits.conversions, credits.values);
	omnikpi_credits_return(fcinfo, &credits);
	return (Datum) 0;
}
