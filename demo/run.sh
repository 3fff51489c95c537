#!/usr/bin/env bash
#
# demo/run.sh: what `make demo` runs.  On a fresh Debian 12 machine, as root or
# as a user with sudo, it
#   1. installs the missing Debian packages and builds and installs omnikpi,
#      exactly as `make test` does (test/run.sh),
#   2. uses the PostgreSQL server named by the standard PG* variables when
#      PGHOST, PGPORT or PGDATABASE is set; otherwise starts (or finds
#      running) the demo's own cluster in /tmp/omnikpi-demo, which is kept
#      between runs, on the port it had before,
#   3. creates the database omnikpi_demo and the extension in it,
#   4. generates a demo company into schema omnikpi_demo (demo/generate.sql),
#      unless that schema already holds the same data,
#   5. creates the KPI views in schema omnikpi_kpi (omnikpi.create_kpi_views,
#      materialized) and a BI role, omnikpi_bi, that reads them with a password,
#   6. prints the report (demo/report.sql) and how to connect,
# and leaves the server running: `make demo-stop` (demo/stop.sh) stops it.
#
# Only the report and the connection details reach the terminal; everything
# else (packages, compiler, server start, generation) goes to the log,
# DIR/demo.log, whose path and last lines are printed when a step fails.
#
# The demo cluster's own server user logs in over its unix socket (peer);
# every other role, over the socket or TCP, needs its password (scram-sha-256).
#
# Environment:
#   INTERACTIONS              demo size in interactions (default 1000000);
#                             `make demo INTERACTIONS=10000000` passes it
#   OMNIKPI_DEMO_SEED         seed of the generator (default 1)
#   OMNIKPI_DEMO_REGENERATE=1 generate again even if the data is there
#   OMNIKPI_DEMO_DIR          the demo cluster's directory, which also holds the
#                             log and the BI role's password (default /tmp/omnikpi-demo)
#   PG_CONFIG                 another PostgreSQL's pg_config (then no
#                             PostgreSQL packages are installed)
#   OMNIKPI_SKIP_BUILD=1      do not build and install: the caller just did
#                             (the dashboard's test suite, after make test's build)
#   PGHOST, PGPORT, PGDATABASE, PGUSER, ...: use that server instead of the
#                             demo cluster (omnikpi must be installed on it)

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=demo/common.sh
. demo/common.sh

interactions=${INTERACTIONS:-1000000}
seed=${OMNIKPI_DEMO_SEED:-1}
data_schema=omnikpi_demo

if ! [[ "$interactions" =~ ^[1-9][0-9]*$ ]]; then
	echo "error: INTERACTIONS must be a positive whole number, not '$interactions'" >&2
	exit 1
fi
if ! [[ "$seed" =~ ^-?[0-9]+$ ]]; then
	echo "error: OMNIKPI_DEMO_SEED must be a whole number, not '$seed'" >&2
	exit 1
fi

# The terminal keeps fd 3 (report, connection details) and fd 4 (failures);
# everything else goes to the log, started afresh on each run.
mkdir -p "$demo_dir"
omnikpi_demo_quietly "$demo_dir/demo.log" "make demo"
# The server user writes into the directory (socket, server log).
if omnikpi_is_root; then
	chown "$(omnikpi_server_user):" "$demo_dir"
fi
chmod 755 "$demo_dir"
chmod 644 "$demo_dir/demo.log"

# seconds_since START_MS: wall-clock timings for the log.
seconds_since()
{
	local ms=$(($(now_ms) - $1))
	printf '%d.%02d s' $((ms / 1000)) $((ms % 1000 / 10))
}

started_here=0
# On failure, stop a cluster this run started (its data stays): a
# half-set-up demo should not keep running unnoticed.
omnikpi_demo_on_failure()
{
	if [ "$started_here" = 1 ]; then
		omnikpi_cluster_stop
		echo "Stopped the demo cluster it started (server log: $demo_dir/server.log)."
	fi
}

# --- 1. packages, build, install (as test/run.sh) ------------------------------
if [ "${OMNIKPI_SKIP_BUILD:-0}" != 1 ]; then
	step "checking packages"
	omnikpi_ensure_build_packages

	step "building with -Werror"
	omnikpi_build

	step "installing"
	omnikpi_install
fi

# --- 2. the server ---------------------------------------------------------------
if [ "$use_own_server" = 1 ]; then
	step "using the server named by the PG* variables"
	echo "PGHOST=${PGHOST:-} PGPORT=${PGPORT:-} PGDATABASE=${PGDATABASE:-} PGUSER=${PGUSER:-}"
	# Where to run CREATE DATABASE from: the named database, else postgres.
	admin_db=${PGDATABASE:-postgres}
else
	if omnikpi_demo_running; then
		step "using the demo cluster already running in $demo_dir"
		omnikpi_demo_connect
	else
		step "starting the demo cluster in $demo_dir"
		# The port it had before, so that saved connections keep working.
		previous_port=$(omnikpi_demo_port)
		OMNIKPI_CLUSTER_PORT=$previous_port omnikpi_cluster_start "$demo_dir"
		started_here=1
		if [ -n "$previous_port" ] && [ "$previous_port" != "$PGPORT" ]; then
			port_note="(port $previous_port, which it had before, is taken by another program)"
		fi
	fi
	omnikpi_demo_authentication
	admin_db=postgres
fi

# --- 3. database and extension ---------------------------------------------------
step "database $demo_db and extension omnikpi"
if [ "$(omnikpi_psql -d "$admin_db" -tAc "SELECT count(*) FROM pg_database WHERE datname = '$demo_db'")" = 0 ]; then
	omnikpi_psql -d "$admin_db" -c "CREATE DATABASE $demo_db"
	echo "created database $demo_db"
fi
export PGDATABASE=$demo_db
omnikpi_psql -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS omnikpi'
echo "omnikpi $(omnikpi_psql -tAc "SELECT extversion FROM pg_extension WHERE extname = 'omnikpi'") in database $demo_db"

# --- 4. demo data -------------------------------------------------------------------
# The schema's comment records what generated it (size, seed and a checksum
# of the generator), so that a second `make demo` reuses the data instead of
# spending the time again.
generator=$(md5sum demo/generate.sql | cut -c1-12)
wanted="omnikpi demo data: interactions=$interactions seed=$seed generator=$generator"
have=$(omnikpi_psql -tAc "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = '$data_schema'
	AND to_regclass('$data_schema.interactions') IS NOT NULL AND to_regclass('$data_schema.orders') IS NOT NULL
	AND to_regclass('$data_schema.touchpoints') IS NOT NULL AND to_regclass('$data_schema.conversions') IS NOT NULL")
if [ "$have" = "$wanted" ] && [ "${OMNIKPI_DEMO_REGENERATE:-0}" != 1 ]; then
	step "reusing the demo data in schema $data_schema ($interactions interactions, seed $seed)"
	generation_time="skipped (data reused)"
else
	step "generating $interactions interactions into schema $data_schema (seed $seed)"
	t0=$(now_ms)
	omnikpi_psql -v interactions="$interactions" -v seed="$seed" -v schema="$data_schema" \
		-v generator="$generator" -f demo/generate.sql
	generation_time=$(seconds_since "$t0")
fi

# --- 5. KPI views and the BI role ----------------------------------------------------
step "creating the KPI views in schema $kpi_schema"
t0=$(now_ms)
# drop_kpi_views first, so that views whose columns changed since an earlier
# run are created afresh rather than failing to be replaced.
omnikpi_psql <<-EOF
	SET client_min_messages = warning;
	BEGIN;
	CREATE SCHEMA IF NOT EXISTS $kpi_schema;
	SELECT omnikpi.drop_kpi_views('$kpi_schema') \\g /dev/null
	SELECT view_name, status
	FROM omnikpi.create_kpi_views('$kpi_schema',
		interactions => '$data_schema.interactions', orders => '$data_schema.orders',
		touchpoints => '$data_schema.touchpoints', conversions => '$data_schema.conversions',
		materialized => true);
	COMMIT;
EOF
views_time=$(seconds_since "$t0")

step "creating the BI role $bi_role"
omnikpi_demo_bi_role

# --- 6. report --------------------------------------------------------------------------
step "report"
t0=$(now_ms)
omnikpi_psql -v kpi_schema="$kpi_schema" -f demo/report.sql >&3
report_time=$(seconds_since "$t0")

step "timings ($interactions interactions)"
printf '%-18s %s\n' "data generation:" "$generation_time" "KPI view creation:" "$views_time" \
	"report queries:" "$report_time"

# --- connection details -------------------------------------------------------------------
step "connect"
omnikpi_demo_connection_details "$use_own_server" "${port_note:-}" >&3
