#!/usr/bin/env bash
#
# test/citus/run.sh: omnikpi on a Citus cluster, what `make test-citus` and
# the suite test/suites/citus.sh run.  When a Citus extension is installed
# for the server of $PG_CONFIG, it starts a coordinator and two workers on
# loopback (test/citus/cluster.sh), loads the same demo data local and
# distributed (test/citus/data.sql), and checks, in one psql session:
#   aggregates.sql  every aggregate and attribution_share: same results, and
#                   worker partials or full pushdown as docs/scale-out.md says;
#   views.sql       every relation create_kpi_views made, plain and
#                   materialized, before and after incremental refreshes and
#                   a full rebuild: same rows; the entity tables distributed
#                   and co-located with their sources; no view pulls raw rows
#                   to the coordinator unless listed;
#   rules.sql       ORDER BY inside an aggregate, the time-zone rule, and
#                   EXPLAIN ANALYZE of worker partials;
# and then the examples of docs/scale-out.md against what the page shows.
# Without Citus it says so and exits 0: Citus is not a Debian package, so a
# machine has it only when someone built it for this PostgreSQL.
#
# Standalone (`make test-citus`) it builds and installs omnikpi as `make
# test` does; as a suite of `make test` (OMNIKPI_CLUSTER_DIR set) it uses the
# installation that run made, and leaves the main cluster alone.
#
# Environment: PG_CONFIG as for make test; OMNIKPI_CITUS_INTERACTIONS (demo
# size, default 20000); OMNIKPI_KEEP_CLUSTER=1 keeps the nodes' dirs and logs.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=test/citus/cluster.sh
. test/citus/cluster.sh

interactions=${OMNIKPI_CITUS_INTERACTIONS:-20000}
if ! [[ $interactions =~ ^[0-9]+$ ]]; then
	echo "OMNIKPI_CITUS_INTERACTIONS must be a number, not '$interactions'" >&2
	exit 2
fi

if ! why=$(omnikpi_citus_available); then
	echo "skipped: Citus is not installed for the PostgreSQL of $PG_CONFIG ($why)."
	echo "Build and install Citus 12.1 for PostgreSQL $OMNIKPI_PG_MAJOR into that PostgreSQL to run these checks (docs/scale-out.md)."
	exit 0
fi

if [ -z "${OMNIKPI_CLUSTER_DIR:-}" ]; then
	omnikpi_ensure_build_packages
	omnikpi_build
	omnikpi_install
fi

# This suite's own nodes, not make test's cluster.
unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP OMNIKPI_SERVER_LOG PGHOST PGPORT PGUSER PGDATABASE
# Every node in UTC, whatever the machine's zone: rules.sql sets another
# zone in the session and needs to know the workers' one.
export OMNIKPI_CITUS_EXTRA_CONF="timezone = 'UTC'
log_timezone = 'UTC'"
omnikpi_citus_stop_on_exit
omnikpi_citus_start

logs=()
for node in "${OMNIKPI_CITUS_NODES[@]}"; do
	dir=${node#*:}
	logs+=("${dir%:*}/server.log")
done

omnikpi_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION omnikpi'
# The generator's helper functions live in pg_temp, which Citus cannot
# propagate (and would warn about); its tables stay on the coordinator.
PGOPTIONS='-c citus.enable_ddl_propagation=off' omnikpi_psql -q -v interactions="$interactions" -v seed=1 \
	-v schema=src_local -f demo/generate.sql >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"; omnikpi_citus_stop' EXIT

status=0
omnikpi_psql -f test/citus/compare.sql -f test/citus/data.sql -f test/citus/aggregates.sql \
	-f test/citus/views.sql -f test/citus/rules.sql 2>&1 | tee "$work/suite.out" || status=$?
# The files run with client_min_messages = warning or notice: a WARNING is
# Citus (or omnikpi) saying something went half right, e.g. views made on the
# coordinator only.
if grep -q 'WARNING:' "$work/suite.out"; then
	echo "FAILED: WARNINGs in the session (above)"
	status=1
fi

# The examples of docs/scale-out.md, as test/docs/run.sh runs every other
# document's (it skips this one, which needs a Citus cluster): what psql
# prints must equal what the page shows, lines compared as that runner does.
normalize()
{
	sed -e 's/^psql:[^:]*:[0-9]*: //' -e 's/[[:space:]]*$//' "$1" | grep -v '^$' || true
}
awk -v script="$work/doc.sql" -v expected="$work/doc.expected" -f test/docs/extract.awk docs/scale-out.md
PGTZ=UTC PGDATESTYLE=ISO "$OMNIKPI_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=0 -v SHOW_CONTEXT=never \
	-P footer=off -f "$work/doc.sql" >"$work/doc.out" 2>&1 || true
if diff -u --label "docs/scale-out.md (shown)" --label "docs/scale-out.md (printed)" \
	<(normalize "$work/doc.expected") <(normalize "$work/doc.out"); then
	echo "ok: docs/scale-out.md ($(grep -c '^\\echo' "$work/doc.sql") examples)"
else
	echo "FAILED: what the examples of docs/scale-out.md print differs from what it shows (above)"
	status=1
fi

# A crash on any node (a worker runs omnikpi's functions too) fails the run.
if grep -qE 'terminated by signal|TRAP:|PANIC:' "${logs[@]}" 2>/dev/null; then
	echo "---- crashes in the nodes' server logs ----"
	grep -E -B2 -A2 'terminated by signal|TRAP:|PANIC:' "${logs[@]}" | head -n 60
	status=1
fi
if [ "$status" -ne 0 ]; then
	echo "FAILED: omnikpi on Citus (see above)"
	exit 1
fi
echo "ok: omnikpi on Citus: same results local and distributed, pushed down as documented"
