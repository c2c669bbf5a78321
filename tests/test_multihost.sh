#  test_multihost.sh - the pipeline across "hosts": six network namespaces
#  on a private bridge this test creates (two sensors, labeler, two
#  aggregator shards, query), each on its own address of 198.18.N.0/24 (the
#  RFC 2544 benchmark range; the bridge has no address in the host's
#  namespace, so nothing leaves the namespaces made here, and loopback is
#  not used between services).  CURVE on every link (DESIGN §11): each
#  service has its own certificate (darkscope keygen), trusts only its
#  clients' certificates, and names its servers' certificates with their
#  endpoints (ENDPOINT@SERVER.cert, in comma lists).  Then:
#    1. the overview equals `darkscope run` on the same files byte for byte;
#    2. a SUB with an unknown key and a plaintext REQ get nothing, and the
#       refusals are logged (address and key) and counted;
#    3. kill -9 of the labeler mid-stream: the ingests report batches sent
#       to nobody (exit non-zero), status says "incomplete: no end of
#       stream from sensors 0 and 1", replay_sensors [0, 1]; the labeler
#       restarted and both sensors replayed, complete and byte-identical;
#    4. kill -9 of shard 1 mid-stream (and kept down to the end of the
#       stream): restarted, it learns from the labeler what it missed
#       (gaps, ends of stream), status says "incomplete" naming the sensors;
#       their replay makes it complete and byte-identical.
#  Skips (77) only when network namespaces cannot be made here (not root,
#  no `ip`, no permission), saying so.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to create network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip(8) (iproute2) to create network namespaces"; exit 77; }
TAG=$$
NS=(s0 s1 lab agg0 agg1 q)
BR="dsbr$TAG"
NET="198.18.$((TAG % 250)).0"
declare -A IP
created=()
teardown () {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in "${created[@]}"; do ip netns del "ds$TAG-$n" 2>/dev/null || true; done
    ip link del "$BR" 2>/dev/null || true
    [ -n "${DS_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap teardown EXIT
if ! ip netns add "ds$TAG-probe" 2>"$WORK/ns.err"; then
    echo "SKIP: cannot create a network namespace here: $(cat "$WORK/ns.err")"; exit 77
fi
ip netns del "ds$TAG-probe"
ip link add "$BR" type bridge || fail "cannot create the test bridge $BR"
#  Bridged frames must not go through the host's iptables (a FORWARD DROP
#  policy, e.g. Docker's, would drop them when br_netfilter is loaded).
ip link set "$BR" type bridge nf_call_iptables 0 2>/dev/null || true
ip link set "$BR" up
i=1
for n in "${NS[@]}"; do
    ns="ds$TAG-$n"
    ip netns add "$ns"; created+=("$n")
    ip link add "v$TAG$n" type veth peer name eth0 netns "$ns"
    ip link set "v$TAG$n" master "$BR" up
    IP[$n]="${NET%.0}.$i"
    ip -n "$ns" addr add "${IP[$n]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up          #  delivery to the namespace's own address
    #  Small TCP buffers, so that a stalled consumer stalls the stream
    #  within a few hundred kB (what "mid-stream" below relies on).
    ip netns exec "$ns" sh -c 'echo "4096 32768 65536" > /proc/sys/net/ipv4/tcp_rmem;
                               echo "4096 32768 65536" > /proc/sys/net/ipv4/tcp_wmem'
    i=$((i + 1))
done
#  (Services start as `ip netns exec ... &` so that $! is the service
#  itself: ip execs it in the namespace.)
in_ns () { local n=$1; shift; ip netns exec "ds$TAG-$n" "$@"; }

#  Input: two sensors' captures and their ground truth; the embedded run
#  on the same files is the reference.
"$DS_BIN/darkscope" gen --quiet --out "$WORK/a.pcap" --gt-out "$WORK/a.csv" --seed 21 --packets 400000 --days 3
"$DS_BIN/darkscope" gen --quiet --out "$WORK/b.pcap" --gt-out "$WORK/b.csv" --seed 22 --packets 400000 --days 3
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/a.pcap" --pcap "$WORK/b.pcap" --gt "$WORK/a.csv" \
    --gt "$WORK/b.csv" --shards 2 --json "$WORK/embedded.json" || fail "darkscope run failed"

#  Certificates: one per service and one for the client; each bound socket
#  trusts only its clients.
C="$WORK/certs"; mkdir -p "$C" "$WORK/trust-ingest" "$WORK/trust-lab" "$WORK/trust-agg" "$WORK/trust-q"
for n in "${NS[@]}" client; do "$DS_BIN/darkscope" keygen "$n" --dir "$C" 2>/dev/null; done
cp "$C/lab.cert" "$WORK/trust-ingest/"
cp "$C/agg0.cert" "$C/agg1.cert" "$C/q.cert" "$WORK/trust-lab/"
cp "$C/q.cert" "$WORK/trust-agg/"
cp "$C/client.cert" "$WORK/trust-q/"
#  The unknown key: a certificate nobody trusts.
"$DS_BIN/darkscope" keygen stranger --dir "$WORK" 2>/dev/null

declare -A PID
ingest () {      #  ingest K: sensor K's input, in the background
    ip netns exec "ds$TAG-s$1" "$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/$([ "$1" = 0 ] && echo a || echo b).pcap" \
        --shards 2 --sensor "$1" --batch 256 --wait 60 --endpoint "tcp://${IP[s$1]}:5550" \
        --http "${IP[s$1]}:9100" \
        --cert "$C/s$1.cert_secret" --trust "$WORK/trust-ingest" 2>>"$WORK/ingest-$1.log" &
    PID[s$1]=$!; PIDS+=($!)
}
labeler () {
    ip netns exec "ds$TAG-lab" "$DS_BIN/darkscope-labeler" --gt "$WORK/a.csv" --gt "$WORK/b.csv" --shards 2 \
        --input "tcp://${IP[s0]}:5550@$C/s0.cert,tcp://${IP[s1]}:5550@$C/s1.cert" \
        --endpoint "tcp://${IP[lab]}:5551" --control "tcp://${IP[lab]}:5552" \
        --cert "$C/lab.cert" --trust "$WORK/trust-lab" 2>>"$WORK/labeler.log" &
    PID[lab]=$!; PIDS+=($!)
}
aggregator () { #  aggregator K
    ip netns exec "ds$TAG-agg$1" "$DS_BIN/darkscope-aggregator" --shard "$1" --shards 2 --sensors 2 \
        --input "tcp://${IP[lab]}:5551@$C/lab.cert" --endpoint "tcp://${IP[agg$1]}:5560" \
        --cert "$C/agg$1.cert" --trust "$WORK/trust-agg" 2>>"$WORK/agg-$1.log" &
    PID[agg$1]=$!; PIDS+=($!)
}
query_service () {
    ip netns exec "ds$TAG-q" "$DS_BIN/darkscope-query" \
        --shard-endpoint "tcp://${IP[agg0]}:5560@$C/agg0.cert,tcp://${IP[agg1]}:5560@$C/agg1.cert" \
        --labeler "tcp://${IP[lab]}:5552@$C/lab.cert" --endpoint "tcp://${IP[q]}:5570" \
        --cert "$C/q.cert" --trust "$WORK/trust-q" 2>>"$WORK/query.log" &
    PID[q]=$!; PIDS+=($!)
}
QEP="tcp://${IP[q]}:5570@$C/q.cert"
ask () { in_ns q "$DS_BIN/darkscope" query --endpoint "$QEP" --cert "$C/client.cert_secret" "$@"; }

#  check EXPR: the Python expression EXPR over the status `s` holds
#  (status in $WORK/status.json).  wait_for WHAT EXPR: polls it.
check () {
    ask status --json --timeout-ms 3000 >"$WORK/status.json" 2>"$WORK/ask.err" || return 1
    $PY - "$WORK/status.json" "$1" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
def shard(k, key):
    sh = s["shards"][k]
    return sum(x[key] for x in sh["status"]["store"]["sensors"]) if sh.get("ok") else None
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
PYEOF
}
wait_for () {
    local deadline=$((SECONDS + ${3:-60}))
    while [ $SECONDS -lt $deadline ]; do check "$2" && return 0; sleep 0.2; done
    cat "$WORK/status.json" "$WORK/ask.err" >&2 2>/dev/null || true
    tail -n 5 "$WORK"/*.log >&2
    fail "timed out waiting for: $1"
}
same_overview () {
    ask overview --json > "$WORK/got.json" || fail "overview query failed ($1)"
    cmp -s "$WORK/embedded.json" "$WORK/got.json" \
        || { $PY "$REF/compare.py" "$WORK/embedded.json" "$WORK/got.json" || true; \
             fail "$1: the overview differs from the embedded run"; }
}
reasons () { $PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print("; ".join(s["reasons"]), "-> replay", s["replay_sensors"], "+ unknown sensors" if s["unknown_sensors"] else "")' "$WORK/status.json"; }

#  1. Everything up, CURVE everywhere: the overview equals the embedded run.
aggregator 0; aggregator 1; query_service; labeler; ingest 0; ingest 1
wait "${PID[s0]}" || fail "ingest 0 failed: $(tail -3 "$WORK/ingest-0.log")"
wait "${PID[s1]}" || fail "ingest 1 failed: $(tail -3 "$WORK/ingest-1.log")"
wait_for "the stream to complete" 's["complete"] and s["state"] == "complete"'
same_overview "CURVE on every link"
grep -q "CURVE, server key" "$WORK/labeler.log" || fail "the labeler does not say its sockets speak CURVE"
echo "ok: 6 namespaces on $BR ($NET/24), CURVE + ZAP on every link: overview == darkscope run"

#  2. Strangers: a SUB with a key nobody trusts (knowing the labeler's
#  server key) and plaintext REQs to the query service and to shard 1 get
#  nothing; shard 1's status counts its refusal, shard 0's none.
in_ns q $PY - "tcp://${IP[lab]}:5551" "$C/lab.cert" "$WORK/stranger.cert_secret" "tcp://${IP[q]}:5570" \
    "tcp://${IP[agg1]}:5560" <<'PYEOF' \
    || fail "a stranger got an answer"
import sys, zmq, zmq.auth
ctx = zmq.Context()
server_public, _ = zmq.auth.load_certificate(sys.argv[2])
public, secret = zmq.auth.load_certificate(sys.argv[3])
sub = ctx.socket(zmq.SUB)
sub.curve_publickey, sub.curve_secretkey, sub.curve_serverkey = public, secret, server_public
sub.setsockopt(zmq.SUBSCRIBE, b"lab."); sub.setsockopt(zmq.LINGER, 0); sub.connect(sys.argv[1])
req = ctx.socket(zmq.REQ); req.setsockopt(zmq.LINGER, 0); req.connect(sys.argv[4])
req.send(b"\x93\xa3DSK\x01\x00")           # anything: it must not be answered
shard = ctx.socket(zmq.REQ); shard.setsockopt(zmq.LINGER, 0); shard.connect(sys.argv[5])
shard.send(b"\x93\xa3DSK\x01\x00")
poller = zmq.Poller(); poller.register(sub, zmq.POLLIN); poller.register(req, zmq.POLLIN)
poller.register(shard, zmq.POLLIN)
got = dict(poller.poll(2000))
sys.exit(1 if got else 0)
PYEOF
sleep 0.3
grep -qF "refused a CURVE connection from ${IP[q]}: key $(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$WORK/stranger.cert") is not in --trust" \
    "$WORK/labeler.log" || { tail "$WORK/labeler.log" >&2; fail "the labeler did not log the stranger's address and key"; }
grep -qF "refused a connection on tcp://${IP[q]}:5570: handshake failed (not CURVE" "$WORK/query.log" \
    || { tail "$WORK/query.log" >&2; fail "the query service did not log the plaintext REQ"; }
check 's["refused_connections"] >= 1' || fail "the query service's status does not count the refused REQ"
grep -qF "refused a connection on tcp://${IP[agg1]}:5560: handshake failed (not CURVE" "$WORK/agg-1.log" \
    || { tail "$WORK/agg-1.log" >&2; fail "shard 1 did not log the plaintext REQ"; }
check 's["shards"][1]["status"]["refused_connections"] >= 1 and s["shards"][0]["status"]["refused_connections"] == 0' \
    || { cat "$WORK/status.json" >&2; fail "the shards' status does not count their refusals"; }
ask status --timeout-ms 3000 > "$WORK/status.txt" || fail "status as text"
grep -q "rejected  refused" "$WORK/status.txt" && [ "$(awk '$1 == "1" && $2 == "yes" { print $NF }' "$WORK/status.txt")" -ge 1 ] \
    || { cat "$WORK/status.txt" >&2; fail "the text status does not show shard 1's refusals"; }
echo "ok: a SUB with an unknown key and plaintext REQs got nothing; the refusals logged and counted (query, shard 1)"

#  stalled_stream: a fresh pipeline (aggregators without state) whose
#  aggregators are frozen (SIGSTOP) once subscribed, then both ingests:
#  the stream stalls mid-way for certain (back-pressure, small buffers;
#  the ingests are still running a second later).  What the test then
#  kills dies mid-stream; SIGCONT lets the aggregators go on.
stalled_stream () {
    for n in s0 s1 lab agg0 agg1 q; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    PIDS=()
    local ready; ready=$(grep -c "every shard has a subscriber" "$WORK/labeler.log" || true)
    aggregator 0; aggregator 1; query_service; labeler
    for _ in $(seq 1 300); do
        [ "$(grep -c "every shard has a subscriber" "$WORK/labeler.log" || true)" -gt "$ready" ] && break
        sleep 0.1
    done
    kill -STOP "${PID[agg0]}" "${PID[agg1]}"
    ingest 0; ingest 1
    #  The stream is under way once the labeler subscribed to both ingests
    #  (their /readyz): killed before that, an ingest would only time out
    #  waiting for a subscriber (seen under ASan on a loaded machine).
    for k in 0 1; do
        in_ns "s$k" $PY - "http://${IP[s$k]}:9100/readyz" <<'PYEOF' || fail "ingest $k: the labeler never subscribed"
import sys, time, urllib.request
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PYEOF
    done
    sleep 1
    kill -0 "${PID[s0]}" && kill -0 "${PID[s1]}" \
        || fail "the ingests ended although the aggregators were frozen: input too small for this test"
}

#  3. kill -9 of the labeler mid-stream.
stalled_stream
kill -9 "${PID[lab]}"; wait "${PID[lab]}" 2>/dev/null || true
kill -CONT "${PID[agg0]}" "${PID[agg1]}"
rc0=0; wait "${PID[s0]}" || rc0=$?
rc1=0; wait "${PID[s1]}" || rc1=$?
[ $rc0 -ne 0 ] && [ $rc1 -ne 0 ] || fail "ingests exited $rc0, $rc1 after sending to nobody (want non-zero)"
grep -q "sent while their shard had no subscriber: lost" "$WORK/ingest-0.log" \
    || fail "ingest 0 did not report the batches sent to nobody"
labeler
#  Each sensor the shards heard of is named (no end of stream: replay
#  it); one they never heard of (its batches were all in the dead
#  labeler's queues; on a slow machine that may be both) is counted as
#  unknown.
wait_for "status to name what the labeler's death lost" \
    'not s["complete"] and s["state"] == "incomplete"
     and all(any("no end of stream from sensor %d" % k in r for r in s["reasons"]) for k in s["replay_sensors"])
     and (sorted(s["replay_sensors"]) == [0, 1]
          or (s["unknown_sensors"] and any("expected sensors never heard from" in r for r in s["reasons"])))'
echo "ok: labeler killed mid-stream: ingests exit $rc0/$rc1, status: $(reasons)"
ingest 0; ingest 1
wait "${PID[s0]}" || fail "replay of sensor 0 failed"
wait "${PID[s1]}" || fail "replay of sensor 1 failed"
wait_for "the replay to complete the stream" 's["complete"]'
same_overview "labeler killed, sensors replayed"
echo "ok: sensors 0 and 1 replayed: complete, overview == darkscope run"

#  4. kill -9 of shard 1 mid-stream, down until the stream ended.
stalled_stream
kill -9 "${PID[agg1]}"; wait "${PID[agg1]}" 2>/dev/null || true
kill -CONT "${PID[agg0]}"
wait "${PID[s0]}" || fail "ingest 0 failed while shard 1 was down"
wait "${PID[s1]}" || fail "ingest 1 failed while shard 1 was down"
wait_for "shard 0 to see both ends of stream" 's["shards"][0]["ok"] and s["shards"][0]["status"]["store"]["eos_all"]'
check 'not s["complete"] and not s["shards"][1]["ok"]' || fail "status complete with shard 1 down"
grep -q "lab.0001: no subscriber" "$WORK/labeler.log" || fail "the labeler did not log batches sent to nobody"
aggregator 1
wait_for "restarted shard 1 to learn what it missed" \
    'not s["complete"] and sorted(s["replay_sensors"]) == [0, 1] and (shard(1, "gaps") or 0) > 0
     and s["shards"][1]["status"]["store"]["eos_all"]
     and any("shard 1:" in r and "batches of sensor 0 missed (gaps)" in r for r in s["reasons"])' 30
ask overview --json > "$WORK/partial.json" || fail "overview query failed (incomplete)"
$PY -c 'import json,sys; i=json.load(open(sys.argv[1]))["ingest"]; sys.exit(0 if i["complete"] is False and i["gaps"] > 0 else 1)' \
    "$WORK/partial.json" || fail "the overview of an incomplete input does not say so"
echo "ok: shard 1 killed mid-stream and restarted: $(reasons); the overview says complete: false"
ingest 0; ingest 1
wait "${PID[s0]}" || fail "replay of sensor 0 failed"
wait "${PID[s1]}" || fail "replay of sensor 1 failed"
wait_for "the replay to fill shard 1" 's["complete"]'
same_overview "shard 1 killed, sensors replayed"
echo "ok: replayed: complete, overview == darkscope run"
echo "4 passed, 0 failed"
