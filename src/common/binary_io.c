/*
 * binary_io.c: the reader and writer of the binary forms (see binary_io.h).
 */
#include "postgres.h"

#include "port/pg_bswap.h"
#ifndef FRONTEND
#include "mb/pg_wchar.h"
#endif

#include "common/binary_io.h"

void
binary_reader_init(BinaryReader *reader, const char *data, int len)
{
	reader->data = (const unsigned char *) data;
	reader->len = len;
	reader->cursor = 0;
	reader->problem = BINARY_NO_DATA;
}

static bool
fail(BinaryReader *reader, BinaryProblem problem)
{
	reader->problem = problem;
	return false;
}

/* One byte, as pq_getmsgbyte. */
bool
binary_read_byte(BinaryReader *reader, int *result)
{
	if (reader->cursor >= reader->len)
		return fail(reader, BINARY_NO_DATA);
	*result = reader->data[reader->cursor++];
	return true;
}

/* n bytes, as pq_copymsgbytes: all there, or nothing is read. */
static bool
read_bytes(BinaryReader *reader, void *result, int n)
{
	if (n > reader->len - reader->cursor)
		return fail(reader, BINARY_INSUFFICIENT_DATA);
	memcpy(result, reader->data + reader->cursor, n);
	reader->cursor += n;
	return true;
}

bool
binary_read_int32(BinaryReader *reader, int32 *result)
{
	uint32		n;

	if (!read_bytes(reader, &n, sizeof(n)))
		return false;
	*result = (int32) pg_ntoh32(n);
	return true;
}

bool
binary_read_int64(BinaryReader *reader, int64 *result)
{
	uint64		n;

	if (!read_bytes(reader, &n, sizeof(n)))
		return false;
	*result = (int64) pg_ntoh64(n);
	return true;
}

/* A float8 is sent as the int64 with the same bits (pq_sendfloat8). */
bool
binary_read_float8(BinaryReader *reader, double *result)
{
	int64		bits;

	if (!binary_read_int64(reader, &bits))
		return false;
	memcpy(result, &bits, sizeof(*result));
	return true;
}

/*
 * An int32 length, then that many bytes, left where they are: as
 * pq_getmsgtext reads a counted string, a negative length is data that is
 * not there.
 */
bool
binary_read_counted(BinaryReader *reader, const char **bytes, int32 *len)
{
	if (!binary_read_int32(reader, len))
		return false;
	if (*len < 0 || *len > reader->len - reader->cursor)
		return fail(reader, BINARY_INSUFFICIENT_DATA);
	*bytes = (const char *) reader->data + reader->cursor;
	reader->cursor += *len;
	return true;
}

/* Nothing left, as pq_getmsgend. */
bool
binary_read_end(BinaryReader *reader)
{
	if (reader->cursor != reader->len)
		return fail(reader, BINARY_TRAILING_DATA);
	return true;
}

void
binary_append_byte(StringInfo out, int value)
{
	appendStringInfoCharMacro(out, (char) value);
}

void
binary_append_int32(StringInfo out, int32 value)
{
	uint32		n = pg_hton32((uint32) value);

	appendBinaryStringInfo(out, (const char *) &n, sizeof(n));
}

void
binary_append_int64(StringInfo out, int64 value)
{
	uint64		n = pg_hton64((uint64) value);

	appendBinaryStringInfo(out, (const char *) &n, sizeof(n));
}

void
binary_append_float8(StringInfo out, double value)
{
	int64		bits;

	memcpy(&bits, &value, sizeof(bits));
	binary_append_int64(out, bits);
}

#ifndef FRONTEND

/* The error of a pq_getmsg function for what stopped a reader: 08P01. */
void
omnikpi_report_binary_problem(BinaryProblem problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("%s", problem == BINARY_NO_DATA ? "no data left in message" :
					problem == BINARY_INSUFFICIENT_DATA ? "insufficient data left in message" :
					"invalid message format")));
}

/* Content that the format does not allow: 22P03, the message and a detail. */
void
omnikpi_report_invalid_binary(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) : 0));
}

/* The first byte of every binary form: the version of its layout. */
void
omnikpi_binary_check_format(const char *type_name, int format, int expected)
{
	if (format != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary %s format %d", type_name, format),
				 errdetail("This build reads format %d.", expected)));
}

/* A reader over what is left of a recv function's message. */
void
omnikpi_binary_reader_of(BinaryReader *reader, StringInfo buf)
{
	binary_reader_init(reader, buf->data + buf->cursor, buf->len - buf->cursor);
}

/*
 * The end of the value, as pq_getmsgend; the message is then read to its
 * end, which is what the caller of a recv function checks.
 */
void
omnikpi_binary_get_end(BinaryReader *reader, StringInfo buf)
{
	if (!binary_read_end(reader))
		omnikpi_report_binary_problem(reader->problem);
	buf->cursor = buf->len;
}

int
omnikpi_binary_get_byte(BinaryReader *reader)
{
	int			result;

	if (!binary_read_byte(reader, &result))
		omnikpi_report_binary_problem(reader->problem);
	return result;
}

int32
omnikpi_binary_get_int32(BinaryReader *reader)
{
	int32		result;

	if (!binary_read_int32(reader, &result))
		omnikpi_report_binary_problem(reader->problem);
	return result;
}

double
omnikpi_binary_get_float8(BinaryReader *reader)
{
	double		result;

	if (!binary_read_float8(reader, &result))
		omnikpi_report_binary_problem(reader->problem);
	return result;
}

/*
 * A counted name converted from the client encoding, as pq_getmsgtext reads
 * it (invalid bytes are an error there too), NUL-terminated in palloc'd
 * memory; *len gets its length.
 */
char *
omnikpi_binary_get_name(BinaryReader *reader, int *len)
{
	const char *bytes;
	int32		raw_len;
	char	   *name;

	if (!binary_read_counted(reader, &bytes, &raw_len))
		omnikpi_report_binary_problem(reader->problem);
	name = pg_client_to_server(bytes, raw_len);
	if (name == bytes)
	{
		*len = raw_len;
		return pnstrdup(bytes, raw_len);
	}
	*len = (int) strlen(name);
	return name;
}

/* A name converted to the client encoding and counted, as pq_sendcountedtext. */
void
omnikpi_binary_append_name(StringInfo out, const char *name, int len)
{
	char	   *converted = pg_server_to_client(name, len);

	if (converted != name)
		len = (int) strlen(converted);
	binary_append_int32(out, len);
	appendBinaryStringInfo(out, converted, len);
	if (converted != name)
		pfree(converted);
}

#endif							/* !FRONTEND */
