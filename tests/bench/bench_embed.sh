#!/usr/bin/env bash
#  bench_embed.sh - darkscope's word2vec + 7-NN against gensim 4 on the same
#  corpus (DESIGN §14).  Generates a month (or uses the given pcap + GT),
#  runs `darkscope run --embed` once (end to end, corpus written), then
#  trains that corpus with darkscope (bench_embed.c) and with gensim
#  (tests/reference/embed_gensim.py), 1 and 2 threads, 20 epochs, and
#  evaluates both the same way (7-NN, leave-one-out).  Writes a markdown
#  table to tests/bench/embed-results.md.  Not a ctest.
#  Usage: [THREADS="1 2"] tests/bench/bench_embed.sh [BUILD_DIR] [PACKETS] [PCAP GT]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
packets=${2:-2000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cmake --build "$build" --target darkscope ds_embed -j2 >/dev/null
cc -O2 -std=gnu11 -D_GNU_SOURCE -o "$out/bench_embed" "$src/tests/bench/bench_embed.c" \
   -I"$src/services/embed" -I"$src/services/common" -I"$src/proto" \
   "$build/services/embed/libds_embed.a" "$build/proto/libds_proto.a" \
   "$build/services/common/libds_common.a" \
   $(pkg-config --libs libczmq libzmq) -lmsgpackc -lpthread -lm
if [ $# -ge 4 ]; then
    pcap=$3 gt=$4
else
    pcap="$out/month.pcap" gt="$out/gt.csv"
    "$build/bin/darkscope" gen --quiet --out "$pcap" --gt-out "$gt" --packets "$packets"
fi
load=$(cut -d" " -f1-3 /proc/loadavg)
t0=$(date +%s.%N)
"$build/bin/darkscope" run --quiet --pcap "$pcap" --gt "$gt" --embed --json "$out/run.json" \
    --corpus-out "$out/corpus.txt" --classes-out "$out/classes.csv"
t1=$(date +%s.%N)
run_s=$(echo "$t1 - $t0" | bc)
results="$out/results.jsonl"
for threads in ${THREADS:-1 2}; do
    "$out/bench_embed" "$out/corpus.txt" "$out/classes.csv" "$threads" 20 >> "$results"
    /usr/bin/python3 "$src/tests/reference/embed_gensim.py" "$out/corpus.txt" "$out/classes.csv" \
        --workers "$threads" >> "$results"
done
cat "$results"
/usr/bin/python3 - "$results" "$out/run.json" "$run_s" "$load" "$(nproc)" > "$src/tests/bench/embed-results.md" <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
run = json.load(open(sys.argv[2]))
e = run['embedding']
print(f"# Embedding benchmark ({datetime.date.today()}, {sys.argv[5]} cores, load average {sys.argv[4]} at start)\n")
print(f"Corpus: {e['corpus']['packets']:,} packets, {e['corpus']['sentences']:,} sentences, "
      f"{e['corpus']['words']:,} words, {e['corpus']['vocabulary']:,} senders embedded "
      f"({e['labelled']} labelled); `darkscope run --embed` end to end {float(sys.argv[3]):.1f} s "
      f"(training {e['training_seconds']:.1f} s), accuracy {e['accuracy']:.4f}, macro F1 {e['macro_f1']:.4f}.\n")
print("| trainer | threads | training wall s | training CPU s | 7-NN accuracy | macro F1 |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['trainer']} | {r['threads']} | {r['train_wall_s']:.1f} | {r['train_cpu_s']:.1f} | "
          f"{r['accuracy']:.4f} | {r['macro_f1']:.4f} |")
g = {r['threads']: r for r in rows if r['trainer'].startswith('gensim')}
d = {r['threads']: r for r in rows if r['trainer'] == 'darkscope'}
print()
for t in sorted(d):
    if t in g:
        print(f"- {t} thread(s): darkscope {g[t]['train_wall_s'] / d[t]['train_wall_s']:.1f}x faster "
              f"(wall), {g[t]['train_cpu_s'] / d[t]['train_cpu_s']:.1f}x less CPU; accuracy "
              f"{d[t]['accuracy']:.4f} vs {g[t]['accuracy']:.4f}")
PY
cat "$src/tests/bench/embed-results.md"
