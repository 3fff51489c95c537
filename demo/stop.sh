#!/usr/bin/env bash
#
# demo/stop.sh: what `make demo-stop` runs.  Stops the demo cluster that
# `make demo` left running in /tmp/omnikpi-demo (OMNIKPI_DEMO_DIR), keeping its
# data, its port and the BI role's password for the next `make demo`; says so
# when none is running.  A server named by the PG* variables is the user's own
# and is never stopped.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=demo/common.sh
. demo/common.sh

# The dashboard's server (make dashboard), if one runs: its pid is in its work dir.
dashboard_pid_file=$demo_dir/dashboard/serve.pid
if [ -f "$dashboard_pid_file" ] && kill -0 "$(cat "$dashboard_pid_file")" 2>/dev/null &&
	grep -q serve.mjs "/proc/$(cat "$dashboard_pid_file")/cmdline" 2>/dev/null; then
	kill "$(cat "$dashboard_pid_file")"
	echo "stopped the dashboard's server"
fi
rm -f "$dashboard_pid_file"

if ! omnikpi_demo_running; then
	echo "no demo cluster is running in $demo_dir"
	if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
		echo "(make demo used the server your PG* variables name; that one is yours to stop)"
	fi
	exit 0
fi

# omnikpi_cluster_stop stops the cluster OMNIKPI_CLUSTER_DIR names, and keeps
# the directory since it is not a temp dir (OMNIKPI_CLUSTER_TEMP=0).
omnikpi_demo_connect
omnikpi_cluster_stop

if [ -f "$demo_dir/data/postmaster.pid" ]; then
	echo "error: the demo cluster in $demo_dir did not stop; see $demo_dir/server.log" >&2
	exit 1
fi
echo "stopped the demo cluster in $demo_dir"
echo "(its data is kept: make demo starts it again on port $(omnikpi_demo_port); rm -rf $demo_dir removes it)"
