#!/usr/bin/python3
"""check-deploy.py - validates deploy/compose.yaml and deploy/k8s/darkscope.yaml
without Docker or a cluster.

  1. Both files parse as YAML.
  2. Every DARKSCOPE_* variable a service sets is one its binary reads
     (from the binary's --list-env: DARKSCOPE_<FLAG> shared,
     DARKSCOPE_<SERVICE>_<FLAG> its own), and shard counts agree everywhere
     (DARKSCOPE_SHARDS, aggregators / replicas, DARKSCOPE_QUERY_SHARD_ENDPOINT).
  3. Each topology runs as plain processes on 127.0.0.1 with the very same
     environment: host names become 127.0.0.1, every (host, port) its own
     free port, tcp://0.0.0.0 binds 127.0.0.1, mounted paths temporary
     directories (a generated month in the pcap dir, its GT in the GT dir).
     The overview must equal that of `darkscope run` on the same file with
     the same GT and shards (byte for byte), and every aggregator must have
     written its checkpoint into its volume after SIGTERM.
  4. CURVE on every link as the files set it up: certificates made by
     deploy/make-certs.sh, the compose secrets and the Kubernetes Secret's
     items placed where the containers would see them (a directory tree of
     each pod); the client speaks CURVE with the `client` certificate, and
     a plaintext client gets no answer.

Usage: /usr/bin/python3 deploy/check-deploy.py [BIN_DIR]    (default build/bin)
Exit status 0 when everything holds; the first failure is printed.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'build', 'bin'))
PROCS = []
CERTS = None                # the make-certs.sh directory


def fail(why):
    print('FAIL:', why, file=sys.stderr)
    raise SystemExit(1)


_given = set()


def free_port():
    """A free port on 127.0.0.1 below the kernel's ephemeral range
    (32768-60999), not given before: a port from that range can be taken by
    a client's outgoing connection before its service binds it, or make a
    retrying client connect to itself (TCP self-connect)."""
    while True:
        p = random.randint(20000, 32000)
        if p in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', p))
            except OSError:
                continue
        _given.add(p)
        return p


_vars = {}


def vars_of(binary):
    """The environment variables a binary reads, from its --list-env."""
    if binary not in _vars:
        out = subprocess.run([os.path.join(BIN, binary), '--list-env'], capture_output=True, text=True).stdout
        _vars[binary] = {line.split()[0] for line in out.splitlines() if line.strip()}
        if not _vars[binary]:
            fail(f'{binary} --list-env lists no variables')
    return _vars[binary]


def check_env(where, binary, names):
    for name in names:
        if name.startswith('DARKSCOPE_') and name not in vars_of(binary):
            fail(f'{where}: {binary} does not read {name} (see {binary} --list-env)')


def expand(value):
    """${VAR:-default} as compose does (from our environment)."""
    return re.sub(r'\$\{(\w+)(?::-([^}]*))?\}',
                  lambda m: os.environ.get(m.group(1), m.group(2) or ''), str(value))


class Topology:
    """Pods (name -> binary, env, path map) wired over 127.0.0.1."""

    def __init__(self, work):
        self.work = work
        self.ports = {}             # (host, port) -> local port
        self.pods = {}              # name -> dict(argv, env, paths, log)
        self.alias = {}             # host name -> pod name

    def port(self, host, port):
        key = (self.alias.get(host, host), int(port))
        if key not in self.ports:
            self.ports[key] = free_port()
        return self.ports[key]

    def rewrite(self, pod, value):
        value = re.sub(r'tcp://0\.0\.0\.0:(\d+)',
                       lambda m: f'tcp://127.0.0.1:{self.port(pod, m.group(1))}', value)
        value = re.sub(r'^0\.0\.0\.0:(\d+)$',                 # DARKSCOPE_<SERVICE>_HTTP
                       lambda m: f'127.0.0.1:{self.port(pod + "/http", m.group(1))}', value)
        value = re.sub(r'tcp://([A-Za-z][\w.-]*):(\d+)',
                       lambda m: f'tcp://127.0.0.1:{self.port(m.group(1), m.group(2))}', value)
        for inside, outside in sorted(self.pods[pod]['paths'].items(), key=lambda kv: -len(kv[0])):
            value = value.replace(inside, outside)
        return value

    def add(self, name, argv, env, paths):
        self.pods[name] = {'argv': argv, 'env': env, 'paths': paths,
                           'log': os.path.join(self.work, name + '.log')}

    def start(self, name):
        pod = self.pods[name]
        env = {k: v for k, v in os.environ.items() if not k.startswith('DARKSCOPE_')}
        env.update({k: self.rewrite(name, expand(v)) for k, v in pod['env'].items()})
        env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
        env['HOSTNAME'] = name
        argv = [self.rewrite(name, a) for a in pod['argv']]
        log = open(pod['log'], 'w')
        p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        PROCS.append(p)
        pod['proc'] = p
        return p

    def endpoint(self, host, port):
        return f'tcp://127.0.0.1:{self.port(host, port)}'


def darkscope(*args, check=True):
    if args[0] == 'query':
        args = ('query', '--cert', os.path.join(CERTS, 'client.cert'), *args[1:])
    r = subprocess.run([os.path.join(BIN, 'darkscope'), *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        fail(f'darkscope {" ".join(args)}: {r.stderr.strip()}')
    return r


def wait_complete(query, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = darkscope('query', '--endpoint', query, 'status', '--json', '--timeout-ms', '2000', check=False)
        if r.returncode == 0 and '"complete":true' in r.stdout.replace(' ', ''):
            return
        time.sleep(0.2)         # polling a live service: no event to wait on
    fail(f'{what}: the services did not complete (last status: {r.stdout.strip()[:300]})')


def pod_root(work, pod, files):
    """A pod's view of its secrets: files {path inside: host file} copied
    into work/root/POD; returns the path map of their top directories."""
    root = os.path.join(work, 'root', pod)
    tops = {}
    for inside, src in files.items():
        dst = root + inside
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        top = '/' + '/'.join(inside.split('/')[1:3])          # /run/secrets, /etc/darkscope
        tops[top] = root + top
    return tops


def run_and_compare(name, topo, order, ingests, query_ep, aggregators, expected, volumes):
    query_ep += '@' + os.path.join(CERTS, 'query.cert')
    for pod in order:
        topo.start(pod)
    for pod in ingests:
        p = topo.pods[pod]['proc']
        try:
            rc = p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            fail(f'{name}: {pod} did not finish')
        if rc != 0:
            fail(f'{name}: {pod} exited {rc}: {open(topo.pods[pod]["log"]).read()[-800:]}')
    wait_complete(query_ep, name)
    #  The query service's own clients (readiness probe, dashboard) speak CURVE too.
    http = f'http://127.0.0.1:{topo.port("query/http", 9100)}'
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(http + '/readyz', timeout=5) as r:
                break
        except (urllib.error.URLError, OSError) as e:
            if time.monotonic() > deadline:
                fail(f'{name}: query /readyz: {e.read().decode() if hasattr(e, "read") else e}')
            time.sleep(0.2)
    with urllib.request.urlopen(http + '/api/overview', timeout=10) as r:
        if json.loads(r.read())['result'] != json.loads(expected):
            fail(f'{name}: the dashboard API of the query service differs from `darkscope run`')
    plain = subprocess.run([os.path.join(BIN, 'darkscope'), 'query', '--endpoint', query_ep.split('@')[0],
                            '--timeout-ms', '500', 'status'], capture_output=True, text=True)
    if plain.returncode == 0:
        fail(f'{name}: a plaintext client got an answer from the query service: {plain.stdout[:200]}')
    got = darkscope('query', '--endpoint', query_ep, 'overview', '--json').stdout
    if got != expected:
        open(os.path.join(topo.work, 'overview.json'), 'w').write(got)
        fail(f'{name}: the overview differs from `darkscope run` (see {topo.work})')
    for pod in aggregators:
        p = topo.pods[pod]['proc']
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=60) != 0:
            fail(f'{name}: {pod} did not exit 0 on SIGTERM')
    for vol in volumes:
        if not any(f.endswith('.ckpt') for f in os.listdir(vol)):
            fail(f'{name}: no checkpoint in volume {vol}')
    for pod in topo.pods.values():
        if pod.get('proc') and pod['proc'].poll() is None:
            pod['proc'].terminate()
            pod['proc'].wait(timeout=30)
    print(f'ok: {name}: {len(topo.pods)} processes, overview == darkscope run, checkpoints written')


def compose(work, data, expected):
    path = os.path.join(HERE, 'compose.yaml')
    doc = yaml.safe_load(open(path))
    services = doc['services']
    aggs = sorted(n for n in services if n.startswith('aggregator'))
    shards = len(aggs)
    for n, s in services.items():
        env = s.get('environment', {})
        check_env(f'compose {n}', s['command'][0], env)
        if 'DARKSCOPE_SHARDS' in env and int(env['DARKSCOPE_SHARDS']) != shards:
            fail(f'compose {n}: DARKSCOPE_SHARDS {env["DARKSCOPE_SHARDS"]}, but {shards} aggregators')
    for k, n in enumerate(aggs):
        if int(services[n]['environment']['DARKSCOPE_AGGREGATOR_SHARD']) != k:
            fail(f'compose {n}: DARKSCOPE_AGGREGATOR_SHARD is not {k}')
    eps = services['query']['environment']['DARKSCOPE_QUERY_SHARD_ENDPOINT'].split(',')
    if [e.split('//')[1].split(':')[0] for e in eps] != aggs:
        fail(f'compose query: DARKSCOPE_QUERY_SHARD_ENDPOINT {eps} is not the aggregators in shard order')
    if not services['query'].get('ports'):
        fail('compose query: port 5570 not published')

    os.environ['PCAP_DIR'] = data['pcap']
    os.environ['GT_DIR'] = data['gt']
    os.environ['CERT_DIR'] = CERTS
    topo = Topology(work)
    volumes = []
    for n, s in services.items():
        paths = {}
        for v in s.get('volumes', []):
            src, dst = expand(v).split(':')[:2]
            if '/' not in src:                  # a named volume
                src = os.path.join(work, 'volumes', src)
                os.makedirs(src, exist_ok=True)
                volumes.append(src)
            paths[dst] = src
        declared = doc.get('secrets', {})
        files = {}
        for sec in s.get('secrets', []):
            if sec['source'] not in declared:
                fail(f'compose {n}: secret {sec["source"]} is not declared')
            files[sec['target']] = expand(declared[sec['source']]['file'])
        paths.update(pod_root(work, n, files))
        for k, v in s.get('environment', {}).items():
            if k.endswith('_INSECURE'):
                fail(f'compose {n}: {k}: every link must be CURVE')
        topo.add(n, list(s['command']), dict(s.get('environment', {})), paths)
    ports = services['query']['ports'][0]
    query_ep = topo.endpoint('query', expand(ports).split(':')[-1])
    order = aggs + ['labeler', 'query', 'ingest']
    run_and_compare('compose', topo, order, ['ingest'], query_ep, aggs, expected, volumes)


def k8s(work, data, expected):
    path = os.path.join(HERE, 'k8s', 'darkscope.yaml')
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by = {(d['kind'], d['metadata']['name']): d for d in docs}
    config = by[('ConfigMap', 'darkscope-env')]['data']
    shards = int(config['DARKSCOPE_SHARDS'])
    sts = by[('StatefulSet', 'aggregator')]
    if sts['spec']['replicas'] != shards:
        fail(f'k8s: aggregator replicas {sts["spec"]["replicas"]} != DARKSCOPE_SHARDS {shards}')
    topo = Topology(work)
    workloads = [d for d in docs if d['kind'] in ('Job', 'Deployment', 'StatefulSet')]
    pods = []                   # (pod name, workload)
    for w in workloads:
        n = w['metadata']['name']
        if w['kind'] == 'StatefulSet':
            pods += [(f'{n}-{k}', w) for k in range(w['spec']['replicas'])]
            for k in range(w['spec']['replicas']):
                topo.alias[f'{n}-{k}.{w["spec"]["serviceName"]}'] = f'{n}-{k}'
        else:
            pods.append((n, w))
    #  A Service name stands for the pod(s) its selector picks.
    for d in docs:
        if d['kind'] == 'Service' and d['spec'].get('clusterIP') != 'None':
            sel = d['spec']['selector']
            match = [p for p, w in pods
                     if all(w['spec']['template']['metadata']['labels'].get(k) == v for k, v in sel.items())]
            if len(match) != 1:
                fail(f'k8s Service {d["metadata"]["name"]}: selector matches {match}')
            topo.alias[d['metadata']['name']] = match[0]
    volumes = []
    for pod, w in pods:
        spec = w['spec']['template']['spec']
        c = spec['containers'][0]
        env = {}
        for e in c.get('env', []):
            if 'value' in e:
                env[e['name']] = e['value']
            else:
                ref = e['valueFrom']['configMapKeyRef']
                if ref['name'] != 'darkscope-env' or ref['key'] not in config:
                    fail(f'k8s {pod}: {e["name"]} refers to a missing ConfigMap key')
                env[e['name']] = config[ref['key']]
        argv = c['command']
        binary = argv[0] if not argv[0].endswith('sh') else argv[-1].split('exec ')[-1].split()[0]
        script_env = re.findall(r'\b(DARKSCOPE_\w+)=', argv[-1]) if argv[0].endswith('sh') else []
        check_env(f'k8s {pod}', binary, list(env) + script_env)
        for k in env:
            if k.endswith('_INSECURE'):
                fail(f'k8s {pod}: {k}: every link must be CURVE')
        if 'DARKSCOPE_SHARDS' in env and int(env['DARKSCOPE_SHARDS']) != shards:
            fail(f'k8s {pod}: DARKSCOPE_SHARDS differs')
        mounts = {}
        vols = {v['name']: v for v in spec.get('volumes', [])}
        for m in c.get('volumeMounts', []):
            v = vols.get(m['name'], {})
            if 'configMap' in v:
                src = data['gt']
            elif 'secret' in v:
                if v['secret']['secretName'] != 'darkscope-certs':
                    fail(f'k8s {pod}: unknown Secret {v["secret"]["secretName"]}')
                src = os.path.join(work, 'root', pod, m['name'])
                for it in v['secret']['items']:
                    os.makedirs(os.path.dirname(os.path.join(src, it['path'])), exist_ok=True)
                    shutil.copyfile(os.path.join(CERTS, it['key']), os.path.join(src, it['path']))
            elif v.get('persistentVolumeClaim', {}).get('claimName') == 'darkscope-pcap':
                src = data['pcap']
            else:                                   # a volumeClaimTemplate
                src = os.path.join(work, 'volumes', pod)
                os.makedirs(src, exist_ok=True)
                volumes.append(src)
            mounts[m['mountPath']] = src
        topo.add(pod, argv, env, mounts)
    eps = [e.split('@')[0] for e in topo.pods['query']['env']['DARKSCOPE_QUERY_SHARD_ENDPOINT'].split(',')]
    want = [f'tcp://aggregator-{k}.aggregator:5560' for k in range(shards)]
    if eps != want:
        fail(f'k8s query: DARKSCOPE_QUERY_SHARD_ENDPOINT {eps}, want {want}')
    aggs = [p for p, w in pods if w is sts]
    ingests = [p for p, w in pods if w['kind'] == 'Job']
    query_ep = topo.endpoint('query', 5570)
    order = aggs + ['labeler', 'query'] + ingests
    run_and_compare('k8s', topo, order, ingests, query_ep, aggs, expected, volumes)


def main():
    global CERTS
    work = tempfile.mkdtemp(prefix='darkscope-deploy.')
    try:
        CERTS = os.path.join(work, 'certs')
        r = subprocess.run(['bash', os.path.join(HERE, 'make-certs.sh'), '--owner', '', CERTS],
                           env={**os.environ, 'DARKSCOPE': os.path.join(BIN, 'darkscope')},
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail(f'deploy/make-certs.sh: {r.stderr.strip()}')
        data = {'pcap': os.path.join(work, 'pcap'), 'gt': os.path.join(work, 'gt')}
        os.makedirs(data['pcap'])
        os.makedirs(data['gt'])
        month = os.path.join(data['pcap'], 'month.pcap')
        gt = os.path.join(data['gt'], 'gt.csv')
        darkscope('gen', '--quiet', '--out', month, '--gt-out', gt, '--seed', '3',
                  '--packets', '200000', '--days', '6')
        darkscope('run', '--quiet', '--pcap', month, '--gt', gt, '--shards', '2',
                  '--json', os.path.join(work, 'embedded.json'))
        expected = open(os.path.join(work, 'embedded.json')).read()
        for name, fn in (('compose', compose), ('k8s', k8s)):
            sub = os.path.join(work, name)
            os.makedirs(sub)
            fn(sub, data, expected)
        print('deploy configuration: all checks passed')
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get('KEEP') is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
