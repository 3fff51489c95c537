#!/usr/bin/env bash
#
# test/materialized_random.sh: test/sql/materialized_random.sql, which
# `make test` runs under one fixed seed, under OMNIKPI_MATERIALIZED_SEEDS
# fresh seeds (default 5; `make test-random` runs it).  Each run is a
# database of its own in the cluster the PG* variables name; a run fails
# when any step's comparison of the materialized form with the plain form
# finds a differing relation (or the script fails).  Prints each seed and
# the command that repeats it.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=test/cluster.sh
. test/cluster.sh

runs=${OMNIKPI_MATERIALIZED_SEEDS:-5}
db=omnikpi_materialized_random
failed=0
for ((run = 1; run <= runs; run++)); do
	seed=0.$(od -An -N4 -tu4 /dev/urandom | awk '{ printf "%09d", $1 % 1000000000 }')
	omnikpi_psql -d postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	omnikpi_psql -d "$db" -c 'CREATE EXTENSION omnikpi'
	# the compare steps print step|relations|differing; every one must say none
	if ! output=$(omnikpi_psql -d "$db" -At -v seed="$seed" -f test/sql/materialized_random.sql 2>&1); then
		echo "seed $seed: the script failed: $output"
		failed=$((failed + 1))
	elif bad=$(grep -E '^(first build|new day [0-9]|late rows|updates|deletes|round [0-9]|full rebuild|after the rebuild)\|' <<<"$output" \
			   | grep -v '|none$'); then
		echo "seed $seed: differing: $bad"
		failed=$((failed + 1))
	else
		echo "seed $seed: $(grep -cE '\|none$' <<<"$output") steps, the materialized form equal to the plain form at each"
	fi
	echo "  repeat: psql -v seed=$seed -f test/sql/materialized_random.sql (in a database with omnikpi)"
done
omnikpi_psql -d postgres -c "DROP DATABASE $db"
[ "$failed" -eq 0 ]
