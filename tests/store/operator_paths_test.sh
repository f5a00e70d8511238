#!/usr/bin/env bash
# An operator's data path. Where an export may be written: never over the store (its file, its
# WAL), over another file only with --force, created readable by its owner only; a CSV cell a
# spreadsheet would compute (an applicant id such as =1+2) starts with an apostrophe, a plain
# number does not; cohort.CSV is CSV; an id with a control character is rejected, never shown; a
# file repeating an id says so; a batch whose records no longer fit the schema says how many, and
# an applicant's decisions which field and why.
set -euo pipefail
dalil="$(realpath "$1")"; rules="$(realpath "$2")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
sample="$rules/../data/sample-cohort.csv"
{
  head -1 "$sample"
  sed -n 2p "$sample" | sed 's/^[^,]*,/"=1+2",/'
  sed -n 3p "$sample" | sed 's/^[^,]*,/"-12",/'
  sed -n 4p "$sample" | sed 's/^[^,]*,/"@SUM(A1)",/'
  sed -n 5p "$sample" | sed 's/^[^,]*,/"+7 call",/'
  sed -n 6p "$sample"
} > cohort.csv
cp cohort.csv cohort.CSV  # the extension read in any case: this is CSV, not a rejected JSONL row
"$dalil" import --db s.db --rules "$rules" cohort.CSV > import.txt
grep -q "5 rows: 5 new applicants, 0 new versions, 0 unchanged, 0 rejected" import.txt ||
  fail "cohort.CSV was not read as CSV: $(cat import.txt)"
"$dalil" batch --db s.db --rules "$rules" --as-of 2017-06-04 > /dev/null
sum_before=$(sha256sum s.db | cut -d' ' -f1)

# Over the store: refused (exit 2), even with --force; the store is unchanged and verifies.
for target in s.db ./s.db "$work/s.db"; do
  for force in "" --force; do
    status=0
    "$dalil" export --db s.db --format csv --out "$target" $force 2> err.txt || status=$?
    [ "$status" -eq 2 ] || fail "export over the store ($target $force) exited $status"
    grep -q "never overwrites the store" err.txt || fail "no reason given for $target $force"
  done
done
# Through a symbolic link the store's WAL and journal are beside its target: refused by name, the
# journal too although it exists only during a write.
ln -s s.db link.db
for target in s.db-wal s.db-journal; do
  status=0
  "$dalil" export --db link.db --format csv --out "$target" --force 2> err.txt || status=$?
  [ "$status" -eq 2 ] || fail "export over $target through a link exited $status"
done
[ ! -e s.db-journal ] || fail "an export was written as the store's journal"
rm link.db
[ "$(sha256sum s.db | cut -d' ' -f1)" = "$sum_before" ] || fail "the store's file changed"
"$dalil" audit verify --db s.db > /dev/null || fail "the store no longer verifies"

# An id holding a control character (here an escape, which would drive a terminal that lists it)
# is rejected at import, said where and why, never shown.
{ head -1 cohort.csv; sed -n 7p "$sample" | sed 's/^[^,]*,/"ZQX\x1b[2JID",/'; } > escape.csv
grep -q $'\x1b' escape.csv || fail "the test's file holds no escape"
"$dalil" import --db s.db --rules "$rules" escape.csv > import2.txt 2>&1 || true
grep -q "1 rejected" import2.txt || fail "an id with an escape was not rejected: $(cat import2.txt)"
grep -q "control character" import2.txt || fail "no reason for the rejected id: $(cat import2.txt)"
if grep -q "ZQX" import2.txt; then fail "the rejected id was shown"; fi
# A file that repeats an id (a broken export): stored as versions, and said.
{ head -1 cohort.csv; sed -n 8p "$sample"; sed -n 8p "$sample" | sed 's/,false,/,true,/'; } > twice.csv
"$dalil" import --db s.db --rules "$rules" twice.csv > import3.txt
grep -q "note: 1 rows repeat the id of an earlier row of this file" import3.txt ||
  fail "a repeated id was not told: $(cat import3.txt)"

# A new file: owner-only; an existing one: refused without --force, left as it was.
"$dalil" export --db s.db --format csv --out out.csv
[ "$(stat -c %a out.csv)" = 600 ] || fail "the export's mode is $(stat -c %a out.csv), not 600"
echo "keep me" > other.txt
status=0
"$dalil" export --db s.db --format csv --out other.txt 2> err.txt || status=$?
[ "$status" -eq 2 ] || fail "export over an existing file exited $status"
grep -q "exists: nothing was written (--force replaces it)" err.txt || fail "no reason: $(cat err.txt)"
[ "$(cat other.txt)" = "keep me" ] || fail "the existing file was changed"
"$dalil" export --db s.db --format csv --out other.txt --force
cmp -s other.txt out.csv || fail "--force did not replace the file with the export"
ls ./*.partial-* > /dev/null 2>&1 && fail "a staged file was left behind"

# Formulas neutralised, numbers and ordinary ids as they are.
grep -q '^1,[0-9]*,"'"'"'=1+2",' out.csv || fail "=1+2 not neutralised"
grep -q '^1,[0-9]*,"'"'"'@SUM(A1)",' out.csv || fail "@SUM(A1) not neutralised"
grep -q '^1,[0-9]*,"'"'"'+7 call",' out.csv || fail "+7 call not neutralised"
grep -q '^1,[0-9]*,"-12",' out.csv || fail "the number -12 was changed"
grep -q '^1,[0-9]*,"SYN-000005",' out.csv || fail "an ordinary id was changed"
# A batch under a pack whose schema the stored records no longer fit says how many: a run of
# errors never reads as a run of decisions.
cp -r "$rules" tight
sed -i '/^record Household {/,/^}/s/    at_least 1$/    at_least 1000/' tight/schema.dalil
"$dalil" batch --db s.db --rules tight --as-of 2017-06-04 --quiet > tight.txt
grep -q "note: 6 of the 6 records evaluated no longer fit the rule pack's schema" tight.txt ||
  fail "the batch did not say its records no longer fit: $(cat tight.txt)"
# An import's rejection of an unknown member says where it stands, never its name.
head -1 "$rules/../data/sample-cohort.jsonl" | sed 's/"sex":"\([a-z]*\)",/"sex":"\1","Fatima Zahra":1,/' > unknown.jsonl
grep -q 'Fatima Zahra' unknown.jsonl || fail "the unknown member was not written"
"$dalil" import --db u.db --rules "$rules" unknown.jsonl > unknown.txt 2>&1 || true
grep -q "row 1: record 'Applicant' has no field of that name (member 3 of the record, after 'sex')" unknown.txt ||
  fail "the import did not place the unknown member: $(cat unknown.txt)"
grep -q 'Fatima' unknown.txt && fail "the unknown member's name was shown"
# An applicant's decisions of that run say which field and why, never the value.
"$dalil" decisions --db s.db SYN-000005 > unfit.txt
grep -q "no decision: the record no longer fits the schema: field household.size: is below the field's lower bound (at_least 1000)" unfit.txt ||
  fail "decisions did not say which field no longer fits: $(cat unfit.txt)"
rm -rf tight

# A record stored before the intake check (a text holding a control character, written here
# into the file as an earlier dalil could have stored it) is read by a batch as it was stored:
# decided, not refused as if it were entering now.
mkdir old && "$dalil" import --db old/s.db --rules "$rules" cohort.csv > /dev/null
sqlite3 old/s.db "UPDATE records SET json = replace(json, '\"nationality\":\"', '\"nationality\":\"\\u001b') WHERE record_id = 1"
sqlite3 old/s.db "SELECT json FROM records WHERE record_id = 1" | grep -qF '\u001b' ||
  fail "the test's stored record holds no escape"
"$dalil" batch --db old/s.db --rules "$rules" --as-of 2017-06-01 --quiet > old/batch.txt 2>&1 ||
  fail "the batch over a record stored before the intake check failed: $(cat old/batch.txt)"
grep -q "no longer fit" old/batch.txt && fail "a stored record was refused: $(cat old/batch.txt)"
[ "$(sqlite3 old/s.db "SELECT count(*) FROM decision_sets WHERE record_id = 1")" = 1 ] ||
  fail "the record stored with an escape was not decided"
rm -rf old

[ "$failed" -eq 0 ] && echo "export targets and cells: ok"
[ "$failed" -eq 0 ]
