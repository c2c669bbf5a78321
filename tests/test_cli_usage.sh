#  test_cli_usage.sh - the mistakes a new user makes first, on every
#  command and service: a mistyped flag or a flag without its value
#  exits 2 (a script must not go on as if it had worked) naming the flag;
#  --help and --list-env exit 0; a stray word exits 2; a bad day names
#  its flag.
source "$(dirname "$0")/lib.sh"

#  expect STATUS TEXT CMD...: CMD exits STATUS and its stderr holds TEXT.
expect () {
    local want=$1 text=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
    [ "$rc" = "$want" ] || fail "'$*' exited $rc, not $want: $(cat "$WORK/err")"
    [ -z "$text" ] || grep -qF -- "$text" "$WORK/err" \
        || fail "'$*' did not say '$text': $(cat "$WORK/err")"
}

for cmd in "darkscope run" "darkscope gen" "darkscope query" "darkscope report" "darkscope keygen" \
           darkscope-ingest darkscope-labeler darkscope-aggregator darkscope-query darkscope-embed; do
    read -r prog sub <<<"$cmd"
    expect 2 "unknown option '--jsno'" "$DS_BIN/$prog" $sub --jsno
    expect 0 "" "$DS_BIN/$prog" $sub --help
    grep -q 'Usage\|SYNOPSIS' "$WORK/out" || fail "$cmd --help printed no usage"
    expect 0 "" "$DS_BIN/$prog" $sub --list-env
    grep -q '^DARKSCOPE_' "$WORK/out" || fail "$cmd --list-env printed no variable"
done
expect 2 "option --json needs a value" "$DS_BIN/darkscope" run --json
expect 2 "option --endpoint needs a value" "$DS_BIN/darkscope" query status --endpoint
expect 2 "unexpected argument 'extra'" "$DS_BIN/darkscope" report --out "$WORK/r" extra
expect 2 "" "$DS_BIN/darkscope" query
expect 2 "" "$DS_BIN/darkscope" nosuchcommand
expect 2 "--last-day '2021-02-30' is not a day (YYYY-MM-DD)" "$DS_BIN/darkscope" run --last-day 2021-02-30
expect 2 "--serve needs --endpoint or --http" "$DS_BIN/darkscope" run --serve
expect 2 "option --min-packets expects a number, got 'ten'" "$DS_BIN/darkscope" run --min-packets ten
echo "ok: usage mistakes exit 2 with the flag named"
