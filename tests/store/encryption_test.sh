#!/usr/bin/env bash
# Encryption at rest (docs/operations.md): a cohort imported and decided in an encrypted store
# leaves no personal value in the store file's bytes, its WAL or its backup; its decisions are
# the same as a plain store's; verify needs no key; a missing or wrong key is refused; full
# traces are sealed; the keyring and data keys tampered with are named by verify.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
holder=
cleanup() { if [ -n "$holder" ]; then kill "$holder" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/lib.sh"
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
enc="$work/enc.db"; plain="$work/plain.db"; key="$work/master.key"
"$dalil" generate --count 3000 --seed 21 --out "$work/cohort.jsonl"
# Personal values of the cohort to look for: every id, and the first 300 applicants' birth dates,
# incomes and RSU scores (distinctive strings), less those the rule pack itself holds (the
# generator puts values at the rules' thresholds, which the stored ruleset holds in plain).
python3 - "$work/cohort.jsonl" "$rules" > "$work/values.txt" <<'PY'
import json, pathlib, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[2]).rglob("*.dalil"))
def emit(v):
    if v not in pack: print(v)
for i, line in enumerate(open(sys.argv[1])):
    r = json.loads(line)
    emit(r["id"])
    if i < 300:
        if r.get("birth_date"): emit('"' + r["birth_date"] + '"')
        h = r.get("household") or {}
        for k in ("annual_income", "rsu_score"):
            if h.get(k): emit(h[k])
PY
[ "$(wc -l < "$work/values.txt")" -gt 3300 ] || fail "too few values to look for"

"$dalil" keys init --key-file "$key" --db "$enc" > /dev/null
# A reader that keeps a connection open: the WAL stays beside the store (never checkpointed away).
python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM audit').fetchall(); time.sleep(120)" \
  "$enc" &
holder=$!
sleep 0.3
"$dalil" import --db "$enc" --key-file "$key" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$enc" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet > /dev/null
"$dalil" decisions --db "$enc" --key-file "$key" SYN-000042 > "$work/decisions.txt"
grep -q "decision 1:42" "$work/decisions.txt" || fail "decisions by id: $(cat "$work/decisions.txt")"
[ -s "$enc-wal" ] || fail "no WAL to look into"
"$dalil" backup --db "$enc" --out "$work/backup.db" > /dev/null
none_found "$work/values.txt" "personal value(s)" "" "$enc" "$enc-wal" "$work/backup.db"
# The same search finds them in a plain store (the search can fail).
"$dalil" import --db "$plain" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$plain" --rules "$rules" --as-of 2017-06-01 --quiet > /dev/null
hits=$(grep -a -F -o -f "$work/values.txt" "$plain" | sort -u | wc -l)
[ "$hits" -gt 3000 ] || fail "the search finds only $hits values in a plain store"
echo "ok   no personal value in the encrypted store, its WAL or its backup ($hits found in a plain one)"
kill "$holder"; holder=

# The same decisions as the plain store, record by record (whole, opened with the key).
# A run's decision sets whole, as `dalil export` gives them (with the key: values opened),
# "record|decisions" per line: a plain store's and an encrypted one's compare equal.
whole() {  # db run [key file]
  local k=(); [ -n "${3:-}" ] && k=(--key-file "$3")
  "$dalil" export --db "$1" "${k[@]}" --run "$2" | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(str(d["record"]) + "|" + json.dumps(d["decisions"]))'
}
[ "$(whole "$enc" 1 "$key" | sha256sum)" = "$(whole "$plain" 1 | sha256sum)" ] ||
  fail "the encrypted store decides differently"
"$dalil" audit verify --db "$enc" > /dev/null  # no key needed
"$dalil" restore --from "$work/backup.db" --db "$work/restored.db" > /dev/null
"$dalil" audit verify --db "$work/restored.db" > /dev/null
"$dalil" decisions --db "$work/restored.db" --key-file "$key" SYN-000042 | grep -q "decision 1:42" ||
  fail "the restored copy does not open with the key"
echo "ok   same decisions as a plain store; verify without the key; the backup restores and opens"

# Refusals.
expect_exit 3 "$dalil" import --db "$enc" --rules "$rules" "$work/cohort.jsonl"
grep -q "needs its master key" "$work/out" || fail "import without a key: $(cat "$work/out")"
"$dalil" keys init --key-file "$work/other.key" > /dev/null
expect_exit 3 "$dalil" decisions --db "$enc" --key-file "$work/other.key" SYN-000042
grep -q "not this store's" "$work/out" || fail "a wrong key: $(cat "$work/out")"
expect_exit 3 "$dalil" import --db "$plain" --key-file "$key" --rules "$rules" "$work/cohort.jsonl"
grep -q "is not encrypted" "$work/out" || fail "a key given to a plain store: $(cat "$work/out")"
DALIL_MASTER_KEY=$(cat "$key") "$dalil" decisions --db "$enc" SYN-000042 | grep -q "decision 1:42" ||
  fail "the environment key"
echo "ok   refusals: no key, wrong key, a key given to a plain store"

# Stored traces are sealed under each applicant's data key: no value in the file, replay opens them.
"$dalil" batch --db "$enc" --key-file "$key" --rules "$rules" --as-of 2018-01-01 --store-traces --quiet > /dev/null
run=$(sqlite3 "$enc" "SELECT max(run_id) FROM runs")
[ "$(sqlite3 "$enc" "SELECT count(*) FROM decision_sets WHERE run_id=$run AND trace NOT LIKE 'sealed1:%'")" -eq 0 ] ||
  fail "a trace stored in plain"
[ "$(sqlite3 "$enc" "SELECT count(*) FROM decision_sets WHERE run_id=$run")" -eq 3000 ] || fail "traces missing"
sqlite3 "$enc" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
none_found "$work/values.txt" "personal value(s)" "with stored traces" "$enc"
"$dalil" replay --db "$enc" --key-file "$key" "$run:42" > "$work/replay.out" || fail "replay: $(cat "$work/replay.out")"
grep -q "stored trace bytes: identical" "$work/replay.out" || fail "replay of a sealed trace: $(cat "$work/replay.out")"
expect_exit 3 "$dalil" replay --db "$enc" "$run:42"
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify with sealed traces"
echo "ok   --store-traces on an encrypted store: every trace sealed, no value in the file, replay opens them"

# Tampering with what encryption added, each named by verify (no key needed).
tamper() {  # name, SQL, expected words
  cp "$enc" "$work/t.db"
  sqlite3 "$work/t.db" "$2"
  local status=0
  out=$("$dalil" audit verify --db "$work/t.db" 2>&1) || status=$?
  [ "$status" -eq 1 ] && [[ "$out" == *"$3"* ]] || fail "tamper $1: exit $status: $out"
  echo "ok   tamper $1: $(echo "$out" | head -1)"
}
tamper data_key_deleted "DELETE FROM data_keys WHERE applicant_id=(SELECT applicant_id FROM records WHERE record_id=5)" "record 5: its applicant's data key was deleted"
tamper data_key_destroyed "UPDATE data_keys SET wrapped=NULL WHERE applicant_id=(SELECT applicant_id FROM records WHERE record_id=6)" "record 6: its applicant's data key was destroyed"
tamper keyring_changed "UPDATE keyring SET key_check='00'" "keyring"
tamper keyring_deleted "DELETE FROM keyring" "keyring was deleted"
tamper pseudonym_deleted "DELETE FROM pseudonyms WHERE applicant_id='p0000000009'" "with sealed records and no pseudonym, never erased"
tamper pseudonym_inserted "INSERT INTO pseudonyms VALUES('00', 'p9999999999')" "pseudonym(s) of no applicant"
tamper sealed_changed "UPDATE records SET sealed=randomblob(200) WHERE record_id=7" "record 7"
tamper sealed_to_plain "UPDATE records SET sealed=NULL, json='{}' WHERE record_id=8" "record 8"
# A wrapped key swapped for another applicant's is caught when the record is opened.
cp "$enc" "$work/swap.db"
sqlite3 "$work/swap.db" "UPDATE data_keys SET wrapped=(SELECT wrapped FROM data_keys k JOIN records r ON r.applicant_id=k.applicant_id WHERE r.record_id=1) WHERE applicant_id=(SELECT applicant_id FROM records WHERE record_id=2)"
expect_exit 1 "$dalil" replay --db "$work/swap.db" --key-file "$key" 1:2
grep -q "does not open with the master key" "$work/out" || fail "a swapped key: $(cat "$work/out")"
echo "ok   a data key swapped between applicants does not open"
