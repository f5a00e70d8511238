#!/usr/bin/env bash
# `dalil` on a PostgreSQL store, inside run.sh's throwaway cluster (PG* set): a SQLite store
# after import and batch copied by `dalil migrate` keeps its audit head and verifies; the copy
# refused twice; commands not yet supported refused (exit 3); tampering found; and the
# connection string (a password in the URI, a wrong one) in no output, no error, no audit entry.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
all="$work/all-output"  # everything dalil printed, searched for the secrets at the end
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  cat "$work/out" >> "$all"
  [ "$got" -eq "$want" ] || fail "${*:1:3} exited $got, expected $want: $(cat "$work/out")"
}
: "${PGPASSWORD:?run through tests/pg/run.sh}"
db="$work/store.db"
"$dalil" generate --count 400 --seed 17 --out "$work/cohort.jsonl"
expect_exit 0 "$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl"
expect_exit 0 "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-01 --quiet
expect_exit 0 "$dalil" audit head --db "$db"
read -r seq hash < "$work/out"
[ "$seq" -gt 2 ] || fail "the source's log is too short to prove anything: $seq"

psql -qc "CREATE DATABASE dalil_cli" >/dev/null
url="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_cli?sslmode=prefer"
expect_exit 0 "$dalil" migrate --from "$db" --to "$url"
grep -q "^  decision_sets: 400$" "$work/out" || fail "migrate did not copy 400 decision sets: $(cat "$work/out")"
grep -q "audit head $seq $hash" "$work/out" || fail "migrate's head is not the source's: $(cat "$work/out")"
# The head, by URI with the password, and by a keyword string with the rest from PG*.
expect_exit 0 "$dalil" audit head --db "$url"
[ "$(cat "$work/out")" = "$seq $hash" ] || fail "audit head on PostgreSQL: $(cat "$work/out"), want $seq $hash"
expect_exit 0 "$dalil" audit head --db "dbname=dalil_cli" --read-only
[ "$(cat "$work/out")" = "$seq $hash" ] || fail "audit head (keyword string): $(cat "$work/out")"
expect_exit 0 "$dalil" audit verify --db "$url" --head "$seq:$hash"
grep -q "audit log verified on PostgreSQL: $seq entries" "$work/out" || fail "verify: $(cat "$work/out")"

# A keyword string whose first word is the password (or that starts with a space) is a
# connection string too: it uses the real password and reaches the database, and no SQLite file
# named after it is ever made.
expect_exit 0 "$dalil" audit head --db "password=$PGPASSWORD dbname=dalil_cli"
[ "$(cat "$work/out")" = "$seq $hash" ] || fail "audit head (password first): $(cat "$work/out")"
(cd "$work" && expect_exit 0 "$dalil" stats --db " sslmode=prefer password=$PGPASSWORD dbname=dalil_cli")
[ -z "$(find "$work" -name '*password=*')" ] || fail "a SQLite file named after a connection string"

# Refusals: a second copy; commands not yet supported; an encrypted store's key.
expect_exit 3 "$dalil" migrate --from "$db" --to "$url"
grep -q "already holds a Dalil store" "$work/out" || fail "second migrate: $(cat "$work/out")"
expect_exit 3 "$dalil" backup --db "dbname=dalil_cli" --out "$work/backup.db"
grep -q "not yet supported on a PostgreSQL store: dalil backup" "$work/out" ||
  fail "backup: $(cat "$work/out")"
[ ! -e "$work/backup.db" ] || fail "a refused backup wrote a file"
# A key file that cannot be read fails as on SQLite (encrypted stores: encrypted_rw_test.sh).
expect_exit 1 "$dalil" batch --db "$url" --rules "$rules" --as-of 2016-03-01 --key-file "$work/none.key"
grep -q "none.key" "$work/out" || fail "batch with a missing key file: $(cat "$work/out")"
expect_exit 1 "$dalil" serve --db "$url" --rules "$rules" --key-file "$work/none.key"
grep -q "none.key" "$work/out" || fail "serve with a missing key file: $(cat "$work/out")"
# audit head and verify take a key (checked against an encrypted store's, tests/pg/encryption_test.sh):
# a key file that cannot be read fails as on SQLite.
expect_exit 1 "$dalil" audit head --db "$url" --key-file "$work/none.key"
grep -q "none.key" "$work/out" || fail "audit head with a missing key file: $(cat "$work/out")"
expect_exit 2 "$dalil" migrate --from "$db" --to "$work/not-a-conninfo.db"
n=$(psql -d dalil_cli -Atc "SELECT count(*) FROM audit")
[ "$n" = "$seq" ] || fail "a refused command appended to the log: $n entries, want $seq"

# A source tampered with: refused, nothing copied (the target stays empty). (A store with users,
# tokens and publications is copied: tests/pg/accounts_test.sh.)
psql -qc "CREATE DATABASE dalil_cli2" >/dev/null
url2="postgresql:///dalil_cli2"
cp "$db" "$work/tampered.db"
sqlite3 "$work/tampered.db" "UPDATE records SET json = replace(json, '\"', '\"') || ' ' WHERE record_id = 7"
expect_exit 1 "$dalil" migrate --from "$work/tampered.db" --to "$url2"
grep -q "does not verify" "$work/out" || fail "a tampered source: $(cat "$work/out")"
n=$(psql -d dalil_cli2 -Atc "SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM records)")
[ "$n" = 0 ] || fail "a refused migrate left $n rows in the target"
# A target holding nothing but a login attempt (any table the migrations create counts, not only
# the chain, records, rulesets and imports): refused, nothing copied, the attempt kept.
psql -d dalil_cli2 -qc "INSERT INTO login_attempts(at, account, address) VALUES(1, '\\x00', 'a')"
expect_exit 3 "$dalil" migrate --from "$db" --to "$url2"
grep -q "already holds a Dalil store (rows in login_attempts)" "$work/out" ||
  fail "a target with a login attempt: $(cat "$work/out")"
n=$(psql -d dalil_cli2 -Atc "SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM records)")
[ "$n" = 0 ] || fail "a migrate refused for a login attempt left $n rows in the target"
[ "$(psql -d dalil_cli2 -Atc "SELECT count(*) FROM login_attempts")" = 1 ] ||
  fail "a refused migrate changed the target's login attempts"

# Two migrates into one empty database at once: one copies, the other waits for the chain's lock,
# then finds the store there and is refused; the copy verifies against the source's head.
psql -qc "CREATE DATABASE dalil_cli3" >/dev/null
"$dalil" migrate --from "$db" --to "postgresql:///dalil_cli3" > "$work/m1" 2>&1 & p1=$!
"$dalil" migrate --from "$db" --to "postgresql:///dalil_cli3" > "$work/m2" 2>&1 & p2=$!
c1=0; wait "$p1" || c1=$?
c2=0; wait "$p2" || c2=$?
cat "$work/m1" "$work/m2" >> "$all"
codes="$(printf '%s\n' "$c1" "$c2" | sort | tr '\n' ' ')"
[ "$codes" = "0 3 " ] || fail "two migrates at once exited $c1 and $c2: $(cat "$work/m1" "$work/m2")"
expect_exit 0 "$dalil" audit verify --db "postgresql:///dalil_cli3" --head "$seq:$hash"

# A store made by the first release (schema 1: its ruleset entries hold no loaded_at), upgraded by
# this dalil, migrated: the copy verifies as the source does (no ruleset reported changed).
here=$(cd "$(dirname "$0")" && pwd)
cp "$here/../store/fixtures/store-v1.db" "$work/v1.db"
expect_exit 0 "$dalil" audit verify --db "$work/v1.db"
grep -q '"bytes"' <(sqlite3 "$work/v1.db" "SELECT details FROM audit WHERE action='ruleset'") ||
  fail "the fixture's ruleset entries are not of the first form"
sqlite3 "$work/v1.db" "SELECT details FROM audit WHERE action='ruleset'" | grep -q loaded_at &&
  fail "the fixture's ruleset entries hold a loaded_at: the case is not tested"
psql -qc "CREATE DATABASE dalil_cli4" >/dev/null
expect_exit 0 "$dalil" migrate --from "$work/v1.db" --to "postgresql:///dalil_cli4"
expect_exit 0 "$dalil" audit verify --db "postgresql:///dalil_cli4"

# A wrong password, a string that does not parse, a stray argument: no secret echoed.
wrong="WrongPw$RANDOM$RANDOM"
expect_exit 1 "$dalil" audit head --db "postgresql://$PGUSER:$wrong@$PGHOST:$PGPORT/dalil_cli"
grep -q "password authentication failed" "$work/out" || fail "wrong password: $(cat "$work/out")"
expect_exit 1 "$dalil" audit verify --db "postgresql://$PGUSER:$wrong%zz@$PGHOST/dalil_cli"
grep -q "does not parse" "$work/out" || fail "malformed URI: $(cat "$work/out")"
expect_exit 2 "$dalil" audit head --db "$url" stray
"$dalil" --help >> "$all" 2>&1
"$dalil" migrate --help >> "$all" 2>&1

# Tampering with the copy (past its append-only trigger) is found, naming the entry.
psql -d dalil_cli -qc "ALTER TABLE audit DISABLE TRIGGER USER; UPDATE audit SET actor = 'x' WHERE seq = 2" >/dev/null
expect_exit 1 "$dalil" audit verify --db "$url"
grep -q "TAMPERED: audit entry 2 (.*) was changed after it was written" "$work/out" || fail "tamper: $(cat "$work/out")"

# The secrets: in no output, no error, and nowhere in the database's log entries.
for secret in "$PGPASSWORD" "$wrong"; do
  if grep -qF "$secret" "$all"; then fail "a password was printed: $(grep -F "$secret" "$all" | head -3)"; fi
  if psql -d dalil_cli -Atc "SELECT * FROM audit" | grep -qF "$secret"; then fail "a password is in the audit log"; fi
done
grep -q "dalil_cli" "$all" && fail "the connection string's database name was printed: $(grep dalil_cli "$all" | head -3)"
echo "pg cli: migrate, head, verify, refusals and secrecy: ok"
