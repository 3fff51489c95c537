/*
 * odbc_check.c: what a BI tool does through ODBC (Excel, Power BI, Tableau on
 * their ODBC path), with unixODBC and the PostgreSQL ODBC driver:
 *
 *   odbc_check CONNECTION_STRING SCHEMA TABLE QUERY
 *
 * connects with SQLDriverConnect, prints the rows of QUERY (SQLExecDirect,
 * SQLFetch) as "value|value" lines after a line "rows:", then the columns of
 * SCHEMA.TABLE as the catalog call SQLColumns describes them to the tool,
 * "name|type|remarks" after a line "columns:".  A NULL prints as an empty
 * field.  Any ODBC error is printed with its SQLSTATE and the exit status is 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sql.h>
#include <sqlext.h>

static void
check(SQLRETURN rc, SQLSMALLINT type, SQLHANDLE handle, const char *what)
{
	SQLCHAR		state[6];
	SQLCHAR		message[1024];
	SQLINTEGER	native;
	SQLSMALLINT length;

	if (SQL_SUCCEEDED(rc))
		return;
	if (SQLGetDiagRec(type, handle, 1, state, &native, message, sizeof(message), &length) == SQL_SUCCESS)
		fprintf(stderr, "%s failed: %s %s\n", what, state, message);
	else
		fprintf(stderr, "%s failed\n", what);
	exit(1);
}

/* print_rows: every row of the statement's result, fields joined by "|". */
static void
print_rows(SQLHSTMT stmt, const SQLUSMALLINT *only, int nonly)
{
	SQLSMALLINT ncols;
	SQLRETURN	rc;

	check(SQLNumResultCols(stmt, &ncols), SQL_HANDLE_STMT, stmt, "SQLNumResultCols");
	while ((rc = SQLFetch(stmt)) != SQL_NO_DATA)
	{
		int			n = only ? nonly : ncols;

		check(rc, SQL_HANDLE_STMT, stmt, "SQLFetch");
		for (int i = 0; i < n; i++)
		{
			SQLCHAR		value[4096];
			SQLLEN		indicator;
			SQLUSMALLINT column = only ? only[i] : (SQLUSMALLINT) (i + 1);

			check(SQLGetData(stmt, column, SQL_C_CHAR, value, sizeof(value), &indicator),
				  SQL_HANDLE_STMT, stmt, "SQLGetData");
			printf("%s%s", i ? "|" : "", indicator == SQL_NULL_DATA ? "" : (char *) value);
		}
		printf("\n");
	}
}

int
main(int argc, char **argv)
{
	SQLHENV		env;
	SQLHDBC		dbc;
	SQLHSTMT	stmt;
	/* SQLColumns' result: COLUMN_NAME, TYPE_NAME and REMARKS */
	static const SQLUSMALLINT column_fields[] = {4, 6, 12};

	if (argc != 5)
	{
		fprintf(stderr, "usage: %s CONNECTION_STRING SCHEMA TABLE QUERY\n", argv[0]);
		return 2;
	}
	SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
	SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER) SQL_OV_ODBC3, 0);
	SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
	check(SQLDriverConnect(dbc, NULL, (SQLCHAR *) argv[1], SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT),
		  SQL_HANDLE_DBC, dbc, "SQLDriverConnect");

	SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
	check(SQLExecDirect(stmt, (SQLCHAR *) argv[4], SQL_NTS), SQL_HANDLE_STMT, stmt, "SQLExecDirect");
	printf("rows:\n");
	print_rows(stmt, NULL, 0);
	SQLFreeHandle(SQL_HANDLE_STMT, stmt);

	SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
	check(SQLColumns(stmt, NULL, 0, (SQLCHAR *) argv[2], SQL_NTS, (SQLCHAR *) argv[3], SQL_NTS, NULL, 0),
		  SQL_HANDLE_STMT, stmt, "SQLColumns");
	printf("columns:\n");
	print_rows(stmt, column_fields, 3);
	SQLFreeHandle(SQL_HANDLE_STMT, stmt);

	SQLDisconnect(dbc);
	SQLFreeHandle(SQL_HANDLE_DBC, dbc);
	SQLFreeHandle(SQL_HANDLE_ENV, env);
	return 0;
}
