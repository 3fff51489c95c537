#!/usr/bin/env bash
#
# differential.sh: randomized differential test.  Thousands of random
# datasets and journeys, generated inside the server from a seed
# (test/differential/generate.sql), go through every aggregate, accessor,
# window form and attribution model of omnikpi (extension.sql) and through an
# independent plain-SQL implementation of the same definitions
# (reference.sql); compare.sql sets every result against its reference and
# fails on a difference beyond 1e-9 relative (with the absolute floors it
# documents).  On a failure it prints the seed, the comparisons that failed
# and the datasets or journeys behind them, and keeps the database.
#
# Environment:
#   OMNIKPI_DIFF_SEED   the seed (default 20240611: `make test` runs the same
#                       cases every time; `make test-random` passes a new one)
#   OMNIKPI_DIFF_CASES  datasets, and as many journeys (default 3000)
#   OMNIKPI_DIFF_ONLY   run only these cases, e.g. 17,42 (same seed: same data)
#
# Run by test/run.sh with the throw-away cluster's PG* variables exported;
# without them it starts a throw-away cluster of its own (the extension must
# be installed: make install).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=test/cluster.sh
. test/cluster.sh

if [ -z "${OMNIKPI_CLUSTER_DIR:-}" ]; then
	omnikpi_cluster_stop_on_exit
	# shellcheck disable=SC2119 # no DIR: a fresh temp dir
	omnikpi_cluster_start
fi

seed=${OMNIKPI_DIFF_SEED:-20240611}
cases=${OMNIKPI_DIFF_CASES:-3000}
only=${OMNIKPI_DIFF_ONLY:-}
if ! [[ $seed =~ ^[0-9]+$ && $cases =~ ^[0-9]+$ && $only =~ ^[0-9,]*$ ]]; then
	echo "OMNIKPI_DIFF_SEED and OMNIKPI_DIFF_CASES must be numbers, OMNIKPI_DIFF_ONLY a list like 17,42" >&2
	exit 2
fi
db=omnikpi_differential
echo "seed $seed, $cases cases${only:+, only $only}"
echo "reproduce: OMNIKPI_DIFF_SEED=$seed OMNIKPI_DIFF_CASES=$cases${only:+ OMNIKPI_DIFF_ONLY=$only} bash test/suites/differential.sh"

omnikpi_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# UTC: the journeys' timestamps are generated and compared in UTC.
omnikpi_psql -d postgres -c "ALTER DATABASE $db SET timezone = 'UTC'"
omnikpi_psql -d "$db" -c 'CREATE EXTENSION omnikpi'

started=$(date +%s)
for part in generate reference extension compare; do
	part_started=$(date +%s)
	omnikpi_psql -d "$db" -v seed="$seed" -v cases="$cases" -v only="{$only}" \
		-f "test/differential/$part.sql" >/dev/null
	echo "$part.sql: $(($(date +%s) - part_started)) s"
done

status=0

# The parallel plan must really split the aggregation between workers, and
# the workers must have run (parallel_leader_participation is off, so then
# every row went through a worker and the combine function).
plan=$(omnikpi_psql -d "$db" -At -c 'SELECT string_agg(line, E'"'"'\n'"'"') FROM diff.parallel_plan')
if ! grep -q 'Gather' <<<"$plan" || ! grep -q 'Partial' <<<"$plan" || ! grep -q 'Workers Launched: [1-9]' <<<"$plan"; then
	echo "FAILED: the parallel variant did not run with parallel workers:"
	echo "$plan"
	status=1
fi

# The harness must be able to fail: diff.close on cases either side of the
# tolerance, and one result of the extension altered by 1e-8 relative.
selftest=$(omnikpi_psql -d "$db" -At <<'SQL'
SELECT string_agg(format('close(%s, %s, %s) = %s', e, g, f, diff.close(e, g, f)), '; ')
FROM (VALUES (1::float8, 1 + 5e-10, 1::float8, true), (1, 1 + 2e-9, 1, false),
			 (0, 5e-10, 1, true), (0, 2e-9, 1, false), (0, 5e-22, 1e-12, true), (0, 2e-21, 1e-12, false),
			 (NULL, NULL, 1, true), (NULL, 0, 1, false), (1, NULL, NULL, false),
			 (1, 1 + 1e-15, NULL, false), (5e-324, 5e-324, NULL, true), (0, 5e-324, 5e-324, false)) v(e, g, f, want)
WHERE diff.close(e, g, f) IS DISTINCT FROM want;
SQL
)
mutation=$(omnikpi_psql -d "$db" -At <<'SQL'
BEGIN;
UPDATE diff.ext_agg SET index_score = index_score * (1 + 1e-8)
WHERE (variant, ds) = (SELECT variant, ds FROM diff.ext_agg WHERE index_score > 1 ORDER BY ds, variant LIMIT 1);
SELECT count(*) FILTER (WHERE NOT diff.close(expected, got, floor)) FROM diff.chk_aggregate_kpis;
ROLLBACK;
SQL
)
if [ -n "$selftest" ] || [ "$mutation" != 1 ]; then
	echo "FAILED: the comparison harness is broken: ${selftest:-diff.close is right} / an altered result gave $mutation failures instead of 1"
	status=1
fi

checks_started=$(date +%s)
omnikpi_psql -d "$db" -c 'SELECT * FROM diff.run_checks()'
echo "compare: $(($(date +%s) - checks_started)) s"

omnikpi_psql -d "$db" -At -F ' ' <<'SQL'
SELECT format('datasets: %s (%s rows, %s with no row, up to %s channels); journeys: %s (%s touches, up to %s)',
			  (SELECT count(*) FROM diff.dataset), (SELECT sum(nrows) FROM diff.dataset),
			  (SELECT count(*) FROM diff.dataset WHERE nrows = 0), (SELECT max(nchan) FROM diff.dataset),
			  (SELECT count(*) FROM diff.journey), (SELECT count(*) FROM diff.touch), (SELECT max(n) FROM diff.journey));
SELECT format('comparisons: %s, mismatches: %s', sum(comparisons), sum(mismatches)) FROM diff.tally;
SQL

mismatches=$(omnikpi_psql -d "$db" -At -c 'SELECT sum(mismatches) FROM diff.tally')
if [ "$mismatches" != 0 ]; then
	status=1
	echo
	echo "FAILED: $mismatches comparisons differ (seed $seed).  The first ones of each check:"
	omnikpi_psql -d "$db" <<'SQL'
SELECT check_name, key, expected, got, floor, detail
FROM (SELECT *, row_number() OVER (PARTITION BY check_name ORDER BY key) AS k FROM diff.mismatch) m
WHERE k <= 5 ORDER BY check_name, key;
SQL
	echo "The datasets and journeys behind them (rows listed for datasets of up to 30 rows):"
	omnikpi_psql -d "$db" <<'SQL'
WITH failing AS (
	SELECT DISTINCT substring(key FROM '^ds=(\d+)')::integer AS ds, substring(key FROM '^journey=(\d+)')::integer AS jid
	FROM diff.mismatch)
SELECT 'dataset' AS what, d.ds AS id, to_json(d) AS parameters,
	   CASE WHEN d.nrows <= 30 THEN (SELECT string_agg(format('(%s, %L, %s, %s, %s, %s)', pos, channel, rating, rating_s,
															  value, flag), ', ' ORDER BY pos)
								   FROM diff.obs o WHERE o.ds = d.ds) END AS "rows (pos, channel, rating, rating_s, value, flag)"
FROM diff.dataset d WHERE d.ds IN (SELECT ds FROM failing ORDER BY ds LIMIT 5)
UNION ALL
SELECT 'journey', j.jid, to_json(j),
	   CASE WHEN j.n <= 30 THEN (SELECT string_agg(format('(%s, %L)', tid, touched_at), ', ' ORDER BY tid)
								 FROM diff.touch t WHERE t.jid = j.jid) END
FROM diff.journey j WHERE j.jid IN (SELECT jid FROM failing ORDER BY jid LIMIT 5);
SQL
	failing_cases=$(omnikpi_psql -d "$db" -At -c "SELECT string_agg(c::text, ',' ORDER BY c) FROM (SELECT DISTINCT coalesce(substring(key FROM '^ds=(\d+)'), substring(key FROM '^journey=(\d+)'))::integer AS c FROM diff.mismatch LIMIT 20) x")
	echo "reproduce these cases alone: OMNIKPI_DIFF_SEED=$seed OMNIKPI_DIFF_ONLY=$failing_cases bash test/suites/differential.sh"
	echo "database $db kept for inspection (schema diff: dataset, obs, journey, touch, ref_*, ext_*, chk_* views, mismatch)"
fi

echo "differential: $(($(date +%s) - started)) s in all"
if [ "$status" -eq 0 ]; then
	omnikpi_psql -d postgres -c "DROP DATABASE $db"
fi
exit "$status"
