#!/usr/bin/python3
"""embed_reference.py - pandas / gensim reference of darkscope's embedding.

Checks what `darkscope run --embed` wrote against an independent
construction, and exits non-zero on any difference:

- corpus: the DarkVec sentences built the pandas way from the CSV of
  `darkscope-ingest --output csv --csv-extra`: pp -> service (services.json
  and the fallback classes, as overview.py), the local hour of each packet
  in --tz, sort by (time, 16-byte address), one sentence per (service,
  local hour), services by name, hours in time order; equal, line for
  line, to --corpus-out;
- classes: each embedded sender's class (GT, else mirai, else unknown,
  overview.py's resolve_classes) equals --classes-out;
- model: gensim 4 reads --model-out (KeyedVectors.load_word2vec_format):
  one vector per sender with >= min_count packets;
- evaluation: 7-NN by cosine over the labelled senders, leave-one-out,
  recomputed with numpy from the model's vectors, matches the JSON's
  accuracy and macro F1 (the C side computes in float32: a near tie may
  flip a vote, so within --tolerance).

Run with Debian's Python: /usr/bin/python3 (pandas, numpy, gensim 4.2).
"""

import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import overview  # noqa: E402  (the overview reference: services, GT, addresses)

HOUR_US = 3600 * 1000000


def fail(msg):
    print(f'embed_reference.py: FAIL: {msg}', file=sys.stderr)
    sys.exit(1)


def sentences(df, tz, services):
    """Lines of the corpus: (service, local hour) -> addresses in time order."""
    if df.empty:
        return []
    serv_of = {pp: overview.service_of(pp, services) for pp in df.pp.unique()}
    df = df.assign(service=df.pp.map(serv_of))
    utc = pd.to_datetime(df.ts_us, unit='us', utc=True)
    local = utc.dt.tz_convert(tz).dt.tz_localize(None)
    offset = (local - utc.dt.tz_localize(None)).to_numpy().astype('timedelta64[us]').astype(np.int64)
    ts = df.ts_us.to_numpy()
    df = df.assign(hour=ts - (ts + offset) % HOUR_US,
                   key=df.ip.map({ip: overview.addr_bytes(ip) for ip in df.ip.unique()}))
    df = df.sort_values(['service', 'hour', 'ts_us', 'key'], kind='mergesort')
    return [' '.join(g.ip) for _, g in df.groupby(['service', 'hour'], sort=False)]


def knn_eval(vectors, labels, k):
    """Leave-one-out k-NN majority over the labelled rows (ties: nearest)."""
    lab = np.flatnonzero(labels >= 0)
    if len(lab) == 0:
        return 0.0, 0.0
    v = vectors[lab].astype(np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-300)
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    y = labels[lab]
    pred = np.empty(len(lab), dtype=np.int64)
    for i in range(len(lab)):
        order = np.lexsort((lab, -sims[i]))[:k]
        votes = y[order]
        counts = np.bincount(votes)
        best = counts.max()
        pred[i] = next(c for c in votes if counts[c] == best)
    acc = float(np.mean(pred == y))
    f1s = []
    for c in sorted(set(y) | set(pred)):
        tp = np.sum((pred == c) & (y == c))
        p = tp / np.sum(pred == c) if np.sum(pred == c) else 0.0
        r = tp / np.sum(y == c) if np.sum(y == c) else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return acc, float(np.mean(f1s))


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('csv', help='darkscope-ingest --output csv --csv-extra file')
    p.add_argument('--tz', default='UTC')
    p.add_argument('--gt', action='append', default=[])
    p.add_argument('--gt-list', action='append', default=[])
    p.add_argument('--alias', action='append', default=[])
    p.add_argument('--services', default=os.path.join(here, '..', '..', 'services', 'labeler',
                                                      'services.json'))
    p.add_argument('--corpus', required=True, help='--corpus-out of darkscope')
    p.add_argument('--classes', required=True, help='--classes-out of darkscope')
    p.add_argument('--model', required=True, help='--model-out of darkscope')
    p.add_argument('--json', required=True, help='--json of darkscope run --embed')
    p.add_argument('--min-count', type=int, default=10)
    p.add_argument('--k', type=int, default=7)
    p.add_argument('--tolerance', type=float, default=0.02)
    args = p.parse_args(argv)

    df = overview.load_packets([args.csv])
    want = sentences(df, args.tz, overview.load_services(args.services))
    with open(args.corpus, encoding='utf-8') as f:
        got = f.read().split('\n')
    if got and got[-1] == '':
        got.pop()
    if got != want:
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                fail(f'corpus line {i + 1} differs:\n  darkscope: {a[:200]}\n  pandas:    {b[:200]}')
        fail(f'corpus has {len(got)} lines, pandas {len(want)}')
    print(f'ok: corpus, {len(want)} sentences, {sum(len(s.split()) for s in want)} words')

    counts = df.ip.value_counts()
    kept = counts[counts >= args.min_count]
    classes = overview.resolve_classes(df, overview.build_gt(args)).set_index('ip')['class']
    got_cls = pd.read_csv(args.classes, dtype=str, keep_default_na=False)
    if sorted(got_cls.ip) != sorted(kept.index):
        fail(f'classes-out has {len(got_cls)} senders, pandas keeps {len(kept)}')
    bad = [(ip, c, classes[ip]) for ip, c in zip(got_cls.ip, got_cls['class']) if classes[ip] != c]
    if bad:
        fail(f'{len(bad)} classes differ, e.g. {bad[:3]}')
    if [int(x) for x in got_cls.packets] != [int(kept[ip]) for ip in got_cls.ip]:
        fail('packets per sender differ')
    print(f'ok: {len(got_cls)} senders, classes and packets')

    from gensim.models import KeyedVectors
    kv = KeyedVectors.load_word2vec_format(args.model, binary=False)
    if sorted(kv.index_to_key) != sorted(kept.index):
        fail('the model does not hold exactly the senders with >= min_count packets')
    with open(args.json, encoding='utf-8') as f:
        emb = json.load(f)['embedding']
    if kv.vector_size != emb['parameters']['vector_size']:
        fail('vector size differs from the JSON parameters')
    names = sorted(set(c for c in classes[kv.index_to_key] if c != 'unknown'))
    labels = np.array([names.index(classes[ip]) if classes[ip] != 'unknown' else -1
                       for ip in kv.index_to_key])
    acc, macro = knn_eval(kv.vectors, labels, args.k)
    print(f'ok: gensim reads the model ({len(kv)} x {kv.vector_size}); numpy 7-NN accuracy {acc:.4f} '
          f'macro F1 {macro:.4f}, darkscope {emb["accuracy"]:.4f} {emb["macro_f1"]:.4f}')
    if abs(acc - emb['accuracy']) > args.tolerance or abs(macro - emb['macro_f1']) > 2 * args.tolerance:
        fail('the evaluation differs from the numpy one')
    if emb['labelled'] != int(np.sum(labels >= 0)):
        fail(f'labelled {emb["labelled"]} vs {int(np.sum(labels >= 0))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
