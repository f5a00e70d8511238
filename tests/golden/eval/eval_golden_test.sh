#!/usr/bin/env bash
# Goldens of `dalil eval`: for each case of cases.tsv (name, as-of date), the JSON without
# trace (one decision a line) and the text renderings in French, Arabic and English of
# NAME.facts.json must match NAME.json.golden, NAME.fr.golden, NAME.ar.golden and NAME.en.golden
# byte for byte. The ruleset hash is written as zeros, so that a change of the pack shows only
# where its words change. DALIL_UPDATE_GOLDEN=1 rewrites the goldens; review the diff.
# Usage: eval_golden_test.sh DALIL RULES_DIR
set -u
dalil=$1
rules=$2
here=$(cd "$(dirname "$0")" && pwd)
update=${DALIL_UPDATE_GOLDEN:-}
failed=0
checked=0

hash=$("$dalil" eval --rules "$rules" --as-of 2016-01-01 --facts - --format json --no-trace \
  <<<'{}' | sed -n 's/.*"ruleset":{"hash":"\([0-9a-f]*\)".*/\1/p')
if [ -z "$hash" ]; then
  echo "FAIL: cannot read the ruleset hash of $rules"
  exit 1
fi
short=${hash:0:12}

render() {  # name as_of format [lang] (JSON without a lang: explanations in the three)
  local out lang=()
  [ -z "${4:-}" ] || lang=(--lang "$4")
  out=$("$dalil" eval --rules "$rules" --as-of "$2" --facts "$here/$1.facts.json" \
    --format "$3" "${lang[@]}" --no-trace) || {
    echo "FAIL: $1: dalil eval --format $3 ${lang[*]} failed" >&2
    return 1
  }
  printf '%s\n' "$out" | sed -e "s/$hash/$(printf "%064d" 0)/g" -e "s/$short/000000000000/g"
}

while IFS=$'\t' read -r name as_of; do
  [ -z "$name" ] && continue
  for kind in json fr ar en; do
    golden="$here/$name.$kind.golden"
    if [ "$kind" = json ]; then
      # One decision a line, so that a diff names the decisions that changed.
      actual=$(render "$name" "$as_of" json | sed 's/},{"rule":/},\n{"rule":/g') ||
        { failed=1; continue; }
    else
      actual=$(render "$name" "$as_of" text "$kind") || { failed=1; continue; }
    fi
    checked=$((checked + 1))
    if [ -n "$update" ]; then
      printf '%s\n' "$actual" >"$golden"
      continue
    fi
    if [ ! -f "$golden" ]; then
      echo "FAIL: $name.$kind.golden is missing (DALIL_UPDATE_GOLDEN=1 writes it)"
      failed=1
      continue
    fi
    if ! diff -u "$golden" <(printf '%s\n' "$actual") >/tmp/eval-golden-diff.$$; then
      echo "FAIL: $name ($kind) differs from its golden:"
      head -40 /tmp/eval-golden-diff.$$
      failed=1
    fi
  done
done <"$here/cases.tsv"
rm -f /tmp/eval-golden-diff.$$

# Goldens of cases no longer listed would be reviewed for nothing.
for golden in "$here"/*.golden; do
  [ -e "$golden" ] || continue
  base=$(basename "$golden")
  name=${base%.*.golden}
  if ! grep -q "^$name	" "$here/cases.tsv"; then
    if [ -n "$update" ]; then
      rm -f "$golden"
    else
      echo "FAIL: $base belongs to no case of cases.tsv"
      failed=1
    fi
  fi
done

if [ "$checked" -eq 0 ]; then
  echo "FAIL: no case checked"
  exit 1
fi
[ "$failed" -eq 0 ] && echo "ok: $checked renderings match their goldens"
exit "$failed"
