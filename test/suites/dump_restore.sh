#!/usr/bin/env bash
#
# dump_restore.sh: a database holding the extension, a table of stored
# channel_summary values and the KPI views survives pg_dump / pg_restore into
# a fresh database with identical KPI results.  Run by test/run.sh with the
# throw-away cluster's PG* variables exported.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

source_db=omnikpi_dump_source
target_db=omnikpi_dump_target
dump=$(mktemp)
trap 'rm -f "$dump"' EXIT

omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $source_db" -c "DROP DATABASE IF EXISTS $target_db" \
	-c "CREATE DATABASE $source_db" -c "CREATE DATABASE $target_db"
omnikpi_psql -d "$source_db" <<'SQL'
CREATE EXTENSION omnikpi;
CREATE SCHEMA shop;
CREATE TABLE shop.interactions AS
SELECT g % 97 AS customer_id, g % 211 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center', 'chat'])[1 + (g * 7 + g / 13) % 5] AS channel,
	timestamptz '2026-01-01' + (g % 120) * interval '1 day' + (g % 24) * interval '1 hour' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	(1 + (g * 31) % 5)::float8 AS satisfaction, (1 + g % 7)::float8 AS effort, g % 11 AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(1, 5000) g;
CREATE TABLE shop.daily AS
SELECT occurred_at::date AS day, channel_summary(channel, satisfaction) AS ratings
FROM shop.interactions GROUP BY 1;
CREATE SCHEMA kpi;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions');
SQL

"$OMNIKPI_PG_BINDIR/pg_dump" -Fc "$source_db" >"$dump"
"$OMNIKPI_PG_BINDIR/pg_restore" --exit-on-error -d "$target_db" "$dump"

# The same queries on both databases must print the same thing.
kpis="SELECT * FROM kpi.experience_rating_monthly ORDER BY month;
SELECT * FROM kpi.integration_index_quarterly ORDER BY quarter;
SELECT * FROM kpi.channel_switching_monthly ORDER BY month;
SELECT * FROM kpi.journey_funnel_monthly ORDER BY month, phase_order;
SELECT day, ratings::text, experience_rating(ratings) FROM shop.daily ORDER BY day;
SELECT experience_rating(rollup(ratings)) FROM shop.daily;
SELECT view_name FROM omnikpi.drop_kpi_views('kpi') ORDER BY 1;"
before=$(omnikpi_psql -d "$source_db" -At -f - <<<"$kpis")
after=$(omnikpi_psql -d "$target_db" -At -f - <<<"$kpis")
if [ -z "$before" ] || [ "$before" != "$after" ]; then
	echo "KPI results differ after pg_dump / pg_restore:"
	diff <(echo "$before") <(echo "$after") | head -40
	exit 1
fi
echo "identical KPI results after pg_dump / pg_restore ($(echo "$before" | wc -l) lines compared)"
omnikpi_psql -d postgres -c "DROP DATABASE $source_db" -c "DROP DATABASE $target_db"
