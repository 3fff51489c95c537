#!/usr/bin/env bash
#
# static_checks.sh: no compiler warnings and a clean cppcheck on src/.
#   1. gcc, with PostgreSQL's own warning flags (pg_config --cflags: -Wall
#      and more) plus the Makefile's -Wextra -Wno-unused-parameter
#      -Wmissing-prototypes, at -O2 (some warnings need the optimizer) and as
#      errors, in a scratch copy so the tree's objects stay as they are;
#   2. clang-14 -Wall -Wextra -Wno-unused-parameter on each file: a second
#      compiler warns about other things (PostgreSQL's headers are system
#      headers here, -isystem, so only our code is judged);
#   3. cppcheck (Debian package cppcheck).
# Needs no cluster, but runs as a suite of `make test` (and so in CI).

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages cppcheck clang-14
server_include=$("$PG_CONFIG" --includedir-server)
status=0

echo "== gcc: -Wall -Wextra -Wno-unused-parameter -Werror"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-static.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -a Makefile omnikpi.control src sql "$scratch/"
if ! make -C "$scratch" -s -B COPT="-Wall -Wextra -Wno-unused-parameter -Werror" all; then
	status=1
fi

echo "== clang-14: -Wall -Wextra -Wno-unused-parameter -Werror"
for source in src/*.c src/*/*.c; do
	if ! clang-14 -fsyntax-only -std=gnu99 -Wall -Wextra -Wno-unused-parameter \
		-Wmissing-prototypes -Wdeclaration-after-statement -Werror \
		-Isrc -isystem "$server_include" "$source"; then
		status=1
	fi
done

echo "== cppcheck $(cppcheck --version | awk '{print $2}')"
# --enable: warning (likely bugs), style, performance and portability.  Not
#   unusedFunction: every SQL-callable function looks unused to cppcheck,
#   which does not read the SQL scripts that call it; not information: it
#   only says which system headers it did not open.
# -D__GNUC__=12 -D__x86_64__: the configuration the build uses.  Without a
#   -D cppcheck guesses at the #ifdef combinations of PostgreSQL's headers,
#   checks only 12 of them and takes over a minute; with one it checks just
#   that one, so the second run adds USE_ASSERT_CHECKING (cassert builds),
#   under which the state invariant checks are compiled.
# --suppress=missingIncludeSystem: libc headers are not on the include path;
#   cppcheck's posix library describes their functions instead.
# --suppress=*:<server headers>/*: findings inside PostgreSQL's own headers
#   (its 0.0 / 0.0 NaN idiom in utils/float.h, an Assert-then-dereference in
#   nodes/pg_list.h) are not ours to fix.
for config in "" "-DUSE_ASSERT_CHECKING"; do
	# shellcheck disable=SC2086 # $config is zero or one word
	if ! cppcheck --quiet --std=c99 --language=c --library=posix \
		--enable=warning,style,performance,portability --inline-suppr \
		--error-exitcode=1 -D__GNUC__=12 -D__x86_64__ $config \
		-I src -I "$server_include" \
		--suppress=missingIncludeSystem "--suppress=*:$server_include/*" src/; then
		status=1
	fi
done

[ "$status" = 0 ] && echo "static checks: clean"
exit "$status"
