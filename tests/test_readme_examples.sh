#  test_readme_examples.sh - README's "Running the services apart" block
#  runs as written: its lines are taken from README.md itself and run in a
#  network namespace of their own (its loopback, so the default ports
#  127.0.0.1:5550..5570 are free whatever else runs here), in a directory
#  holding what they name (gt.csv, traces/2021030*, shared/data/scanners;
#  /var/lib/darkscope becomes a directory of the test).  Once the status
#  is complete the overview equals `darkscope run` on the same inputs.
#  (tests/test_multihost.sh runs deploy/README's multi-host layout.)
#  Skips (77) only when no network namespace can be made here.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace (fixed default ports)"; exit 77; }
NS="dsrx$$"
if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
    echo "SKIP: cannot create a network namespace here: $(cat "$WORK/ns.err")"; exit 77
fi
teardown () {
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
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
echo "1 passed, 0 failed"
