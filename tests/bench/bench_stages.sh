#!/usr/bin/env bash
#  bench_stages.sh - builds bench_stages.c against the service libraries and
#  runs it: CPU seconds per stage (read, parse, publish, label, aggregate)
#  of `darkscope run`'s work on one thread.  Not a ctest.
#  Usage: tests/bench/bench_stages.sh PCAP GT [SHARDS] [BUILD_DIR]
#  STAGES_PROFILER="perf record -o F" (say) runs it under a profiler.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
pcap=${1:?usage: bench_stages.sh PCAP GT [SHARDS] [BUILD_DIR]}
gt=${2:?usage: bench_stages.sh PCAP GT [SHARDS] [BUILD_DIR]}
shards=${3:-2}
build=${4:-$src/build}
cmake --build "$build" --target ds_ingest ds_labeler ds_aggregator ds_proto ds_common -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/bench_stages" "$src/tests/bench/bench_stages.c" \
   -I"$src/services/ingest" -I"$src/services/labeler" -I"$src/services/aggregator" \
   -I"$src/services/common" -I"$src/proto" \
   "$build/services/ingest/libds_ingest.a" "$build/services/labeler/libds_labeler.a" \
   "$build/services/aggregator/libds_aggregator.a" "$build/proto/libds_proto.a" \
   "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq libpcap zlib) -lmsgpackc -lpthread -lm
echo "load average: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores (shared machines skew these numbers)"
${STAGES_PROFILER:-} "$out/bench_stages" "$pcap" "$gt" "$shards"
