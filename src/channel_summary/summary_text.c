/*
 * summary_text.c: parser and writer of the channel_summary text format (see
 * summary_text.h).  The parser is strict: one fixed shape, finite numbers
 * only, no trailing garbage; anything else is reported with the offset where
 * it went wrong.  Semantic checks of the numbers (count >= 1, min <= max, ...)
 * belong to the sink, which is shared with the binary input.
 */
#include "postgres.h"

#include "common/json_lexer.h"
#include "common/json_writer.h"
#include "channel_summary/summary_text.h"

/* A count (n): a whole number, in channel_summary's words. */
static bool
parse_count(OmnikpiJsonLexer *lex, int64 *result)
{
	return omnikpi_json_integer(lex, result, "Expected a count (a whole number).",
								"Count is out of range.");
}

/*
 * "name":{"n":..,"sum":..,"min":..,"max":..}, the name decoded into buffer
 * and the keys after it.
 */
static bool
parse_channel(OmnikpiJsonLexer *lex, char *buffer, const void *arg)
{
	const SummaryTextSink *sink = arg;
	const char *at;
	int			len;
	ChannelStats stats;
	const OmnikpiJsonNumberField fields[] = {
		OMNIKPI_JSON_NUMBER_FIELD("sum", &stats.sum),
		OMNIKPI_JSON_NUMBER_FIELD("min", &stats.min),
		OMNIKPI_JSON_NUMBER_FIELD("max", &stats.max)
	};
	char	   *keys;

	omnikpi_json_skip_space(lex);
	at = lex->p;
	if (!omnikpi_json_string(lex, buffer, &len))
		return false;
	/* the name must outlive the keys decoded after it */
	keys = buffer + len + 1;
	if (!omnikpi_json_expect(lex, ':', "Expected \":\" after a channel name.") ||
		!omnikpi_json_expect(lex, '{', "Expected \"{\" to open a channel's statistics.") ||
		!omnikpi_json_key(lex, "n", keys, "Expected key \"n\".") ||
		!parse_count(lex, &stats.count) ||
		!omnikpi_json_expect(lex, ',', "Expected \",\" after \"n\".") ||
		!omnikpi_json_number_fields(lex, fields, lengthof(fields), keys) ||
		!omnikpi_json_expect(lex, '}', "Expected \"}\" to close a channel's statistics."))
		return false;
	return omnikpi_json_verdict(lex, at, sink->add_channel(sink->arg, buffer, len, &stats));
}

static const OmnikpiJsonList channels = OMNIKPI_JSON_OBJECT("channels");

/*
 * Parse text into sink.  name_buffer must hold strlen(text) + 1 bytes: a
 * decoded string is never longer than its encoding, and a channel name and
 * the key after it are never longer than the input together.
 */
bool
omnikpi_summary_text_parse(const char *text, char *name_buffer,
						   const SummaryTextSink *sink, SummaryParseError *error)
{
	OmnikpiJsonLexer lex;
	const char *at;

	omnikpi_json_init(&lex, text, error);
	if (!omnikpi_json_version(&lex, name_buffer))
		return false;

	omnikpi_json_skip_space(&lex);
	at = lex.p;
	if (omnikpi_json_key(&lex, "scale", name_buffer, ""))
	{
		double		scale_min;
		double		scale_max;

		if (!omnikpi_json_expect(&lex, '[', "Expected \"[\" to open the scale.") ||
			!omnikpi_json_number(&lex, &scale_min) ||
			!omnikpi_json_expect(&lex, ',', "Expected \",\" between the scale bounds.") ||
			!omnikpi_json_number(&lex, &scale_max) ||
			!omnikpi_json_expect(&lex, ']', "Expected \"]\" to close the scale.") ||
			!omnikpi_json_expect(&lex, ',', "Expected \",\" after the scale."))
			return false;
		sink->set_scale(sink->arg, scale_min, scale_max);
	}
	else
		lex.p = at;

	return omnikpi_json_final_list(&lex, &channels, name_buffer, parse_channel, sink);
}

/* Everything before the first channel: version, scale if known, "channels". */
void
omnikpi_summary_text_append_start(StringInfo out, SummaryScale scale)
{
	appendStringInfoString(out, "{\"version\":1,");
	if (scale.known)
	{
		appendStringInfoString(out, "\"scale\":[");
		omnikpi_json_append_double(out, scale.min);
		appendStringInfoChar(out, ',');
		omnikpi_json_append_double(out, scale.max);
		appendStringInfoString(out, "],");
	}
	appendStringInfoString(out, "\"channels\":{");
}

/* Channel number i (from 0), its name and its statistics. */
void
omnikpi_summary_text_append_channel(StringInfo out, int i, const char *name, int len,
									const ChannelStats *stats)
{
	static const char *const keys[] = {"sum", "min", "max"};
	const double values[] = {stats->sum, stats->min, stats->max};

	if (i > 0)
		appendStringInfoChar(out, ',');
	omnikpi_json_append_string(out, name, len);
	appendStringInfo(out, ":{\"n\":" INT64_FORMAT, stats->count);
	omnikpi_json_append_number_members(out, keys, values, lengthof(values));
	appendStringInfoChar(out, '}');
}

/* What closes the channels and the summary. */
void
omnikpi_summary_text_append_end(StringInfo out)
{
	appendStringInfoString(out, "}}");
}
