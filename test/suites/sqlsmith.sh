#!/usr/bin/env bash
#
# sqlsmith.sh: a bounded sqlsmith round (OMNIKPI_SQLSMITH_QUERIES, default
# 8000 queries, one to three minutes) against omnikpi in `make test`'s cluster; the
# server must not crash.  `make sqlsmith` runs a longer round (20000) in a
# cluster of its own.  See test/sqlsmith/run.sh.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SQLSMITH_QUERIES=${OMNIKPI_SQLSMITH_QUERIES:-8000} exec bash test/sqlsmith/run.sh
