#!/usr/bin/python3
"""overview.py - the pandas reference of darkscope's overview (DESIGN.md §5).

Written the way DarkVec's notebook computes it (seed/darknet-overview.md):
value_counts, isin, sets of sources per day, a merge with the ground truth
and a replace of the aliased classes.  It reads the CSV that
`darkscope-ingest --output csv --csv-extra` writes (ts,ip,port,proto,pp,
mirai,ts_us) and writes the overview JSON object, or with --pattern the
pattern query result (notes/shared-contract.md), so that `darkscope run
--json` can be compared with it field by field (tests/reference/compare.py).

Run with Debian's Python: /usr/bin/python3 (pandas 1.5.3).

Readings taken where DESIGN/contract leave a choice (the C side must match):
- GT entries are taken in the order: every --gt CSV (command-line order),
  then every --gt-list (command-line order; a directory lists its
  <class>_v4.txt / <class>_v6.txt files in name order).  A duplicate entry
  is the same network (address and prefix length); the first one wins.
- Exact addresses are /32 (/128) prefixes, so "exact beats prefix" is the
  longest-prefix rule.  IPv4 entries match IPv4 sources only, IPv6 entries
  IPv6 sources only.
- Aliases (defaults netscout, esrg_stanford, quadmetrics, criminalip,
  adscore -> unknown, plus every --alias) are applied once to the class of
  the winning entry; a source so aliased to "unknown" is still GT, so it is
  never "mirai".
- The resolved class uses the Mirai flag of the source's records in the
  whole query window [first_day, last_day] (contract), also for the
  classes table whose packet filter uses the 30-day clip.
- Pattern tokens: order of the first packet among the *selected* records
  (window days, [from_us, to_us), class), ties by the 16-byte address
  (IPv4 as ::ffff:a.b.c.d).
- Timestamps that cannot be real (DESIGN §12): records before 1995-01-01
  or more than one day after this host's clock are dropped before anything
  else and counted as ingest.bad_time (the CSV keeps them; darkscope's
  ingest counts and drops them before publishing).
- No packets and no --first-day/--last-day: the overview of an empty
  window (first_day and last_day null, 0 days, every count 0).
"""

import argparse
import datetime
import ipaddress
import json
import os
import sys
import time

import numpy as np
import pandas as pd

DEFAULT_ALIASES = {c: 'unknown' for c in
                   ('netscout', 'esrg_stanford', 'quadmetrics', 'criminalip', 'adscore')}
HEATMAP_OTHERS = {'unk_usr': 'others', 'unk_sys': 'others',
                  'unk_eph': 'others', 'proxy': 'others'}
TIME_MIN_US = 788918400000000        # 1995-01-01T00:00:00Z
TIME_AHEAD_US = 86400000000          # one day past this host's clock
GT_IP_COLS = ('ip', 's_ip', 'src_ip')
GT_CLASS_COLS = ('class', 'gt', 'label')


def die(msg):
    print(f'overview.py: {msg}', file=sys.stderr)
    sys.exit(2)


def warn(msg):
    print(f'overview.py: warning: {msg}', file=sys.stderr)


# ---------------------------------------------------------------- input

def load_packets(paths, chunksize=2000000):
    """The darkscope-ingest CSV(s); port and pp as text, as the notebook.

    Read in chunks; per chunk the day column is derived and the text
    columns are deduplicated (every row points at one shared str per
    distinct value), so 60 M rows fit in a few GB.  proto is not read: pp
    carries it.
    """
    frames = []
    for path in paths:
        try:
            reader = pd.read_csv(
                path, usecols=['ts', 'ip', 'port', 'pp', 'mirai', 'ts_us'],
                dtype={'ts': str, 'ip': str, 'port': str, 'pp': str,
                       'mirai': np.int8, 'ts_us': np.int64},
                keep_default_na=False, na_filter=False, chunksize=chunksize)
            for chunk in reader:
                frames.append(s_compact(chunk))
        except (OSError, ValueError) as e:
            die(f'{path}: {e}')
    if not frames:
        return pd.DataFrame({'ip': np.array([], dtype=object), 'port': np.array([], dtype=object),
                             'pp': np.array([], dtype=object), 'mirai': np.array([], dtype=np.int8),
                             'ts_us': np.array([], dtype=np.int64), 'day': np.array([], dtype=object)})
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return df


def s_compact(chunk):
    out = pd.DataFrame(index=chunk.index)
    for col in ('ip', 'port', 'pp'):
        codes, uniq = pd.factorize(chunk[col])
        out[col] = np.asarray(uniq, dtype=object)[codes]
    out['mirai'] = chunk['mirai']
    out['ts_us'] = chunk['ts_us']
    # The day is the date part of ts (local time in --tz already).  Every
    # time zone offset and DST step is a multiple of 15 minutes, so all
    # packets of one UTC quarter hour share a local date: slice the text of
    # one row per quarter hour instead of every row (same result, faster).
    quarter = chunk.ts_us.to_numpy() // 900000000
    _, first, inv = np.unique(quarter, return_index=True, return_inverse=True)
    day_of_quarter = chunk.ts.iloc[first].str.slice(0, 10).to_numpy(dtype=object)
    out['day'] = day_of_quarter[inv]
    return out


# ---------------------------------------------------------------- ground truth

def parse_net(text):
    """An address or CIDR prefix -> ip_network, or None."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def gt_entries_csv(path):
    try:
        gt = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as e:
        die(f'{path}: {e}')
    ipc = next((c for c in GT_IP_COLS if c in gt.columns), None)
    clc = next((c for c in GT_CLASS_COLS if c in gt.columns), None)
    if ipc is None or clc is None:
        die(f'{path}: needs an ip/s_ip/src_ip and a class/gt/label column')
    out = []
    for lineno, (ip, cls) in enumerate(zip(gt[ipc], gt[clc]), start=2):
        net = parse_net(ip)
        if net is None or cls == '':
            warn(f'{path}:{lineno}: skipped ({ip!r}, {cls!r})')
            continue
        out.append((net, cls))
    return out


def gt_entries_list(cls, path):
    out = []
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            for lineno, line in enumerate(f, start=1):
                text = line.split('#', 1)[0].strip()
                if not text:
                    continue
                net = parse_net(text)
                if net is None:
                    warn(f'{path}:{lineno}: not a prefix: {text!r}')
                    continue
                out.append((net, cls))
    except OSError as e:
        die(f'{path}: {e}')
    return out


def gt_list_specs(spec):
    """CLASS=FILE, FILE (class from <class>_v4.txt / _v6.txt), or a directory of those."""
    if '=' in spec and not os.path.exists(spec):
        cls, path = spec.split('=', 1)
        return [(cls, path)]
    if os.path.isfile(spec):
        name = os.path.basename(spec)
        for suffix in ('_v4.txt', '_v6.txt'):
            if name.endswith(suffix):
                return [(name[:-len(suffix)], spec)]
        die(f'--gt-list {spec}: no class given and the name is not <class>_v4.txt/_v6.txt')
    if os.path.isdir(spec):
        out = []
        for name in sorted(os.listdir(spec)):
            for suffix in ('_v4.txt', '_v6.txt'):
                if name.endswith(suffix):
                    out.append((name[:-len(suffix)], os.path.join(spec, name)))
        return out
    die(f'--gt-list {spec}: expected CLASS=FILE or a directory')


class GroundTruth:
    """Longest-prefix match; first duplicate wins; aliases applied."""

    def __init__(self, entries, aliases):
        self.v4 = {}                    # prefixlen -> {network int: class}
        self.v6 = {}
        mapped = ipaddress.ip_network('::ffff:0:0/96')
        for net, cls in entries:
            # one 128-bit space like the labeler: IPv4 is ::ffff:a.b.c.d, so
            # ::ffff:a.b.c.0/120 is a.b.c.0/24, and a v6 prefix covering
            # ::ffff:0:0/96 also covers every IPv4 source (as a v4 "length"
            # plen - 96 <= 0, below any real v4 prefix)
            if net.version == 6 and net.prefixlen >= 96 \
                    and net.network_address.ipv4_mapped is not None:
                net = ipaddress.ip_network((net.network_address.ipv4_mapped, net.prefixlen - 96))
            if net.version == 6 and net.prefixlen < 96 and mapped.subnet_of(net):
                self.s_add(self.v4, net.prefixlen - 96, 0, cls, net)
            table = self.v4 if net.version == 4 else self.v6
            self.s_add(table, net.prefixlen, int(net.network_address), cls, net)
        self.aliases = aliases

    @staticmethod
    def s_add(tables, plen, key, cls, net):
        table = tables.setdefault(plen, {})
        if key in table:
            if table[key] != cls:
                warn(f'duplicate GT entry {net}: {cls} ignored, {table[key]} kept')
            return
        table[key] = cls

    def lookup(self, ips):
        """ips: array of unique address texts -> array of class or None."""
        ips = pd.Series(ips, dtype=object)
        result = np.full(len(ips), None, dtype=object)
        is_v4 = ips.str.contains('.', regex=False).to_numpy() & ~ips.str.contains(':', regex=False).to_numpy()
        # IPv4, vectorised: dotted quad -> uint32, then one pass per prefix length
        if self.v4 and is_v4.any():
            idx4 = np.nonzero(is_v4)[0]
            parts = ips.iloc[idx4].str.split('.', expand=True).astype(np.uint32).to_numpy()
            ints = (parts[:, 0] << 24) | (parts[:, 1] << 16) | (parts[:, 2] << 8) | parts[:, 3]
            todo = np.ones(len(idx4), dtype=bool)
            for plen in sorted(self.v4, reverse=True):
                mask = np.uint32((0xffffffff << (32 - plen)) & 0xffffffff) if plen > 0 else np.uint32(0)
                table = self.v4[plen]
                keys = pd.Index(np.fromiter(table.keys(), dtype=np.int64, count=len(table)))
                vals = np.array(list(table.values()), dtype=object)
                pos = keys.get_indexer((ints & mask).astype(np.int64))
                hit = todo & (pos >= 0)
                result[idx4[hit]] = vals[pos[hit]]
                todo &= ~hit
        # IPv6 (few sources): plain Python
        if self.v6:
            plens = sorted(self.v6, reverse=True)
            for i in np.nonzero(~is_v4)[0]:
                try:
                    a = ipaddress.ip_address(ips.iat[i])
                except ValueError:
                    continue
                if a.version != 6:
                    continue
                n = int(a)
                for plen in plens:
                    key = n & (((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1))
                    cls = self.v6[plen].get(key)
                    if cls is not None:
                        result[i] = cls
                        break
        return np.array([self.aliases.get(c, c) if c is not None else None for c in result],
                        dtype=object)


def build_gt(args):
    entries = []
    for path in args.gt:
        entries += gt_entries_csv(path)
    for spec in args.gt_list:
        for cls, path in gt_list_specs(spec):
            entries += gt_entries_list(cls, path)
    aliases = dict(DEFAULT_ALIASES)
    for spec in args.alias:
        if '=' not in spec:
            die(f'--alias {spec}: expected FROM=TO')
        a, b = spec.split('=', 1)
        aliases[a] = b
    return GroundTruth(entries, aliases)


def resolve_classes(df, gt):
    """Series ip -> resolved class over the window df: GT, else mirai, else unknown."""
    ips = df.ip.unique()
    lookup = pd.DataFrame({'ip': ips, 'class': gt.lookup(ips)})
    mirai_ips = set(df.ip[df.mirai == 1].unique())
    no_gt = lookup['class'].isna()
    lookup.loc[no_gt & lookup.ip.isin(mirai_ips), 'class'] = 'mirai'
    lookup['class'] = lookup['class'].fillna('unknown')
    return lookup


# ---------------------------------------------------------------- services

def load_services(path):
    try:
        with open(path, encoding='utf-8') as f:
            table = json.load(f)
    except (OSError, ValueError) as e:
        die(f'--services {path}: {e}')
    if not isinstance(table, dict):
        die(f'--services {path}: expected a JSON object')
    out = {}
    for k, v in table.items():
        port, _, proto = str(k).lower().partition('/')
        if port.isdigit():
            port = str(int(port))               # "023/tcp" is 23/tcp, as the labeler reads it
        out[f'{port}/{proto}'] = str(v)
    return out


def service_of(pp, table):
    s = table.get(pp.lower())
    if s is not None:
        return s
    port = pp.split('/', 1)[0]
    if port == '-' or not port.isdigit():
        return 'icmp'
    n = int(port)
    if n <= 1023:
        return 'unk_sys'
    if n <= 49151:
        return 'unk_usr'
    return 'unk_eph'


# ---------------------------------------------------------------- overview

def top_by_packets(vc, n, key):
    """value_counts -> DataFrame [key, packets] sorted by packets desc, key asc."""
    t = vc.rename('packets').rename_axis(key).reset_index()
    t = t.sort_values(['packets', key], ascending=[False, True], kind='mergesort')
    return t.iloc[:n] if n is not None else t


def dataset_stats(df):
    total = int(df.shape[0])
    top3 = top_by_packets(df.pp.value_counts(), 3, 'pp')
    senders = df[df.pp.isin(top3.pp)].groupby('pp').agg({'ip': lambda x: len(set(x))}).ip
    return {
        'sources': int(df.ip.unique().shape[0]),
        'packets': total,
        'ports': int(df.port.unique().shape[0]),
        'pp': int(df.pp.unique().shape[0]),
        'top_pp': [{'pp': pp, 'packets': int(p), 'percent': 100.0 * int(p) / total,
                    'sources': int(senders[pp])}
                   for pp, p in zip(top3.pp, top3.packets)],
    }


def port_ranking(df):
    t = df.port.value_counts().rename('packets').rename_axis('port').reset_index()
    t['num'] = pd.to_numeric(t.port.where(t.port != '-'), errors='coerce').fillna(1 << 20)
    t = t.sort_values(['packets', 'num'], ascending=[False, True], kind='mergesort')
    return [{'port': p, 'packets': int(n)} for p, n in zip(t.port, t.packets)]


def sender_ecdf(ips):
    cdf = ips.value_counts().sort_index()
    cum = np.cumsum(cdf.to_numpy())
    total = int(cum[-1]) if len(cum) else 0
    return [{'packets': int(x), 'fraction': int(c) / total} for x, c in zip(cdf.index, cum)]


def get_ip_set_by_day(df, days):
    """day -> set of source IPs (the notebook's helper)."""
    u = df[['day', 'ip']].drop_duplicates()
    groups = {d: set(g) for d, g in u.groupby('day').ip}
    return [groups.get(d, set()) for d in days]


def daily_stats(df, dnet_f, days):
    sets = get_ip_set_by_day(df, days)
    sets_f = get_ip_set_by_day(dnet_f, days)
    out, seen, seen_f = [], set(), set()
    for d, s, sf in zip(days, sets, sets_f):
        seen |= s
        seen_f |= sf
        out.append({'day': d, 'sources': len(s), 'sources_filtered': len(sf),
                    'cumulative': len(seen), 'cumulative_filtered': len(seen_f)})
    return out


def class_stats(daily):
    rows = []
    for cls, g in daily.groupby('class'):
        packets = int(g.shape[0])
        top5 = top_by_packets(g.pp.value_counts(), 5, 'pp')
        rows.append({'class': cls, 'senders': int(g.ip.unique().shape[0]),
                     'packets': packets, 'pp': int(g.pp.unique().shape[0]),
                     'top_pp': [{'pp': pp, 'packets': int(p), 'percent': 100.0 * int(p) / packets}
                                for pp, p in zip(top5.pp, top5.packets)]})
    rows.sort(key=lambda r: (-r['senders'], -r['packets'], r['class'].encode()))
    return rows


def heatmap(daily, classes, services):
    if daily.shape[0] == 0:
        return {'classes': [], 'services': [], 'fraction': []}
    serv_of = {pp: service_of(pp, services) for pp in daily.pp.unique()}
    daily = daily.assign(serv=daily.pp.map(serv_of), pkts=1)
    daily = daily.replace({'serv': HEATMAP_OTHERS})
    tot = daily.groupby('serv').pkts.sum().reset_index()
    tot = tot.sort_values(['pkts', 'serv'], ascending=[False, True], kind='mergesort')
    serv_order = list(tot.serv)
    cls_order = [r['class'] for r in classes]
    pivot = daily.pivot_table(values='pkts', index='class', columns='serv', aggfunc='sum') \
                 .reindex(index=cls_order, columns=serv_order).fillna(0).astype(np.int64)
    class_pkts = pivot.sum(axis=1)
    frac = [[int(pivot.at[c, s]) / int(class_pkts[c]) for c in cls_order] for s in serv_order]
    return {'classes': cls_order, 'services': serv_order, 'fraction': frac}


def day_add(day, n):
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=n)).isoformat()


def day_range(first, last):
    out, d = [], first
    while d <= last:
        out.append(d)
        d = day_add(d, 1)
    return out


def window_of(df, args):
    seen = df.day.unique()
    first = args.first_day or (min(seen) if len(seen) else None)
    last = args.last_day or (max(seen) if len(seen) else None)
    if first is None and last is None:
        return None, None                   # the empty window
    if first is None or last is None:
        die('no packets: give both --first-day and --last-day, or neither')
    first, last = norm_day(first), norm_day(last)
    if first > last:
        die(f'first day {first} after last day {last}')
    return first, last


def norm_day(text):
    t = text if '-' in text else f'{text[:4]}-{text[4:6]}-{text[6:8]}'
    try:
        return datetime.date.fromisoformat(t).isoformat()
    except ValueError:
        die(f'not a day: {text!r}')


def in_window(df, first, last):
    if first is None:
        return df.iloc[0:0]
    seen = df.day.unique()
    if len(seen) and min(seen) >= first and max(seen) <= last:
        return df
    return df[(df.day >= first) & (df.day <= last)]


def overview(df, args, gt, services):
    first, last = window_of(df, args)
    days = day_range(first, last) if first is not None else []
    darknet = in_window(df, first, last)
    df1 = darknet[darknet.day == last]

    # dataset statistics, 30 days and last day
    dataset = {'window': dataset_stats(darknet), 'last_day': dataset_stats(df1)}

    # filter definition: packets per IP over the window
    ips = darknet.ip.value_counts()
    ips_f = set(ips[ips >= args.min_packets].index)
    dnet_f = darknet[darknet.ip.isin(ips_f)]

    # last day of traffic: sources with >= min_packets over the 30 days ending at last_day
    clip = max(first, day_add(last, -29)) if first is not None else None
    ips30 = (darknet if clip is None or clip <= first else darknet[darknet.day >= clip]).ip.value_counts()
    ips30_f = set(ips30[ips30 >= args.min_packets].index)
    daily = df1[df1.ip.isin(ips30_f)]
    lookup = resolve_classes(darknet, gt)
    daily = daily.merge(lookup, on='ip', how='left')
    classes = class_stats(daily)

    return {
        'schema': 'darkscope.overview/1',
        'tz': args.tz,
        'min_packets': args.min_packets,
        'window': {'first_day': first, 'last_day': last, 'days': len(days)},
        'dataset': dataset,
        'port_ranking': port_ranking(darknet),
        'sender_ecdf': sender_ecdf(ips),
        'filter': {'sources_kept': len(ips_f), 'packets_kept': int(dnet_f.shape[0])},
        'daily': daily_stats(darknet, dnet_f, days),
        'classes': classes,
        'heatmap': heatmap(daily, classes, services),
    }


# ---------------------------------------------------------------- pattern

def addr_bytes(text):
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return b'\0' * 10 + b'\xff\xff' + a.packed
    return a.packed


def pattern(df, args, gt):
    first, last = window_of(df, args)
    darknet = in_window(df, first, last)
    sel = darknet
    if args.cls:
        lookup = resolve_classes(darknet, gt)
        sel = sel[sel.ip.isin(set(lookup.ip[lookup['class'] == args.cls]))]
    if args.from_us is not None:
        sel = sel[sel.ts_us >= args.from_us]
    if args.to_us is not None:
        sel = sel[sel.ts_us < args.to_us]
    first_ts = sel.groupby('ip').ts_us.min()
    order = sorted(first_ts.items(), key=lambda kv: (kv[1], addr_bytes(kv[0])))
    ydict = {ip: k for k, (ip, _) in enumerate(order)}
    bin_us = args.bin_s * 1000000
    pts = pd.DataFrame({'bin': (sel.ts_us.to_numpy() // bin_us) * bin_us,
                        'tkn': sel.ip.map(ydict).to_numpy()}).drop_duplicates()
    pts = pts.sort_values(['bin', 'tkn'], kind='mergesort')
    return {'bin_s': args.bin_s, 'class': args.cls or '',
            'sources': [ip for ip, _ in order],
            'points': [[int(b), int(t)] for b, t in zip(pts.bin, pts.tkn)]}


# ---------------------------------------------------------------- main

def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_services = os.path.join(here, '..', '..', 'services', 'labeler', 'services.json')
    p = argparse.ArgumentParser(description='pandas reference of the darkscope overview')
    p.add_argument('csv', nargs='+', help='darkscope-ingest --output csv --csv-extra files')
    p.add_argument('--gt', action='append', default=[], help='ground-truth CSV (repeatable)')
    p.add_argument('--gt-list', action='append', default=[],
                   help='CLASS=FILE or a directory of <class>_v4.txt/_v6.txt (repeatable)')
    p.add_argument('--alias', action='append', default=[], help='FROM=TO class alias (repeatable)')
    p.add_argument('--services', default=default_services, help='services.json')
    p.add_argument('--tz', default='UTC', help='time zone name the CSV ts is in (reported only)')
    p.add_argument('--first-day')
    p.add_argument('--last-day')
    p.add_argument('--min-packets', type=int, default=10)
    p.add_argument('--ingest-json', help='JSON with the ingest section (or a whole overview)')
    p.add_argument('--json', help='output file (default stdout)')
    p.add_argument('--pattern', action='store_true', help='write the pattern query instead')
    p.add_argument('--class', dest='cls', default='', help='pattern: class filter')
    p.add_argument('--from-us', type=int)
    p.add_argument('--to-us', type=int)
    p.add_argument('--bin-s', type=int, default=60)
    args = p.parse_args(argv)
    if args.bin_s <= 0:
        die('--bin-s must be > 0')

    df = load_packets(args.csv)
    bad = (df.ts_us < TIME_MIN_US) | (df.ts_us > int(time.time() * 1e6) + TIME_AHEAD_US)
    bad_time = int(bad.sum())
    if bad_time:
        df = df[~bad]
    gt = build_gt(args)
    if args.pattern:
        out = pattern(df, args, gt)
    else:
        out = overview(df, args, gt, load_services(args.services))
        out['ingest'] = {}
        if args.ingest_json:
            with open(args.ingest_json, encoding='utf-8') as f:
                ing = json.load(f)
            out['ingest'] = dict(ing.get('ingest', ing))
        out['ingest']['bad_time'] = bad_time
    text = json.dumps(out)
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
    else:
        print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
