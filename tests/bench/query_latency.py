#!/usr/bin/python3
"""query_latency.py ENDPOINT [N] - p50/p99 latency of every overview query.

Speaks the §6 protocol with stock pyzmq + msgpack, like any client would."""
import sys, time, zmq, msgpack

endpoint = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
ctx = zmq.Context()
sock = ctx.socket(zmq.REQ)
sock.setsockopt(zmq.LINGER, 0)
sock.setsockopt(zmq.RCVTIMEO, 30000)
sock.connect(endpoint)
queries = ["overview", "ports", "ecdf", "daily", "classes", "heatmap", "status"]
print("| query | p50 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|")
for q in queries:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sock.send(msgpack.packb({"v": 1, "q": q, "args": {}}))
        reply = msgpack.unpackb(sock.recv(), raw=False)
        times.append((time.perf_counter() - t0) * 1000)
        if not reply.get("ok"):
            sys.exit(f"{q}: {reply.get('error')}")
    times.sort()
    print(f"| {q} | {times[len(times)//2]:.2f} | {times[int(len(times)*0.99)-1]:.2f} | {times[-1]:.2f} |")
