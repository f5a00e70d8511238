#!/usr/bin/env bash
# Erasure by crypto-shredding (docs/operations.md): `dalil erase` destroys one applicant's data
# key and unlinks their id, audited; verify passes and counts the erased applicant; stats still
# counts their decisions; their record cannot be read with the master key, and the destroyed key's
# bytes are nowhere in the store file or its WAL; later batches skip them.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
db="$work/enc.db"; key="$work/master.key"
"$dalil" generate --count 500 --seed 3 --out "$work/cohort.jsonl"
"$dalil" keys init --key-file "$key" --db "$db" > /dev/null
"$dalil" import --db "$db" --key-file "$key" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet > /dev/null
"$dalil" stats --db "$db" > "$work/stats.before"
"$dalil" decisions --db "$db" --key-file "$key" SYN-000042 | grep -q "decision 1:42" ||
  fail "no decision before the erasure"
who=$(sqlite3 "$db" "SELECT applicant_id FROM records WHERE record_id=42")
wrapped=$(sqlite3 "$db" "SELECT hex(wrapped) FROM data_keys WHERE applicant_id='$who'")
# 72 bytes (format 1, XChaCha20-Poly1305) or 61 (format 2, AES-256-GCM, where the processor has it)
[ ${#wrapped} -eq 144 ] || [ ${#wrapped} -eq 122 ] || fail "no wrapped data key to erase"

expect_exit 3 "$dalil" erase SYN-000042 --db "$db" --reason "art. 8 request" --by dpo
grep -q "needs its master key" "$work/out" || fail "erase without a key: $(cat "$work/out")"
"$dalil" erase SYN-000042 --db "$db" --key-file "$key" --reason "Law 09-08 art. 8 request 17" \
  --by "dpo:amina" > "$work/erase.out"
grep -q "1 record(s) can no longer be read" "$work/erase.out" || fail "$(cat "$work/erase.out")"
expect_exit 1 "$dalil" erase SYN-000042 --db "$db" --key-file "$key" --reason again --by dpo
grep -q "no such applicant" "$work/out" || fail "a second erasure: $(cat "$work/out")"

# Verify passes, naming the erasure; the audit entry names who and why, and the pseudonym only.
"$dalil" audit verify --db "$db" > "$work/verify.out"
grep -q "1 applicant(s) erased" "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
entry=$(sqlite3 "$db" "SELECT actor || '|' || subject || '|' || details FROM audit WHERE action='erase'")
[[ "$entry" == "dpo:amina|$who|"*"art. 8 request 17"* ]] || fail "the erase entry: $entry"
sqlite3 "$db" "SELECT count(*) FROM audit WHERE subject LIKE '%SYN-%' OR details LIKE '%SYN-%'" |
  grep -qx 0 || fail "an audit entry names an applicant id"
# Stats still counts their decisions.
"$dalil" stats --db "$db" > "$work/stats.after"
diff "$work/stats.before" "$work/stats.after" > /dev/null || fail "stats changed with the erasure"
echo "ok   erase: audited (who, why), verify passes and counts 1 erased, stats unchanged"

# Nothing to read, with the master key: not by id, not by record, not the key's bytes.
expect_exit 1 "$dalil" decisions --db "$db" --key-file "$key" SYN-000042
grep -q "no decision" "$work/out" || fail "decisions after erasure: $(cat "$work/out")"
expect_exit 3 "$dalil" replay --db "$db" --key-file "$key" 1:42
grep -q "erased" "$work/out" || fail "replay after erasure: $(cat "$work/out")"
[ -z "$(sqlite3 "$db" "SELECT wrapped FROM data_keys WHERE applicant_id='$who'")" ] ||
  fail "the wrapped key is still in its row"
for f in "$db" "$db-wal"; do
  [ -e "$f" ] || continue
  python3 -c "import sys; sys.exit(bytes.fromhex(sys.argv[1]) in open(sys.argv[2], 'rb').read())" \
    "$wrapped" "$f" || fail "the destroyed key's bytes are still in $(basename "$f")"
done
echo "ok   erased: no read by id or by record, the key's bytes gone from the file and its WAL"

# A later batch decides everyone else and skips them; verify still passes.
"$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2018-06-01 --quiet > /dev/null
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE run_id=2")" -eq 499 ] ||
  fail "the second run does not decide the 499 others"
"$dalil" audit verify --db "$db" > /dev/null
# Erasure needs an encrypted store.
"$dalil" import --db "$work/plain.db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
expect_exit 3 "$dalil" erase SYN-000042 --db "$work/plain.db" --reason x --by dpo
echo "ok   later batches skip the erased applicant; a plain store refuses erasure"

# Key rotation: every data key re-wrapped (the erased one stays destroyed), the records not
# re-encrypted; the old key refused, every record readable with the new one; verify passes.
records_before=$(sqlite3 "$db" "SELECT record_id, hex(sealed) FROM records ORDER BY record_id" | sha256sum)
"$dalil" keys rotate --db "$db" --key-file "$key" --new-key-file "$work/next.key" > "$work/rotate.out"
grep -q "499 data key(s) re-wrapped" "$work/rotate.out" || fail "rotate: $(cat "$work/rotate.out")"
[ "$(sqlite3 "$db" "SELECT record_id, hex(sealed) FROM records ORDER BY record_id" | sha256sum)" = "$records_before" ] ||
  fail "rotation re-encrypted the records"
[ -z "$(sqlite3 "$db" "SELECT wrapped FROM data_keys WHERE applicant_id='$who'")" ] ||
  fail "rotation brought an erased key back"
expect_exit 3 "$dalil" decisions --db "$db" --key-file "$key" SYN-000043
grep -q "not this store's" "$work/out" || fail "the old key after rotation: $(cat "$work/out")"
"$dalil" batch --db "$db" --key-file "$work/next.key" --rules "$rules" --as-of 2019-06-01 --quiet > /dev/null
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE run_id=3")" -eq 499 ] ||
  fail "after rotation not every record opens"
"$dalil" decisions --db "$db" --key-file "$work/next.key" SYN-000043 | grep -q "decision 3:43" ||
  fail "decisions by id after rotation"
"$dalil" audit verify --db "$db" > /dev/null
expect_exit 3 "$dalil" keys rotate --db "$db" --key-file "$work/next.key" --new-key-file "$work/next.key"
echo "ok   keys rotate: 499 data keys re-wrapped, records untouched, old key refused, all readable"

# The erased id imported again is a new applicant with a new pseudonym (never a pseudonym given
# before: the erased one's is unlinked, not free), and verify still passes.
grep '"id":"SYN-000042"' "$work/cohort.jsonl" > "$work/again.jsonl"
"$dalil" import --db "$db" --key-file "$work/next.key" --rules "$rules" "$work/again.jsonl" > "$work/out" 2>&1 ||
  fail "importing an erased id again: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT applicant_id FROM records ORDER BY record_id DESC LIMIT 1")" = p0000000501 ] ||
  fail "the erased id imported again is not a new applicant"
"$dalil" decisions --db "$db" --key-file "$work/next.key" SYN-000042 > /dev/null 2>&1 &&
  fail "the new applicant has the erased one's decisions"
"$dalil" audit verify --db "$db" > /dev/null
echo "ok   the erased id imported again: a new pseudonym, no link to the erased decisions"
