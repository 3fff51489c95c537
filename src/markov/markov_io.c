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

#include "libpq/pqformat.h"
#include "utils/float.h"

#include "channel_summary/summary_text.h"
#include "common/messages.h"
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
} MarkovBuilder;

/* A state number for a parsed state, or -1 with *problem set. */
static int32
builder_state(MarkovBuilder *builder, const MarkovParsedState *parsed, const char **problem)
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
		channels[i] = omnikpi_markov_state_channel(&builder->state, parsed->names[i], parsed->lens[i]);
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
tuple_follows(const MarkovParsedState *from, const MarkovParsedState *to, int order)
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
same_last_channel(const MarkovParsedState *a, const MarkovParsedState *b)
{
	return a->lens[a->len - 1] == b->lens[b->len - 1] &&
		memcmp(a->names[a->len - 1], b->names[b->len - 1], a->lens[a->len - 1]) == 0;
}

static const char *
builder_add_transition(void *arg, const MarkovParsedState *from, const MarkovParsedState *to,
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

/* The flat model of what was read, checked as a whole; sqlstate for the error. */
static MarkovModel *
builder_finish(MarkovBuilder *builder, int sqlstate)
{
	MarkovModel *flat = omnikpi_state_store(builder->state.body, &omnikpi_markov_family);
	const char *problem = omnikpi_markov_model_invalid(flat);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("invalid Markov model"),
				 errdetail("%s", problem)));
	omnikpi_state_free(&builder->state);
	return flat;
}

/*
 * omnikpi_markov_in: markov_model from its JSON-shaped text (see
 * markov_text.h).  Every number, state and the structure are checked; a
 * problem is 22P02 with the place and the reason.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_in);
Datum
omnikpi_markov_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	char	   *name_buffer = palloc(strlen(text) + 1);
	MarkovBuilder builder = {{0}, 0, false};
	MarkovTextSink sink;
	MarkovParseError error;

	sink.arg = &builder;
	sink.set_order = builder_set_order;
	sink.add_transition = builder_add_transition;
	if (!omnikpi_markov_text_parse(text, name_buffer, &sink, &error))
		omnikpi_report_syntax_error("markov_model", text, &error);
	pfree(name_buffer);
	PG_RETURN_POINTER(builder_finish(&builder, ERRCODE_INVALID_TEXT_REPRESENTATION));
}

/* A state in the text form: "start", "conversion", "null" or ["a","b"]. */
static void
append_state_json(StringInfo out, const MarkovModel *model, int state)
{
	const int32 *channels;
	int			len;
	int			i;

	switch (state)
	{
		case MARKOV_START:
			appendStringInfoString(out, "\"start\"");
			return;
		case MARKOV_CONVERSION:
			appendStringInfoString(out, "\"conversion\"");
			return;
		case MARKOV_NULL:
			appendStringInfoString(out, "\"null\"");
			return;
	}
	channels = MARKOV_TUPLES(model) + (Size) (state - MARKOV_FIRST_TUPLE) * model->order;
	len = omnikpi_markov_tuple_length(model, state - MARKOV_FIRST_TUPLE);
	appendStringInfoChar(out, '[');
	for (i = 0; i < len; i++)
	{
		int			name_len;
		const char *name = flat_name(&MARKOV_FLAT_NAMES(model), channels[i], &name_len);

		if (i > 0)
			appendStringInfoChar(out, ',');
		omnikpi_summary_text_append_string(out, name, name_len);
	}
	appendStringInfoChar(out, ']');
}

/*
 * omnikpi_markov_out: the text form, transitions in the canonical order,
 * floats in the shortest form that reads back exactly.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_out);
Datum
omnikpi_markov_out(PG_FUNCTION_ARGS)
{
	MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	StringInfoData out;
	int			i;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"version\":1,\"order\":%d,%s\"transitions\":[", model->order,
					 (model->flags & MARKOV_KEEP_REPEATS) ? "\"repeats\":\"keep\"," : "");
	for (i = 0; i < model->ntransitions; i++)
	{
		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoChar(&out, '[');
		append_state_json(&out, model, transitions[i].from);
		appendStringInfoChar(&out, ',');
		append_state_json(&out, model, transitions[i].to);
		appendStringInfoChar(&out, ',');
		omnikpi_summary_text_append_double(&out, transitions[i].count);
		if (transitions[i].to == MARKOV_CONVERSION)
		{
			appendStringInfoChar(&out, ',');
			omnikpi_summary_text_append_double(&out, transitions[i].value);
		}
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_CSTRING(out.data);
}

/* A state of the binary form: kind byte, then for a tuple its length byte and names. */
static void
recv_state(StringInfo buf, MarkovParsedState *state)
{
	int			kind = pq_getmsgbyte(buf);
	int			i;

	if (kind < MARKOV_START || kind > MARKOV_FIRST_TUPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid state kind %d in binary markov_model", kind)));
	state->kind = kind;
	state->len = 0;
	if (kind != MARKOV_FIRST_TUPLE)
		return;
	state->len = pq_getmsgbyte(buf);
	if (state->len < 1 || state->len > MARKOV_MAX_ORDER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid channel state length %d in binary markov_model", state->len)));
	for (i = 0; i < state->len; i++)
	{
		int32		raw_len = pq_getmsgint(buf, 4);

		state->names[i] = pq_getmsgtext(buf, raw_len, &state->lens[i]);
	}
}

/*
 * omnikpi_markov_recv: binary input.  Layout: format byte (1), order byte,
 * flags byte (MARKOV_KEEP_REPEATS), int32 transition count, then per transition its two states (a kind byte:
 * 0 start, 1 conversion, 2 null, 3 channel state followed by a length byte
 * and that many names as int32 length and bytes, converted from the client
 * encoding), float8 count and float8 value.  The pq_getmsg functions check
 * every length against the message; the content gets the text input's
 * checks, as 22P03.
 */
PG_FUNCTION_INFO_V1(omnikpi_markov_recv);
Datum
omnikpi_markov_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	MarkovBuilder builder = {{0}, 0, false};
	int			format = pq_getmsgbyte(buf);
	int			order;
	int			flags;
	int32		ntransitions;
	const char *problem;
	int32		i;

	if (format != MARKOV_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary markov_model format %d", format),
				 errdetail("This build reads format %d.", MARKOV_FORMAT)));
	order = pq_getmsgbyte(buf);
	flags = pq_getmsgbyte(buf);
	if ((flags & ~MARKOV_KEEP_REPEATS) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid flags %d in binary markov_model", flags)));
	problem = builder_set_order(&builder, order, (flags & MARKOV_KEEP_REPEATS) != 0);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid order %d in binary markov_model", order),
				 errdetail("%s", problem)));
	ntransitions = pq_getmsgint(buf, 4);
	if (ntransitions < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid transition count %d in binary markov_model", ntransitions)));
	for (i = 0; i < ntransitions; i++)
	{
		MarkovParsedState from;
		MarkovParsedState to;
		double		count;
		double		value;

		recv_state(buf, &from);
		recv_state(buf, &to);
		count = pq_getmsgfloat8(buf);
		value = pq_getmsgfloat8(buf);
		problem = builder_add_transition(&builder, &from, &to, count,
										 to.kind == MARKOV_CONVERSION, value);
		if (problem == NULL && to.kind != MARKOV_CONVERSION && value != 0.0)
			problem = "Only a transition into \"conversion\" carries a value.";
		if (problem != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid transition %d in binary markov_model", i + 1),
					 errdetail("%s", problem)));
	}
	pq_getmsgend(buf);
	PG_RETURN_POINTER(builder_finish(&builder, ERRCODE_INVALID_BINARY_REPRESENTATION));
}

static void
send_state(StringInfo buf, const MarkovModel *model, int state)
{
	const int32 *channels;
	int			len;
	int			i;

	if (state < MARKOV_FIRST_TUPLE)
	{
		pq_sendbyte(buf, state);
		return;
	}
	channels = MARKOV_TUPLES(model) + (Size) (state - MARKOV_FIRST_TUPLE) * model->order;
	len = omnikpi_markov_tuple_length(model, state - MARKOV_FIRST_TUPLE);
	pq_sendbyte(buf, MARKOV_FIRST_TUPLE);
	pq_sendbyte(buf, len);
	for (i = 0; i < len; i++)
	{
		int			name_len;
		const char *name = flat_name(&MARKOV_FLAT_NAMES(model), channels[i], &name_len);

		pq_sendcountedtext(buf, name, name_len, false);
	}
}

/* omnikpi_markov_send: binary output, the layout omnikpi_markov_recv reads. */
PG_FUNCTION_INFO_V1(omnikpi_markov_send);
Datum
omnikpi_markov_send(PG_FUNCTION_ARGS)
{
	MarkovModel *model = PG_GETARG_MARKOV_MODEL_P(0);
	const MarkovTransition *transitions = MARKOV_TRANSITIONS(model);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, MARKOV_FORMAT);
	pq_sendbyte(&buf, model->order);
	pq_sendbyte(&buf, model->flags);
	pq_sendint32(&buf, model->ntransitions);
	for (i = 0; i < model->ntransitions; i++)
	{
		send_state(&buf, model, transitions[i].from);
		send_state(&buf, model, transitions[i].to);
		pq_sendfloat8(&buf, transitions[i].count);
		pq_sendfloat8(&buf, transitions[i].value);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
