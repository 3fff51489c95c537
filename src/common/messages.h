/*
 * messages.h: errors and message pieces the three aggregate families share,
 * so that the same limit or the same quoted name reads the same everywhere.
 */
#ifndef OMNIKPI_MESSAGES_H
#define OMNIKPI_MESSAGES_H

#include "common/json_lexer.h"

extern char *omnikpi_clip_for_message(const char *s, int len);
extern int	omnikpi_word_arg(const char *given, const char *const *words, int nwords,
							 const char *what, const char *hint);
extern void omnikpi_report_syntax_error(const char *type_name, const char *input,
										const OmnikpiJsonError *error) pg_attribute_noreturn();
extern void omnikpi_report_too_large(const char *type_name, const char *hint) pg_attribute_noreturn();
extern void omnikpi_report_count_overflow(const char *type_name) pg_attribute_noreturn();

#endif							/* OMNIKPI_MESSAGES_H */
