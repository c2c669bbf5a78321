#  test_python_client.sh - the protocol is usable from stock Python: the
#  example client (proto/examples/overview_client.py, pyzmq + msgpack)
#  fetches the overview from `darkscope run --serve` and gets exactly what
#  `darkscope run --json` wrote; bad requests get error replies.
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 5 --packets 50000 --days 4
port=$(free_port)
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/run.json" \
    --endpoint "tcp://127.0.0.1:$port" --serve & PIDS+=($!)
#  The JSON file appears once the run is complete and serving.
for _ in $(seq 1 300); do [ -s "$WORK/run.json" ] && break; sleep 0.1; done
[ -s "$WORK/run.json" ] || fail "darkscope run --serve did not finish"

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
echo "2 passed, 0 failed"
