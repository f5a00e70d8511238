#!/usr/bin/env bash
# Value constraints through the CLI, as an operator meets them: `dalil eval` checks `not_after
# as_of` against --as-of and the bounds always; `dalil import` checks dates against today (UTC),
# for JSONL and CSV alike. Each refusal names the field and the bound, never the value.
set -euo pipefail
dalil="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/rules"
cat > "$work/rules/ops.dalil" <<'DALIL'
module ops
  title fr "Essai" ar "تجربة" en "Test"

record Household {
  size : int at_least 1 at_most 40
  income : money at_least 0 MAD
}

record Applicant {
  id : text
  birth_date : date not_after as_of
  household : Household
}

input applicant : Applicant

rule per_person : money
  source "test"
  explain fr "{value}" ar "{value}" en "{value}"
  = applicant.household.income / applicant.household.size
DALIL
passed=0; failed=0
fail() { echo "FAIL $1"; cat "$work/err" "$work/out" 2>/dev/null || true; failed=$((failed + 1)); }
eval_case() {  # name, expected exit code, text expected in stderr, text never shown, facts
  local rc=0
  printf '%s' "$5" > "$work/facts.json"
  "$dalil" eval --rules "$work/rules" --as-of 2016-03-01 --facts "$work/facts.json" \
    >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -ne "$2" ]; then fail "$1: exit $rc, expected $2"; return; fi
  if [ -n "$3" ] && ! grep -qF -- "$3" "$work/err"; then fail "$1: stderr lacks '$3'"; return; fi
  if [ -n "$4" ] && grep -qF -- "$4" "$work/err"; then fail "$1: echoes '$4'"; return; fi
  echo "ok   $1"; passed=$((passed + 1))
}
eval_case "born on the as-of date" 0 "" "" '{"id":"a","birth_date":"2016-03-01"}'
eval_case "born the day after" 1 "field 'birth_date': is after the as-of date 2016-03-01" \
  "2016-03-02" '{"id":"a","birth_date":"2016-03-02"}'
eval_case "a household of one" 0 "" "" '{"id":"a","household":{"size":1,"income":"0.00"}}'
eval_case "a household of none" 1 "field 'household.size': is below the field's lower bound (at_least 1)" \
  "" '{"id":"a","household":{"size":0,"income":"0.00"}}'
eval_case "a negative income" 1 "field 'household.income'" "1234.56" \
  '{"id":"a","household":{"size":2,"income":"-1234.56"}}'

# Import: today's date in UTC bounds the dates of past events.
printf '{"id":"A-1","birth_date":"2999-01-01"}\n{"id":"A-2","household":{"size":41}}\n{"id":"A-3","birth_date":"1990-05-17"}\n' \
  > "$work/c.jsonl"
"$dalil" import --db "$work/db.sqlite" --rules "$work/rules" "$work/c.jsonl" >"$work/out" 2>"$work/err"
if grep -qF "1 new applicants" "$work/out" && grep -qF "2 rejected" "$work/out" &&
   grep -qF "row 1: field 'birth_date': is after the as-of date $(date -u +%F)" "$work/out" &&
   grep -qF "row 2: field 'household.size': is above the field's upper bound (at_most 40)" "$work/out" &&
   ! grep -qF "2999" "$work/out"; then
  echo "ok   import JSONL"; passed=$((passed + 1))
else
  fail "import JSONL"
fi
printf 'id,birth_date,household.size\nB-1,2999-12-31,2\nB-2,2000-01-01,0\nB-3,2000-01-01,1\n' > "$work/c.csv"
"$dalil" import --db "$work/db.sqlite" --rules "$work/rules" "$work/c.csv" >"$work/out" 2>"$work/err"
if grep -qF "2 rejected" "$work/out" && grep -qF "row 1: field 'birth_date'" "$work/out" &&
   grep -qF "row 2: field 'household.size'" "$work/out" && ! grep -qF "2999" "$work/out"; then
  echo "ok   import CSV"; passed=$((passed + 1))
else
  fail "import CSV"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
