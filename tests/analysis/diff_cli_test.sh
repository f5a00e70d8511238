#!/usr/bin/env bash
# `dalil diff` from the command line: exit 0 when every decision is proved the same, 1 when one
# differs (or is unknown), 2 on an error; text in three languages, Markdown and JSON.
set -euo pipefail
dalil=$1
rules=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$dalil" diff "$rules" "$rules" --format json > "$work/self.json"
grep -q '"verdict":"same"' "$work/self.json"
if grep -q '"verdict":"different"\|"verdict":"unknown"' "$work/self.json"; then
  echo "the pack against itself is not all same" >&2
  exit 1
fi

cp -r "$rules" "$work/new"
sed -i 's/from 2013-01-01 = 20000 MAD/from 2013-01-01 = 20500 MAD/' "$work/new/housing.dalil"
for lang in fr ar en; do
  status=0
  "$dalil" diff "$rules" "$work/new" --lang "$lang" > "$work/out.$lang" || status=$?
  [ "$status" -eq 1 ] || { echo "expected exit 1, got $status ($lang)" >&2; exit 1; }
  grep -q 'housing.middle_class' "$work/out.$lang"
done
# Amounts and dates as the officials' texts write them; rules by their titles.
grep -q '1er janvier 2013 : 20.*000,00 MAD → 20.*500,00 MAD' "$work/out.fr"
grep -q '« Logement de la classe moyenne » (housing.middle_class) : différente' "$work/out.fr"
grep -q 'exemple vérifié, au ' "$work/out.fr"
grep -q 'from 1 January 2013: 20,000.00 MAD → 20,500.00 MAD' "$work/out.en"
grep -q 'different' "$work/out.en"
grep -q 'مختلف' "$work/out.ar"
grep -q 'درهم' "$work/out.ar"
grep -q 'يناير' "$work/out.ar"
# No English detail word and no record as JSON in French or Arabic.
for lang in fr ar; do
  if grep -qw 'value\|formula\|provisional\|verified\|true\|false' "$work/out.$lang"; then
    echo "an English word in the $lang text" >&2; exit 1
  fi
  if grep -q '{"' "$work/out.$lang"; then echo "a JSON record in the $lang text" >&2; exit 1; fi
done
"$dalil" diff "$rules" "$work/new" --format json > "$work/out.json" || true
grep -q '"plausible":true' "$work/out.json"
status=0
"$dalil" diff "$rules" "$work/new" --format md > "$work/out.md" || status=$?
[ "$status" -eq 1 ]
grep -q '^# ' "$work/out.md"
grep -q '^- « Logement de la classe moyenne » (`housing.middle_class`) : différente' "$work/out.md"
grep -q '^    - date de naissance : \|^    - revenu annuel du ménage : ' "$work/out.md"

status=0
"$dalil" diff "$rules" "$work/missing" > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || { echo "expected exit 2 on a missing pack, got $status" >&2; exit 1; }
status=0
"$dalil" diff "$rules" "$rules" --as-of 2016-02-30 > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || { echo "expected exit 2 on a bad date, got $status" >&2; exit 1; }
# An example's decimals are all shown: the RSU ceiling moved by 1e-7, the example's score is the
# new ceiling itself (9.3264285), which two places (9.33) would put above both ceilings.
cp -r "$rules" "$work/rsu"
sed -i 's/from 2022-12-01 = 9.3264284/from 2022-12-01 = 9.3264285/' "$work/rsu/health.dalil"
"$dalil" diff "$rules" "$work/rsu" --lang en > "$work/rsu.en" || true
grep -q 'Unified Social Register (RSU) score: 9.3264285$' "$work/rsu.en" ||
  { echo "the example's RSU score lost decimals: $(grep 'RSU' "$work/rsu.en")" >&2; exit 1; }
echo "diff cli: ok"
