#!/usr/bin/env bash
#
# docs.sh: every SQL example of README.md, CONTRIBUTING.md and docs/*.md runs
# and prints what its document shows (test/docs/run.sh, in a cluster of its
# own with pg_cron preloaded for the scheduling examples).

set -euo pipefail
exec bash test/docs/run.sh
