# shellcheck shell=bash
#
# demo/common.sh: what `make demo`, `make demo-stop` and `make dashboard` share:
# where the demo lives, how to reach its cluster, its authentication and its BI
# role.  Source it after test/cluster.sh.
#
#   omnikpi_demo_running              is the demo cluster running in $demo_dir?
#   omnikpi_demo_port                 the port it last had (empty before the first start)
#   omnikpi_demo_connect              export the PG* variables for the running cluster
#   omnikpi_demo_authentication       write its pg_hba.conf and pg_ident.conf, reload
#   omnikpi_demo_bi_role              create the BI role (password in $bi_password_file)
#                                     and grant it the KPI views
#   omnikpi_demo_bi_password          print the BI role's password
#   omnikpi_demo_quietly LOG WHAT     from here on only fd 3 reaches the terminal, the
#                                     rest goes to LOG; on failure, WHAT failed, the step
#                                     and LOG's end are shown, after omnikpi_demo_on_failure
#   step TEXT                         start a step (a heading in the log)
#   now_ms                            the wall clock in milliseconds, for timings
#   omnikpi_demo_connection_details OWN_SERVER [NOTE]
#                                     how to connect, for the user (OWN_SERVER 1: the
#                                     server the PG* variables name)

demo_dir=${OMNIKPI_DEMO_DIR:-/tmp/omnikpi-demo}
demo_db=omnikpi_demo
kpi_schema=omnikpi_kpi
bi_role=omnikpi_bi
bi_password_file=$demo_dir/bi_password
# use_own_server: 1 when the user named a server of their own with PG*
# variables.  Decided as this file is sourced, before omnikpi_cluster_start or
# omnikpi_demo_connect export the demo cluster's.
# shellcheck disable=SC2034 # read by demo/run.sh and dashboard/build.sh
if [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ] || [ -n "${PGDATABASE:-}" ]; then
	use_own_server=1
else
	use_own_server=0
fi

# omnikpi_demo_quietly LOG WHAT: `make demo` and `make dashboard` print only
# what the user asked for (fd 3); packages, compilers, servers and builds
# write to LOG, started afresh on each run.  A script may define
# omnikpi_demo_on_failure (say, to stop what it started); it runs first.
omnikpi_demo_quietly()
{
	omnikpi_demo_log=$1
	omnikpi_demo_what=$2
	exec 3>&1 4>&2 >"$omnikpi_demo_log" 2>&1
	trap omnikpi_demo_exit EXIT
}

omnikpi_demo_exit()
{
	local status=$?
	if [ "$status" -ne 0 ]; then
		if declare -F omnikpi_demo_on_failure >/dev/null; then
			omnikpi_demo_on_failure >&4
		fi
		{
			echo "$omnikpi_demo_what failed (step: ${omnikpi_demo_step:-starting}); the end of its log, $omnikpi_demo_log:"
			echo
			tail -n 25 "$omnikpi_demo_log" | sed 's/^/  /'
		} >&4
	fi
	exit "$status"
}

step()
{
	omnikpi_demo_step=$*
	echo
	echo "== $*"
}

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

omnikpi_demo_running()
{
	[ -f "$demo_dir/data/postmaster.pid" ] &&
		omnikpi_as_server_user "$(omnikpi_pg_bindir)/pg_ctl" -D "$demo_dir/data" status >/dev/null 2>&1
}

omnikpi_demo_port()
{
	sed -n 's/^port = //p' "$demo_dir/data/omnikpi_port.conf" 2>/dev/null || true
}

omnikpi_demo_connect()
{
	local bindir

	bindir=$(omnikpi_pg_bindir)
	PGPORT=$(omnikpi_demo_port)
	PGUSER=$(omnikpi_server_user)
	export PGHOST=$demo_dir PGPORT PGUSER PGDATABASE=postgres OMNIKPI_PG_BINDIR=$bindir
	export OMNIKPI_CLUSTER_DIR=$demo_dir OMNIKPI_CLUSTER_TEMP=0
	case ":$PATH:" in
		*":$bindir:"*) ;;
		*) export PATH="$bindir:$PATH" ;;
	esac
}

# The cluster starts with trust (test/cluster.sh); the demo, which a BI tool
# and other users of the machine can reach, replaces that: the server's OS
# user, and whoever runs `make demo` as it, over the socket (peer); every
# other role with its password, scram-sha-256 (PostgreSQL 15's default
# password_encryption), over the socket and over TCP.
omnikpi_demo_authentication()
{
	local user data=$demo_dir/data

	user=$(omnikpi_server_user)
	omnikpi_as_server_user tee "$data/pg_ident.conf" >/dev/null <<-EOF
		# Written by demo/run.sh on every run: who may log in as the server's user.
		omnikpi_demo  $user  $user
		omnikpi_demo  $(id -un)  $user
	EOF
	omnikpi_as_server_user tee "$data/pg_hba.conf" >/dev/null <<-EOF
		# Written by demo/run.sh on every run.
		# The server's OS user, and whoever runs make demo, over the socket:
		local  all  $user                  peer map=omnikpi_demo
		# Every other role, over the socket or TCP: its password.
		local  all  all                    scram-sha-256
		host   all  all  127.0.0.1/32      scram-sha-256
		host   all  all  ::1/128           scram-sha-256
	EOF
	omnikpi_psql -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
}

omnikpi_demo_bi_password()
{
	cat "$bi_password_file"
}

# omnikpi_demo_bi_role: the role a BI tool logs in as.  Its password is made
# once and kept in the demo's directory, readable by whoever ran make demo
# only, so a saved connection keeps working.  It reads every KPI view of the
# materialized form, and nothing of the raw rows: those tables are read with
# their owner's rights.
omnikpi_demo_bi_role()
{
	if [ ! -s "$bi_password_file" ]; then
		(umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$bi_password_file")
	fi
	omnikpi_psql -v role="$bi_role" -v password="$(omnikpi_demo_bi_password)" -v kpi_schema="$kpi_schema" <<-'EOF'
		SET client_min_messages = warning;
		SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
		ALTER ROLE :"role" LOGIN PASSWORD :'password';
		SELECT count(*) AS granted FROM omnikpi.grant_bi_access(:'role', :'kpi_schema');
	EOF
}

omnikpi_demo_connection_details()
{
	local own_server=$1 note=${2:-} host password

	password=$(omnikpi_demo_bi_password)
	echo
	if [ "$own_server" = 1 ]; then
		host=${PGHOST:-localhost}
		case "$host" in /*) host=localhost ;; esac
		echo "The demo is in database $demo_db on the server your PG* variables name."
		echo "  psql:      psql -d $demo_db"
		echo "  BI tools:  host $host, port ${PGPORT:-5432}, database $demo_db,"
		echo "             user $bi_role, password $password"
		echo "  KPI views: schema $kpi_schema; demo data: schema omnikpi_demo."
		echo "make demo-stop does not stop your server; DROP DATABASE $demo_db removes the demo."
	else
		echo "The demo cluster is running on port $PGPORT${note:+ $note}; its data, the log"
		echo "of make demo and the BI role's password are kept in $demo_dir."
		echo "  psql:      psql -h $demo_dir -p $PGPORT -U $(omnikpi_server_user) -d $demo_db"
		echo "  BI tools:  host 127.0.0.1, port $PGPORT, database $demo_db,"
		echo "             user $bi_role, password $password"
		echo "             postgresql://$bi_role:$password@127.0.0.1:$PGPORT/$demo_db"
		echo "  KPI views: schema $kpi_schema; demo data: schema omnikpi_demo."
		echo "  Dashboard: make dashboard.  Stop the cluster: make demo-stop (it keeps its port)."
	fi
}
