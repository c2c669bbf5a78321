#!/usr/bin/env bash
#  The test command: installs dependencies, builds, runs every test.
#    1. release build + full ctest suite (unit, integration, differential)
#    2. AddressSanitizer/UBSan build + every test again (but the container test)
#    3. libFuzzer targets (clang), each briefly on its seed corpus
#  Usage: bash tests/run.sh            (as root on Debian 12, from the clone)
#  DS_FUZZ_SECONDS (default 10 per target) bounds step 3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

bash deploy/install-deps.sh

#  No test may write into the source tree (a stray file there once came from
#  an actor whose config went out of scope: its checkpoint path was garbage).
#  The tree must look the same after each step as before the first.
tree_state () { git -C "$here" status --porcelain --untracked-files=all 2>/dev/null || true; }
tree_before=$(tree_state)
check_tree () {
    local now; now=$(tree_state)
    if [ "$now" != "$tree_before" ]; then
        echo "error: $1 changed the source tree (files written outside the build directories):" >&2
        diff <(echo "$tree_before") <(echo "$now") >&2 || true
        exit 1
    fi
}

jobs=$(nproc)
echo "== build (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests (release)"
(cd build && ctest --output-on-failure -j"$jobs")
check_tree "the release tests"

echo "== build (asan+ubsan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDS_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== all tests again (asan+ubsan, the shell tests drive the sanitized binaries)"
#  Except the container tests: they build their own (release) binaries
#  inside containers, so they ran once above.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs" -E '^(test_container|test_fresh_install)$')
check_tree "the sanitized tests"

echo "== fuzz (libFuzzer, ${DS_FUZZ_SECONDS:-10}s per target)"
#  Warnings are errors here too: the clang build is kept as clean as gcc's.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DDS_FUZZ=ON -DDS_TESTS=OFF -DDS_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
for f in build-fuzz/bin/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="build-fuzz/corpus/$name"
    mkdir -p "$corpus"
    [ -d "tests/fuzz-corpus/$name" ] && cp -n tests/fuzz-corpus/"$name"/* "$corpus"/ 2>/dev/null || true
    echo "-- $name"
    #  Crash, leak and slow-unit files go beside the corpus, not into the tree.
    mkdir -p build-fuzz/artifacts
    "$f" -max_total_time="${DS_FUZZ_SECONDS:-10}" -max_len=65536 \
        -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" 2>&1 | tail -2
done
check_tree "the fuzzers"
echo "== all tests passed"
