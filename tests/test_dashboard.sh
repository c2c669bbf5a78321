#  test_dashboard.sh - the live dashboard of `darkscope run --serve --http`
#  (the query service's own, services/query/dashboard.c) in a real headless
#  Chromium (Debian's): the page loads its charting library from darkscope
#  itself (no network), asks /api/status, /api/overview and /api/pattern,
#  and every panel is drawn with data (each marks data-points="N"): the
#  dataset, filter and classes tables, port ranking, sender ECDF, distinct
#  sources per day, class x service heatmap and the activity-pattern raster.
#  The numbers shown are the overview's; the state badge says "complete";
#  no script error.  Also the /api answers mirror the query protocol: the
#  overview equals `darkscope query overview --json`, bad arguments give
#  {"ok":false} with HTTP 400.  DS_SCREENSHOT_OUT=FILE keeps the screenshot
#  (deploy/dashboard-screenshot.png was made so).
source "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || true)
[ -n "$browser" ] || fail "chromium missing (Debian's chromium, deploy/install-deps.sh)"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 7 \
    --packets 200000 --days 4
H=$(free_port); P=$(free_port)
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --endpoint "tcp://127.0.0.1:$P" --serve --http "127.0.0.1:$H" 2>"$WORK/run.log" & PIDS+=($!)
export H P WORK DS_BIN BROWSER=$browser
$PY - <<'PYEOF' || fail "dashboard (run log: $(tail -5 "$WORK/run.log"))"
import html.parser, json, os, subprocess, sys, time, urllib.error, urllib.request
E = os.environ
base = f'http://127.0.0.1:{E["H"]}'

def fail(why):
    print('FAIL:', why, file=sys.stderr); sys.exit(1)

def get(path):
    try:
        with urllib.request.urlopen(base + path, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

deadline = time.monotonic() + 60
while True:
    try:
        code, body = get('/api/status')
        if code == 200 and json.loads(body)['result']['complete']:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        fail('run not complete within 60 s')
    time.sleep(0.1)

#  The API mirrors the protocol.
cli = subprocess.run([f'{E["DS_BIN"]}/darkscope', 'query', '--endpoint', f'tcp://127.0.0.1:{E["P"]}',
                      'overview', '--json'], capture_output=True, text=True, check=True).stdout
code, body = get('/api/overview')
if code != 200 or json.loads(body)['result'] != json.loads(cli):
    fail('/api/overview differs from darkscope query overview --json')
code, body = get('/api/overview?first_day=yesterday')
if code != 400 or json.loads(body)['ok'] is not False:
    fail(f'a bad day: HTTP {code} {body}')
code, body = get('/api/pattern?width=16&height=8&limit=0')
pat = json.loads(body)['result']
if sum(map(sum, pat['raster_cells'])) != pat['points'] or len(pat['raster_cells']) != 8:
    fail('pattern raster cells do not add up to its points')
overview = json.loads(cli)

#  The page in a real browser.
profile = os.path.join(E['WORK'], 'profile')
flags = [E['BROWSER'], '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         f'--user-data-dir={profile}', '--window-size=1400,2000', '--virtual-time-budget=15000']
dom = subprocess.run(flags + ['--dump-dom', base + '/'], capture_output=True, text=True, timeout=120).stdout

class Panels(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.points = {}; self.body = {}; self.state = ''; self.in_state = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'data-points' in a: self.points[a.get('id')] = int(a['data-points'])
        if tag == 'body': self.body = a
        self.in_state = a.get('id') == 'state'
    def handle_data(self, data):
        if self.in_state: self.state += data
p = Panels(); p.feed(dom)
if 'data-error' in p.body:
    fail(f'script error in the page: {p.body["data-error"]}')
want = {'dataset': 5, 'filter': 10, 'classes': len(overview['classes']),
        'chart-ports': min(5000, len(overview['port_ranking'])), 'chart-ecdf': len(overview['sender_ecdf']),
        'chart-daily': len(overview['daily']), 'chart-heatmap': sum(map(len, overview['heatmap']['fraction'])),
        'chart-pattern': 1}
for panel, n in want.items():
    got = p.points.get(panel, 0)
    if got < n if panel == 'chart-pattern' else got != n:
        fail(f'panel {panel}: {got} points drawn, want {n} (panels: {p.points})')
if 'complete' not in p.state:
    fail(f'state badge says {p.state!r}')
sources = f'{overview["dataset"]["window"]["sources"]:,}'
if sources not in dom:
    fail(f'the window sources {sources} are not shown')
shot = os.path.join(E['WORK'], 'dashboard.png')
subprocess.run(flags + [f'--screenshot={shot}', base + '/'], capture_output=True, timeout=120)
if os.path.getsize(shot) < 50000:
    fail('the screenshot is (nearly) empty')
if E.get('DS_SCREENSHOT_OUT'):
    import shutil; shutil.copy(shot, E['DS_SCREENSHOT_OUT'])
PYEOF
echo "1 passed, 0 failed"
