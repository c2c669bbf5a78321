#  test_bad_time.sh - impossible timestamps and inputs without a record
#  (DESIGN §12).  Each input goes through `darkscope run --json` and through
#  the pandas reference (ingest --output csv keeps every record; the
#  reference applies the same rule), and the two must agree, bad_time
#  included:
#    - a pcapng whose simple packet block has no timestamp (ts 0): counted
#      as bad_time, the window is the 2 real days (not 18,000 days back);
#    - a DarkVec log with one line at ts=999999999999 (year 33658): counted,
#      the run exits 0 with its JSON (it used to fail with no JSON);
#    - a pcap with packets in 1994 and 2100 beside real ones;
#    - an empty capture and one of non-IP frames only: exit 0, the
#      overview of an empty window (days null, 0 days) with the counters,
#      and the run says so.
source "$(dirname "$0")/lib.sh"

$PY - "$WORK" <<'PYEOF'
import calendar, struct, sys
work = sys.argv[1]

def frame(src, dport=23):
    eth = b'\x00\x11\x22\x33\x44\x55' + b'\x66\x77\x88\x99\xaa\xbb' + b'\x08\x00'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, bytes(src), bytes([203, 0, 113, 9]))
    tcp = struct.pack('!HHIIBBHHH', 40000, dport, 0, 0, 0x50, 0x02, 1024, 0, 0)
    return eth + ip + tcp

def arp():
    return b'\xff' * 6 + b'\x66\x77\x88\x99\xaa\xbb' + b'\x08\x06' + b'\x00' * 28

def ts(day, hms='12:00:00'):
    y, m, d = map(int, day.split('-'))
    hh, mm, ss = map(int, hms.split(':'))
    return calendar.timegm((y, m, d, hh, mm, ss))

def pcap(path, packets):        # [(seconds, frame)]
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for sec, data in packets:
            f.write(struct.pack('<IIII', sec & 0xffffffff, 0, len(data), len(data)) + data)

def block(kind, body):
    body += b'\x00' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack('<II', kind, n) + body + struct.pack('<I', n)

def pcapng(path, packets):      # [(seconds or None for a simple packet block, frame)]
    with open(path, 'wb') as f:
        f.write(block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack('<HHI', 1, 0, 65535)))
        for sec, data in packets:
            if sec is None:
                f.write(block(3, struct.pack('<I', len(data)) + data))
            else:
                t = sec * 1000000
                f.write(block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(data), len(data)) + data))

pcapng(f'{work}/spb.pcapng', [(ts('2021-03-01'), frame([10, 0, 0, 1])),
                              (None, frame([10, 0, 0, 2])),
                              (ts('2021-03-02'), frame([10, 0, 0, 3])),
                              (ts('2021-03-02', '13:00:00'), frame([10, 0, 0, 1], 80))])
pcap(f'{work}/far.pcap', [(ts('1994-12-31'), frame([10, 0, 0, 4])),
                          (ts('2021-03-05'), frame([10, 0, 0, 5])),
                          (ts('2021-03-06'), frame([10, 0, 0, 6])),
                          (ts('2100-01-01'), frame([10, 0, 0, 7]))])
pcap(f'{work}/empty.pcap', [])
pcap(f'{work}/arp.pcap', [(ts('2021-03-01'), arp()) for _ in range(3)])
with open(f'{work}/packets.log', 'w') as f:
    f.write('proto dst_port ts src_ip\n')
    f.write('6 23 1619827200.5 192.0.2.1\n')
    f.write('6 23 999999999999 192.0.2.2\n')
    f.write('17 53 1619830800 192.0.2.3\n')
PYEOF

#  check NAME FLAG INPUT BAD_TIME DAYS [NON_IP]: run and reference agree.
check () {
    local name=$1 flag=$2 input=$3 bad=$4 days=$5 non_ip=${6:-0}
    "$DS_BIN/darkscope" run "$flag" "$input" --json "$WORK/$name.json" 2>"$WORK/$name.log" \
        || { cat "$WORK/$name.log" >&2; fail "$name: darkscope run failed"; }
    "$DS_BIN/darkscope-ingest" --quiet "$flag" "$input" --output csv --csv-extra --out "$WORK/$name.csv" \
        || fail "$name: ingest --output csv failed"
    $PY "$REF/overview.py" "$WORK/$name.csv" --json "$WORK/$name.ref.json" || fail "$name: reference failed"
    $PY "$REF/compare.py" --ignore ingest "$WORK/$name.ref.json" "$WORK/$name.json" \
        || fail "$name: darkscope and the pandas reference disagree (above)"
    $PY - "$WORK/$name.json" "$WORK/$name.ref.json" "$bad" "$days" "$non_ip" <<'PYEOF' || fail "$name: counters"
import json, sys
run, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad, days, non_ip = map(int, sys.argv[3:6])
assert run['ingest']['bad_time'] == ref['ingest']['bad_time'] == bad, (run['ingest'], ref['ingest'])
assert run['window']['days'] == days, run['window']
assert run['ingest']['non_ip'] == non_ip, run['ingest']
if days == 0:
    assert run['window'] == {'first_day': None, 'last_day': None, 'days': 0}, run['window']
PYEOF
    echo "ok: $name: bad_time $bad, $days day(s), reference agrees"
}

check spb --pcap "$WORK/spb.pcapng" 1 2
check darkvec --darkvec-log "$WORK/packets.log" 1 1
check far --pcap "$WORK/far.pcap" 2 2
check empty --pcap "$WORK/empty.pcap" 0 0
check arp --pcap "$WORK/arp.pcap" 0 0 3
grep -q "the overview is of an empty window" "$WORK/arp.log" \
    || { cat "$WORK/arp.log" >&2; fail "the run does not say its window is empty"; }
echo "5 passed, 0 failed"
