#!/usr/bin/env bash
#
# odbc.sh: the KPI views through ODBC, the path Excel, Power BI and Tableau
# take: Debian's PostgreSQL ODBC driver (psqlODBC, odbc-postgresql) under
# unixODBC, connecting over TCP as a BI role that logs in with its password and
# was given the views by omnikpi.grant_bi_access.  test/odbc/odbc_check.c does
# what such a tool does: SQLDriverConnect, a query through SQLExecDirect, and
# SQLColumns for the view's columns.  Checked against psql over the same view:
#   - the rows, value for value;
#   - the columns SQLColumns lists, with their types;
#   - the columns' descriptions (their COMMENTs: formula, unit, target),
#     which psqlODBC does not put into SQLColumns' REMARKS (always empty, as
#     its catalog query selects ''), read through ODBC with a catalog query;
#   - a write through ODBC is refused.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages odbc-postgresql unixodbc unixodbc-dev gcc libc6-dev

db=omnikpi_odbc
role=omnikpi_odbc_bi
password=odbc-$RANDOM$RANDOM
view=experience_rating_by_channel_monthly
work=$(mktemp -d)
cleanup()
{
	omnikpi_psql -d postgres -c 'SET client_min_messages = warning' \
		-c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP ROLE IF EXISTS $role" || true
	rm -rf "$work"
}
trap cleanup EXIT

fail()
{
	echo "FAILED: $*" >&2
	exit 1
}

gcc -Wall -Wextra -Werror -o "$work/odbc_check" test/odbc/odbc_check.c -lodbc

omnikpi_psql -d postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $db" \
	-c "DROP ROLE IF EXISTS $role" -c "CREATE DATABASE $db"
omnikpi_psql -d postgres -v role="$role" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
SQL
omnikpi_psql -d "$db" -v schema=kpi -v role="$role" -f test/bi/kpi_views.sql >/dev/null

connection="DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=$PGPORT;DATABASE=$db;UID=$role;PWD=$password"
query="SELECT month, channel, rating_pct, interactions FROM kpi.$view ORDER BY month, channel"
comments="SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
	WHERE a.attrelid = 'kpi.$view'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"

# What psql sees, for ODBC to match.
{
	echo "rows:"
	omnikpi_psql -d "$db" -At -F '|' -c "$query"
	echo "columns:"
	omnikpi_psql -d "$db" -At -F '|' -c "SELECT a.attname, t.typname, '' FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = 'kpi.$view'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
} >"$work/expected.txt"
omnikpi_psql -d "$db" -At -F '|' -c "$comments" >"$work/expected_comments.txt"
if grep -q '|$' "$work/expected_comments.txt"; then fail "a column of kpi.$view has no description to compare"; fi

"$work/odbc_check" "$connection" kpi "$view" "$query" >"$work/odbc.txt" ||
	fail "the view through ODBC: $(cat "$work/odbc.txt")"
diff -u "$work/expected.txt" "$work/odbc.txt" || fail "ODBC's rows or columns of kpi.$view differ from psql's"
echo "ok: kpi.$view through ODBC: its rows, columns and types as psql has them"

"$work/odbc_check" "$connection" kpi "$view" "$comments" | sed -n '/^rows:$/,/^columns:$/p' | sed '1d;$d' \
	>"$work/odbc_comments.txt"
diff -u "$work/expected_comments.txt" "$work/odbc_comments.txt" || fail "the descriptions read through ODBC differ"
echo "ok: the descriptions of kpi.$view's $(wc -l <"$work/odbc_comments.txt") columns through ODBC"

# Read-only: the role was granted SELECT only.
if "$work/odbc_check" "$connection" kpi "$view" "DELETE FROM kpi.interactions_daily" >"$work/write.txt" 2>&1; then
	fail "a DELETE through ODBC as the BI role succeeded"
fi
grep -q '42501' "$work/write.txt" || fail "a DELETE through ODBC failed otherwise than with 42501: $(cat "$work/write.txt")"
echo "ok: a write through ODBC is refused (42501)"
