#!/usr/bin/env bash
# A batch whose writes fail part-way (a trigger refuses the decision set of record 1500, the
# last of the fifth chunk, while the next chunk is being evaluated) reports the database's
# message, keeps exactly the chunks written before the failure (none after it, so no gap), and,
# once the cause is gone, resumes to one decision set per record with a clean audit.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/store.db"
"$dalil" generate --count 3000 --seed 11 --out "$work/cohort.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
sqlite3 "$db" "CREATE TRIGGER refuse BEFORE INSERT ON decision_sets
  WHEN NEW.record_id = 1500 BEGIN SELECT RAISE(ABORT, 'disk full (injected)'); END;"
if "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --chunk 300 --quiet \
     > "$work/out" 2>&1; then
  echo "FAIL: the batch did not report the failed write"; cat "$work/out"; exit 1
fi
grep -q "disk full (injected)" "$work/out" || {
  echo "FAIL: the error does not give the database's reason"; cat "$work/out"; exit 1; }
count=$(sqlite3 "$db" "SELECT count(*) FROM decision_sets")
last=$(sqlite3 "$db" "SELECT coalesce(max(record_id), 0) FROM decision_sets")
if [ "$count" != 1200 ] || [ "$last" != 1200 ]; then
  echo "FAIL: expected the 1200 decision sets before the failure and none after," \
       "got $count up to record $last"
  exit 1
fi
"$dalil" audit verify --db "$db"
sqlite3 "$db" "DROP TRIGGER refuse"
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --chunk 300 --quiet
count=$(sqlite3 "$db" "SELECT count(*) FROM decision_sets")
runs=$(sqlite3 "$db" "SELECT count(*) FROM runs")
[ "$count" = 3000 ] && [ "$runs" = 1 ] || {
  echo "FAIL: after resuming, $count decision sets in $runs run(s); expected 3000 in 1"; exit 1; }
"$dalil" audit verify --db "$db"
echo "ok: the failed write stopped the run at its first gap; resumed to 3000 decision sets"
