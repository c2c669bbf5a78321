#!/usr/bin/env bash
#  bench_query.sh - builds bench_query.c against the aggregator and query
#  libraries and runs it: aggregated records/s of one shard, store memory,
#  checkpoint cost, and p50/p99 latency of every query over a generated
#  month.  Not a ctest.
#  Usage: tests/bench/bench_query.sh [BUILD_DIR] [PACKETS] [SOURCES] [DAYS] [ITERATIONS] [ORDER]
#  (ORDER: random (default) or time, see bench_query.c)
#  (DarkVec scale: PACKETS=63500000 SOURCES=544000 DAYS=30)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
packets=${2:-20000000}
sources=${3:-200000}
days=${4:-30}
iterations=${5:-50}
order=${6:-random}
cmake --build "$build" --target ds_query ds_aggregator ds_proto ds_common -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/bench_query" "$src/tests/bench/bench_query.c" \
   -I"$src/services/query" -I"$src/services/aggregator" -I"$src/services/common" -I"$src/proto" \
   "$build/services/query/libds_query.a" "$build/services/aggregator/libds_aggregator.a" \
   "$build/proto/libds_proto.a" "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq zlib) -lmsgpackc -lpthread -lm
${DS_BENCH_WRAP:-} "$out/bench_query" "$packets" "$sources" "$days" "$iterations" "$order"
