/*
 * messages.c: errors and message pieces shared by the aggregate families
 * (see messages.h).
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "common/messages.h"

/* Longest piece of a channel name or input quoted in a message, in bytes. */
#define MESSAGE_CLIP_BYTES	64

/*
 * A NUL-terminated copy of s for a message, cut at a character boundary with
 * "..." when longer than MESSAGE_CLIP_BYTES: a 1 MB channel name must not
 * make a 1 MB error message.
 */
char *
omnikpi_clip_for_message(const char *s, int len)
{
	int			keep = pg_mbcliplen(s, len, MESSAGE_CLIP_BYTES);

	if (keep == len)
		return pnstrdup(s, len);
	return psprintf("%.*s...", keep, s);
}

/*
 * The number of the word in words[0 .. nwords - 1] that given is, in any
 * case; else 22023 "unknown <what>" with the hint that lists the words.
 */
int
omnikpi_word_arg(const char *given, const char *const *words, int nwords, const char *what,
				 const char *hint)
{
	int			i;

	for (i = 0; i < nwords; i++)
		if (pg_strcasecmp(given, words[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", what, omnikpi_clip_for_message(given, strlen(given))),
			 errhint("%s", hint)));
	return -1;					/* keep the compiler quiet */
}

/*
 * What a text input function reports when its parser stops: 22P02, the
 * input (clipped) and, in the detail, where and why.
 */
void
omnikpi_report_syntax_error(const char *type_name, const char *input,
							const OmnikpiJsonError *error)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", type_name,
					omnikpi_clip_for_message(input, (int) Min(strlen(input), PG_INT32_MAX))),
			 errdetail("At character %d: %s", error->offset + 1, error->message)));
}

/*
 * A value of type_name would not fit in one datum: 54000, with the
 * family's hint on what to aggregate instead (NULL for none).
 */
void
omnikpi_report_too_large(const char *type_name, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s value would exceed the maximum size of %zu bytes",
					type_name, (Size) MaxAllocSize),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * A merge would take a count of type_name past the largest bigint: 22003.
 * Merged counts are exact or an error, never wrapped around: a wrapped count
 * is negative, which the type's own input rejects, so the value could be
 * neither dumped nor restored.
 */
void
omnikpi_report_count_overflow(const char *type_name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s count out of range", type_name),
			 errdetail("Merged counts must not exceed %lld.", (long long) PG_INT64_MAX)));
}
