/*
 * markov_functions.c: the readers of a markov_model: markov_attribution and
 * transitions.  Both solve or walk the model once per call, not per row,
 * and return their rows through a tuplestore.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "common/type_io.h"
#include "markov/markov.h"

/*
 * omnikpi_markov_attribution: per channel, in byte order of the names, the
 * conversions and conversion value shared out in proportion to its removal
 * effect, its share of the conversions, and the removal effect itself
 * (markov_solve.c says how): the columns of every attribution function
 * (common/channel_credits.h) and the model's own.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_attribution);
Datum
omnikpi_markov_attribution(PG_FUNCTION_ARGS)
{
	MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
	ChannelCredits credits;

	omnikpi_credits_init(&credits, MARKOV_FLAT_NAMES(model), true);
	omnikpi_markov_attribute(model, &credits);
	omnikpi_credits_return(fcinfo, &credits);
	return (Datum) 0;
}

/*
 * omnikpi_markov_transitions: transitions(model), every transition with
 * its count and its probability (count / all transitions out of the same
 * state), ordered by the first state, then the second, in the model's
 * canonical order.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_transitions);
Datum
omnikpi_markov_transitions(PG_FUNCTION_ARGS)
{
	const MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	StringInfoData name;
	int			first = 0;

	InitMaterializedSRF(fcinfo, 0);
	initStringInfo(&name);
	/* transitions are sorted by from: one group per state */
	while (first < model->ntransitions)
	{
		int			end = first;
		double		out = 0.0;
		int			i;

		while (end < model->ntransitions && transitions[end].from == transitions[first].from)
			out += transitions[end++].count;
		for (i = first; i < end; i++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			resetStringInfo(&name);
			omnikpi_markov_append_state_name(&name, model, transitions[i].from);
			values[0] = PointerGetDatum(cstring_to_text_with_len(name.data, name.len));
			resetStringInfo(&name);
			omnikpi_markov_append_state_name(&name, model, transitions[i].to);
			values[1] = PointerGetDatum(cstring_to_text_with_len(name.data, name.len));
			values[2] = Float8GetDatum(transitions[i].count);
			values[3] = Float8GetDatum(transitions[i].count / out);
			omnikpi_put_row(fcinfo, values, nulls);
		}
		first = end;
	}
	pfree(name.data);
	return (Datum) 0;
}
