#!/usr/bin/python3
"""embed_gensim.py - gensim 4's word2vec on darkscope's corpus, for the benchmark.

Trains gensim's Word2Vec on the LineSentence corpus that darkscope wrote
(--corpus-out) with DarkVec's parameters (skip-gram, V 50, C 25,
min_count 10, sample 0, 5 negatives, 20 epochs), in corpus_file mode (its
fastest), then classifies every labelled sender (classes from
--classes-out) by its 7 nearest labelled senders, leave-one-out, exactly
as embed_reference.py checks darkscope's own evaluation.  Prints one JSON
line: training wall and CPU seconds, accuracy, macro F1.

Usage: embed_gensim.py CORPUS CLASSES.csv [--workers N] [--epochs E] [--seed S]
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed_reference import knn_eval  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('corpus')
    p.add_argument('classes')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--k', type=int, default=7)
    args = p.parse_args(argv)

    from gensim.models import Word2Vec
    import gensim
    w0, c0 = time.monotonic(), cpu()
    model = Word2Vec(corpus_file=args.corpus, sg=1, hs=0, negative=5, vector_size=50, window=25,
                     min_count=10, sample=0, epochs=args.epochs, workers=args.workers,
                     seed=args.seed)
    wall, cpu_s = time.monotonic() - w0, cpu() - c0
    cls = pd.read_csv(args.classes, dtype=str, keep_default_na=False).set_index('ip')['class']
    keys = model.wv.index_to_key
    names = sorted(set(cls[k] for k in keys if cls.get(k, 'unknown') != 'unknown'))
    labels = np.array([names.index(cls[k]) if cls.get(k, 'unknown') != 'unknown' else -1 for k in keys])
    acc, macro = knn_eval(model.wv.vectors, labels, args.k)
    print(json.dumps({'trainer': f'gensim {gensim.__version__}', 'threads': args.workers,
                      'epochs': args.epochs, 'vocabulary': len(keys),
                      'train_wall_s': round(wall, 3), 'train_cpu_s': round(cpu_s, 3),
                      'labelled': int(np.sum(labels >= 0)), 'accuracy': round(acc, 4),
                      'macro_f1': round(macro, 4)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
