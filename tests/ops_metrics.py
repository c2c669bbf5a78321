#!/usr/bin/python3
"""ops_metrics.py PHASE - the checks of tests/test_ops_metrics.sh, one phase
per call (the shell script starts and stops the processes between them).
Every wait polls with a deadline; nothing sleeps to synchronise."""

import datetime
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

E = os.environ
DS_BIN = E['DS_BIN']


def fail(why):
    print('FAIL:', why, file=sys.stderr)
    raise SystemExit(1)


def get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def until(what, fn, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            fail(f'{what}: not within {seconds} s')
        time.sleep(0.05)


SAMPLE = re.compile(r'^([a-z_]+)\{([^}]*)\} (\S+)$')


def scrape(port):
    """{(name, frozenset(labels)): value} of /metrics, checked by promtool."""
    status, text = get(port, '/metrics')
    if status != 200:
        fail(f'/metrics on {port}: HTTP {status}')
    lint = subprocess.run(['promtool', 'check', 'metrics'], input=text, capture_output=True, text=True)
    if lint.returncode != 0:
        fail(f'promtool check metrics ({port}): {lint.stdout}{lint.stderr}')
    out = {}
    for line in text.splitlines():
        if line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            fail(f'unparsed sample line {line!r}')
        labels = frozenset(tuple(kv.split('=', 1)) for kv in re.findall(r'[a-z_]+="[^"]*"', m.group(2)))
        labels = frozenset((k, v.strip('"')) for k, v in labels)
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    want = {(k, str(v)) for k, v in labels.items()}
    hits = [v for (n, ls), v in samples.items() if n == name and want <= ls]
    if len(hits) != 1:
        fail(f'{name}{labels}: {len(hits)} samples')
    return hits[0]


STATUS_ASKED = [0]      # status queries answered in this phase


def status(endpoint):
    out = subprocess.run([f'{DS_BIN}/darkscope', 'query', '--endpoint', endpoint, 'status', '--json'],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        fail(f'status: {out.stderr}')
    STATUS_ASKED[0] += 1
    return json.loads(out.stdout)


def settled(endpoint, what, cond=lambda st: True, seconds=60):
    """A status in which every shard answered and cond(status) holds,
    polled for: on a loaded machine (the ASan suite) a shard busy with its
    end-of-stream checkpoint can miss the query service's 2 s, and is then
    marked down until its next probe.  A status taken once could be that
    one; the checks want every shard's numbers."""
    def once():
        try:
            st = status(endpoint)
        except subprocess.TimeoutExpired:
            return None
        return st if all(sh['ok'] for sh in st['shards']) and cond(st) else None
    return until(what, once, seconds)


def ready(port):
    return get(port, '/readyz')[0] == 200


def stamp_seconds(text):
    """Unix seconds of a status time, 2021-03-01T12:00:00.123Z."""
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def check_aggregators_equal_status(st, ports, **extra):
    for shard in st['shards']:
        k = shard['shard']
        store = shard['status']['store']
        m = scrape(ports[k])
        for s in store['sensors']:
            for field, metric in (('batches', 'darkscope_batches_total'), ('records', 'darkscope_records_total'),
                                  ('gaps', 'darkscope_gaps_total'), ('replays', 'darkscope_replays_total'),
                                  ('packets_read', 'darkscope_packets_read_total'),
                                  ('stale', 'darkscope_stale_total'), ('epoch', 'darkscope_sensor_epoch'),
                                  ('epochs', 'darkscope_sensor_epochs')):
                got = value(m, metric, service='aggregator', shard=k, sensor=s['sensor'], **extra)
                if got != s[field]:
                    fail(f'shard {k} sensor {s["sensor"]}: {metric} {got} != status {field} {s[field]}')
            #  The data lag: now minus the newest record's time (nil, and
            #  the metric 0, until a first batch; kept in checkpoints).
            newest = value(m, 'darkscope_sensor_newest_record_timestamp_seconds', service='aggregator',
                           shard=k, sensor=s['sensor'], **extra)
            if s['newest_record'] is None:
                if newest != 0 or s['data_lag_ms'] is not None:
                    fail(f'shard {k} sensor {s["sensor"]}: no newest record but metric {newest}, '
                         f'data_lag_ms {s["data_lag_ms"]}')
            else:
                t = stamp_seconds(s['newest_record'])
                now = stamp_seconds(shard['status']['now'])
                if abs(newest - t) > 0.001 or abs(s['data_lag_ms'] - (now - t) * 1000) > 2 \
                   or s['newest_record'][:10] != store['last_day'] or s['data_lag_ms'] < 0:
                    fail(f'shard {k} sensor {s["sensor"]}: newest record {s["newest_record"]} (metric {newest}), '
                         f'data_lag_ms {s["data_lag_ms"]}, now {shard["status"]["now"]}, '
                         f'last day {store["last_day"]}')
            for kind in ('non_ip', 'malformed', 'bad_time'):
                got = value(m, 'darkscope_bad_input_total', service='aggregator', shard=k,
                            sensor=s['sensor'], kind=kind, **extra)
                if got != s[kind]:
                    fail(f'shard {k} sensor {s["sensor"]}: bad input {kind} {got} != status {s[kind]}')
        ckpt = shard['status'].get('checkpoints')
        if ckpt is None:
            fail(f'shard {k}: no checkpoints in status: {sorted(shard["status"])}')
        for field, metric in (('written', 'darkscope_checkpoints_total'),
                              ('failed', 'darkscope_checkpoint_failures_total')):
            if value(m, metric, service='aggregator', shard=k) != ckpt[field]:
                fail(f'shard {k}: {metric} differs from status checkpoints.{field} {ckpt[field]}')
        if value(m, 'darkscope_store_sources', service='aggregator', shard=k) != store['sources']:
            fail(f'shard {k}: sources differ from status')
        if value(m, 'darkscope_rejects_total', service='aggregator', shard=k) != shard['status']['rejected']:
            fail(f'shard {k}: rejects differ from status')
    return True


def main(phase):
    agg = [int(E['H_AGG0']), int(E['H_AGG1'])] if 'H_AGG0' in E else []
    query = f'tcp://127.0.0.1:{E.get("P_Q")}'
    if phase == 'before':
        for port in agg:
            code, body = get(port, '/readyz')
            if code != 503 or 'input (labeler): 0 of 1 connected' not in body:
                fail(f'aggregator :{port} ready before its labeler exists: {code} {body}')
            if get(port, '/healthz')[0] != 200:
                fail('aggregator not healthy')
            m = scrape(port)
            if value(m, 'darkscope_ready', service='aggregator') != 0:
                fail('darkscope_ready is not 0 before the labeler')
        until('query ready (both shards answer)', lambda: ready(int(E['H_Q'])))
    elif phase == 'connected':
        for port in agg:
            until(f'aggregator :{port} ready once the labeler is up', lambda: ready(port))
            body = get(port, '/readyz')[1]
            if 'input (labeler): 1 of 1 connected' not in body or 'checkpoint restored: yes' not in body:
                fail(f'readyz body: {body}')
        code, body = get(int(E['H_LAB']), '/readyz')
        if 'tables loaded: yes' not in body:
            fail(f'labeler readyz: {body}')
    elif phase == 'complete':
        #  The end of stream starts each shard's checkpoint in a child: a
        #  status while it is written says written 0, a scrape after it
        #  ended says 1.  Compared once none is being written.
        st = settled(query, 'status complete, no checkpoint being written',
                     lambda st: st['complete'] and not any(sh['status']['checkpoints']['running']
                                                           for sh in st['shards']))
        check_aggregators_equal_status(st, agg)
        lab = scrape(int(E['H_LAB']))
        for shard in st['shards']:
            for s in shard['status']['store']['sensors']:
                for field in ('batches', 'records'):
                    got = value(lab, f'darkscope_{field}_total', service='labeler', sensor=s['sensor'], shard=shard['shard'])
                    if got != s[field]:
                        fail(f'labeler {field} for sensor {s["sensor"]} shard {shard["shard"]}: {got} != {s[field]}')
        if value(lab, 'darkscope_eos_total', service='labeler') != 2:
            fail('labeler EOS count')
        for sub in ('none', 'whole_stream'):      # every batch reached its shard's aggregator
            if value(lab, 'darkscope_unheard_batches_total', service='labeler', subscriber=sub) != 0:
                fail(f'labeler unheard batches ({sub}) not 0')
        if value(lab, 'darkscope_refused_connections_total', service='labeler') != 0:
            fail('labeler refused connections not 0')
        q = scrape(int(E['H_Q']))
        asked = value(q, 'darkscope_queries_total', service='query', q='status')
        if asked < STATUS_ASKED[0]:
            fail(f'query service counted {asked} status queries, this phase alone asked {STATUS_ASKED[0]}')
        if value(q, 'darkscope_query_duration_seconds_count', service='query', q='status') != asked:
            fail('latency histogram count != queries')
        before = value(q, 'darkscope_queries_total', service='query', q='overview')
        subprocess.run([f'{DS_BIN}/darkscope', 'query', '--endpoint', query, 'overview', '--json'],
                       capture_output=True, check=True)
        if value(scrape(int(E['H_Q'])), 'darkscope_queries_total', service='query', q='overview') != before + 1:
            fail('an overview query was not counted')
        code, body = get(int(E['H_Q']), '/api/overview')
        cli = subprocess.run([f'{DS_BIN}/darkscope', 'query', '--endpoint', query, 'overview', '--json'],
                             capture_output=True, text=True, check=True).stdout
        if code != 200 or json.loads(body)['result'] != json.loads(cli):
            fail('darkscope-query --http: /api/overview differs from the query protocol\'s answer')
        with open(os.path.join(E['WORK'], 'complete.json'), 'w') as f:
            json.dump(st, f)
    elif phase == 'shard-down':
        code, body = get(int(E['H_Q']), '/readyz')
        if code != 503 or 'shard 0' not in body:
            fail(f'query readyz with shard 0 down: {code} {body}')
        if get(int(E['H_Q']), '/healthz')[0] != 200:
            fail('query not healthy (a shard down is not ill health)')
    elif phase == 'restored':
        until('query ready again', lambda: ready(int(E['H_Q'])))
        until('shard 0 ready again', lambda: ready(agg[0]))
        m = scrape(agg[0])
        with open(os.path.join(E['WORK'], 'complete.json')) as f:
            old = json.load(f)
        want = old['shards'][0]['status']['store']['sensors'][0]['records']
        if value(m, 'darkscope_records_total', service='aggregator', shard=0, sensor=3) != want:
            fail('restored shard 0 does not export the records of its checkpoint')
        if value(m, 'darkscope_checkpoint_age_seconds', service='aggregator', shard=0) > 60:
            fail('checkpoint age not reset by the restore')
        #  A request while shard 0 was down (the text status) marked it
        #  down in the query service: it answers again at the next probe.
        st = settled(query, 'status with every shard')
        #  The newest record's time comes back with the checkpoint: the
        #  data lag is known at once, not only after new data.
        sensor = st['shards'][0]['status']['store']['sensors'][0]
        want = old['shards'][0]['status']['store']['sensors'][0]['newest_record']
        if want is None or sensor['newest_record'] != want or sensor['data_lag_ms'] is None:
            fail(f'restored shard 0: newest record {sensor["newest_record"]}, data lag {sensor["data_lag_ms"]}, '
                 f'before the restart {want}')
        if abs(value(m, 'darkscope_sensor_newest_record_timestamp_seconds', service='aggregator', shard=0,
                     sensor=3) - stamp_seconds(want)) > 0.001:            #  text: milliseconds
            fail('restored shard 0 does not export the newest record time of its checkpoint')
        check_aggregators_equal_status(st, agg)
    elif phase == 'run':
        port, endpoint = int(E['H_RUN']), f'tcp://127.0.0.1:{E["P_RUN"]}'
        until('run ready', lambda: ready(port), 60)
        st = settled(endpoint, 'run complete', lambda st: st['complete'])
        check_aggregators_equal_status(st, [port, port])
        m = scrape(port)
        packets = st['shards'][0]['status']['store']['sensors'][0]['packets_read']
        if value(m, 'darkscope_packets_read_total', service='ingest', sensor=0) != packets:
            fail('ingest packets_read differs from status')
        for kind in ('non_ip', 'bad_time'):
            want = st['shards'][0]['status']['store']['sensors'][0][kind]
            if value(m, 'darkscope_bad_input_total', service='ingest', sensor=0, kind=kind) != want:
                fail(f'ingest bad input {kind} differs from status ({want})')
        records = sum(s['status']['store']['records'] for s in st['shards'])
        if value(m, 'darkscope_records_total', service='ingest', sensor=0) != records:
            fail('ingest records differ from the shards\' records')
        with open(os.path.join(E['WORK'], 'run.log')) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        services = {line['service'] for line in lines}
        if not {'ingest', 'labeler', 'query', 'aggregator', 'darkscope'} <= services:
            fail(f'json log lines name only the services {services}')
        stamp = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
        for line in lines:
            if set(line) - {'shard', 'sensor'} != {'time', 'level', 'service', 'message', 'fields'}:
                fail(f'json log line with members {sorted(line)}')
            if not (isinstance(line['time'], str) and stamp.match(line['time'])
                    and line['level'] in ('info', 'warning', 'error')
                    and isinstance(line['service'], str) and isinstance(line['message'], str)
                    and isinstance(line['fields'], dict)
                    and all(isinstance(v, (str, int, float, bool)) or v is None for v in line['fields'].values())):
                fail(f'json log line with a member of the wrong type: {line}')
            for key in ('shard', 'sensor'):
                if key in line and not (isinstance(line[key], int) and not isinstance(line[key], bool)):
                    fail(f'json log line whose {key} is not a number: {line}')
            if line['service'] == 'aggregator' and line.get('shard') not in (0, 1):
                fail(f'aggregator line without its shard: {line}')
        #  The events with fields: the ingest's end counters equal status.
        ends = [l['fields'] for l in lines if l['service'] == 'ingest' and 'packets_read' in l['fields']
                and 'cpu_s' in l['fields']]
        if len(ends) != 1 or ends[0]['packets_read'] != packets or ends[0]['records'] != records \
           or not isinstance(ends[0]['seconds'], (int, float)):
            fail(f'ingest end counters in the json log: {ends} (status: {packets} packets, {records} records)')
        eos = [l for l in lines if l['service'] == 'aggregator' and 'sensors' in l['fields']]
        if sorted(l['shard'] for l in eos) != [0, 1] or sum(l['fields']['records'] for l in eos) != records:
            fail(f'aggregators\' end of stream lines in the json log: {eos}')
    else:
        fail(f'unknown phase {phase}')


main(sys.argv[1])
