#!/usr/bin/env bash
# `dalil eval --facts` on hostile input, as an operator would give it: files that are not files,
# a byte order mark, an over-long file, and bad values whose errors name the line, column and
# field but never the value.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
expect() {  # name, expected exit code, expected text in stderr ("" for none), text not in stderr, facts
  local name="$1" code="$2" want="$3" forbidden="$4" facts="$5" rc=0
  timeout 20 "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts "$facts" \
    >"$work/out" 2>"$work/err" </dev/null || rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL $name: exit $rc, expected $code"; cat "$work/err"; failed=$((failed + 1)); return
  fi
  if [ -n "$want" ] && ! grep -qF -- "$want" "$work/err"; then
    echo "FAIL $name: stderr lacks '$want'"; cat "$work/err"; failed=$((failed + 1)); return
  fi
  if [ -n "$forbidden" ] && grep -qF -- "$forbidden" "$work/err" "$work/out"; then
    echo "FAIL $name: the output echoes '$forbidden'"; failed=$((failed + 1)); return
  fi
  if [ "$code" -ne 0 ] && [ -s "$work/out" ]; then
    echo "FAIL $name: a refused record printed decisions"; failed=$((failed + 1)); return
  fi
  echo "ok   $name"; passed=$((passed + 1))
}

printf '\xef\xbb\xbf{"id":"E-1","status":"refugee"}\r\n' > "$work/bom.json"
expect "a byte order mark and CRLF" 0 "" "" "$work/bom.json"
printf '{\n  "id": "E-2",\n  "birth_date": "1983-07-32"\n}\n' > "$work/date.json"
expect "a bad date: line, column and field" 1 "date.json:3:17: error: field 'birth_date'" \
  "1983-07-32" "$work/date.json"
printf '{"id":"E-3","status":"refugee","status":"regular"}' > "$work/dup.json"
expect "a duplicate key" 1 "field 'status': the field is given twice" "" "$work/dup.json"
printf '{"id":"Fatima\xff"}' > "$work/utf8.json"
expect "invalid UTF-8" 1 "field 'id': is not valid UTF-8" "Fatima" "$work/utf8.json"
printf '{"id":"Khadija\\udc00"}' > "$work/surrogate.json"
expect "a lone surrogate escape" 1 "surrogate" "Khadija" "$work/surrogate.json"
printf '{"id":"E-4","household":{"annual_income":"3767.505"}}' > "$work/money.json"
expect "money with three decimals" 1 "centimes" "3767.505" "$work/money.json"
: > "$work/empty.json"
expect "an empty file" 1 "expected a record" "" "$work/empty.json"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$work/big.json"
expect "a file over the record limit" 2 "longer than 1048576 bytes" "" "$work/big.json"
mkdir "$work/dir.json"
expect "a directory" 2 "not a regular file" "" "$work/dir.json"
mkfifo "$work/fifo.json"
expect "a FIFO (no hang)" 2 "not a regular file" "" "$work/fifo.json"
expect "a device that never ends" 2 "not a regular file" "" /dev/zero
rc=0
printf '{"id":"E-5"}' | "$dalil" eval --rules "$rules" --as-of 2017-06-01 --facts - >/dev/null || rc=$?
if [ "$rc" -eq 0 ]; then echo "ok   standard input"; passed=$((passed + 1)); else
  echo "FAIL standard input: exit $rc"; failed=$((failed + 1)); fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
