#!/usr/bin/env bash
#  bench_checkpoint.sh - builds bench_checkpoint.c against the aggregator
#  libraries and runs it on a checkpoint: how long the data path stops per
#  checkpoint, written on the aggregator thread (before) and by a forked
#  child (after).  Not a ctest.
#  Usage: tests/bench/bench_checkpoint.sh CHECKPOINT [SHARD SHARDS TZ ROUNDS BUILD_DIR]
#  (the DarkVec-size month's shard 0 of 2: `darkscope run --checkpoint-dir D`
#  on the 63.5 M-packet month, then D/shard-0.ckpt)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
ckpt=${1:?usage: bench_checkpoint.sh CHECKPOINT [SHARD SHARDS TZ ROUNDS BUILD_DIR]}
shard=${2:-0}; shards=${3:-2}; tz=${4:-UTC}; rounds=${5:-5}
build=${6:-$src/build}
cmake --build "$build" --target ds_aggregator ds_proto ds_common -j2 >/dev/null
out=$(mktemp -d "$(dirname "$ckpt")/bench-ckpt.XXXXXX")
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/bench_checkpoint" "$src/tests/bench/bench_checkpoint.c" \
   -I"$src/services/aggregator" -I"$src/services/common" -I"$src/proto" \
   "$build/services/aggregator/libds_aggregator.a" "$build/proto/libds_proto.a" \
   "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq zlib) -lmsgpackc -lpthread -lm
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores (shared machines skew these numbers)"
"$out/bench_checkpoint" "$ckpt" "$shard" "$shards" "$tz" "$out/copy.ckpt" "$rounds"
