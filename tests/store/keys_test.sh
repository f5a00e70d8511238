#!/usr/bin/env bash
# Master keys as an operator handles them (docs/operations.md): `dalil keys init` creates a key
# file 0600 and never overwrites one; `dalil keys check` loads it as every command will, refusing
# a file others may read, or takes DALIL_MASTER_KEY; no key is ever printed.
set -euo pipefail
dalil="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
key="$work/master.key"
"$dalil" keys init --key-file "$key" > "$work/init.out"
[ "$(stat -c %a "$key")" = 600 ] || fail "the key file has mode $(stat -c %a "$key")"
secret=$(tr -d '\n' < "$key")
[ "${#secret}" -eq 64 ] || fail "the key file does not hold 64 hex characters"
grep -q "$secret" "$work/init.out" && fail "keys init printed the key"
check=$(sed -n 's/.*key check value \([0-9a-f]*\).*/\1/p' "$work/init.out")
[ "${#check}" -eq 32 ] || fail "no key check value: $(cat "$work/init.out")"
"$dalil" keys check --key-file "$key" | grep -q "$check" || fail "keys check gives another value"
expect_exit 3 "$dalil" keys init --key-file "$key"
[ "$(tr -d '\n' < "$key")" = "$secret" ] || fail "keys init overwrote a key"
chmod 644 "$key"
expect_exit 3 "$dalil" keys check --key-file "$key"
grep -q "0644" "$work/out" || fail "the refusal does not name the mode: $(cat "$work/out")"
chmod 600 "$key"
DALIL_MASTER_KEY="$secret" "$dalil" keys check | grep -q "$check" || fail "the environment key"
DALIL_MASTER_KEY="$secret" "$dalil" keys check > "$work/out"
grep -q "$secret" "$work/out" && fail "keys check printed the key"
DALIL_MASTER_KEY=abc expect_exit 1 "$dalil" keys check
grep -q "does not hold a key" "$work/out" || fail "a malformed key: $(cat "$work/out")"
grep -q abc "$work/out" && fail "the message quotes the malformed key"
expect_exit 1 "$dalil" keys check
grep -q "DALIL_MASTER_KEY" "$work/out" || fail "no key: $(cat "$work/out")"
echo "ok   keys init/check: 0600, never overwritten, mode refused, environment key, no key printed"
