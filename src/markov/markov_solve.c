/*
 * markov_solve.c: exact removal effects of a Markov model.
 *
 * The transient states are (start) and the channel states; (conversion) and
 * (null) absorb.  With P the transition probabilities among transient
 * states (count / the state's outgoing count), b(s) = P(s -> conversion)
 * and r(s) = value(s -> conversion) / outgoing(s), the probability of
 * converting from s and the expected conversion value from s solve
 *
 *     (I - P) x = b,    (I - P) v = r.
 *
 * Removing channel c sends every transition into a state that contains c
 * to (null): those states drop out of the system (their x and v are 0) and
 * the rest is solved again.  removal_effect(c) = 1 - x_c(start) / x(start),
 * and likewise for value.
 *
 * The systems are solved directly, by Gaussian elimination, not estimated
 * by random walks: the results are deterministic and exact to rounding.
 * I - P is row diagonally dominant: each row of P sums to at most 1, so
 * 1 - P(s -> s) is at least the rest of the row (P has a diagonal only in a
 * model that keeps repeated channels, whose states may move to themselves;
 * a collapsing model's never do), and every state can end, so elimination
 * needs no pivoting and its growth factor is at most 2.  The states come sorted by
 * tuple length, and a tuple shorter than the order only moves to a longer
 * one, so only the block of full-length tuples has entries below the
 * diagonal; elimination skips zeros and costs little outside that block.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "markov/markov.h"

/* The chain, read once from the flat model. */
typedef struct Chain
{
	int32		n;				/* transient states: 0 is (start), i is tuple i - 1 */
	const MarkovTransition *transitions;
	int32	   *row_start;		/* transitions of transient i: row_start[i] .. row_start[i + 1] - 1 */
	double	   *out;			/* outgoing count per transient state */
	double	   *to_conversion;	/* b: P(s -> conversion) */
	double	   *to_value;		/* r: value(s -> conversion) / outgoing(s) */
} Chain;

/* Transient index of a state, or -1 for (conversion) and (null). */
static inline int32
transient_index(int32 state)
{
	if (state == MARKOV_START)
		return 0;
	if (state < MARKOV_FIRST_TUPLE)
		return -1;
	return state - MARKOV_FIRST_TUPLE + 1;
}

static void
chain_init(Chain *chain, const MarkovModel *model)
{
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	int32		n = model->ntuples + 1;
	int32		i;
	int32		t = 0;

	chain->n = n;
	chain->transitions = transitions;
	chain->row_start = palloc((n + 1) * sizeof(int32));
	chain->out = palloc0(n * sizeof(double));
	chain->to_conversion = palloc0(n * sizeof(double));
	chain->to_value = palloc0(n * sizeof(double));
	/* transitions are sorted by from, and (start) = 0 comes before the tuples */
	for (i = 0; i < n; i++)
	{
		chain->row_start[i] = t;
		while (t < model->ntransitions && transient_index(transitions[t].from) == i)
		{
			chain->out[i] += transitions[t].count;
			if (transitions[t].to == MARKOV_CONVERSION)
			{
				chain->to_conversion[i] += transitions[t].count;
				chain->to_value[i] += transitions[t].value;
			}
			t++;
		}
	}
	chain->row_start[n] = t;
	Assert(t == model->ntransitions);
	for (i = 0; i < n; i++)
		if (chain->out[i] > 0)
		{
			chain->to_conversion[i] /= chain->out[i];
			chain->to_value[i] /= chain->out[i];
		}
}

/*
 * Solve the system restricted to the kept transient states (kept[i] is the
 * position of state i in the system, or -1 when removed; (start) is kept at
 * position 0) and return x(start) and v(start).
 */
static void
solve(const Chain *chain, const int32 *kept, int32 nkept, double *x_start, double *v_start)
{
	double	   *a = MemoryContextAllocHuge(CurrentMemoryContext,
										   (Size) nkept * nkept * sizeof(double));
	double	   *b = palloc0(nkept * sizeof(double));
	double	   *r = palloc0(nkept * sizeof(double));
	int32	   *nonzero = palloc(nkept * sizeof(int32));
	int32		i;
	int32		j;
	int32		k;

	memset(a, 0, (Size) nkept * nkept * sizeof(double));
	for (i = 0; i < chain->n; i++)
	{
		int32		row = kept[i];
		double	   *arow;

		if (row < 0)
			continue;
		arow = a + (Size) row * nkept;
		arow[row] = 1.0;
		b[row] = chain->to_conversion[i];
		r[row] = chain->to_value[i];
		for (k = chain->row_start[i]; k < chain->row_start[i + 1]; k++)
		{
			int32		to = transient_index(chain->transitions[k].to);

			if (to >= 0 && kept[to] >= 0)
				arow[kept[to]] -= chain->transitions[k].count / chain->out[i];
		}
	}

	/* forward elimination, skipping zeros; no pivoting (see above) */
	for (k = 0; k < nkept; k++)
	{
		double	   *pivot_row = a + (Size) k * nkept;
		double		pivot = pivot_row[k];
		int32		nnonzero = 0;

		CHECK_FOR_INTERRUPTS();
		if (!(pivot > 0))
			elog(ERROR, "markov_model: singular chain at state %d", k);
		for (j = k + 1; j < nkept; j++)
			if (pivot_row[j] != 0.0)
				nonzero[nnonzero++] = j;
		for (i = k + 1; i < nkept; i++)
		{
			double	   *row = a + (Size) i * nkept;
			double		factor;

			if (row[k] == 0.0)
				continue;
			factor = row[k] / pivot;
			row[k] = 0.0;
			for (j = 0; j < nnonzero; j++)
				row[nonzero[j]] -= factor * pivot_row[nonzero[j]];
			b[i] -= factor * b[k];
			r[i] -= factor * r[k];
		}
	}

	/* back substitution, into b and r */
	for (i = nkept - 1; i >= 0; i--)
	{
		const double *row = a + (Size) i * nkept;
		double		bx = b[i];
		double		rx = r[i];

		for (j = i + 1; j < nkept; j++)
			if (row[j] != 0.0)
			{
				bx -= row[j] * b[j];
				rx -= row[j] * r[j];
			}
		b[i] = bx / row[i];
		r[i] = rx / row[i];
	}
	*x_start = b[0];
	*v_start = r[0];
	pfree(a);
	pfree(b);
	pfree(r);
	pfree(nonzero);
}

/* Does tuple (0-based) hold channel? */
static bool
tuple_holds(const MarkovModel *model, int32 tuple, int32 channel)
{
	const int32 *channels = MARKOV_TUPLES(model) + (Size) tuple * model->order;
	int			i;

	for (i = 0; i < model->order && channels[i] >= 0; i++)
		if (channels[i] == channel)
			return true;
	return false;
}

/* Scale effects to shares of total (all 0 when the effects are). */
static void
normalize(const double *effects, int n, double total, double *shares)
{
	double		sum = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		sum += effects[i];
	for (i = 0; i < n; i++)
		shares[i] = sum > 0 ? effects[i] / sum * total : 0.0;
}

/*
 * Removal effects and attributed conversions and value of every channel of
 * model, in its channel order, into credits (made by omnikpi_credits_init
 * with the model's names and the extra column, which gets the removal
 * effects).  Attributed conversions are the removal effects scaled to sum to
 * the observed conversions; attributed value is the value removal effects
 * scaled to sum to the observed conversion value.
 */
void
omnikpi_markov_attribute(const MarkovModel *model, ChannelCredits *credits)
{
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	Chain		chain;
	int32	   *kept;
	double	   *value_effects;
	double		total_conversions = 0.0;
	double		total_value = 0.0;
	double		journeys = 0.0;
	double		x_start;
	double		v_start;
	int32		c;
	int32		i;

	for (i = 0; i < model->ntransitions; i++)
	{
		if (transitions[i].from == MARKOV_START)
			journeys += transitions[i].count;
		if (transitions[i].to == MARKOV_CONVERSION)
		{
			total_conversions += transitions[i].count;
			total_value += transitions[i].value;
		}
	}
	omnikpi_check_conversions("markov_attribution", total_conversions, journeys);
	credits->total_conversions = total_conversions;
	if (model->ntuples + 1 > MARKOV_MAX_SOLVE_STATES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Markov model has %d channel states, more than the %d that can be solved",
						model->ntuples, MARKOV_MAX_SOLVE_STATES - 1),
				 errhint("Use a lower order, or group rare channels together.")));

	chain_init(&chain, model);
	kept = palloc(chain.n * sizeof(int32));
	for (i = 0; i < chain.n; i++)
		kept[i] = i;
	solve(&chain, kept, chain.n, &x_start, &v_start);
	/* a model with conversions converts from (start): every state can end */
	if (!(x_start > 0))
		elog(ERROR, "markov_model: conversions that (start) cannot reach");

	value_effects = palloc(Max(model->h.nchannels, 1) * sizeof(double));
	for (c = 0; c < model->h.nchannels; c++)
	{
		int32		nkept = 1;
		double		x_removed;
		double		v_removed;

		kept[0] = 0;
		for (i = 1; i < chain.n; i++)
			kept[i] = tuple_holds(model, i - 1, c) ? -1 : nkept++;
		solve(&chain, kept, nkept, &x_removed, &v_removed);
		/* removing a channel cannot raise either; clamp rounding below 0 */
		credits->extra[c] = Max(0.0, 1.0 - x_removed / x_start);
		value_effects[c] = v_start > 0 ? Max(0.0, 1.0 - v_removed / v_start) : 0.0;
	}
	normalize(credits->extra, model->h.nchannels, total_conversions, credits->conversions);
	normalize(value_effects, model->h.nchannels, total_value, credits->values);
	pfree(kept);
	pfree(value_effects);
}
