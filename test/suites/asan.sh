#!/usr/bin/env bash
#
# asan.sh: `make test-asan` as a suite of `make test`: the whole pg_regress
# suite against omnikpi built with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a cluster of its own started from a private
# copy of PostgreSQL (see test/asan/run.sh).  test/asan/run.sh drops the main
# cluster's PG* and OMNIKPI_* variables first, so the main cluster and the
# PostgreSQL installation it runs from are left alone.

set -euo pipefail

bash test/asan/run.sh
