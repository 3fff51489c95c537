#!/usr/bin/env bash
#
# test/asan/run.sh: `make test-asan`, also run by `make test` as the suite
# test/suites/asan.sh.  The whole pg_regress suite against a server running
# omnikpi built with AddressSanitizer and UndefinedBehaviorSanitizer; fails on
# any sanitizer report or test failure.
#
#   1. copies the PostgreSQL installation PG_CONFIG names (Debian's 15 by
#      default) into a temp dir, so the instrumented module is installed
#      there and never into the installation other tests and users share;
#   2. builds a copy of the sources with gcc -fsanitize=address,undefined
#      (UBSan does not recover: the first report ends the backend) and
#      installs it into that copy;
#   3. starts a throw-away cluster from the copy with the ASan and UBSan
#      runtimes preloaded (PostgreSQL itself is not instrumented, but the
#      runtime must be in the process before the module is loaded), reports
#      of ASan written to files, those of UBSan to the server log;
#   4. runs `make installcheck` (every test/sql file) against it, checks that
#      the backends really ran with the runtime, stops the server and fails if
#      a test failed, a report file is non-empty, or the server log mentions a
#      sanitizer or a crash.
#
# What it cannot see: PostgreSQL's memory contexts hand out chunks of large
# malloc'd blocks, so reading or writing past a palloc'd chunk into the rest
# of its block goes unnoticed.  ASan catches accesses past a block, to the
# stack and global arrays of omnikpi, and to memory from malloc; the fuzz
# targets (test/fuzz/), where palloc is malloc, check the parsers exactly.
#
# Environment: PG_CONFIG (the installation to copy), OMNIKPI_KEEP_CLUSTER=1
# (keep the temp dir with the server log and reports).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD

# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=test/asan/private_pg.sh
. test/asan/private_pg.sh
omnikpi_private_forget_cluster

started=$SECONDS
omnikpi_ensure_build_packages
# gcc's sanitizer runtimes (Debian's gcc depends on them; named for a minimal machine).
omnikpi_ensure_packages libasan8 libubsan1

work=$(omnikpi_private_workdir asan)
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup()
{
	omnikpi_cluster_stop
	omnikpi_private_remove_workdir "$work"
}
trap cleanup EXIT
omnikpi_exit_on_signals

echo "== copying PostgreSQL ($PG_CONFIG) into $work/pg"
asan_pg_config=$(omnikpi_private_pg_copy "$PG_CONFIG" "$work/pg")

# Build from a copy of the sources, so the instrumented objects and the
# regression output never mix with the tree's.
echo "== building omnikpi with -fsanitize=address,undefined"
omnikpi_private_source_copy "$repo" "$work/src"
# float-cast-overflow is not part of gcc's "undefined" group; a double that
# does not fit the integer it is converted to is a real bug here.
sanitize="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
make -C "$work/src" -s -B PG_CONFIG="$asan_pg_config" COPT="-Werror $sanitize" all
make -C "$work/src" -s PG_CONFIG="$asan_pg_config" install
module=$("$asan_pg_config" --pkglibdir)/omnikpi.so
if ! readelf -d "$module" | grep -q 'NEEDED.*libasan'; then
	echo "error: $module is not linked against libasan" >&2
	exit 1
fi

asan_runtime=$(readlink -f "$(gcc -print-file-name=libasan.so)")
ubsan_runtime=$(readlink -f "$(gcc -print-file-name=libubsan.so)")
# See asan_init_stub.c: without it the preloaded runtime deadlocks postgres
# at start.
stub=$work/asan_init_stub.so
gcc -shared -fPIC -O2 -Wall -Wextra -Wno-unused-parameter -Werror -o "$stub" test/asan/asan_init_stub.c
chmod a+rx "$stub"
reports=$work/reports
mkdir "$reports"
if omnikpi_is_root; then
	chown "$(omnikpi_server_user):" "$reports"
fi

# ASAN_OPTIONS, one by one:
# - detect_leaks=0: PostgreSQL frees memory by dropping whole memory
#   contexts and lets the process exit hold the rest, so LeakSanitizer would
#   report every backend;
# - detect_stack_use_after_return=0: with it, locals of instrumented functions
#   live on a heap-allocated fake stack, and PostgreSQL's check_stack_depth(),
#   which compares a local's address with the stack base, would see
#   "stack depth limit exceeded" at random (newer runtimes enable it by default);
# - allow_user_segv_handler=1, handle_sigfpe=0: PostgreSQL installs its own
#   SIGFPE handler (an ERROR rather than a crash) and must keep it;
# - log_path: each process writes its ASan report to reports/asan.PID
#   instead of stderr;
# - halt_on_error=1, abort_on_error=1: the backend stops at the first report
#   with SIGABRT, so the postmaster logs "terminated by signal 6" too.
# UBSan (a second runtime with gcc) does not follow log_path when ASan is
# loaded: its "runtime error:" reports go to stderr, which is the server log.
asan_options="detect_leaks=0:detect_stack_use_after_return=0:allow_user_segv_handler=1"
asan_options+=":handle_sigfpe=0:halt_on_error=1:abort_on_error=1:disable_coredump=1"
asan_options+=":log_path=$reports/asan"
ubsan_options="print_stacktrace=1:halt_on_error=1"
export OMNIKPI_SERVER_ENV="LD_PRELOAD=$asan_runtime:$ubsan_runtime:$stub ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=$ubsan_options"
# The crash of one backend would otherwise restart the whole server and
# fail every later test with a misleading message.
export OMNIKPI_EXTRA_CONF="restart_after_crash = off"

echo "== starting a cluster from the copy with the sanitizer runtimes preloaded"
PG_CONFIG=$asan_pg_config
# A named dir is kept by omnikpi_cluster_stop: its log is read after the stop.
omnikpi_cluster_start "$work/cluster"

echo "== pg_regress (make installcheck) under ASan and UBSan"
status=0
rm -f "$work/src/regression.diffs"
make -C "$work/src" PG_CONFIG="$asan_pg_config" installcheck || status=$?

# A run without the runtime in the backend proves nothing: a backend must
# map both the sanitizer runtime and the instrumented module.
mapped=$(omnikpi_psql -At -c "LOAD 'omnikpi'" -c "SELECT count(*) FILTER (WHERE l ~ 'libasan'), count(*) FILTER (WHERE l ~ '/omnikpi[.]so') FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\n') AS l") || mapped="?|?"
if [ "${mapped%%|*}" = 0 ] || [ "${mapped#*|}" = 0 ] || [ "$mapped" = "?|?" ]; then
	echo "error: the backend did not map libasan and omnikpi.so (mappings: $mapped)" >&2
	status=1
fi
# Stop first: reports written while the server shuts down count too.
server_log=$OMNIKPI_SERVER_LOG
omnikpi_cluster_stop

if [ -s "$work/src/regression.diffs" ]; then
	echo "---- regression.diffs (first 100 lines) ----"
	head -n 100 "$work/src/regression.diffs"
fi
if [ -n "$(find "$reports" -type f -size +0 -print -quit)" ]; then
	echo "error: sanitizer reports:" >&2
	for report in "$reports"/*; do
		echo "---- $report ----"
		head -n 60 "$report"
	done
	status=1
fi
if grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|terminated by signal|server process \(PID [0-9]+\) exited with exit code|TRAP:|PANIC:' "$server_log"; then
	echo "error: the server log has sanitizer reports or crashes:" >&2
	grep -E -B2 -A20 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|terminated by signal|server process \(PID [0-9]+\) exited with exit code|TRAP:|PANIC:' \
		"$server_log" | head -n 80
	status=1
fi

echo "test-asan: $([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit "$status"
