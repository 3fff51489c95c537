#!/usr/bin/env bash
#
# jdbc.sh: the KPI views through PostgreSQL's JDBC driver, as a BI tool sees
# them.  In its own database of test/run.sh's cluster it creates materialized
# KPI views, a login role with omnikpi.grant_bi_access and nothing else, and
# runs test/jdbc/BiToolCheck.java over TCP (127.0.0.1:$PGPORT) as that role:
# DatabaseMetaData lists the relations and columns with their types and
# COMMENTs, a month-by-channel KPI query gives psql's numbers exactly, and
# every write is refused.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages libpostgresql-jdbc-java
if ! command -v javac >/dev/null 2>&1; then
	omnikpi_ensure_packages openjdk-17-jdk-headless
fi
jar=/usr/share/java/postgresql.jar

db=omnikpi_jdbc
role=omnikpi_bi
schema=kpi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

javac -d "$work" -cp "$jar" test/jdbc/*.java

omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $role" \
	-c "CREATE DATABASE $db" -c "CREATE ROLE $role LOGIN"
omnikpi_psql -d "$db" -v schema="$schema" -v role="$role" -f test/bi/kpi_views.sql

# What psql sees, for the driver to match.
echo "$schema" >"$work/schema.txt"
omnikpi_psql -d "$db" -At -F '|' -v schema="$schema" -v role="$role" -o "$work/relations.txt" <<'SQL'
SELECT c.relname, c.relkind, has_table_privilege(:'role', c.oid, 'SELECT'), coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c
WHERE c.relnamespace = to_regnamespace(:'schema') AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY 1;
SQL
omnikpi_psql -d "$db" -At -F '|' -v schema="$schema" -v role="$role" -o "$work/columns.txt" <<'SQL'
SELECT c.relname, a.attname, t.typname, coalesce(col_description(c.oid, a.attnum), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relnamespace = to_regnamespace(:'schema') AND c.relkind IN ('r', 'p', 'v', 'm')
  AND has_table_privilege(:'role', c.oid, 'SELECT')
ORDER BY c.relname, a.attnum;
SQL
omnikpi_psql -d "$db" -At -F '|' -v schema="$schema" -o "$work/kpi.txt" <<'SQL'
SELECT to_char(month, 'YYYY-MM-DD'), channel, rating_pct, interactions
FROM :"schema".experience_rating_by_channel_monthly ORDER BY month, channel;
SQL
echo "psql: $(wc -l <"$work/relations.txt") relations, $(wc -l <"$work/columns.txt") readable columns, $(wc -l <"$work/kpi.txt") KPI rows"
# Without a relation the role can read, or without commented columns, the
# driver's checks would pass vacuously.
grep -q '|t|' "$work/relations.txt" || { echo "the role can read no relation of $schema"; exit 1; }
[ "$(awk -F'|' '$4 != ""' "$work/columns.txt" | wc -l)" -gt 0 ] || { echo "no column comments"; exit 1; }

java -cp "$work:$jar" BiToolCheck "jdbc:postgresql://127.0.0.1:$PGPORT/$db" "$role" "$work"

omnikpi_psql -d postgres -c "DROP DATABASE $db" -c "DROP ROLE $role"
