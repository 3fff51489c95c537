/*
 * source_expression.c: is a mapped column of create_kpi_views one SQL value
 * expression, and nothing more?
 *
 * A user may map one of omnikpi's source columns to an expression over their
 * own columns (nullif(nps_answer, '')::int, csat_0_10 / 2.0, ...), and
 * create_kpi_views writes it, as "((<expression>\n))", into the source view
 * it generates.  The expression runs with the caller's rights inside the
 * caller's own view, so what it may compute is not the question; the
 * question is whether the text could end that statement or add to it:
 * "1) AS x FROM t; DROP TABLE victim; --" must never reach EXECUTE, which
 * runs every statement of a string it is given.
 *
 * So the text is parsed, never run, by PostgreSQL's own grammar as
 * "SELECT (<expression>\n)": with the current standard_conforming_strings
 * and the rest of the lexer's settings, exactly as the generated statement
 * will be lexed.  It must give one SELECT whose only target is that
 * unnamed value, with no FROM, WHERE, set operation or anything else
 * after it.  Then the tokens of "(<expression>\n)" form one value
 * expression: a comment, a quote or a dollar quote left open inside it
 * would have swallowed the closing parenthesis, a parenthesis closed early
 * would have left a clause or a second target behind, and a semicolon a
 * second statement.  The extra pair of parentheses the generated SQL puts
 * around it keeps operator precedence from reaching inside.  A syntax
 * error is raised as the parser raises it (42601), for the caller to
 * collect with the other problems of the mapping.
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"

/* What keeps a parsed "SELECT (<expression>\n)" from being one value, or NULL. */
static const char *
select_problem(SelectStmt *select)
{
	ResTarget  *target;

	if (select->op != SETOP_NONE)
		return "it is followed by UNION, INTERSECT or EXCEPT";
	if (select->withClause != NULL || select->valuesLists != NIL)
		return "it is a statement of its own";
	if (list_length(select->targetList) != 1)
		return "it is more than one value: a parenthesis closes before its end";
	target = linitial_node(ResTarget, select->targetList);
	if (target->name != NULL)
		return "it names its value with AS: a parenthesis closes before its end";
	if (select->intoClause != NULL || select->fromClause != NIL ||
		select->whereClause != NULL || select->groupClause != NIL ||
		select->havingClause != NULL || select->windowClause != NIL ||
		select->sortClause != NIL || select->limitOffset != NULL ||
		select->limitCount != NULL || select->lockingClause != NIL ||
		select->distinctClause != NIL)
		return "it adds a clause (FROM, WHERE, ORDER BY, ...) after the value: a parenthesis closes before its end";
	return NULL;
}

/*
 * omnikpi_expression_problem: NULL when the text is exactly one SQL value
 * expression, otherwise what more it is (to follow a colon in a message); a
 * text that does not parse raises the parser's syntax error.
 */
PG_FUNCTION_INFO_V1(omnikpi_expression_problem);
Datum
omnikpi_expression_problem(PG_FUNCTION_ARGS)
{
	char	   *expression = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *statements;
	RawStmt    *statement;
	const char *problem;

	statements = raw_parser(psprintf("SELECT (%s\n)", expression), RAW_PARSE_DEFAULT);
	if (list_length(statements) != 1)
		PG_RETURN_TEXT_P(cstring_to_text("it holds a semicolon that ends the statement and starts another"));
	statement = linitial_node(RawStmt, statements);
	if (!IsA(statement->stmt, SelectStmt))
		PG_RETURN_TEXT_P(cstring_to_text("it is a statement of its own"));
	problem = select_problem((SelectStmt *) statement->stmt);
	if (problem != NULL)
		PG_RETURN_TEXT_P(cstring_to_text(problem));
	PG_RETURN_NULL();
}
