/*
 * journey_paths_text.c: parser of the journey_paths text format (see
 * journey_paths_text.h).  Strict: one fixed shape, finite numbers only, no
 * trailing garbage; anything else is reported with the offset where it went
 * wrong.  Checks of the content (empty paths, repeats, counts) belong to the
 * sink, which is shared with the binary input.
 */
#include "postgres.h"

#include "journey_paths/journey_paths_text.h"
#include "common/json_lexer.h"

/* {"path":[...],"conversions":..,"non_conversions":..,"value":..} */
static bool
parse_path(OmnikpiJsonLexer *lex, char *buffer, const JourneyPathsTextSink *sink)
{
	const char *at;
	const char *problem;
	PathStats	stats;

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
			problem = sink->add_step(sink->arg, buffer, len);
			if (problem != NULL)
			{
				lex->p = name_at;
				return omnikpi_json_fail(lex, problem);
			}
			omnikpi_json_skip_space(lex);
			if (*lex->p != ',')
				break;
			lex->p++;
		}
	}
	if (!omnikpi_json_expect(lex, ']', "Expected \"]\" to close the channels of a path.") ||
		!omnikpi_json_expect(lex, ',', "Expected \",\" after the channels of a path.") ||
		!omnikpi_json_key(lex, "conversions", buffer, "Expected key \"conversions\".") ||
		!omnikpi_json_number(lex, &stats.conversions) ||
		!omnikpi_json_expect(lex, ',', "Expected \",\" after \"conversions\".") ||
		!omnikpi_json_key(lex, "non_conversions", buffer, "Expected key \"non_conversions\".") ||
		!omnikpi_json_number(lex, &stats.non_conversions) ||
		!omnikpi_json_expect(lex, ',', "Expected \",\" after \"non_conversions\".") ||
		!omnikpi_json_key(lex, "value", buffer, "Expected key \"value\".") ||
		!omnikpi_json_number(lex, &stats.value) ||
		!omnikpi_json_expect(lex, '}', "Expected \"}\" to close a path."))
		return false;
	problem = sink->end_path(sink->arg, &stats);
	if (problem != NULL)
	{
		lex->p = at;
		return omnikpi_json_fail(lex, problem);
	}
	return true;
}

/* Parse text into sink; buffer must hold strlen(text) + 1 bytes. */
bool
omnikpi_jp_text_parse(const char *text, char *buffer, const JourneyPathsTextSink *sink,
					  JourneyPathsParseError *error)
{
	OmnikpiJsonLexer lex;

	omnikpi_json_init(&lex, text, error);

	if (!omnikpi_json_expect(&lex, '{', "Expected \"{\" at the start.") ||
		!omnikpi_json_key(&lex, "version", buffer, "Expected key \"version\" first."))
		return false;
	/* the only version there is: "1" and nothing that continues the number */
	omnikpi_json_skip_space(&lex);
	if (*lex.p != '1' || (lex.p[1] >= '0' && lex.p[1] <= '9') || lex.p[1] == '.' ||
		lex.p[1] == 'e' || lex.p[1] == 'E')
		return omnikpi_json_fail(&lex, "Unsupported version: this build reads version 1.");
	lex.p++;
	if (!omnikpi_json_expect(&lex, ',', "Expected \",\" after the version.") ||
		!omnikpi_json_key(&lex, "paths", buffer, "Expected key \"paths\".") ||
		!omnikpi_json_expect(&lex, '[', "Expected \"[\" to open the paths."))
		return false;
	omnikpi_json_skip_space(&lex);
	if (*lex.p != ']')
		do
		{
			if (!parse_path(&lex, buffer, sink))
				return false;
		} while (omnikpi_json_next(&lex, ','));
	return omnikpi_json_expect(&lex, ']', "Expected \"]\" to close the paths.") &&
		omnikpi_json_end(&lex);
}
