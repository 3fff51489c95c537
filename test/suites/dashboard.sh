#!/usr/bin/env bash
#
# dashboard.sh: the demo and the dashboard end to end, as a user runs them.
# In test/run.sh's cluster (the server the PG* variables name):
#   1. `make demo`'s script (demo/run.sh) makes a small demo database and its
#      BI role, which may read none of the raw rows; what it prints must be
#      its report and the connection details only, nothing of what it ran on
#      the way;
#   2. `make dashboard`'s script (dashboard/build.sh) installs the dashboard's
#      npm packages, builds it reading the KPI views as the BI role, serves it;
#   3. headless Chromium opens every page, and each headline number on them
#      (the elements marked data-kpi) must equal the same number computed by
#      SQL over the views, formatted alike;
#   4. a screenshot of the overview is saved outside the source tree
#      (OMNIKPI_DASHBOARD_SCREENSHOT, default /tmp/omnikpi-dashboard-test.png).
# It prints how long the npm install and the build took.

set -euo pipefail
# shellcheck source=test/cluster.sh
. test/cluster.sh
# shellcheck source=dashboard/browser.sh
. dashboard/browser.sh

started=$(date +%s)
work=$(mktemp -d)
demo_dir=$work/demo
screenshot=${OMNIKPI_DASHBOARD_SCREENSHOT:-/tmp/omnikpi-dashboard-test.png}
kpi=omnikpi_kpi

cleanup()
{
	if [ -f "$demo_dir/dashboard/serve.pid" ]; then
		kill "$(cat "$demo_dir/dashboard/serve.pid")" 2>/dev/null || true
	fi
	omnikpi_psql -d postgres -c 'SET client_min_messages = warning' \
		-c 'DROP DATABASE IF EXISTS omnikpi_demo WITH (FORCE)' -c 'DROP ROLE IF EXISTS omnikpi_bi' || true
	rm -rf "$work"
}
trap cleanup EXIT

fail()
{
	echo "FAILED: $*" >&2
	exit 1
}

# --- 1. the demo ------------------------------------------------------------------
t0=$(date +%s)
if ! OMNIKPI_DEMO_DIR=$demo_dir INTERACTIONS=${OMNIKPI_DASHBOARD_INTERACTIONS:-30000} OMNIKPI_SKIP_BUILD=1 \
	bash demo/run.sh >"$work/demo.out" 2>"$work/demo.err"; then
	cat "$work/demo.out" "$work/demo.err"
	fail "demo/run.sh failed"
fi
echo "demo/run.sh: $(($(date +%s) - t0)) s"
[ ! -s "$work/demo.err" ] || fail "demo/run.sh wrote to stderr: $(cat "$work/demo.err")"
grep -q 'omnikpi demo report:' "$work/demo.out" || fail "no report in the demo's output"
grep -q 'user omnikpi_bi, password ' "$work/demo.out" || fail "no BI connection details in the demo's output"
grep -q 'What to notice' "$work/demo.out" || fail "no attribution notes in the demo's report"
# What the demo ran on the way (steps, view creation, compiler) belongs in its log.
if grep -nE '^== |^make(\[[0-9]+\])?:|gcc|CREATE|view_name' "$work/demo.out"; then
	fail "the demo's output holds more than its report and the connection details"
fi
grep -q '== creating the KPI views' "$demo_dir/demo.log" || fail "the demo's log lacks its steps"
# The BI role reads the materialized KPI views, and none of the raw rows.
raw_readable=$(omnikpi_psql -d omnikpi_demo -At -c "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c
	WHERE c.relnamespace = 'omnikpi_demo'::regnamespace AND has_table_privilege('omnikpi_bi', c.oid, 'SELECT')")
[ -z "$raw_readable" ] || fail "the BI role may read the raw rows of $raw_readable"

# --- 2. the dashboard -----------------------------------------------------------------
t0=$(date +%s)
if ! OMNIKPI_DEMO_DIR=$demo_dir bash dashboard/build.sh >"$work/dashboard.out" 2>"$work/dashboard.err"; then
	cat "$work/dashboard.out" "$work/dashboard.err"
	fail "dashboard/build.sh failed"
fi
echo "dashboard/build.sh: $(($(date +%s) - t0)) s ($(grep -E '^(npm install|observable build):' "$demo_dir/dashboard/build.log" | tr '\n' ' '))"
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/dashboard.out") || fail "no address in: $(cat "$work/dashboard.out")"

# --- 3. the headline numbers, page by page -----------------------------------------------
# sql VALUE_QUERY: the number, as psql prints a float8 (shortest exact form).
sql()
{
	omnikpi_psql -d omnikpi_demo -At -c "SET search_path = $kpi" -c "$1"
}
# fixed NUMBER DIGITS: as the pages write it (JavaScript's toFixed).
fixed()
{
	node -p "Number(process.argv[1]).toFixed(Number(process.argv[2]))" "$1" "$2"
}

recent_months="(SELECT month FROM (SELECT month FROM attribution_by_channel_monthly UNION SELECT month FROM attribution_markov_monthly
	UNION SELECT month FROM attribution_shapley_monthly UNION SELECT month FROM attribution_fractribution_monthly) m
	ORDER BY month DESC LIMIT 3)"
declare -A expected=(
	[rating_latest]=$(fixed "$(sql "SELECT rating_pct FROM experience_rating_monthly ORDER BY month DESC LIMIT 1")" 1)
	[integration_latest]=$(fixed "$(sql "SELECT integration_index FROM integration_index_quarterly ORDER BY quarter DESC LIMIT 1")" 1)
	[months_on_target]=$(sql "SELECT count(*) FILTER (WHERE rating_pct >= target_pct) FROM experience_rating_monthly")
	[nps_latest]=$(fixed "$(sql "SELECT sum((promoters_pct - detractors_pct) * nps_responses) / sum(nps_responses)
		FROM satisfaction_by_channel_monthly WHERE month = (SELECT max(month) FROM satisfaction_by_channel_monthly)")" 1)
	[csat_latest]=$(fixed "$(sql "SELECT sum(csat_mean * csat_responses) / sum(csat_responses)
		FROM satisfaction_by_channel_monthly WHERE month = (SELECT max(month) FROM satisfaction_by_channel_monthly)")" 2)
	[best_channel_rating]=$(fixed "$(sql "SELECT max(rating_pct) FROM experience_rating_by_channel_monthly
		WHERE month = (SELECT max(month) FROM experience_rating_by_channel_monthly)")" 1)
	[worst_channel_rating]=$(fixed "$(sql "SELECT min(rating_pct) FROM experience_rating_by_channel_monthly
		WHERE month = (SELECT max(month) FROM experience_rating_by_channel_monthly)")" 1)
	[markov_top_gain]=$(fixed "$(sql "WITH markov AS (SELECT channel, sum(attributed_conversions) AS credit FROM attribution_markov_monthly
			WHERE month IN $recent_months GROUP BY channel),
		last_touch AS (SELECT channel, sum(attributed_conversions) AS credit FROM attribution_by_channel_monthly
			WHERE model = 'last_touch' AND month IN $recent_months GROUP BY channel)
		SELECT m.credit FROM markov m JOIN last_touch l USING (channel) WHERE l.credit > 0
		ORDER BY m.credit / l.credit DESC LIMIT 1")" 0)
	[decision_reached]=$(fixed "$(sql "SELECT reached_pct FROM journey_funnel_monthly
		WHERE phase = 'decision' AND month = (SELECT max(month) FROM journey_funnel_monthly)")" 1)
	[bopis_share_latest]=$(fixed "$(sql "SELECT 100.0 * sum(bopis_orders) / sum(orders) FROM fulfillment_by_channel_monthly
		WHERE month = (SELECT max(month) FROM fulfillment_by_channel_monthly)")" 1)
)

declare -A pages=(
	[index]="rating_latest integration_latest months_on_target nps_latest"
	[experience-rating]="rating_latest"
	[integration]="integration_latest"
	[channels]="best_channel_rating worst_channel_rating"
	[satisfaction]="csat_latest nps_latest"
	[attribution]="markov_top_gain"
	[journeys]="decision_reached"
	[fulfillment]="bopis_share_latest"
)
checked=0
pages_started=$(date +%s)
# The first number on the page marked data-kpi=name; nothing when there is none.
shown()
{
	grep -o "data-kpi=\"$1\">[^<]*" "$work/page.html" | head -n 1 | sed 's/.*>//' || true
}
for page in "${!pages[@]}"; do
	path=${page/#index/}
	# A page draws its numbers once its data has loaded, and a browser slowed
	# by the rest of make test can end its time budget before (a number shown
	# empty): a page that differs from SQL is read again, three times at most.
	for attempt in 1 2 3; do
		omnikpi_chromium_dom "$url$path" >"$work/page.html" || fail "chromium could not open $url$path"
		differs=
		for name in ${pages[$page]}; do
			if [ "$(shown "$name")" != "${expected[$name]}" ]; then
				differs="$name = '$(shown "$name")'; SQL over the views gives '${expected[$name]}'"
				break
			fi
		done
		[ -n "$differs" ] || break
		echo "page /$path, read $attempt: $differs"
	done
	[ -z "$differs" ] || fail "page /$path shows $differs"
	for name in ${pages[$page]}; do
		echo "ok: /$path $name = $(shown "$name")"
		checked=$((checked + 1))
	done
done
[ "$checked" -ge 12 ] || fail "only $checked numbers checked"

# --- 4. the screenshot -----------------------------------------------------------------------
omnikpi_chromium_screenshot "$url" "$screenshot"
[ -s "$screenshot" ] || fail "no screenshot in $screenshot"
echo "screenshot of the overview: $screenshot"
echo "dashboard suite: $(($(date +%s) - started)) s in all (pages in Chromium: $(($(date +%s) - pages_started)) s)"
