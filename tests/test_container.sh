#  test_container.sh - the container image and compose deployment, for real
#  (issue 14), with Debian's podman (runtime runc) and podman-compose:
#    1. base images made here: debootstrap of Debian 12 (minbase), cached
#       as a tarball under $DS_CONTAINER_CACHE (default /var/cache/darkscope)
#       so later runs on the same machine skip it, imported as debian:12 and
#       debian:12-slim (no registry is reachable);
#    2. deploy/Dockerfile built (build stage: deploy/install-deps.sh --build
#       and CMake; runtime stage: the binaries, the dashboard's files);
#    3. deploy/compose.yaml up on a generated capture, CURVE on every link
#       (deploy/make-certs.sh's certificates as compose secrets; a plaintext
#       client gets no answer and the query service logs the refusal): the overview equals
#       `darkscope run` on the same files, `darkscope report` runs from the
#       host against the published query port, the query service's /readyz,
#       /metrics (promtool) and dashboard API answer on the published port;
#    4. down (SIGTERM: final checkpoints) and up again without the ingest:
#       the aggregators restore their checkpoints from the kept volumes and
#       answer the same overview.
#  Names are this run's own (project darkscope-test-PID, image tag
#  test-PID), so two copies can run at once; on exit the run removes what
#  it made: containers, pods, volumes, its network (compose down keeps it)
#  and its image tag.
#  Exit 77 (ctest: skipped) only when the engine cannot run a container
#  here; the reason is printed.  Takes minutes (the first time: debootstrap
#  and the image's package layer).  Not run under ASan (tests/run.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/container_lib.sh"

#  1. The engine's settings and the base images.
container_setup
project=darkscope-test-$$
export DARKSCOPE_IMAGE=localhost/darkscope:test-$$
compose () { podman-compose -p $project -f "$DS_SOURCE/deploy/compose.yaml" "$@" >>"$WORK/compose.log" 2>&1; }
#  Everything of this run: compose down, then whatever carries the project's
#  label (what a failed down left, and the network, which down keeps), then
#  the image tag (the image goes with it unless `latest` is on it too).
down_all () {
    compose down -v || true
    local label=label=io.podman.compose.project=$project
    podman ps -a -q --filter "$label" | xargs -r podman rm -f >/dev/null 2>&1 || true
    podman pod ls -q --filter "$label" | xargs -r podman pod rm -f >/dev/null 2>&1 || true
    podman volume ls -q --filter "$label" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman network ls -q --filter "$label" | xargs -r podman network rm -f >/dev/null 2>&1 || true
    podman rmi "$DARKSCOPE_IMAGE" >/dev/null 2>&1 || true
}
trap 'down_all; cleanup' EXIT

#  2. The image.
log "podman build deploy/Dockerfile"
t0=$SECONDS
podman build --pull=never -f "$DS_SOURCE/deploy/Dockerfile" \
    --ignorefile "$DS_SOURCE/deploy/Dockerfile.dockerignore" \
    -t localhost/darkscope:latest -t "$DARKSCOPE_IMAGE" "$DS_SOURCE" >"$WORK/build.log" 2>&1 \
    || fail "podman build: $(tail -20 "$WORK/build.log")"
log "image built in $((SECONDS - t0)) s"
podman run --rm "$DARKSCOPE_IMAGE" darkscope-query --help | grep -- '--http' >/dev/null \
    || fail "the image's darkscope-query has no --http"

#  3. Compose, end to end.
mkdir -p "$WORK/pcap" "$WORK/gt"
"$DS_BIN/darkscope" gen --quiet --out "$WORK/pcap/m.pcap" --gt-out "$WORK/gt/gt.csv" --seed 3 \
    --packets 200000 --days 4
chmod -R a+rX "$WORK/pcap" "$WORK/gt"
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/pcap/m.pcap" --gt "$WORK/gt/gt.csv" --shards 2 \
    --json "$WORK/run.json" || fail "darkscope run"
DARKSCOPE="$DS_BIN/darkscope" bash "$DS_SOURCE/deploy/make-certs.sh" "$WORK/certs" >/dev/null \
    || fail "deploy/make-certs.sh"
export PCAP_DIR="$WORK/pcap" GT_DIR="$WORK/gt" CERT_DIR="$WORK/certs" QUERY_PORT=$(free_port) HTTP_PORT=$(free_port)
export DARKSCOPE_CLIENT_CERT="$WORK/certs/client.cert" DARKSCOPE_REPORT_CERT="$WORK/certs/client.cert"
log "compose up"
compose up -d || fail "podman-compose up: $(tail -20 "$WORK/compose.log")"
export QUERY="tcp://127.0.0.1:$QUERY_PORT@$WORK/certs/query.cert" WORK DS_BIN
check () {
    $PY - "$@" <<'PYEOF'
import json, os, subprocess, sys, time, urllib.error, urllib.request
E = os.environ
def fail(why):
    print('FAIL:', why, file=sys.stderr); sys.exit(1)
def q(*args):
    r = subprocess.run([f'{E["DS_BIN"]}/darkscope', 'query', '--endpoint', E['QUERY'], '--timeout-ms', '5000', *args],
                       capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None
deadline = time.monotonic() + 300
while not ((s := q('status', '--json')) and s.get('complete')):
    if time.monotonic() > deadline:
        fail(f'compose pipeline not complete within 300 s: {s}')
    time.sleep(0.5)
if q('overview', '--json') != json.load(open(os.path.join(E['WORK'], 'run.json'))):
    fail('the overview from the containers differs from darkscope run on the same files')
http = f'http://127.0.0.1:{E["HTTP_PORT"]}'
def get(path):
    try:
        with urllib.request.urlopen(http + path, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
deadline = time.monotonic() + 60
while get('/readyz')[0] != 200:
    if time.monotonic() > deadline:
        fail(f'query /readyz: {get("/readyz")}')
    time.sleep(0.5)
code, text = get('/metrics')
lint = subprocess.run(['promtool', 'check', 'metrics'], input=text, capture_output=True, text=True)
if code != 200 or lint.returncode != 0:
    fail(f'/metrics from the container: {code} {lint.stdout}{lint.stderr}')
code, body = get('/api/overview')
if code != 200 or json.loads(body)['result'] != json.load(open(os.path.join(E['WORK'], 'run.json'))):
    fail('the dashboard API of the container differs')
PYEOF
}
check || fail "compose run (log: $(tail -20 "$WORK/compose.log"))"
log "a plaintext client"
env -u DARKSCOPE_CLIENT_CERT "$DS_BIN/darkscope" query --endpoint "tcp://127.0.0.1:$QUERY_PORT" \
    --timeout-ms 1000 status >"$WORK/plain.out" 2>&1 && fail "a plaintext client got an answer: $(cat "$WORK/plain.out")"
for _ in $(seq 1 50); do
    podman logs ${project}_query_1 2>&1 | grep "refused a connection" >/dev/null && break
    sleep 0.1
done
podman logs ${project}_query_1 >"$WORK/query.log" 2>&1 || true
grep "refused a connection" "$WORK/query.log" >/dev/null \
    || fail "the query service did not log the plaintext client: $(tail -5 "$WORK/query.log")"
log "report from the host"
"$DS_BIN/darkscope" report --endpoint "$QUERY" --out "$WORK/report" >/dev/null \
    || fail "darkscope report against the containers"
[ -s "$WORK/report/index.html" ] || fail "no report written"

#  4. down keeps the checkpoints: up again without the ingest.
log "compose down, up without ingest"
compose down || fail "podman-compose down"
compose up -d labeler aggregator-0 aggregator-1 query || fail "podman-compose up (again)"
check || fail "after down/up (log: $(tail -20 "$WORK/compose.log"))"
podman logs ${project}_aggregator-0_1 2>&1 | grep "restored /var/lib/darkscope/shard-0.ckpt" >/dev/null \
    || fail "aggregator-0 did not restore its checkpoint: $(podman logs ${project}_aggregator-0_1 2>&1 | tail -5)"
#  5. Nothing of this run is left once it is taken down.
log "taking down what this run made"
down_all
left=$(label=label=io.podman.compose.project=$project
       podman ps -a --format '{{.Names}}' --filter "$label"; podman pod ls --format '{{.Name}}' --filter "$label"
       podman volume ls --format '{{.Name}}' --filter "$label"; podman network ls --format '{{.Name}}' --filter "$label"
       if podman image exists "$DARKSCOPE_IMAGE"; then echo "$DARKSCOPE_IMAGE"; fi)
[ -z "$left" ] || fail "left after down_all: $left"
log "done"
echo "1 passed, 0 failed"
