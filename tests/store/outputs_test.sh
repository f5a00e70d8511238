#!/usr/bin/env bash
# What an operator reads from a store made by the previous release (tests/store/fixtures/
# store-v1.db, schema 1) once this dalil has upgraded it: stats (text and JSON), export (JSONL and
# CSV), an applicant's decisions and replays, each compared with its golden file in
# tests/golden/store/. DALIL_UPDATE_GOLDEN=1 rewrites the goldens; review the diff.
set -euo pipefail
dalil="$1"; rules="$2"
here="$(cd "$(dirname "$0")" && pwd)"
golden="$here/../golden/store"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/v1.db"
cp "$here/fixtures/store-v1.db" "$db"

passed=0; failed=0
check() {  # name, command… (its stdout is compared with $golden/name)
  local name="$1"; shift
  local status=0
  "$@" > "$work/$name" 2>&1 || status=$?
  echo "exit $status" >> "$work/$name"
  if [ -n "${DALIL_UPDATE_GOLDEN:-}" ]; then
    mkdir -p "$golden"
    cp "$work/$name" "$golden/$name"
    echo "updated $name"; passed=$((passed + 1)); return
  fi
  if diff -u "$golden/$name" "$work/$name" > "$work/$name.diff"; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name:"; cat "$work/$name.diff"; failed=$((failed + 1))
  fi
}
# The first command upgrades the store: it verifies, with the upgrade in the chain.
check audit_verify.txt "$dalil" audit verify --db "$db"
check stats.txt "$dalil" stats --db "$db" --rules "$rules"
check stats.json "$dalil" stats --db "$db" --format json
check export_run4.jsonl "$dalil" export --db "$db" --run 4
check export_run4.csv "$dalil" export --db "$db" --run 4 --format csv
check decisions_SYN-000012.txt "$dalil" decisions --db "$db" SYN-000012
# Runs stored before the upgrade: identical, saying what the current form adds.
check replay_1_12.txt "$dalil" replay --db "$db" 1:12
check replay_2_12.txt "$dalil" replay --db "$db" 2:12
check replay_4_12.txt "$dalil" replay --db "$db" 4:12
# The reads above are audited: the log still verifies, with one entry more for each.
check audit_verify_after.txt "$dalil" audit verify --db "$db"
# One 'schema' entry per migration past the fixture's schema 1, each exactly once.
version=$(sqlite3 "$db" "SELECT max(version) FROM schema_version")
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='schema'")" -eq $((version - 1)) ] &&
  [ "$(sqlite3 "$db" "SELECT count(DISTINCT subject) FROM audit WHERE action='schema'")" -eq $((version - 1)) ] ||
  { echo "FAIL: the upgrades are not in the audit log exactly once each"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
