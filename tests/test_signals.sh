#  test_signals.sh - signals never end a service's loops (DESIGN §12:
#  actor threads block signals; an interrupted wait is repeated).
#
#  The services run as separate processes over tcp on 127.0.0.1 (2 shards).
#  Each of the aggregators, the query service and the labeler gets 1,000
#  SIGHUPs while idle, then 1,000 more while the stream flows (for the
#  labeler SIGHUP means "reload": its reloads are coalesced and its tables
#  are unchanged).  Then:
#    - the stream completes on every shard and every process still answers;
#    - the overview is byte-identical to the one of `darkscope run` on the
#      same capture;
#    - the labeler reloaded at least once and is still at the same tables;
#    - SIGTERM still stops every service with exit status 0.
#  Before the fix, czmq's poller reported the EINTR of a signal as
#  "terminated" and the aggregator and query loops ended while their
#  processes lived on.
source "$(dirname "$0")/lib.sh"

SHARDS=2
"$DS_BIN/darkscope" gen --quiet --out "$WORK/month.pcap" --gt-out "$WORK/gt.csv" \
    --seed 3 --packets 1500000 --days 5
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/month.pcap" --gt "$WORK/gt.csv" --shards $SHARDS \
    --json "$WORK/embedded.json" || fail "darkscope run failed"

P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_Q=$(free_port)
P_AGG=("$(free_port)" "$(free_port)")
QUERY="tcp://127.0.0.1:$P_Q"
SERVICES=()
for k in 0 1; do
    "$DS_BIN/darkscope-aggregator" --quiet --shard "$k" --shards $SHARDS \
        --input "tcp://127.0.0.1:$P_LAB" --endpoint "tcp://127.0.0.1:${P_AGG[$k]}" \
        2>>"$WORK/agg-$k.log" & PIDS+=($!); SERVICES+=($!)
done
"$DS_BIN/darkscope-query" --quiet --endpoint "$QUERY" --labeler "tcp://127.0.0.1:$P_CTL" \
    --shard-endpoint "tcp://127.0.0.1:${P_AGG[0]}" --shard-endpoint "tcp://127.0.0.1:${P_AGG[1]}" \
    2>>"$WORK/query.log" & PIDS+=($!); SERVICES+=($!)
"$DS_BIN/darkscope-labeler" --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$P_IN" \
    --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" --shards $SHARDS \
    2>>"$WORK/labeler.log" & PIDS+=($!); SERVICES+=($!)

#  status_check EXPR: the query service's status `s` satisfies EXPR.
status_check () {
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 2000 \
        >"$WORK/status.json" 2>/dev/null || return 1
    $PY -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$WORK/status.json" "$1"
}
wait_for () {
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        status_check "$2" && return 0
        sleep 0.1
    done
    cat "$WORK/status.json" "$WORK"/*.log >&2 || true
    fail "timed out waiting for: $1"
}
#  signal_all N: N SIGHUPs to every service, interleaved.
signal_all () {
    $PY - "$1" "${SERVICES[@]}" <<'PYEOF'
import os, signal, sys
n, pids = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
for _ in range(n):
    for p in pids:
        os.kill(p, signal.SIGHUP)
PYEOF
}

wait_for "every shard to answer" 'all(sh.get("ok") for sh in s["shards"])'
signal_all 1000
wait_for "every shard to answer after 1,000 signals while idle" 'all(sh.get("ok") for sh in s["shards"])'
echo "ok: 1,000 SIGHUPs to each idle service, all still answering"

"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/month.pcap" --shards $SHARDS --batch 512 \
    --endpoint "tcp://127.0.0.1:$P_IN" & ING=$!; PIDS+=($ING)
signal_all 1000
wait $ING || fail "ingest failed"
wait_for "the stream to complete on every shard" 's["complete"]'
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/signalled.json" \
    || fail "overview query failed"
cmp "$WORK/embedded.json" "$WORK/signalled.json" \
    || { $PY "$REF/compare.py" "$WORK/embedded.json" "$WORK/signalled.json"; \
         fail "the overview after 2,000 signals differs from darkscope run's"; }
echo "ok: 1,000 more SIGHUPs to each while the stream flowed: complete, overview == darkscope run"

"$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$P_CTL" status --json > "$WORK/labeler.json" \
    || fail "labeler status failed"
$PY - "$WORK/labeler.json" <<'PYEOF' || fail "labeler reloads: $(cat "$WORK/labeler.json")"
import json, sys
t = json.load(open(sys.argv[1]))["tables"]
assert t["generation"] >= 2 and t["last_reload"]["result"] == "ok", t
PYEOF
for p in "${SERVICES[@]}"; do
    kill -TERM "$p"
    wait "$p" || fail "service $p did not exit 0 on SIGTERM after the signals"
done
echo "3 passed, 0 failed"
