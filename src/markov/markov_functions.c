/*
 * markov_functions.c: the readers of a markov_model, markov_attribution and
 * markov_transitions.  Both solve or walk the model once per call, not per
 * row, and return their rows through a tuplestore.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "markov/markov.h"

/*
 * omnikpi_markov_attribution: per channel, in byte order of the names, its
 * removal effect and its share of the observed conversions and conversion
 * value (markov_solve.c says how).  A model without conversions: 22023.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_attribution);
Datum
omnikpi_markov_attribution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
	MarkovChannelCredit *credits;
	int			c;

	InitMaterializedSRF(fcinfo, 0);
	credits = palloc(Max(model->nchannels, 1) * sizeof(MarkovChannelCredit));
	omnikpi_markov_attribute(model, credits);
	for (c = 0; c < model->nchannels; c++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			len;
		const char *name = omnikpi_markov_channel_name(model, c, &len);

		values[0] = PointerGetDatum(cstring_to_text_with_len(name, len));
		values[1] = Float8GetDatum(credits[c].removal_effect);
		values[2] = Float8GetDatum(credits[c].conversions);
		values[3] = Float8GetDatum(credits[c].value);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(credits);
	return (Datum) 0;
}

/*
 * omnikpi_markov_transitions: every transition with its count and its
 * probability (count / all transitions out of the same state), ordered by
 * the first state, then the second, in the model's canonical order.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_transitions);
Datum
omnikpi_markov_transitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
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
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		first = end;
	}
	pfree(name.data);
	return (Datum) 0;
}
