#!/usr/bin/env bash
#
# demo/run.sh: what `make demo` runs.  On a fresh Debian 12 machine, as root or
# as a user with sudo, it
#   1. installs the missing Debian packages and builds and installs omnikpi,
#      exactly as `make test` does (test/run.sh),
#   2. uses the PostgreSQL server named by the standard PG* variables when
#      PGHOST, PGPORT or PGDATABASE is set; otherwise starts (or finds
#      running) the demo's own cluster in /tmp/omnikpi-demo, which is kept
#      between runs,
#   3. creates the database omnikpi_demo and the extension in it,
#   4. generates a demo company into schema omnikpi_demo (demo/generate.sql),
#      unless that schema already holds the same data,
#   5. creates the KPI views in schema omnikpi_kpi (omnikpi.create_kpi_views),
#   6. prints the report (demo/report.sql) and how to connect,
# and leaves the server running: `make demo-stop` (demo/stop.sh) stops it.
#
# Environment:
#   INTERACTIONS              demo size in interactions (default 1000000);
#                             `make demo INTERACTIONS=10000000` passes it
#   OMNIKPI_DEMO_SEED         seed of the generator (default 1)
#   OMNIKPI_DEMO_REGENERATE=1 generate again even if the data is there
#   OMNIKPI_DEMO_DIR          the demo cluster's directory (default /tmp/omnikpi-demo)
#   PG_CONFIG                 another PostgreSQL's pg_config (then no
#                             PostgreSQL packages are installed)
#   PGHOST, PGPORT, PGDATABASE, PGUSER, ...: use that server instead of the
#                             demo cluster (omnikpi must be installed on it)

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Decide before cluster.sh or anything else can export PG* variables.
if [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ] || [ -n "${PGDATABASE:-}" ]; then
	use_own_server=1
else
	use_own_server=0
fi
# shellcheck source=test/cluster.sh
. test/cluster.sh

interactions=${INTERACTIONS:-1000000}
seed=${OMNIKPI_DEMO_SEED:-1}
demo_dir=${OMNIKPI_DEMO_DIR:-/tmp/omnikpi-demo}
demo_db=omnikpi_demo
data_schema=omnikpi_demo
kpi_schema=omnikpi_kpi

if ! [[ "$interactions" =~ ^[1-9][0-9]*$ ]]; then
	echo "error: INTERACTIONS must be a positive whole number, not '$interactions'" >&2
	exit 1
fi
if ! [[ "$seed" =~ ^-?[0-9]+$ ]]; then
	echo "error: OMNIKPI_DEMO_SEED must be a whole number, not '$seed'" >&2
	exit 1
fi

step()
{
	echo
	echo "== $*"
}

# now_ms / seconds_since START_MS: wall-clock timings for the summary.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}
seconds_since()
{
	local ms=$(($(now_ms) - $1))
	printf '%d.%02d s' $((ms / 1000)) $((ms % 1000 / 10))
}

# --- 1. packages, build, install (as test/run.sh) ------------------------------
step "checking packages"
omnikpi_ensure_build_packages

step "building with -Werror"
omnikpi_build

step "installing"
omnikpi_install

# --- 2. the server ---------------------------------------------------------------
started_here=0
# On failure, stop a cluster this run started (its data stays in $demo_dir):
# a half-set-up demo should not keep running unnoticed.
on_exit()
{
	local status=$?
	if [ "$status" -ne 0 ] && [ "$started_here" = 1 ]; then
		echo >&2
		echo "make demo failed; stopping the demo cluster it started (server log: $demo_dir/server.log)" >&2
		omnikpi_cluster_stop
	fi
	exit "$status"
}
trap on_exit EXIT

if [ "$use_own_server" = 1 ]; then
	step "using the server named by the PG* variables"
	echo "PGHOST=${PGHOST:-} PGPORT=${PGPORT:-} PGDATABASE=${PGDATABASE:-} PGUSER=${PGUSER:-}"
	# Where to run CREATE DATABASE from: the named database, else postgres.
	admin_db=${PGDATABASE:-postgres}
else
	bindir=$(omnikpi_pg_bindir)
	if [ -f "$demo_dir/data/postmaster.pid" ] &&
		omnikpi_as_server_user "$bindir/pg_ctl" -D "$demo_dir/data" status >/dev/null 2>&1; then
		step "using the demo cluster already running in $demo_dir"
		PGPORT=$(sed -n 's/^port = //p' "$demo_dir/data/omnikpi_port.conf")
		PGUSER=$(omnikpi_server_user)
		export PGHOST=$demo_dir PGPORT PGUSER PGDATABASE=postgres OMNIKPI_PG_BINDIR=$bindir
		case ":$PATH:" in
			*":$bindir:"*) ;;
			*) export PATH="$bindir:$PATH" ;;
		esac
	else
		step "starting the demo cluster in $demo_dir"
		omnikpi_cluster_start "$demo_dir"
		started_here=1
	fi
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
	echo "(OMNIKPI_DEMO_REGENERATE=1 generates it again)"
	generation_time="skipped (data reused)"
else
	step "generating $interactions interactions into schema $data_schema (seed $seed)"
	t0=$(now_ms)
	omnikpi_psql -v interactions="$interactions" -v seed="$seed" -v schema="$data_schema" \
		-v generator="$generator" -f demo/generate.sql
	generation_time=$(seconds_since "$t0")
	echo "generated in $generation_time"
fi

# --- 5. KPI views ---------------------------------------------------------------------
step "creating the KPI views in schema $kpi_schema"
has_views_function=$(omnikpi_psql -tAc "SELECT count(DISTINCT p.proname) = 2 FROM pg_proc p
	JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'omnikpi' AND p.proname IN ('create_kpi_views', 'drop_kpi_views')")
if [ "$has_views_function" != t ]; then
	echo "omnikpi.create_kpi_views() is missing from database $demo_db: this build of"
	echo "omnikpi predates it, or the database holds an older install of the extension"
	echo "(then: psql -d $demo_db -c 'DROP EXTENSION omnikpi CASCADE', and make demo again)."
	echo "Skipping the KPI views and the report; the demo data is in schema $data_schema."
	views_time="skipped"
	report_time="skipped"
	kpi_schema=""
else
	t0=$(now_ms)
	# drop_kpi_views first, so that views whose columns changed since an earlier
	# run are created afresh rather than failing to be replaced.
	omnikpi_psql <<-EOF
		\\pset footer off
		SET client_min_messages = warning;
		BEGIN;
		CREATE SCHEMA IF NOT EXISTS $kpi_schema;
		SELECT omnikpi.drop_kpi_views('$kpi_schema') \\g /dev/null
		SELECT view_name, status
		FROM omnikpi.create_kpi_views('$kpi_schema',
			interactions => '$data_schema.interactions', orders => '$data_schema.orders',
			touchpoints => '$data_schema.touchpoints', conversions => '$data_schema.conversions');
		COMMIT;
	EOF
	views_time=$(seconds_since "$t0")

	# --- 6. report ------------------------------------------------------------------------
	t0=$(now_ms)
	omnikpi_psql -v kpi_schema="$kpi_schema" -f demo/report.sql
	report_time=$(seconds_since "$t0")
fi

# --- summary ------------------------------------------------------------------------------
step "timings ($interactions interactions)"
printf '%-18s %s\n' "data generation:" "$generation_time" "KPI view creation:" "$views_time" \
	"report queries:" "$report_time"

step "connect"
if [ "$use_own_server" = 1 ]; then
	host=${PGHOST:-localhost}
	echo "The demo is in database $demo_db on the server your PG* variables name:"
	echo "  host ${host}, port ${PGPORT:-5432}, database $demo_db, user ${PGUSER:-$(id -un)}"
	echo "  psql -d $demo_db"
	echo "${kpi_schema:+KPI views: schema $kpi_schema; }demo data: schema $data_schema."
	echo "make demo-stop does not stop your server; DROP DATABASE $demo_db removes the demo."
else
	echo "The demo cluster is running (data in $demo_dir, kept between runs):"
	echo "  host 127.0.0.1, port $PGPORT, database $demo_db, user $PGUSER, no password"
	echo "  psql \"postgresql://$PGUSER@127.0.0.1:$PGPORT/$demo_db\""
	echo "${kpi_schema:+KPI views: schema $kpi_schema (point a BI tool at it); }demo data: schema $data_schema."
	echo "Stop it with: make demo-stop"
fi
