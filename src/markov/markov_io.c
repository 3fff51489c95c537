/*
 * markov_io.c: the markov_model type's flat form and its text and binary
 * input/output.
 *
 * Both inputs trust nothing: they go through one builder that checks every
 * transition (positive finite counts, values only into (conversion), states
 * that fit the order and follow from each other as a journey would, no
 * duplicates), then builds the canonical flat form and checks that every
 * state can end in (conversion) or (null), which the solver needs.  Floats
 * are written in their shortest exact form and read back bit for bit.
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "common/binary_io.h"
#include "common/messages.h"
#include "common/type_io.h"
#include "markov/markov.h"
#include "markov/markov_text.h"

/* ---- the flat form ---- */

/* Channels in tuple number tuple (state MARKOV_FIRST_TUPLE + tuple). */
int
omnikpi_markov_tuple_length(const MarkovModel *model, int tuple)
{
	const int32 *channels = MARKOV_TUPLES(model) + (Size) tuple * model->order;
	int			len = 0;

	while (len < model->order && channels[len] >= 0)
		len++;
	return len;
}

/*
 * A state as people read it: (start), (conversion), (null), or the channels
 * of a channel state joined by " > ".  For display: a channel whose name
 * contains " > " or is "(null)" makes it ambiguous, the text form is not.
 */
void
omnikpi_markov_append_state_name(StringInfo out, const MarkovModel *model, int state)
{
	const int32 *channels;
	int			len;
	int			i;

	switch (state)
	{
		case MARKOV_START:
			appendStringInfoString(out, "(start)");
			return;
		case MARKOV_CONVERSION:
			appendStringInfoString(out, "(conversion)");
			return;
		case MARKOV_NULL:
			appendStringInfoString(out, "(null)");
			return;
	}
	channels = MARKOV_TUPLES(model) + (Size) (state - MARKOV_FIRST_TUPLE) * model->order;
	len = omnikpi_markov_tuple_length(model, state - MARKOV_FIRST_TUPLE);
	for (i = 0; i < len; i++)
	{
		int			name_len;
		const char *name = flat_name(&MARKOV_FLAT_NAMES(model), channels[i], &name_len);

		if (i > 0)
			appendStringInfoString(out, " > ");
		appendBinaryStringInfo(out, name, name_len);
	}
}

/*
 * NULL when every state of the model can end in (conversion) or (null),
 * else the problem.  The solver needs this: a state that cannot be left
 * makes the chain's linear system singular.  Models built from journeys
 * always pass; a hand-written text form may not.
 */
const char *
omnikpi_markov_model_invalid(const MarkovModel *model)
{
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	int32		nstates = model->ntuples + MARKOV_FIRST_TUPLE;
	int32	   *in_start = palloc0((nstates + 1) * sizeof(int32));
	int32	   *in_from = palloc(Max(model->ntransitions, 1) * sizeof(int32));
	int32	   *queue = palloc(nstates * sizeof(int32));
	bool	   *ends = palloc0(nstates * sizeof(bool));
	bool	   *used = palloc0(nstates * sizeof(bool));
	int32		head = 0;
	int32		tail = 0;
	int32		i;
	const char *problem = NULL;

	/* the transitions into each state, as lists of their first states */
	for (i = 0; i < model->ntransitions; i++)
	{
		in_start[transitions[i].to + 1]++;
		used[transitions[i].from] = true;
		used[transitions[i].to] = true;
	}
	for (i = 0; i < nstates; i++)
		in_start[i + 1] += in_start[i];
	for (i = 0; i < model->ntransitions; i++)
		in_from[in_start[transitions[i].to]++] = transitions[i].from;
	for (i = nstates; i > 0; i--)
		in_start[i] = in_start[i - 1];
	in_start[0] = 0;

	/* breadth first, backwards from the absorbing states */
	ends[MARKOV_CONVERSION] = true;
	ends[MARKOV_NULL] = true;
	queue[tail++] = MARKOV_CONVERSION;
	queue[tail++] = MARKOV_NULL;
	while (head < tail)
	{
		int32		state = queue[head++];

		for (i = in_start[state]; i < in_start[state + 1]; i++)
			if (!ends[in_from[i]])
			{
				ends[in_from[i]] = true;
				queue[tail++] = in_from[i];
			}
	}
	for (i = 0; i < nstates; i++)
		if (used[i] && !ends[i])
		{
			problem = "A state cannot reach \"conversion\" or \"null\": every state a journey enters must be left.";
			break;
		}
	pfree(in_start);
	pfree(in_from);
	pfree(queue);
	pfree(ends);
	pfree(used);
	return problem;
}

/* ---- the builder shared by the text and binary inputs ---- */

typedef struct MarkovBuilder
{
	StateRef	state;			/* a private working state, once the order is known */
	int			order;
	bool		keep_repeats;
	int			errcode;		/* of a model that fails as a whole */
} MarkovBuilder;

static void
builder_start(void *arg, int errcode)
{
	((MarkovBuilder *) arg)->errcode = errcode;
}

/* A state number for a parsed state, or -1 with *problem set. */
static int32
builder_state(MarkovBuilder *builder, const MarkovTextState *parsed, const char **problem)
{
	int32		channels[MARKOV_MAX_ORDER];
	int			i;

	if (parsed->kind != MARKOV_FIRST_TUPLE)
		return parsed->kind;
	if (parsed->len < 1 || parsed->len > builder->order)
	{
		*problem = "A channel state holds 1 to order channels.";
		return -1;
	}
	for (i = 0; i < parsed->len; i++)
	{
		channels[i] = omnikpi_state_channel(&builder->state, parsed->names[i], parsed->lens[i]);
		if (i > 0 && channels[i] == channels[i - 1] && !builder->keep_repeats)
		{
			*problem = "A channel state cannot hold the same channel twice in a row: repeats collapse.";
			return -1;
		}
	}
	return omnikpi_markov_state_tuple(&builder->state, channels, parsed->len);
}

/*
 * Does to follow from from as one more touch of a journey?  From (start):
 * a 1-tuple.  From a tuple of length L < order: the tuple extended by one
 * channel; at full length: the tuple without its first channel, extended.
 */
static bool
tuple_follows(const MarkovTextState *from, const MarkovTextState *to, int order)
{
	int			keep;
	int			shift;
	int			i;

	if (from->kind == MARKOV_START)
		return to->len == 1;
	if (to->len != Min(from->len + 1, order))
		return false;
	shift = from->len == order ? 1 : 0;
	keep = from->len - shift;
	for (i = 0; i < keep; i++)
		if (from->lens[i + shift] != to->lens[i] ||
			memcmp(from->names[i + shift], to->names[i], to->lens[i]) != 0)
			return false;
	return true;
}

static const char *
builder_set_order(void *arg, int64 order, bool keep_repeats)
{
	MarkovBuilder *builder = (MarkovBuilder *) arg;

	if (order < 1 || order > MARKOV_MAX_ORDER)
		return "The order must be 1 to 4.";
	builder->order = (int) order;
	builder->keep_repeats = keep_repeats;
	omnikpi_markov_state_new_private(&builder->state, builder->order, keep_repeats);
	markov_header(builder->state.body)->reject_duplicates = true;
	return NULL;
}

/* The last channel of a parsed channel state is the same as of another's. */
static bool
same_last_channel(const MarkovTextState *a, const MarkovTextState *b)
{
	return a->lens[a->len - 1] == b->lens[b->len - 1] &&
		memcmp(a->names[a->len - 1], b->names[b->len - 1], a->lens[a->len - 1]) == 0;
}

static const char *
builder_add_transition(void *arg, const MarkovTextState *from, const MarkovTextState *to,
					   double count, bool has_value, double value)
{
	MarkovBuilder *builder = (MarkovBuilder *) arg;
	const char *problem = NULL;
	int32		from_state;
	int32		to_state;

	if (!(count > 0) || !isfinite(count))
		return "A transition count must be positive and finite.";
	if (from->kind == MARKOV_CONVERSION || from->kind == MARKOV_NULL)
		return "No transition leaves \"conversion\" or \"null\".";
	if (to->kind == MARKOV_START)
		return "No transition enters \"start\".";
	if (from->kind == MARKOV_START && to->kind != MARKOV_FIRST_TUPLE)
		return "A journey touches a channel before it ends: \"start\" moves to a channel state only.";
	if (to->kind == MARKOV_CONVERSION && !has_value)
		return "A transition into \"conversion\" carries its conversion value as a fourth element.";
	if (to->kind != MARKOV_CONVERSION && has_value)
		return "Only a transition into \"conversion\" carries a value.";
	if (has_value && (!(value >= 0) || !isfinite(value)))
		return "A conversion value must be finite and not negative.";
	if (to->kind == MARKOV_FIRST_TUPLE && from->kind == MARKOV_FIRST_TUPLE &&
		from->len >= 1 && from->len <= builder->order && to->len >= 1 &&
		!tuple_follows(from, to, builder->order))
		return "The second state does not follow from the first by one more touch.";
	if (from->kind == MARKOV_START && to->len != 1)
		return "\"start\" moves to a state of one channel.";
	if (to->kind == MARKOV_FIRST_TUPLE && from->kind == MARKOV_FIRST_TUPLE &&
		from->len >= 1 && to->len >= 1 && !builder->keep_repeats && same_last_channel(from, to))
		return "A journey touches a channel twice in a row only in a model that keeps repeats.";
	from_state = builder_state(builder, from, &problem);
	if (from_state < 0)
		return problem;
	to_state = builder_state(builder, to, &problem);
	if (to_state < 0)
		return problem;
	if (!omnikpi_markov_state_add_transition(&builder->state, from_state, to_state, count,
											 has_value ? value : 0.0))
		return "A transition appears twice.";
	return NULL;
}

/* The flat model of what was read, checked as a whole. */
static void *
builder_finish(void *arg)
{
	MarkovBuilder *builder = (MarkovBuilder *) arg;
	MarkovModel *flat = omnikpi_state_finish(&builder->state, &omnikpi_markov_family);
	const char *problem = omnikpi_markov_model_invalid(flat);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(builder->errcode),
				 errmsg("invalid Markov model"),
				 errdetail("%s", problem)));
	return flat;
}

/* The text form (see markov_text.h), read into the builder. */
static bool
parse_text(const char *text, char *name_buffer, void *builder, OmnikpiJsonError *error)
{
	MarkovTextSink sink = {builder, builder_set_order, builder_add_transition};

	return omnikpi_markov_text_parse(text, name_buffer, &sink, error);
}

/* A state of a stored model as its text form spells it. */
static void
state_text(const MarkovModel *model, int state, MarkovTextState *text)
{
	const int32 *channels;
	int			i;

	text->kind = Min(state, MARKOV_FIRST_TUPLE);
	text->len = 0;
	if (state < MARKOV_FIRST_TUPLE)
		return;
	channels = MARKOV_TUPLES(model) + (Size) (state - MARKOV_FIRST_TUPLE) * model->order;
	text->len = omnikpi_markov_tuple_length(model, state - MARKOV_FIRST_TUPLE);
	for (i = 0; i < text->len; i++)
		text->names[i] = flat_name(&MARKOV_FLAT_NAMES(model), channels[i], &text->lens[i]);
}

/*
 * The text form: transitions in the canonical order, floats in the
 * shortest form that reads back exactly.
 */
static void
write_text(StringInfo out, const void *stored)
{
	const MarkovModel *model = stored;
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	int			i;

	omnikpi_markov_text_append_start(out, model->order,
									 (model->h.flags & MARKOV_KEEP_REPEATS) != 0);
	for (i = 0; i < model->ntransitions; i++)
	{
		MarkovTextState from;
		MarkovTextState to;

		state_text(model, transitions[i].from, &from);
		state_text(model, transitions[i].to, &to);
		omnikpi_markov_text_append_transition(out, i, &from, &to, transitions[i].count,
											  transitions[i].to == MARKOV_CONVERSION,
											  transitions[i].value);
	}
	omnikpi_markov_text_append_end(out);
}

/* A state of the binary form: kind byte, then for a tuple its length byte and names. */
static void
recv_state(BinaryReader *reader, MarkovTextState *state)
{
	int			kind = omnikpi_binary_get_byte(reader);
	int			i;

	if (kind < MARKOV_START || kind > MARKOV_FIRST_TUPLE)
		omnikpi_report_invalid_binary(psprintf("invalid state kind %d in binary markov_model",
											   kind), NULL);
	state->kind = kind;
	state->len = 0;
	if (kind != MARKOV_FIRST_TUPLE)
		return;
	state->len = omnikpi_binary_get_byte(reader);
	if (state->len < 1 || state->len > MARKOV_MAX_ORDER)
		omnikpi_report_invalid_binary(psprintf("invalid channel state length %d in binary markov_model",
											   state->len), NULL);
	for (i = 0; i < state->len; i++)
		state->names[i] = omnikpi_binary_get_name(reader, &state->lens[i]);
}

/*
 * The binary form.  Layout: format byte (1), order byte, flags byte
 * (MARKOV_KEEP_REPEATS), int32 transition count, then per transition its
 * two states (a kind byte: 0 start, 1 conversion, 2 null, 3 channel state
 * followed by a length byte and that many names as int32 length and bytes,
 * converted from the client encoding), float8 count and float8 value.  The
 * content gets the text input's checks.
 */
static void
read_binary(BinaryReader *reader, void *arg)
{
	MarkovBuilder *builder = (MarkovBuilder *) arg;
	const char *problem;
	int			order;
	int			flags;
	int32		ntransitions;
	int32		i;

	omnikpi_binary_check_format("markov_model", omnikpi_binary_get_byte(reader), MARKOV_FORMAT);
	order = omnikpi_binary_get_byte(reader);
	flags = omnikpi_binary_get_byte(reader);
	if ((flags & ~MARKOV_KEEP_REPEATS) != 0)
		omnikpi_report_invalid_binary(psprintf("invalid flags %d in binary markov_model", flags),
									  NULL);
	problem = builder_set_order(builder, order, (flags & MARKOV_KEEP_REPEATS) != 0);
	if (problem != NULL)
		omnikpi_report_invalid_binary(psprintf("invalid order %d in binary markov_model", order),
									  problem);
	ntransitions = omnikpi_binary_get_int32(reader);
	if (ntransitions < 0)
		omnikpi_report_invalid_binary(psprintf("invalid transition count %d in binary markov_model",
											   ntransitions), NULL);
	for (i = 0; i < ntransitions; i++)
	{
		MarkovTextState from;
		MarkovTextState to;
		double		count;
		double		value;

		recv_state(reader, &from);
		recv_state(reader, &to);
		count = omnikpi_binary_get_float8(reader);
		value = omnikpi_binary_get_float8(reader);
		problem = builder_add_transition(builder, &from, &to, count,
										 to.kind == MARKOV_CONVERSION, value);
		if (problem == NULL && to.kind != MARKOV_CONVERSION && value != 0.0)
			problem = "Only a transition into \"conversion\" carries a value.";
		if (problem != NULL)
			omnikpi_report_invalid_binary(psprintf("invalid transition %d in binary markov_model",
												   i + 1), problem);
	}
}

static void
send_state(StringInfo out, const MarkovModel *model, int state)
{
	const int32 *channels;
	int			len;
	int			i;

	if (state < MARKOV_FIRST_TUPLE)
	{
		binary_append_byte(out, state);
		return;
	}
	channels = MARKOV_TUPLES(model) + (Size) (state - MARKOV_FIRST_TUPLE) * model->order;
	len = omnikpi_markov_tuple_length(model, state - MARKOV_FIRST_TUPLE);
	binary_append_byte(out, MARKOV_FIRST_TUPLE);
	binary_append_byte(out, len);
	for (i = 0; i < len; i++)
	{
		int			name_len;
		const char *name = flat_name(&MARKOV_FLAT_NAMES(model), channels[i], &name_len);

		omnikpi_binary_append_name(out, name, name_len);
	}
}

/* The binary form read_binary reads. */
static void
write_binary(StringInfo out, const void *stored)
{
	const MarkovModel *model = stored;
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	int			i;

	binary_append_byte(out, MARKOV_FORMAT);
	binary_append_byte(out, model->order);
	binary_append_byte(out, model->h.flags);
	binary_append_int32(out, model->ntransitions);
	for (i = 0; i < model->ntransitions; i++)
	{
		send_state(out, model, transitions[i].from);
		send_state(out, model, transitions[i].to);
		binary_append_float8(out, transitions[i].count);
		binary_append_float8(out, transitions[i].value);
	}
}

/*
 * omnikpi_markov_in, _out, _recv, _send: the type's input and output
 * functions (common/type_io.h).  Both inputs check every number, state and
 * the structure: text problems are 22P02 with the place and the reason,
 * binary ones 22P03, or 08P01 for a message cut short or too long.
 */
OMNIKPI_TYPE_IO_FUNCTIONS(omnikpi_markov_in, omnikpi_markov_out, omnikpi_markov_recv, omnikpi_markov_send,
						  omnikpi_markov_family, MarkovBuilder)
