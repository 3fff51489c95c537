#!/usr/bin/env bash
#
# installcheck_again.sh: `make installcheck` a second time against the server
# the first run used.  pg_regress drops and re-creates its database, but roles
# (and databases, tablespaces) live in the whole cluster: a test that leaves
# one behind fails the next run on the same server, a developer's second
# `make installcheck` or a packager's.  Its output goes to a temp dir, so the
# first run's results/ and regression.diffs stay for reading.
# Run by test/run.sh with the throw-away cluster's PG* variables exported.

set -euo pipefail

out=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-installcheck.XXXXXX")
trap 'rm -rf "$out"' EXIT
# PostgreSQL 15's pg_regress reads the expected files from OUTPUTDIR/expected.
ln -s "$PWD/expected" "$out/expected"
if make installcheck EXTRA_REGRESS_OPTS="--outputdir=$out" >"$out/installcheck.log" 2>&1; then
	echo "the second make installcheck passed: $(grep -cE '\.\.\. +ok( |$)' "$out/installcheck.log") tests"
	exit 0
fi
echo "FAILED: make installcheck failed when run a second time against the same server"
grep -E '\.\.\. +(FAILED|failed)' "$out/installcheck.log" || tail -n 20 "$out/installcheck.log"
if [ -s "$out/regression.diffs" ]; then
	head -n 60 "$out/regression.diffs"
fi
exit 1
