#!/usr/bin/env bash
# The batch on an encrypted store reads each chunk's data keys in one ordered pass over data_keys
# (docs/operations.md, "Cost"), not by a lookup per record: with small chunks, corrections whose
# applicants are far apart in the keys' order, scattered erased applicants and a chunk of erased
# applicants only, it decides exactly the plain store's records less the erased ones, with the
# same decisions; --where filters are applied in memory with the plain store's meaning; a sealed
# record whose data key row was deleted stops it, named.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset DALIL_MASTER_KEY
enc="$work/enc.db"; plain="$work/plain.db"; key="$work/master.key"
# A run's decision sets whole, as `dalil export` gives them (with the key: values opened),
# "record|decisions" per line: a plain store's and an encrypted one's compare equal.
whole() {  # db run [key file]
  local k=(); [ -n "${3:-}" ] && k=(--key-file "$3")
  "$dalil" export --db "$1" "${k[@]}" --run "$2" | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(str(d["record"]) + "|" + json.dumps(d["decisions"]))'
}
"$dalil" generate --count 600 --seed 13 --out "$work/cohort.jsonl"
# Corrections of three applicants far apart: their new versions come last in record order, so a
# chunk holds applicants whose keys are not neighbours.
python3 - "$work/cohort.jsonl" > "$work/corrected.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["id"] in ("SYN-000003", "SYN-000250", "SYN-000590"):
        r["household"]["size"] = r["household"]["size"] + 1
        print(json.dumps(r))
PY
[ "$(wc -l < "$work/corrected.jsonl")" -eq 3 ] || fail "no corrections to import"
"$dalil" keys init --key-file "$key" --db "$enc" > /dev/null
for db in "$enc" "$plain"; do
  k=(); [ "$db" = "$enc" ] && k=(--key-file "$key")
  "$dalil" import --db "$db" "${k[@]}" --rules "$rules" "$work/cohort.jsonl" > /dev/null
  "$dalil" import --db "$db" "${k[@]}" --rules "$rules" --reason "test correction" --by clerk \
    "$work/corrected.jsonl" > /dev/null
done
[ "$(sqlite3 "$enc" "SELECT count(*) FROM records")" -eq 603 ] || fail "the corrections were not stored"
# Erased: applicants 101 to 150 (the third chunk of 50, whole) and two scattered ones.
for i in $(seq 101 150) 7 300; do
  "$dalil" erase "$(printf 'SYN-%06d' "$i")" --db "$enc" --key-file "$key" --reason "test" \
    --by dpo > /dev/null
done
cp "$enc" "$work/damaged.db"

for db in "$enc" "$plain"; do
  k=(); [ "$db" = "$enc" ] && k=(--key-file "$key")
  "$dalil" batch --db "$db" "${k[@]}" --rules "$rules" --as-of 2017-06-01 --chunk 50 --quiet \
    > "$work/batch.out" 2>&1 || fail "batch on $(basename "$db"): $(cat "$work/batch.out")"
done
[ "$(sqlite3 "$enc" "SELECT count(*) FROM decision_sets")" -eq 548 ] ||
  fail "$(sqlite3 "$enc" "SELECT count(*) FROM decision_sets") decision sets, expected 600 less 52 erased"
# The plain store's records less the erased ones' latest records, and the same decisions.
erased=$(sqlite3 "$enc" "SELECT r.record_id FROM records r JOIN data_keys k ON k.applicant_id = \
  r.applicant_id WHERE k.wrapped IS NULL AND r.latest = 1 ORDER BY 1" | tr '\n' ',' | sed 's/,$//')
[ "$(echo "$erased" | tr ',' '\n' | wc -l)" -eq 52 ] || fail "erased records: $erased"
whole "$plain" 1 | grep -v -E "^($(echo "$erased" | tr ',' '|'))\\|" > "$work/plain.sets" || true
whole "$enc" 1 "$key" > "$work/enc.sets"
[ "$(wc -l < "$work/plain.sets")" -eq 548 ] || fail "the plain store decided $(wc -l < "$work/plain.sets")"
cmp -s "$work/plain.sets" "$work/enc.sets" || fail "the encrypted store decides differently: \
$(diff "$work/plain.sets" "$work/enc.sets" | head -5)"
grep -q "^601|" "$work/enc.sets" && grep -q "^603|" "$work/enc.sets" ||
  fail "the corrections (records 601-603) were not decided"
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify after the batch"
echo "ok   chunks of 50 with corrections far apart and erased applicants: the plain store's decisions less the 52 erased"

# --where on an encrypted store: applied in memory to each opened record, with SQL's meaning on a
# plain store (a string, a nested string, a boolean as 1/0 and as true, an integer, two filters
# at once).
filters=("status=refugee" "household.area=rural" "serious_illness=1" "serious_illness=true" "household.size=3"
  "sex=female nationality=CI")
as_of=2018-01-01
for f in "${filters[@]}"; do
  where=(); for w in $f; do where+=(--where "$w"); done
  for db in "$enc" "$plain"; do
    k=(); [ "$db" = "$enc" ] && k=(--key-file "$key")
    "$dalil" batch --db "$db" "${k[@]}" --rules "$rules" --as-of "$as_of" "${where[@]}" \
      --chunk 40 --quiet > "$work/batch.out" 2>&1 || fail "batch --where $f: $(cat "$work/batch.out")"
  done
  run=$(sqlite3 "$enc" "SELECT max(run_id) FROM runs")
  prun=$(sqlite3 "$plain" "SELECT max(run_id) FROM runs")
  whole "$plain" "$prun" | grep -v -E "^($(echo "$erased" | tr ',' '|'))\\|" > "$work/plain.sets" ||
    true
  whole "$enc" "$run" "$key" > "$work/enc.sets"
  count=$(wc -l < "$work/enc.sets")
  [ "$count" -gt 5 ] && [ "$count" -lt 540 ] || fail "--where $f selected $count records"
  cmp -s "$work/plain.sets" "$work/enc.sets" || fail "--where $f: the encrypted store selects or \
decides differently: $(diff "$work/plain.sets" "$work/enc.sets" | head -5)"
  # Run again: the complete run still decides every matching record (nothing to do).
  "$dalil" batch --db "$enc" --key-file "$key" --rules "$rules" --as-of "$as_of" "${where[@]}" \
    > "$work/again.out" 2>&1 || fail "batch --where $f again: $(cat "$work/again.out")"
  grep -q "nothing to do" "$work/again.out" || fail "batch --where $f again: $(cat "$work/again.out")"
  echo "ok   --where $f: $count records, as the plain store selects and decides them"
done
status=0
"$dalil" batch --db "$enc" --key-file "$key" --rules "$rules" --as-of "$as_of" \
  --where nationality=XX --quiet > "$work/out" 2>&1 || status=$?
[ "$status" -eq 3 ] && grep -q "no applicant matches" "$work/out" ||
  fail "--where matching nobody on an encrypted store: exit $status: $(cat "$work/out")"
status=0
"$dalil" batch --db "$enc" --rules "$rules" --as-of "$as_of" --where status=refugee --quiet \
  > "$work/out" 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "--where without the key: exit $status: $(cat "$work/out")"
echo "ok   --where on an encrypted store: matching nobody and without the key, refused"

# A sealed record whose applicant's key row was deleted behind the tool's back stops the batch.
sqlite3 "$work/damaged.db" "DELETE FROM data_keys WHERE applicant_id=(SELECT applicant_id FROM \
  records WHERE record_id=420)"
status=0
"$dalil" batch --db "$work/damaged.db" --key-file "$key" --rules "$rules" --as-of 2017-06-01 \
  --chunk 50 --quiet > "$work/out" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "batch over a deleted key row exited $status: $(cat "$work/out")"
grep -q "record 420 is sealed, and its applicant has no data key" "$work/out" ||
  fail "batch over a deleted key row: $(cat "$work/out")"
echo "ok   a deleted data key row stops the batch, naming the record"
