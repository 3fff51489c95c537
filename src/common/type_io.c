/*
 * type_io.c: the driver of the three types' input and output functions
 * (see type_io.h).
 */
#include "postgres.h"

#include "funcapi.h"
#include "libpq/pqformat.h"

#include "common/messages.h"
#include "common/type_io.h"

/*
 * Text input: any problem is 22P02, a syntax error with the place and the
 * reason, content with the builder's message.
 */
Datum
omnikpi_type_in(FunctionCallInfo fcinfo, const TypeIO *io)
{
	char	   *text = PG_GETARG_CSTRING(0);
	char	   *name_buffer = palloc(strlen(text) + 1);
	void	   *builder = palloc0(io->builder_size);
	OmnikpiJsonError error;

	io->start(builder, ERRCODE_INVALID_TEXT_REPRESENTATION);
	if (!io->parse_text(text, name_buffer, builder, &error))
		omnikpi_report_syntax_error(io->family->type_name, text, &error);
	pfree(name_buffer);
	PG_RETURN_POINTER(io->finish(builder));
}

/*
 * Binary input: a message cut short or too long is the pq_getmsg
 * functions' 08P01, content the format does not allow 22P03.
 */
Datum
omnikpi_type_recv(FunctionCallInfo fcinfo, const TypeIO *io)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	void	   *builder = palloc0(io->builder_size);
	BinaryReader reader;

	io->start(builder, ERRCODE_INVALID_BINARY_REPRESENTATION);
	omnikpi_binary_reader_of(&reader, buf);
	io->read_binary(&reader, builder);
	omnikpi_binary_get_end(&reader, buf);
	PG_RETURN_POINTER(io->finish(builder));
}

/* Text output of any value of the type, a working state included. */
Datum
omnikpi_type_out(FunctionCallInfo fcinfo, const TypeIO *io)
{
	const void *stored = omnikpi_state_stored(PG_GETARG_DATUM(0), io->family);
	StringInfoData out;

	initStringInfo(&out);
	io->write_text(&out, stored);
	PG_RETURN_CSTRING(out.data);
}

/* Binary output of any value of the type. */
Datum
omnikpi_type_send(FunctionCallInfo fcinfo, const TypeIO *io)
{
	const void *stored = omnikpi_state_stored(PG_GETARG_DATUM(0), io->family);
	StringInfoData buf;

	pq_begintypsend(&buf);
	io->write_binary(&buf, stored);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * One row of a set-returning function that materialized its result
 * (InitMaterializedSRF): the accessors that list a value's parts.
 */
void
omnikpi_put_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}
