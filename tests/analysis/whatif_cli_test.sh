#!/usr/bin/env bash
# `dalil whatif` from the command line on the shipped pack: exit 0 with an alternative, 1 with
# none, 2 on an error (unknown decision, a goal of the wrong type, a facts file refused, a bad
# date), JSON that parses and whose records the evaluator confirms, text in three languages; and
# the `fixed` attribute as `dalil check`, `dalil fmt` and `dalil doc` see it.
set -euo pipefail
dalil=$1
rules=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An applicant born in Morocco, resident since 2024-10-15: exempt from national preference
# once six months of residence are reached, or at once with another job category.
cat > "$work/a.json" <<'JSON'
{"id":"T-1","sex":"female","birth_date":"1989-01-28","nationality":"CM","status":"irregular",
 "residence_card":null,"entry_date":"2024-10-15","resident_since":"2024-10-15",
 "born_in_morocco":true,"application_date":"2024-11-02","spouse":null,
 "child_of_qualifying_spouse":false,"unaccompanied_minor":false,"work_contract":null,
 "professional_activity":false,"serious_illness":false,"regularized_in":null,
 "job_category":"none","household":{"size":2,"annual_income":"14421.03","area":"urban",
 "commune_poverty_rate":"8.2","socioeconomic_score":"11.65","rsu_score":"6.4008639"},
 "medical_coverage":false,"owns_property":false,"received_housing_aid":false,
 "housing":{"price":"200000.00"}}
JSON

"$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" \
  --goal employment.national_preference_exempt=true --format json > "$work/a.out.json"
python3 - "$work/a.out.json" "$dalil" "$rules" <<'PY'
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
assert r["decision"] == "employment.national_preference_exempt", r
assert r["goal"] is True and r["current"]["value"] is False, r
alts = r["alternatives"]
assert alts and all(a["verified"] for a in alts), alts
fixed = {"sex", "birth_date", "nationality", "entry_date", "born_in_morocco"}
later = [a for a in alts if a["changes"] and "from_date" in a["changes"][0]]
assert len(later) == 1 and later[0]["changes"][0]["from_date"] == "2025-04-15", alts
for a in alts:
    for c in a["changes"]:
        assert c["fact"] not in fixed, c
        assert ("range" in c) or ("value" in c) or ("from_date" in c), c
    # Every record shown is confirmed by `dalil eval`.
    as_of = later[0]["changes"][0]["from_date"] if a is later[0] else "2025-01-01"
    out = subprocess.run([sys.argv[2], "eval", "--rules", sys.argv[3], "--as-of", as_of,
                          "--facts", "-", "--format", "json"],
                         input=json.dumps(a["record"]), capture_output=True, text=True, check=True)
    d = {x["rule"]: x for x in json.loads(out.stdout)["decisions"]}
    assert d["employment.national_preference_exempt"]["value"] is True, (a, d)
PY

for lang in fr ar en; do
  "$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" \
    --goal employment.national_preference_exempt=true --lang "$lang" > "$work/a.$lang"
done
grep -q '15 avril 2025' "$work/a.fr"
grep -q 'Possibilité 1' "$work/a.fr"
grep -q 'الإمكانية 1' "$work/a.ar"
grep -q 'from 15 April 2025' "$work/a.en"
grep -q 'Fixed facts, never changed: .*born_in_morocco' "$work/a.en"

# No alternative: exit 1 (RAMED is out of force in 2025 and reads no fact).
status=0
"$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" \
  --goal health.ramed=poor > "$work/none.txt" || status=$?
[ "$status" -eq 1 ] || { echo "expected exit 1 when none, got $status" >&2; exit 1; }

# Errors: exit 2, a message that says where and why, and no value of the record.
expect_error() {
  local pattern=$1
  shift
  local status=0
  "$dalil" whatif --rules "$rules" --as-of 2025-01-01 "$@" > "$work/err.out" 2> "$work/err.txt" ||
    status=$?
  [ "$status" -eq 2 ] || { echo "expected exit 2, got $status for $*" >&2; exit 1; }
  grep -q "$pattern" "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  ! grep -q '14421\|6.4008639\|T-1' "$work/err.txt"
  [ ! -s "$work/err.out" ]
}
expect_error "unknown decision 'health.nope'" --facts "$work/a.json" --goal health.nope=true
expect_error "not a value of its type RamedCategory" --facts "$work/a.json" --goal health.ramed=rich
expect_error "not a value of its type bool" --facts "$work/a.json" --goal health.amo_tadamon=3
expect_error "DECISION=VALUE" --facts "$work/a.json" --goal health.ramed
sed 's/"size":2/"size":0/' "$work/a.json" > "$work/bad.json"
expect_error "bad.json: the facts are refused at household.size" --facts "$work/bad.json" \
  --goal health.amo_tadamon=true
echo '{"household":' > "$work/broken.json"
expect_error "broken.json: the facts are refused" --facts "$work/broken.json" \
  --goal health.amo_tadamon=true
expect_error "missing.json" --facts "$work/missing.json" --goal health.amo_tadamon=true
status=0
"$dalil" whatif --rules "$rules" --as-of 2025-02-30 --facts "$work/a.json" \
  --goal health.amo_tadamon=true > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ]

# A field under a null record (no spouse) is null, not missing: "none", never "not provided".
"$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" --max 8 \
  --goal employment.national_preference_exempt=true --lang en > "$work/spouse.en"
grep -q "spouse's nationality (spouse.nationality): none → MA" "$work/spouse.en"
! grep -q "not provided → MA" "$work/spouse.en"
"$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" --max 8 \
  --goal employment.national_preference_exempt=true --lang fr > "$work/spouse.fr"
grep -q "(spouse.nationality) : néant → MA" "$work/spouse.fr"
"$dalil" whatif --rules "$rules" --as-of 2025-01-01 --facts "$work/a.json" --max 8 \
  --goal employment.national_preference_exempt=true --format json > "$work/spouse.json"
python3 - "$work/spouse.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
changes = [c for a in r["alternatives"] for c in a["changes"] if c["fact"] == "spouse.nationality"]
assert changes, r
for c in changes:
    assert c["from"] is None and "missing" not in c, c
PY

# The `fixed` attribute: checked, formatted, documented.
mkdir "$work/p"
cat > "$work/p/m.dalil" <<'DALIL'
module m

record Applicant {
  fixed : bool
  nationality : text
    fixed
}

input applicant : Applicant

rule r : bool
  source "x"
  = applicant.fixed and applicant.nationality == "MA"
DALIL
"$dalil" check "$work/p" > /dev/null 2>&1
"$dalil" fmt --check "$work/p/m.dalil"
sed -i 's/^    fixed$/    fixed\n    fixed/' "$work/p/m.dalil"
status=0
"$dalil" check "$work/p" > "$work/check.txt" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "E0403" "$work/check.txt" && grep -q "'fixed' is given twice" "$work/check.txt"
"$dalil" doc "$rules" --out "$work/doc" --lang en > /dev/null
grep -q 'fixed: does not change' "$work/doc/"*.md
echo "whatif_cli: ok"
