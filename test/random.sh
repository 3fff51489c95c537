#!/usr/bin/env bash
#
# test/random.sh: `make test-random`.  `make test` runs the randomized suites
# with fixed seeds, so that a run fails only when the code changed; this runs
# them with new seeds and larger budgets, to find what those seeds miss:
#   * the differential test (test/suites/differential.sh) on
#     RANDOM_DIFF_CASES datasets and journeys (default 20000),
#   * sqlsmith (test/sqlsmith/run.sh), RANDOM_SQLSMITH_QUERIES queries
#     (default 20000),
#   * libFuzzer on every parser (test/fuzz/run.sh), RANDOM_FUZZ_SECONDS per
#     target (default 300),
#   * the materialized form against the plain one after random refreshes
#     (test/materialized_random.sh), RANDOM_MATERIALIZED_SEEDS seeds (default 5).
# Each prints its seed and the command that repeats it; a failure found here
# becomes a fixed case (a corpus file, a regression test) once understood.
# Builds and installs like `make test` and uses a throw-away cluster of its
# own.  Prints `tests: N passed, M failed` last and fails if any failed.
#
# Environment: PG_CONFIG, RANDOM_DIFF_CASES, RANDOM_SQLSMITH_QUERIES,
# RANDOM_FUZZ_SECONDS, RANDOM_MATERIALIZED_SEEDS.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

unset OMNIKPI_CLUSTER_DIR OMNIKPI_CLUSTER_TEMP OMNIKPI_SERVER_LOG PGHOST PGPORT PGUSER PGDATABASE

# shellcheck source=test/cluster.sh
. test/cluster.sh

fresh_seed()
{
	od -An -N4 -tu4 /dev/urandom | awk '{ print $1 % 2000000000 + 1 }'
}

omnikpi_ensure_build_packages
omnikpi_build
omnikpi_install
omnikpi_cluster_stop_on_exit
# shellcheck disable=SC2119 # no DIR: a fresh temp dir
omnikpi_cluster_start

passed=0
failed=0
failures=()
run()
{
	local name=$1

	shift
	echo
	echo "== $name"
	if env "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

run differential OMNIKPI_DIFF_SEED="$(fresh_seed)" OMNIKPI_DIFF_CASES="${RANDOM_DIFF_CASES:-20000}" \
	bash test/suites/differential.sh
run sqlsmith SQLSMITH_SEED="$(fresh_seed)" SQLSMITH_QUERIES="${RANDOM_SQLSMITH_QUERIES:-20000}" \
	bash test/sqlsmith/run.sh
run fuzz FUZZ_SEED="$(fresh_seed)" FUZZ_SECONDS="${RANDOM_FUZZ_SECONDS:-300}" \
	bash test/fuzz/run.sh
run materialized_random OMNIKPI_MATERIALIZED_SEEDS="${RANDOM_MATERIALIZED_SEEDS:-5}" \
	bash test/materialized_random.sh

omnikpi_cluster_stop
echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (each printed its seed and how to repeat it above)"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
