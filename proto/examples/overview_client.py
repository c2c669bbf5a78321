#!/usr/bin/python3
"""overview_client.py - fetch the darknet overview from darkscope-query with
stock pyzmq + msgpack (Debian: python3-zmq python3-msgpack).

    python3 overview_client.py [ENDPOINT[@SERVER.cert]] [--cert ME.cert] [--last-day YYYY-MM-DD] [--json]

Prints the dataset statistics and the last-day class table, or the whole
overview as JSON.  The protocol is proto/PROTOCOL.md: one msgpack map per
request, {"v":1,"q":NAME,"args":{...}}, one map per reply.  With CurveZMQ on
(DESIGN §11), give the client's own certificate (darkscope keygen; either
half's name) with --cert and the server's certificate with the endpoint:
tcp://host:5570@query.cert, as darkscope's own clients take it."""
import argparse, json, sys
import msgpack, zmq, zmq.auth


def query(endpoint, name, timeout_ms=30000, cert=None, **args):
    """Sends one query and returns its result; raises RuntimeError on error."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    endpoint, _, server_cert = endpoint.partition("@")
    if cert:                                   # CURVE: our keys, the server's public key
        base = cert[:-len("_secret")] if cert.endswith("_secret") else cert
        sock.curve_publickey, sock.curve_secretkey = zmq.auth.load_certificate(base + "_secret")
        sock.curve_serverkey, _ = zmq.auth.load_certificate(server_cert)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.setsockopt(zmq.MAXMSGSIZE, 17 << 20)  # no legal reply is larger (PROTOCOL.md, Limits)
    sock.connect(endpoint)
    try:
        sock.send(msgpack.packb({"v": 1, "q": name, "args": args}))
        reply = msgpack.unpackb(sock.recv(), raw=False)
    except zmq.Again:
        raise RuntimeError(f"no reply from {endpoint} within {timeout_ms} ms")
    finally:
        sock.close()
    if not reply.get("ok"):
        raise RuntimeError(reply.get("error", "query failed"))
    return reply["result"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint", nargs="?", default="tcp://127.0.0.1:5570")
    ap.add_argument("--last-day")
    ap.add_argument("--min-packets", type=int)
    ap.add_argument("--json", action="store_true", help="print the overview as JSON")
    ap.add_argument("--cert", help="own certificate: CURVE (the endpoint then names the server's: E@S.cert)")
    a = ap.parse_args()
    args = {}
    if a.last_day:
        args["last_day"] = a.last_day
    if a.min_packets is not None:
        args["min_packets"] = a.min_packets
    try:
        o = query(a.endpoint, "overview", cert=a.cert, **args)
    except RuntimeError as e:
        sys.exit(f"overview_client: {e}")
    if a.json:
        print(json.dumps(o, separators=(",", ":")))
        return
    w = o["window"]
    print(f"window {w['first_day']} .. {w['last_day']} ({w['days']} days, {o['tz']})")
    for scope in ("window", "last_day"):
        d = o["dataset"][scope]
        tops = ", ".join(f"{t['pp']} ({t['percent']:.2f}%)" for t in d["top_pp"])
        print(f"{scope:>9}: {d['sources']:,} sources, {d['packets']:,} packets, {d['ports']:,} ports; top: {tops}")
    print(f"{'class':<16}{'senders':>9}{'packets':>11}{'ports':>7}")
    for c in o["classes"]:
        print(f"{c['class']:<16}{c['senders']:>9,}{c['packets']:>11,}{c['pp']:>7,}")


if __name__ == "__main__":
    main()
