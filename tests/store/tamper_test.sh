#!/usr/bin/env bash
# Edits, deletes and inserts rows behind the tool's back, and checks that `dalil audit verify`
# names each tampering (a fresh copy of the store for each).
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clean="$work/clean.db"
"$dalil" generate --count 400 --seed 5 --out "$work/cohort.jsonl"
"$dalil" import --db "$clean" --rules "$rules" "$work/cohort.jsonl" >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2017-06-01 --chunk 100 --quiet >/dev/null
"$dalil" decisions --db "$clean" SYN-000007 >/dev/null
"$dalil" audit verify --db "$clean"
sqlite3 "$clean" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

passed=0; failed=0
check() {  # name, SQL, expected words in the report
  local name="$1" sql="$2" expect="$3" db="$work/$1.db"
  cp "$clean" "$db"
  sqlite3 "$db" "$sql"
  if out=$("$dalil" audit verify --db "$db"); then
    echo "FAIL $name: not detected"; failed=$((failed + 1)); return
  fi
  if [[ "$out" == *"$expect"* ]]; then
    echo "ok   $name: $out"; passed=$((passed + 1))
  else
    echo "FAIL $name: reported '$out', expected '$expect'"; failed=$((failed + 1))
  fi
}
check edit_record "UPDATE records SET json=replace(json, '\"sex\":\"male\"', '\"sex\":\"female\"') WHERE record_id=(SELECT min(record_id) FROM records WHERE json LIKE '%\"sex\":\"male\"%')" "was edited"
check edit_record_and_hash "UPDATE records SET content_hash='0000' WHERE record_id=3" "import 1"
check delete_record "PRAGMA foreign_keys=OFF; DELETE FROM decision_sets WHERE record_id=10; DELETE FROM records WHERE record_id=10" "import 1"
check insert_record "INSERT INTO records(applicant_id, version, content_hash, json, import_id) VALUES('SYN-000001', 9, 'x', '{}', 1)" "import 1"
check edit_decision "UPDATE decision_sets SET decisions=replace(decisions, 'false', 'true') WHERE record_id=20" "decision sets of run 1"
check delete_decision "DELETE FROM decision_sets WHERE record_id=30" "decision sets of run 1"
# The form a set is read in (format 2 records in_force; format 1, from before schema 2, does not).
check edit_decision_format "UPDATE decision_sets SET format=1 WHERE record_id=50" "decision sets of run 1"
check insert_decision "INSERT INTO decision_sets SELECT 2, record_id, input_hash, decisions, trace_digest, trace, format FROM decision_sets WHERE record_id=40; INSERT INTO runs VALUES(2, (SELECT ruleset_hash FROM runs WHERE run_id=1), '2018-01-01', '', 'x', NULL, 'complete')" "no audit entry vouches"
check edit_ruleset "UPDATE rulesets SET source=replace(source, '3767', '3768')" "ruleset"
check edit_audit "UPDATE audit SET details=replace(details, '\"rows\":400', '\"rows\":399') WHERE action='import'" "was changed after it was written"
check delete_audit "DELETE FROM audit WHERE seq=3" "audit entry 3 is missing"
check delete_last_read "DELETE FROM audit WHERE seq=(SELECT max(seq) - 1 FROM audit)" "is missing"
check insert_audit "INSERT INTO audit SELECT seq + 1000, at, actor, action, subject, details, prev_hash, hash FROM audit WHERE seq=2" "missing"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
