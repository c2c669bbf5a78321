#!/usr/bin/env bash
#  Renders a darkscope report (DIR/index.html) to a PNG with headless
#  Chromium, the way the report's layout is checked: offline, from disk,
#  no network, a throw-away profile.
#  Usage: bash deploy/report-screenshot.sh REPORT_DIR [OUT.png] [HEIGHT]
#  Needs Debian's chromium (apt-get install -y chromium).
set -euo pipefail
dir=${1:?usage: report-screenshot.sh REPORT_DIR [OUT.png] [HEIGHT]}
out=${2:-$dir/screenshot.png}
height=${3:-4000}
[ -f "$dir/index.html" ] || { echo "report-screenshot: no $dir/index.html" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "report-screenshot: chromium not found (apt-get install -y chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
page="file://$(cd "$dir" && pwd)/index.html"
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --screenshot="$out" --window-size=1280,"$height" "$page" >/dev/null 2>&1
[ -s "$out" ] || { echo "report-screenshot: chromium wrote no $out" >&2; exit 1; }
echo "$out"
