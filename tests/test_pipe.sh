#  test_pipe.sh - captures streamed through a pipe: `darkscope gen --out -`
#  into `darkscope run --pcap -` gives the same overview as the file, and a
#  pcapng read from standard input equals the same file read by name.
#  (This is how months that do not fit on disk are run: DESIGN §8.)
source "$(dirname "$0")/lib.sh"

"$DS_BIN/darkscope" gen --quiet --out "$WORK/m.pcap" --gt-out "$WORK/gt.csv" --seed 3 --packets 200000 --days 7
"$DS_BIN/darkscope" run --quiet --pcap "$WORK/m.pcap" --gt "$WORK/gt.csv" --json "$WORK/file.json" \
    || fail "run on the file failed"
"$DS_BIN/darkscope" gen --quiet --out - --gt-out "$WORK/gt2.csv" --seed 3 --packets 200000 --days 7 \
    | "$DS_BIN/darkscope" run --quiet --pcap - --gt "$WORK/gt.csv" --json "$WORK/pipe.json" \
    || fail "gen --out - | run --pcap - failed"
#  (the piped run used the first ground truth: the same seed writes the same)
cmp "$WORK/gt.csv" "$WORK/gt2.csv" || fail "gen wrote a different ground truth with --out -"
cmp "$WORK/file.json" "$WORK/pipe.json" || fail "the piped run differs from the file run"
echo "ok: gen --out - | run --pcap - == run on the file"

if have_shared; then
    f="$DS_SHARED_DATA/pcaps/ndpi_tcp_scan.pcapng"
    "$DS_BIN/darkscope" run --quiet --pcap "$f" --json "$WORK/ng-file.json" || fail "run on $f failed"
    "$DS_BIN/darkscope" run --quiet --pcap - --json "$WORK/ng-pipe.json" <"$f" || fail "run on stdin failed"
    cmp "$WORK/ng-file.json" "$WORK/ng-pipe.json" || fail "pcapng on stdin differs from the file"
    echo "ok: pcapng on standard input == the file"
else
    echo "skip: pcapng on stdin (no shared data at $DS_SHARED_DATA)"
fi
