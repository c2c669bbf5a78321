#  test_differential.sh - darkscope run --json vs the pandas reference
#  (tests/reference/overview.py) on generated months (several seeds, time
#  zones, windows, min_packets) and on every real file in shared/data.
#  A disagreement prints the field and both values.
source "$(dirname "$0")/lib.sh"

cases=0
#  diff_case NAME RUN_INPUT_ARGS -- CSV_ARGS... ; uses $TZ_, $EXTRA (window/min args), $GT_ARGS
diff_case () {
    local name=$1 input_flag=$2 input=$3
    local dir="$WORK/$name"; mkdir -p "$dir"
    "$DS_BIN/darkscope" run --quiet "$input_flag" "$input" --tz "$TZ_" $EXTRA $GT_ARGS \
        --shards "${SHARDS:-2}" --json "$dir/run.json" || fail "$name: darkscope run failed"
    "$DS_BIN/darkscope-ingest" --quiet "$input_flag" "$input" --tz "$TZ_" --output csv --csv-extra \
        --out "$dir/records.csv" || fail "$name: darkscope-ingest --output csv failed"
    $PY "$REF/overview.py" "$dir/records.csv" --tz "$TZ_" $EXTRA $GT_ARGS --json "$dir/ref.json" \
        || fail "$name: reference failed"
    $PY "$REF/compare.py" --ignore ingest "$dir/ref.json" "$dir/run.json" \
        || fail "$name: darkscope and the pandas reference disagree (above)"
    echo "ok: $name"
    cases=$((cases + 1))
}

#  Generated months.
gen () {  # gen SEED PACKETS DAYS
    "$DS_BIN/darkscope" gen --quiet --out "$WORK/gen$1.pcap" --gt-out "$WORK/gen$1.csv" \
        --seed "$1" --packets "$2" --days "$3"
}
gen 1 150000 10
gen 2 120000 35
gen 3 100000 5

TZ_=UTC EXTRA="" GT_ARGS="--gt $WORK/gen1.csv" diff_case gen1-utc-default --pcap "$WORK/gen1.pcap"
TZ_=Europe/Rome EXTRA="--min-packets 1" GT_ARGS="--gt $WORK/gen1.csv" diff_case gen1-rome-min1 --pcap "$WORK/gen1.pcap"
TZ_=Europe/Rome EXTRA="--first-day 2021-03-04 --last-day 2021-04-03 --min-packets 10" \
    GT_ARGS="--gt $WORK/gen2.csv" diff_case gen2-rome-window --pcap "$WORK/gen2.pcap"
TZ_=UTC EXTRA="--first-day 2021-03-01 --last-day 2021-03-05 --min-packets 50" SHARDS=4 \
    GT_ARGS="--gt $WORK/gen3.csv" diff_case gen3-utc-min50-emptyday --pcap "$WORK/gen3.pcap"

#  Real data.
if have_shared; then
    for f in "$DS_SHARED_DATA"/pcaps/*; do
        TZ_=UTC EXTRA="--min-packets 1" GT_ARGS="--gt-list $DS_SHARED_DATA/scanners" \
            diff_case "real-$(basename "$f")" --pcap "$f"
    done
    TZ_=Europe/Rome EXTRA="" GT_ARGS="--gt $DS_SHARED_DATA/darkvec/big_gt.csv" \
        diff_case real-darkvec-sample --darkvec-log "$DS_SHARED_DATA/darkvec/darknet01_20210501.csv.gz"
else
    echo "note: ../shared/data absent: real-data cases not run"
fi
echo "$cases passed, 0 failed"
