#!/usr/bin/env bash
#
# upgrade.sh: released install scripts are frozen, and every released version
# updated step by step through each later release to the current one
# (`ALTER EXTENSION omnikpi UPDATE TO` each version in turn, the path a user
# who updated at every release took) gives the same objects as a fresh
# install of the current one, while the user's objects built on the old
# version keep working with unchanged results, a materialized form the old
# version made refreshes to the plain views' numbers, and the privileges and
# comments a DBA set on omnikpi's objects survive the updates
# (test/upgrade/dba_settings.sql).  Run by test/run.sh with the throw-away
# cluster's PG* variables exported.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

# 1. A released script must never change: installs out there ran it as it was.
if ! sha256sum --quiet -c sql/released.sha256; then
	echo "FAILED: a released install script changed (sql/released.sha256); put the change into an update script instead" >&2
	exit 1
fi

current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" omnikpi.control)
describe() { omnikpi_psql -d "$1" -f test/upgrade/describe.sql >"$2"; }

omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS omnikpi_fresh" -c "CREATE DATABASE omnikpi_fresh"
omnikpi_psql -d omnikpi_fresh -c "CREATE EXTENSION omnikpi"
describe omnikpi_fresh "$work/fresh.txt"
if ! grep -q "^extension omnikpi version=$current " "$work/fresh.txt"; then
	echo "FAILED: a fresh install is not version $current" >&2
	exit 1
fi

# The user's side: stored summaries, KPI views made by the old version, and a
# view of their own over the aggregates.  Their results must not change.
user_objects="CREATE SCHEMA shop;
CREATE TABLE shop.interactions AS
SELECT g % 53 AS customer_id, g % 97 AS journey_id,
	(ARRAY['web', 'app', 'store', 'call_center'])[1 + (g * 7) % 4] AS channel,
	timestamptz '2026-01-01' + (g % 90) * interval '1 day' AS occurred_at,
	(ARRAY['awareness', 'consideration', 'decision', 'service'])[1 + g % 4] AS phase,
	(1 + (g * 31) % 5)::float8 AS satisfaction, (1 + g % 7)::float8 AS effort, g % 11 AS nps,
	g % 3 = 0 AS context_carried, CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved
FROM generate_series(1, 2000) g;
CREATE TABLE shop.daily AS
SELECT occurred_at::date AS day, channel_summary(channel, satisfaction) AS ratings
FROM shop.interactions GROUP BY 1;
CREATE VIEW shop.rating_by_phase AS
SELECT phase, omni_experience_rating(channel, satisfaction) AS rating FROM shop.interactions GROUP BY phase;
CREATE SCHEMA kpi;
SET client_min_messages = warning;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions');"
user_results="SELECT day, ratings::text, experience_rating(ratings) FROM shop.daily ORDER BY day;
SELECT experience_rating(rollup(ratings)) FROM shop.daily;
SELECT * FROM shop.rating_by_phase ORDER BY phase;
SELECT * FROM kpi.experience_rating_monthly ORDER BY month;
SELECT * FROM kpi.integration_index_quarterly ORDER BY quarter;
SELECT * FROM kpi.journey_funnel_monthly ORDER BY month, phase_order;"

dba=omnikpi_upgrade_dba
omnikpi_psql -d postgres -c "DROP ROLE IF EXISTS $dba" -c "CREATE ROLE $dba"

# Every version, released or current, oldest first: the update path.
# (released.sha256 lists the update scripts too: omnikpi--FROM--TO.sql)
released_versions=$(sed -nE 's|.*sql/omnikpi--([^-]+)\.sql$|\1|p' sql/released.sha256)
versions=$({ echo "$released_versions"; echo "$current"; } | sort -uV)
# update_step_by_step DB FROM: ALTER EXTENSION UPDATE TO each later version.
update_step_by_step()
{
	local version

	while read -r version; do
		omnikpi_psql -d "$1" -c "ALTER EXTENSION omnikpi UPDATE TO '$version'" </dev/null
	done < <(awk -v from="$2" 'found { print } $0 == from { found = 1 }' <<<"$versions")
	echo "$2 updated to $(omnikpi_psql -d "$1" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'omnikpi'") through $(awk -v from="$2" 'found { printf "%s%s", sep, $0; sep = ", " } $0 == from { found = 1 }' <<<"$versions")"
}

status=0
while read -r from; do
	[ "$from" != "$current" ] || continue
	db=omnikpi_from_${from//./_}
	omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	omnikpi_psql -d "$db" -q -c "CREATE EXTENSION omnikpi VERSION '$from'" -f - <<<"$user_objects" >/dev/null
	# From the version with a materialized form on, its form over the same
	# source, refreshed once by the old version.
	materialized=$(omnikpi_psql -d "$db" -At -c "SELECT bool_or('materialized' = ANY (proargnames)) FROM pg_proc WHERE proname = 'create_kpi_views'")
	if [ "$materialized" = t ]; then
		omnikpi_psql -d "$db" -q -f - <<<"CREATE SCHEMA kpi_m;
SET client_min_messages = warning;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi_m', interactions => 'shop.interactions', materialized => true);
CALL omnikpi.refresh_kpi_views('kpi_m');" >/dev/null
	fi
	before=$(omnikpi_psql -d "$db" -At -f - <<<"$user_results")
	# Every relation the old version made in kpi: its views and, from 0.2.0 on,
	# the kpi_objects record drop_kpi_views drops last.
	made=$(omnikpi_psql -d "$db" -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'kpi'::regnamespace AND relkind IN ('v', 'm', 'r')")
	update_step_by_step "$db" "$from"
	describe "$db" "$work/updated-$from.txt"
	if ! diff -u "$work/fresh.txt" "$work/updated-$from.txt"; then
		echo "FAILED: $from updated to $current differs from a fresh $current (- fresh, + updated)" >&2
		status=1
	else
		echo "$from updated to $current: the same $(wc -l <"$work/fresh.txt") objects as a fresh install"
	fi
	after=$(omnikpi_psql -d "$db" -At -f - <<<"$user_results")
	if [ -z "$before" ] || [ "$before" != "$after" ]; then
		echo "FAILED: the user's stored summaries and views give other results after the update from $from" >&2
		diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 40 >&2 || true
		status=1
	else
		echo "$from updated to $current: the user's summaries and views give the same $(wc -l <<<"$before") result lines"
	fi
	# The updated version refreshes the materialized form the old one made:
	# after a new day, a changed and a deleted row, every KPI table equals the
	# plain view again.
	if [ "$materialized" = t ]; then
		differing=$(omnikpi_psql -d "$db" -At -f - <<<"SET client_min_messages = warning;
INSERT INTO shop.interactions
SELECT customer_id, journey_id, channel, occurred_at + interval '1 day', phase, 1, effort, nps, context_carried, issue_id, resolved
FROM shop.interactions WHERE occurred_at >= (SELECT max(occurred_at) FROM shop.interactions) - interval '1 day';
UPDATE shop.interactions SET satisfaction = 5 WHERE customer_id = 3 AND occurred_at >= (SELECT max(occurred_at) FROM shop.interactions) - interval '2 days';
DELETE FROM shop.interactions WHERE customer_id = 4 AND occurred_at >= (SELECT max(occurred_at) FROM shop.interactions) - interval '2 days';
CALL omnikpi.refresh_kpi_views('kpi_m');
SELECT string_agg(relation, ', ') FROM omnikpi.kpi_view_differences('kpi', 'kpi_m') WHERE differing_rows > 0 OR NOT same_columns;")
		if [ -n "$differing" ]; then
			echo "FAILED: after the update from $from, a refresh of the materialized form it made differs from the plain views in: $differing" >&2
			status=1
		else
			echo "$from updated to $current: a refresh of the materialized form it made equals the plain views"
		fi
	fi
	# The updated version manages what the old one made.
	dropped=$(omnikpi_psql -d "$db" -At -c "SELECT count(*) FROM omnikpi.drop_kpi_views('kpi')")
	if [ "$made" -eq 0 ] || [ "$dropped" -ne "$made" ]; then
		echo "FAILED: after the update from $from, drop_kpi_views dropped $dropped relations, not the $made made before it" >&2
		status=1
	fi
	omnikpi_psql -d postgres -c "DROP DATABASE $db"

	# A DBA's privileges and comments on omnikpi's objects, set on $from.
	db=omnikpi_dba_from_${from//./_}
	omnikpi_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	omnikpi_psql -d "$db" -q -c "CREATE EXTENSION omnikpi VERSION '$from'"
	omnikpi_psql -d "$db" -v step=set -v dba="$dba" -f test/upgrade/dba_settings.sql
	update_step_by_step "$db" "$from" >/dev/null
	lost=$(omnikpi_psql -d "$db" -v step=check -v dba="$dba" -f test/upgrade/dba_settings.sql)
	if [ -n "$lost" ]; then
		echo "FAILED: after the update from $from, these objects lost what the DBA set:" >&2
		printf '  %s\n' "${lost//$'\n'/$'\n'  }" >&2
		status=1
	else
		echo "$from updated to $current: every privilege and comment the DBA set on $(omnikpi_psql -d "$db" -At -c "SELECT count(*) FROM public.dba_settings_before") objects was kept"
	fi
	omnikpi_psql -d postgres -c "DROP DATABASE $db"
done <<<"$released_versions"
omnikpi_psql -d postgres -c "DROP DATABASE omnikpi_fresh" -c "DROP ROLE $dba"
exit $status
