#!/bin/sh
# query.sh SQL: the rows of SQL as a JSON array, for the data loaders in
# src/data.  It reads as whoever the PG* variables name (dashboard/build.sh
# sets them to the BI role and PGOPTIONS' search_path to the KPI schema), so
# the dashboard sees exactly what a BI tool would.
set -eu
exec psql -X -q -A -t -v ON_ERROR_STOP=1 -c "SELECT coalesce(json_agg(r), '[]') FROM ($1) r"
