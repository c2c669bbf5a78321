#!/usr/bin/python3
"""wait_complete.py ENDPOINT [TIMEOUT_S] [POLL_MS] - in one process, waits
until the query service at ENDPOINT says the run is complete (`status`:
every shard has every sensor's end of stream), then exits 0.

For tests/bench/run.sh: started before the timed interval, it connects,
prints "ready" and asks nothing until a line arrives on its standard input
(the bench's "ingest has exited"); from then on it asks `status` every
POLL_MS ms (default 2) over the one REQ socket, and exits 0 at the first
reply that says complete, printing how many it asked.  Exits 1 on an
error reply, an unanswered request or TIMEOUT_S seconds (default 3600)
without completion.  Speaks the §6 protocol with stock pyzmq + msgpack."""
import sys, time, zmq, msgpack

endpoint = sys.argv[1]
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
poll = (float(sys.argv[3]) if len(sys.argv) > 3 else 2.0) / 1000
ctx = zmq.Context()
sock = ctx.socket(zmq.REQ)
sock.setsockopt(zmq.LINGER, 0)
sock.setsockopt(zmq.RCVTIMEO, 30000)
sock.setsockopt(zmq.RECONNECT_IVL, 5)      # the query service may start after us
sock.setsockopt(zmq.RECONNECT_IVL_MAX, 100)
sock.connect(endpoint)
request = msgpack.packb({"v": 1, "q": "status", "args": {}})
print("ready", flush=True)
if not sys.stdin.readline():
    sys.exit("wait_complete: standard input closed before the start")
deadline = time.monotonic() + timeout
asked = 0
while True:
    sock.send(request)
    asked += 1
    try:
        reply = msgpack.unpackb(sock.recv(), raw=False)
    except zmq.Again:
        sys.exit(f"wait_complete: no answer from {endpoint} in 30 s")
    if not reply.get("ok"):
        sys.exit(f"wait_complete: status: {reply.get('error')}")
    if reply["result"].get("complete") is True:
        print(asked, flush=True)
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(f"wait_complete: not complete after {timeout:.0f} s ({asked} status requests)")
    time.sleep(poll)
