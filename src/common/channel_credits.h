/*
 * channel_credits.h: what every attribution function over a summary
 * returns (markov_attribution, shapley_attribution, fractribution_attribution),
 * written once so that they agree: one row per channel, in byte order of
 * the names, with the columns
 *
 *   channel, conversions, value, share [, the model's own column]
 *
 * where conversions and value are what the model credits to the channel and
 * share = conversions / the summary's conversions, so the shares add up to 1
 * and the conversions to the summary's.  A summary without conversions has
 * nothing to attribute: the same error from every function.
 */
#ifndef OMNIKPI_CHANNEL_CREDITS_H
#define OMNIKPI_CHANNEL_CREDITS_H

#include "fmgr.h"

#include "common/flat_names.h"

typedef struct ChannelCredits
{
	FlatNames	names;			/* the channels, in byte order */
	double	   *conversions;	/* per channel */
	double	   *values;			/* per channel */
	double	   *extra;			/* the model's own column per channel, or NULL */
	double		total_conversions;
} ChannelCredits;

extern void omnikpi_credits_init(ChannelCredits *credits, FlatNames names, bool extra);
extern void omnikpi_check_conversions(const char *function, double conversions,
									  double journeys);
extern void omnikpi_credits_return(FunctionCallInfo fcinfo, const ChannelCredits *credits);

#endif							/* OMNIKPI_CHANNEL_CREDITS_H */
