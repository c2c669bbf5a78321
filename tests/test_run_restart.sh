#  test_run_restart.sh - `darkscope run --checkpoint-dir D` run again on the
#  same input (restart from checkpoints, DESIGN §12): the shards restore
#  complete stores, the replayed file adds nothing, and the run ends with
#  the same overview.  It used to wait forever: a restored complete shard
#  tells its end of stream as it starts, and the run did not count it.
#  The replayed batches are ignored and said so; so is a different capture
#  sent under the same sensor into those checkpoints (its data is not
#  counted: the warning tells the operator what to do instead).
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --packets 20000 || fail "gen failed"
"$DS_BIN/darkscope" gen --quiet --out "$WORK/other.pcap" --gt-out "$WORK/other.csv" --packets 20000 --seed 7 \
    || fail "gen failed"
run () {
    timeout 120 "$DS_BIN/darkscope" run --quiet --pcap "$WORK/${2:-m}.pcap" --gt "$WORK/gt.csv" \
        --checkpoint-dir "$WORK/ck" --json "$WORK/$1" 2>>"$WORK/run.log"
}
run first.json || { cat "$WORK/run.log" >&2; fail "first run failed"; }
[ -s "$WORK/ck/shard-0.ckpt" ] && [ -s "$WORK/ck/shard-1.ckpt" ] || fail "no checkpoints written"
rc=0; run again.json || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/run.log" >&2; fail "the run from its checkpoints exited $rc (124: it hung)"; }
cmp -s "$WORK/first.json" "$WORK/again.json" || fail "the run from its checkpoints gave another overview"
grep -q "was applied before: ignored as a replay" "$WORK/run.log" \
    || { cat "$WORK/run.log" >&2; fail "the replayed batches were ignored without a word"; }
echo "ok: run restarted from its checkpoints, same overview, the replay said"
: > "$WORK/run.log"
run other.json other || { cat "$WORK/run.log" >&2; fail "the run of another capture exited non-zero"; }
grep -q "ignored as a replay.*give it its own --sensor" "$WORK/run.log" \
    || { cat "$WORK/run.log" >&2; fail "another capture under the same sensor was ignored without a word"; }
echo "ok: another capture into the same checkpoints: ignored, and the warning says what to do"
