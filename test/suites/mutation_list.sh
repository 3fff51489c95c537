#!/usr/bin/env bash
#
# mutation_list.sh: `make mutation` takes hours and is not part of `make
# test`, so this checks cheaply that its mutant generator
# (test/mutation/mutate.py) still reads the sources: every C file under src/
# tokenizes and yields mutants, and each kind of mutant (arithmetic,
# relational, logical, constant, negation, removal) is found somewhere.  A
# new file layout or a C construct the tokenizer does not know fails here,
# not hours into a mutation run.  Needs no cluster.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

omnikpi_ensure_packages python3
listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
python3 test/mutation/mutate.py list >"$listing" 2>/dev/null

status=0
# every file that defines a function (module.c holds only the module's magic)
while read -r file; do
	if grep -q '^{' "$file" && ! grep -q "^$file:" "$listing"; then
		echo "FAILED: no mutant found in $file"
		status=1
	fi
done < <(find src -name '*.c' | LC_ALL=C sort)
for operator in arithmetic relational logical constant negation removal; do
	if ! awk -F'\t' -v operator="$operator" '$2 == operator { found = 1 } END { exit !found }' "$listing"; then
		echo "FAILED: no $operator mutant found in src/"
		status=1
	fi
done
[ "$status" = 0 ] && echo "mutant generator: $(wc -l <"$listing") mutants in $(find src -name '*.c' | wc -l) C files"
exit "$status"
