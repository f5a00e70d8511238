#!/usr/bin/env bash
# `dalil keys init --db` over plain records killed (SIGKILL, from outside) in the middle of its
# transaction (docs/operations.md, "Encrypting an existing plain store in place"): the store is
# left entirely plain, as it was (no keyring, pseudonym or data key; every record, decision set
# and audit entry byte for byte as before) and verifies with the head taken before; a second run
# then encrypts it, leaves no personal value in the file or its WAL, and verifies. The kill comes
# once the transaction has written part of its pages into the WAL (8 MB of the about 100 MB it
# writes for 3,000 applicants with stored traces), so it lands while the store is being sealed.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/lib.sh"
unset DALIL_MASTER_KEY DALIL_TEST_IN_PLACE_BATCH
db="$work/plain.db"; key="$work/master.key"
"$dalil" generate --count 3000 --seed 23 --out "$work/cohort.jsonl"
python3 - "$work/cohort.jsonl" > "$work/ids.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["id"])
PY
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --store-traces --quiet > /dev/null
"$dalil" keys init --key-file "$key" > /dev/null
head=$("$dalil" audit head --db "$db" | tr ' ' ':')
# Everything keys init changes or adds, row by row.
state() {
  sqlite3 "$db" "SELECT record_id, applicant_id, version, latest, content_hash, json, hex(sealed) FROM records ORDER BY record_id;
    SELECT run_id, record_id, applicant_id, decisions, trace, hex(sealed_decisions) FROM decision_sets ORDER BY run_id, record_id;
    SELECT applicant_id FROM applicants ORDER BY applicant_id;
    SELECT seq, hash FROM audit ORDER BY seq;
    SELECT 'keyring', count(*) FROM keyring; SELECT 'pseudonyms', count(*) FROM pseudonyms;
    SELECT 'data_keys', count(*) FROM data_keys" | sha256sum
}
before=$(state)
[ "$(sqlite3 "$db" "SELECT count(*) FROM records WHERE sealed IS NULL AND json != ''")" = 3000 ] ||
  fail "the plain store's records"

wal0=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
"$dalil" keys init --key-file "$key" --db "$db" > "$work/out" 2>&1 &
pid=$!
killed=0
for _ in $(seq 6000); do
  wal=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
  if [ "$wal" -gt $((wal0 + (8 << 20))) ]; then
    kill -9 "$pid" 2>/dev/null && killed=$wal
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
code=0; { wait "$pid"; } 2>/dev/null || code=$?
pid=""
if [ "$killed" = 0 ] || [ "$code" != 137 ]; then
  fail "keys init was not killed while it ran (exit $code, WAL $wal bytes): $(cat "$work/out")"
fi
[ "$(state)" = "$before" ] || fail "killed, keys init left the store changed"
[ "$(sqlite3 "$db" "SELECT (SELECT count(*) FROM keyring) || ' ' || (SELECT count(*) FROM records WHERE sealed IS NULL AND json != '')")" = "0 3000" ] ||
  fail "killed, keys init left a keyring or a sealed record"
"$dalil" audit verify --db "$db" --head "$head" > "$work/out" 2>&1 || fail "verify after the kill: $(cat "$work/out")"
[ "$("$dalil" audit head --db "$db" | tr ' ' ':')" = "$head" ] || fail "the kill left an entry"
echo "ok   killed with a WAL of $((killed >> 20)) MB: the store as it was, entirely plain, and it verifies"

"$dalil" keys init --key-file "$key" --db "$db" > "$work/out" 2>&1 || fail "keys init again: $(cat "$work/out")"
grep -q "encrypted under the master key" "$work/out" || fail "keys init again: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT (SELECT count(*) FROM keyring) || ' ' || (SELECT count(*) FROM records WHERE sealed IS NOT NULL AND json = '') || ' ' || (SELECT count(*) FROM decision_sets WHERE trace LIKE 'sealed1:%')")" = "1 3000 3000" ] ||
  fail "run again, keys init did not seal every record and trace"
none_found "$work/ids.txt" "applicant id(s)" "after the kill and the second run" "$db" "$db-wal"
"$dalil" audit verify --db "$db" --head "$head" > "$work/out" 2>&1 || fail "verify after the second run: $(cat "$work/out")"
grep -q "encrypted in place" "$work/out" || fail "verify: $(cat "$work/out")"
echo "ok   run again: every record and trace sealed, no applicant id in the file or its WAL, verify reaches the head taken before"
