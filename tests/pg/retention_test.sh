#!/usr/bin/env bash
# dalil retention on PostgreSQL as on SQLite, inside run.sh's throwaway cluster (PG* set): the same
# cohort (received long ago) imported and decided with stored traces on both stores; --due lists
# the same applicants and traces; --set writes the same retention_set entry; --apply refuses while
# records are due on a plain store (nothing erased) and --kind traces erases the same traces, their
# hashes kept; verify passes on both and counts them; a period changed or a trace put back behind
# the tool's back is named in the same words; a SQLite store after retention migrates and
# verifies. The connection string is never printed.
set -euo pipefail
dalil="$1"; rules="$2"; cohort="$3"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_ret1" >/dev/null
psql -qc "CREATE DATABASE dalil_ret2" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_ret1"
lite="$work/store.db"
all="$work/all-output"
# side NAME WANT COMMAND…: runs COMMAND for one side with its --db, output in $work/NAME.SIDE
# with the store's name (the file's path, or "the PostgreSQL store") taken out.
step() {
  local name="$1" want="$2"; shift 2
  for side in lite pg; do
    local db=$lite got=0; [ "$side" = pg ] && db=$pg
    "$dalil" "$@" --db "$db" > "$work/$name.$side" 2>&1 || got=$?
    cat "$work/$name.$side" >> "$all"
    [ "$got" = "$want" ] || fail "$name on $side exited $got, expected $want: $(cat "$work/$name.$side")"
    sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/$name.$side"
  done
  # The advice on a plain store's records differs (SQLite's: encrypt it; PostgreSQL's: not yet).
  diff <(grep -v "^this store is not encrypted" "$work/$name.lite") \
    <(grep -v "^this store is not encrypted" "$work/$name.pg") > "$work/diff" \
    || fail "$name differs between SQLite and PostgreSQL: $(cat "$work/diff")"
}

step import 0 import --rules "$rules" --received 2015-01-10 "$cohort"
for db in "$lite" "$pg"; do  # its timings differ: not compared
  "$dalil" batch --rules "$rules" --as-of 2016-03-01 --store-traces --quiet --db "$db" > "$work/batch" 2>&1 \
    || fail "batch: $(cat "$work/batch")"
done
step due 0 retention --due --format json
grep -q '"records":{"applicants":300,"versions":300' "$work/due.pg" || fail "due: $(cat "$work/due.pg")"
grep -q '"traces":{"count":0' "$work/due.pg" || fail "traces due before --set: $(cat "$work/due.pg")"
step due-later 0 retention --due --as-of 2019-12-31
grep -q "records: 0 applicant(s)" "$work/due-later.pg" || fail "due on 2019-12-31: $(cat "$work/due-later.pg")"
step bad-date 2 retention --due --as-of 2019-02-30
step set 0 retention --set traces=0 --by "dpo:amina"
for db in "$lite" "$pg"; do
  got=0; "$dalil" retention --set records=0 --by "dpo:amina" --db "$db" > "$work/set-bad" 2>&1 || got=$?
  [ "$got" = 3 ] || fail "records kept 0 days: exited $got: $(cat "$work/set-bad")"
  grep -q "the period must be 1 to 36500 days" "$work/set-bad" || fail "records kept 0 days: $(cat "$work/set-bad")"
  cat "$work/set-bad" >> "$all"
done
step due-text 0 retention --due
grep -q "traces: 300 stored trace(s) in run(s) 1" "$work/due-text.pg" || fail "due: $(cat "$work/due-text.pg")"
grep -q "this store is not encrypted: --apply will refuse" "$work/due-text.pg" || fail "due: $(cat "$work/due-text.pg")"
grep -q "keys init --db" "$work/due-text.pg" && fail "PostgreSQL's --due points at keys init: $(cat "$work/due-text.pg")"
# Records due on a plain store: refused, nothing erased (the traces are still there).
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  got=0; "$dalil" retention --apply --by "dpo:amina" --db "$db" > "$work/refused.$side" 2>&1 || got=$?
  [ "$got" = 3 ] || fail "--apply with records due on $side exited $got: $(cat "$work/refused.$side")"
  grep -q "300 applicant(s) are due for erasure, but the store is not encrypted" "$work/refused.$side" \
    || fail "refusal on $side: $(cat "$work/refused.$side")"
done
[ "$(psql -d dalil_ret1 -Atc "SELECT count(*) FROM decision_sets WHERE trace IS NOT NULL")" = 300 ] \
  || fail "a refused --apply erased traces"
step apply 0 retention --apply --kind traces --by "dpo:amina"
grep -q "erased 0 applicant(s) (0 record version(s), their data keys destroyed) and 300 stored trace(s)" "$work/apply.pg" \
  || fail "apply: $(cat "$work/apply.pg")"
[ "$(psql -d dalil_ret1 -Atc "SELECT count(*) FROM decision_sets WHERE trace IS NULL AND trace_erased ~ '^[0-9a-f]{64}$'")" = 300 ] \
  || fail "the traces' hashes were not kept"
# The hashes kept are those SQLite keeps.
sqlite3 "$lite" "SELECT record_id, trace_erased FROM decision_sets ORDER BY record_id" | tr '|' ' ' > "$work/hashes.lite"
psql -d dalil_ret1 -AtF ' ' -c "SELECT record_id, trace_erased FROM decision_sets ORDER BY record_id" > "$work/hashes.pg"
cmp -s "$work/hashes.lite" "$work/hashes.pg" || fail "the erased traces' hashes differ: $(diff "$work/hashes.lite" "$work/hashes.pg" | head -3)"
step again 0 retention --apply --kind traces --by "dpo:amina"
grep -q "and 0 stored trace(s)" "$work/again.pg" || fail "a second apply: $(cat "$work/again.pg")"
for db in "$lite" "$pg"; do
  "$dalil" audit verify --db "$db" > "$work/verify" 2>&1 || fail "verify after retention: $(cat "$work/verify")"
  grep -q "300 stored trace(s) erased by retention" "$work/verify" || fail "verify: $(cat "$work/verify")"
  cat "$work/verify" >> "$all"
done
step stats 0 stats --rules "$rules"

# The entries: the same actions, subjects and details, but for the times.
strip='s/"(at|started_at|finished_at|loaded_at)":"[^"]*"//g; s/\|20[0-9-]{8}\|/|DAY|/'
sqlite3 -separator '|' "$lite" "SELECT actor, action, subject, details FROM audit WHERE action LIKE 'retention%' ORDER BY seq" \
  | sed -E "$strip" > "$work/entries.lite"
psql -d dalil_ret1 -AtF '|' -c "SELECT actor, action, subject, details FROM audit WHERE action LIKE 'retention%' ORDER BY seq" \
  | sed -E "$strip" > "$work/entries.pg"
[ "$(wc -l < "$work/entries.pg")" = 3 ] || fail "retention entries: $(cat "$work/entries.pg")"
cmp -s "$work/entries.lite" "$work/entries.pg" || fail "the entries differ: $(diff "$work/entries.lite" "$work/entries.pg")"

# Behind the tool's back: the same words on both.
# SQLite's complete runs are guarded by triggers (PostgreSQL's are not): dropped for the change,
# put back after it.
triggers=$(sqlite3 "$lite" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'complete_run_%'")
[ -n "$triggers" ] || fail "the SQLite store has no complete-run triggers"
tamper() {  # NAME PATTERN SQL UNDO
  sqlite3 "$lite" "DROP TRIGGER IF EXISTS complete_run_frozen; DROP TRIGGER IF EXISTS complete_run_kept; $3; $triggers"
  psql -d dalil_ret1 -qc "$3"
  for side in lite pg; do
    local db=$lite got=0; [ "$side" = pg ] && db=$pg
    "$dalil" audit verify --db "$db" > "$work/t.$side" 2>&1 || got=$?
    [ "$got" = 1 ] || fail "$1: verify on $side exited $got: $(cat "$work/t.$side")"
    grep -E "^TAMPERED: $2" "$work/t.$side" > "$work/tl.$side" || fail "$1 on $side: $(cat "$work/t.$side")"
  done
  cmp -s "$work/tl.lite" "$work/tl.pg" || fail "$1: $(diff "$work/tl.lite" "$work/tl.pg")"
  sqlite3 "$lite" "DROP TRIGGER IF EXISTS complete_run_frozen; DROP TRIGGER IF EXISTS complete_run_kept; $4; $triggers"
  psql -d dalil_ret1 -qc "$4"
  echo "  $1: $(cat "$work/tl.pg")"
}
tamper "a period changed" "the retention period" \
  "UPDATE retention SET days = 3650 WHERE kind = 'records'" \
  "UPDATE retention SET days = 1825 WHERE kind = 'records'"
tamper "a trace put back" "[0-9]+ stored trace" \
  "UPDATE decision_sets SET trace = '{}' WHERE record_id = 5" \
  "UPDATE decision_sets SET trace = NULL WHERE record_id = 5"

# A SQLite store after retention copies to PostgreSQL and verifies there.
"$dalil" migrate --from "$lite" --to "postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_ret2" > "$work/migrate" 2>&1 \
  || fail "migrate: $(cat "$work/migrate")"
"$dalil" audit verify --db "postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_ret2" > "$work/v2" 2>&1 \
  || fail "verify of the copy: $(cat "$work/v2")"
grep -q "300 stored trace(s) erased by retention" "$work/v2" || fail "verify of the copy: $(cat "$work/v2")"
if grep -qF "$PGPASSWORD" "$all" "$work/migrate" "$work/v2"; then fail "the password was printed"; fi
echo "pg retention: due, set, apply (traces; records refused on a plain store) and verify as on SQLite: ok"
