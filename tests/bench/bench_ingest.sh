#!/usr/bin/env bash
#  bench_ingest.sh - builds bench_ingest.c against the ingest libraries and
#  runs it: records/s of pcap -> published batches beside a bare
#  pcap_next_ex loop over the same file.  Not a ctest.
#  Usage: tests/bench/bench_ingest.sh [BUILD_DIR] [PACKETS] [SHARDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
packets=${2:-5000000}
shards=${3:-1}
cmake --build "$build" --target ds_ingest ds_proto ds_common -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -o "$out/bench_ingest" "$src/tests/bench/bench_ingest.c" \
   -I"$src/services/ingest" -I"$src/services/common" -I"$src/proto" \
   "$build/services/ingest/libds_ingest.a" "$build/proto/libds_proto.a" \
   "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq libpcap zlib) -lmsgpackc -lpthread -lm
"$out/bench_ingest" "$packets" "$shards"
