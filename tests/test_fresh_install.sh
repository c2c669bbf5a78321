#  test_fresh_install.sh - the README's set-up on a fresh Debian 12, for
#  real (issue 14): a container from the debootstrap base image that
#  tests/test_container.sh caches (Debian 12 minbase, no other package),
#  a clean clone of the source tree's committed HEAD in it, then
#    1. bash deploy/install-deps.sh   (apt-get and npm, as on a new machine)
#    2. bash deploy/quickstart.sh     (the main job: build, generate the
#                                      built-in month, report + overview JSON)
#  and the report and JSON checked whole (the HTML closes, every figure it
#  links is there, the JSON parses with the overview's members).
#  `bash tests/run.sh` itself is not run in the container: it is what CI
#  runs on the host already, and twice the suite would double CI's time.
#  Nothing is installed in the image beforehand, nothing is cached between
#  runs (apt-get fetches ~600 MB: seconds; unpacking and setting up 860
#  packages is most of the time).  The one thing taken from the host: the
#  certificate authorities it added itself (/usr/local/share/ca-certificates,
#  e.g. a TLS-inspecting egress proxy's), given to npm as
#  NODE_EXTRA_CA_CERTS, since a machine on this network needs them to reach
#  the npm registry at all.
#  Exit 77 (ctest: skipped) only when the engine cannot run a container
#  here; the reason is printed.  Minutes (apt-get installs ~1 GB of
#  packages).  Not run under ASan (tests/run.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/container_lib.sh"
command -v git >/dev/null || fail "git missing"
git -C "$DS_SOURCE" rev-parse HEAD >/dev/null 2>&1 || fail "$DS_SOURCE is not a git clone"
container_setup

#  A clean clone of what is committed: no build directories, no
#  node_modules, nothing the host's install-deps or builds left.
head=$(git -C "$DS_SOURCE" rev-parse HEAD)
git clone -q --no-hardlinks "$DS_SOURCE" "$WORK/src" || fail "git clone $DS_SOURCE"
git -C "$WORK/src" checkout -q "$head" || fail "git checkout $head"
git -C "$WORK/src" status --porcelain --untracked-files=all | grep . && fail "the clone is not clean"

log "fresh Debian 12: install-deps.sh then quickstart.sh (clone of $(git -C "$WORK/src" log -1 --format=%h))"
t0=$SECONDS
name=darkscope-fresh-$$
trap 'podman rm -f $name >/dev/null 2>&1 || true; cleanup' EXIT
#  The clone is mounted (the build and report stay readable here after a
#  failure).  The scripts run as the README says: bash, as root, from the
#  clone.
ca=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cat /usr/local/share/ca-certificates/*.crt > "$WORK/host-ca.crt"
    ca=(-v "$WORK/host-ca.crt:/etc/host-ca.crt:ro" -e NODE_EXTRA_CA_CERTS=/etc/host-ca.crt)
fi
podman run --name $name --rm -v "$WORK/src:/root/darkscope" "${ca[@]}" -w /root/darkscope \
    localhost/debian:12 bash -c '
        set -e
        t0=$(date +%s)
        bash deploy/install-deps.sh
        echo "== install-deps: $(( $(date +%s) - t0 )) s"
        t1=$(date +%s)
        bash deploy/quickstart.sh
        echo "== quickstart: $(( $(date +%s) - t1 )) s"
        bash deploy/install-deps.sh | tail -1' >"$WORK/fresh.log" 2>&1 \
    || { cp "$WORK/fresh.log" "${DS_BUILD:-$TMPDIR}/test_fresh_install.log" 2>/dev/null
         fail "fresh install or quickstart failed (log: $(tail -30 "$WORK/fresh.log"))"; }
log "done in $((SECONDS - t0)) s: $(grep '^== ' "$WORK/fresh.log" | tr '\n' ' ')"
grep -q "^install-deps: all [0-9]* packages present" "$WORK/fresh.log" \
    || fail "install-deps.sh run again still finds packages missing: $(tail -3 "$WORK/fresh.log")"
grep -q "^report: /root/darkscope/report/index.html" "$WORK/fresh.log" \
    || fail "quickstart did not say where the report is: $(tail -5 "$WORK/fresh.log")"

#  The report and the JSON, whole.
$PY - "$WORK/src/report" <<'PYEOF' || fail "the quickstart's report or JSON is not whole"
import json, os, re, sys
d = sys.argv[1]
def fail(why):
    print('FAIL:', why, file=sys.stderr); sys.exit(1)
try:
    ov = json.load(open(os.path.join(d, 'overview.json')))
except Exception as e:
    fail(f'overview.json: {e}')
for key in ('schema', 'dataset', 'port_ranking', 'daily', 'classes', 'heatmap', 'ingest'):
    if key not in ov:
        fail(f'overview.json has no "{key}": {sorted(ov)}')
if not ov['ingest'].get('complete'):
    fail(f'overview.json: the ingest is not complete: {ov["ingest"]}')
if ov['ingest'].get('packets_read', 0) < 1000000:
    fail(f'overview.json: {ov["ingest"].get("packets_read")} packets read, the built-in month has 2 M')
html = open(os.path.join(d, 'index.html'), encoding='utf-8').read()
if not html.rstrip().endswith('</html>'):
    fail('index.html does not end with </html>')
links = set(re.findall(r'(?:src|href)="([^":#?]+)"', html))
missing = [l for l in links if not os.path.isfile(os.path.join(d, l))]
if missing or not links:
    fail(f'index.html links {len(links)} files, missing: {missing[:5]}')
print(f'report: {len(links)} linked files present; overview: {ov["ingest"]["packets_read"]} packets')
PYEOF
echo "1 passed, 0 failed"
