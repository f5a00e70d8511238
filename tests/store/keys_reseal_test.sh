#!/usr/bin/env bash
# dalil keys reseal (docs/operations.md, "Moving a store to format 2"): a store whose data keys
# are of format 1 (XChaCha20-Poly1305, 72 bytes wrapped), made through the CLI with the test hook
# DALIL_TEST_PORTABLE_GCM=1 (dalil behaves as on a processor without AES-NI: the fallback, new
# keys of format 1), holding corrected records (two versions), stored traces, sealed decision
# values and an erased applicant, is moved to format 2 (61 bytes wrapped): every record, set and
# trace reads as before (export, replay, a new batch), the erased applicant stays erased (its
# ciphertext untouched, no key), verify passes with the head taken before, and a run killed in
# the middle of a transaction (DALIL_TEST_RESEAL_KILL_AT) leaves every applicant readable under
# one key and completes when run again, the file then compacted. Then the fallback end to end:
# with the hook, a store of format-2 keys is read and written through OpenSSL. Exit 77 (skipped)
# when the build has no test hooks (DALIL_TEST_HOOKS off).
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset DALIL_MASTER_KEY DALIL_TEST_PORTABLE_GCM DALIL_TEST_RESEAL_KILL_AT
db="$work/store.db"; key="$work/master.key"
# A pack that seals values: the household's monthly income (money) and the nationality (text)
# explained, so that decision sets carry sealed values (as tests/store/fixtures do).
cp -r "$rules" "$work/rules"
python3 - "$work/rules/housing.dalil" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
a = "rule monthly_income : money\n"
assert a in s
s = s.replace(a, a + """  title fr "Revenu mensuel du ménage" ar "الدخل الشهري للأسرة" en "Monthly household income"
  explain fr "Revenu mensuel du ménage : {value}." ar "الدخل الشهري للأسرة: {value}."
          en "Monthly household income: {value}."
""")
s += """
rule nationality_code : text
  title fr "Nationalité" ar "الجنسية" en "Nationality"
  explain fr "Nationalité : {value}." ar "الجنسية: {value}." en "Nationality: {value}."
  source "test: the applicant's nationality, a text"
  = applicant.nationality
"""
open(p, "w", encoding="utf-8").write(s)
PY
pack="$work/rules"
lengths() { sqlite3 "$db" "SELECT l || ':' || count(*) FROM (SELECT coalesce(length(wrapped), 0) AS l FROM data_keys) GROUP BY l ORDER BY l" | tr '\n' ' '; }

# A store of format 1, through the CLI: the fallback where libsodium has no AES-256-GCM.
"$dalil" generate --count 120 --seed 4242 --out "$work/cohort.jsonl" > /dev/null
head -n 15 "$work/cohort.jsonl" | python3 -c 'import decimal, json, sys
for line in sys.stdin:
    r = json.loads(line)
    r["household"]["annual_income"] = str(decimal.Decimal(r["household"]["annual_income"]) + 1200)
    print(json.dumps(r, ensure_ascii=False))' > "$work/corrections.jsonl"
export DALIL_TEST_PORTABLE_GCM=1
"$dalil" keys init --key-file "$key" --db "$db" > /dev/null
"$dalil" import --db "$db" --key-file "$key" --rules "$pack" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$db" --key-file "$key" --rules "$pack" --as-of 2019-06-01 --quiet \
  --store-traces > /dev/null
"$dalil" import --db "$db" --key-file "$key" --rules "$pack" --reason "income corrected" \
  --by clerk "$work/corrections.jsonl" > /dev/null
"$dalil" batch --db "$db" --key-file "$key" --rules "$pack" --as-of 2020-06-01 --quiet \
  --store-traces > /dev/null
unset DALIL_TEST_PORTABLE_GCM
if [ "$(lengths)" != "72:120 " ]; then
  grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && [ "$(lengths)" = "61:120 " ] &&
    { echo "skip: this build has no test hooks (DALIL_TEST_HOOKS)"; exit 77; }
  fail "the store's data keys are not of format 1: $(lengths)"
fi
[ "$(sqlite3 "$db" "SELECT count(*) FROM records WHERE version=2")" -eq 15 ] || fail "no corrections"
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NOT NULL AND trace GLOB 'sealed1:*'")" -eq 240 ] ||
  fail "the decision sets do not carry sealed values and traces"
"$dalil" audit verify --db "$db" > "$work/out" 2>&1 || fail "verify of the format-1 store: $(cat "$work/out")"
echo "ok   a store of format 1 made through the CLI (DALIL_TEST_PORTABLE_GCM=1): 120 keys of 72 bytes, import, corrections, batch with traces, verify"

# An erased applicant, before re-sealing.
"$dalil" erase SYN-000009 --db "$db" --key-file "$key" --reason "art. 8 request" --by dpo > /dev/null
erased=$(sqlite3 "$db" "SELECT applicant_id FROM records WHERE record_id=9")
sqlite3 "$db" "SELECT hex(sealed) FROM records WHERE applicant_id='$erased' ORDER BY record_id" > "$work/erased.before"

# What the store reads before: every run's sets whole (export with the key), replays.
whole() { for run in 1 2; do "$dalil" export --db "$db" --key-file "$key" --run "$run"; done; }
whole > "$work/whole.before"
[ "$(grep -c . "$work/whole.before")" -eq 240 ] || fail "export before: $(wc -l < "$work/whole.before") sets"
grep -q '"rule":"housing.monthly_income","status":"decided","value":"[0-9]' "$work/whole.before" || fail "export shows no amount"
cp "$db" "$work/before.db"
head_before=$("$dalil" audit head --db "$db" | awk '{print $1 ":" $2}')

# Killed in the middle of its third transaction (10 applicants each, killed at the 25th).
code=0
DALIL_TEST_RESEAL_KILL_AT=25 "$dalil" keys reseal --db "$db" --key-file "$key" --per-transaction 10 \
  > "$work/out" 2>&1 || code=$?
[ "$code" -eq 137 ] || fail "the killed reseal exited $code: $(cat "$work/out")"
[ "$(lengths)" = "0:1 61:20 72:99 " ] || fail "after the kill, keys by length: $(lengths)"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='keys_reseal'")" -eq 2 ] ||
  fail "two transactions committed, not $(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='keys_reseal'") keys_reseal entries"
"$dalil" audit verify --db "$db" --head "$head_before" > "$work/out" 2>&1 ||
  fail "verify after the kill: $(cat "$work/out")"
whole > "$work/whole.killed"
cmp -s "$work/whole.before" "$work/whole.killed" || fail "the sets read differently after the kill"
for set in 1:1 2:121 2:130 1:30 2:60; do
  "$dalil" replay --db "$db" --key-file "$key" "$set" > "$work/out" 2>&1 || fail "replay $set after the kill: $(cat "$work/out")"
  grep -q "stored trace bytes: identical" "$work/out" || fail "replay $set: $(cat "$work/out")"
done
echo "ok   killed mid-transaction: 20 keys moved (2 transactions), the rest of format 1; verify with the head taken before; every set reads as before"

"$dalil" keys reseal --db "$db" --key-file "$key" --per-transaction 40 > "$work/out" 2>&1 ||
  fail "reseal after the kill: $(cat "$work/out")"
grep -q "^.*: 99 applicant(s) moved to a new data key of format 2 (AES-256-GCM) in 3 transaction(s)" "$work/out" ||
  fail "reseal says: $(cat "$work/out")"
grep -q "1 erased applicant(s) left erased" "$work/out" || fail "reseal says: $(cat "$work/out")"
[ "$(lengths)" = "0:1 61:119 " ] || fail "after the reseal, keys by length: $(lengths)"
# Nothing of format 1 left: the file is compacted (VACUUM of a copy takes out no more pages).
cp "$db" "$work/compact.db"
sqlite3 "$work/compact.db" "VACUUM"
pages=$(sqlite3 "$db" "PRAGMA page_count"); compact=$(sqlite3 "$work/compact.db" "PRAGMA page_count")
[ "$pages" -eq "$compact" ] || fail "the resealed store has $pages pages, $compact once compacted"
"$dalil" audit verify --db "$db" --head "$head_before" > "$work/out" 2>&1 ||
  fail "verify after the reseal: $(cat "$work/out")"
grep -q "1 applicant(s) erased" "$work/out" || fail "verify: $(cat "$work/out")"
whole > "$work/whole.after"
cmp -s "$work/whole.before" "$work/whole.after" || fail "the sets read differently after the reseal"
for set in 1:1 1:57 2:16 2:121 2:135 2:60; do
  "$dalil" replay --db "$db" --key-file "$key" "$set" > "$work/out" 2>&1 || fail "replay $set: $(cat "$work/out")"
  grep -q "stored trace bytes: identical" "$work/out" || fail "replay $set: $(cat "$work/out")"
done
# Every latest record: a new batch decides as on the copy taken before.
for d in "$db" "$work/before.db"; do
  "$dalil" batch --db "$d" --key-file "$key" --rules "$pack" --as-of 2021-06-01 --quiet > /dev/null
  "$dalil" export --db "$d" --key-file "$key" --run 3 | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(d["record"], json.dumps(d["decisions"]))' > "$d.run3"
done
[ "$(wc -l < "$db.run3")" -eq 119 ] || fail "the new batch decided $(wc -l < "$db.run3") applicants"
cmp -s "$db.run3" "$work/before.db.run3" || fail "a new batch decides differently after the reseal"
echo "ok   reseal run again: 119 keys of 61 bytes, the file compacted; verify with the head taken before; export, replays (records of both versions, traces) and a new batch as before"

# The erased applicant stays erased: no key, no pseudonym, its ciphertext untouched (never
# re-sealed), and nothing of it reads.
[ "$(sqlite3 "$db" "SELECT wrapped IS NULL FROM data_keys WHERE applicant_id='$erased'")" = 1 ] ||
  fail "the erased applicant has a data key again"
[ "$(sqlite3 "$db" "SELECT count(*) FROM pseudonyms WHERE applicant_id='$erased'")" -eq 0 ] ||
  fail "the erased applicant has a pseudonym again"
sqlite3 "$db" "SELECT hex(sealed) FROM records WHERE applicant_id='$erased' ORDER BY record_id" > "$work/erased.after"
cmp -s "$work/erased.before" "$work/erased.after" || fail "the erased applicant's records were rewritten"
code=0; "$dalil" replay --db "$db" --key-file "$key" 1:9 > "$work/out" 2>&1 || code=$?
[ "$code" -ne 0 ] && grep -q "erased" "$work/out" || fail "replay of the erased applicant: exit $code: $(cat "$work/out")"
code=0; "$dalil" decisions --db "$db" --key-file "$key" SYN-000009 > "$work/out" 2>&1 || code=$?
[ "$code" -ne 0 ] || fail "the erased applicant's decisions read: $(cat "$work/out")"
echo "ok   the erased applicant stays erased: no key, no pseudonym, its ciphertext unchanged, nothing reads"

"$dalil" keys reseal --db "$db" --key-file "$key" > "$work/out" 2>&1 || fail "reseal again: $(cat "$work/out")"
grep -q "nothing changed" "$work/out" || fail "reseal again: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='keys_reseal'")" -eq 5 ] ||
  fail "a reseal with nothing to do wrote an entry"
# Refusals: without the key (3), on a plain store (3), while a batch holds the lease (4).
code=0; "$dalil" keys reseal --db "$db" > "$work/out" 2>&1 || code=$?
[ "$code" -eq 3 ] || fail "reseal without the key exited $code: $(cat "$work/out")"
"$dalil" import --db "$work/plain.db" --rules "$rules" "$work/corrections.jsonl" > /dev/null
code=0; "$dalil" keys reseal --db "$work/plain.db" > "$work/out" 2>&1 || code=$?
[ "$code" -eq 3 ] || fail "reseal of a plain store exited $code: $(cat "$work/out")"
cp "$work/before.db" "$work/leased.db"
sqlite3 "$work/leased.db" "INSERT OR REPLACE INTO lease(name, token, run_id, pid, host, since, expires, machine) VALUES('writer', 't', 3, 1, 'elsewhere', 'now', strftime('%s','now') + 600, 'machine-id:other')"
code=0; "$dalil" keys reseal --db "$work/leased.db" --key-file "$key" > "$work/out" 2>&1 || code=$?
[ "$code" -eq 4 ] || fail "reseal under a batch's lease exited $code: $(cat "$work/out")"
echo "ok   nothing left to re-seal: nothing changed, no entry; refused without the key, on a plain store, and while a batch holds the lease"

# A re-sealed record or set changed afterwards is named by verify.
for t in "records:UPDATE records SET sealed = CAST(sealed || x'00' AS BLOB) WHERE record_id=40:record 40" \
  "decision_set:UPDATE decision_sets SET sealed_decisions = CAST(sealed_decisions || x'00' AS BLOB) WHERE run_id=2 AND record_id=122:decision set 2:122"; do
  sql=$(echo "$t" | cut -d: -f2); want=$(echo "$t" | cut -d: -f3-)
  cp "$db" "$work/t.db"
  sqlite3 "$work/t.db" "$sql"
  code=0; "$dalil" audit verify --db "$work/t.db" > "$work/out" 2>&1 || code=$?
  [ "$code" -eq 1 ] && grep -q "$want" "$work/out" || fail "tamper ($sql): exit $code: $(cat "$work/out")"
done
echo "ok   a re-sealed record or decision set changed afterwards: verify names it"

# The fallback end to end (DALIL_TEST_PORTABLE_GCM=1, as on a processor without AES-NI): the
# store of format-2 keys is read and written through OpenSSL's AES-256-GCM; a new applicant gets
# a key of format 1 (three new ids, and the erased id imported again: a new applicant); a reseal
# there moves them to format 2 through OpenSSL too.
export DALIL_TEST_PORTABLE_GCM=1
whole > "$work/whole.portable"
cmp -s "$work/whole.before" "$work/whole.portable" || fail "the sets read differently through OpenSSL"
"$dalil" replay --db "$db" --key-file "$key" 2:121 > "$work/out" 2>&1 || fail "replay through OpenSSL: $(cat "$work/out")"
"$dalil" generate --count 3 --seed 77 --out "$work/new.jsonl" > /dev/null
sed 's/"SYN-/"NEW-/' "$work/new.jsonl" > "$work/new2.jsonl"
"$dalil" import --db "$db" --key-file "$key" --rules "$pack" "$work/new2.jsonl" > /dev/null
"$dalil" import --db "$db" --key-file "$key" --rules "$pack" --reason "again" --by clerk \
  "$work/corrections.jsonl" > /dev/null
[ "$(lengths)" = "0:1 61:119 72:4 " ] || fail "new applicants under the fallback: $(lengths)"
"$dalil" batch --db "$db" --key-file "$key" --rules "$pack" --as-of 2022-06-01 --quiet --store-traces > /dev/null
"$dalil" keys reseal --db "$db" --key-file "$key" > "$work/out" 2>&1 || fail "reseal under the fallback: $(cat "$work/out")"
[ "$(lengths)" = "0:1 61:123 " ] || fail "after the reseal under the fallback: $(lengths)"
"$dalil" export --db "$db" --key-file "$key" --run 4 > "$work/run4.portable"
unset DALIL_TEST_PORTABLE_GCM
"$dalil" export --db "$db" --key-file "$key" --run 4 > "$work/run4.native"
[ "$(wc -l < "$work/run4.native")" -eq 123 ] || fail "run 4 has $(wc -l < "$work/run4.native") sets"
cmp -s "$work/run4.portable" "$work/run4.native" || fail "OpenSSL and libsodium read run 4 differently"
"$dalil" replay --db "$db" --key-file "$key" 4:"$(sqlite3 "$db" "SELECT max(record_id) FROM decision_sets WHERE run_id=4")" > "$work/out" 2>&1 ||
  fail "replay of a set written through OpenSSL: $(cat "$work/out")"
"$dalil" audit verify --db "$db" --head "$head_before" > "$work/out" 2>&1 || fail "verify at the end: $(cat "$work/out")"
echo "ok   the fallback end to end: format 2 read and written through OpenSSL, new keys of format 1, resealed there; libsodium reads the same"
