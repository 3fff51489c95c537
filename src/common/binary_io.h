/*
 * binary_io.h: a reader and writer of binary forms (what a type's recv
 * and send functions and a binary COPY see) that need no server, so that a
 * decoder built on them can be fuzzed (channel_summary's is:
 * summary_binary.c).  Integers and floats are in network byte order, as the
 * pq_send functions write them.
 *
 * The reader checks every length against the bytes it has, in the order
 * the pq_getmsg functions would, and records the problem instead of raising
 * an error.
 */
#ifndef OMNIKPI_BINARY_IO_H
#define OMNIKPI_BINARY_IO_H

#include "lib/stringinfo.h"

/* What stopped a reader. */
typedef enum BinaryProblem
{
	BINARY_NO_DATA,				/* a byte was expected (pq_getmsgbyte) */
	BINARY_INSUFFICIENT_DATA,	/* a longer field was cut short */
	BINARY_TRAILING_DATA		/* bytes left after the value (pq_getmsgend) */
} BinaryProblem;

typedef struct BinaryReader
{
	const unsigned char *data;
	int			len;
	int			cursor;
	BinaryProblem problem;		/* set when a read returns false */
} BinaryReader;

extern void binary_reader_init(BinaryReader *reader, const char *data, int len);
extern bool binary_read_byte(BinaryReader *reader, int *result);
extern bool binary_read_int32(BinaryReader *reader, int32 *result);
extern bool binary_read_int64(BinaryReader *reader, int64 *result);
extern bool binary_read_float8(BinaryReader *reader, double *result);
extern bool binary_read_counted(BinaryReader *reader, const char **bytes, int32 *len);
extern bool binary_read_end(BinaryReader *reader);

static inline int
binary_bytes_left(const BinaryReader *reader)
{
	return reader->len - reader->cursor;
}

extern void binary_append_byte(StringInfo out, int value);
extern void binary_append_int32(StringInfo out, int32 value);
extern void binary_append_int64(StringInfo out, int64 value);
extern void binary_append_float8(StringInfo out, double value);

/*
 * In the server: reads that raise the pq_getmsg functions' errors instead
 * of returning false, names in the client encoding, and the errors of
 * content a format does not allow.
 */
#ifndef FRONTEND
extern void omnikpi_report_binary_problem(BinaryProblem problem) pg_attribute_noreturn();
extern void omnikpi_report_invalid_binary(const char *message,
										  const char *detail) pg_attribute_noreturn();
extern void omnikpi_binary_check_format(const char *type_name, int format, int expected);
extern void omnikpi_binary_reader_of(BinaryReader *reader, StringInfo buf);
extern void omnikpi_binary_get_end(BinaryReader *reader, StringInfo buf);
extern int	omnikpi_binary_get_byte(BinaryReader *reader);
extern int32 omnikpi_binary_get_int32(BinaryReader *reader);
extern double omnikpi_binary_get_float8(BinaryReader *reader);
extern char *omnikpi_binary_get_name(BinaryReader *reader, int *len);
extern void omnikpi_binary_append_name(StringInfo out, const char *name, int len);
#endif

#endif							/* OMNIKPI_BINARY_IO_H */
