#!/usr/bin/env bash
# The batch's decision sets on an encrypted store (docs/operations.md, "Encryption at rest"):
# decision_sets.decisions keeps in plain only statuses, flags, enumeration names and missing facts;
# amounts and dates (housing.monthly_income is the income / 12) are sealed under the applicant's
# data key (sealed_decisions) and found in neither the file nor its WAL. With the key, export,
# replay, decisions and impact give what a plain store gives; without it, export says so. Verify
# needs no key, passes after an erasure (whose decisions' values are then unreadable, reported as
# erased), and names a decision set whose sealed decisions were tampered with. A plain store
# encrypted in place seals its decision sets the same way.
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
# A run's decision sets whole, as `dalil export` gives them, "record|decisions" per line.
whole() {  # db run [key file]
  local k=(); [ -n "${3:-}" ] && k=(--key-file "$3")
  "$dalil" export --db "$1" "${k[@]}" --run "$2" | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(str(d["record"]) + "|" + json.dumps(d["decisions"]))'
}
unset DALIL_MASTER_KEY
# The shipped pack's contract rules are flags and enumerations only: a pack that explains the
# household's monthly income (an amount derived from the income) makes the batch store it.
cp -r "$rules" "$work/rules"
rules="$work/rules"
python3 - "$rules/housing.dalil" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
a = "rule monthly_income : money\n"
assert a in s
s = s.replace(a, a + """  title fr "Revenu mensuel du ménage" ar "الدخل الشهري للأسرة" en "Monthly household income"
  explain fr "Revenu mensuel du ménage : {value}." ar "الدخل الشهري للأسرة: {value}."
          en "Monthly household income: {value}."
""")
# A text rule whose values look like enumeration names (nationality codes in lower case, below):
# sealed by the rule's declared type, whatever the value's shape.
s += """
rule nationality_code : text
  title fr "Nationalité" ar "الجنسية" en "Nationality"
  explain fr "Nationalité : {value}." ar "الجنسية: {value}." en "Nationality: {value}."
  source "test: the applicant's nationality, a text"
  = applicant.nationality
"""
open(p, "w", encoding="utf-8").write(s)
PY
enc="$work/enc.db"; plain="$work/plain.db"; key="$work/master.key"
"$dalil" generate --count 1500 --seed 31 --out "$work/raw.jsonl"
python3 - "$work/raw.jsonl" > "$work/cohort.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if isinstance(r.get("nationality"), str):
        r["nationality"] = r["nationality"].lower()
    print(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
PY
"$dalil" keys init --key-file "$key" --db "$enc" > /dev/null
# A reader that keeps a connection open: the WAL stays beside the store (never checkpointed away).
python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM audit').fetchall(); time.sleep(120)" \
  "$enc" &
holder=$!
sleep 0.3
for db in "$plain" "$enc"; do
  k=(); [ "$db" = "$enc" ] && k=(--key-file "$key")
  "$dalil" import --db "$db" "${k[@]}" --rules "$rules" "$work/cohort.jsonl" > /dev/null
  "$dalil" batch --db "$db" "${k[@]}" --rules "$rules" --as-of 2017-06-01 --quiet > /dev/null
done
[ -s "$enc-wal" ] || fail "no WAL to look into"

# What to look for: every value of the plain store's decision sets that is not a flag or an
# enumeration's name (amounts, dates, fractions such as a monthly income "2593693/1200"), and the
# cohort's incomes, less what the rule pack itself holds and short texts that base64 could hold.
python3 - "$plain" "$work/cohort.jsonl" "$rules" > "$work/values.txt" <<'PY'
import json, pathlib, re, sqlite3, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[3]).rglob("*.dalil"))
found = set()
for (text,) in sqlite3.connect(sys.argv[1]).execute("SELECT decisions FROM decision_sets"):
    for entry in json.loads(text):
        v = entry[1]
        if v is None or isinstance(v, bool):
            continue
        if isinstance(v, str) and re.fullmatch(r"[a-z][a-z0-9_]*", v):
            continue
        found.add(json.dumps(v, separators=(",", ":")))
for line in open(sys.argv[2]):
    h = json.loads(line).get("household") or {}
    if h.get("annual_income"):
        found.add(h["annual_income"])
for v in sorted(found):
    if len(v) >= 6 and v.strip('"') not in pack:
        print(v)
PY
n=$(wc -l < "$work/values.txt")
grep -q '^"[0-9]*/[0-9]*"$' "$work/values.txt" || fail "no monthly income among the values to look for"
[ "$n" -gt 1000 ] || fail "only $n values to look for"
hits=$(grep -a -F -o -f "$work/values.txt" "$plain" | sort -u | wc -l)
[ "$hits" -gt 1000 ] || fail "the search finds only $hits values in a plain store"
for f in "$enc" "$enc-wal"; do
  if grep -a -F -c -f "$work/values.txt" "$f" > "$work/hits"; then
    fail "$(cat "$work/hits") amount(s) found in $(basename "$f"): \
$(grep -a -F -o -f "$work/values.txt" "$f" | sort -u | head -3 | tr '\n' ' ')"
  fi
done
kill "$holder"; holder=
[ "$(sqlite3 "$enc" "SELECT count(*) FROM decision_sets WHERE length(sealed_decisions) > 40 \
  AND decisions LIKE '%\"sealed\"%'")" -gt 1000 ] || fail "the decision sets were not sealed"
[ "$(sqlite3 "$plain" "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NOT NULL OR \
  decisions LIKE '%\"sealed\"%'")" -eq 0 ] || fail "a plain store's decision sets changed"
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify after the batch"
# The nationality codes: in plain in the plain store, sealed in the encrypted one.
"$dalil" export --db "$plain" --run 1 > "$work/plain.jsonl"
at=$(python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).readline())
print([e["rule"] for e in d["decisions"]].index("housing.nationality_code"))' "$work/plain.jsonl")
codes() {  # db: the values of the decision nationality_code kept in plain
  python3 -c 'import json, sqlite3, sys
for (t,) in sqlite3.connect(sys.argv[1]).execute("SELECT decisions FROM decision_sets"):
    v = json.loads(t)[int(sys.argv[2])][1]
    if v is not None and v != "sealed":
        print(v)' "$1" "$at" | sort -u
}
[ "$(codes "$plain" | grep -c '^[a-z][a-z]$')" -gt 5 ] || fail "no nationality code among the plain store's decisions"
[ -z "$(codes "$enc")" ] || fail "nationality codes kept in plain: $(codes "$enc" | head -3 | tr '\n' ' ')"
echo "ok   $n amounts and incomes ($hits found in a plain store): none in the encrypted store or its WAL; verify"

# Readers with the key: the plain store's results.
[ "$(whole "$enc" 1 "$key" | sha256sum)" = "$(whole "$plain" 1 | sha256sum)" ] ||
  fail "export with the key differs from the plain store's"
"$dalil" export --db "$enc" --run 1 > "$work/nokey.jsonl" 2> "$work/nokey.err" ||
  fail "export without the key: $(cat "$work/nokey.err")"
grep -q '"value":"sealed"' "$work/nokey.jsonl" && grep -q "exported as \"sealed\"" "$work/nokey.err" ||
  fail "export without the key does not say what it cannot show: $(cat "$work/nokey.err")"
"$dalil" replay --db "$enc" --key-file "$key" 1:42 > "$work/replay.out" ||
  fail "replay: $(cat "$work/replay.out")"
grep -q "decisions: identical" "$work/replay.out" || fail "replay: $(cat "$work/replay.out")"
expect_exit 3 "$dalil" replay --db "$enc" 1:42
for db in "$plain" "$enc"; do
  k=(); [ "$db" = "$enc" ] && k=(--key-file "$key")
  "$dalil" decisions --db "$db" "${k[@]}" SYN-000042 | grep " = " > "$work/$(basename "$db").d"
done
grep -q "monthly_income = \"[0-9./]*\"" "$work/plain.db.d" || fail "no monthly income among SYN-000042's decisions"
cmp -s "$work/plain.db.d" "$work/enc.db.d" || fail "decisions by id: $(diff "$work/plain.db.d" "$work/enc.db.d")"
"$dalil" stats --db "$enc" > "$work/stats.out" || fail "stats: $(cat "$work/stats.out")"
# impact reads the records (not the decision sets): the same report with the key.
v2="$work/v2"
cp -r "$rules" "$v2"
sed -i 's/^  from 2008-10-16 = 5650 MAD$/  from 2008-10-16 = 5650 MAD\n  from 2015-01-01 = 7000 MAD/' \
  "$v2/health.dalil"
"$dalil" impact --db "$plain" --old "$rules" --new "$v2" --as-of 2020-01-01 \
  --out "$work/impact-plain.db" --format json > /dev/null 2>&1 || fail "impact on the plain store"
DALIL_MASTER_KEY=$(cat "$key") "$dalil" impact --db "$enc" --old "$rules" --new "$v2" \
  --as-of 2020-01-01 --out "$work/impact-enc.db" --format json > "$work/out" 2>&1 ||
  fail "impact on the encrypted store: $(cat "$work/out")"
python3 - "$work/impact-plain.db/summary.json" "$work/impact-enc.db/summary.json" <<'PY' ||
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def counts(s):  # everything but what names the report or its store
    return {k: v for k, v in s.items() if k not in ("generated_at", "key", "store", "report_id")}
sys.exit(0 if counts(a) == counts(b) else 1)
PY
  fail "impact differs on the encrypted store"
echo "ok   with the key: export, replay, decisions and impact as on the plain store; without it, export says \"sealed\""

# Erasure: the data key destroyed, the sealed decisions can never be opened; verify passes.
"$dalil" erase SYN-000042 --db "$enc" --key-file "$key" --reason "test" --by dpo > /dev/null
"$dalil" audit verify --db "$enc" > "$work/verify.out" || fail "verify after erase: $(cat "$work/verify.out")"
grep -q "erased" "$work/verify.out" || fail "verify does not report the erasure: $(cat "$work/verify.out")"
expect_exit 3 "$dalil" replay --db "$enc" --key-file "$key" 1:42
grep -q "erased" "$work/out" && ! grep -qi "damaged\|tamper" "$work/out" ||
  fail "replay of an erased applicant's set: $(cat "$work/out")"
whole "$enc" 1 "$key" 2> "$work/export.err" > "$work/after.sets" || fail "export after the erasure"
grep '^42|' "$work/after.sets" | grep -q '"value": "sealed"' || fail "the erased set's values opened?"
grep -q "erased" "$work/export.err" || fail "export does not say why: $(cat "$work/export.err")"
[ "$(grep -v '^42|' "$work/after.sets" | sha256sum)" = "$(whole "$plain" 1 | grep -v '^42|' | sha256sum)" ] ||
  fail "export after an erasure: other applicants changed"
echo "ok   erased: verify passes and says so; replay refused as erased; export keeps the set, sealed"

# Tampering with the sealed decisions is named by verify (no key needed).
tamper() {  # name, SQL
  cp "$enc" "$work/t.db"
  sqlite3 "$work/t.db" "$2"
  local status=0
  out=$("$dalil" audit verify --db "$work/t.db" 2>&1) || status=$?
  [ "$status" -eq 1 ] && [[ "$out" == *"decision set 1:7"* ]] || fail "tamper $1: exit $status: $out"
  echo "ok   tamper $1: $(echo "$out" | grep "decision set 1:7" | head -1)"
}
tamper sealed_changed "UPDATE decision_sets SET sealed_decisions=randomblob(60) WHERE record_id=7"
tamper sealed_removed "UPDATE decision_sets SET sealed_decisions=NULL WHERE record_id=7"
tamper sealed_swapped "UPDATE decision_sets SET sealed_decisions=(SELECT sealed_decisions FROM \
  decision_sets WHERE record_id=8) WHERE record_id=7"
tamper plain_restored "UPDATE decision_sets SET decisions=(SELECT decisions FROM decision_sets \
  WHERE record_id=8) WHERE record_id=7"

# A plain store's decision sets, encrypted in place (keys init --db): sealed the same way.
cp "$plain" "$work/inplace.db"
"$dalil" keys init --key-file "$key" --db "$work/inplace.db" > /dev/null
none_found "$work/values.txt" "amount(s)" "after encryption in place" "$work/inplace.db" "$work/inplace.db-wal"
[ "$(sqlite3 "$work/inplace.db" "SELECT count(*) FROM decision_sets WHERE \
  length(sealed_decisions) > 40 AND decisions LIKE '%\"sealed\"%'")" -gt 1000 ] ||
  fail "not sealed in place"
"$dalil" audit verify --db "$work/inplace.db" > /dev/null || fail "verify after encryption in place"
[ "$(whole "$work/inplace.db" 1 "$key" | sha256sum)" = "$(whole "$plain" 1 | sha256sum)" ] ||
  fail "encrypted in place, the decisions read differently"
echo "ok   a plain store encrypted in place: its decision sets sealed, verify, the same export"
