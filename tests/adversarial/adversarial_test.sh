#!/usr/bin/env bash
# Hostile and careless inputs, run through the `dalil` CLI as a user would: every case must end
# within 20 s without a signal, refuse bad input with an error that says where (file:line:col,
# or row and field) and why, never quote a personal value, and never change a pack's meaning.
# Usage: adversarial_test.sh DALIL RULES_DIR
set -uo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# run NAME CMD...: runs with a 20 s limit and at most 2 GiB of memory (not under AddressSanitizer,
# which reserves terabytes of address space for its shadow); sets $out and $code.
memory_limit=2097152
# Not `ldd | grep -q`: grep -q stops at the first match, ldd may then die of SIGPIPE, and under
# pipefail the test failed now and then, with the limit applied under AddressSanitizer.
case "$(ldd "$dalil" 2>/dev/null)" in *libasan*) memory_limit=unlimited ;; esac
run() {
  local name="$1"; shift
  out=$( (ulimit -v "$memory_limit"; timeout 20 "$@") 2>&1 ); code=$?
  if ((code == 124)); then fail "$name" "ran over 20 s"; return 1; fi
  if ((code > 128)); then fail "$name" "killed by signal $((code - 128))"; return 1; fi
  if ((${#out} > 200000)); then fail "$name" "printed ${#out} bytes of diagnostics"; return 1; fi
  return 0
}
expect_refusal() {  # NAME PATTERN CMD...: exit 1 or 2 and output matching PATTERN
  local name="$1" pattern="$2"; shift 2
  run "$name" "$@" || return
  if ((code == 0)); then fail "$name" "accepted"; return; fi
  if [[ "$out" =~ $pattern ]]; then ok "$name"; else fail "$name" "message '${out:0:300}' does not match /$pattern/"; fi
}
expect_success() {
  local name="$1"; shift
  run "$name" "$@" || return
  if ((code == 0)); then ok "$name"; else fail "$name" "exit $code: ${out:0:300}"; fi
}
pack() {  # NAME TEXT: a one-module pack in $work/NAME
  mkdir -p "$work/$1"; printf '%s' "$2" > "$work/$1/m.dalil"
}
where='m\.dalil:[0-9]+:[0-9]+'

# --- Operator chains deeper than any evaluator can recurse: refused by check, never a crash.
for opnd in "true and" "false or" "1 +" "1 -" "1 *"; do
  kind=bool; [[ "$opnd" == 1* ]] && kind=int
  pack chain "module m
record A {
  x : int
}
input applicant : A
rule r : $kind
  explain en \"{value}\"
  source \"s\"
  = $(for _ in $(seq 80000); do printf '%s ' "$opnd"; done)${opnd%% *}
"
  expect_refusal "80,000-operand chain '${opnd#* }' is refused by check" "$where.*(deep|depth|long|chain|levels)" "$dalil" check "$work/chain"
  echo '{}' > "$work/empty.json"
  run "80,000-operand chain '${opnd#* }' under eval" "$dalil" eval --rules "$work/chain" --as-of 2017-06-01 --facts "$work/empty.json" && ok "80,000-operand chain '${opnd#* }' under eval ends cleanly (exit $code)"
  run "80,000-operand chain '${opnd#* }' under test" "$dalil" test "$work/chain" && ok "80,000-operand chain '${opnd#* }' under test ends cleanly (exit $code)"
done

# --- fmt keeps parentheses that carry meaning, and the formatted pack still checks.
pack parens 'module m
rule a : bool
  source "s"
  = (1 == 1) == true
rule b : bool
  source "s"
  = (2 in [1, 2]) != false
rule c : int
  source "s"
  = 10 - (4 - 3)
rule d : int
  source "s"
  = 2 * (3 + 4)
rule e : bool
  source "s"
  = not (true and false)
'
if run "fmt on comparisons of comparisons" "$dalil" fmt "$work/parens" && ((code == 0)); then
  expect_success "the formatted pack still checks" "$dalil" check "$work/parens"
  expect_success "fmt --check agrees with fmt" "$dalil" fmt --check "$work/parens"
  if grep -q '(4 - 3)' "$work/parens/m.dalil" && grep -q '(3 + 4)' "$work/parens/m.dalil"; then
    ok "fmt keeps a - (b - c) and a * (b + c)"
  else
    fail "fmt keeps a - (b - c) and a * (b + c)" "$(cat "$work/parens/m.dalil")"
  fi
else
  fail "fmt on comparisons of comparisons" "exit $code: ${out:0:300}"
fi

# --- Bounded work on big or repetitive sources.
pack unique "module m
input applicant : Applicant
record Applicant {
  age : int
}
rule r : int
  source \"s\"
  = table unique
$(for i in $(seq 3000); do echo "      | applicant.age >= $i => $i"; done)
      | otherwise => 0
"
run "3,000 overlapping table unique rows" "$dalil" check "$work/unique" &&
  ok "3,000 overlapping table unique rows end in time (exit $code, $(wc -l <<<"$out") lines)"

pack unknown "module m
rule r : bool
  source \"s\"
  = $(for i in $(seq 5000); do printf 'unknown_name_%d or ' "$i"; done)false
"
expect_refusal "5,000 unknown names" "$where.*unknown" "$dalil" check "$work/unknown"

pack first "module m
input applicant : Applicant
record Applicant {
  age : int
}
rule r : int
  source \"s\"
  = table first
$(for i in $(seq 20000); do echo "      | applicant.age <= $i => $i"; done)
      | otherwise => 0
"
run "20,000-row table first" "$dalil" check "$work/first" && ok "20,000-row table first ends in time (exit $code)"

mkdir -p "$work/big"
{ echo "module m"; for i in $(seq 400000); do printf 'rule r%d : int\n  source "s"\n  = %d + 1\n' "$i" "$i"; done; } > "$work/big/m.dalil"
expect_refusal "a $(($(stat -c %s "$work/big/m.dalil") / 1048576)) MiB source" "m\.dalil.*(limit|large|MiB|bytes)" "$dalil" check "$work/big"

# Shapes a review found slow after the first fixes: one syntax error among 40,000 enum lines (the
# recovery's name scan), 8,000 unique rows each comparing its own expressions, a 100,000-character
# name misspelled (did-you-mean), 1,000 diagnostics on one 4 MB line.
mkdir -p "$work/enums"; { echo "module m"; for _ in $(seq 40000); do echo "enum a"; done; } > "$work/enums/m.dalil"
expect_refusal "40,000 broken enum lines" "$where" "$dalil" check "$work/enums"
pack ownsubjects "module m
record A {
  a : int
  b : int
}
input applicant : A
rule r : int
  source \"s\"
  = table unique
$(for k in $(seq 0 7999); do echo "      | applicant.a + $k >= 0 and applicant.b + $k >= 0 => $k"; done)
      | otherwise => 0
"
expect_refusal "8,000 unique rows on their own subjects" "$where.*E0601" "$dalil" check "$work/ownsubjects"
long=$(head -c 100000 /dev/zero | tr '\0' a)
pack longname "module m
rule r$long : bool
  source \"s\"
  = true
rule q : bool
  source \"s\"
  = r${long:1}b
"
expect_refusal "a misspelled 100,000-character name" "$where.*unknown name" "$dalil" check "$work/longname"
pack longline "module m
rule r : text
  source \"s\"
  = \"$(head -c 4000000 /dev/zero | tr '\0' x)\" $(for i in $(seq 1000); do printf 'unknown%d ' "$i"; done)
"
expect_refusal "1,000 diagnostics on one 4 MB line" "$where" "$dalil" check "$work/longline"

# --- Checked dates, parenthesis depth, UTF-8, byte-order marks, line endings, odd files.
pack dates 'module m
record A {
  x : int
}
input applicant : A
rule late : date
  source "s"
  explain en "late {value}"
  = 9999-12-31 + 1 day
rule early : date
  source "s"
  explain en "early {value}"
  = 0001-01-01 - 2000 years
'
if run "date arithmetic out of range" "$dalil" eval --rules "$work/dates" --as-of 2017-06-01 --facts "$work/empty.json"; then
  if [[ "$out" == *9999-01-01* || "$out" == *0000-01-01* ]]; then
    fail "date arithmetic out of range" "printed a wrong date: ${out:0:300}"
  else
    ok "date arithmetic out of range gives no wrong date (exit $code)"
  fi
fi

open=$(printf '(%.0s' $(seq 64)); close=$(printf ')%.0s' $(seq 64))
pack paren64 "module m
rule r : bool
  source \"s\"
  = ${open}true${close}
"
expect_success "64 nested parentheses" "$dalil" check "$work/paren64"
pack paren65 "module m
rule r : bool
  source \"s\"
  = (${open}true${close})
"
expect_refusal "65 nested parentheses" "$where.*E0003" "$dalil" check "$work/paren65"

for bad in '\xc0\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\xe0\x80\xaf'; do
  pack utf8 "module m
rule r : bool
  source \"x $(printf "$bad") y\"
  = true
"
  expect_refusal "ill-formed UTF-8 ($bad) in a rule literal" "$where.*UTF-8" "$dalil" check "$work/utf8"
done

pack bom "$(printf '\xef\xbb\xbf')module m
rule r : bool
  source \"s\"
  = true
"
expect_success "a byte-order mark before the module" "$dalil" check "$work/bom"

mkdir -p "$work/cr"; printf 'module m\r# a comment\rrule r : bool\r  source "s"\r  = tru\r' > "$work/cr/m.dalil"
run "CR-only line endings" "$dalil" check "$work/cr" &&
  if [[ "$out" =~ m\.dalil:[2-9]:|CR|carriage ]]; then ok "CR-only line endings: positions past line 1, or a clear refusal"; else fail "CR-only line endings" "${out:0:300}"; fi

mkdir -p "$work/odd/sub.dalil" && cp "$rules/schema.dalil" "$work/odd/"
expect_refusal "a .dalil that is a directory" "sub\.dalil" "$dalil" check "$work/odd"
rmdir "$work/odd/sub.dalil"; mkfifo "$work/odd/pipe.dalil"
expect_refusal "a .dalil that is a FIFO" "pipe\.dalil" "$dalil" check "$work/odd"
rm "$work/odd/pipe.dalil"; ln -s "$work/nowhere.dalil" "$work/odd/dangling.dalil"
expect_refusal "a .dalil that is a dangling link" "dangling\.dalil" "$dalil" check "$work/odd"

# --- Records: strict UTF-8, no duplicate keys, RFC 4180 CSV, no echoed values.
printf '{"id":"A-1","nationality":"\xed\xa0\x80"}' > "$work/surrogate.json"
expect_refusal "a surrogate in a record" "nationality" "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts "$work/surrogate.json"
printf '{"id":"A-1","status":"refugee","status":"regular"}' > "$work/dup.json"
expect_refusal "a duplicate key in a record" "status" "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts "$work/dup.json"
printf '{"id":"A-1","birth_date":"1983-07-32"}' > "$work/baddate.json"
expect_refusal "an impossible date in a record" "birth_date" "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts "$work/baddate.json"
[[ "$out" == *1983-07-32* ]] && fail "record errors quote no value" "${out:0:300}"

# A quoted cell may hold a line break (RFC 4180): a text field's (an id may not hold one, below).
{ echo 'id,birth_date,nationality'; printf '"A-1",1983-07-30,"S\nN"\n'; echo 'A-2,1983-07-32,SN'; } > "$work/rows.csv"
if run "CSV import" "$dalil" import --db "$work/csv.db" --rules "$rules" "$work/rows.csv"; then
  if [[ "$out" == *1983-07-32* ]]; then fail "CSV rejections quote no cell" "${out:0:300}"; else ok "CSV rejections quote no cell"; fi
  if ! stored=$(sqlite3 "$work/csv.db" "SELECT group_concat(reason, ' | ') FROM rejections"); then
    fail "stored rejections quote no cell" "sqlite3 could not read the store"
  elif [[ -z "$stored" || "$stored" == *1983-07-32* ]]; then fail "stored rejections quote no cell" "stored '$stored'"
  else ok "stored rejections quote no cell"; fi
  n=$(sqlite3 "$work/csv.db" "SELECT count(*) FROM records" 2>/dev/null || echo 0)
  if ((n == 1)); then ok "a quoted cell with a line break is imported (RFC 4180)"; else fail "a quoted cell with a line break is imported (RFC 4180)" "$n records: ${out:0:300}"; fi
  # An id with a line break would forge a line of every listing that prints ids: rejected.
  { echo 'id,birth_date,nationality'; printf '"A-\n3",1983-07-30,SN\n'; } > "$work/idbreak.csv"
  run "CSV import" "$dalil" import --db "$work/csv.db" --rules "$rules" "$work/idbreak.csv" || true
  if [[ "$out" == *"control character"* && "$out" == *"1 rejected"* ]]; then ok "an id with a line break is rejected"
  else fail "an id with a line break is rejected" "${out:0:300}"; fi
fi

# A CSV exported without its header row: the first data row is read as the header, and the
# refusal must not show its cells, whatever they look like (an id, a name, a date).
for first in 'SYN-000001,female,1989-01-28' 'Fatima,female,1982-08-17' 'Ahmadou,SN,refugee'; do
  printf '%s\n%s\n' "$first" 'SYN-000002,male,1970-01-20' > "$work/noheader.csv"
  if run "a CSV without its header row ($first)" "$dalil" import --db "$work/nh.db" --rules "$rules" "$work/noheader.csv"; then
    cell1=${first%%,*}; cell3=${first##*,}
    if ((code == 0)); then fail "a CSV without its header row ($first)" "accepted"
    elif [[ "$out" == *"$cell1"* || "$out" == *"$cell3"* ]]; then fail "a CSV without its header row ($first)" "quotes a cell: ${out:0:300}"
    else ok "a CSV without its header row ($first) is refused without quoting a cell"; fi
  fi
done
for key in SYN-123456 Fatima; do
  printf '{"%s":{"status":"refugee"}}' "$key" > "$work/keyed.json"
  expect_refusal "a record keyed by '$key'" "field" "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts "$work/keyed.json"
  [[ "$out" == *"$key"* ]] && fail "a record keyed by '$key' is refused without quoting it" "${out:0:300}"
  printf '{"id":"K-1","%s":1}\n' "$key" > "$work/keyed.jsonl"
  if run "import of a record keyed by '$key'" "$dalil" import --db "$work/keyed.db" --rules "$rules" "$work/keyed.jsonl"; then
    if ! stored=$(sqlite3 "$work/keyed.db" "SELECT group_concat(field || ' ' || reason, ' | ') FROM rejections"); then
      fail "stored rejection of a record keyed by '$key'" "sqlite3 could not read the store"
    elif [[ -z "$stored" || "$stored" == *"$key"* || "$out" == *"$key"* ]]; then
      fail "stored rejection of a record keyed by '$key'" "stored '$stored', printed '${out:0:200}'"
    else
      ok "stored rejection of a record keyed by '$key' quotes no key"
    fi
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
