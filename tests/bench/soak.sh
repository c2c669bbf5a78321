#!/usr/bin/env bash
#  tests/bench/soak.sh - continuous operation (DESIGN §12, issue 13): a year
#  of telescope traffic at DarkVec's rate streamed through a pipe into one
#  `darkscope run --retain-days 30`; writes tests/bench/soak.md, the per-day
#  samples (soak-days.csv), the checkpoints (soak-ckpt.csv) and the plot of
#  memory against the simulated day (soak-rss.png).  Not a ctest (minutes).
#
#      darkscope gen --out - --days 365 --packets 730000000 --max-active-days 30 \
#        | darkscope run --pcap - --retain-days 30 --checkpoint-dir D --endpoint E
#
#  gen's --max-active-days makes the stream steady (every day the same mix of
#  sources, so day 300 looks like day 30 and flat memory means no leak, not a
#  quieter generator).  tests/bench/soak_sample.py asks `status` a few times
#  a second and, on each new day, samples the process RSS and the shards'
#  store memory, times `status` (and every 7th day `overview` and `daily`),
#  and notes every checkpoint's pause and duration.
#
#  Usage: bash tests/bench/soak.sh        DAYS (365), PER_DAY (2000000),
#         RETAIN (30), SHARDS (2), CKPT_S (10, checkpoint interval), SEED (1),
#         OVERVIEW_EVERY (7) from the environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
BIN=$BUILD/bin
OUTDIR=${OUTDIR:-$ROOT/tests/bench}
DAYS=${DAYS:-365}
PER_DAY=${PER_DAY:-2000000}
RETAIN=${RETAIN:-30}
SHARDS=${SHARDS:-2}
CKPT_S=${CKPT_S:-10}
SEED=${SEED:-1}
EVERY=${OVERVIEW_EVERY:-7}
START=2021-03-02
PY=/usr/bin/python3
WORK=${BENCH_WORK:-$(mktemp -d /tmp/darkscope-soak.XXXXXX)}
RUN_PID=
trap '[ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
[ -x "$BIN/darkscope" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
source "$ROOT/tests/ports.sh"            #  free_port: 20000-32000
PORT=$(free_port)
EP=tcp://127.0.0.1:$PORT
PACKETS=$((DAYS * PER_DAY))
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
T0=$(date +%s.%N)

"$BIN/darkscope" gen --quiet --out - --days "$DAYS" --packets "$PACKETS" --seed "$SEED" \
        --start "$START" --max-active-days "$RETAIN" 2>"$WORK/gen.err" \
  | /usr/bin/time -f '%e %M' -o "$WORK/time" \
    "$BIN/darkscope" run --quiet --pcap - --shards "$SHARDS" --retain-days "$RETAIN" \
        --checkpoint-dir "$WORK/ckpt" --checkpoint-interval "$CKPT_S" \
        --endpoint "$EP" --json "$WORK/overview.json" 2>"$WORK/run.err" &
PIPE_PID=$!     #  the pipeline's last process: /usr/bin/time, the run's parent
for _ in $(seq 100); do
    RUN_PID=$(pgrep -P "$PIPE_PID" darkscope 2>/dev/null || true)
    [ -n "$RUN_PID" ] && break
    sleep 0.1
done
[ -n "$RUN_PID" ] || { echo "soak: the run did not start" >&2; cat "$WORK/run.err" >&2; exit 1; }
$PY tests/bench/soak_sample.py "$BIN/darkscope" "$EP" "$RUN_PID" "$START" \
    "$OUTDIR/soak-days.csv" "$OUTDIR/soak-ckpt.csv" "$EVERY"
RC=0; wait "$PIPE_PID" || RC=$?
RUN_PID=
T1=$(date +%s.%N)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$RC" -eq 0 ] || { echo "soak: the pipeline failed ($RC)" >&2; cat "$WORK/gen.err" "$WORK/run.err" >&2; }
read -r WALL PEAK_KB < <(tail -1 "$WORK/time") || true
CKPT_MB=$(du -cm "$WORK"/ckpt/*.ckpt 2>/dev/null | tail -1 | cut -f1)

#  Memory against the simulated day.
gnuplot <<EOF
set terminal pngcairo size 900,480 font ",10"
set output "$OUTDIR/soak-rss.png"
set datafile separator ","
set key outside bottom center horizontal
set xlabel "simulated day (2 M packets/day, --retain-days $RETAIN)"
set ylabel "MB"
set yrange [0:*]
set autoscale xfix
set grid
plot "$OUTDIR/soak-days.csv" using 1:4 skip 1 with lines lw 2 title "process RSS (darkscope run)", \
     "" using 1:(\$5 == $SHARDS ? \$6 : NaN) skip 1 with lines lw 2 title "store memory (status, all shards)"
EOF

$PY - "$OUTDIR/soak-days.csv" "$OUTDIR/soak-ckpt.csv" "$WORK/overview.json" "$RETAIN" <<PYEOF > "$OUTDIR/soak.md"
import csv, json, statistics, sys
days = list(csv.DictReader(open(sys.argv[1])))
ck = list(csv.DictReader(open(sys.argv[2])))
retain = int(sys.argv[4])
try:
    ov = json.load(open(sys.argv[3]))
except (OSError, ValueError):
    ov = None
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))] if v else float("nan")
print("# Soak: a year at DarkVec's rate through --retain-days $RETAIN")
print()
print("Run: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB,")
print("$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before $LOAD0, after $LOAD1")
print("(the machine is shared).  darkscope $REV (the tree at the start), build $BUILD.")
print()
print("    darkscope gen --out - --days $DAYS --packets $PACKETS --max-active-days $RETAIN \\\\")
print("      | darkscope run --pcap - --shards $SHARDS --retain-days $RETAIN --checkpoint-dir D \\\\")
print("                      --checkpoint-interval $CKPT_S --endpoint E --json overview.json")
print()
last = int(days[-1]["day"]) + 1 if days else 0
print(f"Simulated days streamed: {last} of $DAYS ({'$PACKETS'} packets asked); pipeline exit {$RC}; wall $WALL s; "
      f"peak RSS of the run {int('${PEAK_KB:-0}') / 1024:.0f} MB; final checkpoints ${CKPT_MB:-?} MB.")
if ov:
    w = ov["window"]
    print(f"Final overview: window {w['first_day']}..{w['last_day']} ({w['days']} days), "
          f"{ov['dataset']['window']['packets']} packets in it; ingest read {ov['ingest'].get('packets_read', '?')} packets.")
print()
after = [r for r in days if int(r["day"]) >= retain and r["rss_mb"]]
if after:
    rss = [float(r["rss_mb"]) for r in after]
    mem = [float(r["store_mb"]) for r in after if r["store_mb"]]
    late = sum(1 for r in days if r["store_mb"] == "")
    for name, v in (("process RSS", rss), ("store memory", mem)):
        if not v:
            continue
        ref = v[0]
        print(f"- {name} from day {after[0]['day']} to day {after[-1]['day']} ({len(v)} samples): "
              f"at day {after[0]['day']} {ref:.0f} MB, min {min(v):.0f}, median {statistics.median(v):.0f}, "
              f"max {max(v):.0f} MB: {100 * (min(v) - ref) / ref:+.1f} % .. {100 * (max(v) - ref) / ref:+.1f} % "
              f"of day {after[0]['day']}; flat within 10 %: {'yes' if max(v) <= 1.1 * ref and min(v) >= 0.9 * ref else 'NO'}")
    r30 = [r for r in days if int(r["day"]) < retain]
    if r30:
        print(f"- while the first {retain} days fill: RSS {float(r30[0]['rss_mb'] or 0):.0f} -> {float(r30[-1]['rss_mb'] or 0):.0f} MB, "
              f"store {float(r30[0]['store_mb'] or 0):.0f} -> {float(r30[-1]['store_mb'] or 0):.0f} MB")
    print(f"- days evicted (per shard) at the end: {days[-1]['evicted_days']}; records received: {days[-1]['records'] or '?'}")
    if late:
        print(f"- {late} of {len(days)} samples lack the store columns: a shard answered status after the query "
              f"service's 5 s timeout (busy sealing or evicting a day, or forking, on a loaded machine)")
print()
print("![RSS and store memory against the simulated day](soak-rss.png)")
print()
print("Checkpoints (every $CKPT_S s when changed, a forked child writes; the pause is the data path's):")
print()
print("| | writes | p50 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|")
for name, key in (("pause of the data path", "pause_ms"), ("write (child)", "duration_ms")):
    v = [float(r[key]) for r in ck if r[key] not in ("", "None")]
    if v:
        print(f"| {name} | {len(v)} | {pct(v, .5):.1f} | {pct(v, .99):.1f} | {max(v):.1f} |")
print()
print("Query latency over the year, end to end through the darkscope CLI (process start included),")
print("while the stream goes on (uncached: the data changes between queries):")
print()
print("| query | samples | p50 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|")
for q in ("status", "daily", "overview"):
    v = [float(r[q + "_ms"]) for r in days if r[q + "_ms"] not in ("", "fail")]
    fails = sum(1 for r in days if r[q + "_ms"] == "fail")
    if v:
        print(f"| {q} | {len(v)}{f' ({fails} failed)' if fails else ''} | {pct(v, .5):.1f} | {pct(v, .99):.1f} | {max(v):.1f} |")
PYEOF
cat "$OUTDIR/soak.md"
exit "$RC"
