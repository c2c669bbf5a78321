#  test_readme_examples.sh - README's "Running the services apart" block
#  runs as written: its lines are taken from README.md itself and run in a
#  network namespace of their own (its loopback, so the default ports
#  127.0.0.1:5550..5570 are free whatever else runs here), in a directory
#  holding what they name (gt.csv, traces/2021030*, shared/data/scanners;
#  /var/lib/darkscope becomes a directory of the test).  Once the status
#  is complete the overview equals `darkscope run` on the same inputs.
#  Then the CURVE block under "### Across hosts": every 10.0.0.x address
#  it names becomes a network namespace of its own on a private bridge this
#  test makes (no address in the host's namespace: nothing leaves the
#  namespaces made here); each service line runs, in the background, in
#  the namespace of its --endpoint address, every other line (keygen, the
#  trust directories, the client) in the client's (10.0.0.10); the
#  pipeline's status becomes complete and its overview equals `darkscope
#  run` on the same two captures; a client without a certificate gets no
#  answer.  (tests/test_multihost.sh runs deploy/README's multi-host layout.)
#  Skips (77) only when no network namespace can be made here.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace (fixed default ports)"; exit 77; }
NS="dsrx$$"
if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
    echo "SKIP: cannot create a network namespace here: $(cat "$WORK/ns.err")"; exit 77
fi
CNS=()                      #  the CURVE block's namespaces
BR="dsrb$$"
teardown () {
    for n in "$NS" "${CNS[@]}"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$n" 2>/dev/null || true
    done
    ip link del "$BR" 2>/dev/null || true
    cleanup
}
trap teardown EXIT
ip -n "$NS" link set lo up

#  The block: from the line after "## Running the services apart" to the
#  first blank line after its first command.
$PY - "$DS_SOURCE/README.md" > "$WORK/block.sh" <<'PYEOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = lines.index("## Running the services apart") + 1
while not lines[i].strip():
    i += 1
block = []
while lines[i].startswith("    "):
    block.append(lines[i][4:]); i += 1
print("\n".join(block))
PYEOF
grep -q "darkscope-ingest" "$WORK/block.sh" || fail "README's services block not found"
grep -q "darkscope query overview" "$WORK/block.sh" || fail "README's services block has no query"
sed -i "s|/var/lib/darkscope/|$WORK/var/|g" "$WORK/block.sh"

D="$WORK/dir"; mkdir -p "$D/traces" "$D/shared/data/scanners" "$WORK/var"
"$DS_BIN/darkscope" gen --quiet --out "$D/traces/20210301.pcap" --gt-out "$D/gt.csv" --seed 9 --packets 100000 --days 3
printf '198.51.100.0/24\n203.0.113.0/24\n' > "$D/shared/data/scanners/censys_v4.txt"
(cd "$D" && "$DS_BIN/darkscope" run --quiet --pcap 'traces/2021030*' --gt gt.csv --gt-list shared/data/scanners \
    --shards 2 --json "$WORK/embedded.json") || fail "darkscope run failed"

#  Run the block (its services stay in the background), with DS_BIN first
#  on PATH as a user's installed binaries would be.
ip netns exec "$NS" env PATH="$DS_BIN:$PATH" bash -e -c "cd '$D'; $(cat "$WORK/block.sh")" \
    > "$WORK/block.out" 2> "$WORK/block.err" || { cat "$WORK/block.err" >&2; fail "the README block failed"; }
grep -q '"' "$WORK/block.out" || grep -q "sources" "$WORK/block.out" \
    || { cat "$WORK/block.out" "$WORK/block.err" >&2; fail "darkscope query overview printed no overview"; }
for _ in $(seq 1 300); do
    ip netns exec "$NS" "$DS_BIN/darkscope" query status --json 2>/dev/null | grep -q '"complete":true' && break
    sleep 0.1
done
ip netns exec "$NS" "$DS_BIN/darkscope" query status --json | grep -q '"complete":true' \
    || fail "the README pipeline did not complete"
ip netns exec "$NS" "$DS_BIN/darkscope" query overview --json > "$WORK/got.json"
cmp -s "$WORK/embedded.json" "$WORK/got.json" \
    || { $PY "$REF/compare.py" "$WORK/embedded.json" "$WORK/got.json" || true; fail "README pipeline's overview differs from darkscope run"; }
echo "ok: README's services block ran as written ($(wc -l < "$WORK/block.sh") lines): overview == darkscope run"

#  The CURVE block, one command a line (continuations joined).
$PY - "$DS_SOURCE/README.md" > "$WORK/curve.sh" <<'PYEOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("### Across hosts: CurveZMQ")) + 1
while not lines[i].strip():
    i += 1
cmds, cur = [], ""
while lines[i].startswith("    "):
    cur += lines[i][4:].strip() + " "
    if not cur.rstrip().endswith("\\"):
        cmds.append(cur.strip()); cur = ""
    else:
        cur = cur.rstrip()[:-1]
    i += 1
print("\n".join(c for c in cmds if not c.startswith("#")))
PYEOF
grep -q "darkscope-labeler" "$WORK/curve.sh" && grep -q "darkscope query" "$WORK/curve.sh" \
    || fail "README's CURVE block not found"
ADDRS=$(sed -n '/^### Across hosts: CurveZMQ/,/^With `--cert`/p' "$DS_SOURCE/README.md" \
        | grep -o '10\.0\.0\.[0-9]*' | sort -u)
echo "$ADDRS" | grep -qx 10.0.0.10 || fail "README's CURVE block names no client address 10.0.0.10"
ip link add "$BR" type bridge || fail "cannot create the test bridge $BR"
ip link set "$BR" type bridge nf_call_iptables 0 2>/dev/null || true
ip link set "$BR" up
declare -A NSOF
for a in $ADDRS; do
    n="dsrx$$-${a##*.}"
    ip netns add "$n"; CNS+=("$n"); NSOF[$a]=$n
    ip link add "vr$$-${a##*.}" type veth peer name eth0 netns "$n"
    ip link set "vr$$-${a##*.}" master "$BR" up
    ip -n "$n" addr add "$a/24" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$n" link set lo up
done
C="$WORK/curve"; mkdir -p "$C"
"$DS_BIN/darkscope" gen --quiet --out "$C/a.pcap" --gt-out "$C/a.csv" --seed 31 --packets 60000 --days 2
"$DS_BIN/darkscope" gen --quiet --out "$C/b.pcap" --gt-out "$C/b.csv" --seed 32 --packets 60000 --days 2
cat "$C/a.csv" > "$C/gt.csv"; tail -n +2 "$C/b.csv" >> "$C/gt.csv"
"$DS_BIN/darkscope" run --quiet --pcap "$C/a.pcap" --pcap "$C/b.pcap" --gt "$C/gt.csv" --shards 2 \
    --json "$WORK/curve-embedded.json" || fail "darkscope run (two sensors) failed"
client="${NSOF[10.0.0.10]}"
k=0
while IFS= read -r cmd; do
    k=$((k + 1))
    case "$cmd" in
    darkscope-*)
        a=$(echo "$cmd" | grep -o -- '--endpoint tcp://10\.0\.0\.[0-9]*' | grep -o '10\.0\.0\.[0-9]*') \
            || fail "README CURVE line $k binds no 10.0.0.x --endpoint: $cmd"
        ip netns exec "${NSOF[$a]}" env PATH="$DS_BIN:$PATH" bash -c "cd '$C' && exec ${cmd%&}" \
            >>"$WORK/curve-$k.log" 2>&1 &
        PIDS+=($!) ;;
    *)
        ip netns exec "$client" env PATH="$DS_BIN:$PATH" bash -e -c "cd '$C' && $cmd" >>"$WORK/curve-$k.log" 2>&1 \
            || fail "README CURVE line $k failed: $cmd: $(tail -3 "$WORK/curve-$k.log")" ;;
    esac
done < "$WORK/curve.sh"
grep -q '"state"\|state' "$WORK/curve-$k.log" || fail "the block's client printed no status: $(cat "$WORK/curve-$k.log")"
ask () { ip netns exec "$client" "$DS_BIN/darkscope" query --cert "$C/certs/me.cert" \
             --endpoint "tcp://10.0.0.9:5570@$C/certs/query.cert" "$@"; }
for _ in $(seq 1 600); do
    ask status --json 2>/dev/null | grep -q '"complete":true' && break
    sleep 0.1
done
if ! ask status --json | grep -q '"complete":true'; then
    #  What each of the block's commands said, to see which link stalled.
    for f in "$WORK"/curve-[0-9]*.log; do
        n=${f##*-}; n=${n%.log}
        echo "--- command $n: $(sed -n "${n}p" "$WORK/curve.sh" | cut -c1-70)"
        tail -5 "$f"
    done >&2
    fail "the README CURVE pipeline did not complete: $(ask status 2>&1 | head -20)"
fi
ask overview --json > "$WORK/curve-got.json"
cmp -s "$WORK/curve-embedded.json" "$WORK/curve-got.json" \
    || { $PY "$REF/compare.py" "$WORK/curve-embedded.json" "$WORK/curve-got.json" || true;
         fail "README CURVE pipeline's overview differs from darkscope run"; }
ip netns exec "$client" "$DS_BIN/darkscope" query --endpoint tcp://10.0.0.9:5570 --timeout-ms 1000 status \
    >"$WORK/plain.out" 2>&1 && fail "a client without a certificate got an answer"
echo "ok: README's CURVE block ran as written ($(wc -l < "$WORK/curve.sh") commands, $(echo $ADDRS | wc -w) namespaces): overview == darkscope run"
echo "2 passed, 0 failed"
