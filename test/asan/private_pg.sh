# shellcheck shell=bash
#
# test/asan/private_pg.sh: sourced by test/asan/run.sh, test/coverage/run.sh
# and test/mutation/run.sh (and usable by any
# script that must install a differently built omnikpi without touching the
# PostgreSQL installation everybody else uses).
#
#   omnikpi_private_pg_copy SOURCE_PG_CONFIG DEST
#
# copies the PostgreSQL installation SOURCE_PG_CONFIG belongs to into DEST,
# keeping its layout relative to a common root: on Debian /usr/lib/postgresql/15
# and /usr/share/postgresql/15 become DEST/lib/postgresql/15 and
# DEST/share/postgresql/15, and DEST/include/postgresql is a symlink to the
# headers (only read).  PostgreSQL finds its share and lib directories
# relative to its binaries, so the copy works from anywhere; `make install`
# with the copy's pg_config then installs into the copy only.  Prints the
# copy's pg_config.
omnikpi_private_pg_copy()
{
	local source=$1 dest=$2 bindir libroot sharedir includedir root rel

	bindir=$("$source" --bindir) || return 1
	sharedir=$("$source" --sharedir) || return 1
	includedir=$("$source" --includedir) || return 1
	libroot=${bindir%/bin}
	# The common root: /usr for Debian's /usr/lib/postgresql/15.
	root=${libroot%/lib/*}
	case "$sharedir:$includedir" in
		"$root"/*:"$root"/*) ;;
		*)
			printf 'error: cannot relocate PostgreSQL: %s, %s and %s share no root\n' \
				"$libroot" "$sharedir" "$includedir" >&2
			return 1
			;;
	esac
	for rel in "${libroot#"$root"/}" "${sharedir#"$root"/}"; do
		mkdir -p "$dest/$(dirname "$rel")" || return 1
		cp -a "$root/$rel" "$dest/$rel" || return 1
	done
	rel=${includedir#"$root"/}
	mkdir -p "$dest/$(dirname "$rel")" || return 1
	ln -sfn "$includedir" "$dest/$rel" || return 1
	# The server may run as another user (postgres, when we are root).
	chmod -R a+rX "$dest" || return 1
	echo "$dest/${libroot#"$root"/}/bin/pg_config"
}

# omnikpi_private_workdir NAME: a fresh temp dir that the server's user can
# enter (the private PostgreSQL, its cluster and the source copy go there).
omnikpi_private_workdir()
{
	local work

	work=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-$1.XXXXXX") || return 1
	chmod 755 "$work" || return 1
	echo "$work"
}

# omnikpi_private_remove_workdir WORK: at exit, unless OMNIKPI_KEEP_CLUSTER=1
# keeps it for a post-mortem.
omnikpi_private_remove_workdir()
{
	if [ "${OMNIKPI_KEEP_CLUSTER:-0}" = 1 ]; then
		echo "kept $1 (OMNIKPI_KEEP_CLUSTER=1)" >&2
	else
		rm -rf "$1"
	fi
}

# omnikpi_exit_on_signals: INT, TERM and HUP exit, so that the caller's EXIT
# trap cleans up exactly once.
omnikpi_exit_on_signals()
{
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# omnikpi_private_source_copy REPO DEST: what a build and pg_regress need,
# copied to DEST, so that instrumented objects and regression output never
# mix with the tree's.
omnikpi_private_source_copy()
{
	mkdir -p "$2" || return 1
	cp -a "$1/Makefile" "$1/omnikpi.control" "$1/src" "$1/sql" "$1/test" "$1/expected" "$2/" || return 1
	rm -rf "$2/results" "$2/regression.diffs" "$2/regression.out"
}

# omnikpi_private_forget_cluster: a script with a cluster of its own, run as a
# suite with the main cluster's variables exported, must neither stop nor
# reuse that one.
omnikpi_private_forget_cluster()
{
	unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP OMNIKPI_SERVER_LOG OMNIKPI_PG_BINDIR \
		PGHOST PGPORT PGUSER PGDATABASE OMNIKPI_EXTRA_CONF OMNIKPI_SERVER_ENV
}
