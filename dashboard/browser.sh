# shellcheck shell=bash
#
# dashboard/browser.sh: headless Chromium (Debian's chromium) for the
# dashboard's screenshot (dashboard/build.sh) and its test
# (test/suites/dashboard.sh).  Source it after test/cluster.sh.
#
#   omnikpi_chromium_dom URL            print the page's DOM once its scripts have run
#   omnikpi_chromium_screenshot URL PNG save a 1280-pixel-wide screenshot of the page
#
# Each call starts a fresh browser with a throw-away profile that reaches for
# nothing on the network by itself (no component updates, sync, QUIC or
# background requests), so it behaves the same offline.  The virtual time
# budget lets the page load its data and draw its charts before the DOM or
# the screenshot is taken.

omnikpi_chromium()
{
	local profile status=0

	omnikpi_ensure_packages chromium fonts-liberation
	profile=$(mktemp -d)
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --virtual-time-budget=20000 "$@" 2>>"$profile.log" || status=$?
	if [ "$status" -ne 0 ]; then
		cat "$profile.log" >&2
	fi
	rm -rf "$profile" "$profile.log"
	return "$status"
}

omnikpi_chromium_dom()
{
	omnikpi_chromium --dump-dom "$1"
}

omnikpi_chromium_screenshot()
{
	omnikpi_chromium --hide-scrollbars --window-size=1280,980 --screenshot="$2" "$1" >/dev/null
}
