#!/usr/bin/python3
"""ingest_reference.py - an independent reader for the ingest golden test.

Computes, for one input, the summary that test_ingest_golden.sh compares:
per-protocol packet counts, distinct sources, distinct pp, the top pp and
the number of Mirai-fingerprinted records.

  ingest_reference.py pcap FILE      from tshark's field output (not our parser)
  ingest_reference.py darkvec FILE   from pandas reading DarkVec's CSV
  ingest_reference.py ours FILE.csv  from darkscope-ingest --output csv --csv-extra
  ingest_reference.py compare A B    compares two summaries (JSON files),
                                     prints both sides on a mismatch, exit 1

DESIGN.md §2 decides every rule; where tshark decodes differently we only
take what both define identically:
- ICMP errors carry an inner IP/TCP header that tshark decodes too: only the
  FIRST occurrence of each field is used (-E occurrence=f), i.e. the outer
  header; the port of an ICMP record is "-" anyway.
- IP reassembly is turned off (ip.defragment, ipv6.defragment) so every
  frame stands alone, as in darkscope.
- IPv6 extension headers: the transport is the last next-header of the chain
  hop-by-hop/routing/fragment/destination-options as tshark lists them.
- Frames tshark flags as malformed are not excluded: the shared captures
  have none that darkscope counts as malformed (checked by the test: the
  number of records equals tshark's IP frames).
"""
import json
import subprocess
import sys
from collections import Counter

PORT_PROTOS = {6, 17, 132, 33, 136}


def proto_class(n):
    return {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMP", 47: "GRE"}.get(n, "OTH")


def summary(records):
    """records: iterable of (src, port_text, proto_name, mirai 0/1)."""
    per_proto = Counter()
    sources = set()
    pp = Counter()
    mirai = 0
    n = 0
    for src, port, proto, m in records:
        n += 1
        per_proto[proto] += 1
        sources.add(src)
        pp["%s/%s" % (port, proto)] += 1
        mirai += m
    top = sorted(pp.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {"records": n, "per_proto": dict(sorted(per_proto.items())),
            "sources": len(sources), "pp": len(pp),
            "top_pp": [[k, v] for k, v in top], "mirai": mirai}


def first_int(text, base=10):
    text = text.strip()
    if not text:
        return None
    return int(text, 16) if text.startswith("0x") else int(text, base)


FIELDS = ["ip.src", "ip.proto", "ip.frag_offset", "ip.dst", "ip.id",
          "ipv6.src", "ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
          "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.dstopts.nxt",
          "tcp.dstport", "udp.dstport", "sctp.dstport", "dccp.dstport",
          "tcp.flags", "tcp.seq_raw", "frame.protocols"]


def from_tshark(path):
    cmd = ["tshark", "-r", path, "-n", "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    records = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        chain = v["frame.protocols"].split(":")
        if v["ip.src"] and (chain.index("ip") if "ip" in chain else 99) < \
                (chain.index("ipv6") if "ipv6" in chain else 99):
            src = v["ip.src"]
            ipproto = first_int(v["ip.proto"])
            first = not first_int(v["ip.frag_offset"] or "0")
        elif v["ipv6.src"]:
            src = v["ipv6.src"]
            ipproto = first_int(v["ipv6.nxt"])
            first = not first_int(v["ipv6.fraghdr.offset"] or "0")
            # Walk the extension headers in the order the spec fixes.
            for _ in range(8):
                nxt = {0: "ipv6.hopopts.nxt", 43: "ipv6.routing.nxt",
                       44: "ipv6.fraghdr.nxt", 60: "ipv6.dstopts.nxt"}.get(ipproto)
                if not nxt or not v[nxt]:
                    break
                ipproto = first_int(v[nxt])
        else:
            continue                    # not IP: darkscope counts it non_ip
        proto = proto_class(ipproto)
        port = "-"
        if first and ipproto in PORT_PROTOS:
            field = {6: "tcp.dstport", 17: "udp.dstport", 136: "udp.dstport",
                     132: "sctp.dstport", 33: "dccp.dstport"}[ipproto]
            port = str(first_int(v[field]))
        mirai = 0
        if first and ipproto == 6 and v["ip.src"] and v["tcp.flags"]:
            flags = first_int(v["tcp.flags"])
            dst = [int(x) for x in v["ip.dst"].split(".")]
            dst_int = (dst[0] << 24) | (dst[1] << 16) | (dst[2] << 8) | dst[3]
            if flags & 0x02 and not flags & 0x10 and first_int(v["tcp.seq_raw"]) == dst_int:
                mirai = 1
        records.append((src, port, proto, mirai))
    return summary(records)


def from_darkvec(path):
    import pandas as pd
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    protos = df["proto"].astype(int)
    ports = [p if int(n) in PORT_PROTOS and p != "-" else "-"
             for p, n in zip(df["dst_port"], protos)]
    names = [proto_class(int(n)) for n in protos]
    mirai = [1 if m in ("1", "1.0") else 0 for m in df["mirai"]]
    return summary(zip(df["src_ip"], ports, names, mirai))


def from_ours(path):
    import csv
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        return summary((r["ip"], r["port"], r["proto"], int(r["mirai"])) for r in rows)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "compare":
        a = json.load(open(path))
        b = json.load(open(sys.argv[3]))
        bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        for k in bad:
            print("MISMATCH %s:\n  darkscope: %s\n  reference: %s" % (k, a.get(k), b.get(k)))
        sys.exit(1 if bad else 0)
    result = {"pcap": from_tshark, "darkvec": from_darkvec, "ours": from_ours}[mode](path)
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
