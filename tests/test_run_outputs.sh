#  test_run_outputs.sh - the files `darkscope run` writes, as a watcher or
#  a browser sees them: --json, the report's page, CSVs and SVGs, and the
#  embedding's outputs appear whole, each written under a temporary name
#  beside it and renamed over the old file (services/common/afile.h).
#  Checked by what only a rename gives: a second hard link to the old file
#  still holds the old content (a file rewritten in place would change
#  under every name, and a reader could see it half written); no
#  temporary file is left; an existing file's mode and a symbolic link
#  are kept.
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --packets 30000 \
    || fail "gen failed"
mkdir -p "$WORK/out/rep" "$WORK/real"
for f in out/o.json out/rep/index.html out/rep/fig-daily.csv out/rep/fig-daily.svg real/vectors.txt; do
    echo old > "$WORK/$f"
    ln "$WORK/$f" "$WORK/$f.before"
done
chmod 600 "$WORK/out/o.json"
ln -s ../real/vectors.txt "$WORK/out/vectors.txt"
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/out/o.json" \
    --report "$WORK/out/rep" --embed --embed-epochs 1 --model-out "$WORK/out/vectors.txt" \
    2>"$WORK/run.log" || { cat "$WORK/run.log" >&2; fail "run failed"; }

for f in out/o.json out/rep/index.html out/rep/fig-daily.csv out/rep/fig-daily.svg real/vectors.txt; do
    [ "$(cat "$WORK/$f.before")" = old ] || fail "$f was rewritten in place (its other link changed)"
    [ "$(head -c 3 "$WORK/$f")" != old ] || fail "$f was not written"
done
$PY -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/out/o.json" || fail "o.json is not JSON"
[ "$(stat -c %a "$WORK/out/o.json")" = 600 ] || fail "o.json lost its mode 600"
[ -L "$WORK/out/vectors.txt" ] || fail "the symbolic link --model-out named was replaced"
grep -q '^[0-9]* 50$' <(head -1 "$WORK/real/vectors.txt") || fail "vectors.txt has no word2vec header"
grep -q '</svg>' "$WORK/out/rep/fig-daily.svg" || fail "fig-daily.svg is not a whole SVG"
leftover=$(find "$WORK" -name '*.tmp' -o -name '.*.tmp')
[ -z "$leftover" ] || fail "temporary files left: $leftover"
echo "ok: run --json, report, model written whole by rename"
