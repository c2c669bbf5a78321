#!/usr/bin/env bash
#  tests/bench/run.sh - the benchmark table of DESIGN §8, on this machine.
#
#  For each size (packets) it generates a synthetic month and measures, in
#  the same run on the same file: a bare pcap_next_ex loop (the ceiling),
#  `darkscope run` (embedded), the services as separate processes over tcp,
#  tshark field extraction, and the pandas reference (read_csv + overview)
#  on the CSV of `darkscope-ingest --output csv`.  Packets/s, wall time and
#  peak RSS go to a markdown table in $OUT (default tests/bench/results.md).
#
#  Usage: bash tests/bench/run.sh [SIZES...]      default: 1000000 10000000
#         BENCH_TSHARK_MAX / BENCH_PANDAS_MAX: largest size for those two
#         (defaults 1000000 / 10000000: they are slow or memory-hungry).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$ROOT/tests/bench/results.md}
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)
TSHARK_MAX=${BENCH_TSHARK_MAX:-1000000}
PANDAS_MAX=${BENCH_PANDAS_MAX:-10000000}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/darkscope-bench.XXXXXX)}
PY=/usr/bin/python3
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BUILD/bin/darkscope" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
cc -O2 -o "$WORK/bare_loop" tests/bench/bare_loop.c -lpcap

#  measure LABEL PACKETS CMD... : wall seconds and peak RSS (GNU time).
measure () {
    local label=$1 packets=$2; shift 2
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; echo "$label failed" >&2; return 1; }
    read -r secs kb < "$WORK/time"
    local rate; rate=$($PY -c "print(f'{$packets/max($secs,0.001)/1e6:.2f}')")
    echo "| $label | $(printf "%'d" "$packets") | $secs | $rate | $((kb / 1024)) |" >> "$WORK/table"
    echo "$secs" > "$WORK/last"
}

free_port () { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

#  The services as processes; prints "seconds total_peak_rss_kb".
distributed () {
    local pcap=$1 gt=$2 n=2
    local pin pout pctl pq; pin=$(free_port); pout=$(free_port); pctl=$(free_port); pq=$(free_port)
    local pids=() eps=()
    for k in $(seq 0 $((n - 1))); do
        local pa; pa=$(free_port); eps+=(--shard-endpoint "tcp://127.0.0.1:$pa")
        /usr/bin/time -f "%M" -o "$WORK/rss-agg$k" "$BUILD/bin/darkscope-aggregator" --quiet --shard "$k" --shards $n \
            --input "tcp://127.0.0.1:$pout" --endpoint "tcp://127.0.0.1:$pa" & pids+=($!)
    done
    /usr/bin/time -f "%M" -o "$WORK/rss-query" "$BUILD/bin/darkscope-query" --quiet --endpoint "tcp://127.0.0.1:$pq" "${eps[@]}" \
        --labeler "tcp://127.0.0.1:$pctl" & pids+=($!)
    /usr/bin/time -f "%M" -o "$WORK/rss-labeler" "$BUILD/bin/darkscope-labeler" --quiet --gt "$gt" --input "tcp://127.0.0.1:$pin" \
        --endpoint "tcp://127.0.0.1:$pout" --control "tcp://127.0.0.1:$pctl" --shards $n & pids+=($!)
    local t0; t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/rss-ingest" "$BUILD/bin/darkscope-ingest" --quiet --pcap "$pcap" --shards $n \
        --endpoint "tcp://127.0.0.1:$pin"
    until "$BUILD/bin/darkscope" query --endpoint "tcp://127.0.0.1:$pq" status --json 2>/dev/null \
          | $PY -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("complete") else 1)'; do sleep 0.05; done
    "$BUILD/bin/darkscope" query --endpoint "tcp://127.0.0.1:$pq" overview --json > "$WORK/dist.json"
    local t1; t1=$(date +%s.%N)
    $PY tests/bench/query_latency.py "tcp://127.0.0.1:$pq" 200 > "$WORK/latency.md"
    #  Stop the services, not the `time` wrappers, so each wrapper reports.
    for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    local rss=0 kb
    for f in "$WORK"/rss-*; do kb=$(tail -1 "$f" | tr -dc 0-9); rss=$((rss + ${kb:-0})); done
    $PY -c "print(f'{$t1-$t0:.2f}', $rss)"
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

for n in "${SIZES[@]}"; do
    echo "== $n packets" >&2
    pcap="$WORK/month-$n.pcap"; gt="$WORK/gt-$n.csv"
    "$BUILD/bin/darkscope" gen --quiet --out "$pcap" --gt-out "$gt" --packets "$n" --seed 1
    : > "$WORK/table"
    measure "bare pcap_next_ex loop" "$n" "$WORK/bare_loop" "$pcap"; bare=$(cat "$WORK/last")
    measure "darkscope run (embedded, 2 shards)" "$n" "$BUILD/bin/darkscope" run --quiet --pcap "$pcap" --gt "$gt" \
        --shards 2 --json "$WORK/run.json"; run=$(cat "$WORK/last")
    read -r dsecs drss < <(distributed "$pcap" "$gt")
    echo "| services as processes (tcp, 2 shards; RSS summed) | $(printf "%'d" "$n") | $dsecs | $($PY -c "print(f'{$n/$dsecs/1e6:.2f}')") | $((drss / 1024)) |" >> "$WORK/table"
    cmp -s "$WORK/run.json" "$WORK/dist.json" && same="identical" || same="DIFFERENT"
    tshark_note=""
    if [ "$n" -le "$TSHARK_MAX" ]; then
        measure "tshark -T fields" "$n" tshark -r "$pcap" -T fields -e frame.time_epoch -e ip.src -e ipv6.src \
            -e tcp.dstport -e udp.dstport -e ip.proto
    else tshark_note="tshark skipped above $TSHARK_MAX packets. "; fi
    pandas_note=""; ratio_pandas="-"
    if [ "$n" -le "$PANDAS_MAX" ]; then
        "$BUILD/bin/darkscope-ingest" --quiet --pcap "$pcap" --output csv --csv-extra --out "$WORK/records.csv"
        measure "pandas reference (read_csv + overview)" "$n" $PY tests/reference/overview.py "$WORK/records.csv" \
            --gt "$gt" --json "$WORK/ref.json"
        ratio_pandas=$($PY -c "print(f'{$(cat "$WORK/last")/$run:.1f}x')")
        $PY tests/reference/compare.py --ignore ingest "$WORK/ref.json" "$WORK/run.json" >/dev/null \
            && pandas_note="pandas result equals darkscope's. " || pandas_note="pandas result DIFFERS. "
        rm -f "$WORK/records.csv"
    else pandas_note="pandas skipped above $PANDAS_MAX packets. "; fi
    {
        echo
        echo "## $(printf "%'d" "$n") packets"
        echo
        echo "| what | packets | wall s | M packets/s | peak RSS MB |"
        echo "|---|---:|---:|---:|---:|"
        cat "$WORK/table"
        echo
        echo "darkscope run vs bare loop: $($PY -c "print(f'{$run/$bare:.2f}x')") the time; pandas vs darkscope run: $ratio_pandas."
        echo "Distributed overview vs embedded: $same. $tshark_note$pandas_note"
        echo
        echo "Query latency over this data (services as processes, 200 requests each, pyzmq client):"
        echo
        cat "$WORK/latency.md"
    } >> "$OUT.tmp"
    rm -f "$pcap"
done
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
