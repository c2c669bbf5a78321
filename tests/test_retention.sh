#  test_retention.sh - `--retain-days`: a 90-day stream run with
#  --retain-days 30 gives, byte for byte, the overview of a fresh run over
#  only its last 30 days (the capture cut with editcap), and of the full
#  run asked for the window of those 30 days.  A small capture (one batch
#  per shard) of 41 days whose last day has one source (so one shard's
#  newest day is the day before) still gives the retained 30 days, whole.
#  DESIGN §12.
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/q.pcap" --gt-out "$WORK/gt.csv" \
    --seed 5 --packets 400000 --days 90 --start 2021-01-01
#  Day 61 of 90 starts at 2021-03-02 00:00 UTC.
FIRST=2021-03-02
CUT=$($PY -c 'import calendar,time; print(calendar.timegm(time.strptime("2021-03-02","%Y-%m-%d")))')

"$DS_BIN/darkscope" run --quiet --pcap "$WORK/q.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --retain-days 30 --json "$WORK/retained.json" || fail "run --retain-days 30 failed"
editcap -A "$CUT" "$WORK/q.pcap" "$WORK/last30.pcap" || fail "editcap could not cut the capture"
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/last30.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --json "$WORK/last30.json" || fail "run on the last 30 days failed"
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/q.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --first-day "$FIRST" --json "$WORK/window.json" || fail "run with --first-day failed"

$PY - "$WORK/retained.json" "$FIRST" <<'PYEOF' || fail "the retained run's window is not the last 30 days"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["window"]["first_day"] == sys.argv[2] and o["window"]["days"] == 30, o["window"]
PYEOF
#  The ingest counters differ from the cut file's (it read fewer packets).
$PY "$REF/compare.py" --ignore ingest "$WORK/last30.json" "$WORK/retained.json" \
    || fail "--retain-days 30 differs from a fresh run over the last 30 days"
$PY "$REF/compare.py" "$WORK/window.json" "$WORK/retained.json" \
    || fail "--retain-days 30 differs from the full run's last-30-days window"

#  41 days of 20 sources a day, the 41st only 10.0.0.1: one shard sees day
#  41, the other's newest is day 40.  Every batch of a shard is one batch.
$PY - "$WORK/edge.pcap" <<'PYEOF'
import calendar, struct, sys
def frame(src):
    eth = b'\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, bytes(src), bytes([203, 0, 113, 9]))
    return eth + ip + struct.pack('!HHIIBBHHH', 40000, 23, 0, 0, 0x50, 0x02, 1024, 0, 0)
t0 = calendar.timegm((2021, 3, 1, 0, 0, 0))
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for d in range(41):
        for s in (range(1, 21) if d < 40 else [1]):
            data = frame([10, 0, 0, s])
            f.write(struct.pack('<IIII', t0 + d * 86400 + 3600 + s, 0, len(data), len(data)) + data)
PYEOF
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/edge.pcap" --shards 2 --min-packets 1 \
    --retain-days 30 --json "$WORK/edge.json" || fail "run --retain-days 30 on the small capture failed"
$PY - "$WORK/edge.json" <<'PYEOF' || fail "the small capture's retained window is not its last 30 days, whole"
import json, sys
o = json.load(open(sys.argv[1]))
w = o["window"]
assert (w["first_day"], w["last_day"], w["days"]) == ("2021-03-12", "2021-04-10", 30), w
d = o["daily"]
assert [x["sources"] for x in d] == [20] * 29 + [1], d
assert o["dataset"]["window"]["packets"] == 29 * 20 + 1, o["dataset"]
PYEOF
echo "ok: --retain-days 30 over 90 days == a run over the last 30 days == that window of the full run;"
echo "    a one-batch capture keeps its last 30 days, whole, when one shard is a day behind"
