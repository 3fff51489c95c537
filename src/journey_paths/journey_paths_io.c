/*
 * journey_paths.c: the journey_paths type's text and binary input/output,
 * its aggregates (one row per journey, or per counted path, and rollup) and
 * its accessors.
 *
 * Both inputs trust nothing: they go through one builder that checks every
 * path (not empty, no channel twice in a row, no path twice) and its counts,
 * then writes the canonical flat form.  The text form is what pg_dump, COPY
 * and Citus ship, so floats are written in their shortest exact form and
 * read back bit for bit.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "access/tupmacs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "journey_paths/journey_paths.h"
#include "common/aggregate_support.h"
#include "journey_paths/journey_paths_text.h"
#include "channel_summary/summary_text.h"

/*
 * Collects the paths of a summary being read, in a scratch state in the
 * current memory context; the path being read grows in the state's scratch
 * buffer.
 */
typedef struct PathsBuilder
{
	JourneyPathsState *state;
	int32		len;			/* steps of the current path so far */
} PathsBuilder;

static const char *
builder_add_step(void *arg, const char *name, int len)
{
	PathsBuilder *builder = (PathsBuilder *) arg;
	int32		channel = omnikpi_jp_state_channel(builder->state, name, len);
	int32	   *steps = omnikpi_jp_state_scratch(builder->state, (int64) builder->len + 1);

	if (builder->len > 0 && steps[builder->len - 1] == channel)
		return "A path has one channel twice in a row; paths are stored with repeats collapsed.";
	steps[builder->len++] = channel;
	return NULL;
}

static const char *
builder_end_path(void *arg, const PathStats *stats)
{
	PathsBuilder *builder = (PathsBuilder *) arg;
	const char *problem = omnikpi_jp_stats_invalid(stats);
	int32		len = builder->len;

	builder->len = 0;
	if (len == 0)
		return "A path must have at least one channel.";
	if (problem != NULL)
		return problem;
	if (!omnikpi_jp_state_add(builder->state, builder->state->scratch, len, stats, true))
		return "A path appears twice.";
	return NULL;
}

/* The flat summary of what was read; the scratch state is freed. */
static JourneyPaths *
builder_finish(PathsBuilder *builder)
{
	JourneyPaths *flat = omnikpi_jp_state_flatten(builder->state);

	DeleteExpandedObject(EOHPGetRWDatum(&builder->state->hdr));
	return flat;
}

/*
 * omnikpi_jp_in: journey_paths from its JSON-shaped text (see
 * journey_paths_text.h).  Any problem is 22P02 with the place and the reason.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_in);
Datum
omnikpi_jp_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	size_t		len = strlen(text);
	char	   *buffer = palloc(len + 1);
	PathsBuilder builder;
	JourneyPathsTextSink sink;
	JourneyPathsParseError error;

	builder.state = omnikpi_jp_state_create(CurrentMemoryContext);
	builder.len = 0;
	sink.arg = &builder;
	sink.add_step = builder_add_step;
	sink.end_path = builder_end_path;
	if (!omnikpi_jp_text_parse(text, buffer, &sink, &error))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type journey_paths: \"%s\"",
						omnikpi_clip_for_message(text, (int) Min(len, PG_INT32_MAX))),
				 errdetail("At character %d: %s", error.offset + 1, error.message)));
	pfree(buffer);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/*
 * omnikpi_jp_out: the text form, paths in the canonical order (by their
 * channels' names), floats in the shortest form that reads back exactly.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_out);
Datum
omnikpi_jp_out(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	const PathStats *stats = JP_STATS(paths);
	StringInfoData out;
	int32		i;

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"version\":1,\"paths\":[");
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, "{\"path\":[");
		for (k = 0; k < len; k++)
		{
			int			name_len;
			const char *name = omnikpi_jp_channel_name(paths, steps[k], &name_len);

			if (k > 0)
				appendStringInfoChar(&out, ',');
			omnikpi_summary_text_append_string(&out, name, name_len);
		}
		appendStringInfoString(&out, "],\"conversions\":");
		omnikpi_summary_text_append_double(&out, stats[i].conversions);
		appendStringInfoString(&out, ",\"non_conversions\":");
		omnikpi_summary_text_append_double(&out, stats[i].non_conversions);
		appendStringInfoString(&out, ",\"value\":");
		omnikpi_summary_text_append_double(&out, stats[i].value);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfoString(&out, "]}");
	PG_RETURN_CSTRING(out.data);
}

static void
report_invalid_binary(const char *message, const char *detail) pg_attribute_noreturn();

static void
report_invalid_binary(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) : 0));
}

/*
 * omnikpi_jp_recv: binary input.  Layout: format byte (1), int32 channel
 * count, the channel names (int32 length and bytes, converted from the
 * client encoding), int32 path count, then per path an int32 length, that
 * many int32 channel numbers (indexes into the names) and float8
 * conversions, non_conversions and value.  The pq_getmsg functions check
 * every length against the message; the content gets the checks of the text
 * input, as 22P03, and every channel must be used by some path.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_recv);
Datum
omnikpi_jp_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			format = pq_getmsgbyte(buf);
	PathsBuilder builder;
	int32		nchannels;
	int32		npaths;
	int32		i;
	bool	   *used;

	if (format != JOURNEY_PATHS_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary journey_paths format %d", format),
				 errdetail("This build reads format %d.", JOURNEY_PATHS_FORMAT)));
	builder.state = omnikpi_jp_state_create(CurrentMemoryContext);
	builder.len = 0;
	nchannels = pq_getmsgint(buf, 4);
	/* every channel takes at least its 4-byte length in the message */
	if (nchannels < 0 || nchannels > (buf->len - buf->cursor) / 4)
		report_invalid_binary(psprintf("invalid channel count %d in binary journey_paths", nchannels),
							  NULL);
	for (i = 0; i < nchannels; i++)
	{
		int32		raw_len = pq_getmsgint(buf, 4);
		int			len;
		char	   *name = pq_getmsgtext(buf, raw_len, &len);

		if (omnikpi_jp_state_channel(builder.state, name, len) != i)
			report_invalid_binary(psprintf("channel \"%s\" appears twice in binary journey_paths",
										   omnikpi_clip_for_message(name, len)), NULL);
		pfree(name);
	}
	used = palloc0(Max(nchannels, 1) * sizeof(bool));
	npaths = pq_getmsgint(buf, 4);
	if (npaths < 0)
		report_invalid_binary(psprintf("invalid path count %d in binary journey_paths", npaths),
							  NULL);
	for (i = 0; i < npaths; i++)
	{
		int32		len = pq_getmsgint(buf, 4);
		int32		k;
		int32	   *steps;
		PathStats	stats;
		const char *problem;

		/* each step takes 4 bytes of the message: a bogus length fails before allocating */
		if (len < 1 || len > (buf->len - buf->cursor) / 4)
			report_invalid_binary(psprintf("invalid path length %d in binary journey_paths", len),
								  "A path has at least one channel and fits in the message.");
		steps = omnikpi_jp_state_scratch(builder.state, len);
		for (k = 0; k < len; k++)
		{
			int32		channel = pq_getmsgint(buf, 4);

			if (channel < 0 || channel >= nchannels)
				report_invalid_binary(psprintf("invalid channel number %d in binary journey_paths", channel),
									  NULL);
			if (k > 0 && steps[k - 1] == channel)
				report_invalid_binary("invalid path in binary journey_paths",
									  "A path has one channel twice in a row; paths are stored with repeats collapsed.");
			steps[k] = channel;
			used[channel] = true;
		}
		stats.conversions = pq_getmsgfloat8(buf);
		stats.non_conversions = pq_getmsgfloat8(buf);
		stats.value = pq_getmsgfloat8(buf);
		problem = omnikpi_jp_stats_invalid(&stats);
		if (problem != NULL)
			report_invalid_binary("invalid path counts in binary journey_paths", problem);
		if (!omnikpi_jp_state_add(builder.state, steps, len, &stats, true))
			report_invalid_binary("invalid path in binary journey_paths", "A path appears twice.");
	}
	pq_getmsgend(buf);
	for (i = 0; i < nchannels; i++)
		if (!used[i])
		{
			int			len;
			ChannelName *channel = &builder.state->channels[i];

			len = channel->len;
			report_invalid_binary(psprintf("channel \"%s\" of binary journey_paths is on no path",
										   omnikpi_clip_for_message(channel->data, len)), NULL);
		}
	pfree(used);
	PG_RETURN_POINTER(builder_finish(&builder));
}

/* omnikpi_jp_send: binary output, the layout omnikpi_jp_recv reads. */
PG_FUNCTION_INFO_V1(omnikpi_jp_send);
Datum
omnikpi_jp_send(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	const PathStats *stats = JP_STATS(paths);
	StringInfoData buf;
	int32		i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, JOURNEY_PATHS_FORMAT);
	pq_sendint32(&buf, paths->nchannels);
	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(paths, i, &len);

		pq_sendcountedtext(&buf, name, len, false);
	}
	pq_sendint32(&buf, paths->npaths);
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		int			k;

		pq_sendint32(&buf, len);
		for (k = 0; k < len; k++)
			pq_sendint32(&buf, steps[k]);
		pq_sendfloat8(&buf, stats[i].conversions);
		pq_sendfloat8(&buf, stats[i].non_conversions);
		pq_sendfloat8(&buf, stats[i].value);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---- aggregates ---- */

/*
 * The state to update in place: ours when the executor passes our read-write
 * state, else a new one under the aggregate context holding a copy of what
 * was passed (a flat value from a parallel worker, or a read-only one).
 */
static JourneyPathsState *
writable_state(FunctionCallInfo fcinfo)
{
	JourneyPathsState *state;

	if (PG_ARGISNULL(0))
		return omnikpi_jp_state_create(omnikpi_aggregate_context(fcinfo));
	state = omnikpi_jp_state_if_writable(PG_GETARG_DATUM(0));
	if (state == NULL)
		state = omnikpi_jp_state_from_datum(PG_GETARG_DATUM(0), omnikpi_aggregate_context(fcinfo));
	return state;
}

/*
 * Walks the elements of a flat text[] without copying them; NULL elements
 * are reported as NULL.  (utils/arrayaccess.h does the same but does not
 * compile cleanly with -Wextra.)
 */
typedef struct PathWalk
{
	const char *next;			/* the next element's data */
	const bits8 *nulls;			/* NULL bitmap, or NULL when there are no NULLs */
	int			nitems;
	int			i;
} PathWalk;

static void
path_walk_start(PathWalk *walk, ArrayType *path)
{
	Size		offset = ARR_HASNULL(path) ? (Size) path->dataoffset :
		ARR_OVERHEAD_NONULLS(ARR_NDIM(path));

	walk->next = (const char *) path + offset;
	walk->nulls = ARR_NULLBITMAP(path);
	walk->nitems = ArrayGetNItems(ARR_NDIM(path), ARR_DIMS(path));
	walk->i = 0;
}

/* The next channel (a text), NULL for a NULL element; the caller counts to nitems. */
static inline const text *
path_walk_next(PathWalk *walk)
{
	const text *element;
	int			i = walk->i++;

	if (walk->nulls != NULL && !(walk->nulls[i / 8] & (1 << (i % 8))))
		return NULL;
	element = (const text *) walk->next;
	walk->next = att_addlength_pointer(walk->next, -1, walk->next);
	walk->next = (const char *) att_align_nominal(walk->next, TYPALIGN_INT);
	return element;
}

/* Does the path have a channel, i.e. an element that is not NULL? */
static bool
path_has_channel(ArrayType *path)
{
	PathWalk	walk;

	path_walk_start(&walk, path);
	while (walk.i < walk.nitems)
		if (path_walk_next(&walk) != NULL)
			return true;
	return false;
}

/*
 * Add one path (argument 1) with its counts to the state, collapsing
 * consecutive repeats and skipping NULL channels.  A path without channels
 * is skipped.  The channel lookups and the path lookup are hash probes in
 * the state: nothing is allocated for a path seen before.
 */
static Datum
add_path(FunctionCallInfo fcinfo, const PathStats *stats)
{
	ArrayType  *path = PG_GETARG_ARRAYTYPE_P(1);
	JourneyPathsState *state;
	int32	   *steps;
	int32		len = 0;
	PathWalk	walk;

	if (ARR_NDIM(path) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a journey path must be a one-dimensional array, not %d-dimensional",
						ARR_NDIM(path)),
				 errhint("Pass the journey's channels in time order, e.g. array_agg(channel ORDER BY touched_at).")));
	state = PG_ARGISNULL(0) ? NULL : omnikpi_jp_state_if_writable(PG_GETARG_DATUM(0));
	if (state == NULL)
	{
		/* a journey without channels leaves a group without journeys NULL */
		if (!path_has_channel(path))
			return omnikpi_state_unchanged(fcinfo);
		state = writable_state(fcinfo);
	}
	path_walk_start(&walk, path);
	steps = omnikpi_jp_state_scratch(state, walk.nitems);
	while (walk.i < walk.nitems)
	{
		const text *element = path_walk_next(&walk);
		int32		channel;

		if (element == NULL)
			continue;
		channel = omnikpi_jp_state_channel(state, VARDATA_ANY(element), VARSIZE_ANY_EXHDR(element));
		if (len > 0 && steps[len - 1] == channel)
			continue;
		steps[len++] = channel;
	}
	if (len > 0)
		omnikpi_jp_state_add(state, steps, len, stats, false);
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

/* A conversion value must be finite: 22003. */
static void
check_value(double value)
{
	if (unlikely(!isfinite(value)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("conversion value %s is not a finite number", float8out_internal(value))));
}

/*
 * omnikpi_jp_trans: journey_paths(path, converted), one row per journey.
 * Rows with a NULL path or a NULL converted are skipped: a journey whose
 * outcome is unknown teaches nothing.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_trans);
Datum
omnikpi_jp_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats = {0, 0, 0};

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_GETARG_BOOL(2))
		stats.conversions = 1;
	else
		stats.non_conversions = 1;
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_value_trans: journey_paths(path, converted, value).  The value
 * of a converted journey adds to its path's value (NULL adds nothing, as in
 * sum()); that of a journey that did not convert is ignored.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_value_trans);
Datum
omnikpi_jp_value_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats = {0, 0, 0};

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_GETARG_BOOL(2))
	{
		stats.conversions = 1;
		if (!PG_ARGISNULL(3))
		{
			stats.value = PG_GETARG_FLOAT8(3);
			check_value(stats.value);
		}
	}
	else
		stats.non_conversions = 1;
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_counted_trans: journey_paths(path, conversions, non_conversions,
 * value) for paths already counted (fractribution's input shape).  Counts
 * are finite and at least 0; a NULL path or count skips the row, a NULL
 * value adds nothing, and a row with both counts 0 adds nothing.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_counted_trans);
Datum
omnikpi_jp_counted_trans(PG_FUNCTION_ARGS)
{
	PathStats	stats;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		return omnikpi_state_unchanged(fcinfo);
	stats.conversions = PG_GETARG_FLOAT8(2);
	stats.non_conversions = PG_GETARG_FLOAT8(3);
	stats.value = PG_ARGISNULL(4) ? 0.0 : PG_GETARG_FLOAT8(4);
	if (!isfinite(stats.conversions) || !isfinite(stats.non_conversions))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("journey counts %s and %s must be finite",
						float8out_internal(stats.conversions),
						float8out_internal(stats.non_conversions))));
	if (stats.conversions < 0 || stats.non_conversions < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("journey counts %s and %s must not be negative",
						float8out_internal(stats.conversions),
						float8out_internal(stats.non_conversions))));
	check_value(stats.value);
	if (stats.conversions == 0 && stats.value != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("conversion value %s given for a path without conversions",
						float8out_internal(stats.value))));
	if (stats.conversions == 0 && stats.non_conversions == 0)
		return omnikpi_state_unchanged(fcinfo);
	return add_path(fcinfo, &stats);
}

/*
 * omnikpi_jp_combine: merge the second summary into the first; the combine
 * function of every journey_paths aggregate and the transition function of
 * rollup(journey_paths).  NULLs are skipped.  Counts and values of equal
 * paths add, so merging is exact up to one rounding per added value, and
 * commutative.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_combine);
Datum
omnikpi_jp_combine(PG_FUNCTION_ARGS)
{
	JourneyPathsState *state;

	if (PG_ARGISNULL(1))
		return omnikpi_state_unchanged(fcinfo);
	if (PG_ARGISNULL(0))
		state = omnikpi_jp_state_from_datum(PG_GETARG_DATUM(1), omnikpi_aggregate_context(fcinfo));
	else
	{
		state = writable_state(fcinfo);
		omnikpi_jp_state_merge_flat(state, PG_GETARG_JOURNEY_PATHS_P(1));
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&state->hdr));
}

/* ---- shared by the attribution functions ---- */

/*
 * The totals of a summary.  Attribution hands out conversions: a summary
 * without any is an error (22023) rather than a table of zeros and NaN shares.
 */
JourneyTotals
omnikpi_jp_totals(const JourneyPaths *paths, const char *function)
{
	const PathStats *stats = JP_STATS(paths);
	JourneyTotals totals = {0, 0, 0};
	int32		i;

	for (i = 0; i < paths->npaths; i++)
	{
		totals.conversions += stats[i].conversions;
		totals.value += stats[i].value;
		totals.journeys += stats[i].conversions + stats[i].non_conversions;
	}
	if (!(totals.conversions > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs at least one converted journey", function),
				 errdetail("The summary holds %s journeys, none of them converted.",
						   float8out_internal(totals.journeys)),
				 errhint("Attribute only groups with conversions, e.g. GROUP BY month HAVING bool_or(converted).")));
	if (!isfinite(totals.value) || !isfinite(totals.journeys))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("total journeys or value of the summary out of range for double precision")));
	return totals;
}

/*
 * One row per channel of the summary, in byte order of the names: the
 * conversions and value credited to it and its share of all conversions.
 */
void
omnikpi_jp_put_credits(ReturnSetInfo *rsinfo, const JourneyPaths *paths,
					   const double *conversions, const double *values,
					   const JourneyTotals *totals)
{
	int32		i;

	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(paths, i, &len);
		Datum		row[4];
		bool		nulls[4] = {false, false, false, false};

		row[0] = PointerGetDatum(cstring_to_text_with_len(name, len));
		row[1] = Float8GetDatum(conversions[i]);
		row[2] = Float8GetDatum(values[i]);
		row[3] = Float8GetDatum(conversions[i] / totals->conversions);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
		pfree(DatumGetPointer(row[0]));
	}
}

/* ---- accessors ---- */

/* omnikpi_jp_channel_count: number of distinct channels on the paths. */
PG_FUNCTION_INFO_V1(omnikpi_jp_channel_count);
Datum
omnikpi_jp_channel_count(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);

	PG_RETURN_INT32(paths->nchannels);
}

/*
 * omnikpi_jp_paths: the distinct paths with their counts, in the canonical
 * order, for inspection and for exporting to other tools.
 */
PG_FUNCTION_INFO_V1(omnikpi_jp_paths);
Datum
omnikpi_jp_paths(PG_FUNCTION_ARGS)
{
	JourneyPaths *paths = PG_GETARG_JOURNEY_PATHS_P(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const PathStats *stats = JP_STATS(paths);
	Datum	   *names = palloc(Max(paths->nchannels, 1) * sizeof(Datum));
	Datum	   *elements = NULL;
	int			capacity = 0;
	int32		i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < paths->nchannels; i++)
	{
		int			len;
		const char *name = omnikpi_jp_channel_name(paths, i, &len);

		names[i] = PointerGetDatum(cstring_to_text_with_len(name, len));
	}
	for (i = 0; i < paths->npaths; i++)
	{
		int			len;
		const int32 *steps = omnikpi_jp_path(paths, i, &len);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		int			k;

		if (len > capacity)
		{
			capacity = Max(len, 2 * capacity);
			elements = elements ? repalloc_huge(elements, capacity * sizeof(Datum))
				: palloc_extended(capacity * sizeof(Datum), MCXT_ALLOC_HUGE);
		}
		for (k = 0; k < len; k++)
			elements[k] = names[steps[k]];
		values[0] = PointerGetDatum(construct_array(elements, len, TEXTOID, -1, false, TYPALIGN_INT));
		values[1] = Float8GetDatum(stats[i].conversions);
		values[2] = Float8GetDatum(stats[i].non_conversions);
		values[3] = Float8GetDatum(stats[i].value);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
	}
	return (Datum) 0;
}
