#  test_retention.sh - `--retain-days`: a 90-day stream run with
#  --retain-days 30 gives, byte for byte, the overview of a fresh run over
#  only its last 30 days (the capture cut with editcap), and of the full
#  run asked for the window of those 30 days.  DESIGN §12.
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
echo "ok: --retain-days 30 over 90 days == a run over the last 30 days == that window of the full run"
