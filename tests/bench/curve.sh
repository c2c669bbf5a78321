#!/usr/bin/env bash
#  tests/bench/curve.sh - what CurveZMQ costs across hosts (DESIGN §11,
#  target < 10 %): the pipeline in network namespaces on a private bridge
#  (sensor, labeler, SHARDS aggregators, query; 198.18.N.0/24, nothing
#  leaves them), one generated capture streamed through it with CURVE on
#  every link (--cert/--trust, ENDPOINT@SERVER.cert) and again with plain
#  TCP (--insecure), alternating, REPEAT times each.  Throughput is packets
#  from the ingest's start to the aggregator's end of stream (the query
#  service's status says complete) over the wall time, and the CPU seconds
#  all services used for it (user + system time: steadier than wall time on
#  a shared machine; the ingest's from `times`, the others' from
#  /proc/PID/stat once the stream is complete, so neither the status
#  polling clients nor the overview asked after it count).  As root.
#
#  Every CURVE run's overview must equal `darkscope run`'s on the same
#  input byte for byte (the run stops otherwise).
#
#  Usage: bash tests/bench/curve.sh [PACKETS]   default 5000000; REPEAT=3,
#         SHARDS=1
#         PCAP=FILE GT=FILE bash tests/bench/curve.sh   an existing capture
#         (e.g. the DarkVec month) instead of a generated one
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${BUILD:-$ROOT/build}/bin
PACKETS=${1:-5000000}
REPEAT=${REPEAT:-3}
SHARDS=${SHARDS:-1}
PY=/usr/bin/python3
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/darkscope-bench-curve.XXXXXX)
TAG=$$; BR="dsbb$TAG"; NET="198.18.$((TAG % 250))"
NS=(s0 lab q); AGG=()
for ((k = 0; k < SHARDS; k++)); do NS+=("agg$k"); AGG+=("agg$k"); done
declare -A IP PID
teardown () {
    for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in "${NS[@]}"; do ip netns del "db$TAG-$n" 2>/dev/null || true; done
    ip link del "$BR" 2>/dev/null || true
    rm -rf "$WORK"
}
trap teardown EXIT
ip link add "$BR" type bridge
ip link set "$BR" type bridge nf_call_iptables 0 2>/dev/null || true
ip link set "$BR" up
i=1
for n in "${NS[@]}"; do
    ip netns add "db$TAG-$n"
    ip link add "b$TAG$n" type veth peer name eth0 netns "db$TAG-$n"
    ip link set "b$TAG$n" master "$BR" up
    IP[$n]="$NET.$i"; i=$((i + 1))
    ip -n "db$TAG-$n" addr add "${IP[$n]}/24" dev eth0
    ip -n "db$TAG-$n" link set eth0 up
    ip -n "db$TAG-$n" link set lo up
done
if [ -n "${PCAP:-}" ]; then
    ln -s "$(realpath "$PCAP")" "$WORK/m.pcap"; ln -s "$(realpath "${GT:?GT=ground truth of PCAP}")" "$WORK/gt.csv"
else
    "$BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 3 --packets "$PACKETS" --days 10
fi
#  The reference: the embedded run on the same input.
"$BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards "$SHARDS" --json "$WORK/embedded.json"
PACKETS=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["ingest"]["packets_read"])' "$WORK/embedded.json")
C="$WORK/certs"; mkdir -p "$C/trust"
for n in "${NS[@]}" client; do "$BIN/darkscope" keygen "$n" --dir "$C" 2>/dev/null; cp "$C/$n.cert" "$C/trust/"; done

#  cpu_children FILE: the CPU seconds (user + system) of the children this
#  shell waited for so far, from `times` (run in this shell, not in a $()
#  subshell, whose children are others), written to FILE.
cpu_children () {
    times > "$1.times"
    tail -1 "$1.times" | $PY -c 'import sys,re
t = 0.0
for m, s in re.findall(r"(\d+)m([\d.]+)s", sys.stdin.read()): t += int(m) * 60 + float(s)
print(t)' > "$1"
}

#  proc_cpu PID: the CPU seconds (user + system) a running process used.
proc_cpu () {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}

#  one MODE: the whole stream once; prints "packets/s cpu_seconds".
one () {
    local mode=$1
    declare -A K=()
    if [ "$mode" = curve ]; then
        for n in "${NS[@]}"; do K[$n]="@$C/$n.cert"; done
    else
        for n in "${NS[@]}"; do K[$n]=""; done
    fi
    sec_of () { [ "$mode" = curve ] && echo "--cert $C/$1.cert --trust $C/trust" || echo "--insecure"; }
    local shard_eps=""
    for ((k = 0; k < SHARDS; k++)); do
        ip netns exec "db$TAG-agg$k" "$BIN/darkscope-aggregator" --quiet --shard "$k" --shards "$SHARDS" \
            --input "tcp://${IP[lab]}:5551${K[lab]}" --endpoint "tcp://${IP[agg$k]}:5560" $(sec_of "agg$k") &
        PID[agg$k]=$!
        shard_eps+="${shard_eps:+,}tcp://${IP[agg$k]}:5560${K[agg$k]}"
    done
    ip netns exec "db$TAG-q" "$BIN/darkscope-query" --quiet --shard-endpoint "$shard_eps" \
        --endpoint "tcp://${IP[q]}:5570" $(sec_of q) &
    PID[q]=$!
    ip netns exec "db$TAG-lab" "$BIN/darkscope-labeler" --quiet --gt "$WORK/gt.csv" --shards "$SHARDS" \
        --input "tcp://${IP[s0]}:5550${K[s0]}" --endpoint "tcp://${IP[lab]}:5551" --control '' $(sec_of lab) &
    PID[lab]=$!
    cpu_children "$WORK/cpu0"
    local t0; t0=$(date +%s.%N)
    ip netns exec "db$TAG-s0" "$BIN/darkscope-ingest" --quiet --pcap "$WORK/m.pcap" --shards "$SHARDS" \
        --endpoint "tcp://${IP[s0]}:5550" --wait 60 $(sec_of s0)
    cpu_children "$WORK/cpu1"
    local cli=(--endpoint "tcp://${IP[q]}:5570${K[q]}"); [ "$mode" = curve ] && cli+=(--cert "$C/client.cert")
    until ip netns exec "db$TAG-q" "$BIN/darkscope" query "${cli[@]}" status --json 2>/dev/null \
            | grep -q '"complete":true'; do sleep 0.05; done
    local t1; t1=$(date +%s.%N)
    local services=0
    for n in "${AGG[@]}" q lab; do services="$services + $(proc_cpu "${PID[$n]}")"; done
    if [ "$mode" = curve ]; then
        ip netns exec "db$TAG-q" "$BIN/darkscope" query "${cli[@]}" overview --json > "$WORK/got.json"
        cmp -s "$WORK/embedded.json" "$WORK/got.json" \
            || cp "$WORK/got.json" "$WORK/differs.json"
    fi
    for n in "${AGG[@]}" q lab; do kill "${PID[$n]}" 2>/dev/null || true; wait "${PID[$n]}" 2>/dev/null || true; done
    PID=()
    $PY -c "print(round($PACKETS / ($t1 - $t0)), round($(cat "$WORK/cpu1") - $(cat "$WORK/cpu0") + $services, 2))"
}
declare -A RES=([curve]="" [plain]="") CPU=([curve]="" [plain]="")
for r in $(seq 1 "$REPEAT"); do
    for mode in plain curve; do
        read -r v c < <(one "$mode"); RES[$mode]+=" $v"; CPU[$mode]+=" $c"
        [ ! -e "$WORK/differs.json" ] || { echo "run $r $mode: the overview differs from darkscope run's" >&2; exit 1; }
        echo "run $r $mode: $v packets/s, $c CPU s$([ "$mode" = curve ] && echo ", overview == darkscope run")" >&2
    done
done
$PY - "$PACKETS" "${RES[plain]}" "${RES[curve]}" "${CPU[plain]}" "${CPU[curve]}" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$SHARDS" <<'PYEOF'
import statistics, sys
n = int(sys.argv[1])
plain, curve = [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
cplain, ccurve = [float(x) for x in sys.argv[4].split()], [float(x) for x in sys.argv[5].split()]
p, c = statistics.median(plain), statistics.median(curve)
cp, cc = statistics.median(cplain), statistics.median(ccurve)
print(f"| {n:,} packets, {sys.argv[8]} shard(s), {sys.argv[6]} CPUs, load {sys.argv[7]} | plain TCP {p:,.0f} pkt/s, {cp:.2f} CPU s "
      f"| CURVE {c:,.0f} pkt/s, {cc:.2f} CPU s | wall {100 * (p - c) / p:+.1f} %, CPU {100 * (cc - cp) / cp:+.1f} % |")
print(f"runs plain {plain} ({cplain} CPU s), curve {curve} ({ccurve} CPU s)")
PYEOF
