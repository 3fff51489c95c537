#!/usr/bin/env bash
#
# test/fuzz/build.sh OUTDIR: builds the libFuzzer targets fuzz_text and
# fuzz_binary into OUTDIR with clang-14, AddressSanitizer and
# UndefinedBehaviorSanitizer.  The parsers (src/summary_text.c,
# src/summary_binary.c) and the checks they share with the server
# (src/channel_stats.c) are compiled as they are, against PostgreSQL's server
# headers, and linked with PostgreSQL's frontend libraries (libpgcommon,
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
objects=()
for source in src/summary_text.c src/summary_binary.c src/channel_stats.c test/fuzz/fuzz_common.c; do
	object=$out/$(basename "${source%.c}").o
	"$CLANG" "${cflags[@]}" -c "$source" -o "$object"
	objects+=("$object")
done
for target in text binary; do
	"$CLANG" "${cflags[@]}" "test/fuzz/fuzz_$target.c" "${objects[@]}" \
		"$pkglibdir/libpgcommon.a" "$pkglibdir/libpgport.a" -lm -o "$out/fuzz_$target"
done
