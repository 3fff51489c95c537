/*
 * json_lexer.h: the tokens shared by the JSON-shaped text forms of
 * channel_summary (summary_text.c), markov_model (markov_text.c) and
 * journey_paths (journey_paths_text.c): white space, punctuation, strings
 * with JSON escapes, keys, whole numbers and finite doubles.  Server-free,
 * so that the parsers can be fuzzed outside PostgreSQL.
 *
 * Every function skips leading white space (' ', \t, \n, \r), and on
 * failure records a sentence and the byte offset where the input went
 * wrong in the lexer's error and returns false.  Strings accept the escapes
 * \" \\ \/ \b \f \n \r \t and \u0001 to \u007f.
 */
#ifndef OMNIKPI_JSON_LEXER_H
#define OMNIKPI_JSON_LEXER_H

#include "postgres.h"

typedef struct OmnikpiJsonError
{
	const char *message;		/* a sentence, for errdetail */
	int			offset;			/* byte offset in the input */
} OmnikpiJsonError;

typedef struct OmnikpiJsonLexer
{
	const char *start;			/* the input, NUL-terminated */
	const char *p;				/* the next byte to read */
	OmnikpiJsonError *error;
} OmnikpiJsonLexer;

extern void omnikpi_json_init(OmnikpiJsonLexer *lex, const char *text,
							  OmnikpiJsonError *error);
extern bool omnikpi_json_fail(OmnikpiJsonLexer *lex, const char *message);
extern bool omnikpi_json_string(OmnikpiJsonLexer *lex, char *out, int *len);
extern bool omnikpi_json_key(OmnikpiJsonLexer *lex, const char *key, char *scratch,
							 const char *message);
extern bool omnikpi_json_version(OmnikpiJsonLexer *lex, char *scratch);
extern bool omnikpi_json_integer(OmnikpiJsonLexer *lex, int64 *result,
								 const char *missing, const char *out_of_range);
extern bool omnikpi_json_number(OmnikpiJsonLexer *lex, double *result);

/*
 * A run of number members, "key":number separated by commas, in a fixed
 * order: channel_summary's "sum","min","max", a journey path's
 * "conversions","non_conversions","value".  The messages are the caller's,
 * so each names its key.
 */
typedef struct OmnikpiJsonNumberField
{
	const char *key;
	const char *missing;		/* when the key is not there */
	const char *no_comma;		/* when no comma follows its number (all but the last) */
	double	   *value;
} OmnikpiJsonNumberField;

/* A field with its messages, e.g. OMNIKPI_JSON_NUMBER_FIELD("sum", &stats.sum). */
#define OMNIKPI_JSON_NUMBER_FIELD(key, value) \
	{key, "Expected key \"" key "\".", "Expected \",\" after \"" key "\".", value}

extern bool omnikpi_json_number_fields(OmnikpiJsonLexer *lex, const OmnikpiJsonNumberField *fields,
									   int nfields, char *scratch);

/*
 * A sink's verdict on what was read from at: true when it is accepted (no
 * problem), else the sink's problem, placed at the start of what it judged.
 */
static inline bool
omnikpi_json_verdict(OmnikpiJsonLexer *lex, const char *at, const char *problem)
{
	if (problem == NULL)
		return true;
	lex->p = at;
	return omnikpi_json_fail(lex, problem);
}

/*
 * The last member of every text form: its key, then a list ('[') or object
 * ('{') of members, each read by member_reader, then the end of the text.
 * The messages are the caller's, so each names what it expected.
 */
typedef struct OmnikpiJsonList
{
	const char *key;			/* "channels", "paths", "transitions" */
	char		open;
	char		close;
	const char *missing_key;
	const char *no_open;
	const char *no_close;
} OmnikpiJsonList;

/* An array or an object of members under key, with its messages. */
#define OMNIKPI_JSON_ARRAY(key) \
	{key, '[', ']', "Expected key \"" key "\".", "Expected \"[\" to open the " key ".", \
	 "Expected \"]\" to close the " key "."}
#define OMNIKPI_JSON_OBJECT(key) \
	{key, '{', '}', "Expected key \"" key "\".", "Expected \"{\" to open the " key ".", \
	 "Expected \"}\" to close the " key "."}

typedef bool (*OmnikpiJsonMemberReader) (OmnikpiJsonLexer *lex, char *buffer, const void *sink);

extern bool omnikpi_json_final_list(OmnikpiJsonLexer *lex, const OmnikpiJsonList *list,
									char *buffer, OmnikpiJsonMemberReader member_reader,
									const void *sink);

/* Inline: called around every token, on the COPY path. */
static inline void
omnikpi_json_skip_space(OmnikpiJsonLexer *lex)
{
	while (*lex->p == ' ' || *lex->p == '\t' || *lex->p == '\n' || *lex->p == '\r')
		lex->p++;
}

/* The character c, or message as the error. */
static inline bool
omnikpi_json_expect(OmnikpiJsonLexer *lex, char c, const char *message)
{
	omnikpi_json_skip_space(lex);
	if (*lex->p != c)
		return omnikpi_json_fail(lex, message);
	lex->p++;
	return true;
}

/* Whether c comes next, and if so, past it: the "," between list items. */
static inline bool
omnikpi_json_next(OmnikpiJsonLexer *lex, char c)
{
	omnikpi_json_skip_space(lex);
	if (*lex->p != c)
		return false;
	lex->p++;
	return true;
}

/* The "}" that closes the value, then nothing but white space. */
static inline bool
omnikpi_json_end(OmnikpiJsonLexer *lex)
{
	if (!omnikpi_json_expect(lex, '}', "Expected \"}\" at the end."))
		return false;
	omnikpi_json_skip_space(lex);
	if (*lex->p != '\0')
		return omnikpi_json_fail(lex, "Unexpected characters after the end.");
	return true;
}

#endif							/* OMNIKPI_JSON_LEXER_H */
