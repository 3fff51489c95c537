/*
 * markov.h: the markov_model type, its working state and its solver.
 *
 * A Markov model of customer journeys holds transition counts between
 * states: (start), channel states, (conversion) and (null).  At order k a
 * channel state is the tuple of the journey's last k channels (fewer at the
 * beginning of a journey: after its first touch the state is the 1-tuple of
 * that channel, after the second a 2-tuple, ...).
 *
 * Two conventions for a channel touched twice in a row.  By default the
 * repeats collapse into one touch (a > a > b is a > b), so no tuple holds
 * the same channel twice in a row and no state moves to itself.  A model
 * that keeps them (MARKOV_KEEP_REPEATS, the ChannelAttribution package's
 * convention) builds its states from the path as it is: a > a > b passes
 * through the state (a, a) at order 2, and (a) moves to itself at order 1.
 * At order 1 both give the same removal effects (a state's loop to itself
 * only delays the journey); from order 2 on they differ.
 *
 * Like channel_summary it exists in three forms:
 *   - the flat varlena MarkovModel: what is stored, sent and printed
 *     (markov_io.c), canonical so that equal models are equal bytes;
 *   - the aggregates' working state, one of the engine's StateBody
 *     (common/aggregate_state.h) with key tables of channels, states and
 *     transitions (markov_state.c);
 *   - the solver's dense matrices, built from a flat model per call
 *     (markov_solve.c).
 */
#ifndef OMNIKPI_MARKOV_H
#define OMNIKPI_MARKOV_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"

#include "common/aggregate_state.h"
#include "common/channel_credits.h"
#include "common/flat_names.h"

#define MARKOV_FORMAT		1	/* bump when the on-disk layout changes */
#define MARKOV_MAX_ORDER	4
#define MARKOV_KEEP_REPEATS	0x01	/* MarkovModel.flags: repeated channels are kept */

/* State numbers shared by every form; channel states follow from 3 on. */
#define MARKOV_START		0
#define MARKOV_CONVERSION	1
#define MARKOV_NULL			2
#define MARKOV_FIRST_TUPLE	3

/*
 * One transition of the flat form.  value is the summed conversion value of
 * the journeys that took it and is nonzero only on transitions into
 * (conversion).
 */
typedef struct MarkovTransition
{
	int32		from;
	int32		to;
	double		count;
	double		value;
} MarkovTransition;

/*
 * The stored form.  After the 24-byte header come ntransitions
 * MarkovTransition sorted by (from, to); then ntuples * order int32 channel
 * indexes, one tuple per channel state (state MARKOV_FIRST_TUPLE + i is
 * tuple i), a tuple shorter than order padded with -1; then nchannels int32
 * end offsets of the channel names, then the names (no terminators).
 * Channels are in byte order of their names; tuples are sorted by length,
 * then channel by channel.
 */
typedef struct MarkovModel
{
	StoredHeader h;				/* format MARKOV_FORMAT, flags MARKOV_KEEP_REPEATS */
	int32		ntuples;
	int32		ntransitions;
	uint8		order;			/* 1 .. MARKOV_MAX_ORDER */
	uint8		reserved2[3];	/* zero; pads the header to 24 bytes */
} MarkovModel;

#define MARKOV_TRANSITIONS(m) \
	((MarkovTransition *) ((char *) (m) + sizeof(MarkovModel)))
#define MARKOV_TUPLES(m) \
	((int32 *) (MARKOV_TRANSITIONS(m) + (m)->ntransitions))
#define MARKOV_NAME_ENDS(m) \
	(MARKOV_TUPLES(m) + (Size) (m)->ntuples * (m)->order)
#define MARKOV_FLAT_NAMES(m)	STORED_FLAT_NAMES(m, MARKOV_NAME_ENDS(m))
/* Any markov_model datum in its stored form (a working state is stored first). */
#define DatumGetMarkovModelP(d) \
	((MarkovModel *) omnikpi_state_stored((d), &omnikpi_markov_family))
#define PG_GETARG_MARKOV_MODEL_P(n)	DatumGetMarkovModelP(PG_GETARG_DATUM(n))

extern Size omnikpi_markov_flat_size(int order, int64 nchannels, int64 ntuples,
									 int64 ntransitions, Size name_bytes);
extern int	omnikpi_markov_tuple_length(const MarkovModel *model, int tuple);
extern void omnikpi_markov_append_state_name(StringInfo out, const MarkovModel *model, int state);
extern const char *omnikpi_markov_model_invalid(const MarkovModel *model);

/* ---- working state (markov_state.c) ---- */

/*
 * The family's header in a working state.  Its tables: channel name to
 * MarkovChannel; channel tuple (MARKOV_MAX_ORDER int32, -1 padded) to
 * nothing, tuple i being state MARKOV_FIRST_TUPLE + i; and transition to
 * MarkovCount.  A transition is keyed by its first state and its step --
 * the channel touched next (channel + MARKOV_FIRST_TUPLE) or the end
 * (MARKOV_CONVERSION, MARKOV_NULL) -- and keeps the state the step leads
 * to, so a journey's next state costs one lookup at any order.
 */
typedef struct MarkovHeader
{
	int32		order;
	bool		keep_repeats;	/* the convention: see above */
	bool		reject_duplicates;	/* input: a transition seen twice is an error */
} MarkovHeader;

#define MARKOV_TABLE_CHANNELS		STATE_TABLE_CHANNELS
#define MARKOV_TABLE_TUPLES		1
#define MARKOV_TABLE_TRANSITIONS	2

typedef struct MarkovChannel
{
	int32		single_state;	/* the state of the channel's 1-tuple, or 0 before there is one */
} MarkovChannel;

/*
 * A transition's payload, 16 bytes: hash aggregation keeps every group's
 * transitions at once.  A step into a channel keeps the state it leads to,
 * found once when the transition is made; a step that ends the journey leads
 * to the end it names and keeps the conversion value instead, the only
 * transitions that have one (zero into (null)).
 */
typedef struct MarkovCount
{
	double		count;
	union
	{
		int32		to;			/* a step into a channel: the state it leads to */
		double		value;		/* a step that ends the journey: the conversion value */
	}			u;
} MarkovCount;

extern const StateFamily omnikpi_markov_family;

extern void omnikpi_markov_state_new_private(StateRef *ref, int order, bool keep_repeats);
extern int32 omnikpi_markov_state_tuple(StateRef *ref, const int32 *channels, int len);
extern bool omnikpi_markov_state_add_transition(StateRef *ref, int32 from, int32 to,
												double count, double value);
extern void omnikpi_markov_check_parameters(const StateBody *body, int order, bool keep_repeats);

static inline MarkovHeader *
markov_header(const StateBody *body)
{
	return (MarkovHeader *) omnikpi_state_header(body);
}

/* ---- solver (markov_solve.c) ---- */

/* Largest number of transient states the dense solver accepts. */
#define MARKOV_MAX_SOLVE_STATES 4096

extern void omnikpi_markov_attribute(const MarkovModel *model, ChannelCredits *credits);

#endif							/* OMNIKPI_MARKOV_H */
