# shellcheck shell=bash
#
# test/asan/private_pg.sh: sourced by test/asan/run.sh (and usable by any
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
