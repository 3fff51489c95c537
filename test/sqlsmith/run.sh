#!/usr/bin/env bash
#
# test/sqlsmith/run.sh: sqlsmith's random queries against a database holding
# omnikpi (test/sqlsmith/setup.sql: tables of the types omnikpi takes, stored
# and odd channel_summary values, a materialized view, views calling every
# omnikpi function, the KPI views).  The server must survive every query:
# the run fails on "terminated by signal", "TRAP:" or "PANIC:" in the server
# log written during the run, or when the postmaster is gone or was
# restarted.  Errors of the queries themselves are expected (sqlsmith writes
# many invalid queries); their summary, counted by message, is printed.
#
# `make sqlsmith` runs it on its own: it installs what is missing (and the
# Debian package sqlsmith), builds and installs omnikpi as `make test` does,
# starts a throw-away cluster and runs SQLSMITH_QUERIES queries.  The suite
# test/suites/sqlsmith.sh runs a shorter round in `make test`'s cluster.
#
# Environment:
#   SQLSMITH_QUERIES  number of queries (default 20000)
#   SQLSMITH_SEED     sqlsmith's seed (default: a new one each run, printed)
#   PG_CONFIG         as for make test
# When OMNIKPI_CLUSTER_DIR and the PG* variables name a running throw-away
# cluster (test/run.sh exports them), it uses that one and builds nothing.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/cluster.sh
. test/cluster.sh

queries=${SQLSMITH_QUERIES:-20000}
seed=${SQLSMITH_SEED:-$(((RANDOM << 15 | RANDOM) % 2000000000))}
if ! [[ $queries =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]]; then
	echo "SQLSMITH_QUERIES and SQLSMITH_SEED must be numbers" >&2
	exit 2
fi

omnikpi_ensure_packages sqlsmith
if [ -z "${OMNIKPI_CLUSTER_DIR:-}" ]; then
	omnikpi_ensure_build_packages
	omnikpi_build
	omnikpi_install
	omnikpi_cluster_stop_on_exit
	# shellcheck disable=SC2119 # no DIR: a fresh temp dir
	omnikpi_cluster_start
fi

db=omnikpi_sqlsmith
role=omnikpi_sqlsmith
work=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-sqlsmith.XXXXXX")
keep_work=0
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup_work()
{
	if [ "$keep_work" = 0 ]; then
		rm -rf "$work"
	fi
}
# Chain onto the cluster's EXIT trap when there is one.
previous_exit_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064 # expand now: the previous trap's command
trap "cleanup_work; ${previous_exit_trap:-true}" EXIT

omnikpi_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "DROP ROLE IF EXISTS $role" -c "CREATE DATABASE $db"
omnikpi_psql -d "$db" -v role="$role" -f test/sqlsmith/setup.sql >/dev/null
# Keep the server log to what matters: the failed queries of sqlsmith's role
# are not logged (thousands), crashes are (the postmaster logs them).
omnikpi_psql -d postgres -c "ALTER ROLE $role SET log_min_messages = fatal" \
	-c "ALTER ROLE $role SET log_min_error_statement = panic"

postmaster_started=$(omnikpi_psql -d postgres -At -c 'SELECT pg_postmaster_start_time()')
log_offset=$(($(stat -c %s "$OMNIKPI_SERVER_LOG") + 1))

echo "sqlsmith: $queries queries, seed $seed (reproduce: SQLSMITH_SEED=$seed SQLSMITH_QUERIES=$queries)"
started=$(date +%s)
# sqlsmith prints the queries (stdout, kept to find a crashing one) and its
# progress and final report (stderr).  It reconnects after a lost connection,
# so a crash does not end the run; the checks below find it.
sqlsmith_status=0
sqlsmith --target="host=$PGHOST port=$PGPORT dbname=$db user=$role" \
	--seed="$seed" --max-queries="$queries" --exclude-catalog --verbose --dump-all-queries \
	>"$work/queries.sql" 2>"$work/report.txt" || sqlsmith_status=$?
elapsed=$(($(date +%s) - started))

# The final report (the last of the periodic ones): the query count, then
# "count<TAB>message" per kind of error.
report=$(awk '/^queries: / {block = ""} {block = block $0 "\n"} END {printf "%s", block}' "$work/report.txt")
ran=$(sed -n 's/^queries: \([0-9]*\).*/\1/p' <<<"$report" | tail -n 1)
echo "sqlsmith ran ${ran:-?} queries in $elapsed s (exit status $sqlsmith_status)"
awk -v RS=';\n' '
	/public\.(omni_|channel_summary|rollup|experience_rating|integration_index|channel_count|channels|attribution_share|omnikpi_)/ {direct++}
	/(shop|kpi)\./ {relations++}
	END {printf "of these, %d call an omnikpi function themselves and %d read the tables and views over omnikpi\n", direct, relations}' \
	"$work/queries.sql"
errors=$(grep -E $'^[0-9]+\t' <<<"$report" || true)
if [ -n "$errors" ]; then
	echo "errors of the random queries: $(awk -F'\t' '{n += $1} END {print n}' <<<"$errors") in $(wc -l <<<"$errors") kinds; the most frequent:"
	head -n 40 < <(sort -t$'\t' -k1,1nr <<<"$errors")
	echo "errors naming omnikpi or its objects:"
	grep -iE 'omnikpi|summary|attribution|rating|integration|rollup|channel|half.life|scale|model' <<<"$errors" || echo "  (none)"
fi

status=0
new_log=$(tail -c +"$log_offset" "$OMNIKPI_SERVER_LOG" 2>/dev/null || true)
if grep -qE 'terminated by signal|TRAP:|PANIC:' <<<"$new_log"; then
	status=1
	echo
	echo "FAILED: the server crashed during the sqlsmith run:"
	grep -E -A3 'terminated by signal|TRAP:|PANIC:' <<<"$new_log" | head -n 60
fi
if ! now_started=$(omnikpi_psql -d postgres -At -c 'SELECT pg_postmaster_start_time()' 2>&1); then
	status=1
	echo "FAILED: the server does not answer after the sqlsmith run: $now_started"
elif [ "$now_started" != "$postmaster_started" ]; then
	status=1
	echo "FAILED: the server restarted during the sqlsmith run (started $postmaster_started, now $now_started)"
fi
if [ -z "$ran" ] || [ "$ran" -lt "$queries" ]; then
	status=1
	echo "FAILED: sqlsmith stopped after ${ran:-0} of $queries queries; its last output:"
	tail -n 20 "$work/report.txt"
fi

if [ "$status" -ne 0 ]; then
	keep_work=1
	echo "kept sqlsmith's queries and report in $work (queries.sql, report.txt) and database $db"
else
	echo "sqlsmith: no crash in $ran queries"
	omnikpi_psql -d postgres -c "DROP DATABASE $db" -c "DROP ROLE $role"
fi
exit "$status"
