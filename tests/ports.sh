#  tests/ports.sh - free_port, shared by the shell tests (tests/lib.sh) and
#  the benchmarks (tests/bench/*.sh): sourced, not run.  Needs PY (a
#  python3) and WORK (this run's directory: $WORK/ports lists the ports
#  given so far).
#
#  free_port: a free TCP port on 127.0.0.1 (bound then released), below
#  the kernel's ephemeral range (32768-60999): a port from that range can
#  be taken by any client's outgoing connection before the service binds
#  it, or make a retrying client connect to itself (TCP self-connect).
#  Not one this run was given before.
free_port () {
    $PY - "$WORK/ports" <<'PYEOF'
import os, random, socket, sys
used = set(open(sys.argv[1]).read().split()) if os.path.exists(sys.argv[1]) else set()
while True:
    p = random.randint(20000, 32000)
    if str(p) in used:
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
    open(sys.argv[1], "a").write(f"{p}\n")
    print(p)
    break
PYEOF
}
