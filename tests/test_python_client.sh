#  test_python_client.sh - the protocol is usable from stock Python: the
#  example client (proto/examples/overview_client.py, pyzmq + msgpack)
#  fetches the overview from `darkscope run --serve` and gets exactly what
#  `darkscope run --json` wrote; bad requests get error replies.
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 5 --packets 50000 --days 4
port=$(free_port)
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/run.json" \
    --endpoint "tcp://127.0.0.1:$port" --serve & PIDS+=($!)
#  wait_json FILE: until FILE is there.  The run writes it once complete
#  and serving, under a temporary name renamed into place (afile.h), so a
#  file that is there is whole: the comparisons below would catch half of
#  one (seen under ASan before: "wrote another overview").
wait_json () {
    for _ in $(seq 1 300); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_json "$WORK/run.json" || fail "darkscope run --serve did not finish"

$PY "$DS_SOURCE/proto/examples/overview_client.py" "tcp://127.0.0.1:$port" --json > "$WORK/py.json" \
    || fail "python client failed"
$PY "$REF/compare.py" "$WORK/run.json" "$WORK/py.json" || fail "python client saw a different overview"
$PY "$DS_SOURCE/proto/examples/overview_client.py" "tcp://127.0.0.1:$port" > "$WORK/py.txt" \
    || fail "python client table output"
grep -q "sources" "$WORK/py.txt" || fail "python client table output has no sources line"

#  Hostile and wrong requests: error replies, and the service keeps answering.
$PY - "tcp://127.0.0.1:$port" <<'PYEOF' || fail "error replies"
import sys, zmq, msgpack
ctx = zmq.Context(); ep = sys.argv[1]
def ask(raw):
    s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.setsockopt(zmq.RCVTIMEO, 10000); s.connect(ep)
    s.send(raw); r = msgpack.unpackb(s.recv(), raw=False); s.close(); return r
for raw in [b"\xc1garbage", msgpack.packb({"v": 2, "q": "overview"}), msgpack.packb({"v": 1, "q": "nope"}),
            msgpack.packb({"v": 1, "q": "overview", "args": {"min_packets": "ten"}}),
            msgpack.packb({"v": 1, "q": "overview", "args": {"first_day": "2021-13-45"}}),
            b"\xdd\xff\xff\xff\xff"]:
    r = ask(raw)
    assert r.get("ok") is False and r.get("error"), (raw, r)
    print("error reply:", r["error"])
assert ask(msgpack.packb({"v": 1, "q": "status"}))["ok"] is True
PYEOF

#  CURVE (DESIGN §11): `darkscope run --serve --cert --trust`; the example
#  client and `darkscope report` with their own certificate and the server's
#  get the same overview; without a trusted key they get nothing.
C="$WORK/certs"; mkdir -p "$C/trust"
for n in server client stranger; do "$DS_BIN/darkscope" keygen "$n" --dir "$C" 2>/dev/null; done
cp "$C/client.cert" "$C/trust/"
cport=$(free_port)
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/curve.json" \
    --endpoint "tcp://127.0.0.1:$cport" --serve --cert "$C/server.cert_secret" --trust "$C/trust" \
    2>"$WORK/curve.log" & PIDS+=($!)
wait_json "$WORK/curve.json" || { cat "$WORK/curve.log" >&2; fail "darkscope run --serve --cert did not finish"; }
cmp -s "$WORK/run.json" "$WORK/curve.json" || fail "run with --cert wrote another overview"
$PY "$DS_SOURCE/proto/examples/overview_client.py" "tcp://127.0.0.1:$cport@$C/server.cert" \
    --cert "$C/client.cert" --json > "$WORK/py-curve.json" || fail "python client over CURVE failed"
$PY "$REF/compare.py" "$WORK/run.json" "$WORK/py-curve.json" || fail "python client over CURVE saw another overview"
"$DS_BIN/darkscope" report --endpoint "tcp://127.0.0.1:$cport@$C/server.cert" --cert "$C/client.cert" \
    --out "$WORK/report" 2>/dev/null || fail "darkscope report over CURVE failed"
[ -s "$WORK/report/index.html" ] || fail "darkscope report over CURVE wrote no index.html"
if timeout 4 $PY "$DS_SOURCE/proto/examples/overview_client.py" "tcp://127.0.0.1:$cport@$C/server.cert" \
        --cert "$C/stranger.cert" --json >/dev/null 2>&1; then
    fail "a client with an untrusted key got the overview"
fi
grep -q "refused a CURVE connection from 127.0.0.1: key" "$WORK/curve.log" \
    || { cat "$WORK/curve.log" >&2; fail "the refused key was not logged"; }
echo "ok: CURVE: the python client and darkscope report with trusted keys get the overview; a stranger nothing (logged)"
echo "3 passed, 0 failed"
