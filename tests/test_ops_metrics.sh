#  test_ops_metrics.sh - --http of the services as separate processes over
#  tcp on 127.0.0.1 (2 shards) and of `darkscope run` (issue 14):
#    - /metrics is valid Prometheus text (promtool check metrics, the
#      linter included) from every service, before and after data;
#    - the numbers move with the data and equal `status`: per shard and
#      sensor batches, records, gaps, packets read; the labeler's per
#      (sensor, shard) batches and records; queries counted by name;
#    - readiness: an aggregator is not ready before its labeler is up (its
#      SUB has no peer) and is once it connects; the query service is not
#      ready while a shard is down and is again once the shard restarted
#      from its checkpoint (which it reports restored, with the same
#      records); /healthz is 200 throughout;
#    - `darkscope run --serve --http` exports the same counters as status,
#      and with --log-format json every log line is a JSON object with
#      time, level, service (and shard on the aggregators' lines), message
#      and fields, of their types; the ingest's and the aggregators' end
#      counters there equal status;
#    - `darkscope query status` prints text (shards, streams, the verdict)
#      of the query service, with a shard down too, and of the labeler;
#      `--csv` one row per shard, each cell equal to `--json`;
#      the data lag (now minus the newest record's time) in status, its
#      metric and the text, the restored shard's from its checkpoint;
#    - text log lines with fields (checkpoint written, restored, ingest's
#      end counters, shard down and up) keep the form "TIME SERVICE LEVEL:
#      message" with the fields after it as key=value.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing (Debian's prometheus, deploy/install-deps.sh)"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 5 \
    --packets 300000 --days 4
P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_Q=$(free_port)
P_AGG=("$(free_port)" "$(free_port)")
H_AGG=("$(free_port)" "$(free_port)"); H_LAB=$(free_port); H_Q=$(free_port)
AGG_PID=()
start_agg () {
    "$DS_BIN/darkscope-aggregator" --shard "$1" --shards 2 --input "tcp://127.0.0.1:$P_LAB" \
        --endpoint "tcp://127.0.0.1:${P_AGG[$1]}" --checkpoint "$WORK/shard-$1.ckpt" \
        --checkpoint-interval 0 --http "127.0.0.1:${H_AGG[$1]}" 2>>"$WORK/agg-$1.log" & PIDS+=($!)
    AGG_PID[$1]=$!
}
start_agg 0; start_agg 1
"$DS_BIN/darkscope-query" --endpoint "tcp://127.0.0.1:$P_Q" --labeler "tcp://127.0.0.1:$P_CTL" \
    --shard-endpoint "tcp://127.0.0.1:${P_AGG[0]}" --shard-endpoint "tcp://127.0.0.1:${P_AGG[1]}" \
    --timeout-ms 2000 --http "127.0.0.1:$H_Q" 2>"$WORK/query.log" & PIDS+=($!)

export WORK H_AGG0=${H_AGG[0]} H_AGG1=${H_AGG[1]} H_LAB H_Q DS_BIN P_Q
#  Phase 1: no labeler yet.
$PY "$DS_SOURCE/tests/ops_metrics.py" before || fail "before the labeler (see above)"

"$DS_BIN/darkscope-labeler" --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$P_IN" \
    --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" --shards 2 \
    --http "127.0.0.1:$H_LAB" 2>"$WORK/labeler.log" & PIDS+=($!)
$PY "$DS_SOURCE/tests/ops_metrics.py" connected || fail "after the labeler connected"

"$DS_BIN/darkscope-ingest" --pcap "$WORK/m.pcap" --shards 2 --sensor 3 \
    --endpoint "tcp://127.0.0.1:$P_IN" 2>"$WORK/ingest.log" \
    || fail "ingest failed: $(cat "$WORK/ingest.log")"
$PY "$DS_SOURCE/tests/ops_metrics.py" complete || fail "after the stream (logs in $WORK)"

#  Shard 0 down: the query service is not ready; back from its checkpoint: ready.
kill -TERM "${AGG_PID[0]}"; wait "${AGG_PID[0]}" || true
$PY "$DS_SOURCE/tests/ops_metrics.py" shard-down || fail "with shard 0 down"
#  `darkscope query status` as text (no --json): the verdict, a line per
#  shard (the one down with its endpoint and why), a line per stream.
#  Asked again until every line is there (60 s): on a loaded machine (the
#  ASan suite) a shard can miss the query service's 2 s once, and shows as
#  down until its next probe.
status_text () {
    local deadline=$((SECONDS + 60)) want missing
    while :; do
        missing=
        if "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$1" status >"$WORK/status.txt" \
                2>"$WORK/status-text.err"; then
            for want in "${@:2}"; do
                grep -Eq "$want" "$WORK/status.txt" || { missing="no line /$want/"; break; }
            done
        else
            missing="query status (text) failed: $(cat "$WORK/status-text.err")"
        fi
        [ -n "$missing" ] || return 0
        [ $SECONDS -lt $deadline ] || fail "$missing in status: $(cat "$WORK/status.txt")"
        sleep 0.2
    done
}
status_text "$P_Q" '^state: incomplete$' "^0 +no +tcp://127.0.0.1:${P_AGG[0]}: .+" \
    '^1 +yes +[0-9,]+ +[0-9,]+ +20[0-9-]{8} +20[0-9-]{8} +[0-9.]+ +yes +[0-9]+ +0 ' '^1 +3 +yes +0 +[0-9,]+ +[0-9,]+ +0 '
#  `status --csv`: a header line and one row per shard, each cell the
#  shard's value in `status --json` (the shard down: its error, no counts);
#  another service's status as key,value rows.  Asked again until they
#  agree (60 s), as status_text.
status_csv () {
    local deadline=$((SECONDS + 60))
    until status_csv_once "$@" 2>"$WORK/status-csv.fail"; do
        [ $SECONDS -lt $deadline ] || fail "status --csv: $(cat "$WORK/status-csv.fail"): $(cat "$WORK/status.csv")"
        sleep 0.2
    done
}
status_csv_once () {
    "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$1" status --csv >"$WORK/status.csv" \
        2>"$WORK/status-csv.err" || { echo "query status --csv failed: $(cat "$WORK/status-csv.err")" >&2; return 1; }
    [ ! -s "$WORK/status-csv.err" ] || { echo "query status --csv said: $(cat "$WORK/status-csv.err")" >&2; return 1; }
    "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$1" status --json >"$WORK/status-csv.json" \
        || { echo "query status --json failed" >&2; return 1; }
    $PY - "$WORK/status.csv" "$WORK/status-csv.json" "$2" <<'PYEOF'
import csv, json, re, sys
rows = list(csv.reader(open(sys.argv[1])))
st = json.load(open(sys.argv[2]))
def fail(why):
    print('FAIL:', why, file=sys.stderr); sys.exit(1)
if sys.argv[3] == 'labeler':
    if rows[0] != ['key', 'value'] or ['tables.generation', '1'] not in rows or ['gaps', '0'] not in rows:
        fail(f'labeler rows {rows[:3]}...')
    sys.exit(0)
cols = ['shard', 'endpoint', 'ok', 'error', 'records', 'sources', 'first_day', 'last_day', 'memory_bytes',
        'eos_all', 'sensors', 'gaps', 'checkpoints_written', 'checkpoints_failed', 'last_checkpoint',
        'checkpoint_error', 'rejected', 'refused_connections']
if rows[0] != cols or len(rows) != 1 + len(st['shards']):
    fail(f'header {rows[0]}, {len(rows) - 1} rows for {len(st["shards"])} shards')
def text(v):
    return '' if v is None else 'true' if v is True else 'false' if v is False else str(v)
for row, sh in zip(rows[1:], st['shards']):
    got = dict(zip(cols, row))
    s = sh.get('status', {})
    store, ck = s.get('store', {}), s.get('checkpoints', {})
    want = {'shard': sh['shard'], 'endpoint': sh['endpoint'], 'ok': sh['ok'], 'error': sh.get('error'),
            'checkpoints_written': ck.get('written'), 'checkpoints_failed': ck.get('failed'),
            'last_checkpoint': ck.get('last_ok'), 'checkpoint_error': ck.get('last_error'),
            'rejected': s.get('rejected'), 'refused_connections': s.get('refused_connections')}
    for k in ('records', 'sources', 'first_day', 'last_day', 'memory_bytes', 'eos_all'):
        want[k] = store.get(k)
    if 'sensors' in store:
        want['sensors'] = len(store['sensors'])
        want['gaps'] = sum(x['gaps'] for x in store['sensors'])
    #  (two requests: a down shard's error says how long ago it was seen)
    ago = lambda t: re.sub(r'[0-9.]+ s ago', 'N s ago', t)
    for k in cols:
        if k != 'memory_bytes' and ago(got[k]) != ago(text(want.get(k))):
            fail(f'shard {sh["shard"]} {k}: csv {got[k]!r}, json {want.get(k)!r}')
    if sh['ok'] and not (0 < int(got['memory_bytes']) < 1 << 40):
        fail(f'shard {sh["shard"]} memory_bytes {got["memory_bytes"]!r}')
    if not sh['ok'] and (not got['error'] or got['records']):
        fail(f'shard {sh["shard"]} is down: wants its error and no counts, got {got}')
want_ok = sys.argv[3].split(',')
if [r[2] for r in rows[1:]] != want_ok:
    fail(f'ok column {[r[2] for r in rows[1:]]}, want {want_ok}')
PYEOF
}
status_csv "$P_Q" false,true
start_agg 0
$PY "$DS_SOURCE/tests/ops_metrics.py" restored || fail "after shard 0 restarted"
status_text "$P_Q" '^state: complete$' '^shard +ok +records +sources ' '^0 +yes +[0-9,]+ ' '^1 +yes +[0-9,]+ ' \
    '^shard +sensor +eos +epoch +batches +records +gaps .* lag_ms +data_lag$' '^0 +3 +yes +0 +[0-9,]+ +[0-9,]+ +0 .* [0-9,]+\.[0-9] d$' \
    '^1 +3 +yes +0 +[0-9,]+ +[0-9,]+ +0 .* [0-9,]+\.[0-9] d$'
status_text "$P_CTL" '^service: labeler$' '^tables.generation: 1$' '^gaps: 0$'
status_csv "$P_Q" true,true
status_csv "$P_CTL" labeler

#  Text log lines keep their shape, "TIME SERVICE LEVEL: message", the
#  event's fields after it as key=value.
T='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
N='[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?'
text_line () {
    grep -Eq "$2" "$WORK/$1" || fail "no line /$2/ in $1: $(cat "$WORK/$1")"
}
text_line agg-0.log "$T aggregator info: shard 0: checkpoint written path=$WORK/shard-0.ckpt records=[0-9]+ ms=$N pause_ms=$N written=[0-9]+\$"
text_line agg-0.log "$T aggregator info: shard 0: restored $WORK/shard-0.ckpt path=$WORK/shard-0.ckpt records=[0-9]+ sources=[0-9]+\$"
text_line query.log "$T query warning: shard 0 \\(tcp://127.0.0.1:${P_AGG[0]}\\) is down: .* shard=0 endpoint=tcp://127.0.0.1:${P_AGG[0]} reason=\"[^\"]+\" probe_ms=[0-9]+\$"
text_line query.log "$T query info: shard 0 \\(tcp://127.0.0.1:${P_AGG[0]}\\) answers again after $N s down shard=0 endpoint=tcp://127.0.0.1:${P_AGG[0]} down_s=$N\$"
text_line ingest.log "$T ingest info: [0-9]+ packets read in $N s \\($N/s\\) packets_read=[0-9]+ records=[0-9]+ batches=[0-9]+ .* cpu_s=$N links=\"[A-Za-z0-9_]+ [0-9]+\"\$"

#  The embedded pipeline.
H_RUN=$(free_port); P_RUN=$(free_port)
"$DS_BIN/darkscope" run --log-format json --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --endpoint "tcp://127.0.0.1:$P_RUN" --serve --http "127.0.0.1:$H_RUN" 2>"$WORK/run.log" & PIDS+=($!)
export H_RUN P_RUN
$PY "$DS_SOURCE/tests/ops_metrics.py" run || fail "darkscope run --http"
echo "6 passed, 0 failed"
