#!/usr/bin/env bash
#
# sqlsmith.sh: a bounded sqlsmith round (OMNIKPI_SQLSMITH_QUERIES, default
# 8000 queries, one to three minutes) against omnikpi in `make test`'s cluster; the
# server must not crash.  The seed is fixed (SQLSMITH_SEED, default 20240611),
# so `make test` sends the same queries every time; `make sqlsmith` runs a
# longer round (20000) with a new seed in a cluster of its own.  See
# test/sqlsmith/run.sh.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SQLSMITH_QUERIES=${OMNIKPI_SQLSMITH_QUERIES:-8000} SQLSMITH_SEED=${SQLSMITH_SEED:-20240611} \
	exec bash test/sqlsmith/run.sh
