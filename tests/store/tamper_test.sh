#!/usr/bin/env bash
# Tampering as a hostile operator with sqlite3 would do it, table-driven over every table of the
# schema: each column of one row of each table changed (the schema's guarding triggers dropped
# and put back around the change, as a careful tamperer would), rows deleted and inserted, and
# the cases the store was once blind to. For each, on a fresh copy of the store, `dalil audit
# verify` must exit 1 and name the row (its table and key) in its report.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clean="$work/clean.db"
"$dalil" generate --count 400 --seed 5 --out "$work/cohort.jsonl"
# Two rejected rows, so that the rejections table has rows.
printf '%s\n' '{"id":"BAD-1","sex":"femme"}' '{"status":"refugee"}' >> "$work/cohort.jsonl"
"$dalil" import --db "$clean" --rules "$rules" "$work/cohort.jsonl" >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2017-06-01 --chunk 100 --quiet >/dev/null
# New versions of five applicants, then the same batch: a second generation (run 2).
head -5 "$work/cohort.jsonl" |
  sed 's/"application_date":"[0-9-]*"/"application_date":"2017-05-02"/' > "$work/changed.jsonl"
"$dalil" import --db "$clean" --rules "$rules" "$work/changed.jsonl" >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2017-06-01 --chunk 100 --quiet >/dev/null
# Stored traces (run 3).
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2023-06-01 --where status=refugee \
  --store-traces --quiet >/dev/null
"$dalil" decisions --db "$clean" SYN-000007 >/dev/null
# The identity tables (checked by the accounts' row checker through verify's seam).
printf '%s\n' 'a-long-password-1' |
  "$dalil" user add alice --role official --office rabat --db "$clean" >/dev/null 2>&1
"$dalil" token create bot --role official --office rabat --db "$clean" >/dev/null 2>&1
# A publication (dalil publish: the store's ruleset made the one in effect from a date on).
"$dalil" publish --db "$clean" --rules "$rules" --approved-by "Commission" --from 2017-01-01 >/dev/null
"$dalil" audit verify --db "$clean"
sqlite3 "$clean" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
[ "$(sqlite3 "$clean" "SELECT count(*) FROM runs")" -eq 3 ] || { echo "FAIL: setup"; exit 1; }
[ "$(sqlite3 "$clean" "SELECT count(*) FROM rejections")" -eq 2 ] || { echo "FAIL: setup"; exit 1; }
traced=$(sqlite3 "$clean" "SELECT min(record_id) FROM decision_sets WHERE run_id=3")
triggers=$(sqlite3 "$clean" "SELECT group_concat(sql, '; ') || ';' FROM sqlite_schema WHERE type='trigger'")
drop="PRAGMA foreign_keys=OFF; DROP TRIGGER complete_run_frozen; DROP TRIGGER complete_run_kept;"

passed=0; failed=0
check() {  # name, SQL, expected words in the report (the row named)[, exit codes allowed]
  local name="$1" sql="$2" expect="$3" codes="${4:-1}" db="$work/$1.db"
  cp "$clean" "$db"
  if ! sqlite3 "$db" "$drop $sql; $triggers" 2> "$work/sql.err"; then
    echo "FAIL $name: the tampering itself failed: $(cat "$work/sql.err")"; failed=$((failed + 1))
    return
  fi
  local status=0
  out=$("$dalil" audit verify --db "$db" 2>&1) || status=$?
  if [[ " $codes " != *" $status "* ]]; then
    echo "FAIL $name: verify exited $status: $out"; failed=$((failed + 1)); return
  fi
  if [[ "$out" == *"$expect"* ]]; then
    echo "ok   $name: $(echo "$out" | head -1)"; passed=$((passed + 1))
  else
    echo "FAIL $name: reported '$out', expected '$expect'"; failed=$((failed + 1))
  fi
}

# The row of each table that the column sweep changes, and how a report names it.
declare -A where=(
  [rulesets]="rowid=1" [imports]="import_id=1" [applicants]="rowid=7" [records]="record_id=7"
  [rejections]="rowid=1" [runs]="run_id=1" [decision_sets]="run_id=1 AND record_id=20"
  [audit]="seq=3" [schema_version]="rowid=(SELECT max(rowid) FROM schema_version)"
  [users]="name='alice'" [tokens]="name='bot'" [offices]="name='rabat'"
  [publications]="publication_id=1" [retention]="kind='records'")
hash=$(sqlite3 "$clean" "SELECT substr(hash, 1, 12) FROM rulesets")
declare -A named=(
  [rulesets]="ruleset" [imports]="import 1" [applicants]="applicant" [records]="record 7"
  [rejections]="rejections of import 1" [runs]="run 1" [decision_sets]="decision set 1:20"
  [audit]="audit entry 3" [schema_version]="schema" [users]="alice" [tokens]="bot"
  [offices]="rabat" [publications]="publication 1" [retention]="retention period of records")
# Tables without a case here, and why: the lease is a batch's transient claim (a forged one
# makes batches and imports busy, naming its holder); sessions exist only after a server login,
# login attempts, the counts of refused logins (login_throttles: the first refusal of each key
# and window is an audit entry of its own), known devices (login_devices: a forged row gives a
# private budget of guesses, no access; docs/identity.md) and the accounts generation are
# rate-limit and cache state, not vouched-for data; counter decisions and reviews are written by the server only (tests/server/ tamper them,
# and verify checks them through the counter's row checker), and so is the applicants' index of
# counter decisions (counter_applicants, its middle and recent parts: tests/store/counter_test.cpp tampers
# them), and so are the statistics' months kept as first released (counter_month_figures, each
# vouched for by a counter_figures entry: tests/store/counter_suite.hpp changes, deletes, moves
# and inserts one on both backends).
# Users, tokens and offices are checked by the accounts' own tests ([auth]); through verify's
# seam their checker already names an edited role or password hash (the cases below), and the
# rest of the sweep over them is left to their owner (helper-notes, 18:00).
# The keyring, pseudonyms and data keys are empty in this plain store: encryption_test.sh tampers
# them in an encrypted one.
declare -A not_here=([lease]=1 [sessions]=1 [login_attempts]=1 [login_throttles]=1 [login_devices]=1 [accounts_generation]=1
  [keyring]=1 [data_keys]=1 [pseudonyms]=1
  [counter_decisions]=1 [reviews]=1 [users]=1 [tokens]=1 [offices]=1
  [counter_applicants]=1 [counter_applicants_mid]=1 [counter_applicants_recent]=1
  [counter_month_figures]=1)
tables=$(sqlite3 "$clean" "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
for table in $tables; do
  [ -n "${not_here[$table]:-}" ] && continue
  [ -n "${where[$table]:-}" ] || { echo "FAIL: table $table has no tampering case"; failed=$((failed + 1)); continue; }
  while IFS='|' read -r column type; do
    case "$type" in
      INTEGER) change="$column = coalesce($column, 0) + 1000003" ;;
      BLOB) change="$column = randomblob(32)" ;;
      *) change="$column = coalesce($column, '') || 'x'" ;;
    esac
    expect="${named[$table]}"
    # Two columns whose change is the row's key: named by what they now collide with or lack.
    [ "$table.$column" = "rulesets.hash" ] && expect="ruleset"
    # A schema version changed: the store is refused (3: newer than this dalil) or fails to open.
    codes=1
    [ "$table.$column" = "schema_version.version" ] && expect="schema" && codes="1 3"
    check "$table.$column" "UPDATE $table SET $change WHERE ${where[$table]}" "$expect" "$codes"
  done < <(sqlite3 "$clean" "SELECT name, type FROM pragma_table_info('$table')")
  [ "$table" = schema_version ] && continue
  check "$table.delete" "DELETE FROM $table WHERE ${where[$table]}" "${named[$table]}"
done

# Rows inserted behind the tool's back, one per table.
check insert.ruleset "INSERT INTO rulesets VALUES('$(printf '%064d' 7)', 'module x', '2020-01-01T00:00:00Z')" "ruleset 000000000000"
check insert.import "INSERT INTO imports VALUES(99, 'x.jsonl', '', '2020-01-01T00:00:00Z', 0, 0, 0, 0, NULL, NULL, NULL)" "import 99"
check insert.applicant "INSERT INTO applicants VALUES('GHOST-1')" "applicant"
check insert.record "INSERT INTO records(applicant_id, version, content_hash, json, import_id, latest) SELECT applicant_id, 9, content_hash, json, 1, 0 FROM records WHERE record_id=3" "record 406 was inserted"
check insert.rejection "INSERT INTO rejections VALUES(1, 77, 'sex', 'injected')" "rejections of import 1"
check insert.run "INSERT INTO runs SELECT 9, ruleset_hash, '2018-01-01', '', started_at, finished_at, status, 1 FROM runs WHERE run_id=1" "run 9"
check insert.publication "INSERT INTO publications(ruleset_hash, approved_by, effective_from, published_at, actor) SELECT ruleset_hash, 'x', '2030-01-01', published_at, actor FROM publications WHERE publication_id=1" "publication 2 has no audit entry"
check insert.decision_set "INSERT INTO decision_sets SELECT 2, 406, input_hash, decisions, trace_digest, trace, format, 'GHOST-2', NULL, NULL FROM decision_sets WHERE run_id=1 AND record_id=40" "decision set 2:406"
check insert.audit "INSERT INTO audit SELECT seq + 1000, at, actor, action, subject, details, prev_hash, hash FROM audit WHERE seq=2" "missing"

# Identity rows, through verify's seam (the accounts' row checker).
check user_password_hash "UPDATE users SET password_hash='x' WHERE name='alice'" "user alice"
check user_office "UPDATE users SET office=NULL WHERE name='alice'" "user alice"
check token_hash "UPDATE tokens SET token_hash=randomblob(32) WHERE name='bot'" "bot"
check token_inserted "INSERT INTO tokens(name, role, office, token_hash, created_at) VALUES('ghost', 'auditor', NULL, randomblob(32), 'x')" "ghost"

# The cases the store was once blind to (issue 12), and what they are named by.
check run_as_of "UPDATE runs SET as_of='2018-06-01' WHERE run_id=2" "run 2"
check run_ruleset "UPDATE runs SET ruleset_hash=(SELECT hash FROM rulesets) || '' WHERE run_id=2; INSERT INTO rulesets SELECT '$(printf '%064d' 1)', source, loaded_at FROM rulesets; UPDATE runs SET ruleset_hash='$(printf '%064d' 1)' WHERE run_id=2" "run 2"
check run_filter "UPDATE runs SET filter='status=refugee' WHERE run_id=1" "run 1"
check run_status "UPDATE runs SET status='running', finished_at=NULL WHERE run_id=2" "run 2"
check run_deleted "DELETE FROM decision_sets WHERE run_id=1; DELETE FROM runs WHERE run_id=1" "run 1 (audit entry"
check latest_cleared "UPDATE records SET latest=0 WHERE record_id=100" "record 100: its latest flag"
check latest_moved "UPDATE records SET latest=1 WHERE record_id=1; UPDATE records SET latest=0 WHERE record_id=403" "latest flag"
check input_hash "UPDATE decision_sets SET input_hash=randomblob(32) WHERE run_id=2 AND record_id=50" "decision set 2:50"
check import_counts "UPDATE imports SET rows=401, stored=401 WHERE import_id=1" "import 1"
check trace_text "UPDATE decision_sets SET trace=replace(trace, 'true', 'false') WHERE run_id=3 AND record_id=$traced" "decision set 3:$traced"
check decision_text "UPDATE decision_sets SET decisions=replace(decisions, 'false', 'true') WHERE run_id=1 AND record_id=120" "decision set 1:120"
check decision_format "UPDATE decision_sets SET format=1 WHERE run_id=1 AND record_id=50" "decision set 1:50"
check record_json "UPDATE records SET json=replace(json, '\"sex\":\"male\"', '\"sex\":\"female\"') WHERE record_id=(SELECT min(record_id) FROM records WHERE json LIKE '%\"sex\":\"male\"%')" "does not match its content hash"
check record_json_and_hash "UPDATE records SET json='{}', content_hash='44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' WHERE record_id=12" "record 12"
check edit_ruleset "UPDATE rulesets SET source=replace(source, '3767', '3768')" "ruleset"
check audit_details "UPDATE audit SET details=replace(details, '\"rows\":402', '\"rows\":401') WHERE action='import'" "was changed after it was written"
check audit_deleted "DELETE FROM audit WHERE seq=3" "audit entry 3 is missing"
check last_read_deleted "DELETE FROM audit WHERE seq=(SELECT max(seq) - 1 FROM audit)" "is missing"

# The schema's guards dropped (and not put back): verify says the schema no longer guards runs.
cp "$clean" "$work/guard.db"
sqlite3 "$work/guard.db" "DROP TRIGGER complete_run_kept"
if out=$("$dalil" audit verify --db "$work/guard.db"); then
  echo "FAIL guard_dropped: not detected"; failed=$((failed + 1))
elif [[ "$out" == *"complete_run_kept"* ]]; then
  echo "ok   guard_dropped: $out"; passed=$((passed + 1))
else
  echo "FAIL guard_dropped: $out"; failed=$((failed + 1))
fi

# The log's tail removed: the chain alone cannot tell (only the rows its last entries vouched
# for may), the head kept elsewhere does.
head_now=$("$dalil" audit head --db "$clean")
cp "$clean" "$work/tail.db"
sqlite3 "$work/tail.db" "DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit)"
if out=$("$dalil" audit verify --db "$work/tail.db" --head "${head_now/ /:}"); then
  echo "FAIL tail_with_head: not detected"; failed=$((failed + 1))
elif [[ "$out" == *"does not reach the head"* ]]; then
  echo "ok   tail_with_head: $out"; passed=$((passed + 1))
else
  echo "FAIL tail_with_head: $out"; failed=$((failed + 1))
fi
"$dalil" audit verify --db "$clean" --head "${head_now#* }" >/dev/null ||
  { echo "FAIL head: the clean store does not reach its own head"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
