#!/usr/bin/python3
"""Self-test of the pandas reference (overview.py, compare.py).

Tiny hand-written inputs whose answers are worked out by hand below, so
the reference the C code is compared with is itself trustworthy.  Run by
ctest through tests/test_reference.sh with /usr/bin/python3.
"""

import calendar
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
OVERVIEW = os.path.join(HERE, 'overview.py')
COMPARE = os.path.join(HERE, 'compare.py')
sys.path.insert(0, HERE)
import overview  # noqa: E402

A, B, C, D, E = '1.1.1.1', '2.2.2.2', '3.3.3.3', '2001:db8::1', '4.4.4.4'


def us(day, hms):
    y, m, d = map(int, day.split('-'))
    hh, mm, ss = map(int, hms.split(':'))
    return calendar.timegm((y, m, d, hh, mm, ss)) * 1000000


#  (day, time, ip, port, proto, mirai)
ROWS = [
    ('2021-03-01', '00:00:10', A, '23', 'TCP', 1),
    ('2021-03-01', '00:00:30', B, '445', 'TCP', 0),
    ('2021-03-01', '00:00:30', C, '-', 'ICMP', 0),
    ('2021-03-01', '00:00:50', A, '23', 'TCP', 1),
    ('2021-03-01', '00:01:05', A, '23', 'TCP', 1),
    ('2021-03-01', '00:02:00', B, '445', 'TCP', 0),
    ('2021-03-02', '10:00:00', A, '2323', 'TCP', 0),
    ('2021-03-02', '10:00:00', B, '445', 'TCP', 0),
    ('2021-03-02', '10:00:01', B, '445', 'TCP', 0),
    ('2021-03-02', '11:00:00', D, '53', 'UDP', 0),
    #  2021-03-03: no packet
    ('2021-03-04', '08:00:00', A, '23', 'TCP', 0),
    ('2021-03-04', '08:00:01', A, '23', 'TCP', 0),
    ('2021-03-04', '09:00:00', B, '80', 'TCP', 0),
    ('2021-03-04', '09:30:00', C, '-', 'ICMP', 0),
    ('2021-03-04', '12:00:00', E, '80', 'TCP', 1),
    ('2021-03-04', '12:00:01', E, '80', 'TCP', 0),
    ('2021-03-04', '12:00:02', E, '80', 'TCP', 0),
]


def write_csv(path, rows):
    with open(path, 'w') as f:
        f.write('ts,ip,port,proto,pp,mirai,ts_us\n')
        for day, hms, ip, port, proto, mirai in rows:
            f.write(f'{day} {hms}.000000,{ip},{port},{proto},{port}/{proto},{mirai},{us(day, hms)}\n')


class Reference(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        cls.csv = os.path.join(t, 'darknet.csv')
        write_csv(cls.csv, ROWS)
        cls.services = os.path.join(t, 'services.json')
        with open(cls.services, 'w') as f:
            json.dump({'23/tcp': 'telnet', '2323/tcp': 'telnet', '80/tcp': 'http',
                       '445/tcp': 'netbios-smb', '53/udp': 'dns'}, f)
        #  exact 2.2.2.2 (shodan) beats the list's 2.2.0.0/16 (censys); the
        #  duplicate 2.2.2.2 censys line is ignored (first wins)
        cls.gt = os.path.join(t, 'gt.csv')
        with open(cls.gt, 'w') as f:
            f.write('ip,class\n2.2.2.2,shodan\n2.2.2.2,censys\n')
        #  a directory of lists: 4.4.4.0/24 netscout (-> unknown by alias)
        #  beats 4.0.0.0/8 censys; comments after '#'
        cls.lists = os.path.join(t, 'scanners')
        os.mkdir(cls.lists)
        with open(os.path.join(cls.lists, 'censys_v4.txt'), 'w') as f:
            f.write('# censys\n4.0.0.0/8\n2.2.0.0/16  # all of it\n')
        with open(os.path.join(cls.lists, 'netscout_v4.txt'), 'w') as f:
            f.write('4.4.4.0/24 # arbor\n')
        cls.v6 = os.path.join(t, 'r7.txt')
        with open(cls.v6, 'w') as f:
            f.write('2001:db8::/32\n')

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_ref(self, *args, csv=None):
        out = os.path.join(self.tmp.name, 'out.json')
        cmd = [sys.executable, OVERVIEW, csv or self.csv, '--services', self.services,
               '--gt', self.gt, '--gt-list', self.lists, '--gt-list', 'rapid7=' + self.v6,
               '--json', out] + list(args)
        if args and args[0] == '--cli':
            subprocess.run([a for a in cmd if a != '--cli'], check=True)
        else:
            self.assertEqual(overview.main(cmd[2:]), 0)     # in-process: no pandas import per run
        with open(out) as f:
            return json.load(f)

    def test_full_window_min3(self):
        o = self.run_ref('--cli', '--min-packets', '3')
        self.assertEqual(list(o), ['schema', 'tz', 'min_packets', 'window', 'dataset', 'port_ranking',
                                   'sender_ecdf', 'filter', 'daily', 'classes', 'heatmap', 'ingest'])
        self.assertEqual(o['ingest'], {'bad_time': 0})
        self.assertEqual(o['schema'], 'darkscope.overview/1')
        self.assertEqual(o['window'], {'first_day': '2021-03-01', 'last_day': '2021-03-04', 'days': 4})
        w = o['dataset']['window']
        self.assertEqual((w['sources'], w['packets'], w['ports'], w['pp']), (5, 17, 6, 6))
        #  23/TCP 5; 445/TCP and 80/TCP tie at 4 -> byte order, '4' < '8'
        self.assertEqual(w['top_pp'], [
            {'pp': '23/TCP', 'packets': 5, 'percent': 100.0 * 5 / 17, 'sources': 1},
            {'pp': '445/TCP', 'packets': 4, 'percent': 100.0 * 4 / 17, 'sources': 1},
            {'pp': '80/TCP', 'packets': 4, 'percent': 100.0 * 4 / 17, 'sources': 2}])
        l = o['dataset']['last_day']
        self.assertEqual((l['sources'], l['packets'], l['ports'], l['pp']), (4, 7, 3, 3))
        self.assertEqual([(t['pp'], t['packets'], t['sources']) for t in l['top_pp']],
                         [('80/TCP', 4, 2), ('23/TCP', 2, 1), ('-/ICMP', 1, 1)])
        self.assertEqual(l['top_pp'][2]['percent'], 100.0 / 7)
        #  packets desc; ties by numeric port (80 < 445, 53 < 2323); '-' by its count
        self.assertEqual(o['port_ranking'], [
            {'port': '23', 'packets': 5}, {'port': '80', 'packets': 4}, {'port': '445', 'packets': 4},
            {'port': '-', 'packets': 2}, {'port': '53', 'packets': 1}, {'port': '2323', 'packets': 1}])
        #  per source: A 6, B 5, C 2, D 1, E 3
        self.assertEqual(o['sender_ecdf'], [
            {'packets': 1, 'fraction': 1 / 5}, {'packets': 2, 'fraction': 2 / 5},
            {'packets': 3, 'fraction': 3 / 5}, {'packets': 5, 'fraction': 4 / 5},
            {'packets': 6, 'fraction': 1.0}])
        self.assertIsInstance(o['sender_ecdf'][-1]['fraction'], float)
        self.assertEqual(o['filter'], {'sources_kept': 3, 'packets_kept': 14})
        self.assertEqual([(d['day'], d['sources'], d['sources_filtered'], d['cumulative'],
                           d['cumulative_filtered']) for d in o['daily']],
                         [('2021-03-01', 3, 2, 3, 2), ('2021-03-02', 3, 2, 4, 2),
                          ('2021-03-03', 0, 0, 4, 2), ('2021-03-04', 4, 3, 5, 3)])
        #  last day, kept A B E: E is netscout -> unknown (GT, so not mirai
        #  despite its fingerprint), A mirai (fingerprint on day 1), B shodan
        self.assertEqual(o['classes'], [
            {'class': 'unknown', 'senders': 1, 'packets': 3, 'pp': 1,
             'top_pp': [{'pp': '80/TCP', 'packets': 3, 'percent': 100.0}]},
            {'class': 'mirai', 'senders': 1, 'packets': 2, 'pp': 1,
             'top_pp': [{'pp': '23/TCP', 'packets': 2, 'percent': 100.0}]},
            {'class': 'shodan', 'senders': 1, 'packets': 1, 'pp': 1,
             'top_pp': [{'pp': '80/TCP', 'packets': 1, 'percent': 100.0}]}])
        self.assertEqual(o['heatmap'], {'classes': ['unknown', 'mirai', 'shodan'],
                                        'services': ['http', 'telnet'],
                                        'fraction': [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]})

    def test_bad_time(self):
        #  Records before 1995 or more than a day ahead are dropped and
        #  counted: the same overview as without them (DESIGN §12).
        bad = os.path.join(self.tmp.name, 'bad.csv')
        write_csv(bad, ROWS)
        with open(bad, 'a') as f:
            f.write(f'1970-01-01 00:00:00.000000,{A},23,TCP,23/TCP,0,0\n')
            f.write(f'1994-12-31 23:59:59.999999,{B},23,TCP,23/TCP,0,{788918400000000 - 1}\n')
            f.write(f'2100-01-01 00:00:00.000000,{E},80,TCP,80/TCP,0,4102444800000000\n')
            #  the bound itself is a real time
            f.write(f'1995-01-01 00:00:00.000000,{C},-,ICMP,-/ICMP,0,788918400000000\n')
        with_bad = self.run_ref('--min-packets', '3', '--last-day', '2021-03-04', csv=bad)
        self.assertEqual(with_bad['ingest'], {'bad_time': 3})
        plain = self.run_ref('--min-packets', '3', '--first-day', '1995-01-01', '--last-day', '2021-03-04')
        self.assertEqual(with_bad['dataset']['window']['packets'], plain['dataset']['window']['packets'] + 1)

    def test_empty_window(self):
        #  No packet and no window: an empty window, every count 0.
        empty = os.path.join(self.tmp.name, 'empty.csv')
        write_csv(empty, [])
        o = self.run_ref(csv=empty)
        self.assertEqual(o['window'], {'first_day': None, 'last_day': None, 'days': 0})
        self.assertEqual(o['dataset']['window'], {'sources': 0, 'packets': 0, 'ports': 0, 'pp': 0,
                                                  'top_pp': []})
        self.assertEqual((o['daily'], o['port_ranking'], o['sender_ecdf'], o['classes']), ([], [], [], []))
        self.assertEqual(o['filter'], {'sources_kept': 0, 'packets_kept': 0})
        self.assertEqual(o['heatmap'], {'classes': [], 'services': [], 'fraction': []})

    def test_default_min_packets_keeps_nobody(self):
        o = self.run_ref('--tz', 'Europe/Rome')
        self.assertEqual(o['tz'], 'Europe/Rome')
        self.assertEqual(o['min_packets'], 10)
        self.assertEqual(o['filter'], {'sources_kept': 0, 'packets_kept': 0})
        self.assertEqual([d['cumulative_filtered'] for d in o['daily']], [0, 0, 0, 0])
        self.assertEqual(o['classes'], [])
        self.assertEqual(o['heatmap'], {'classes': [], 'services': [], 'fraction': []})

    def test_min1_alias_and_many_classes(self):
        #  min 1: C (2.. packets, ICMP) joins as unknown; --alias shodan=censys
        o = self.run_ref('--min-packets', '1', '--alias', 'shodan=censys')
        self.assertEqual([(c['class'], c['senders'], c['packets']) for c in o['classes']],
                         [('unknown', 2, 4), ('mirai', 1, 2), ('censys', 1, 1)])
        unk = o['classes'][0]
        self.assertEqual(unk['top_pp'], [{'pp': '80/TCP', 'packets': 3, 'percent': 75.0},
                                         {'pp': '-/ICMP', 'packets': 1, 'percent': 25.0}])
        h = o['heatmap']
        #  http 4, telnet 2, icmp 1
        self.assertEqual(h['services'], ['http', 'telnet', 'icmp'])
        self.assertEqual(h['fraction'], [[0.75, 0.0, 1.0], [0.0, 1.0, 0.0], [0.25, 0.0, 0.0]])

    def test_gt_list_forms(self):
        #  a plain list file takes its class from the name; an IPv4-mapped
        #  IPv6 prefix covers IPv4 sources (one 128-bit space, as the labeler)
        t = self.tmp.name
        mapped = os.path.join(t, 'mapped.txt')
        with open(mapped, 'w') as f:
            f.write('::ffff:3.3.3.0/120\n::/0\n')
        out = os.path.join(t, 'forms.json')
        overview.main([self.csv, '--services', self.services,
                       '--gt-list', os.path.join(self.lists, 'censys_v4.txt'),
                       '--gt-list', 'mappedc=' + mapped, '--min-packets', '1', '--json', out])
        with open(out) as f:
            o = json.load(f)
        #  last day: A (1.1.1.1) and nothing else unmatched -> ::/0 makes it
        #  "mappedc" too (GT, so not mirai); B 2.2.0.0/16 and E 4.0.0.0/8 censys; C mapped
        self.assertEqual([(c['class'], c['senders'], c['packets']) for c in o['classes']],
                         [('censys', 2, 4), ('mappedc', 2, 3)])

    def test_explicit_window_with_empty_last_day(self):
        o = self.run_ref('--first-day', '2021-03-02', '--last-day', '2021-03-03', '--min-packets', '2')
        self.assertEqual(o['window'], {'first_day': '2021-03-02', 'last_day': '2021-03-03', 'days': 2})
        self.assertEqual(o['dataset']['last_day'],
                         {'sources': 0, 'packets': 0, 'ports': 0, 'pp': 0, 'top_pp': []})
        self.assertEqual(o['dataset']['window']['packets'], 4)
        self.assertEqual(o['sender_ecdf'], [{'packets': 1, 'fraction': 2 / 3},
                                            {'packets': 2, 'fraction': 1.0}])
        self.assertEqual(o['filter'], {'sources_kept': 1, 'packets_kept': 2})
        self.assertEqual([(d['sources'], d['sources_filtered'], d['cumulative']) for d in o['daily']],
                         [(3, 1, 3), (0, 0, 3)])
        self.assertEqual(o['classes'], [])

    def test_thirty_day_clip(self):
        #  F: 5 packets on 2021-01-01 and 1 on the last day; G: 3 on the last
        #  day.  Over the window both are kept (min 3) but over the 30 days
        #  ending 2021-03-04 F has 1 packet: only G is in the classes table.
        F, G = '5.5.5.5', '6.6.6.6'
        rows = [('2021-01-01', f'00:00:0{i}', F, '22', 'TCP', 0) for i in range(5)]
        rows += [('2021-03-04', '00:00:00', F, '22', 'TCP', 0)]
        rows += [('2021-03-04', f'00:00:0{i}', G, '8080', 'TCP', 0) for i in range(3)]
        path = os.path.join(self.tmp.name, 'clip.csv')
        write_csv(path, rows)
        o = self.run_ref('--min-packets', '3', csv=path)
        self.assertEqual(o['window']['days'], 31 + 28 + 4)
        self.assertEqual(o['filter'], {'sources_kept': 2, 'packets_kept': 9})
        self.assertEqual([(c['class'], c['senders'], c['packets']) for c in o['classes']],
                         [('unknown', 1, 3)])
        #  8080/tcp is not in this services table -> unk_usr -> others
        self.assertEqual(o['heatmap'], {'classes': ['unknown'], 'services': ['others'],
                                        'fraction': [[1.0]]})
        #  with the window starting 2021-03-04 the clip never goes before it
        o = self.run_ref('--min-packets', '2', '--first-day', '20210304', csv=path)
        self.assertEqual(o['classes'][0]['senders'], 1)

    def test_pattern(self):
        t0 = us('2021-03-01', '00:00:00')
        o = self.run_ref('--pattern', '--from-us', str(t0), '--to-us', str(t0 + 120 * 1000000))
        #  A first at 10 s; B and C both at 30 s -> address bytes, B first
        self.assertEqual(o, {'bin_s': 60, 'class': '', 'sources': [A, B, C],
                             'points': [[t0, 0], [t0, 1], [t0, 2], [t0 + 60000000, 0]]})
        o = self.run_ref('--pattern', '--class', 'shodan', '--bin-s', '3600')
        self.assertEqual(o['sources'], [B])
        d2 = us('2021-03-02', '10:00:00')
        d4 = us('2021-03-04', '09:00:00')
        self.assertEqual(o['points'], [[t0, 0], [d2, 0], [d4, 0]])
        o = self.run_ref('--pattern', '--class', 'rapid7')
        self.assertEqual(o['sources'], [D])
        #  A is mirai over the whole month, but not in a window without its
        #  fingerprinted day
        self.assertEqual(self.run_ref('--pattern', '--class', 'mirai')['sources'], [A])
        o = self.run_ref('--pattern', '--class', 'mirai', '--first-day', '2021-03-02')
        self.assertEqual(o['sources'], [])
        self.assertEqual(o['points'], [])

    def test_compare(self):
        t = self.tmp.name
        a, b = os.path.join(t, 'a.json'), os.path.join(t, 'b.json')
        doc = {'x': 1, 'f': [0.1, 0.2], 'ingest': {'n': 1}}

        def run(d, *extra):
            with open(a, 'w') as f:
                json.dump(doc, f)
            with open(b, 'w') as f:
                json.dump(d, f)
            return subprocess.run([sys.executable, COMPARE, a, b] + list(extra),
                                  capture_output=True, text=True)
        self.assertEqual(run(doc).returncode, 0)
        r = run({'x': 1, 'f': [0.1, 0.30000000000000004], 'ingest': {'n': 1}})
        self.assertEqual(r.returncode, 1)
        self.assertIn('$.f[1]', r.stdout)
        self.assertEqual(run({'x': 1, 'f': [0.1, 0.2 * (1 + 1e-12)]}, '--rel-tol', '1e-9',
                             '--ignore', 'ingest').returncode, 0)
        r = run({'x': 1.0, 'f': [0.1, 0.2], 'ingest': {'n': 2}})
        self.assertEqual(r.returncode, 1)
        self.assertIn('$.x', r.stdout)
        self.assertIn('$.ingest.n', r.stdout)
        self.assertEqual(run({'x': 1, 'f': [0.1, 0.2], 'ingest': {'n': 2}}, '--ignore', 'ingest').returncode, 0)
        r = run({'x': 1, 'f': [0.1]})
        self.assertEqual(r.returncode, 1)
        self.assertIn('$.f.length', r.stdout)


if __name__ == '__main__':
    unittest.main(verbosity=2)
