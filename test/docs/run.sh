#!/usr/bin/env bash
#
# test/docs/run.sh: what `make test-docs` runs, and `make test` through
# test/suites/docs.sh.  Every SQL example of README.md, CONTRIBUTING.md and
# docs/*.md runs, and what psql prints must equal the output shown under it,
# as timescaledb-toolkit tests its documentation.  Each document runs from the
# top in a new database holding only the omnikpi extension, so it must create
# the tables its examples read, as a reader pasting it would.
#
# The format (test/docs/extract.awk reads it): an example is a ```sql block;
# the ```output block after it is what psql prints for it, as psql -q prints
# it with the row-count footer off and without error CONTEXT lines; an
# example without one must print nothing.  Lines are compared without
# trailing blanks, and blank lines are ignored.  A document that needs an
# extension omnikpi does not (citus, say) names it in a line
#   <!-- docs-test: requires citus -->
# and is skipped, saying so, where that extension is not available or cannot
# be created in this cluster (test/citus/run.sh runs docs/scale-out.md).
#
# The cluster is its own, with pg_cron preloaded for the scheduling examples
# (cron.database_name is the database each document runs in), on a free port.
# Roles a document creates are dropped after it.  Environment: OMNIKPI_DOCS
# (the documents to run, default all), PG_CONFIG.
#
# Exit status: 0 when every example printed what its document shows.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/cluster.sh
. test/cluster.sh

if [ -n "${OMNIKPI_DOCS:-}" ]; then
	read -r -a documents <<<"$OMNIKPI_DOCS"
else
	mapfile -t documents < <(find README.md CONTRIBUTING.md docs -maxdepth 1 -name '*.md' 2>/dev/null | LC_ALL=C sort)
fi

omnikpi_ensure_packages "postgresql-$OMNIKPI_PG_MAJOR-cron"
if [ ! -f "$("$PG_CONFIG" --pkglibdir)/pg_cron.so" ]; then
	echo "pg_cron is not installed in the PostgreSQL of $PG_CONFIG; Debian's postgresql-$OMNIKPI_PG_MAJOR-cron installs it into /usr/lib/postgresql/$OMNIKPI_PG_MAJOR" >&2
	exit 1
fi

# A cluster of our own, whichever one the caller had.
unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP OMNIKPI_SERVER_LOG PGHOST PGPORT PGUSER PGDATABASE
db=omnikpi_docs
export OMNIKPI_EXTRA_CONF="shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.use_background_workers = on"
omnikpi_cluster_stop_on_exit
# shellcheck disable=SC2119 # no DIR: a fresh temp dir
omnikpi_cluster_start

work=$(mktemp -d)
trap 'rm -rf "$work"; omnikpi_cluster_stop' EXIT

# normalize FILE: what the comparison ignores.  psql prefixes a message of a
# script with "psql:FILE:LINE: "; trailing blanks and blank lines are layout.
normalize()
{
	sed -e 's/^psql:[^:]*:[0-9]*: //' -e 's/[[:space:]]*$//' "$1" | grep -v '^$' || true
}

roles()
{
	omnikpi_psql -d postgres -At -c "SELECT rolname FROM pg_roles ORDER BY 1"
}

passed=0
failed=0
skipped=0
for doc in "${documents[@]}"; do
	name=$(echo "$doc" | tr '/.' '__')
	script=$work/$name.sql
	expected=$work/$name.expected
	actual=$work/$name.out
	if ! awk -v script="$script" -v expected="$expected" -f test/docs/extract.awk "$doc"; then
		echo "FAILED: $doc is malformed (above)"
		failed=$((failed + 1))
		continue
	fi
	if ! grep -q '^\\echo' "$script"; then
		continue
	fi

	unavailable=""
	while read -r extension; do
		if [ "$(omnikpi_psql -d postgres -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = '$extension'")" = 0 ]; then
			unavailable="$unavailable $extension"
		# Installed but not loadable in this cluster (citus must be preloaded):
		# such a document is run by its own suite (docs/scale-out.md: make test-citus).
		elif ! omnikpi_psql -d postgres -c 'BEGIN' -c "CREATE EXTENSION \"$extension\" CASCADE" -c 'ROLLBACK' >/dev/null 2>&1; then
			unavailable="$unavailable $extension"
		fi
	done < <(sed -n 's/^<!-- docs-test: requires \([a-z_0-9]*\) -->$/\1/p' "$doc")
	if [ -n "$unavailable" ]; then
		echo "skipped: $doc (needs$unavailable, not installed or not loadable here)"
		skipped=$((skipped + 1))
		continue
	fi

	roles_before=$(roles)
	omnikpi_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
	omnikpi_psql -d "$db" -c 'CREATE EXTENSION omnikpi'
	# ON_ERROR_STOP off: an example whose error is its point goes on to the
	# next; an unexpected error shows as a difference.
	PGTZ=UTC PGDATESTYLE=ISO "$OMNIKPI_PG_BINDIR/psql" -X -q -d "$db" -v ON_ERROR_STOP=0 \
		-v SHOW_CONTEXT=never -P footer=off -f "$script" >"$actual" 2>&1 || true

	# Roles are cluster-wide: drop what the document created.
	for role in $(comm -13 <(echo "$roles_before") <(roles)); do
		omnikpi_psql -d "$db" -c "DROP OWNED BY \"$role\"" >/dev/null
		omnikpi_psql -d postgres -c "DROP ROLE \"$role\"" >/dev/null
	done

	examples=$(grep -c '^\\echo' "$script")
	if diff -u --label "$doc (shown)" --label "$doc (printed)" \
		<(normalize "$expected") <(normalize "$actual") >"$work/$name.diff"; then
		echo "ok: $doc ($examples examples)"
		passed=$((passed + 1))
	else
		echo "FAILED: $doc: what its examples print differs from what it shows:"
		cat "$work/$name.diff"
		failed=$((failed + 1))
	fi
done
omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"

echo "documents: $passed passed, $failed failed, $skipped skipped"
if [ $((passed + failed)) -eq 0 ]; then
	echo "error: no document with examples found" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
