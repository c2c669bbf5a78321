#  test_env_names.sh - each DARKSCOPE_* environment variable means one thing.
#
#  Generated from the option tables: every program (the five services and
#  the four darkscope commands) prints the variables its table reads
#  (--list-env: VARIABLE OPTION TYPE shared|PROGRAM).  Asserted:
#    - a variable read by several programs is a shared one (opts.c's
#      table): the same option, of the same type, in every one of them;
#    - every other variable is DARKSCOPE_<PROGRAM>_<OPTION> of its own
#      program, and no two programs have the same PROGRAM part;
#    - variables read outside the tables (getenv in the sources) collide
#      with none of them;
#    - every program's --help names each of its variables;
#  and the rule acts: a program's own variable sets its option, another
#  program's does not.
source "$(dirname "$0")/lib.sh"

programs=(ingest labeler aggregator query embed)
commands=(run gen query report)
for p in "${programs[@]}"; do
    "$DS_BIN/darkscope-$p" --list-env > "$WORK/env-$p.txt" || fail "darkscope-$p --list-env"
    "$DS_BIN/darkscope-$p" --help > "$WORK/help-$p.txt" || fail "darkscope-$p --help"
done
for c in "${commands[@]}"; do
    "$DS_BIN/darkscope" "$c" --list-env > "$WORK/env-cmd-$c.txt" || fail "darkscope $c --list-env"
    "$DS_BIN/darkscope" "$c" --help > "$WORK/help-cmd-$c.txt" || fail "darkscope $c --help"
done
grep -rhoE 'getenv \("DARKSCOPE_[A-Z0-9_]+"' "$DS_SOURCE/services" "$DS_SOURCE/proto" \
    | sed -E 's/getenv \("//; s/"$//' | sort -u > "$WORK/getenv.txt"

$PY - "$WORK" <<'EOF' || fail "environment variable names collide (see above)"
import glob, os, re, sys
work = sys.argv[1]
rows = {}                      # variable -> [(file, option, type, scope)]
prefixes = {}                  # PROGRAM part -> file
bad = []
for path in sorted(glob.glob(os.path.join(work, 'env-*.txt'))):
    name = os.path.basename(path)[4:-4]
    lines = open(path).read().split('\n')
    lines = [l for l in lines if l]
    if not lines:
        bad.append(f'{name}: --list-env printed nothing')
    help_text = open(os.path.join(work, f'help-{name}.txt')).read()
    for line in lines:
        var, option, typ, scope = line.split()
        upper = option.upper().replace('-', '_')
        if scope == 'shared':
            if var != 'DARKSCOPE_' + upper:
                bad.append(f'{name}: shared --{option} reads {var}')
        else:
            want = f'DARKSCOPE_{scope.upper()}_{upper}'
            if var != want:
                bad.append(f'{name}: --{option} reads {var}, not {want}')
            prefixes.setdefault(scope.upper(), set()).add(name)
        if f'[{var}]' not in help_text:
            bad.append(f'{name}: --help does not name {var}')
        rows.setdefault(var, []).append((name, option, typ, scope))
for prefix, names in prefixes.items():
    if len(names) > 1:
        bad.append(f'programs {sorted(names)} share the variable prefix DARKSCOPE_{prefix}_')
for var, uses in rows.items():
    if len(uses) > 1:
        if any(u[3] != 'shared' for u in uses):
            bad.append(f'{var} is read by {[u[0] for u in uses]} and is not shared')
        if len({(u[1], u[2]) for u in uses}) > 1:
            bad.append(f'{var} means different things: {uses}')
for var in open(os.path.join(work, 'getenv.txt')).read().split():
    if var in rows:
        bad.append(f'{var} is read by getenv and is an option of {[u[0] for u in rows[var]]}')
for b in bad:
    print('FAIL:', b, file=sys.stderr)
print(f'{len(rows)} variables in {len(glob.glob(os.path.join(work, "env-*.txt")))} programs; '
      f'{sum(1 for u in rows.values() if u[0][3] == "shared")} shared')
sys.exit(1 if bad else 0)
EOF

#  The rule acts: the query service's own variable sets its --timeout-ms
#  (refused out of range), the client's variable of the same option does
#  not reach it; a shared one reaches every program.
rc=0; DARKSCOPE_QUERY_TIMEOUT_MS=0 "$DS_BIN/darkscope-query" --endpoint "tcp://127.0.0.1:$(free_port)" \
    2>"$WORK/q.err" >/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "DARKSCOPE_QUERY_TIMEOUT_MS=0 was not read by darkscope-query (exit $rc)"
rc=0; DARKSCOPE_CLIENT_TIMEOUT_MS=0 timeout --foreground 60 "$DS_BIN/darkscope-query" \
    --endpoint "tcp://127.0.0.1:$(free_port)" --timeout-ms 1 >/dev/null 2>"$WORK/q3.err" & pid=$!
#  Stopped once it answers (its log says so), not after a guess of time.
#  --foreground: timeout passes on the SIGTERM without a SIGCONT after it,
#  which raced LeakSanitizer's exit-time ptrace and hung both under ASan.
for _ in $(seq 1 300); do grep -q "answering on" "$WORK/q3.err" && break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "darkscope-query did not run with another program's variable set (exit $rc)"
rc=0; DARKSCOPE_SHARDS=257 "$DS_BIN/darkscope-labeler" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "DARKSCOPE_SHARDS=257 was not read by darkscope-labeler (exit $rc)"
rc=0; DARKSCOPE_SHARDS=257 "$DS_BIN/darkscope" run --quiet >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "DARKSCOPE_SHARDS=257 was not read by darkscope run (exit $rc)"
#  The shared shard count and the query service's own endpoint list: they
#  must agree.
rc=0; DARKSCOPE_SHARDS=2 DARKSCOPE_QUERY_SHARD_ENDPOINT=tcp://127.0.0.1:1 \
    "$DS_BIN/darkscope-query" >/dev/null 2>"$WORK/q2.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--shards 2 but 1 --shard-endpoint' "$WORK/q2.err" \
    || fail "darkscope-query took DARKSCOPE_SHARDS=2 with one shard endpoint (exit $rc)"
echo "ok: every DARKSCOPE_* variable means one thing"
