#!/usr/bin/env bash
#
# test/fuzz/run.sh: `make fuzz`, and the bounded round of test/suites/fuzz.sh.
# Builds the targets (test/fuzz/build.sh) and runs each for FUZZ_SECONDS
# (default 600) under libFuzzer, starting from the corpus in
# test/fuzz/corpus/<target>/ plus the dictionary test/fuzz/<target>.dict when
# there is one.  Fails on any crash, sanitizer report, leak, timeout or
# out-of-memory; the input that caused it is kept (path printed) and should
# go into the corpus once fixed.  Prints libFuzzer's execution count per
# target.
#
# Environment:
#   FUZZ_SECONDS=N        seconds per target (default 600)
#   FUZZ_RUNS=N           instead: N inputs per target, the same work on any
#                         machine (test/suites/fuzz.sh uses it)
#   FUZZ_SEED=N           libFuzzer's seed (default: a new one each run,
#                         printed); with FUZZ_RUNS the round is reproducible
#   FUZZ_TARGETS="text binary markov journey_paths"
#   FUZZ_UPDATE_CORPUS=1  afterwards, merge the inputs that reach new edges
#                         into test/fuzz/corpus/ (libFuzzer -merge=1 with
#                         -use_counters=0: new edges, not new hit counts, so
#                         the corpus stays small)
#   PG_CONFIG             which PostgreSQL's headers and frontend libraries

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# shellcheck source=test/cluster.sh
. test/cluster.sh

: "${FUZZ_SECONDS:=600}"
: "${FUZZ_TARGETS:=text binary markov journey_paths}"
seed=${FUZZ_SEED:-$(((RANDOM << 15 | RANDOM) % 2000000000 + 1))}
if ! [[ $seed =~ ^[0-9]+$ && ${FUZZ_RUNS:-0} =~ ^[0-9]+$ ]]; then
	echo "FUZZ_SEED and FUZZ_RUNS must be numbers" >&2
	exit 2
fi
packages=(clang-14 libclang-rt-14-dev make)
if [ -z "$OMNIKPI_CUSTOM_PG_CONFIG" ]; then
	packages+=("postgresql-server-dev-$OMNIKPI_PG_MAJOR")
fi
omnikpi_ensure_packages "${packages[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=${FUZZ_ARTIFACTS:-$PWD/test/fuzz/findings}

echo "== building the fuzz targets"
bash test/fuzz/build.sh "$work/bin"

status=0
for target in $FUZZ_TARGETS; do
	seeds=test/fuzz/corpus/$target
	found=$work/corpus-$target
	mkdir -p "$found" "$artifacts"
	options=(-seed="$seed" -timeout=10 -rss_limit_mb=2048
		-max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$target-")
	if [ -n "${FUZZ_RUNS:-}" ]; then
		options+=(-runs="$FUZZ_RUNS")
		budget="$FUZZ_RUNS inputs"
	else
		options+=(-max_total_time="$FUZZ_SECONDS")
		budget="$FUZZ_SECONDS s"
	fi
	if [ -f "test/fuzz/$target.dict" ]; then
		options+=(-dict="test/fuzz/$target.dict")
	fi
	echo "== fuzzing $target for $budget, seed $seed (reproduce: FUZZ_TARGETS=$target FUZZ_SEED=$seed${FUZZ_RUNS:+ FUZZ_RUNS=$FUZZ_RUNS} make fuzz)"
	# New inputs go to the first directory, so the repo's corpus stays as is.
	log=$work/$target.log
	if "$work/bin/fuzz_$target" "${options[@]}" "$found" "$seeds" >"$log" 2>&1; then
		result=ok
	else
		result=FAILED
		status=1
		echo "---- libFuzzer's output (last 60 lines) ----"
		tail -n 60 "$log"
		echo "---- the input that failed is in $artifacts/$target-* ----"
	fi
	executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 || true)
	echo "fuzz $target: $result, ${executions:-?} executions ($budget), ${coverage:-cov: ?} edges, $(find "$found" -type f | wc -l) new inputs"
	if [ "$result" = ok ] && [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
		before=$(find "$seeds" -type f | wc -l)
		"$work/bin/fuzz_$target" -merge=1 -use_counters=0 -max_len=4096 "$seeds" "$found" >"$work/$target-merge.log" 2>&1
		echo "fuzz $target: corpus $before -> $(find "$seeds" -type f | wc -l) files"
	fi
done
# Keep the findings dir only when it holds something.
rmdir "$artifacts" 2>/dev/null || true
exit "$status"
