#!/usr/bin/env bash
# Renders an HTML report in headless Chromium, takes a screenshot and fails if
# the page attempts any network request (anything but file: and data: URLs).
#
#   scripts/check-html.sh FILE [SCREENSHOT.png]
#
# Every host resolves to nothing (--host-resolver-rules), so a request cannot
# leave the machine; the net log records each URL the page asked for.
# Install Chromium with `apt-get install -y chromium` if it is absent.
set -euo pipefail

file=${1:?usage: scripts/check-html.sh FILE [SCREENSHOT.png]}
[ -f "$file" ] || { echo "check-html: no file \`$file\`" >&2; exit 2; }
shot=${2:-${file%.*}.png}
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "check-html: \`$chromium\` not found (apt-get install -y chromium)" >&2; exit 2; }

abs=$(realpath "$file")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
netlog=$work/netlog.json

"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-default-apps --disable-extensions --no-default-browser-check \
  --user-data-dir="$work/profile" \
  --host-resolver-rules="MAP * ~NOTFOUND" \
  --log-net-log="$netlog" --net-log-capture-mode=Everything \
  --window-size=1280,2000 --screenshot="$shot" \
  "file://$abs" >"$work/stdout" 2>"$work/stderr" || {
    echo "check-html: chromium failed:" >&2; cat "$work/stderr" >&2; exit 2; }

[ -s "$shot" ] || { echo "check-html: no screenshot written" >&2; exit 2; }
[ -s "$netlog" ] || { echo "check-html: no net log written" >&2; exit 2; }
echo "check-html: screenshot $shot"

# Requests in the net log. The page's own requests carry its origin as
# initiator (`null` for a file: page); Chromium's background requests
# (update checks, account probes) carry "not an origin" and are only listed.
# Any page request to a URL other than file: or data: fails the check.
python3 - "$netlog" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
try:
    log = json.loads(text)
except ValueError:
    # Chromium may leave the log unterminated when it exits.
    log = json.loads(text.rstrip().rstrip(",") + "]}")
types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
page, browser = set(), set()
for e in log.get("events", []):
    p = e.get("params") or {}
    if types.get(e.get("type")) != "URL_REQUEST_START_JOB" or "url" not in p:
        continue
    url = p["url"]
    if url.startswith(("file:", "data:", "about:", "chrome:")):
        continue
    (browser if p.get("initiator") == "not an origin" else page).add(url)
for u in sorted(browser):
    print(f"check-html: (browser background request, not the page: {u.split('?')[0]})")
if page:
    print("check-html: the page attempted network requests:", file=sys.stderr)
    for u in sorted(page):
        print(f"  {u}", file=sys.stderr)
    sys.exit(1)
print("check-html: the page made no network request")
PY
