#  tests/lib.sh - helpers shared by the shell tests (sourced, not run).
set -euo pipefail
: "${DS_BIN:?run through ctest (DS_BIN unset)}"
PY=/usr/bin/python3
REF="$DS_SOURCE/tests/reference"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/darkscope-test.XXXXXX")
PIDS=()
cleanup () {
    #  A process a test froze (SIGSTOP) is continued first: it would not act
    #  on SIGTERM, and `wait` would hang until the ctest timeout.  Only
    #  those: a SIGCONT racing LeakSanitizer's exit-time ptrace of a running
    #  process hangs both.
    for p in "${PIDS[@]}"; do
        [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" = T ] && kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }
#  A free TCP port on 127.0.0.1 (bound then released).
free_port () {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
have_shared () { [ -d "${DS_SHARED_DATA:-/nonexistent}" ]; }
