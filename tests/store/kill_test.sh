#!/usr/bin/env bash
# Kills `dalil batch` with SIGKILL at several random points, resumes it each time, and checks that
# the run ends with exactly one decision set per record, none missing, none doubled, and a clean
# `dalil audit verify`.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/kill.db"
"$dalil" generate --count 20000 --seed 99 --out "$work/cohort.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
records=$(sqlite3 "$db" "SELECT count(*) FROM records WHERE latest=1")
kills=0
for attempt in $(seq 1 12); do
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --chunk 20 --threads 2 --quiet \
    >/dev/null 2>&1 &
  pid=$!
  # A random moment between 20 ms and 300 ms after the start.
  sleep "0.$(printf "%03d" $((20 + RANDOM % 280)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  done_now=$(sqlite3 "$db" "SELECT count(*) FROM decision_sets")
  echo "attempt $attempt: $done_now/$records decision sets"
  [ "$done_now" -ge "$records" ] && break
done
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --chunk 20 --quiet
runs=$(sqlite3 "$db" "SELECT count(*) FROM runs")
sets=$(sqlite3 "$db" "SELECT count(*) FROM decision_sets")
distinct=$(sqlite3 "$db" "SELECT count(DISTINCT record_id) FROM decision_sets")
missing=$(sqlite3 "$db" "SELECT count(*) FROM records r WHERE latest=1 AND NOT EXISTS (SELECT 1 FROM decision_sets d WHERE d.record_id=r.record_id)")
echo "killed $kills times; runs=$runs sets=$sets distinct=$distinct missing=$missing records=$records"
[ "$kills" -ge 1 ] || { echo "FAIL: the batch was never killed (too fast?)"; exit 1; }
[ "$runs" -eq 1 ] || { echo "FAIL: a resumed batch started a new run"; exit 1; }
[ "$sets" -eq "$records" ] && [ "$distinct" -eq "$records" ] && [ "$missing" -eq 0 ] ||
  { echo "FAIL: decision sets do not match records one to one"; exit 1; }
"$dalil" audit verify --db "$db"
echo "1 passed, 0 failed"
