#!/usr/bin/env bash
# dalil doc speaks the officials' language: Arabic set right to left with every {placeholder}
# isolated (HTML <bdi dir="ltr">, Markdown U+2068/U+2069), dates in words, no ISO date in the
# periods, field and enum labels and the documents section present; --lang ar and --lang en give
# the whole document in that language (the words themselves: tests/cli/doc_sentinel_test.cpp).
# Usage: doc_test.sh DALIL RULES_DIR
set -u
dalil=$1
rules=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

"$dalil" doc "$rules" --out "$out" >/dev/null || { echo "FAIL: dalil doc failed"; exit 1; }
html="$out/rules.html"
md="$out/rules.md"

# Every Arabic span: its placeholders each inside <bdi dir="ltr">…</bdi>, none left bare.
spans=$(grep -o '<span dir="rtl" lang="ar">[^§]*</span>' "$html" | sed 's|</span>.*||')
[ -n "$spans" ] || fail "no Arabic span in rules.html"
bare=$(printf '%s\n' "$spans" | sed 's|<bdi dir="ltr">{[^}]*}</bdi>||g' | grep -c '{' || true)
[ "$bare" -eq 0 ] || fail "$bare Arabic spans hold a placeholder outside <bdi>"
printf '%s\n' "$spans" | grep -q '<bdi dir="ltr">{' || fail "no isolated placeholder in rules.html"

# Markdown: an Arabic placeholder sits between U+2068 and U+2069.
fsi=$(printf '\xe2\x81\xa8')
pdi=$(printf '\xe2\x81\xa9')
grep -q "${fsi}{[a-z_.]*}${pdi}" "$md" || fail "no isolated placeholder in rules.md"

# Periods and parameter dates in words, never as ISO dates or arrows.
grep -q 'En vigueur :\*\* .*[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]' "$md" && fail "a period in force as an ISO date"
grep -q 'à partir du [0-9]\{4\}-' "$md" && fail "a parameter date as an ISO date"
grep -q '→' "$md" && fail "an arrow in rules.md"
grep -q 'En vigueur :\*\* .*\(janvier\|février\|mars\|avril\|mai\|juin\|juillet\|août\|septembre\|octobre\|novembre\|décembre\)' "$md" ||
  fail "no period in words"

# Labels: the record table has its titles and documents column, and the documents section.
grep -q '| Champ | Intitulé | Type | Pièce justificative | Contraintes |' "$md" || fail "no labels in the record table"
if grep -q '^document ' "$rules"/*.dalil; then
  grep -q 'Pièces justificatives' "$md" || fail "no documents section"
fi

# --lang ar: the page right to left, identifiers and formulas left to right, every {placeholder}
# of its right-to-left text isolated (French and English texts sit in their own dir="ltr" spans),
# the headings and periods in Arabic.
"$dalil" doc "$rules" --lang ar --out "$out/ar" >/dev/null || fail "dalil doc --lang ar failed"
arhtml="$out/ar/rules.html"
armd="$out/ar/rules.md"
grep -q '<html lang="ar" dir="rtl">' "$arhtml" || fail "the Arabic page is not right to left"
grep -q '<code>' "$arhtml" && fail "an identifier without dir=ltr in the Arabic page"
grep -q '<pre>' "$arhtml" && fail "a formula without dir=ltr in the Arabic page"
bare=$(sed -e '/<style>/,/<\/style>/d' -e '/<pre/,/<\/pre>/d' "$arhtml" |
  sed -e 's|<code[^>]*>[^<]*</code>||g' -e 's|<span dir="ltr"[^>]*>[^<]*</span>||g' \
    -e 's|<bdi dir="ltr">{[^}]*}</bdi>||g' | grep -c '[{}]' || true)
[ "$bare" -eq 0 ] || fail "$bare lines of the Arabic page hold a placeholder outside <bdi>"
grep -q '<h2 id="contents">المحتويات</h2>' "$arhtml" || fail "no Arabic heading"
grep -q '>Sommaire</h2>\|<dt>En vigueur</dt>\|>Dossier du demandeur</h2>' "$arhtml" && fail "a French heading in the Arabic page"
grep -q '^<div dir="rtl" lang="ar">' "$armd" || fail "the Arabic Markdown is not right to left"
grep -q 'فترة السريان:\*\* .*\(يناير\|فبراير\|مارس\|أبريل\|ماي\|يونيو\|يوليوز\|غشت\|شتنبر\|أكتوبر\|نونبر\|دجنبر\)' "$armd" ||
  fail "no period in Arabic words"

# --lang en: English headings and periods; an unknown language is refused.
"$dalil" doc "$rules" --lang en --out "$out/en" >/dev/null || fail "dalil doc --lang en failed"
grep -q '^## Contents' "$out/en/rules.md" || fail "no English heading"
grep -q 'In force:\*\* from [0-9]* [A-Z][a-z]* [0-9]\{4\}' "$out/en/rules.md" || fail "no period in English words"
grep -q 'Sommaire\|En vigueur' "$out/en/rules.md" && fail "a French heading in the English document"
"$dalil" doc "$rules" --lang de --out "$out/de" >/dev/null 2>&1 && fail "--lang de accepted"

[ "$failed" -eq 0 ] && echo "ok: dalil doc"
exit "$failed"
