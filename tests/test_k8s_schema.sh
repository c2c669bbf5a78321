#  test_k8s_schema.sh - deploy/k8s/*.yaml against the Kubernetes API's own
#  schemas (deploy/k8s/validate: kubernetes-models from the npm registry,
#  the API's OpenAPI definitions compiled to validators), not only parsed:
#  every object's apiVersion/kind exists, required fields, types, enums.
#  The validator is shown to refuse a broken copy (a string replica count,
#  a probe port that is neither a number nor a name, an unknown kind), and
#  the manifests hold what operations need: liveness on /healthz,
#  readiness on /readyz, Prometheus scrape annotations, resources, a
#  NetworkPolicy, and CURVE on every link (own certificate from the Secret
#  darkscope-certs, no *_INSECURE).
source "$(dirname "$0")/lib.sh"
V="$DS_SOURCE/deploy/k8s/validate"
[ -d "$V/node_modules/kubernetes-models" ] || fail "$V/node_modules missing: run deploy/install-deps.sh (npm ci there)"
M="$DS_SOURCE/deploy/k8s/darkscope.yaml"
node "$V/validate.mjs" "$M" || fail "deploy/k8s/darkscope.yaml does not validate"

sed -e 's/replicas: 2 /replicas: "two" /' "$M" > "$WORK/bad1.yaml"
sed -e '0,/port: http}/s//port: {x: 1}}/' "$M" > "$WORK/bad2.yaml"
sed -e 's/^kind: Service$/kind: Servise/' "$M" > "$WORK/bad3.yaml"
for bad in bad1 bad2 bad3; do
    cmp -s "$M" "$WORK/$bad.yaml" && fail "$bad: the edit did not apply"
    node "$V/validate.mjs" "$WORK/$bad.yaml" >/dev/null 2>&1 && fail "$bad.yaml was accepted"
done

$PY - "$M" <<'PYEOF' || fail "manifest contents"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
pods = [d for d in docs if d['kind'] in ('Deployment', 'StatefulSet', 'Job')]
assert pods and any(d['kind'] == 'NetworkPolicy' for d in docs)
for d in pods:
    t = d['spec']['template']
    ann = t['metadata'].get('annotations', {})
    assert ann.get('prometheus.io/scrape') == 'true' and ann.get('prometheus.io/port') == '9100', d['metadata']['name']
    for c in t['spec']['containers']:
        env = {e['name']: e.get('value') for e in c['env']}
        http = [v for k, v in env.items() if k.startswith('DARKSCOPE_') and k.endswith('_HTTP')]
        assert http == ['0.0.0.0:9100'], c['name']
        assert c['livenessProbe']['httpGet']['path'] == '/healthz', c['name']
        assert c['readinessProbe']['httpGet']['path'] == '/readyz', c['name']
        assert c['resources']['requests'] and c['resources']['limits'], c['name']
        #  CURVE on every link: an own certificate from the Secret, no plain TCP
        assert any(k.endswith('_CERT') and v.startswith('/etc/darkscope/own/') for k, v in env.items()), c['name']
        assert not any(k.endswith('_INSECURE') for k in env), c['name']
        secrets = [v['secret'] for v in t['spec']['volumes'] if 'secret' in v]
        assert [s['secretName'] for s in secrets] == ['darkscope-certs'], c['name']
        assert t['spec']['securityContext']['fsGroup'] == 10001, c['name']
PYEOF
echo "5 passed, 0 failed"
