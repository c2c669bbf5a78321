#!/usr/bin/python3
"""compare.py - compares two overview (or pattern) JSON files field by field.

Integers must be equal, floats equal (bit for bit unless --rel-tol), an int
never equals a float (the contract prints floats as floats), lists element
by element, objects key by key.  Prints every differing path with both
values (the first --max, default 20) and exits 1 on any difference, 0 when
equal, 2 on a usage or read error.

    compare.py EXPECTED.json ACTUAL.json [--ignore ingest] [--rel-tol 1e-12]
"""

import argparse
import json
import math
import sys


def s_kind(v):
    if isinstance(v, bool) or v is None:
        return 'const'
    if isinstance(v, int):
        return 'int'
    if isinstance(v, float):
        return 'float'
    if isinstance(v, str):
        return 'str'
    if isinstance(v, list):
        return 'list'
    return 'object'


def s_short(v):
    text = json.dumps(v)
    return text if len(text) <= 120 else text[:117] + '...'


def diff(a, b, path, ignore, rel_tol, out):
    ka, kb = s_kind(a), s_kind(b)
    if ka != kb:
        out.append((path, f'{ka} {s_short(a)}', f'{kb} {s_short(b)}'))
    elif ka == 'object':
        for k in a:
            if k in ignore:
                continue
            if k not in b:
                out.append((f'{path}.{k}', s_short(a[k]), '(missing)'))
            else:
                diff(a[k], b[k], f'{path}.{k}', ignore, rel_tol, out)
        for k in b:
            if k not in a and k not in ignore:
                out.append((f'{path}.{k}', '(missing)', s_short(b[k])))
    elif ka == 'list':
        if len(a) != len(b):
            out.append((f'{path}.length', str(len(a)), str(len(b))))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f'{path}[{i}]', ignore, rel_tol, out)
    elif ka == 'float':
        same = (a == b) if rel_tol == 0 else math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0)
        if not same:
            out.append((path, repr(a), repr(b)))
    elif a != b:
        out.append((path, s_short(a), s_short(b)))


def main(argv=None):
    p = argparse.ArgumentParser(description='field-by-field JSON comparison')
    p.add_argument('expected')
    p.add_argument('actual')
    p.add_argument('--ignore', action='append', default=[],
                   help='object key to skip wherever it appears (repeatable)')
    p.add_argument('--rel-tol', type=float, default=0.0)
    p.add_argument('--max', type=int, default=20, help='differences printed')
    args = p.parse_args(argv)
    docs = []
    for path in (args.expected, args.actual):
        try:
            with open(path, encoding='utf-8') as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f'compare.py: {path}: {e}', file=sys.stderr)
            return 2
    out = []
    diff(docs[0], docs[1], '$', set(args.ignore), args.rel_tol, out)
    for path, x, y in out[:args.max]:
        print(f'{path}: expected {x}, actual {y}')
    if len(out) > args.max:
        print(f'... and {len(out) - args.max} more differences')
    if out:
        print(f'compare.py: {len(out)} difference(s) between {args.expected} and {args.actual}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
