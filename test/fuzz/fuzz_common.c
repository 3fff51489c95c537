/*
 * fuzz_common.c: the parts the channel_summary fuzz targets share.
 *
 * The sink does what the server's input functions do (channel_summary.c):
 * the same omnikpi_channel_stats_invalid() and omnikpi_scale_invalid()
 * checks, values inside the scale, no duplicate names.  What it accepts is
 * then checked against invariants written here independently, in long double
 * so that count * min cannot overflow, and written back through both writers
 * (text and binary) and read again, which must give the same value bit for
 * bit.  Any violation aborts, which libFuzzer reports as a crash with the
 * input that caused it.
 */
#include "fuzz_common.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void
fuzz_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz check failed: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

void
fuzz_summary_init(FuzzSummary *summary)
{
	summary->scale.known = false;
	summary->scale.min = 0.0;
	summary->scale.max = 0.0;
	summary->nchannels = 0;
	summary->capacity = 0;
	summary->channels = NULL;
	summary->rejected = false;
}

void
fuzz_summary_free(FuzzSummary *summary)
{
	int			i;

	for (i = 0; i < summary->nchannels; i++)
		free(summary->channels[i].name);
	free(summary->channels);
	fuzz_summary_init(summary);
}

/* as builder_set_scale: an invalid scale is an error in the server */
static void
sink_set_scale(void *arg, double scale_min, double scale_max)
{
	FuzzSummary *summary = (FuzzSummary *) arg;

	if (omnikpi_scale_invalid(scale_min, scale_max) != NULL)
		summary->rejected = true;
	summary->scale.known = true;
	summary->scale.min = scale_min;
	summary->scale.max = scale_max;
}

/*
 * as the server's pg_client_to_server(): a name with a zero byte is not
 * text, and the server rejects it (so does the text format: \u0000 is
 * invalid).  Other bytes pass: neither format depends on the encoding.
 */
static const char *
sink_decode_name(void *arg, const char *raw, int raw_len, int *len)
{
	FuzzSummary *summary = (FuzzSummary *) arg;

	if (memchr(raw, '\0', raw_len) != NULL)
		summary->rejected = true;
	*len = raw_len;
	return raw;
}

/* as builder_add_channel */
static const char *
sink_add_channel(void *arg, const char *name, int len, const ChannelStats *stats)
{
	FuzzSummary *summary = (FuzzSummary *) arg;
	const char *problem = omnikpi_channel_stats_invalid(stats);
	FuzzChannel *channel;
	int			i;

	if (len < 0)
		fuzz_die("a parser passed a negative name length", NULL);
	if (problem != NULL)
		return problem;
	if (summary->scale.known &&
		(stats->min < summary->scale.min || stats->max > summary->scale.max))
		return "A channel's values lie outside the summary's scale.";
	for (i = 0; i < summary->nchannels; i++)
		if (summary->channels[i].len == len && memcmp(summary->channels[i].name, name, len) == 0)
			return "A channel appears twice.";
	if (summary->nchannels == summary->capacity)
	{
		summary->capacity = summary->capacity == 0 ? 8 : summary->capacity * 2;
		summary->channels = realloc(summary->channels, sizeof(FuzzChannel) * summary->capacity);
		if (summary->channels == NULL)
			fuzz_die("out of memory", NULL);
	}
	channel = &summary->channels[summary->nchannels++];
	/* +1: malloc(0) may return NULL */
	channel->name = malloc(len + 1);
	if (channel->name == NULL)
		fuzz_die("out of memory", NULL);
	memcpy(channel->name, name, len);
	channel->len = len;
	channel->stats = *stats;
	return NULL;
}

/* Parse NUL-terminated text; the error, when there is one, must point into it. */
bool
fuzz_parse_text(const char *text, FuzzSummary *summary)
{
	size_t		len = strlen(text);
	char	   *name_buffer = malloc(len + 1);
	SummaryTextSink sink;
	SummaryParseError error;
	bool		ok;

	if (name_buffer == NULL)
		fuzz_die("out of memory", NULL);
	sink.arg = summary;
	sink.set_scale = sink_set_scale;
	sink.add_channel = sink_add_channel;
	error.message = NULL;
	error.offset = -1;
	ok = omnikpi_summary_text_parse(text, name_buffer, &sink, &error);
	free(name_buffer);
	if (!ok && (error.message == NULL || error.offset < 0 || (size_t) error.offset > len))
		fuzz_die("a text parse error without a message or with an offset outside the input", NULL);
	return ok;
}

bool
fuzz_parse_binary(const char *data, int len, FuzzSummary *summary)
{
	SummaryBinarySink sink;
	SummaryBinaryError error;
	bool		ok;

	sink.arg = summary;
	sink.set_scale = sink_set_scale;
	sink.decode_name = sink_decode_name;
	sink.add_channel = sink_add_channel;
	ok = omnikpi_summary_binary_parse(data, len, &sink, &error);
	if (!ok)
	{
		switch (error.problem)
		{
			case SUMMARY_BINARY_READER:
			case SUMMARY_BINARY_BAD_FORMAT:
			case SUMMARY_BINARY_BAD_FLAGS:
			case SUMMARY_BINARY_BAD_COUNT:
				break;
			case SUMMARY_BINARY_BAD_CHANNEL:
				if (error.name == NULL || error.name_len < 0 || error.detail == NULL)
					fuzz_die("a binary channel error without its name or detail", NULL);
				break;
			default:
				fuzz_die("an unknown binary parse problem", NULL);
		}
	}
	return ok;
}

/*
 * What any accepted summary satisfies, checked without the code under test:
 * counts >= 1, finite numbers, min <= max, values inside a valid scale, and
 * count * min <= sum <= count * max up to the rounding of a compensated sum.
 */
static void
check_invariants(const FuzzSummary *summary)
{
	int			i;

	if (summary->scale.known &&
		!(isfinite(summary->scale.min) && isfinite(summary->scale.max) &&
		  summary->scale.min < summary->scale.max))
		fuzz_die("an invalid scale was accepted", NULL);
	for (i = 0; i < summary->nchannels; i++)
	{
		const ChannelStats *s = &summary->channels[i].stats;
		long double n = (long double) s->count;
		long double magnitude;
		long double slack;

		if (s->count < 1)
			fuzz_die("a count below 1 was accepted", NULL);
		if (!isfinite(s->sum) || !isfinite(s->min) || !isfinite(s->max))
			fuzz_die("a non-finite number was accepted", NULL);
		if (s->min > s->max)
			fuzz_die("min > max was accepted", NULL);
		if (summary->scale.known && (s->min < summary->scale.min || s->max > summary->scale.max))
			fuzz_die("a value outside the scale was accepted", NULL);
		magnitude = fmaxl(fabsl((long double) s->min), fabsl((long double) s->max));
		/* generous: 64 roundings of the largest possible sum */
		slack = 64 * (long double) DBL_EPSILON * n * magnitude;
		if ((long double) s->sum < n * s->min - slack || (long double) s->sum > n * s->max + slack)
			fuzz_die("a sum outside count * min .. count * max was accepted", NULL);
	}
}

static void
write_text(const FuzzSummary *summary, StringInfo out)
{
	int			i;

	initStringInfo(out);
	omnikpi_summary_text_append_start(out, summary->scale);
	for (i = 0; i < summary->nchannels; i++)
		omnikpi_summary_text_append_channel(out, i, summary->channels[i].name,
											summary->channels[i].len,
											&summary->channels[i].stats);
	omnikpi_summary_text_append_end(out);
}

static void
write_binary(const FuzzSummary *summary, StringInfo out)
{
	int			i;

	initStringInfo(out);
	omnikpi_summary_binary_append_start(out, summary->scale, summary->nchannels);
	for (i = 0; i < summary->nchannels; i++)
		omnikpi_summary_binary_append_channel(out, summary->channels[i].name,
											  summary->channels[i].len,
											  &summary->channels[i].stats);
}

static bool
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

static void
check_same(const FuzzSummary *a, const FuzzSummary *b, const char *how)
{
	int			i;

	if (a->scale.known != b->scale.known ||
		(a->scale.known && (!same_double(a->scale.min, b->scale.min) ||
							!same_double(a->scale.max, b->scale.max))))
		fuzz_die("the scale changed in a round trip", how);
	if (a->nchannels != b->nchannels)
		fuzz_die("the number of channels changed in a round trip", how);
	for (i = 0; i < a->nchannels; i++)
	{
		const FuzzChannel *x = &a->channels[i];
		const FuzzChannel *y = &b->channels[i];

		if (x->len != y->len || memcmp(x->name, y->name, x->len) != 0)
			fuzz_die("a channel name changed in a round trip", how);
		if (x->stats.count != y->stats.count || !same_double(x->stats.sum, y->stats.sum) ||
			!same_double(x->stats.min, y->stats.min) || !same_double(x->stats.max, y->stats.max))
			fuzz_die("a channel's numbers changed in a round trip", how);
	}
}

/*
 * For a summary a parser accepted: the invariants, then text and binary
 * round trips, and the text written twice is the same text.
 */
void
fuzz_check_accepted(const FuzzSummary *summary)
{
	StringInfoData text;
	StringInfoData again;
	StringInfoData binary;
	FuzzSummary copy;

	if (summary->rejected)
		return;
	check_invariants(summary);

	write_text(summary, &text);
	fuzz_summary_init(&copy);
	if (!fuzz_parse_text(text.data, &copy) || copy.rejected)
		fuzz_die("written text does not read back", text.data);
	check_same(summary, &copy, "text");
	write_text(&copy, &again);
	if (strcmp(text.data, again.data) != 0)
		fuzz_die("text written twice differs", again.data);
	fuzz_summary_free(&copy);

	write_binary(summary, &binary);
	fuzz_summary_init(&copy);
	if (!fuzz_parse_binary(binary.data, binary.len, &copy) || copy.rejected)
		fuzz_die("written binary does not read back", text.data);
	check_same(summary, &copy, "binary");
	fuzz_summary_free(&copy);

	pfree(text.data);
	pfree(again.data);
	pfree(binary.data);
}
