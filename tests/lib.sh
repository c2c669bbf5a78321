#  tests/lib.sh - helpers shared by the shell tests (sourced, not run).
set -euo pipefail
: "${DS_BIN:?run through ctest (DS_BIN unset)}"
PY=/usr/bin/python3
REF="$DS_SOURCE/tests/reference"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/darkscope-test.XXXXXX")
PIDS=()
cleanup () {
    #  A process a test froze (SIGSTOP) is continued first: it would not act
    #  on SIGTERM, and `wait` would hang until the ctest timeout.  Only
    #  those: a SIGCONT racing LeakSanitizer's exit-time ptrace of a running
    #  process hangs both.
    for p in "${PIDS[@]}"; do
        [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" = T ] && kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }
#  free_port: a free port of 20000-32000, never twice in a test (ports.sh).
source "$DS_SOURCE/tests/ports.sh"
have_shared () { [ -d "${DS_SHARED_DATA:-/nonexistent}" ]; }

#  start_services SHARDS GT: the aggregators, the query service and the
#  labeler as processes over tcp on 127.0.0.1 (free ports, logs in $WORK,
#  pids in PIDS).  Sets P_IN (the port an ingest publishes on), P_CTL (the
#  labeler's control port), QUERY (the query endpoint), P_AGG (one port
#  per shard) and AGG_PIDS (one pid per shard).
start_services () {
    local shards=$1 gt=$2 k eps=()
    P_IN=$(free_port); P_LAB=$(free_port); P_CTL=$(free_port); P_Q=$(free_port)
    QUERY="tcp://127.0.0.1:$P_Q"
    P_AGG=()
    AGG_PIDS=()
    for k in $(seq 0 $((shards - 1))); do
        P_AGG[$k]=$(free_port)
        eps+=(--shard-endpoint "tcp://127.0.0.1:${P_AGG[$k]}")
        "$DS_BIN/darkscope-aggregator" --quiet --shard "$k" --shards "$shards" \
            --input "tcp://127.0.0.1:$P_LAB" --endpoint "tcp://127.0.0.1:${P_AGG[$k]}" \
            2>>"$WORK/agg-$k.log" & PIDS+=($!)
        AGG_PIDS[$k]=$!
    done
    "$DS_BIN/darkscope-query" --quiet --endpoint "$QUERY" --labeler "tcp://127.0.0.1:$P_CTL" \
        "${eps[@]}" 2>>"$WORK/query.log" & PIDS+=($!)
    "$DS_BIN/darkscope-labeler" --quiet --gt "$gt" --input "tcp://127.0.0.1:$P_IN" \
        --endpoint "tcp://127.0.0.1:$P_LAB" --control "tcp://127.0.0.1:$P_CTL" --shards "$shards" \
        2>>"$WORK/labeler.log" & PIDS+=($!)
}
