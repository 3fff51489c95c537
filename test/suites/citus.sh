#!/usr/bin/env bash
#
# citus.sh: `make test-citus` as a suite of `make test`: omnikpi on a Citus
# coordinator and two workers of its own, compared with local tables (see
# test/citus/run.sh).  Where no Citus is installed for the server under test
# it prints why it skipped and passes, so the other suites are unaffected.

set -euo pipefail

bash test/citus/run.sh
