#!/bin/sh
# Loads generated flame graphs in headless Chromium. Each page, opened with
# #selftest, hovers a frame (tooltip), clicks it (it must then span the full
# width), searches its name (matches highlighted, share shown), rejects a bad
# regex, flips to icicle and switches trees, then writes SELFTEST PASS or
# SELFTEST FAIL into the DOM, which --dump-dom prints. Uncaught errors fail
# the test too. Screenshots are left in OUTDIR for a human to look at.
# Usage: flamegraph_browser.sh SMOLDER VIZ_GENPROFILE GO_FIXTURE OUTDIR
set -u
smolder=$1 gen=$2 go_fixture=$3 out=$4

browser=""
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	echo "flamegraph_browser: chromium not found; install it with scripts/install-deps.sh test (skipping)"
	exit 77
fi

mkdir -p "$out" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

chrome() {
	profile_dir=$(mktemp -d "$tmp/chrome.XXXXXX")
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile_dir" \
		--enable-logging=stderr --v=0 --virtual-time-budget=5000 --window-size=1400,900 "$@"
}

check_page() {
	name=$1 page=$2
	chrome --dump-dom "file://$page#selftest" >"$tmp/$name.dom" 2>"$tmp/$name.log"
	result=$(sed -n 's/.*<pre id="selftest">\([^<]*\)<.*/\1/p' "$tmp/$name.dom")
	if [ "$result" != "SELFTEST PASS" ]; then
		echo "flamegraph_browser: $name: ${result:-no self-test result in the DOM}" >&2
		fail=1
	fi
	if grep -E 'CONSOLE.*(Uncaught|Error)' "$tmp/$name.log" >&2; then
		echo "flamegraph_browser: $name: console errors (above)" >&2
		fail=1
	fi
	chrome --screenshot="$out/$name.png" "file://$page#selftest" >/dev/null 2>&1
	echo "flamegraph_browser: $name: ${result:-none}; screenshot $out/$name.png"
}

"$gen" "$tmp/base.pb.gz" 20000 5000 base && "$gen" "$tmp/new.pb.gz" 24000 5000 new || exit 1
"$smolder" flamegraph -o "$tmp/flame.html" "$tmp/new.pb.gz" || exit 1
"$smolder" diff -o "$tmp/diff.html" "$tmp/base.pb.gz" "$tmp/new.pb.gz" >/dev/null || exit 1
"$smolder" flamegraph -o "$tmp/go.html" "$go_fixture" || exit 1
if grep -l '<script src\|<link \|https\?://' "$tmp/flame.html" "$tmp/diff.html"; then
	echo "flamegraph_browser: pages must not load anything from outside" >&2
	fail=1
fi
check_page flamegraph "$tmp/flame.html"
check_page diff "$tmp/diff.html"
check_page go "$tmp/go.html"
exit $fail
