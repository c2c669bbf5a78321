#  test_ingest_signals.sh - darkscope-ingest and its signals, as processes
#  over tcp on 127.0.0.1 (the service skeleton, service.h):
#    - SIGHUP does not end it (it has nothing to reload);
#    - SIGINT in the middle of a capture ends the input: what was read still
#      reaches the aggregator, with the end of stream, so the pipeline is
#      complete and its overview counts exactly the packets read -- fewer
#      than the capture holds (exit status 1: not read to its end).
#  The capture comes through a pipe (--pcap -): the first half is written,
#  the pipe stays open, so ingest is in the middle of it (reading, or
#  waiting for more) when the signals arrive, however fast the machine is.
#  The rest is written after SIGINT; ingest stops within its next look at
#  its pipe (every 65,536 frames), long before the end.
source "$(dirname "$0")/lib.sh"

PACKETS=2000000
"$DS_BIN/darkscope" gen --quiet --out "$WORK/month.pcap" --gt-out "$WORK/gt.csv" \
    --seed 5 --packets $PACKETS --days 3

P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_AGG=$(free_port); P_Q=$(free_port)
QUERY="tcp://127.0.0.1:$P_Q"
"$DS_BIN/darkscope-aggregator" --quiet --input "tcp://127.0.0.1:$P_LAB" \
    --endpoint "tcp://127.0.0.1:$P_AGG" & PIDS+=($!)
"$DS_BIN/darkscope-query" --quiet --endpoint "$QUERY" --shard-endpoint "tcp://127.0.0.1:$P_AGG" \
    --labeler "tcp://127.0.0.1:$P_CTL" & PIDS+=($!)
"$DS_BIN/darkscope-labeler" --quiet --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$P_IN" \
    --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" & PIDS+=($!)
mkfifo "$WORK/capture"
"$DS_BIN/darkscope-ingest" --pcap - --endpoint "tcp://127.0.0.1:$P_IN" \
    <"$WORK/capture" 2>"$WORK/ingest.log" & PIDS+=($!)
INGEST=$!
exec 3>"$WORK/capture"                  # held open: ingest waits for more
SIZE=$(stat -c %s "$WORK/month.pcap")
head -c $((SIZE / 2)) "$WORK/month.pcap" >&3

#  labeler KEY: a counter of the labeler's status.
labeler () {
    "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$P_CTL" status --json --timeout-ms 5000 \
        | $PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

#  1. Batches flow.
for _ in $(seq 1 600); do
    [ "$(labeler batches 2>/dev/null || echo 0)" -gt 0 ] && break
    sleep 0.05      # polling a live service from a shell test: no event to wait on
done
[ "$(labeler batches)" -gt 0 ] || { cat "$WORK/ingest.log" >&2; fail "no batch reached the labeler"; }

#  2. SIGHUP: ingest goes on.
kill -HUP "$INGEST"
sleep 0.3
kill -0 "$INGEST" 2>/dev/null || { cat "$WORK/ingest.log" >&2; fail "SIGHUP ended darkscope-ingest"; }
grep -q "SIGHUP" "$WORK/ingest.log" || fail "SIGHUP was not logged"
echo "ok: SIGHUP did not end darkscope-ingest"

#  3. SIGINT mid-file, then the rest of the capture: ingest ends its input,
#  sends what it read and its end of stream, and exits 1.
kill -INT "$INGEST"
tail -c +$((SIZE / 2 + 1)) "$WORK/month.pcap" >&3 2>/dev/null &    # ends with EPIPE
exec 3>&-
rc=0
wait "$INGEST" || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/ingest.log" >&2; fail "ingest after SIGINT mid-file: exit status $rc, want 1"; }
grep -q "interrupted in -" "$WORK/ingest.log" \
    || { cat "$WORK/ingest.log" >&2; fail "ingest did not say the file was not read to its end"; }
for _ in $(seq 1 600); do
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 5000 >"$WORK/status.json" 2>/dev/null \
        && $PY -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("complete") else 1)' \
               "$WORK/status.json" && break
    sleep 0.1
done
$PY -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("complete") else 1)' "$WORK/status.json" \
    || { cat "$WORK/status.json" >&2; fail "the end of stream did not reach the aggregator"; }
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json >"$WORK/overview.json" \
    || fail "overview query failed"
$PY - "$WORK/overview.json" $PACKETS <<'PYEOF' || fail "the overview does not count exactly what was read"
import json, sys
o = json.load(open(sys.argv[1]))
read, total = o["ingest"]["packets_read"], int(sys.argv[2])
packets = o["dataset"]["window"]["packets"]
skipped = o["ingest"]["non_ip"] + o["ingest"]["malformed"]
print("read %d of %d packets before SIGINT; the overview counts %d" % (read, total, packets))
assert 0 < read < total, "SIGINT did not arrive mid-file"
assert packets == read - skipped, "records lost after SIGINT"
assert o["ingest"]["gaps"] == 0 and o["ingest"]["dropped"] == 0
PYEOF
echo "ok: SIGINT mid-file: everything read arrived, with the end of stream"
echo "2 passed, 0 failed"
