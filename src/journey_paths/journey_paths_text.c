/*
 * journey_paths_text.c: parser and writer of the journey_paths text format
 * (see journey_paths_text.h).  Strict: one fixed shape, finite numbers only, no
 * trailing garbage; anything else is reported with the offset where it went
 * wrong.  Checks of the content (empty paths, repeats, counts) belong to the
 * sink, which is shared with the binary input.
 */
#include "postgres.h"

#include "common/json_lexer.h"
#include "common/json_writer.h"
#include "journey_paths/journey_paths_text.h"

/* {"path":[...],"conversions":..,"non_conversions":..,"value":..} */
static bool
parse_path(OmnikpiJsonLexer *lex, char *buffer, const void *arg)
{
	const JourneyPathsTextSink *sink = arg;
	const char *at;
	PathStats	stats;
	const OmnikpiJsonNumberField fields[] = {
		OMNIKPI_JSON_NUMBER_FIELD("conversions", &stats.conversions),
		OMNIKPI_JSON_NUMBER_FIELD("non_conversions", &stats.non_conversions),
		OMNIKPI_JSON_NUMBER_FIELD("value", &stats.value)
	};

	omnikpi_json_skip_space(lex);
	at = lex->p;
	if (!omnikpi_json_expect(lex, '{', "Expected \"{\" to open a path.") ||
		!omnikpi_json_key(lex, "path", buffer, "Expected key \"path\".") ||
		!omnikpi_json_expect(lex, '[', "Expected \"[\" to open the channels of a path."))
		return false;
	omnikpi_json_skip_space(lex);
	if (*lex->p != ']')
	{
		for (;;)
		{
			const char *name_at;
			int			len;

			omnikpi_json_skip_space(lex);
			name_at = lex->p;
			if (!omnikpi_json_string(lex, buffer, &len))
				return false;
			if (!omnikpi_json_verdict(lex, name_at, sink->add_step(sink->arg, buffer, len)))
				return false;
			omnikpi_json_skip_space(lex);
			if (*lex->p != ',')
				break;
			lex->p++;
		}
	}
	if (!omnikpi_json_expect(lex, ']', "Expected \"]\" to close the channels of a path.") ||
		!omnikpi_json_expect(lex, ',', "Expected \",\" after the channels of a path.") ||
		!omnikpi_json_number_fields(lex, fields, lengthof(fields), buffer) ||
		!omnikpi_json_expect(lex, '}', "Expected \"}\" to close a path."))
		return false;
	return omnikpi_json_verdict(lex, at, sink->end_path(sink->arg, &stats));
}

static const OmnikpiJsonList paths = OMNIKPI_JSON_ARRAY("paths");

/* Parse text into sink; buffer must hold strlen(text) + 1 bytes. */
bool
omnikpi_jp_text_parse(const char *text, char *buffer, const JourneyPathsTextSink *sink,
					  JourneyPathsParseError *error)
{
	OmnikpiJsonLexer lex;

	omnikpi_json_init(&lex, text, error);
	return omnikpi_json_version(&lex, buffer) &&
		omnikpi_json_final_list(&lex, &paths, buffer, parse_path, sink);
}

/* Everything before the first path. */
void
omnikpi_jp_text_append_start(StringInfo out)
{
	appendStringInfoString(out, "{\"version\":1,\"paths\":[");
}

/* The start of path number path (from 0), up to its channels. */
void
omnikpi_jp_text_append_path_start(StringInfo out, int path)
{
	if (path > 0)
		appendStringInfoChar(out, ',');
	appendStringInfoString(out, "{\"path\":[");
}

/* Channel number step (from 0) of the current path. */
void
omnikpi_jp_text_append_step(StringInfo out, int step, const char *name, int len)
{
	if (step > 0)
		appendStringInfoChar(out, ',');
	omnikpi_json_append_string(out, name, len);
}

/* The counts that end the current path. */
void
omnikpi_jp_text_append_path_end(StringInfo out, const PathStats *stats)
{
	static const char *const keys[] = {"conversions", "non_conversions", "value"};
	const double values[] = {stats->conversions, stats->non_conversions, stats->value};

	appendStringInfoChar(out, ']');
	omnikpi_json_append_number_members(out, keys, values, lengthof(values));
	appendStringInfoChar(out, '}');
}

/* What closes the paths and the summary. */
void
omnikpi_jp_text_append_end(StringInfo out)
{
	appendStringInfoString(out, "]}");
}
