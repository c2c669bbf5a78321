#  test_restart.sh - an aggregator killed mid-stream and restarted from its
#  checkpoint loses nothing once the input is replayed (issue 5).
#
#  The services run as separate processes over tcp on 127.0.0.1, 2 shards,
#  each aggregator checkpointing every second.  While the first ingest run
#  is streaming, aggregator 0 is SIGKILLed as soon as its first checkpoint
#  file exists; what it applied after that checkpoint and what its socket
#  queues held is lost.  Restarted with the same flags, it restores the
#  checkpoint and counts every batch it missed as a gap.  (The labeler is
#  frozen with SIGSTOP from just before the kill until the restarted shard
#  answers, so the rest of the stream reaches the restarted shard and the
#  gaps show before the replay; a real labeler would just run on.)  After
#  the first ingest run ends, a second one replays the same file with the
#  same sensor id: its seqs repeat, so the aggregators apply exactly the
#  missing batches and ignore the rest as replays.  Then
#    - the restarted shard logs its gaps as they grow (fields sensor,
#      new_gaps, gaps: they add up to the status's);
#    - every gap is filled (gaps 0 on every shard), replays were ignored;
#    - the overview is byte-identical to the uninterrupted `darkscope run` of
#      the same file, GT and shard count -- "ingest" included: packets_read &
#      co. come from the (identical) EOS of the replay, and gaps are back to
#      0, so no field needs to be ignored;
#    - stopped (SIGTERM writes a checkpoint) and restarted once more, the
#      aggregator answers the same overview from its checkpoint alone;
#    - a checkpoint with one flipped byte makes the aggregator refuse to
#      start: exit status 1, an error naming the file.
#  Right after the kill the labeler's XPUB (NODROP) may block on the dead
#  subscriber until the kernel reports the closed connection: that is
#  back-pressure, not a hang.  Ingest uses --batch 512 so that the queues
#  between the services hold a small part of the stream.
source "$(dirname "$0")/lib.sh"

SHARDS=2
"$DS_BIN/darkscope" gen --quiet --out "$WORK/month.pcap" --gt-out "$WORK/gt.csv" \
    --seed 11 --packets 12000000 --days 10   # streams for > 1 s even when the pipeline is fast
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/month.pcap" --gt "$WORK/gt.csv" --shards $SHARDS \
    --json "$WORK/embedded.json" || fail "darkscope run failed"

P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_Q=$(free_port)
P_AGG=("$(free_port)" "$(free_port)")
QUERY="tcp://127.0.0.1:$P_Q"
CK="$WORK/ck"; mkdir -p "$CK"
AGG_PID=()

#  start_agg K [CHECKPOINT]: aggregator K in the background, log in $WORK/agg-K.log.
start_agg () {
    local k=$1 ckpt=${2:-$CK/shard-$1.ckpt}
    "$DS_BIN/darkscope-aggregator" --shard "$k" --shards $SHARDS --input "tcp://127.0.0.1:$P_LAB" \
        --endpoint "tcp://127.0.0.1:${P_AGG[$k]}" --checkpoint "$ckpt" --checkpoint-interval 1 \
        2>>"$WORK/agg-$k.log" & PIDS+=($!)
    AGG_PID[$k]=$!
}

#  status_check EXPR: evaluates the Python expression EXPR over `s` (the
#  query service's status) and the per-shard lists (summed over sensors)
#  `gaps`, `replays` and `seqs` (next expected seq); true if it holds.  The
#  status goes to $WORK/status.json; status_eval EXPR [print] evaluates
#  EXPR (or prints it) over the status fetched last.  A try waits up to
#  10 s for the answer: on a loaded machine (the ASan suite, load 10+) a
#  shard forking a checkpoint or applying a batch missed 2 s.
status_check () {
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 10000 \
        >"$WORK/status.json" 2>/dev/null || return 1
    status_eval "$@"
}
status_eval () {
    $PY - "$WORK/status.json" "$1" "${2:-check}" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
def per_shard(key):
    return [sum(x[key] for x in sh["status"]["store"]["sensors"]) if sh.get("ok") else None
            for sh in s["shards"]]
gaps, replays, seqs = per_shard("gaps"), per_shard("replays"), per_shard("next_seq")
value = eval(sys.argv[2])
if sys.argv[3] == "print":
    print(value)
sys.exit(0 if value else 1)
PYEOF
}

#  wait_for WHAT EXPR [SECONDS]: polls status_check EXPR (every 0.1 s; there
#  is no event a shell can wait on) until it holds, else fails naming WHAT.
wait_for () {
    local deadline=$((SECONDS + ${3:-120}))
    while [ $SECONDS -lt $deadline ]; do
        status_check "$2" && return 0
        sleep 0.1
    done
    cat "$WORK/status.json" >&2 || true; tail -5 "$WORK"/agg-0.log >&2 || true
    fail "timed out waiting for: $1"
}

#  status_settled: fetches a status in which every shard answered (polled
#  for: a shard that missed the query service's deadline under load is
#  marked down until its next probe), for status_eval and status_value.
status_settled () {
    wait_for "a status with every shard answering" 'all(sh.get("ok") for sh in s["shards"])'
}
#  status_value EXPR: prints EXPR over a settled status.
status_value () { status_settled; status_eval "$1" print; }

#  labeler KEY: a counter of the labeler's status (batches, eos, ...),
#  asked again until it answers (60 s).
labeler () {
    local deadline=$((SECONDS + 60)) out
    until out=$("$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$P_CTL" status --json \
                    --timeout-ms 10000 2>/dev/null); do
        [ $SECONDS -lt $deadline ] || fail "the labeler's status did not answer within 60 s"
        sleep 0.1
    done
    $PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$out"
}

start_agg 0
start_agg 1
"$DS_BIN/darkscope-query" --quiet --endpoint "$QUERY" --labeler "tcp://127.0.0.1:$P_CTL" \
    --shard-endpoint "tcp://127.0.0.1:${P_AGG[0]}" --shard-endpoint "tcp://127.0.0.1:${P_AGG[1]}" \
    & PIDS+=($!)
"$DS_BIN/darkscope-labeler" --quiet --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$P_IN" \
    --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" --shards $SHARDS \
    & PIDS+=($!)
LABELER_PID=$!
INGEST=("$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/month.pcap" --shards $SHARDS --sensor 3 --batch 512
        --endpoint "tcp://127.0.0.1:$P_IN")
"${INGEST[@]}" & ING=$!; PIDS+=($ING)

#  1. The first checkpoint of shard 0 appears while the stream flows (the
#  ingest may be done already -- the labeler and the sockets' queues hold
#  the rest -- but the labeler has not forwarded the end of stream yet).
for _ in $(seq 1 1200); do
    [ -e "$CK/shard-0.ckpt" ] && break
    sleep 0.05
done
[ -e "$CK/shard-0.ckpt" ] || fail "no checkpoint of shard 0 was written while the stream flowed"
[ "$(labeler eos)" -eq 0 ] || fail "the stream ended before the first checkpoint: input too small for this test"

#  2. SIGKILL aggregator 0: what it applied after the checkpoint and what
#  its socket queues held is lost.  The labeler is frozen (SIGSTOP) around
#  the kill and the restart, so that the restarted aggregator is connected
#  before the rest of the stream is published: without this the labeler
#  (no longer paced by shard 0) could publish everything while shard 0 is
#  down, and the restarted shard would see no batch to count a gap from.
kill -STOP "$LABELER_PID"
kill -KILL "${AGG_PID[0]}"
wait "${AGG_PID[0]}" 2>/dev/null || true

#  3. Restart with the same flags: it restores the checkpoint; once it
#  answers, the labeler goes on and the restarted shard counts the gaps.
start_agg 0
wait_for "restarted shard 0 to answer" 's["shards"][0]["ok"]'
kill -CONT "$LABELER_PID"
wait_for "restarted shard 0 to count the batches it missed as gaps" 'gaps[0] and gaps[0] > 0'
grep -q "restored $CK/shard-0.ckpt" "$WORK/agg-0.log" \
    || { cat "$WORK/agg-0.log" >&2; fail "the restarted aggregator did not restore its checkpoint"; }
wait $ING || fail "first ingest run failed"
wait_for "the end of the first run on every shard" 's["eos_all"]'
status_settled
G0=$(status_eval gaps print); R0=$(status_eval replays print)
#  Every end of stream arrived, but shard 0 misses batches: not complete,
#  and the status says why and which sensor to replay.
status_eval 'not s["complete"] and s["state"] == "incomplete" and s["replay_sensors"] == [3] and any("shard 0:" in r and "sensor 3 missed (gaps)" in r for r in s["reasons"])' \
    || { cat "$WORK/status.json" >&2; fail "status with gaps is not 'incomplete, replay sensor 3'"; }
#  The restarted shard logged the gaps as they grew, as fields (the log's
#  new_gaps add up to the status's gaps; the last line's gaps is them).
$PY - "$WORK/agg-0.log" "$G0" <<'PYEOF' || fail "shard 0's gap log lines do not match its status (gaps $G0): $(grep gaps= "$WORK/agg-0.log")"
import ast, re, sys
want = ast.literal_eval(sys.argv[2])[0]
lines = [l for l in open(sys.argv[1]) if ' aggregator warning: shard 0: batches of sensor 3 never arrived' in l]
fields = [dict(re.findall(r' (\w+)=(\d+)', l)) for l in lines]
sys.exit(0 if lines and sum(int(f['new_gaps']) for f in fields) == want == int(fields[-1]['gaps'])
         and all(f['sensor'] == '3' for f in fields) else 1)
PYEOF
echo "ok: shard 0 killed mid-stream, restarted from $(basename "$CK")/shard-0.ckpt, gaps $G0: $(status_value 's["reasons"]')"

#  4. Replay the input (same sensor id).  Done when every shard has seen
#  every seq again: as a replay (ignored) or as a gap it filled.
"${INGEST[@]}" || fail "replay ingest run failed"
wait_for "every shard to see the whole replay" \
    "all(r - r0 + g0 - g == n for r, r0, g0, g, n in zip(replays, $R0, $G0, gaps, seqs))"
status_settled
status_eval 'gaps == [0] * len(gaps)' \
    || { cat "$WORK/status.json" >&2; fail "the replay did not fill the gaps: $(status_eval gaps print)"; }
status_eval 'min(replays) > 0' || fail "no replayed batch was ignored"
status_eval 's["complete"] and s["state"] == "complete" and s["reasons"] == [] and s["replay_sensors"] == []' \
    || { cat "$WORK/status.json" >&2; fail "gaps filled, but the status is not complete"; }
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/restarted.json" \
    || fail "overview query failed"
cmp "$WORK/embedded.json" "$WORK/restarted.json" \
    || { $PY "$REF/compare.py" "$WORK/embedded.json" "$WORK/restarted.json"; \
         fail "killed + restarted + replayed differs from the uninterrupted run"; }
echo "ok: killed, restarted and replayed == uninterrupted run (byte-identical)"

#  5. SIGTERM writes a final checkpoint; restarted from it alone, same answer.
kill -TERM "${AGG_PID[0]}"
wait "${AGG_PID[0]}" || fail "aggregator 0 did not exit 0 on SIGTERM"
start_agg 0
wait_for "shard 0 restored from its final checkpoint" 's["complete"]'
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/restored.json" \
    || fail "overview query failed"
cmp "$WORK/embedded.json" "$WORK/restored.json" || fail "overview from the final checkpoint differs"
echo "ok: restored from the final checkpoint == uninterrupted run"

#  6. One flipped byte: refused, exit 1, the error names the file.
kill -TERM "${AGG_PID[0]}"
wait "${AGG_PID[0]}" || fail "aggregator 0 did not exit 0 on SIGTERM"
cp "$CK/shard-0.ckpt" "$CK/flipped.ckpt"
$PY -c 'import os,sys
p = sys.argv[1]; off = os.path.getsize(p) // 2
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x40]))' "$CK/flipped.ckpt"
rc=0
timeout 60 "$DS_BIN/darkscope-aggregator" --shard 0 --shards $SHARDS --input "tcp://127.0.0.1:$P_LAB" \
    --endpoint "tcp://127.0.0.1:$(free_port)" --checkpoint "$CK/flipped.ckpt" 2>"$WORK/refused.log" || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/refused.log" >&2; fail "corrupt checkpoint: exit status $rc, want 1"; }
grep -q "$CK/flipped.ckpt" "$WORK/refused.log" \
    || { cat "$WORK/refused.log" >&2; fail "the error does not name the corrupt checkpoint"; }
echo "ok: corrupt checkpoint refused: $(grep -m1 "flipped.ckpt" "$WORK/refused.log")"
echo "4 passed, 0 failed"
