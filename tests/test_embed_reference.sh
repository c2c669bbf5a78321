#  test_embed_reference.sh - darkscope run --embed against the pandas/gensim
#  reference (tests/reference/embed_reference.py): the corpus line for line,
#  every sender's class, the model read by gensim, the 7-NN evaluation
#  recomputed with numpy; in UTC and in Europe/Rome across the DST change
#  of 2021-03-28 (an hour that does not exist locally); and one training
#  thread gives the same model through 1 and 3 shards.
source "$(dirname "$0")/lib.sh"
"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" \
    --seed 5 --packets 40000 --days 30
cases=0
for tz in UTC Europe/Rome; do
    d="$WORK/$(echo "$tz" | tr / _)"; mkdir -p "$d"
    "$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --tz "$tz" \
        --embed --embed-epochs 1 --corpus-out "$d/corpus.txt" --model-out "$d/model.txt" \
        --classes-out "$d/classes.csv" --json "$d/run.json" --report "$d/report" \
        || fail "$tz: darkscope run --embed failed"
    #  The report has the section (its accuracy is the JSON's) and the figure.
    $PY - "$d/run.json" "$d/report" <<'PYEOF' || fail "$tz: the report's embedding section"
import json, sys
e = json.load(open(sys.argv[1]))['embedding']
page = open(sys.argv[2] + '/index.html').read()
section = page[page.index('<section id="embedding"'):]
section = section[:section.index('</section>')]
assert f"accuracy <b>{e['accuracy']:.3f}".rstrip('0') in section or f"{e['accuracy']:.3f}" in section, 'accuracy'
for row in e['per_class']:
    assert f"<td>{row['class']}</td>" in section, row['class']
assert '<img src="fig-embedding.svg"' in section, 'figure'
assert json.load(open(sys.argv[2] + '/overview.json'))['embedding']['accuracy'] == e['accuracy']
PYEOF
    [ -s "$d/report/fig-embedding.svg" ] || fail "$tz: no embedding figure"
    "$DS_BIN/darkscope-ingest" --quiet --pcap "$WORK/m.pcap" --tz "$tz" --output csv --csv-extra \
        --out "$d/records.csv" || fail "$tz: ingest --output csv failed"
    $PY "$REF/embed_reference.py" "$d/records.csv" --tz "$tz" --gt "$WORK/gt.csv" \
        --corpus "$d/corpus.txt" --classes "$d/classes.csv" --model "$d/model.txt" \
        --json "$d/run.json" || fail "$tz: darkscope and the reference disagree (above)"
    cases=$((cases + 1))
done
#  One training thread: the same model, byte for byte, whatever the shard
#  count (the corpus is sorted, the vocabulary ordered, the seed fixed).
for shards in 1 3; do
    "$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --shards "$shards" \
        --embed-threads 1 --embed-epochs 1 --model-out "$WORK/model-$shards.txt" \
        || fail "run --shards $shards failed"
done
cmp "$WORK/model-1.txt" "$WORK/model-3.txt" || fail "one thread, 1 vs 3 shards: the models differ"
cases=$((cases + 1))
echo "$cases passed, 0 failed"
