#  test_run_outputs.sh - the files `darkscope run` writes, as a watcher or
#  a browser sees them: --json, the report's page, CSVs and SVGs, and the
#  embedding's outputs appear whole, each written under a temporary name
#  beside it and renamed over the old file (services/common/afile.h).
#  Checked by what only a rename gives: a second hard link to the old file
#  still holds the old content (a file rewritten in place would change
#  under every name, and a reader could see it half written); no
#  temporary file is left; an existing file's mode and a symbolic link
#  are kept.  And before any input is read: the --report directory is
#  made (so --help's `--report report/ --json report/overview.json` works
#  in a fresh directory) and an output that cannot be written stops the run
#  at once, naming the flag (not after a month of input); a run that fails
#  leaves neither the report directory it made nor a mix of an earlier
#  report's files and its own.  Staging directories that killed runs left
#  are swept away; live ones stay.
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
#  Staging directories of earlier reports: one a killed run left (unlocked,
#  untouched for 2 minutes) goes; one whose run still holds its lock and
#  one made a moment ago stay.
for d in dead01 live01 new001; do
    mkdir "$WORK/out/rep/.darkscope-report.$d"
    echo partial > "$WORK/out/rep/.darkscope-report.$d/index.html"
done
touch -d '2 minutes ago' "$WORK/out/rep/.darkscope-report.dead01" "$WORK/out/rep/.darkscope-report.live01"
(exec 9<"$WORK/out/rep/.darkscope-report.live01"; flock 9; exec sleep 120) >/dev/null 2>&1 &
holder=$!
sleep 0.3
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/out/o.json" \
    --report "$WORK/out/rep" --embed --embed-epochs 1 --model-out "$WORK/out/vectors.txt" \
    2>"$WORK/run.log" || { kill "$holder"; cat "$WORK/run.log" >&2; fail "run failed"; }
kill "$holder"; wait "$holder" 2>/dev/null || true
[ ! -e "$WORK/out/rep/.darkscope-report.dead01" ] || fail "a killed run's staging directory was not removed"
[ -e "$WORK/out/rep/.darkscope-report.live01" ] || fail "a staging directory whose run holds its lock was removed"
[ -e "$WORK/out/rep/.darkscope-report.new001" ] || fail "a staging directory made a moment ago was removed"
[ -z "$(find "$WORK/out/rep" -maxdepth 1 -name '.darkscope-report.*' ! -name '*live01' ! -name '*new001')" ] \
    || fail "the run left its own staging directory"
rm -r "$WORK/out/rep/.darkscope-report.live01" "$WORK/out/rep/.darkscope-report.new001"

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

#  --help's example in a directory where report/ does not exist yet.
(cd "$WORK" && "$DS_BIN/darkscope" run --quiet --pcap m.pcap --gt gt.csv --report fresh/report \
    --json fresh/report/overview.json 2>"$WORK/fresh.log") || { cat "$WORK/fresh.log" >&2; fail "--report DIR --json DIR/overview.json failed in a fresh directory"; }
[ -s "$WORK/fresh/report/overview.json" ] && [ -s "$WORK/fresh/report/index.html" ] || fail "fresh report incomplete"
#  Unwritable outputs are found before the input is read (the input here
#  does not even exist: the output is named, not the input).
for args in "--json $WORK/no/such/dir/o.json" "--model-out $WORK/no/dir/v.txt --embed" "--json $WORK" \
            "--report /proc/no-report-here"; do
    rc=0
    "$DS_BIN/darkscope" run --quiet --pcap "$WORK/nonexistent.pcap" $args 2>"$WORK/err.log" || rc=$?
    [ "$rc" = 1 ] || fail "run $args exited $rc, not 1"
    flag=${args%% *}
    grep -q -- "$flag" "$WORK/err.log" || fail "run $args did not name $flag: $(cat "$WORK/err.log")"
    ! grep -q nonexistent.pcap "$WORK/err.log" || fail "run $args read its input first: $(cat "$WORK/err.log")"
done
#  A failed run leaves no report directory it made (run makes it before
#  reading its input): the input missing, or the report failing (gnuplot).
for input in nonexistent.pcap m.pcap; do
    rc=0
    DARKSCOPE_GNUPLOT=false "$DS_BIN/darkscope" run --quiet --pcap "$WORK/$input" --gt "$WORK/gt.csv" \
        --report "$WORK/gone/report" 2>"$WORK/err.log" || rc=$?
    [ "$rc" = 1 ] || fail "run --pcap $input --report (gnuplot failing) exited $rc, not 1"
    [ ! -e "$WORK/gone" ] || fail "a failed run ($input) left the report directory it made: $(find "$WORK/gone")"
done
grep -q "failed drawing the figures" "$WORK/err.log" || fail "the report did not fail on gnuplot: $(cat "$WORK/err.log")"
#  A failed report into an earlier one leaves the earlier one whole, not a
#  file of it rewritten (the report of another month here), nor a
#  staging directory.
"$DS_BIN/darkscope" gen --quiet --seed 7 --out "$WORK/m2.pcap" --gt-out "$WORK/gt2.csv" --packets 20000 \
    || fail "gen failed"
(cd "$WORK/fresh/report" && find . -mindepth 1 | sort | xargs -d '\n' ls -ld --time-style=+%s.%N && find . -type f | sort | xargs -d '\n' sha1sum) \
    > "$WORK/before.txt"
rc=0
DARKSCOPE_GNUPLOT=false "$DS_BIN/darkscope" run --quiet --pcap "$WORK/m2.pcap" --gt "$WORK/gt2.csv" \
    --report "$WORK/fresh/report" 2>"$WORK/err.log" || rc=$?
[ "$rc" = 1 ] || fail "run --report into a report, gnuplot failing, exited $rc, not 1"
(cd "$WORK/fresh/report" && find . -mindepth 1 | sort | xargs -d '\n' ls -ld --time-style=+%s.%N && find . -type f | sort | xargs -d '\n' sha1sum) \
    > "$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" >&2 || fail "a failed report changed the earlier report"
echo "ok: run --json, report, model written whole by rename"
