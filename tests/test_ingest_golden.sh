#!/usr/bin/env bash
#  test_ingest_golden.sh - darkscope-ingest on every real capture and the
#  DarkVec sample, against an independent reader (tshark for captures,
#  pandas for the DarkVec CSV; tests/reference/ingest_reference.py).
#  Compared: per-protocol counts, distinct sources, distinct pp, top 5 pp,
#  Mirai-fingerprinted records.  A mismatch prints both sides.
set -uo pipefail
data=${DS_SHARED_DATA:-}
if [ -z "$data" ] || [ ! -d "$data/pcaps" ]; then
    echo "SKIP: DS_SHARED_DATA not set or has no pcaps/ (real captures absent)"
    exit 0
fi
ingest="$DS_BIN/darkscope-ingest"
ref="/usr/bin/python3 $DS_SOURCE/tests/reference/ingest_reference.py"
command -v tshark >/dev/null || { echo "FAIL: tshark is needed as the independent reader"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checked=0

check () {                          #  check KIND FILE FLAG
    local kind=$1 file=$2 flag=$3 name
    name=$(basename "$file")
    if ! "$ingest" "$flag" "$file" --output csv --csv-extra --quiet --out "$tmp/$name.csv"; then
        echo "FAIL $name: darkscope-ingest exited non-zero"; failed=1; return
    fi
    $ref ours "$tmp/$name.csv" > "$tmp/$name.ours.json" || { failed=1; return; }
    $ref "$kind" "$file" > "$tmp/$name.ref.json" || { echo "FAIL $name: reference failed"; failed=1; return; }
    if $ref compare "$tmp/$name.ours.json" "$tmp/$name.ref.json"; then
        echo "ok   $name: $(cat "$tmp/$name.ours.json")"
    else
        echo "FAIL $name"; failed=1
    fi
    checked=$((checked + 1))
}

for f in "$data"/pcaps/*; do
    check pcap "$f" --pcap
done
for f in "$data"/darkvec/darknet*.csv.gz; do
    [ -e "$f" ] && check darkvec "$f" --darkvec-log
done

#  The same capture gzip-compressed, and two files through one glob, give
#  the records of the plain files.
first=$(ls "$data"/pcaps/*.pcap | head -1)
gzip -c "$first" > "$tmp/c.pcap.gz"
"$ingest" --pcap "$first" --output csv --quiet --out "$tmp/plain.csv"
"$ingest" --pcap "$tmp/c.pcap.gz" --output csv --quiet --out "$tmp/gz.csv"
if cmp -s "$tmp/plain.csv" "$tmp/gz.csv"; then echo "ok   gzip capture = plain capture"
else echo "FAIL gzip capture differs from plain capture"; failed=1; fi
cp "$first" "$tmp/a1.pcap"; cp "$first" "$tmp/a2.pcap"
"$ingest" --pcap "$tmp/a*.pcap" --output csv --quiet --out "$tmp/glob.csv"
want=$(( 2 * ($(wc -l < "$tmp/plain.csv") - 1) + 1 ))
if [ "$(wc -l < "$tmp/glob.csv")" -eq "$want" ]; then echo "ok   glob reads both files"
else echo "FAIL glob: $(wc -l < "$tmp/glob.csv") lines, want $want"; failed=1; fi

[ "$checked" -gt 0 ] || { echo "FAIL: nothing checked"; exit 1; }
exit $failed
