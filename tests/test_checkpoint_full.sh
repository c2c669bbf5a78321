#  test_checkpoint_full.sh - checkpoints on a full file system (DESIGN §12:
#  a failed checkpoint is visible; non-zero exit if the final one fails).
#
#  A 256 KiB tmpfs holds the checkpoints (mounting needs root or
#  CAP_SYS_ADMIN; without it the test is skipped, saying so: ctest shows it
#  as skipped, never as passed).
#    1. `darkscope run --checkpoint-dir` on the full disk: the overview is
#       still written and right, the run exits 1 naming the failure (ENOSPC),
#       and no temporary file is left behind.
#    2. The services apart: the aggregator's checkpoints fail while the
#       stream completes unharmed; status shows the failures and the reason;
#       once the disk has room again the next checkpoint is written (status
#       clears the error) and SIGTERM exits 0.  Full again, SIGTERM exits 1.
source "$(dirname "$0")/lib.sh"

FULL="$WORK/full"
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=256k tmpfs "$FULL" 2>"$WORK/mount.err"; then
    echo "skip: cannot mount a tmpfs here ($(cat "$WORK/mount.err")): needs root or CAP_SYS_ADMIN"
    exit 77
fi
trap 'umount "$FULL" 2>/dev/null || true; cleanup' EXIT

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" \
    --seed 4 --packets 200000 --days 5
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --json "$WORK/plain.json" || fail "darkscope run failed"

#  1. darkscope run: exit 1, the overview all the same.
rc=0
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --checkpoint-dir "$FULL/run" --json "$WORK/full.json" 2>"$WORK/run.log" || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/run.log" >&2; fail "run with a full checkpoint disk: exit $rc, want 1"; }
grep -q "final checkpoint failed: .*No space left on device" "$WORK/run.log" \
    || { cat "$WORK/run.log" >&2; fail "the run does not say why its final checkpoint failed"; }
cmp "$WORK/plain.json" "$WORK/full.json" || fail "the overview differs when checkpoints fail"
! ls "$FULL"/run/*.tmp 2>/dev/null | grep -q . || fail "a temporary checkpoint file was left behind"
echo "ok: darkscope run: final checkpoint failed (ENOSPC) -> exit 1, overview written and right"

#  2. The services apart.
SHARDS=1
P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_Q=$(free_port); P_AGG=$(free_port)
QUERY="tcp://127.0.0.1:$P_Q"
start_agg () {
    "$DS_BIN/darkscope-aggregator" --shard 0 --shards $SHARDS --input "tcp://127.0.0.1:$P_LAB" \
        --endpoint "tcp://127.0.0.1:$P_AGG" --checkpoint "$FULL/shard-0.ckpt" \
        --checkpoint-interval 1 2>>"$WORK/agg.log" & PIDS+=($!)
    AGG=$!
}
start_agg
"$DS_BIN/darkscope-query" --quiet --endpoint "$QUERY" --labeler "tcp://127.0.0.1:$P_CTL" \
    --shard-endpoint "tcp://127.0.0.1:$P_AGG" 2>>"$WORK/query.log" & PIDS+=($!)
"$DS_BIN/darkscope-labeler" --quiet --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$P_IN" \
    --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" --shards $SHARDS \
    2>>"$WORK/labeler.log" & PIDS+=($!)
status_check () {
    "$DS_BIN/darkscope" query --endpoint "$QUERY" status --json --timeout-ms 2000 \
        >"$WORK/status.json" 2>/dev/null || return 1
    $PY -c 'import json,sys
s = json.load(open(sys.argv[1])); sh = s["shards"][0]
c = sh["status"]["checkpoints"] if sh.get("ok") else None
sys.exit(0 if c is not None and eval(sys.argv[2]) else 1)' "$WORK/status.json" "$1"
}
wait_for () {
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        status_check "$2" && return 0
        sleep 0.1
    done
    cat "$WORK/status.json" "$WORK/agg.log" >&2 || true
    fail "timed out waiting for: $1"
}
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/m.pcap" --shards $SHARDS \
    --endpoint "tcp://127.0.0.1:$P_IN" || fail "ingest failed"
wait_for "the stream to complete and a checkpoint to fail" \
    's["complete"] and c["failed"] >= 1 and "No space left on device" in (c["last_error"] or "")'
"$DS_BIN/darkscope" query --endpoint "$QUERY" overview --json > "$WORK/served.json" || fail "overview failed"
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards 1 \
    --json "$WORK/one.json" || fail "darkscope run failed"
cmp "$WORK/one.json" "$WORK/served.json" || fail "the served overview differs while checkpoints fail"
echo "ok: checkpoints fail (status: $($PY -c 'import json,sys; c=json.load(open(sys.argv[1]))["shards"][0]["status"]["checkpoints"]; print(c["failed"], "failed:", c["last_error"])' "$WORK/status.json")); the stream completed unharmed"

mount -o remount,size=64m "$FULL" || fail "cannot grow the tmpfs"
wait_for "a checkpoint once there is room" 'c["written"] >= 1 and c["last_error"] is None'
kill -TERM "$AGG"
wait "$AGG" || fail "SIGTERM with the state on disk: exit $?, want 0"
[ -s "$FULL/shard-0.ckpt" ] && [ "$(stat -c %a "$FULL/shard-0.ckpt")" = 600 ] \
    || fail "no checkpoint of mode 0600 after the disk had room"
echo "ok: room again: checkpoint written (mode 0600), error cleared, SIGTERM exits 0"

#  Full again: the restarted aggregator cannot write its final checkpoint.
start_agg
wait_for "the restarted aggregator" 's["complete"]'
mount -o remount,size=64k "$FULL" 2>/dev/null || { rm -f "$FULL/shard-0.ckpt"; mount -o remount,size=64k "$FULL"; } \
    || fail "cannot shrink the tmpfs"
#  A change for the final checkpoint to write: the same stream again (replays).
"$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/m.pcap" --shards $SHARDS \
    --endpoint "tcp://127.0.0.1:$P_IN" || fail "ingest failed"
rc=0
kill -TERM "$AGG"
wait "$AGG" || rc=$?
[ $rc -eq 1 ] || { tail -5 "$WORK/agg.log" >&2; fail "SIGTERM with the final checkpoint failing: exit $rc, want 1"; }
grep -q "the final checkpoint failed" "$WORK/agg.log" || fail "the aggregator does not say its final checkpoint failed"
echo "ok: full again: the final checkpoint fails -> exit 1"
echo "4 passed, 0 failed"
