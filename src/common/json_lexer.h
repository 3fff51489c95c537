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
