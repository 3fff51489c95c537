#!/usr/bin/env bash
#
# test/fuzz/build.sh OUTDIR: builds the libFuzzer targets fuzz_text,
# fuzz_binary (channel_summary), fuzz_markov (markov_model text) and
# fuzz_journey_paths (journey_paths text) into OUTDIR with clang-14,
# AddressSanitizer and UndefinedBehaviorSanitizer.  The parsers and writers
# (src/channel_summary/summary_text.c and summary_binary.c,
# src/markov/markov_text.c, src/journey_paths/journey_paths_text.c, their
# lexer, JSON writer and binary reader in src/common/) and the checks they
# share with the server (src/channel_summary/channel_stats.c) are compiled
# as they are, against PostgreSQL's server headers, and linked with PostgreSQL's frontend libraries (libpgcommon,
# libpgport: StringInfo, palloc as malloc, the shortest float formatting), so
# no server is needed.  Debian packages: clang-14, libclang-rt-14-dev (the
# libFuzzer and sanitizer runtimes), postgresql-server-dev-15.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${1:?usage: test/fuzz/build.sh OUTDIR}
mkdir -p "$out"

: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
: "${CLANG:=clang-14}"
server_include=$("$PG_CONFIG" --includedir-server)
pkglibdir=$("$PG_CONFIG" --pkglibdir)

# -fno-sanitize-recover: every UBSan report is a crash libFuzzer keeps.
# float-cast-overflow, implicit-conversion (a value changed by an implicit
# integer conversion) and unsigned-integer-overflow are not in "undefined"
# and not always bugs, but in a parser they are.  -DFRONTEND: palloc and
# StringInfo are libpgcommon's.
# The headers of PostgreSQL are system headers here (-isystem): their
# warnings are not ours.
cflags=(-g -O1 -std=gnu99 -fno-omit-frame-pointer -DFRONTEND
	-fsanitize=fuzzer,address,undefined,float-cast-overflow,implicit-conversion,unsigned-integer-overflow
	-fno-sanitize-recover=all
	-Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes -Werror
	-Isrc -Itest/fuzz -isystem "$server_include")
# journey_paths_text.h needs PathStats from journey_paths.h, which includes
# server-only headers (nodes/execnodes.h) that refuse -DFRONTEND; those two
# files are compiled without it.  They call nothing of the server: the link
# against the frontend libraries alone shows it.
server_headers=(src/journey_paths/journey_paths_text.c test/fuzz/fuzz_journey_paths.c)
flags_for()
{
	local source

	for source in "${server_headers[@]}"; do
		if [ "$1" = "$source" ]; then
			printf '%s\n' "${cflags[@]}" | grep -vx -- -DFRONTEND
			return
		fi
	done
	printf '%s\n' "${cflags[@]}"
}
objects=()
for source in src/common/json_lexer.c src/common/json_writer.c src/common/binary_io.c \
	src/channel_summary/summary_text.c src/channel_summary/summary_binary.c \
	src/channel_summary/channel_stats.c src/markov/markov_text.c \
	src/journey_paths/journey_paths_text.c test/fuzz/fuzz_common.c test/fuzz/fuzz_round_trip.c; do
	object=$out/$(basename "${source%.c}").o
	mapfile -t flags < <(flags_for "$source")
	"$CLANG" "${flags[@]}" -c "$source" -o "$object"
	objects+=("$object")
done
for target in text binary markov journey_paths; do
	mapfile -t flags < <(flags_for "test/fuzz/fuzz_$target.c")
	"$CLANG" "${flags[@]}" "test/fuzz/fuzz_$target.c" "${objects[@]}" \
		"$pkglibdir/libpgcommon.a" "$pkglibdir/libpgport.a" -lm -o "$out/fuzz_$target"
done
