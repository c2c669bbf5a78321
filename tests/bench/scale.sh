#!/usr/bin/env bash
#  tests/bench/scale.sh - the scale targets of DESIGN §8 and §10, on this
#  machine; writes tests/bench/scale.md.  Not a ctest (minutes, GBs).
#
#   1. The DarkVec month (63.5 M packets): `darkscope run --json --report`,
#      wall time and peak RSS, figures written.
#   2. Latency and reply size of every query over the month from a C client
#      (tests/bench/query_latency.c): the finished run serving queries, and
#      the services as processes while the month streams through them.
#   3. 10x the month (635 M packets) streamed from `darkscope gen --out -`
#      through a pipe: embedded (`run --pcap - --report`) and as processes
#      with 4 shards (`darkscope-ingest --pcap -`, then `darkscope report`),
#      peak RSS summed over the processes.
#
#  Usage: bash tests/bench/scale.sh [MONTH.pcap MONTH-gt.csv]
#         (default: generates the month into the work directory)
#         BENCH_X10=0 skips step 3; BENCH_N (default 30) requests per query.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$ROOT/tests/bench/scale.md}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/darkscope-scale.XXXXXX)}
N=${BENCH_N:-30}
PY=/usr/bin/python3
BIN=$BUILD/bin
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -x "$BIN/darkscope" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
cc -O2 -std=c11 -D_GNU_SOURCE -o "$WORK/query_latency" tests/bench/query_latency.c -Iproto \
   "$BUILD/proto/libds_proto.a" $(pkg-config --libs libczmq libzmq) -lmsgpackc

MONTH=${1:-}; GT=${2:-}
if [ -z "$MONTH" ]; then
    MONTH=$WORK/month.pcap; GT=$WORK/month-gt.csv
    "$BIN/darkscope" gen --quiet --out "$MONTH" --gt-out "$GT" --packets 63500000
fi
source "$ROOT/tests/ports.sh"            #  free_port: 20000-32000, never twice
#  complete ENDPOINT [PID]: waits until status says complete; fails if the
#  process PID (the one serving ENDPOINT) has ended meanwhile.
complete () {
    until "$BIN/darkscope" query --endpoint "$1" status --json 2>/dev/null \
          | $PY -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("complete") else 1)' 2>/dev/null; do
        if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
            echo "the process serving $1 has ended (see $WORK/*.log)" >&2
            exit 1
        fi
        sleep 0.5
    done
}
#  gt_ready FILE: gen writes its ground truth (renamed into place, whole)
#  before the capture, so a consumer of `gen --out -` waits for it.
gt_ready () { until [ -e "$1" ]; do sleep 0.1; done; }
rss_sum () { local t=0 kb; for f in "$@"; do kb=$(tail -1 "$f" | tr -dc 0-9); t=$((t + ${kb:-0})); done; echo $((t / 1024)); }

#  services N_SHARDS TAG: starts aggregators, labeler, query (each under
#  GNU time, RSS to $WORK/rss-TAG-*); sets PIN (ingest endpoint), PQ.
services () {
    local n=$1 tag=$2 pout pctl eps=()
    PIN=tcp://127.0.0.1:$(free_port); pout=$(free_port); pctl=$(free_port); PQ=tcp://127.0.0.1:$(free_port)
    SPIDS=()
    for k in $(seq 0 $((n - 1))); do
        local pa; pa=$(free_port); eps+=(--shard-endpoint "tcp://127.0.0.1:$pa")
        /usr/bin/time -f "%M" -o "$WORK/rss-$tag-agg$k" "$BIN/darkscope-aggregator" --quiet --shard "$k" --shards "$n" \
            --input "tcp://127.0.0.1:$pout" --endpoint "tcp://127.0.0.1:$pa" & SPIDS+=($!)
    done
    /usr/bin/time -f "%M" -o "$WORK/rss-$tag-query" "$BIN/darkscope-query" --quiet --timeout-ms 60000 --endpoint "$PQ" "${eps[@]}" \
        --labeler "tcp://127.0.0.1:$pctl" & SPIDS+=($!)
    /usr/bin/time -f "%M" -o "$WORK/rss-$tag-labeler" "$BIN/darkscope-labeler" --quiet --gt "$GT_FOR" \
        --input "$PIN" --endpoint "tcp://127.0.0.1:$pout" --control "tcp://127.0.0.1:$pctl" --shards "$n" & SPIDS+=($!)
}
stop_services () { for p in "${SPIDS[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done; wait "${SPIDS[@]}" 2>/dev/null || true; }

{
    echo "# darkscope at scale"
    echo
    echo "Run: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB,"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(. /etc/os-release; echo "$PRETTY_NAME");"
    echo "darkscope $(git rev-parse --short HEAD 2>/dev/null || echo '?'). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
} > "$OUT.tmp"

#  1. The month's full report.
/usr/bin/time -f "%e %M" -o "$WORK/t-month" "$BIN/darkscope" run --quiet --pcap "$MONTH" --gt "$GT" \
    --json "$WORK/month.json" --report "$WORK/report" || { echo "month run failed" >&2; exit 1; }
read -r secs kb < "$WORK/t-month"
figs=$(ls "$WORK/report"/fig-*.svg 2>/dev/null | wc -l)
{
    echo "## The DarkVec month (63.5 M packets): run + full report"
    echo
    echo "| measure | value | target |"
    echo "|---|---:|---:|"
    echo "| wall time, \`darkscope run --json --report\` | $secs s | < 30 s |"
    echo "| peak RSS | $((kb / 1024)) MB | < 1 GB |"
    echo "| figures written (SVG) | $figs | every figure |"
    echo "| report size | $(du -sh "$WORK/report" | cut -f1) | |"
    echo
} >> "$OUT.tmp"

#  2. Query latency over the month: the finished run serving.
PQ=tcp://127.0.0.1:$(free_port)
"$BIN/darkscope" run --quiet --pcap "$MONTH" --gt "$GT" --endpoint "$PQ" --serve >"$WORK/serve.log" 2>&1 & RUN=$!
complete "$PQ" "$RUN"
{
    echo "## Every query over the month, C client ($N requests each; fresh = a new min_packets each time)"
    echo
    "$WORK/query_latency" "$PQ" "$N" "$RUN"
    echo
} >> "$OUT.tmp"
kill -INT "$RUN"; wait "$RUN" 2>/dev/null || true

#  ... and while the month streams through the services as processes.
GT_FOR=$GT services 2 stream
"$BIN/darkscope-ingest" --quiet --pcap "$MONTH" --shards 2 --endpoint "$PIN" & ING=$!
sleep 5
{
    echo "## The same queries while the month streams through the services (2 shards, tcp)"
    echo
    "$WORK/query_latency" "$PQ" 10
    echo
} >> "$OUT.tmp"
wait "$ING"; stop_services

#  3. Ten times the month, through a pipe.
if [ "${BENCH_X10:-1}" != 0 ]; then
    X=635000000
    "$BIN/darkscope" gen --quiet --out - --gt-out "$WORK/x10-gt.csv" --packets $X 2>/dev/null \
        | { gt_ready "$WORK/x10-gt.csv"
            /usr/bin/time -f "%e %M" -o "$WORK/t-x10" "$BIN/darkscope" run --quiet --pcap - --gt "$WORK/x10-gt.csv" \
              --shards 2 --json "$WORK/x10.json" --report "$WORK/x10-report"; } || { echo "10x embedded failed" >&2; exit 1; }
    read -r xsecs xkb < "$WORK/t-x10"
    GT_FOR=$WORK/x10-gt.csv services 4 x10      #  the same seed: the same ground truth
    t0=$(date +%s)
    "$BIN/darkscope" gen --quiet --out - --gt-out "$WORK/x10-gt2.csv" --packets $X 2>/dev/null \
        | /usr/bin/time -f "%M" -o "$WORK/rss-x10-ingest" "$BIN/darkscope-ingest" --quiet --pcap - --shards 4 --endpoint "$PIN"
    complete "$PQ"
    "$BIN/darkscope" report --endpoint "$PQ" --out "$WORK/x10-report-proc" >/dev/null 2>&1 || { echo "10x report failed" >&2; exit 1; }
    t1=$(date +%s)
    stop_services
    prss=$(rss_sum "$WORK"/rss-x10-*)
    sources=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["dataset"]["window"]["sources"])' "$WORK/x10.json")
    {
        echo "## Ten times the month (635 M packets, $sources sources), streamed from \`darkscope gen --out -\`"
        echo
        echo "| layout | wall time | peak RSS | figures | target |"
        echo "|---|---:|---:|---:|---:|"
        echo "| embedded, \`run --pcap - --report\` (2 shards) | $xsecs s | $((xkb / 1024)) MB | $(ls "$WORK/x10-report"/fig-*.svg | wc -l) | < 8 GB |"
        echo "| processes, 4 shards, \`darkscope report\` | $((t1 - t0)) s | $prss MB (sum) | $(ls "$WORK/x10-report-proc"/fig-*.svg | wc -l) | < 8 GB |"
        echo
    } >> "$OUT.tmp"
fi
mv "$OUT.tmp" "$OUT"
cat "$OUT"
