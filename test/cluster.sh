# shellcheck shell=bash
#
# test/cluster.sh: helpers shared by `make test`, `make demo`, `make bench` and
# the driver/load suites.  Source it (from bash, under `set -euo pipefail`):
#
#   . test/cluster.sh
#   omnikpi_ensure_packages postgresql-15 postgresql-server-dev-15 make gcc
#   omnikpi_cluster_start            # throw-away cluster in a fresh temp dir
#   omnikpi_cluster_stop_on_exit     # stop it and remove the dir on any exit
#   omnikpi_psql -c 'SELECT 1'
#
# Functions:
#   omnikpi_ensure_packages PKG...   install the Debian packages that are missing
#   omnikpi_as_root CMD...           run CMD as root (directly, or through sudo)
#   omnikpi_server_user              print the OS user the server runs as
#   omnikpi_as_server_user CMD...    run CMD as that user
#   omnikpi_cluster_start [DIR]      initdb (unless DIR already holds a cluster),
#                                    start on a free port, export the PG* vars;
#                                    OMNIKPI_EXTRA_CONF (postgresql.conf lines, added
#                                    at initdb) and OMNIKPI_SERVER_ENV (NAME=value
#                                    words for the server's environment, e.g.
#                                    LD_PRELOAD) adapt the server to a suite;
#                                    OMNIKPI_CLUSTER_PORT asks for a port (taken
#                                    when free, else another), so a kept cluster
#                                    can keep its port across restarts
#   omnikpi_cluster_stop             stop the server; remove the dir if it was a temp dir
#                                    (unless OMNIKPI_KEEP_CLUSTER=1)
#   omnikpi_cluster_stop_on_exit     trap EXIT/INT/TERM/HUP to omnikpi_cluster_stop
#   omnikpi_psql ARGS...             the cluster's psql, with -X and ON_ERROR_STOP
#
# omnikpi_cluster_start exports PGHOST (the unix socket directory), PGPORT,
# PGUSER (the server's OS user, which initdb made the superuser), PGDATABASE=postgres,
# OMNIKPI_CLUSTER_DIR, OMNIKPI_SERVER_LOG (the server's log file) and
# OMNIKPI_PG_BINDIR, and puts OMNIKPI_PG_BINDIR first on PATH, so psql, pgbench
# and pg_dump are those of the server being tested rather than Debian's wrappers.
# The server also listens on 127.0.0.1:$PGPORT, for clients that need TCP (JDBC).
#
# Which PostgreSQL: $PG_CONFIG if set (as the Makefile honours it), otherwise
# PostgreSQL 15's own pg_config.  Debian's /usr/bin/pg_config is avoided on
# purpose: it points at the newest installed server-dev package, which need not be 15.

: "${OMNIKPI_PG_MAJOR:=15}"
# Whether the caller named its own PostgreSQL (then no PostgreSQL packages are
# installed); remembered before the default below, and kept when sourced again.
: "${OMNIKPI_CUSTOM_PG_CONFIG=${PG_CONFIG:-}}"
export OMNIKPI_CUSTOM_PG_CONFIG
: "${PG_CONFIG:=/usr/lib/postgresql/$OMNIKPI_PG_MAJOR/bin/pg_config}"
export PG_CONFIG

# omnikpi_ensure_build_packages: the Debian packages `make test`, `make demo`
# and `make bench` need to build omnikpi and run a server.
omnikpi_ensure_build_packages()
{
	local packages=(make gcc libc6-dev)

	if [ -z "$OMNIKPI_CUSTOM_PG_CONFIG" ]; then
		packages+=("postgresql-$OMNIKPI_PG_MAJOR" "postgresql-server-dev-$OMNIKPI_PG_MAJOR")
	fi
	omnikpi_ensure_packages "${packages[@]}"
	echo "using $PG_CONFIG ($("$PG_CONFIG" --version))"
}

# omnikpi_build: build from the current sources with warnings as errors.  -B:
# a stale object built without -Werror must not hide a warning.  "all" by
# name, so this never depends on the default goal (when that was "test", a
# bare make here ran the test script again, without end).
omnikpi_build()
{
	make -B COPT=-Werror all
}

# omnikpi_install: make install, through sudo when PostgreSQL's directories
# are not writable.
omnikpi_install()
{
	if [ -w "$("$PG_CONFIG" --pkglibdir)" ] && [ -w "$("$PG_CONFIG" --sharedir)/extension" ]; then
		make install
	else
		omnikpi_as_root make install
	fi
}

omnikpi_log()
{
	printf '%s\n' "$*" >&2
}

omnikpi_is_root()
{
	[ "$(id -u)" -eq 0 ]
}

# omnikpi_as_root CMD...: for package installs and `make install` into the
# system PostgreSQL.  sudo resets the environment, hence `env` for the few
# variables that matter.
omnikpi_as_root()
{
	if omnikpi_is_root; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo env DEBIAN_FRONTEND=noninteractive PG_CONFIG="$PG_CONFIG" "$@"
	else
		omnikpi_log "error: '$*' needs root, and sudo is not installed; run as root or install sudo"
		return 1
	fi
}

# omnikpi_ensure_packages PKG...: a no-op (two dpkg-query calls) when all are
# installed, so it costs nothing on a warm machine.
omnikpi_ensure_packages()
{
	local missing=() pkg status

	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [ "$status" != installed ]; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	if ! omnikpi_is_root && ! command -v sudo >/dev/null 2>&1; then
		omnikpi_log "error: missing Debian packages: ${missing[*]}"
		omnikpi_log "Install them as root (apt-get install ${missing[*]}), or install sudo and re-run."
		return 1
	fi
	omnikpi_log "Installing missing Debian packages: ${missing[*]}"
	# Update once, only now: the package lists of a fresh machine are empty or stale.
	omnikpi_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return 1
	omnikpi_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
}

# The server refuses to run as root, so root runs it as Debian's postgres user.
omnikpi_server_user()
{
	if omnikpi_is_root; then
		echo postgres
	else
		id -un
	fi
}

# omnikpi_as_server_user CMD...: from a directory the server user cannot
# enter (root's home, say), CMD runs from / instead, as psql would otherwise
# warn "could not change directory"; pass absolute paths then.
omnikpi_as_server_user()
{
	if ! omnikpi_is_root; then
		"$@"
	elif runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
		runuser -u postgres -- "$@"
	else
		(cd / && runuser -u postgres -- "$@")
	fi
}

omnikpi_pg_bindir()
{
	if [ ! -x "$PG_CONFIG" ] && ! command -v "$PG_CONFIG" >/dev/null 2>&1; then
		omnikpi_log "error: pg_config not found at '$PG_CONFIG' (set PG_CONFIG, or install postgresql-server-dev-$OMNIKPI_PG_MAJOR)"
		return 1
	fi
	"$PG_CONFIG" --bindir
}

# Is anything accepting connections on 127.0.0.1:$1?  bash's /dev/tcp needs no
# extra package (ss and netstat are not on a minimal Debian).
omnikpi_port_in_use()
{
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Print a free port, starting the probe at a random one so that parallel runs
# on one machine rarely collide.  Taking it is racy; omnikpi_cluster_start
# retries with another port if the server cannot bind.
omnikpi_free_port()
{
	local port tries

	port=$((20000 + RANDOM % 30000))
	for ((tries = 0; tries < 200; tries++)); do
		if ! omnikpi_port_in_use "$port"; then
			echo "$port"
			return 0
		fi
		port=$((port + 1))
		[ "$port" -gt 60000 ] && port=20000
	done
	omnikpi_log "error: found no free TCP port on 127.0.0.1"
	return 1
}

# A unix socket path must fit in sun_path (107 bytes), and the server user
# must be able to reach the directory, which a TMPDIR under /root is not.
omnikpi_usable_cluster_dir()
{
	local dir=$1

	# 16 = length of "/.s.PGSQL.65535"
	[ $((${#dir} + 16)) -le 107 ] || return 1
	omnikpi_as_server_user test -w "$dir" -a -x "$dir"
}

# omnikpi_cluster_start [DIR]
#
# Without DIR: a fresh temp dir, removed again by omnikpi_cluster_stop.  With
# DIR: created if missing and kept; if it already holds a cluster from an
# earlier call (DIR/data), that cluster is started again rather than re-made,
# so `make demo` can keep its data between runs.  Layout: DIR/data (the
# cluster), DIR/server.log, DIR/initdb.log, and the unix socket in DIR itself.
omnikpi_cluster_start()
{
	local dir bindir user port attempt conf

	if [ -n "${OMNIKPI_CLUSTER_DIR:-}" ] && [ -f "$OMNIKPI_CLUSTER_DIR/data/postmaster.pid" ]; then
		omnikpi_log "error: a cluster is already running in $OMNIKPI_CLUSTER_DIR; stop it first"
		return 1
	fi
	bindir=$(omnikpi_pg_bindir) || return 1
	user=$(omnikpi_server_user)
	if ! id "$user" >/dev/null 2>&1; then
		omnikpi_log "error: the server must not run as root, and there is no OS user $user to run it (Debian's postgresql-common creates it)"
		return 1
	fi

	if [ $# -ge 1 ]; then
		mkdir -p "$1" || return 1
		dir=$(cd "$1" && pwd -P) || return 1
		OMNIKPI_CLUSTER_TEMP=0
		if omnikpi_is_root; then
			chown "$user:" "$dir" || return 1
		fi
		if ! omnikpi_usable_cluster_dir "$dir"; then
			omnikpi_log "error: $dir cannot hold the cluster: its path is too long for a unix socket, or user $user cannot write to it"
			return 1
		fi
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi.XXXXXX") || return 1
		if omnikpi_is_root; then
			chown "$user:" "$dir" || return 1
		fi
		if ! omnikpi_usable_cluster_dir "$dir"; then
			# e.g. TMPDIR=/root/tmp as root: postgres cannot get in there.
			rm -rf "$dir"
			dir=$(mktemp -d /tmp/omnikpi.XXXXXX) || return 1
			if omnikpi_is_root; then
				chown "$user:" "$dir" || return 1
			fi
		fi
		OMNIKPI_CLUSTER_TEMP=1
	fi
	export OMNIKPI_CLUSTER_DIR=$dir OMNIKPI_CLUSTER_TEMP
	export OMNIKPI_SERVER_LOG=$dir/server.log
	export OMNIKPI_PG_BINDIR=$bindir

	if [ ! -f "$dir/data/PG_VERSION" ]; then
		# --no-locale: byte-order collation and C messages, so expected outputs
		# do not depend on the machine's locale; trust: nobody else can reach
		# the socket directory, and TCP is bound to 127.0.0.1 only.
		if ! omnikpi_as_server_user "$bindir/initdb" -D "$dir/data" --auth=trust \
			--encoding=UTF8 --no-locale --username="$user" --no-sync \
			>"$dir/initdb.log" 2>&1; then
			omnikpi_log "error: initdb failed:"
			cat "$dir/initdb.log" >&2
			return 1
		fi
		# The port and socket change on every start, so they live in a file
		# rewritten below; the rest suits tests and benchmarks, not durability.
		omnikpi_as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null <<-'EOF' || return 1

			# omnikpi test settings (test/cluster.sh)
			include_if_exists = 'omnikpi_port.conf'
			listen_addresses = '127.0.0.1'
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			max_worker_processes = 16
			max_parallel_workers = 8
			max_parallel_maintenance_workers = 4
			lc_messages = 'C'
			log_line_prefix = '%m [%p] %q%u@%d '
			log_min_messages = warning
			log_min_error_statement = error
			log_checkpoints = off
		EOF
		# Suites that need more (pg_cron preloaded, say) name it here.
		if [ -n "${OMNIKPI_EXTRA_CONF:-}" ]; then
			printf '%s\n' "$OMNIKPI_EXTRA_CONF" |
				omnikpi_as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null || return 1
		fi
	fi

	for attempt in 1 2 3 4 5; do
		if [ "$attempt" = 1 ] && [ -n "${OMNIKPI_CLUSTER_PORT:-}" ] && ! omnikpi_port_in_use "$OMNIKPI_CLUSTER_PORT"; then
			port=$OMNIKPI_CLUSTER_PORT
		else
			port=$(omnikpi_free_port) || return 1
		fi
		conf="port = $port"$'\n'"unix_socket_directories = '$dir'"
		printf '%s\n' "$conf" | omnikpi_as_server_user tee "$dir/data/omnikpi_port.conf" >/dev/null ||
			return 1
		# shellcheck disable=SC2086 # OMNIKPI_SERVER_ENV is a list of NAME=value words
		if omnikpi_as_server_user env ${OMNIKPI_SERVER_ENV:-} "$bindir/pg_ctl" -D "$dir/data" \
			-l "$OMNIKPI_SERVER_LOG" -w -t 120 start >/dev/null 2>&1; then
			break
		fi
		# Someone took the port between the probe and the bind: try another.
		if [ "$attempt" -lt 5 ] && tail -n 20 "$OMNIKPI_SERVER_LOG" 2>/dev/null | grep -q 'could not bind\|Address already in use'; then
			omnikpi_log "port $port was taken meanwhile; retrying"
			continue
		fi
		omnikpi_log "error: the server did not start; end of $OMNIKPI_SERVER_LOG:"
		tail -n 40 "$OMNIKPI_SERVER_LOG" >&2 2>/dev/null || true
		return 1
	done

	export PGHOST=$dir PGPORT=$port PGUSER=$user PGDATABASE=postgres
	case ":$PATH:" in
		*":$bindir:"*) ;;
		*) export PATH="$bindir:$PATH" ;;
	esac
	omnikpi_log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') running as $user on 127.0.0.1:$port (socket and log in $dir)"
}

# omnikpi_cluster_stop: safe to call more than once, and when nothing started.
# Set OMNIKPI_KEEP_CLUSTER=1 to keep a temp dir (data and server log) for a post-mortem.
omnikpi_cluster_stop()
{
	local dir=${OMNIKPI_CLUSTER_DIR:-}

	[ -n "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		if ! omnikpi_as_server_user "$OMNIKPI_PG_BINDIR/pg_ctl" -D "$dir/data" \
			-m fast -w -t 60 stop >/dev/null 2>&1; then
			omnikpi_as_server_user "$OMNIKPI_PG_BINDIR/pg_ctl" -D "$dir/data" \
				-m immediate -w -t 30 stop >/dev/null 2>&1 || true
		fi
	fi
	if [ "${OMNIKPI_CLUSTER_TEMP:-0}" = 1 ]; then
		if [ "${OMNIKPI_KEEP_CLUSTER:-0}" = 1 ]; then
			omnikpi_log "kept the stopped cluster and its log in $dir (OMNIKPI_KEEP_CLUSTER=1)"
		else
			rm -rf "$dir"
		fi
	fi
	unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP
}

# omnikpi_cluster_stop_on_exit: replaces the caller's EXIT/INT/TERM/HUP traps.
# The signal traps just exit, so the EXIT trap does the cleanup exactly once.
omnikpi_cluster_stop_on_exit()
{
	trap omnikpi_cluster_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

omnikpi_psql()
{
	"${OMNIKPI_PG_BINDIR:-$(omnikpi_pg_bindir)}/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}
