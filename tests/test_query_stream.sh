#  test_query_stream.sh - queries are answered while a stream is being
#  consumed, and consuming goes on between the answers (issue 10).
#
#  The services run as separate processes over tcp on 127.0.0.1 (2 shards).
#  Ingest reads a FIFO into which a writer trickles a capture in 20 parts,
#  a pause between parts (8 s in all, so that even a slow machine asks
#  several questions before the end).  While the stream flows, the client
#  asks fresh overviews (a new min_packets each time, so no cached answer
#  is reused) and status, over and over:
#    - every answer comes (rc 0, within its timeout) and is a whole overview
#      of the records applied so far (its packets lie between the records
#      status showed right before and right after it);
#    - the records applied grow between answers: at least 3 different
#      counts are seen before the end of stream (the aggregators consume
#      batches between the requests, they are not held by them);
#    - at the end the overview equals `darkscope run` on the whole capture.
#  Then a new pipeline gets a larger capture from a file, at full speed,
#  its aggregators stopped (SIGSTOP) for a second first, so their queues
#  are full when they go on and they always have a batch waiting: status
#  asked over and over must be answered mid-stream (records applied
#  between 0 and all, no end of stream yet), not only once the stream has
#  drained.
source "$(dirname "$0")/lib.sh"

SHARDS=2
"$DS_BIN/darkscope" gen --quiet --out "$WORK/all.pcap" --gt-out "$WORK/gt.csv" \
    --seed 23 --packets 240000 --days 4
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/all.pcap" --gt "$WORK/gt.csv" --shards $SHARDS \
    --json "$WORK/whole.json" || fail "darkscope run failed"

start_services $SHARDS "$WORK/gt.csv"

mkfifo "$WORK/fifo"
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/fifo" --shards $SHARDS --sensor 2 \
    --stats-interval 1 --endpoint "tcp://127.0.0.1:$P_IN" 2>>"$WORK/ingest.log" & ING=$!; PIDS+=($ING)
#  The writer: the capture's header, then its records in 20 parts, 0.4 s apart.
$PY - "$WORK/all.pcap" "$WORK/fifo" <<'PYEOF' & WRITER=$!
import struct, sys, time
data = open(sys.argv[1], 'rb').read()
cuts, pos = [], 24
while pos < len(data):
    cuts.append(pos)
    pos += 16 + struct.unpack_from('<I', data, pos + 8)[0]
parts = 20
with open(sys.argv[2], 'wb') as out:
    out.write(data[:24])
    for p in range(parts):
        a = cuts[len(cuts) * p // parts]
        b = cuts[len(cuts) * (p + 1) // parts] if p + 1 < parts else len(data)
        out.write(data[a:b])
        out.flush()
        time.sleep(0.4)
PYEOF
PIDS+=($WRITER)

#  records_and_eos: "RECORDS EOS" of sensor 2 summed over the shards.
records_and_eos () {
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 5000 \
        | $PY -c '
import json, sys
s = json.load(sys.stdin)
rows = [x for sh in s["shards"] if sh.get("ok") for x in sh["status"]["store"]["sensors"] if x["sensor"] == 2]
print(sum(r["records"] for r in rows), int(bool(rows) and all(r["eos"] for r in rows)))'
}

seen=()
answers=0
m=1
while true; do
    read -r before eos_before < <(records_and_eos) || fail "status was not answered mid-stream"
    [ "$eos_before" = 1 ] && break
    if [ "$before" -gt 0 ]; then
        m=$((m + 1))
        "$DS_BIN/darkscope" query --endpoint "$QUERY" overview --min-packets "$m" --json \
            --timeout-ms 5000 > "$WORK/mid.json" || fail "overview was not answered mid-stream"
        read -r after _ < <(records_and_eos) || fail "status was not answered mid-stream"
        #  The overview's packets lie between the records applied before and after it.
        $PY - "$WORK/mid.json" "$before" "$after" <<'PYEOF' || fail "a mid-stream overview is not whole"
import json, sys
o = json.load(open(sys.argv[1]))
p = o["dataset"]["window"]["packets"]
sys.exit(0 if int(sys.argv[2]) <= p <= int(sys.argv[3]) else 1)
PYEOF
        answers=$((answers + 1))
        [[ " ${seen[*]} " == *" $before "* ]] || seen+=("$before")
    fi
done
[ "$answers" -ge 3 ] || fail "only $answers overviews were asked before the end of stream"
[ "${#seen[@]}" -ge 3 ] \
    || fail "records applied did not grow between answers (counts seen: ${seen[*]})"
echo "ok: $answers fresh overviews answered mid-stream, each whole; records grew between them (${#seen[@]} counts)"

wait "$ING" || { cat "$WORK/ingest.log" >&2; fail "ingest failed"; }
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/end.json" || fail "final overview failed"
cmp "$WORK/whole.json" "$WORK/end.json" \
    || { $PY "$REF/compare.py" "$WORK/whole.json" "$WORK/end.json"; fail "the streamed overview differs from darkscope run"; }
echo "ok: after the stream, the overview == darkscope run (byte-identical)"

#  Full speed: a new pipeline, a capture from a file.
"$DS_BIN/darkscope" gen --quiet --out "$WORK/big.pcap" --gt-out "$WORK/big-gt.csv" \
    --seed 24 --packets 3000000 --days 2
start_services $SHARDS "$WORK/big-gt.csv"
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/big.pcap" --shards $SHARDS --sensor 2 \
    --endpoint "tcp://127.0.0.1:$P_IN" 2>>"$WORK/ingest-big.log" & ING=$!; PIDS+=($ING)
until [ -n "$(records_and_eos 2>/dev/null)" ]; do sleep 0.1; done    #  all up
kill -STOP "${AGG_PIDS[@]}"
sleep 1
kill -CONT "${AGG_PIDS[@]}"
mid=0
while true; do
    read -r records eos < <(records_and_eos) || fail "status was not answered while the stream flowed at full speed"
    [ "$eos" = 1 ] && break
    [ "$records" -gt 0 ] && [ "$records" -lt 3000000 ] && mid=$((mid + 1))
done
wait "$ING" || { cat "$WORK/ingest-big.log" >&2; fail "ingest of the big capture failed"; }
[ "$mid" -ge 1 ] || fail "no status was answered while the full-speed stream was being consumed"
echo "ok: $mid status answers while a full-speed stream was being consumed"
echo "3 passed, 0 failed"
