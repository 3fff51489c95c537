/*
 * journey_journal.h: the journal of a small markov_model or journey_paths
 * working state -- its journeys as they came, channel names and counts,
 * back to back in one byte string, the way array_agg() keeps its values.
 *
 * Hash aggregation keeps every group's state at once.  A state's tables
 * (channels, states, transitions, paths) take kilobytes as soon as a group
 * has a few journeys, and all of them grow side by side, so a GROUP BY by
 * day or customer spends its time faulting in fresh pages and waiting for
 * states that went cold.  A journey written as it came takes about as many
 * bytes as its path: a group's state stays small until its journal passes
 * STATE_JOURNAL_BYTES (common/aggregate_state.h), and its tables are built
 * from the journal in one go, warm in the cache, when the state is stored,
 * combined or gets big.
 *
 * A record: one byte of JOURNAL_* flags saying which counts differ from 0
 * and 1, those counts as doubles, the number of touches, then each touch's
 * name length and name.  Numbers are unsigned LEB128 (a byte per 7 bits),
 * doubles are unaligned.  No server calls; include "postgres.h" first.
 */
#ifndef OMNIKPI_JOURNEY_JOURNAL_H
#define OMNIKPI_JOURNEY_JOURNAL_H

#include "common/journey_input.h"

extern Size omnikpi_journal_record_size(const JourneyTouches *touches, const JourneyRow *row);
extern char *omnikpi_journal_write(char *at, const JourneyTouches *touches, const JourneyRow *row);
extern int32 omnikpi_journal_touch_count(const char *at);
extern const char *omnikpi_journal_read(const char *at, JourneyTouches *touches, JourneyRow *row);

#endif							/* OMNIKPI_JOURNEY_JOURNAL_H */
