#!/usr/bin/env bash
# An encrypted SQLite store migrated to PostgreSQL stays encrypted (docs/postgresql.md), inside
# run.sh's throwaway cluster (PG* set). Two sources: a store encrypted from its first import
# (records corrected, traces stored, decision values sealed, one applicant erased, the master key
# rotated), and a plain store encrypted in place whose keys were then re-sealed (keys init
# in place, keys reseal: entries that vouch for rows again). Each is migrated without its key;
# the head is the same; the sealed bytes, wrapped keys, pseudonyms and keyring are the source's;
# verify passes on the copy with and without the master key, in the same words as on SQLite for
# the erased applicant; a wrong key is refused; no personal value of the cohort is in a dump of
# the database; reading or writing records on the copy without the key is refused, and the
# counter, nothing written; damage behind the tool's back (a sealed record, a destroyed data key, the keyring) is
# named in the same words as on SQLite.
set -euo pipefail
dalil="$1"; rules="$2"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
: "${PGPASSWORD:?run through tests/pg/run.sh}"
unset DALIL_MASTER_KEY
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
psql -qc "CREATE DATABASE dalil_enc1" >/dev/null
psql -qc "CREATE DATABASE dalil_enc2" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_enc1"
pg2="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_enc2"
lite="$work/enc.db"; key="$work/master.key"; key2="$work/master2.key"

personal_values 200 11

"$dalil" keys init --key-file "$key" --db "$lite" > /dev/null
"$dalil" import --db "$lite" --key-file "$key" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$lite" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet \
  --store-traces > /dev/null
"$dalil" import --db "$lite" --key-file "$key" --rules "$rules" --reason "income corrected" \
  --by clerk "$work/fix.jsonl" > /dev/null
"$dalil" batch --db "$lite" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet \
  > /dev/null
"$dalil" erase SYN-000042 --db "$lite" --key-file "$key" --reason "art. 8 request" --by dpo > /dev/null
"$dalil" keys rotate --db "$lite" --key-file "$key" --new-key-file "$key2" > "$work/out" 2>&1 ||
  fail "keys rotate: $(cat "$work/out")"
key="$key2"
[ "$(sqlite3 "$lite" "SELECT count(*) FROM decision_sets WHERE trace GLOB 'sealed1:*'")" -gt 0 ] ||
  fail "the source has no sealed traces"
"$dalil" audit verify --db "$lite" > "$work/verify.lite" 2>&1 || fail "source: $(cat "$work/verify.lite")"

# Migrated without a key (none in the environment either).
"$dalil" migrate --from "$lite" --to "$pg" > "$work/out" 2>&1 || fail "migrate: $(cat "$work/out")"
grep -q "^  data_keys: 200$" "$work/out" || fail "migrate did not copy the data keys: $(cat "$work/out")"
[ "$("$dalil" audit head --db "$lite")" = "$("$dalil" audit head --db "$pg")" ] ||
  fail "the heads differ after migrate"
# The sealed bytes and wrapped keys are the source's (hex of the same bytes).
same() {  # what, PostgreSQL query, SQLite query: the same text on both
  [ "$(psql -d dalil_enc1 -Atc "$2" | md5sum)" = "$(sqlite3 "$lite" "$3" | md5sum)" ] ||
    fail "$1 not copied as they were"
}
same "sealed records" "SELECT string_agg(encode(sealed, 'hex'), ',' ORDER BY record_id) FROM records" \
  "SELECT group_concat(h, ',') FROM (SELECT lower(hex(sealed)) AS h FROM records ORDER BY record_id)"
same "wrapped keys" \
  "SELECT string_agg(applicant_id || ':' || coalesce(encode(wrapped, 'hex'), '-'), ',' ORDER BY applicant_id COLLATE \"C\") FROM data_keys" \
  "SELECT group_concat(h, ',') FROM (SELECT applicant_id || ':' || CASE WHEN wrapped IS NULL THEN '-' ELSE lower(hex(wrapped)) END AS h FROM data_keys ORDER BY applicant_id)"
same "pseudonyms" "SELECT string_agg(lookup || ':' || applicant_id, ',' ORDER BY lookup COLLATE \"C\") FROM pseudonyms" \
  "SELECT group_concat(h, ',') FROM (SELECT lookup || ':' || applicant_id AS h FROM pseudonyms ORDER BY lookup)"
same "the keyring's fields" "SELECT key_check || ':' || encode(lookup_key, 'hex') || ':' || generation FROM keyring" \
  "SELECT key_check || ':' || lower(hex(lookup_key)) || ':' || generation FROM keyring"
same "sealed decision values" \
  "SELECT string_agg(coalesce(encode(sealed_decisions, 'hex'), '-'), ',' ORDER BY run_id, record_id) FROM decision_sets" \
  "SELECT group_concat(h, ',') FROM (SELECT CASE WHEN sealed_decisions IS NULL THEN '-' ELSE lower(hex(sealed_decisions)) END AS h FROM decision_sets ORDER BY run_id, record_id)"
for k in "" "--key-file $key"; do
  # shellcheck disable=SC2086
  "$dalil" audit verify --db "$pg" $k > "$work/verify.pg" 2>&1 || fail "verify of the copy ($k): $(cat "$work/verify.pg")"
  grep -q "1 applicant(s) erased (their data keys destroyed by audited erasures: their records are unreadable, their decisions still counted)" \
    "$work/verify.pg" || fail "verify does not count the erased applicant: $(cat "$work/verify.pg")"
  grep -q "1 applicant(s) erased (their data keys destroyed by audited erasures: their records are unreadable, their decisions still counted)" \
    "$work/verify.lite" || fail "SQLite's verify words changed: $(cat "$work/verify.lite")"
done
DALIL_MASTER_KEY=$(cat "$key") "$dalil" audit head --db "$pg" > /dev/null ||
  fail "audit head with the key in the environment"
expect_exit 3 "$dalil" audit verify --db "$pg" --key-file "$work/master.key"
grep -q "the master key given is not this PostgreSQL store's" "$work/out" || fail "old key: $(cat "$work/out")"
echo "ok   an encrypted store migrated: head equal, sealed bytes and keys as they were, verify with and without the key, 1 erased"

# No personal value in the database: every table, as text.
psql -d dalil_enc1 -Atc "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" > "$work/tables"
[ "$(wc -l < "$work/tables")" -gt 20 ] || fail "too few tables: $(cat "$work/tables")"
while read -r t; do psql -d dalil_enc1 -qc "COPY \"$t\" TO STDOUT"; done < "$work/tables" > "$work/dump"
[ "$(grep -c . "$work/dump")" -gt 1000 ] || fail "the dump is too short"
if grep -F -c -f "$work/values.txt" "$work/dump" > "$work/hits"; then
  fail "$(cat "$work/hits") personal value(s) in the PostgreSQL store"
fi
# The same search finds them in a plain store migrated (the search can fail).
"$dalil" import --db "$work/plain.db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" migrate --from "$work/plain.db" --to "$pg2" > /dev/null
psql -d dalil_enc2 -qc "COPY records TO STDOUT" > "$work/plain.dump"
hits=$(grep -F -c -f "$work/values.txt" "$work/plain.dump" || true)
[ "$hits" -gt 100 ] || fail "the search finds only $hits personal values in a plain store"
echo "ok   no personal value in any table of the migrated encrypted store ($hits lines with one in a plain one)"

# Without the master key the copy's records are not read or written (encrypted_rw_test.sh runs
# them with it), nor the counter's (serve_encrypted_test.sh serves one with it). Refused before
# anything is written.
n=$(psql -d dalil_enc1 -Atc "SELECT count(*) FROM audit")
for cmd in "import --rules $rules $work/fix.jsonl" "batch --rules $rules --as-of 2018-01-01" \
           "decisions SYN-000001" "serve --rules $rules --listen 127.0.0.1:0"; do
  got=0
  # shellcheck disable=SC2086
  "$dalil" $cmd --db "$pg" > "$work/out" 2>&1 || got=$?
  [ "$got" = 3 ] || fail "$cmd on the encrypted copy exited $got: $(cat "$work/out")"
  case "$cmd" in
    serve*) grep -q "the PostgreSQL store is encrypted: dalil serve needs its master key" "$work/out" ;;
    *) grep -q "the PostgreSQL store is encrypted: .* needs its master key (--key-file FILE, or DALIL_MASTER_KEY)" "$work/out" ;;
  esac || fail "$cmd: $(cat "$work/out")"
  if grep -F -q "$PGPASSWORD" "$work/out"; then fail "$cmd printed the password"; fi
done
[ "$(psql -d dalil_enc1 -Atc "SELECT count(*) FROM audit")" = "$n" ] || fail "a refused command appended"
echo "ok   without the master key, reads and writes of the encrypted copy refused; the counter too; nothing written"

# Damage behind the tool's back: named as on SQLite.
tamper() {  # name, SQLite SQL, PostgreSQL SQL, SQLite undo, PostgreSQL undo
  local name="$1"
  sqlite3 "$lite" "$2"; psql -d dalil_enc1 -qc "$3"
  for side in lite pg; do
    local db=$lite got=0; [ "$side" = pg ] && db=$pg
    "$dalil" audit verify --db "$db" > "$work/$side.out" 2>&1 || got=$?
    [ "$got" = 1 ] || fail "$name: verify on $side exited $got: $(cat "$work/$side.out")"
    grep "^TAMPERED:" "$work/$side.out" | grep -v "more problems" > "$work/$side.lines" || true
    [ -s "$work/$side.lines" ] || fail "$name on $side: $(cat "$work/$side.out")"
  done
  cmp -s "$work/lite.lines" "$work/pg.lines" ||
    fail "$name: SQLite and PostgreSQL say different things: $(diff "$work/lite.lines" "$work/pg.lines")"
  sqlite3 "$lite" "$4"; psql -d dalil_enc1 -qc "$5"
  "$dalil" audit verify --db "$pg" > "$work/out" 2>&1 || fail "$name: not clean once restored: $(cat "$work/out")"
  echo "  $name: $(head -1 "$work/pg.lines")"
}
tamper "a sealed record's bytes changed" \
  "CREATE TABLE saved_r AS SELECT sealed FROM records WHERE record_id = 3; UPDATE records SET sealed = zeroblob(length(sealed)) WHERE record_id = 3" \
  "CREATE TABLE saved_r AS SELECT sealed FROM records WHERE record_id = 3; UPDATE records SET sealed = decode(repeat('00', length(sealed)), 'hex') WHERE record_id = 3" \
  "UPDATE records SET sealed = (SELECT sealed FROM saved_r) WHERE record_id = 3; DROP TABLE saved_r" \
  "UPDATE records SET sealed = (SELECT sealed FROM saved_r) WHERE record_id = 3; DROP TABLE saved_r"
who=$(sqlite3 "$lite" "SELECT applicant_id FROM records WHERE record_id = 5")
tamper "a data key destroyed" \
  "CREATE TABLE saved AS SELECT * FROM data_keys WHERE applicant_id = '$who'; UPDATE data_keys SET wrapped = NULL WHERE applicant_id = '$who'" \
  "CREATE TABLE saved AS SELECT * FROM data_keys WHERE applicant_id = '$who'; UPDATE data_keys SET wrapped = NULL WHERE applicant_id = '$who'" \
  "UPDATE data_keys SET wrapped = (SELECT wrapped FROM saved) WHERE applicant_id = '$who'; DROP TABLE saved" \
  "UPDATE data_keys SET wrapped = (SELECT wrapped FROM saved) WHERE applicant_id = '$who'; DROP TABLE saved"
tamper "the keyring's check value changed" \
  "UPDATE keyring SET key_check = 'x' || key_check" "UPDATE keyring SET key_check = 'x' || key_check" \
  "UPDATE keyring SET key_check = substr(key_check, 2)" "UPDATE keyring SET key_check = substr(key_check, 2)"

# A plain store encrypted in place, its keys then re-sealed (entries that vouch for rows again),
# migrated: verify passes on the copy.
psql -qc "CREATE DATABASE dalil_enc3" >/dev/null
pg3="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_enc3"
place="$work/place.db"; key3="$work/place.key"
export DALIL_TEST_PORTABLE_GCM=1  # format-1 keys (a build with test hooks), for keys reseal
"$dalil" import --db "$place" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$place" --rules "$rules" --as-of 2017-06-01 --quiet --store-traces > /dev/null
"$dalil" keys init --key-file "$key3" --db "$place" > "$work/out" 2>&1 || fail "keys init in place: $(cat "$work/out")"
unset DALIL_TEST_PORTABLE_GCM
"$dalil" keys seal --db "$place" --key-file "$key3" > "$work/out" 2>&1 || fail "keys seal: $(cat "$work/out")"
resealed=no
if [ "$(sqlite3 "$place" "SELECT count(*) FROM data_keys WHERE length(wrapped) = 72")" -gt 0 ]; then
  "$dalil" keys reseal --db "$place" --key-file "$key3" --per-transaction 50 > "$work/out" 2>&1 ||
    fail "keys reseal: $(cat "$work/out")"
  resealed=yes
fi
"$dalil" audit verify --db "$place" > "$work/out" 2>&1 || fail "source in place: $(cat "$work/out")"
"$dalil" migrate --from "$place" --to "$pg3" > "$work/out" 2>&1 || fail "migrate in place: $(cat "$work/out")"
[ "$("$dalil" audit head --db "$place")" = "$("$dalil" audit head --db "$pg3")" ] || fail "heads differ (in place)"
"$dalil" audit verify --db "$pg3" --key-file "$key3" > "$work/out" 2>&1 ||
  fail "verify of the copy of a store encrypted in place: $(cat "$work/out")"
echo "ok   a store encrypted in place, sealed (keys seal) and re-sealed ($resealed), migrated: verify passes"
echo "pg encryption: migrate keeps it encrypted, verify, secrecy, refusals: ok"
