#!/usr/bin/env bash
#
# dump_restore.sh: a database holding the extension, tables of stored
# channel_summary, markov_model and journey_paths values, the KPI views and
# the materialized KPI views survives pg_dump / pg_restore into a fresh
# database with identical KPI results, and the restored materialized views
# keep refreshing incrementally from where the source left off.  Run by test/run.sh with the
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
CREATE TABLE shop.touchpoints AS
SELECT j AS journey_id, j % 97 AS customer_id,
	(ARRAY['email', 'social', 'search', 'web', 'store'])[1 + (j * 3 + t) % 5] AS channel,
	timestamptz '2026-01-01' + (j % 100) * interval '1 day' + t * interval '1 hour' AS touched_at,
	(t + 1)::numeric AS cost
FROM generate_series(1, 400) j, generate_series(0, 4) t WHERE t <= j % 5;
CREATE TABLE shop.conversions AS
SELECT j AS journey_id, timestamptz '2026-01-01' + (j % 100) * interval '1 day' + interval '6 hours' AS converted_at,
	(10 + j % 7)::numeric AS value
FROM generate_series(1, 400) j WHERE j % 3 <> 0;
CREATE TABLE shop.models AS
SELECT date_trunc('month', c.converted_at)::date AS month,
	markov_model(p.path, true) AS markov, journey_paths(p.path, true) AS paths
FROM shop.conversions c
CROSS JOIN LATERAL (SELECT array_agg(t.channel ORDER BY t.touched_at) AS path
					FROM shop.touchpoints t WHERE t.journey_id = c.journey_id) p
GROUP BY 1;
CREATE SCHEMA kpi;
CREATE SCHEMA kpim;
SET client_min_messages = warning;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions',
	touchpoints => 'shop.touchpoints', conversions => 'shop.conversions');
SELECT count(*) FROM omnikpi.create_kpi_views('kpim', interactions => 'shop.interactions', materialized => true);
-- New rows after the first build, picked up by an incremental refresh.
INSERT INTO shop.interactions (customer_id, journey_id, channel, occurred_at, phase, satisfaction)
SELECT g % 97, g % 211, 'web', timestamptz '2026-04-30 12:00', 'service', 1 + g % 5
FROM generate_series(1, 50) g;
CALL omnikpi.refresh_kpi_views('kpim');
SQL

"$OMNIKPI_PG_BINDIR/pg_dump" -Fc "$source_db" >"$dump"
"$OMNIKPI_PG_BINDIR/pg_restore" --exit-on-error -d "$target_db" "$dump"

# The same queries on both databases must print the same thing.
kpis="SELECT * FROM kpi.experience_rating_monthly ORDER BY month;
SELECT * FROM kpi.integration_index_quarterly ORDER BY quarter;
SELECT * FROM kpi.channel_switching_monthly ORDER BY month;
SELECT * FROM kpi.journey_funnel_monthly ORDER BY month, phase_order;
SELECT * FROM kpi.attribution_markov_monthly ORDER BY 1, 2;
SELECT * FROM kpi.attribution_shapley_monthly ORDER BY 1, 2, 3;
SELECT * FROM kpi.attribution_fractribution_monthly ORDER BY 1, 2;
SELECT day, ratings::text, experience_rating(ratings) FROM shop.daily ORDER BY day;
SELECT experience_rating(rollup(ratings)) FROM shop.daily;
SELECT month, markov::text, paths::text FROM shop.models ORDER BY month;
SELECT * FROM kpim.experience_rating_monthly ORDER BY month;
SELECT * FROM kpim.integration_index_quarterly ORDER BY quarter;
SELECT * FROM kpim.experience_rating_by_channel_monthly ORDER BY month, channel;
-- The restored refresh state carries on: a late row inside the window shows up.
INSERT INTO shop.interactions (customer_id, journey_id, channel, occurred_at, phase, satisfaction)
VALUES (1, 1, 'store', timestamptz '2026-04-29 09:00', 'service', 5);
CALL omnikpi.refresh_kpi_views('kpim');
SELECT * FROM kpim.experience_rating_monthly ORDER BY month;
SELECT view_name FROM omnikpi.drop_kpi_views('kpim') ORDER BY 1;
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
