/*
 * type_io.h: the input and output functions of channel_summary,
 * markov_model and journey_paths, one driver for the three.  A family
 * supplies a builder (what its text parser's and binary reader's callbacks
 * fill), and writers that turn a stored value into its text and binary
 * forms; the driver does the rest: the name buffer and the 22P02 with the
 * place of a text syntax error, the reader over a recv message and its end,
 * detoasting, the output buffers.
 */
#ifndef OMNIKPI_TYPE_IO_H
#define OMNIKPI_TYPE_IO_H

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "common/aggregate_state.h"
#include "common/binary_io.h"
#include "common/json_lexer.h"

typedef struct TypeIO
{
	const StateFamily *family;	/* its type_name names the type in errors */
	Size		builder_size;
	/* a new builder; content problems raise errcode (22P02 text, 22P03 binary) */
	void		(*start) (void *builder, int errcode);
	/* the family's text parser with the builder behind its callbacks */
	bool		(*parse_text) (const char *text, char *name_buffer, void *builder,
							   OmnikpiJsonError *error);
	/* the binary form up to its end; raises its errors */
	void		(*read_binary) (BinaryReader *reader, void *builder);
	/* the stored value of what was read; the builder's memory is freed */
	void	   *(*finish) (void *builder);
	void		(*write_text) (StringInfo out, const void *stored);
	void		(*write_binary) (StringInfo out, const void *stored);
} TypeIO;

extern Datum omnikpi_type_in(FunctionCallInfo fcinfo, const TypeIO *io);
extern Datum omnikpi_type_out(FunctionCallInfo fcinfo, const TypeIO *io);
extern Datum omnikpi_type_recv(FunctionCallInfo fcinfo, const TypeIO *io);
extern Datum omnikpi_type_send(FunctionCallInfo fcinfo, const TypeIO *io);
extern void omnikpi_put_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

/*
 * A type's TypeIO and its four SQL-callable input and output functions, in
 * a file that defines the TypeIO's functions under their names here:
 * builder_start, parse_text, read_binary, builder_finish, write_text and
 * write_binary, with builders of builder_type.
 */
#define OMNIKPI_TYPE_IO_FUNCTIONS(in, out, recv, send, family, builder_type) \
	static const TypeIO type_io = { \
		&(family), sizeof(builder_type), builder_start, parse_text, read_binary, \
		builder_finish, write_text, write_binary \
	}; \
	PG_FUNCTION_INFO_V1(in); \
	Datum in(PG_FUNCTION_ARGS) { return omnikpi_type_in(fcinfo, &type_io); } \
	PG_FUNCTION_INFO_V1(out); \
	Datum out(PG_FUNCTION_ARGS) { return omnikpi_type_out(fcinfo, &type_io); } \
	PG_FUNCTION_INFO_V1(recv); \
	Datum recv(PG_FUNCTION_ARGS) { return omnikpi_type_recv(fcinfo, &type_io); } \
	PG_FUNCTION_INFO_V1(send); \
	Datum send(PG_FUNCTION_ARGS) { return omnikpi_type_send(fcinfo, &type_io); }

#endif							/* OMNIKPI_TYPE_IO_H */
