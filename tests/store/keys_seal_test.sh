#!/usr/bin/env bash
# dalil keys seal (docs/operations.md, "Encryption at rest"): an encrypted store whose decision
# sets an older dalil left with values in plain (fixtures/make-store-sealed-v9.sh: run 1 written
# before schema 10, every value in plain; run 2 sealed by the values' shape, a nationality code
# such as "ng" kept in plain) gets them sealed in place by the rules' declared types: no monthly
# income or nationality left in plain, verify passes (a keys_seal entry, then entries vouching
# for the sets again), the sets read whole with the key as before, a second run changes nothing,
# and verify still names a damaged set by run and record. Then the fixture's keys (format 1,
# XChaCha20-Poly1305) beside new applicants' (format 2, AES-256-GCM, where the processor has it),
# and keys seal on a copy where an applicant was erased first: their values in plain are dropped,
# never sealed again nor left anywhere in the file; they stay erased; verify passes.
set -euo pipefail
dalil="$1"; fixtures="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/lib.sh"
unset DALIL_MASTER_KEY
db="$work/store.db"; key="$work/master.key"
cp "$fixtures/store-sealed-v9.db" "$db"
cp "$fixtures/store-sealed-v9.key" "$key"
chmod 600 "$key"
# A run's decision sets whole, as export gives them: "record|rule|value" per decision.
whole() {  # run
  "$dalil" export --db "$db" --key-file "$key" --run "$1" | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    for e in d["decisions"]:
        print(str(d["record"]) + "|" + e["rule"] + "|" + json.dumps(e["value"]))'
}
# The values of the money and text rules each set keeps in plain in the file: "run|record|value".
plain_values() {
  python3 - "$db" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
names = {}
for run, in c.execute("SELECT run_id FROM runs"):
    names[run] = None
for run, record, text in c.execute("SELECT run_id, record_id, decisions FROM decision_sets"):
    for v in json.loads(text):
        value = v[1]
        if value is None or isinstance(value, bool) or value == "sealed":
            continue
        if isinstance(value, str) and (value[:1].isdigit() or len(value) == 2):
            print(f"{run}|{record}|{value}")  # an amount or a nationality code
PY
}
"$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "the fixture does not verify: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE run_id=1 AND sealed_decisions IS NULL")" -eq 40 ] ||
  fail "the fixture's run 1 is not of schema 9"
plain_values > "$work/before.txt"
grep -q '^1|.*|[0-9]' "$work/before.txt" || fail "no amount in plain in run 1 of the fixture"
grep -q '^2|.*|[a-z][a-z]$' "$work/before.txt" || fail "no nationality in plain in run 2 of the fixture"
whole 1 > "$work/run1.before"; whole 2 > "$work/run2.before"
grep -q 'nationality_code|"[a-z][a-z]"' "$work/run2.before" || fail "export shows no nationality"

# Without the key: refused, nothing changed.
cp "$db" "$work/copy.db"
code=0; "$dalil" keys seal --db "$db" > "$work/out" 2>&1 || code=$?
[ "$code" -eq 3 ] || fail "keys seal without the key exited $code: $(cat "$work/out")"
cmp -s "$db" "$work/copy.db" || fail "keys seal without the key changed the store"

"$dalil" keys seal --db "$db" --key-file "$key" > "$work/out" 2>&1 || fail "keys seal: $(cat "$work/out")"
grep -q "decision set(s) and counter decision(s) sealed in place" "$work/out" || fail "keys seal says: $(cat "$work/out")"
plain_values > "$work/after.txt"
[ ! -s "$work/after.txt" ] || fail "values left in plain: $(head -3 "$work/after.txt")"
# Nor in the file's bytes (amounts: long enough not to be found by chance).
cut -d'|' -f3 "$work/before.txt" | grep -E '^[0-9./]{6,}$' | sort -u | sed 's/.*/"&"/' > "$work/amounts.txt"
[ -s "$work/amounts.txt" ] || fail "no amount to look for"
none_found "$work/amounts.txt" "amount(s)" "" "$db" "$db-wal"
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NULL")" -eq 0 ] ||
  fail "a decision set was left without sealed values"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='keys_seal'")" -eq 1 ] ||
  fail "no keys_seal audit entry"
"$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "verify after keys seal: $(cat "$work/out")"
whole 1 > "$work/run1.after"; whole 2 > "$work/run2.after"
cmp -s "$work/run1.before" "$work/run1.after" || fail "run 1 reads differently after sealing"
cmp -s "$work/run2.before" "$work/run2.after" || fail "run 2 reads differently after sealing"
"$dalil" stats --db "$db" > "$work/out" 2>&1 || fail "stats after sealing: $(cat "$work/out")"
echo "ok   $(wc -l < "$work/before.txt") values in plain sealed in place: none left in the file; verify; export unchanged"

"$dalil" keys seal --db "$db" --key-file "$key" > "$work/out" 2>&1 || fail "keys seal again: $(cat "$work/out")"
grep -q "nothing changed" "$work/out" || fail "keys seal again: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='keys_seal'")" -eq 1 ] ||
  fail "a second keys seal wrote an entry"
echo "ok   a second keys seal changes nothing"

# A damaged set is named by run and record.
for sql in "UPDATE decision_sets SET sealed_decisions=randomblob(60) WHERE run_id=1 AND record_id=7" \
  "UPDATE decision_sets SET decisions=replace(decisions, '\"sealed\"', 'null') WHERE run_id=1 AND record_id=7"; do
  cp "$db" "$work/t.db"
  sqlite3 "$work/t.db" "$sql"
  code=0; out=$("$dalil" audit verify --db "$work/t.db" 2>&1) || code=$?
  [ "$code" -eq 1 ] && [[ "$out" == *"decision set 1:7"* ]] || fail "tamper ($sql): exit $code: $out"
done
echo "ok   a damaged set after sealing: verify names decision set 1:7"

# The fixture's data keys are of format 1 (XChaCha20-Poly1305, 72 bytes wrapped). Importing into
# it: a known applicant's new record version is sealed under its format-1 key, a new applicant
# gets a format-2 key (AES-256-GCM, 61 bytes) where the processor offers it; both read alike.
rules="$fixtures/../../../rules"
"$dalil" generate --count 45 --seed 1313 --out "$work/more.jsonl" > /dev/null
"$dalil" import --db "$db" --key-file "$key" --rules "$rules" "$work/more.jsonl" > "$work/out" 2>&1 ||
  fail "import into the fixture: $(cat "$work/out")"
new_len=72
grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && new_len=61
[ "$(sqlite3 "$db" "SELECT group_concat(length(wrapped)) FROM (SELECT wrapped FROM data_keys ORDER BY applicant_id LIMIT 40)" | tr ',' '\n' | sort -u)" = 72 ] ||
  fail "the fixture's data keys changed format"
[ "$(sqlite3 "$db" "SELECT count(*) FROM data_keys WHERE length(wrapped)=$new_len")" -ge 5 ] ||
  fail "the new applicants' keys are not of the expected format ($new_len bytes wrapped)"
"$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2021-06-01 --quiet > "$work/out" 2>&1 ||
  fail "batch over keys of both formats: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE run_id=(SELECT max(run_id) FROM runs)")" -eq 45 ] ||
  fail "the batch did not decide every applicant"
for who in SYN-000007 SYN-000044; do
  "$dalil" decisions --db "$db" --key-file "$key" "$who" > "$work/out" 2>&1 ||
    fail "decisions of $who: $(cat "$work/out")"
done
"$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "verify over both formats: $(cat "$work/out")"
echo "ok   keys of format 1 (the fixture's) and of format 2 ($new_len bytes) in one store: import, batch, decisions, verify"

# An applicant erased before sealing (keys seal's erased branch): their data key is gone, so the
# values an older dalil left in plain in their sets are dropped (they read "sealed"), counted in
# the keys_seal entry, found nowhere in the file; nothing of theirs is sealed again, and they stay
# erased (no key, no pseudonym); verify passes and counts them erased.
edb="$work/erased.db"
cp "$fixtures/store-sealed-v9.db" "$edb"
who=$(sqlite3 "$edb" "SELECT applicant_id FROM records WHERE record_id=12")
their_values() {  # the values in plain in the erased applicant's sets: "run|value"
  python3 - "$edb" "$who" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for run, text in c.execute("SELECT run_id, decisions FROM decision_sets WHERE applicant_id=?", (sys.argv[2],)):
    for v in json.loads(text):
        value = v[1]
        if isinstance(value, str) and value != "sealed" and (value[:1].isdigit() or len(value) == 2):
            print(f"{run}|{value}")
PY
}
their_values > "$work/theirs.before"
grep -q '^1|[0-9]' "$work/theirs.before" && grep -q '^2|[a-z][a-z]$' "$work/theirs.before" ||
  fail "the applicant to erase has no amount in run 1 or no nationality in run 2: $(cat "$work/theirs.before")"
"$dalil" erase SYN-000012 --db "$edb" --key-file "$key" --reason "art. 8 request" --by dpo > /dev/null
[ "$(sqlite3 "$edb" "SELECT wrapped IS NULL FROM data_keys WHERE applicant_id='$who'")" = 1 ] ||
  fail "SYN-000012 is not the applicant of record 12"
"$dalil" keys seal --db "$edb" --key-file "$key" > "$work/out" 2>&1 || fail "keys seal after an erasure: $(cat "$work/out")"
[ "$(sqlite3 "$edb" "SELECT json_extract(details, '$.erased') FROM audit WHERE action='keys_seal'")" = 2 ] ||
  fail "the keys_seal entry does not count the erased applicant's 2 sets: $(sqlite3 "$edb" "SELECT details FROM audit WHERE action='keys_seal'")"
their_values > "$work/theirs.after"
[ ! -s "$work/theirs.after" ] || fail "the erased applicant's values left in plain: $(cat "$work/theirs.after")"
[ "$(sqlite3 "$edb" "SELECT count(*) FROM decision_sets WHERE applicant_id='$who' AND sealed_decisions IS NOT NULL")" -eq 0 ] ||
  fail "the erased applicant's values were sealed again (under what key?)"
[ "$(sqlite3 "$edb" "SELECT count(*) FROM decision_sets WHERE applicant_id!='$who' AND sealed_decisions IS NULL")" -eq 0 ] ||
  fail "another applicant's set was left without sealed values"
grep '^1|' "$work/theirs.before" | cut -d'|' -f2 | grep -E '^[0-9./]{6,}$' | sort -u | sed 's/.*/"&"/' > "$work/their-amounts.txt"
[ -s "$work/their-amounts.txt" ] || fail "no amount of the erased applicant to look for"
none_found "$work/their-amounts.txt" "amount(s) of the erased applicant" "" "$edb" "$edb-wal"
[ "$(sqlite3 "$edb" "SELECT count(*) FROM pseudonyms WHERE applicant_id='$who'")" -eq 0 ] &&
  [ "$(sqlite3 "$edb" "SELECT wrapped IS NULL FROM data_keys WHERE applicant_id='$who'")" = 1 ] ||
  fail "the erased applicant has a pseudonym or a key again"
"$dalil" audit verify --db "$edb" > "$work/out" 2>&1 || fail "verify after sealing with an erasure: $(cat "$work/out")"
grep -q "1 applicant(s) erased" "$work/out" || fail "verify: $(cat "$work/out")"
code=0; "$dalil" replay --db "$edb" --key-file "$key" 1:12 > "$work/out" 2>&1 || code=$?
[ "$code" -ne 0 ] && grep -q "erased" "$work/out" || fail "replay of the erased applicant: exit $code: $(cat "$work/out")"
"$dalil" export --db "$edb" --key-file "$key" --run 1 2> /dev/null | python3 -c 'import json, sys
values = []
for line in sys.stdin:
    d = json.loads(line)
    if d["record"] == 12:
        values += [e["value"] for e in d["decisions"] if isinstance(e["value"], str) and e["value"][:1].isdigit()]
sys.exit(1 if values else 0)' || fail "export shows an amount of the erased applicant"
echo "ok   keys seal after an erasure: the erased applicant's $(wc -l < "$work/theirs.before") values in plain dropped (counted: 2 sets), none in the file, none sealed again; still erased; verify"
