#!/usr/bin/env bash
#  tests/bench/run.sh - the benchmark table of DESIGN §8, on this machine.
#
#  For each input it measures, in the same run on the same file: a bare
#  pcap_next_ex loop (the ceiling), `darkscope run` (embedded), the
#  services as separate processes over tcp, tshark field extraction, and
#  the pandas reference (read_csv + overview) on the CSV of
#  `darkscope-ingest --output csv`.  Each row: wall seconds, CPU seconds
#  (user + system, every thread and process), packets/s, peak RSS and the
#  load average when it started -- on a shared machine the wall clock
#  measures the neighbours too, the CPU seconds less so.  The bare loop
#  and `darkscope run` are timed BENCH_REPEAT times (default 3), best wall
#  kept.  Then the ratios per input (run / bare, tcp / bare, pandas / run),
#  the per-stage CPU breakdown (bench_stages.sh: read, parse, publish,
#  label, aggregate) and, with BENCH_PERF=1, a perf profile of `darkscope
#  run` per thread and per function.  Markdown goes to $OUT (default
#  tests/bench/results.md); what $OUT holds from the line
#  "<!-- notes: kept by run.sh -->" on (before/after notes written by
#  hand) is kept after the new tables.
#
#  Usage: bash tests/bench/run.sh [INPUT...]      default: 5000000
#         INPUT is a packet count (a month generated with that many
#         packets, seed 1) or PCAP:GT, an existing capture and its ground
#         truth, e.g. the DarkVec-size month:
#           bash tests/bench/run.sh 5000000 /work/data/month.pcap:/work/data/month-gt.csv
#         BENCH_TSHARK_MAX / BENCH_PANDAS_MAX: largest size for those two
#         (defaults 1000000 / 10000000: they are slow or memory-hungry).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$ROOT/tests/bench/results.md}
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(5000000)
REPEAT=${BENCH_REPEAT:-3}
TSHARK_MAX=${BENCH_TSHARK_MAX:-1000000}
PANDAS_MAX=${BENCH_PANDAS_MAX:-10000000}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/darkscope-bench.XXXXXX)}
PY=/usr/bin/python3
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BUILD/bin/darkscope" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
cc -O2 -o "$WORK/bare_loop" tests/bench/bare_loop.c -lpcap

load () { cut -d" " -f1 /proc/loadavg; }

#  measure LABEL PACKETS CMD... : best wall seconds of REPEAT runs (1 with
#  MEASURE_ONCE=1), its CPU seconds and peak RSS (GNU time), the load
#  average before it.  Leaves "wall cpu" in $WORK/last.
measure () {
    local label=$1 packets=$2; shift 2
    local runs=$REPEAT best="" line
    [ -n "${MEASURE_ONCE:-}" ] && runs=1
    for _ in $(seq "$runs"); do
        local l0; l0=$(load)
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" \
            || { cat "$WORK/err" >&2; echo "$label failed" >&2; return 1; }
        read -r secs user sys kb < "$WORK/time"
        line="$secs $($PY -c "print(f'{$user+$sys:.2f}')") $kb $l0"
        if [ -z "$best" ] || $PY -c "import sys; sys.exit(0 if $secs < ${best%% *} else 1)"; then best=$line; fi
    done
    read -r secs cpu kb l0 <<< "$best"
    local rate; rate=$($PY -c "print(f'{$packets/max($secs,0.001)/1e6:.2f}')")
    echo "| $label | $(printf "%'d" "$packets") | $secs | $cpu | $rate | $((kb / 1024)) | $l0 |" >> "$WORK/table"
    echo "$secs $cpu" > "$WORK/last"
}

source "$ROOT/tests/ports.sh"            #  free_port: 20000-32000, never twice

#  The services as processes; prints "seconds cpu_seconds total_peak_rss_kb"
#  (CPU and RSS summed over the processes).  Timed: from the services'
#  start to the overview in hand, after every shard has every end of
#  stream.  The end is seen by one waiting client (wait_complete.py,
#  started and connected before the clock starts, released when ingest
#  exits: it asks `status` every 2 ms), not by a new client and Python
#  process every 50 ms.
distributed () {
    local pcap=$1 gt=$2 n=2
    local pin pout pctl pq; pin=$(free_port); pout=$(free_port); pctl=$(free_port); pq=$(free_port)
    local pids=() eps=()
    rm -f "$WORK/go" "$WORK/waiter"; mkfifo "$WORK/go"
    exec 3<>"$WORK/go"                  #  read-write: neither side blocks opening it
    $PY tests/bench/wait_complete.py "tcp://127.0.0.1:$pq" 3600 <&3 > "$WORK/waiter" & local waiter=$!
    until grep -q ready "$WORK/waiter" 2>/dev/null; do
        kill -0 "$waiter" 2>/dev/null || { echo "wait_complete.py failed" >&2; return 1; }
        sleep 0.01
    done
    for k in $(seq 0 $((n - 1))); do
        local pa; pa=$(free_port); eps+=(--shard-endpoint "tcp://127.0.0.1:$pa")
        /usr/bin/time -f "%U %S %M" -o "$WORK/rss-agg$k" "$BUILD/bin/darkscope-aggregator" --quiet --shard "$k" --shards $n \
            --input "tcp://127.0.0.1:$pout" --endpoint "tcp://127.0.0.1:$pa" & pids+=($!)
    done
    /usr/bin/time -f "%U %S %M" -o "$WORK/rss-query" "$BUILD/bin/darkscope-query" --quiet --endpoint "tcp://127.0.0.1:$pq" "${eps[@]}" \
        --labeler "tcp://127.0.0.1:$pctl" & pids+=($!)
    /usr/bin/time -f "%U %S %M" -o "$WORK/rss-labeler" "$BUILD/bin/darkscope-labeler" --quiet --gt "$gt" --input "tcp://127.0.0.1:$pin" \
        --endpoint "tcp://127.0.0.1:$pout" --control "tcp://127.0.0.1:$pctl" --shards $n & pids+=($!)
    local t0; t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S %M" -o "$WORK/rss-ingest" "$BUILD/bin/darkscope-ingest" --quiet --pcap "$pcap" --shards $n \
        --endpoint "tcp://127.0.0.1:$pin"
    echo go >&3
    wait "$waiter" || { exec 3>&-; echo "the services did not complete (wait_complete.py)" >&2; return 1; }
    exec 3>&-
    "$BUILD/bin/darkscope" query --endpoint "tcp://127.0.0.1:$pq" overview --json > "$WORK/dist.json"
    local t1; t1=$(date +%s.%N)
    $PY tests/bench/query_latency.py "tcp://127.0.0.1:$pq" 200 > "$WORK/latency.md"
    #  Stop the services, not the `time` wrappers, so each wrapper reports.
    for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    local rss=0 cpu=0 u sy kb
    for f in "$WORK"/rss-*; do
        read -r u sy kb < <(tail -1 "$f")
        rss=$((rss + ${kb:-0})); cpu=$($PY -c "print($cpu + ${u:-0} + ${sy:-0})")
    done
    rm -f "$WORK"/rss-*
    $PY -c "print(f'{$t1-$t0:.2f}', f'{$cpu:.2f}', $rss)"
}

{
    echo "# darkscope benchmarks"
    echo
    echo "Run: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB,"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(. /etc/os-release; echo "$PRETTY_NAME")."
    echo "darkscope $(git rev-parse --short HEAD 2>/dev/null || echo '?'), build $BUILD. Packets/s are millions."
} > "$OUT.tmp"

#  The correctness table: the differential test (darkscope vs the pandas
#  reference) on generated months and on every real file in shared/data.
echo "== correctness (tests/test_differential.sh)" >&2
{
    echo
    echo "## Correctness: darkscope run vs the pandas reference"
    echo
    echo "| case | every §5 field equal |"
    echo "|---|---|"
    if DS_BIN="$BUILD/bin" DS_SOURCE="$ROOT" DS_SHARED_DATA="${DS_SHARED_DATA:-$ROOT/../shared/data}" \
         bash tests/test_differential.sh > "$WORK/diff.log" 2>&1; then verdict=yes; else verdict=NO; fi
    sed -n 's/^ok: \(.*\)/| \1 | yes |/p' "$WORK/diff.log"
    grep -q '^FAIL' "$WORK/diff.log" && echo "| $(grep -m1 '^FAIL' "$WORK/diff.log" | sed 's/|/\\|/g') | NO |"
    echo
    echo "Differential test overall: $verdict."
} >> "$OUT.tmp"

: > "$WORK/ratios"
for input in "${SIZES[@]}"; do
    if [[ "$input" == *:* ]]; then
        pcap=${input%%:*}; gt=${input#*:}; generated=""
        n=$("$WORK/bare_loop" "$pcap" | cut -d" " -f1)
    else
        n=$input; pcap="$WORK/month-$n.pcap"; gt="$WORK/gt-$n.csv"; generated=1
        "$BUILD/bin/darkscope" gen --quiet --out "$pcap" --gt-out "$gt" --packets "$n" --seed 1
    fi
    echo "== $n packets ($pcap)" >&2
    : > "$WORK/table"
    measure "bare pcap_next_ex loop" "$n" "$WORK/bare_loop" "$pcap"; read -r bare bare_cpu < "$WORK/last"
    measure "darkscope run (embedded, 2 shards)" "$n" "$BUILD/bin/darkscope" run --quiet --pcap "$pcap" --gt "$gt" \
        --shards 2 --json "$WORK/run.json"; read -r run run_cpu < "$WORK/last"
    l0=$(load)
    read -r dsecs dcpu drss < <(distributed "$pcap" "$gt")
    echo "| services as processes (tcp, 2 shards; CPU, RSS summed) | $(printf "%'d" "$n") | $dsecs | $dcpu | $($PY -c "print(f'{$n/$dsecs/1e6:.2f}')") | $((drss / 1024)) | $l0 |" >> "$WORK/table"
    cmp -s "$WORK/run.json" "$WORK/dist.json" && same="identical" || same="DIFFERENT"
    tshark_note=""
    if [ "$n" -le "$TSHARK_MAX" ]; then
        MEASURE_ONCE=1 measure "tshark -T fields" "$n" tshark -r "$pcap" -T fields -e frame.time_epoch -e ip.src -e ipv6.src \
            -e tcp.dstport -e udp.dstport -e ip.proto
    else tshark_note="tshark skipped above $TSHARK_MAX packets. "; fi
    pandas_note=""; ratio_pandas="-"
    if [ "$n" -le "$PANDAS_MAX" ]; then
        "$BUILD/bin/darkscope-ingest" --quiet --pcap "$pcap" --output csv --csv-extra --out "$WORK/records.csv"
        MEASURE_ONCE=1 measure "pandas reference (read_csv + overview)" "$n" $PY tests/reference/overview.py "$WORK/records.csv" \
            --gt "$gt" --json "$WORK/ref.json"
        read -r pandas pandas_cpu < "$WORK/last"
        ratio_pandas=$($PY -c "print(f'{$pandas/$run:.1f}x')")
        $PY tests/reference/compare.py --ignore ingest "$WORK/ref.json" "$WORK/run.json" >/dev/null \
            && pandas_note="pandas result equals darkscope's. " || pandas_note="pandas result DIFFERS. "
        rm -f "$WORK/records.csv"
    else pandas_note="pandas skipped above $PANDAS_MAX packets. "; fi
    ratio () { $PY -c "print(f'{$1/$2:.2f}x' if $2 > 0 else '-')"; }     #  (a tiny input: 0.00 s)
    echo "| $(printf "%'d" "$n") | $(ratio "$run" "$bare") | $(ratio "$run_cpu" "$bare_cpu") | $(ratio "$dsecs" "$bare") | $ratio_pandas | $l0 |" >> "$WORK/ratios"
    echo "== stages" >&2
    bash tests/bench/bench_stages.sh "$pcap" "$gt" 2 "$BUILD" 2>/dev/null > "$WORK/stages" || echo "(bench_stages failed)" > "$WORK/stages"
    if [ -n "${BENCH_PERF:-}" ]; then
        echo "== perf" >&2
        perf record -q -F 999 -o "$WORK/perf.data" -- "$BUILD/bin/darkscope" run --quiet --pcap "$pcap" --gt "$gt" \
            --shards 2 --json "$WORK/perf.json" >/dev/null 2>&1
        { echo '```'; echo "threads (CPU share):"
          { perf report -i "$WORK/perf.data" --no-children -g none --sort comm 2>/dev/null | grep '%' | head -8; } || true
          echo; echo "functions:"
          { perf report -i "$WORK/perf.data" --no-children -g none --sort sym 2>/dev/null | grep '%' | head -25; } || true
          echo '```'; } > "$WORK/perf.md"
    fi
    {
        echo
        if [ -n "$generated" ]; then what="generated, seed 1"; else what=$(basename "$pcap"); fi
        echo "## $(printf "%'d" "$n") packets ($what)"
        echo
        echo "| what | packets | wall s | CPU s | M packets/s | peak RSS MB | load |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        cat "$WORK/table"
        echo
        echo "darkscope run vs bare loop: $(ratio "$run" "$bare") the wall time, $(ratio "$run_cpu" "$bare_cpu") the CPU time;"
        echo "tcp vs bare loop: $(ratio "$dsecs" "$bare") the wall time; pandas vs darkscope run: $ratio_pandas."
        echo "Distributed overview vs embedded: $same. $tshark_note$pandas_note"
        echo
        echo "Per stage, one thread, CPU seconds (tests/bench/bench_stages.sh):"
        echo
        grep -v '^load average' "$WORK/stages"
        if [ -n "${BENCH_PERF:-}" ]; then
            echo
            echo "Profile of \`darkscope run\` (perf record, cpu-clock):"
            echo
            cat "$WORK/perf.md"
        fi
        echo
        echo "Query latency over this data (services as processes, 200 requests each, pyzmq client):"
        echo
        cat "$WORK/latency.md"
    } >> "$WORK/sections"
    [ -n "$generated" ] && rm -f "$pcap"
done
{
    echo
    echo "## Ratios (DESIGN §8: run within 2x the bare loop, tcp within 2.5x, pandas >= 40x)"
    echo
    echo "| packets | run / bare (wall) | run / bare (CPU) | tcp / bare (wall) | pandas / run (wall) | load |"
    echo "|---:|---:|---:|---:|---:|---:|"
    cat "$WORK/ratios"
    cat "$WORK/sections"
    if [ -f "$OUT" ] && grep -q '^<!-- notes: kept by run.sh -->' "$OUT"; then
        echo
        sed -n '/^<!-- notes: kept by run.sh -->/,$p' "$OUT"
    fi
} >> "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
