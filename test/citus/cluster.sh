# shellcheck shell=bash
#
# test/citus/cluster.sh: a throw-away Citus cluster on loopback, a coordinator
# and two workers, each a cluster of test/cluster.sh with Citus preloaded.
# Source it after test/cluster.sh:
#
#   omnikpi_citus_available          is Citus installed for $PG_CONFIG's server?
#                                    (prints why not on stdout when it is not)
#   omnikpi_citus_start              start the three nodes, create DB on each
#                                    with the citus extension, add the workers;
#                                    the PG* variables then name the coordinator
#   omnikpi_citus_stop               stop every node started (safe to repeat)
#   omnikpi_citus_stop_on_exit       trap EXIT/INT/TERM/HUP to omnikpi_citus_stop
#
# OMNIKPI_CITUS_DB names the database (default omnikpi_citus); Citus 12.1 does
# not propagate CREATE DATABASE, so it is made on every node.  The nodes trust
# each other on 127.0.0.1, as test/cluster.sh's clusters trust every local user.

: "${OMNIKPI_CITUS_DB:=omnikpi_citus}"
OMNIKPI_CITUS_NODES=()

omnikpi_citus_available()
{
	local pkglibdir sharedir

	pkglibdir=$("$PG_CONFIG" --pkglibdir) || return 1
	sharedir=$("$PG_CONFIG" --sharedir) || return 1
	if [ ! -f "$pkglibdir/citus.so" ]; then
		echo "no citus.so in $pkglibdir"
		return 1
	fi
	if [ ! -f "$sharedir/extension/citus.control" ]; then
		echo "no citus.control in $sharedir/extension"
		return 1
	fi
	return 0
}

# omnikpi_citus_node_start ROLE: one node; remembers its dir and port.
omnikpi_citus_node_start()
{
	local role=$1

	unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP
	omnikpi_cluster_start || return 1
	OMNIKPI_CITUS_NODES+=("$role:$OMNIKPI_CLUSTER_DIR:$PGPORT")
	omnikpi_psql -d postgres -c "CREATE DATABASE $OMNIKPI_CITUS_DB" || return 1
	omnikpi_psql -d "$OMNIKPI_CITUS_DB" -c 'SET client_min_messages = warning' \
		-c 'CREATE EXTENSION citus' || return 1
}

omnikpi_citus_start()
{
	local node coordinator_port worker

	# Citus must be first in shared_preload_libraries.  Small pools: the
	# three nodes share the machine.
	export OMNIKPI_EXTRA_CONF="shared_preload_libraries = 'citus'
citus.max_adaptive_executor_pool_size = 4
citus.log_remote_commands = off
${OMNIKPI_CITUS_EXTRA_CONF:-}"
	for node in coordinator worker1 worker2; do
		omnikpi_citus_node_start "$node" || return 1
	done
	unset OMNIKPI_EXTRA_CONF

	coordinator_port=${OMNIKPI_CITUS_NODES[0]##*:}
	export PGHOST=${OMNIKPI_CITUS_NODES[0]#*:}
	PGHOST=${PGHOST%:*}
	export PGPORT=$coordinator_port PGDATABASE=$OMNIKPI_CITUS_DB
	export OMNIKPI_CLUSTER_DIR=$PGHOST OMNIKPI_SERVER_LOG=$PGHOST/server.log
	omnikpi_psql -c "SELECT citus_set_coordinator_host('127.0.0.1', $coordinator_port)" >/dev/null || return 1
	for worker in "${OMNIKPI_CITUS_NODES[@]:1}"; do
		omnikpi_psql -c "SELECT citus_add_node('127.0.0.1', ${worker##*:})" >/dev/null || return 1
	done
	omnikpi_log "Citus $(omnikpi_psql -Atc "SELECT extversion FROM pg_extension WHERE extname = 'citus'"): coordinator on port $coordinator_port, workers on ports $(for worker in "${OMNIKPI_CITUS_NODES[@]:1}"; do printf '%s ' "${worker##*:}"; done)"
}

omnikpi_citus_stop()
{
	local node dir

	for node in "${OMNIKPI_CITUS_NODES[@]}"; do
		dir=${node#*:}
		dir=${dir%:*}
		OMNIKPI_CLUSTER_DIR=$dir OMNIKPI_CLUSTER_TEMP=1 omnikpi_cluster_stop
	done
	OMNIKPI_CITUS_NODES=()
	unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP
}

omnikpi_citus_stop_on_exit()
{
	trap omnikpi_citus_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}
