#!/usr/bin/env bash
# Users, tokens, offices and publications on a PostgreSQL store from the command line, inside
# run.sh's throwaway cluster (PG* set): `dalil user|token|office` and `dalil publish` write the
# SQLite store's audit entries, `dalil audit verify` checks their rows and names one edited behind
# the tool's back; `dalil migrate` copies a SQLite store holding them with its head unchanged; the
# connection string (a password in the URI) is in no output.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
all="$work/all-output"
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  cat "$work/out" >> "$all"
  [ "$got" -eq "$want" ] || fail "${*:1:3} exited $got, expected $want: $(cat "$work/out")"
}
with_password() {  # code, command… (a password on standard input)
  local want="$1" got=0; shift
  echo "a-long-enough-password" | "$@" > "$work/out" 2>&1 || got=$?
  cat "$work/out" >> "$all"
  [ "$got" -eq "$want" ] || fail "${*:1:3} exited $got, expected $want: $(cat "$work/out")"
}
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_acc" >/dev/null
url="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_acc?sslmode=prefer"
count() { psql -d dalil_acc -Atc "SELECT count(*) FROM audit WHERE action = '$1'"; }

# Principals and offices, each change with its entry.
with_password 0 "$dalil" user add admin1 --role admin --db "$url"
with_password 0 "$dalil" user add alice --role official --office rabat --db "$url"
grep -q "office rabat did not exist and was created" "$work/out" || fail "office note: $(cat "$work/out")"
with_password 1 "$dalil" user add alice --role adviser --db "$url"
grep -q "user alice exists already" "$work/out" || fail "a second alice: $(cat "$work/out")"
expect_exit 0 "$dalil" office add fes --db "$url"
expect_exit 0 "$dalil" token create batch1 --role auditor --db "dbname=dalil_acc"
token=$(tail -n 1 "$work/out")
[ "${#token}" -ge 32 ] || fail "token create printed no token: $(cat "$work/out")"
expect_exit 0 "$dalil" token list --db "$url"
grep -q "batch1" "$work/out" || fail "token list: $(cat "$work/out")"
expect_exit 0 "$dalil" user disable alice --db "$url"
expect_exit 0 "$dalil" user enable alice --db "$url"
with_password 0 "$dalil" user passwd alice --db "$url"
expect_exit 0 "$dalil" user list --db "$url"
grep -q "alice" "$work/out" && grep -q "admin1" "$work/out" || fail "user list: $(cat "$work/out")"
expect_exit 0 "$dalil" office list --db "$url"
[ "$(tr '\n' ' ' < "$work/out")" = "fes rabat " ] || fail "office list: $(cat "$work/out")"
[ "$(count user_add)" = 2 ] || fail "user_add entries: $(count user_add)"
[ "$(count office_add)" = 2 ] || fail "office_add entries: $(count office_add)"
[ "$(count token_create)" = 1 ] || fail "token_create entries: $(count token_create)"
[ "$(count user_disable)$(count user_enable)$(count user_password)" = 111 ] ||
  fail "disable, enable, password entries"
# The token's hash is stored, never the token.
n=$(psql -d dalil_acc -Atc "SELECT count(*) FROM tokens WHERE token_hash = sha256(convert_to('$token', 'UTF8'))")
[ "$n" = 1 ] || fail "the token's SHA-256 is not what the store keeps"

# A publication of the rule pack.
expect_exit 0 "$dalil" publish --db "$url" --rules "$rules" --approved-by "Direction" --from 2017-01-01 --note "first"
grep -q "^published 1: ruleset " "$work/out" || fail "publish: $(cat "$work/out")"
expect_exit 0 "$dalil" publications --db "$url"
grep -q "^1  from 2017-01-01" "$work/out" || fail "publications: $(cat "$work/out")"
expect_exit 0 "$dalil" publications --db "$url" --format json
grep -q '"in_effect":1' "$work/out" || fail "publications json: $(cat "$work/out")"
[ "$(count publish)" = 1 ] || fail "publish entries: $(count publish)"

expect_exit 0 "$dalil" audit verify --db "$url"
grep -q "publications, offices, users, tokens and sessions" "$work/out" || fail "verify: $(cat "$work/out")"

# Rows edited or inserted behind the tool's back are named; put back, the store verifies again.
psql -d dalil_acc -qc "UPDATE users SET role = 'admin', office = NULL WHERE name = 'alice'"
expect_exit 1 "$dalil" audit verify --db "$url"
grep -q "TAMPERED: user alice (its role, office, password hash or creation time) does not match" \
  "$work/out" || fail "a raised role: $(cat "$work/out")"
psql -d dalil_acc -qc "UPDATE users SET role = 'official', office = 'rabat' WHERE name = 'alice'"
psql -d dalil_acc -qc "INSERT INTO users(user_id, name, role, lang, password_hash, created_at)
  VALUES(99, 'mallory', 'admin', 'fr', 'x', '2026-01-01T00:00:00Z')"
expect_exit 1 "$dalil" audit verify --db "$url"
grep -q "TAMPERED: user mallory has no audit entry that added it" "$work/out" ||
  fail "an inserted user: $(cat "$work/out")"
psql -d dalil_acc -qc "DELETE FROM users WHERE name = 'mallory'"
psql -d dalil_acc -qc "UPDATE publications SET effective_from = '2010-01-01'"
expect_exit 1 "$dalil" audit verify --db "$url"
grep -q "TAMPERED: publication 1 (audit entry [0-9]*) was changed after it was written" "$work/out" ||
  fail "a changed publication: $(cat "$work/out")"
psql -d dalil_acc -qc "UPDATE publications SET effective_from = '2017-01-01'"
expect_exit 0 "$dalil" audit verify --db "$url"

# `dalil migrate` of a SQLite store holding users, an office, tokens (one revoked) and a
# publication: its head unchanged, the copy verifies, and the lists read the same on both.
src="$work/source.db"
with_password 0 "$dalil" user add admin1 --role admin --db "$src"
with_password 0 "$dalil" user add alice --role official --office rabat --lang ar --db "$src"
with_password 0 "$dalil" user add bob --role adviser --db "$src"
expect_exit 0 "$dalil" user disable bob --db "$src"
expect_exit 0 "$dalil" token create old1 --role auditor --db "$src"
expect_exit 0 "$dalil" token revoke old1 --db "$src"
expect_exit 0 "$dalil" token create old1 --role auditor --office rabat --db "$src"
expect_exit 0 "$dalil" publish --db "$src" --rules "$rules" --approved-by "Direction" --from 2016-01-01
expect_exit 0 "$dalil" audit head --db "$src"
read -r seq hash < "$work/out"
for list in "user list" "token list" "office list" "publications"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$dalil" $list --db "$src"
  mv "$work/out" "$work/sqlite-${list// /-}"
done
psql -qc "CREATE DATABASE dalil_acc2" >/dev/null
url2="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_acc2"
expect_exit 0 "$dalil" migrate --from "$src" --to "$url2"
grep -q "^  users: 3$" "$work/out" && grep -q "^  tokens: 2$" "$work/out" &&
  grep -q "^  publications: 1$" "$work/out" || fail "migrate's counts: $(cat "$work/out")"
grep -q "audit head $seq $hash" "$work/out" || fail "migrate's head: $(cat "$work/out")"
expect_exit 0 "$dalil" audit head --db "$url2"
[ "$(cat "$work/out")" = "$seq $hash" ] || fail "the head after migrate: $(cat "$work/out"), want $seq $hash"
expect_exit 0 "$dalil" audit verify --db "$url2" --head "$seq:$hash"
for list in "user list" "token list" "office list" "publications"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$dalil" $list --db "$url2"
  diff "$work/sqlite-${list// /-}" "$work/out" > /dev/null ||
    fail "$list differs after migrate: $(diff "$work/sqlite-${list// /-}" "$work/out")"
done
# The copy goes on: a new user's id follows the copied ones, and the chain its head.
with_password 0 "$dalil" user add carol --role auditor --db "$url2"
[ "$(psql -d dalil_acc2 -Atc "SELECT user_id FROM users WHERE name = 'carol'")" = 4 ] ||
  fail "the new user's id does not follow the copied ones"
expect_exit 0 "$dalil" audit verify --db "$url2" --head "$seq:$hash"

psql -d dalil_acc -Atc "SELECT actor, subject, details FROM audit" > "$work/entries"
! grep -q -- "$PGPASSWORD" "$all" "$work/entries" || fail "the password appeared in an output or an entry"
echo "accounts_test: ok"
