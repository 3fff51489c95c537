#!/usr/bin/env bash
#
# dashboard/build.sh: what `make dashboard` runs.  It builds the dashboard
# (Observable Framework pages, dashboard/src) against the database `make demo`
# made, reading the KPI views as the demo's BI role, serves it on
# 127.0.0.1 and says where to open it.  `make demo-stop` stops the server.
#
#   1. installs Node.js and npm from Debian when there is no Node.js 18 or newer,
#   2. copies the dashboard's sources to a work directory outside the source
#      tree (DIR/dashboard; its node_modules are kept, and installed again
#      with `npm ci` only when package-lock.json changed),
#   3. runs `observable build` with the PG* variables naming the BI role, so
#      the data loaders (src/data/*.json.sh) read the views as a BI tool would,
#   4. starts the static server (dashboard/serve.mjs) on the port it had
#      before when that is free.
#
# Like `make demo`, it prints only where to open the dashboard; the rest goes
# to DIR/dashboard/build.log, whose end it shows on failure.
#
# Environment: OMNIKPI_DEMO_DIR (the demo's directory, default
# /tmp/omnikpi-demo), PG_CONFIG, the PG* variables when `make demo` used your
# own server, and OMNIKPI_DASHBOARD_SCREENSHOT=FILE.png to also save a
# screenshot of the overview page (docs/dashboard.png is made so).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=demo/common.sh
. demo/common.sh
# shellcheck source=dashboard/browser.sh
. dashboard/browser.sh

source_dir=$PWD/dashboard
work=$demo_dir/dashboard
screenshot=${OMNIKPI_DASHBOARD_SCREENSHOT:-}
case "$screenshot" in
	"" | /*) ;;
	*) screenshot=$PWD/$screenshot ;;
esac

mkdir -p "$work"
omnikpi_demo_quietly "$work/build.log" "make dashboard"

# --- 1. Node.js -------------------------------------------------------------------
step "checking Node.js"
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
	omnikpi_ensure_packages nodejs npm
fi
node --version

# --- the database and the BI role ----------------------------------------------------
step "finding the demo database"
if [ ! -s "$bi_password_file" ]; then
	echo "no demo in $demo_dir (no BI role password): run make demo first"
	exit 1
fi
if [ "$use_own_server" = 1 ]; then
	bi_host=${PGHOST:-localhost}
	bi_port=${PGPORT:-5432}
else
	if ! omnikpi_demo_running; then
		echo "the demo cluster in $demo_dir is not running: run make demo first"
		exit 1
	fi
	omnikpi_demo_connect
	# Over TCP with the password, as a BI tool connects.
	bi_host=127.0.0.1
	bi_port=$PGPORT
fi
echo "database $demo_db on $bi_host port $bi_port as $bi_role"

# --- 2. sources and packages ------------------------------------------------------------
step "installing the dashboard's packages in $work"
rm -rf "$work/src"
cp -r "$source_dir/src" "$source_dir/package.json" "$source_dir/package-lock.json" \
	"$source_dir/observablehq.config.js" "$source_dir/query.sh" "$source_dir/serve.mjs" "$work/"
lock_sum=$(md5sum "$work/package-lock.json" | cut -d' ' -f1)
t0=$(now_ms)
if [ ! -d "$work/node_modules" ] || [ "$(cat "$work/installed.md5" 2>/dev/null)" != "$lock_sum" ]; then
	(cd "$work" && npm ci --no-audit --no-fund)
	echo "$lock_sum" >"$work/installed.md5"
fi
echo "npm install: $(($(now_ms) - t0)) ms"

# --- 3. build -----------------------------------------------------------------------------
step "building against $demo_db"
# The loaders' output is cached by the build; the data must be read afresh.
rm -rf "$work/src/.observablehq/cache" "$work/dist"
t0=$(now_ms)
(
	cd "$work"
	export PGHOST=$bi_host PGPORT=$bi_port PGDATABASE=$demo_db PGUSER=$bi_role
	PGPASSWORD=$(omnikpi_demo_bi_password)
	export PGPASSWORD PGOPTIONS="-c search_path=$kpi_schema" OBSERVABLE_TELEMETRY_DISABLE=true
	npx --no-install observable build
)
echo "observable build: $(($(now_ms) - t0)) ms"

# --- 4. serve -------------------------------------------------------------------------------
step "serving"
if [ -f "$work/serve.pid" ] && kill -0 "$(cat "$work/serve.pid")" 2>/dev/null; then
	kill "$(cat "$work/serve.pid")"
	sleep 0.5
fi
port=$(cat "$work/serve.port" 2>/dev/null || true)
if [ -z "$port" ] || omnikpi_port_in_use "$port"; then
	port=$(omnikpi_free_port)
fi
setsid node "$work/serve.mjs" "$work/dist" "$port" >"$work/serve.log" 2>&1 </dev/null &
echo $! >"$work/serve.pid"
echo "$port" >"$work/serve.port"
for _ in $(seq 50); do
	omnikpi_port_in_use "$port" && break
	sleep 0.2
done
omnikpi_port_in_use "$port"
url=http://127.0.0.1:$port/

if [ -n "$screenshot" ]; then
	step "screenshot of the overview into $screenshot"
	omnikpi_chromium_screenshot "$url" "$screenshot"
fi

{
	echo "The dashboard is built from database $demo_db, read as $bi_role. Open it at"
	echo "  $url"
	echo "(its pages: overview, experience rating, integration index, channels, CSAT/CES/NPS,"
	echo "attribution, journeys, fulfillment; make demo-stop stops it, make dashboard rebuilds it)"
} >&3
