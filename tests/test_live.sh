#  test_live.sh - a live-style run: ingest reads a capture from a FIFO that
#  stays open, and status is current before any end of stream (DESIGN §12).
#
#  The services run as separate processes over tcp on 127.0.0.1 (2 shards).
#    1. Ingest (sensor 5, --stats-interval 1) reads a FIFO whose writer sends
#       the first half of a capture and keeps it open.  Without an end of
#       stream, status must show sensor 5's packets read (the half), its
#       records applied, the time of its last batch, its epoch (a pipe is a
#       live source: its start time) and the lag of its counters.
#    2. That ingest is killed (SIGKILL: no end of stream) and a new one with
#       the same sensor id reads the second half from another FIFO, then its
#       end: a new epoch, whose seqs start again at 0 and are applied, not
#       taken for replays (status: epochs 2, replays 0).
#    3. The overview equals, byte for byte, `darkscope run` on the whole
#       capture: every record once, the ingest counters summed over both
#       epochs, no gap.
source "$(dirname "$0")/lib.sh"

SHARDS=2
"$DS_BIN/darkscope" gen --quiet --out "$WORK/all.pcap" --gt-out "$WORK/gt.csv" \
    --seed 21 --packets 200000 --days 3
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/all.pcap" --gt "$WORK/gt.csv" --shards $SHARDS \
    --json "$WORK/whole.json" || fail "darkscope run failed"
HALF=$($PY - "$WORK" <<'PYEOF'
import struct, sys
w = sys.argv[1]
data = open(f'{w}/all.pcap', 'rb').read()
head, pos, recs = data[:24], 24, []
while pos < len(data):
    n = struct.unpack_from('<I', data, pos + 8)[0]
    recs.append(data[pos:pos + 16 + n])
    pos += 16 + n
half = len(recs) // 2
open(f'{w}/part1.pcap', 'wb').write(head + b''.join(recs[:half]))
open(f'{w}/part2.pcap', 'wb').write(head + b''.join(recs[half:]))
print(half)
PYEOF
)

start_services $SHARDS "$WORK/gt.csv"

#  status_check EXPR: EXPR holds over `s` (the status) and `rows` (sensor
#  5's row of each shard that has one).
status_check () {
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 2000 \
        >"$WORK/status.json" 2>/dev/null || return 1
    $PY - "$WORK/status.json" "$1" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
rows = [x for sh in s["shards"] if sh.get("ok") for x in sh["status"]["store"]["sensors"]
        if x["sensor"] == 5]
sys.exit(0 if eval("(" + sys.argv[2].strip() + ")") else 1)
PYEOF
}
wait_for () {
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        status_check "$2" && return 0
        sleep 0.1
    done
    cat "$WORK/status.json" >&2 || true
    fail "timed out waiting for: $1"
}

#  1. The first half through a FIFO that stays open.
mkfifo "$WORK/fifo1" "$WORK/fifo2"
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/fifo1" --shards $SHARDS --sensor 5 \
    --stats-interval 1 --endpoint "tcp://127.0.0.1:$P_IN" 2>>"$WORK/ingest1.log" & ING1=$!; PIDS+=($ING1)
(cat "$WORK/part1.pcap"; sleep 600) > "$WORK/fifo1" & WRITER1=$!; PIDS+=($WRITER1)
wait_for "status to show the first half before any end of stream" \
    "len(rows) == 2 and max(r['packets_read'] for r in rows) == $HALF
     and sum(r['records'] for r in rows) == $HALF and not s['complete']
     and not any(r['eos'] for r in rows) and all(r['last_batch'] for r in rows)
     and all(r['epoch'] > 0 and r['lag_ms'] is not None for r in rows)
     and all(r['dropped'] == 0 and r['pcap_dropped'] == 0 and r['gaps'] == 0 for r in rows)"
echo "ok: status before the end of stream: $HALF packets read and applied, 0 dropped, epoch, last batch, lag"

#  2. Killed without an end of stream; a new ingest, same sensor id.
kill -KILL "$ING1"
wait "$ING1" 2>/dev/null || true
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/fifo2" --shards $SHARDS --sensor 5 \
    --stats-interval 1 --endpoint "tcp://127.0.0.1:$P_IN" 2>>"$WORK/ingest2.log" & ING2=$!; PIDS+=($ING2)
cat "$WORK/part2.pcap" > "$WORK/fifo2"
wait "$ING2" || { cat "$WORK/ingest2.log" >&2; fail "the second ingest failed"; }
wait_for "the second epoch to complete" \
    "s['complete'] and all(r['epochs'] == 2 and r['replays'] == 0 and r['gaps'] == 0 for r in rows)"
echo "ok: a restarted ingest (same sensor) starts epoch 2: its seqs applied, no replay, no gap"

#  3. Every record once, the counters of both epochs summed.
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/live.json" \
    || fail "overview query failed"
cmp "$WORK/whole.json" "$WORK/live.json" \
    || { $PY "$REF/compare.py" "$WORK/whole.json" "$WORK/live.json"; \
         fail "two epochs through FIFOs differ from darkscope run on the whole capture"; }
echo "ok: two epochs through FIFOs == darkscope run on the whole capture (byte-identical)"
echo "3 passed, 0 failed"
