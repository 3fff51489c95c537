#!/usr/bin/env bash
#
# fuzz.sh: a bounded libFuzzer round over the channel_summary text and binary
# parsers and the markov_model and journey_paths text parsers
# (test/fuzz/run.sh, FUZZ_RUNS inputs per target, 200000 by default here, with
# the fixed seed FUZZ_SEED, 20240611 by default, so that every run of
# `make test` does the same work; `make fuzz` and `make test-random` fuzz
# for a time with a new seed),
# failing on any crash, sanitizer report, leak or timeout; the corpus in
# test/fuzz/corpus/ is replayed first, so every input that once failed is
# a regression case.  Then the server gets the corpus's named cases, text
# through the type's input function and binary through COPY ... (FORMAT
# binary), that is through recv: each valid-* must be accepted and print back
# what it reads, each bad-* rejected with its SQLSTATE (22P02 for text; 22P03,
# or for a message cut short or too long 08P01, or for a name that is not
# text 22021, for binary), the same verdicts as the standalone parsers'.
# Run by test/run.sh with the throw-away cluster's PG* variables exported.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

FUZZ_RUNS=${FUZZ_RUNS:-200000} FUZZ_SEED=${FUZZ_SEED:-20240611} bash test/fuzz/run.sh

db=omnikpi_fuzz
omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
omnikpi_psql -d "$db" -c "CREATE EXTENSION omnikpi"
failed=0
checked=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/omnikpi-fuzz-copy.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# verdict NAME RESULT PATTERN: valid-* must give "t", bad-* an error matching PATTERN.
verdict()
{
	case "$1:$2" in
		valid-*:t) ;;
		bad-*:*) if ! grep -qE "$3" <<<"$2"; then
			echo "corpus case $1: expected an error matching $3, got: $2"
			failed=1
		fi ;;
		*)
			echo "corpus case $1: unexpected server result: $2"
			failed=1
			;;
	esac
	checked=$((checked + 1))
}

for file in test/fuzz/corpus/text/valid-* test/fuzz/corpus/text/bad-*; do
	# The input goes in as a psql variable, quoted by psql.
	result=$(omnikpi_psql -d "$db" -At -v input="$(cat "$file")" 2>&1 <<-'SQL' || true
		\set VERBOSITY sqlstate
		\set ON_ERROR_STOP 0
		SELECT (:'input'::channel_summary)::text
			= ((:'input'::channel_summary)::text::channel_summary)::text;
	SQL
	)
	verdict "${file##*/}" "$result" '^ERROR: +22P02$'
done

# copy_file DATA: a COPY binary file with one row whose one field is DATA's bytes.
copy_file()
{
	local n

	n=$(stat -c %s "$1")
	printf 'PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0\0\1'
	# shellcheck disable=SC2059 # the format is the escaped length
	printf "$(printf '\\%03o' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
	cat "$1"
	printf '\377\377'
}

for file in test/fuzz/corpus/binary/valid-* test/fuzz/corpus/binary/bad-*; do
	copy_file "$file" >"$scratch/row.copy"
	result=$(omnikpi_psql -d "$db" -At 2>&1 <<-SQL || true
		\set VERBOSITY sqlstate
		\set ON_ERROR_STOP 0
		CREATE TEMP TABLE received (s channel_summary);
		\copy received FROM '$scratch/row.copy' (FORMAT binary)
		SELECT count(*) = 1 AND bool_and(s::text = s::text::channel_summary::text) FROM received;
	SQL
	)
	verdict "${file##*/}" "$result" '^ERROR: +(22P03|08P01|22021)$'
done
omnikpi_psql -d postgres -c "DROP DATABASE $db"
echo "fuzz: $checked named corpus cases checked against the server"
exit "$failed"
