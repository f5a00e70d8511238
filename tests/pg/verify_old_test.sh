#!/usr/bin/env bash
# audit verify on PostgreSQL checks the rows of entries of older forms as SQLite's does
# (docs/postgresql.md): tests/store/fixtures/store-v1.db (a store written by the first dalil:
# import entries with a whole digest, decision chunks before schema 5, the upgrade's import_state
# entries) is migrated; verify passes on both; then the same row is changed in both (a decision
# set of a chunk written before schema 5, a record of an old import, an import's row vouched for
# by its import_state entry) and both name it with the same TAMPERED lines.
# Usage: verify_old_test.sh DALIL RULES COHORT (inside a cluster: tests/pg/run_shell.sh)
set -euo pipefail
dalil="$1"
fixtures="$(cd "$(dirname "$0")/../store/fixtures" && pwd)"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
lite="$work/v1.db"
cp "$fixtures/store-v1.db" "$lite"
# Upgraded to this dalil's schema first (migrate copies a store of the current schema).
"$dalil" stats --db "$lite" > "$work/out" 2>&1 || fail "stats: $(cat "$work/out")"
[ "$(sqlite3 "$lite" "SELECT count(*) FROM audit WHERE action = 'decisions' AND details NOT LIKE '{\"v\":3%'")" -ge 3 ] ||
  fail "the fixture has no decision chunk of an older form"
[ "$(sqlite3 "$lite" "SELECT count(*) FROM audit WHERE action = 'import_state'")" -ge 1 ] || fail "no import_state entry"
n=0
# tamper SQL: applied to a fresh copy of each store; both verify exit 1 with the same TAMPERED
# lines, which must hold PATTERN.
tamper() {
  local sql="$1" pattern="$2"
  n=$((n + 1))
  cp "$lite" "$work/t$n.db"
  psql -qc "CREATE DATABASE dalil_vold$n" > /dev/null
  local pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_vold$n"
  "$dalil" migrate --from "$work/t$n.db" --to "$pg" > "$work/out" 2>&1 || fail "migrate: $(cat "$work/out")"
  if [ -n "$sql" ]; then
    # SQLite's complete runs are guarded by triggers (PostgreSQL's are not): a tamperer drops them
    # and puts them back.
    local triggers
    triggers=$(sqlite3 "$work/t$n.db" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'complete_run_%'")
    sqlite3 "$work/t$n.db" "DROP TRIGGER IF EXISTS complete_run_frozen; DROP TRIGGER IF EXISTS complete_run_kept; $sql; $triggers"
    psql -d "dalil_vold$n" -Xqc "$sql"
  fi
  local want=1; [ -z "$sql" ] && want=0
  for side in lite pg; do
    local db="$work/t$n.db" got=0; [ "$side" = pg ] && db=$pg
    "$dalil" audit verify --db "$db" > "$work/v.$side" 2>&1 || got=$?
    [ "$got" = "$want" ] || fail "verify on $side ($sql) exited $got: $(cat "$work/v.$side")"
    grep '^TAMPERED' "$work/v.$side" | sort > "$work/t.$side" || true
  done
  if [ "${subset:-}" = 1 ]; then
    # Every line PostgreSQL prints is SQLite's (SQLite's one more: below).
    [ -z "$(comm -13 "$work/t.lite" "$work/t.pg")" ] ||
      fail "($sql) lines SQLite does not print: $(comm -13 "$work/t.lite" "$work/t.pg")"
  else
    cmp -s "$work/t.lite" "$work/t.pg" ||
      fail "($sql) the stores' verify differ: $(diff "$work/t.lite" "$work/t.pg")"
  fi
  [ -z "$pattern" ] || grep -q -- "$pattern" "$work/t.pg" || fail "($sql): $(cat "$work/v.pg")"
}
tamper "" ""
echo "ok   store-v1 migrated: verify passes on both"
tamper "UPDATE decision_sets SET decisions = decisions || ' ' WHERE run_id = 1 AND record_id = 20" \
  "decision sets of run 1, records 11..50 (audit entry [0-9]*, written before schema 5, which names no single row) were changed, deleted or inserted"
# A set deleted: both name its chunk and the run's count; SQLite also says "run 1 has decision
# sets that no audit entry vouches for" (its count of the sets its older chunks vouch for), which
# PostgreSQL's verify does not compute yet (docs/postgresql.md, "Not yet").
subset=1 tamper "DELETE FROM decision_sets WHERE run_id = 1 AND record_id = 30" "decision sets of run 1, records 11..50"
tamper "UPDATE records SET content_hash = '0000' || substr(content_hash, 5) WHERE record_id = 3" "records of import 1 (audit entry"
tamper "UPDATE imports SET file = 'elsewhere.jsonl' WHERE import_id = 1" "import 1 (audit entry [0-9]*): its file was changed after it was written"
tamper "UPDATE imports SET stored = 39 WHERE import_id = 1" "its stored was changed"
echo "ok   a decision set of an old chunk, a record of an old import, an import's row: the same TAMPERED lines on both"
echo "pg verify of older entry forms: the same as on SQLite: ok"
