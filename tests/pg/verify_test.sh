#!/usr/bin/env bash
# `dalil audit verify` on PostgreSQL checks what it checks on SQLite, with the same words, inside
# run.sh's throwaway cluster (PG* set): the same cohort imported and decided on both stores, then
# the same row changed behind the tool's back on each (a record's JSON, a latest flag, a run's
# key, status or completion count, a run deleted or inserted, a decision set's record, an
# applicant without records, a record's or a decision set's row changed): verify fails on both and
# names the damage in the same lines. A run
# in shards names its shard count in its entry, and a changed count is found.
set -euo pipefail
dalil="$1"; rules="$2"; cohort="$3"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_v1" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_v1"
lite="$work/store.db"
as_of=2016-03-01
sed '1s/"sex":"female"/"sex":"male"/' "$cohort" > "$work/changed.jsonl"

for db in "$lite" "$pg"; do
  "$dalil" import --db "$db" --rules "$rules" "$cohort" > /dev/null
  "$dalil" batch --db "$db" --rules "$rules" --as-of "$as_of" --quiet > /dev/null
  "$dalil" import --db "$db" --rules "$rules" "$work/changed.jsonl" > /dev/null
  "$dalil" batch --db "$db" --rules "$rules" --as-of "$as_of" --quiet > /dev/null
  "$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "verify of an untouched store: $(cat "$work/out")"
done
grep -q "each record's JSON against its content hash, the latest versions, the runs" "$work/out" \
  || fail "PostgreSQL's verify does not say it checks records, latest flags and runs: $(cat "$work/out")"

# SQLite's complete runs are guarded by triggers (PostgreSQL's are not): a tamperer drops them
# first, and verify names that too; only the lines of the kind under test are compared.
triggers=$(sqlite3 "$lite" "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'complete_run_%'")
[ -n "$triggers" ] || fail "the SQLite store has no complete-run triggers"
lite_sql() { sqlite3 "$lite" "DROP TRIGGER IF EXISTS complete_run_frozen; DROP TRIGGER IF EXISTS complete_run_kept; $1; $triggers"; }
pg_sql() { psql -d dalil_v1 -qc "$1"; }

# tamper NAME PATTERN SQLITE_SQL PG_SQL SQLITE_UNDO PG_UNDO: both stores changed, verify exits 1
# on both with the same lines matching PATTERN (at least one), then both restored and clean.
tamper() {
  local name="$1" pattern="$2" got
  lite_sql "$3"
  pg_sql "$4"
  for side in lite pg; do
    local db=$lite; [ "$side" = pg ] && db=$pg
    got=0
    "$dalil" audit verify --db "$db" > "$work/$side.out" 2>&1 || got=$?
    [ "$got" = 1 ] || fail "$name: verify on $side exited $got: $(cat "$work/$side.out")"
    grep -E "^TAMPERED: ($pattern)" "$work/$side.out" > "$work/$side.lines" || true
    [ -s "$work/$side.lines" ] || fail "$name: verify on $side does not name it: $(cat "$work/$side.out")"
  done
  cmp -s "$work/lite.lines" "$work/pg.lines" \
    || fail "$name: SQLite and PostgreSQL say different things: $(diff "$work/lite.lines" "$work/pg.lines")"
  lite_sql "$5"
  pg_sql "$6"
  for db in "$lite" "$pg"; do
    "$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "$name: not clean once restored: $(cat "$work/out")"
  done
  echo "  $name: $(head -1 "$work/pg.lines")"
}

tamper "a record's JSON edited" "record " \
  "UPDATE records SET json = json || ' ' WHERE record_id = 2" \
  "UPDATE records SET json = json || ' ' WHERE record_id = 2" \
  "UPDATE records SET json = substr(json, 1, length(json) - 1) WHERE record_id = 2" \
  "UPDATE records SET json = left(json, -1) WHERE record_id = 2"
tamper "a latest flag cleared" "record " \
  "UPDATE records SET latest = 0 WHERE record_id = 3" \
  "UPDATE records SET latest = 0 WHERE record_id = 3" \
  "UPDATE records SET latest = 1 WHERE record_id = 3" \
  "UPDATE records SET latest = 1 WHERE record_id = 3"
tamper "an older version flagged latest" "record " \
  "UPDATE records SET latest = 1 WHERE record_id = 1" \
  "UPDATE records SET latest = 1 WHERE record_id = 1" \
  "UPDATE records SET latest = 0 WHERE record_id = 1" \
  "UPDATE records SET latest = 0 WHERE record_id = 1"
tamper "a run's date changed" "run " \
  "UPDATE runs SET as_of = '2017-03-01' WHERE run_id = 1" \
  "UPDATE runs SET as_of = '2017-03-01' WHERE run_id = 1" \
  "UPDATE runs SET as_of = '$as_of' WHERE run_id = 1" \
  "UPDATE runs SET as_of = '$as_of' WHERE run_id = 1"
tamper "a complete run reopened" "run " \
  "UPDATE runs SET status = 'running' WHERE run_id = 2" \
  "UPDATE runs SET status = 'running' WHERE run_id = 2" \
  "UPDATE runs SET status = 'complete' WHERE run_id = 2" \
  "UPDATE runs SET status = 'complete' WHERE run_id = 2"
tamper "a run inserted" "run " \
  "INSERT INTO runs(run_id, ruleset_hash, as_of, filter, started_at, status, generation) SELECT 9, ruleset_hash, '2020-01-01', filter, started_at, 'running', 1 FROM runs WHERE run_id = 1" \
  "INSERT INTO runs(run_id, ruleset_hash, as_of, filter, started_at, status, generation) SELECT 9, ruleset_hash, '2020-01-01', filter, started_at, 'running', 1 FROM runs WHERE run_id = 1" \
  "DELETE FROM runs WHERE run_id = 9" \
  "DELETE FROM runs WHERE run_id = 9"
# A decision set moved to its applicant's older version (record 1, replaced by record 301): the
# set its entry lists is gone, one it does not list is there, and it no longer matches its record.
tamper "a decision set moved to an older version" "decision set " \
  "UPDATE decision_sets SET record_id = 1 WHERE run_id = 2 AND record_id = 301" \
  "UPDATE decision_sets SET record_id = 1 WHERE run_id = 2 AND record_id = 301" \
  "UPDATE decision_sets SET record_id = 301 WHERE run_id = 2 AND record_id = 1" \
  "UPDATE decision_sets SET record_id = 301 WHERE run_id = 2 AND record_id = 1"
tamper "a record's version changed" "record " \
  "UPDATE records SET version = version + 10 WHERE record_id = 9" \
  "UPDATE records SET version = version + 10 WHERE record_id = 9" \
  "UPDATE records SET version = version - 10 WHERE record_id = 9" \
  "UPDATE records SET version = version - 10 WHERE record_id = 9"
tamper "a decision set's decisions changed" "decision set " \
  "UPDATE decision_sets SET decisions = decisions || ' ' WHERE run_id = 1 AND record_id = 7" \
  "UPDATE decision_sets SET decisions = decisions || ' ' WHERE run_id = 1 AND record_id = 7" \
  "UPDATE decision_sets SET decisions = substr(decisions, 1, length(decisions) - 1) WHERE run_id = 1 AND record_id = 7" \
  "UPDATE decision_sets SET decisions = left(decisions, -1) WHERE run_id = 1 AND record_id = 7"
tamper "an applicant row without records" "[0-9]+ applicant" \
  "INSERT INTO applicants(applicant_id) VALUES('GHOST')" \
  "INSERT INTO applicants(applicant_id) VALUES('GHOST')" \
  "DELETE FROM applicants WHERE applicant_id = 'GHOST'" \
  "DELETE FROM applicants WHERE applicant_id = 'GHOST'"
# A run deleted with its decision sets (after keeping them to put them back).
sqlite3 "$lite" "CREATE TABLE kept AS SELECT * FROM decision_sets WHERE run_id = 2; CREATE TABLE kept_run AS SELECT * FROM runs WHERE run_id = 2"
pg_sql "CREATE TABLE kept AS SELECT * FROM decision_sets WHERE run_id = 2; CREATE TABLE kept_run AS SELECT * FROM runs WHERE run_id = 2"
tamper "a run deleted" "run " \
  "DELETE FROM decision_sets WHERE run_id = 2; DELETE FROM runs WHERE run_id = 2" \
  "DELETE FROM decision_sets WHERE run_id = 2; DELETE FROM runs WHERE run_id = 2" \
  "INSERT INTO runs SELECT * FROM kept_run; INSERT INTO decision_sets SELECT * FROM kept; DROP TABLE kept; DROP TABLE kept_run" \
  "INSERT INTO runs SELECT * FROM kept_run; INSERT INTO decision_sets SELECT * FROM kept; DROP TABLE kept; DROP TABLE kept_run"

# A run in two shards (PostgreSQL only): its entry names the count; verify checks it.
"$dalil" batch --db "$pg" --rules "$rules" --as-of 2017-03-01 --shard 1/2 --quiet > /dev/null
"$dalil" batch --db "$pg" --rules "$rules" --as-of 2017-03-01 --shard 2/2 --quiet > /dev/null
run=$(psql -d dalil_v1 -Atc "SELECT run_id FROM runs WHERE as_of = '2017-03-01'")
[ "$(psql -d dalil_v1 -Atc "SELECT status FROM runs WHERE run_id = $run")" = complete ] || fail "the run in shards is not complete"
psql -d dalil_v1 -Atc "SELECT details FROM audit WHERE action = 'run' AND subject = '$run'" | grep -q '"shards":2' \
  || fail "the run's entry does not name its shard count"
psql -d dalil_v1 -Atc "SELECT details FROM audit WHERE action = 'run' AND subject = '1'" | grep -q '"shards"' \
  && fail "the entry of a run without shards names a shard count"
"$dalil" audit verify --db "$pg" > "$work/out" 2>&1 || fail "verify after a run in shards: $(cat "$work/out")"
pg_sql "UPDATE runs SET shards = 3 WHERE run_id = $run"
got=0; "$dalil" audit verify --db "$pg" > "$work/out" 2>&1 || got=$?
[ "$got" = 1 ] || fail "a changed shard count: verify exited $got"
grep -q "^TAMPERED: run $run (audit entry [0-9]*): its shard count was changed after it was written" "$work/out" \
  || fail "a changed shard count is not named: $(cat "$work/out")"
if grep -qF "$PGPASSWORD" "$work"/*.out "$work/out"; then fail "the password was printed"; fi
echo "pg verify: records, latest flags, runs (shard count too) and decision sets against their records, as on SQLite: ok"
