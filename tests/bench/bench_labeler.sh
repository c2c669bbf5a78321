#!/usr/bin/env bash
#  bench_labeler.sh - builds bench_labeler.c against the labeler libraries and
#  runs it: GT lookups/s (scanner lists + big_gt.csv + 1 M random exact
#  entries) and labelled records/s through the actor.  Not a ctest.
#  Usage: tests/bench/bench_labeler.sh [BUILD_DIR] [RANDOM_ENTRIES] [BATCHES]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
entries=${2:-1000000}
batches=${3:-2000}
export DS_SHARED_DATA=${DS_SHARED_DATA:-$src/../shared/data}
cmake --build "$build" --target ds_labeler ds_proto ds_common -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/bench_labeler" "$src/tests/bench/bench_labeler.c" \
   -I"$src/services/labeler" -I"$src/services/common" -I"$src/proto" \
   "$build/services/labeler/libds_labeler.a" "$build/proto/libds_proto.a" \
   "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq) -lmsgpackc -lpthread -lm
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores (shared machines skew these numbers)"
"$out/bench_labeler" "$entries" "$batches"
