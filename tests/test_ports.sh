#  test_ports.sh - free ports for the tests and the benchmarks
#  (tests/ports.sh): every port below the kernel's ephemeral range, never
#  twice in a run; and no test or benchmark script picks its ports any
#  other way (asking the kernel for port 0 gives one of the ephemeral
#  range, which another process's outgoing connection may take first).
source "$DS_SOURCE/tests/lib.sh"

#  1. 100 ports in one run: in 20000-32000, distinct, each listed.
declare -A seen
for _ in $(seq 1 100); do
    p=$(free_port)
    [ "$p" -ge 20000 ] && [ "$p" -le 32000 ] || fail "free_port gave $p, outside 20000-32000"
    [ -z "${seen[$p]:-}" ] || fail "free_port gave $p twice"
    seen[$p]=1
done
[ "$(sort -u "$WORK/ports" | wc -l)" -eq 100 ] || fail "$WORK/ports does not list the 100 ports"

#  2. The scripts: none asks the kernel for a port (bind to port 0), none
#  has a free_port of its own; one that calls free_port sources ports.sh
#  (directly, or through lib.sh).
cd "$DS_SOURCE"
bad=()
for f in tests/*.sh tests/bench/*.sh tests/bench/*.py deploy/*.sh deploy/*.py; do
    [ -e "$f" ] && [ "$f" != tests/ports.sh ] || continue
    if grep -Eq "bind\(\(['\"][0-9.]*['\"], *0\)\)|getsockname\(\)\[1\]" "$f"; then
        bad+=("$f: asks the kernel for a port (port 0)")
    fi
    if grep -Eq '^\s*free_port *\(\)' "$f"; then
        bad+=("$f: defines its own free_port")
    fi
    if [ "${f##*.}" = sh ] && grep -q 'free_port' "$f" \
       && ! grep -Eq "^\s*(source|\.) .*(lib|ports)\.sh" "$f"; then
        bad+=("$f: calls free_port without sourcing tests/ports.sh or tests/lib.sh")
    fi
done
[ ${#bad[@]} -eq 0 ] || fail "$(printf '\n  %s' "${bad[@]}")"
echo "ok: 100 ports in 20000-32000, none twice; every script takes its ports from tests/ports.sh"
