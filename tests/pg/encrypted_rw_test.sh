#!/usr/bin/env bash
# Reads and writes on an encrypted PostgreSQL store as on an encrypted SQLite store
# (docs/postgresql.md), inside run.sh's throwaway cluster (PG* set). A SQLite store encrypted
# from its first import (a batch with stored traces) is migrated; then every command runs on the
# SQLite store and on its PostgreSQL copy with the same master key, and their outputs are
# compared (the store's name taken out): stats, export, decisions and replay; an import of
# corrections; a batch (on PostgreSQL in two shards); erase; retention --due and --apply of
# records; keys rotate, then a batch that reads every record. After each write both hold the same
# rows in the same form (pseudonyms, latest versions, sealed lengths: same cipher, same
# plaintext; only the nonces differ), verify passes on both and counts the erased applicants in
# the same words, and no personal value of the cohort is in a `COPY … TO STDOUT` of any table.
# Without the key both refuse the same commands in the same words, nothing appended. A key bound
# by `keys init` to an empty PostgreSQL store: import and batch seal there too; a key with a plain
# PostgreSQL store is refused. The connection string is never printed.
set -euo pipefail
dalil="$1"; rules="$2"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
: "${PGPASSWORD:?run through tests/pg/run.sh}"
unset DALIL_MASTER_KEY
psql -qc "CREATE DATABASE dalil_rw1" >/dev/null
psql -qc "CREATE DATABASE dalil_rw2" >/dev/null
psql -qc "CREATE DATABASE dalil_rw3" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_rw1"
pg2="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_rw2"
pg3="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_rw3"
lite="$work/enc.db"; key="$work/master.key"; key2="$work/master2.key"
all="$work/all-output"

personal_values 200 11

# step NAME WANT ARGS…: runs `dalil ARGS… --db DB` on the SQLite store and on the PostgreSQL
# store (with $keyargs), output in $work/NAME.SIDE with the store's name taken out; both must
# exit WANT and print the same.
keyargs=(--key-file "$key")
step() {
  local name="$1" want="$2"; shift 2
  for side in lite pg; do
    local db=$lite got=0; [ "$side" = pg ] && db=$pg
    "$dalil" "$@" --db "$db" "${keyargs[@]}" > "$work/$name.$side" 2>&1 || got=$?
    cat "$work/$name.$side" >> "$all"
    [ "$got" = "$want" ] || fail "$name on $side exited $got, expected $want: $(cat "$work/$name.$side")"
    sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/$name.$side"
  done
  diff "$work/$name.lite" "$work/$name.pg" > "$work/diff" ||
    fail "$name differs between SQLite and PostgreSQL: $(cat "$work/diff")"
}
# Both stores hold the same rows in the same form: applicants, versions, latest flags, content
# hashes, the sealed records' and decision sets' lengths (same cipher and plaintext; the nonces
# differ), the same data keys' generations and erasures.
same_rows() {
  local what="$1"
  sqlite3 "$lite" "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id" > "$work/rows.lite"
  psql -d dalil_rw1 -AtF '|' -c "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id" > "$work/rows.pg"
  sqlite3 "$lite" "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace), substr(trace, 1, 8) FROM decision_sets ORDER BY run_id, record_id" >> "$work/rows.lite"
  psql -d dalil_rw1 -AtF '|' -c "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace), substr(trace, 1, 8) FROM decision_sets ORDER BY run_id, record_id" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT applicant_id, wrapped IS NULL, generation FROM data_keys ORDER BY applicant_id" >> "$work/rows.lite"
  psql -d dalil_rw1 -AtF '|' -c "SELECT applicant_id, CASE WHEN wrapped IS NULL THEN 1 ELSE 0 END, generation FROM data_keys ORDER BY applicant_id COLLATE \"C\"" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT count(*) FROM pseudonyms" >> "$work/rows.lite"
  psql -d dalil_rw1 -Atc "SELECT count(*) FROM pseudonyms" >> "$work/rows.pg"
  cmp -s "$work/rows.lite" "$work/rows.pg" ||
    fail "$what: the stores' rows differ: $(diff "$work/rows.lite" "$work/rows.pg" | head -5)"
}
# Verify passes on both and counts N erased applicants in the same words.
verified() {
  local n="$1" what="$2"
  for db in "$lite" "$pg"; do
    "$dalil" audit verify --db "$db" --key-file "$key" > "$work/verify" 2>&1 || fail "$what: verify: $(cat "$work/verify")"
    if [ "$n" = 0 ]; then
      if grep -q "applicant(s) erased" "$work/verify"; then fail "$what: verify counts erasures: $(cat "$work/verify")"; fi
    else
      grep -q "; $n applicant(s) erased (their data keys destroyed by audited erasures: their records are unreadable, their decisions still counted)" \
        "$work/verify" || fail "$what: verify does not count $n erased: $(cat "$work/verify")"
    fi
  done
}
# No personal value in any table of a PostgreSQL database.
secret() {
  local dbname="$1" what="$2"
  psql -d "$dbname" -Atc "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" > "$work/tables"
  while read -r t; do psql -d "$dbname" -qc "COPY \"$t\" TO STDOUT"; done < "$work/tables" > "$work/dump"
  [ "$(grep -c . "$work/dump")" -gt 400 ] || fail "$what: the dump is too short"
  if grep -F -c -f "$work/values.txt" "$work/dump" > "$work/hits"; then
    fail "$what: $(cat "$work/hits") line(s) with a personal value in the PostgreSQL store"
  fi
}

"$dalil" keys init --key-file "$key" --db "$lite" > /dev/null
"$dalil" keys init --key-file "$key2" > /dev/null  # the key rotated to, below
"$dalil" import --db "$lite" --key-file "$key" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$lite" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet \
  --store-traces > /dev/null
"$dalil" migrate --from "$lite" --to "$pg" > "$work/out" 2>&1 || fail "migrate: $(cat "$work/out")"
same_rows "migrated"
echo "ok   an encrypted SQLite store migrated"

# Without the key: the same refusals (exit 3, nothing appended), and what needs no key (stats).
keyargs=()
n=$(psql -d dalil_rw1 -Atc "SELECT count(*) FROM audit")
step no-key-import 3 import --rules "$rules" "$work/fix.jsonl"
grep -q "is encrypted: importing needs its master key" "$work/no-key-import.pg" || fail "$(cat "$work/no-key-import.pg")"
step no-key-batch 3 batch --rules "$rules" --as-of 2018-01-01 --quiet
step no-key-decisions 3 decisions SYN-000001
step no-key-stats 0 stats --rules "$rules"
[ "$(psql -d dalil_rw1 -Atc "SELECT count(*) FROM audit")" = "$n" ] || fail "a refused command appended"
keyargs=(--key-file "$key")
# A wrong key: refused at open in the same words.
"$dalil" keys init --key-file "$work/other.key" > /dev/null
keyargs=(--key-file "$work/other.key")
step wrong-key 3 stats --rules "$rules"
grep -q "the master key given is not this store's" "$work/wrong-key.pg" || fail "$(cat "$work/wrong-key.pg")"
keyargs=(--key-file "$key")
echo "ok   without the key, or with another, the same refusals; nothing appended"

# Reads with the key.
step stats 0 stats --rules "$rules"
step stats-json 0 stats --rules "$rules" --format json
step export 0 export --run 1 --format jsonl
grep -q '"decisions"' "$work/export.pg" || fail "export: $(head -c 300 "$work/export.pg")"
step export-csv 0 export --run 1 --format csv
step decisions 0 decisions SYN-000001
step replay 0 replay 1:7
echo "ok   stats, export, decisions and replay: the same on both"

# Writes: corrections received long ago (due for retention), then a batch (in two shards on
# PostgreSQL, which alone has them).
step import 0 import --rules "$rules" --reason "income corrected" --by clerk --received 2015-01-10 "$work/fix.jsonl"
"$dalil" batch --db "$lite" --key-file "$key" --rules "$rules" --as-of 2018-01-01 --quiet --store-traces > /dev/null
for s in 1 2; do
  "$dalil" batch --db "$pg" --key-file "$key" --rules "$rules" --as-of 2018-01-01 --quiet --store-traces \
    --shard "$s/2" > "$work/out" 2>&1 || fail "batch --shard $s/2: $(cat "$work/out")"
done
same_rows "after an import and a batch"
step export2 0 export --format jsonl
grep -c . "$work/export2.pg" | grep -qx 200 || fail "export of run 2: $(wc -l < "$work/export2.pg") lines"
step decisions2 0 decisions SYN-000150 --all
step replay2 0 replay 2:205
verified 0 "after an import and a batch"
secret dalil_rw1 "after an import and a batch in shards"
echo "ok   import (COPY) and a batch in 2 shards: the same rows as SQLite's, sealed; verify passes"

# Erasure.
step erase 0 erase SYN-000042 --reason "art. 8 request" --by dpo
step erase-again 1 erase SYN-000042 --reason "art. 8 request" --by dpo
step erased-decisions 1 decisions SYN-000042 --all
same_rows "after an erasure"
verified 1 "after an erasure"
echo "ok   erase: the same entry and rows; verify passes on both and reports 1 erased"

# Retention: the 10 corrected applicants were received in 2015.
step due 0 retention --due
grep -q "records: 10 applicant(s)" "$work/due.pg" || fail "due: $(cat "$work/due.pg")"
step apply 0 retention --apply --kind records --by "dpo:amina"
grep -q "erased 10 applicant(s)" "$work/apply.pg" || fail "apply: $(cat "$work/apply.pg")"
same_rows "after retention --apply"
verified 11 "after retention --apply"
echo "ok   retention --due and --apply of records: the same applicants erased, audited; verify passes"

# Rotation, then a batch that opens every record under the new key.
step rotate 0 keys rotate --new-key-file "$key2"
key="$key2"; keyargs=(--key-file "$key")
keyargs=(--key-file "$work/master.key")
step old-key 3 stats --rules "$rules"
keyargs=(--key-file "$key")
for db in "$lite" "$pg"; do
  "$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2019-01-01 --quiet > "$work/out" 2>&1 ||
    fail "batch after rotate: $(cat "$work/out")"
done
same_rows "after keys rotate and a batch"
step export3 0 export --format jsonl
[ "$(grep -c . "$work/export3.pg")" = 189 ] || fail "after rotate: $(wc -l < "$work/export3.pg") sets (189 expected)"
verified 11 "after keys rotate"
secret dalil_rw1 "after erase, retention and rotate"
echo "ok   keys rotate: every record readable under the new key (189 decided), verify passes"

# A key bound to an empty PostgreSQL store: what it imports and decides is sealed there.
"$dalil" keys init --key-file "$work/k3" --db "$pg2" > "$work/out" 2>&1 || fail "keys init on PostgreSQL: $(cat "$work/out")"
grep -q "^the PostgreSQL store: encrypted under the master key" "$work/out" || fail "keys init: $(cat "$work/out")"
"$dalil" import --db "$pg2" --key-file "$work/k3" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" batch --db "$pg2" --key-file "$work/k3" --rules "$rules" --as-of 2017-06-01 --quiet --store-traces > /dev/null
"$dalil" stats --db "$pg2" --key-file "$work/k3" --rules "$rules" > "$work/stats.k3"
"$dalil" audit verify --db "$pg2" --key-file "$work/k3" > "$work/out" 2>&1 || fail "verify: $(cat "$work/out")"
[ "$(psql -d dalil_rw2 -Atc "SELECT count(*) FROM records WHERE sealed IS NOT NULL AND json = ''")" = 200 ] ||
  fail "the records imported after keys init are not sealed"
secret dalil_rw2 "a store bound by keys init"
# A plain PostgreSQL store (keys init encrypts one in place: tests/pg/keys_in_place_test.sh).
"$dalil" import --db "$pg3" --rules "$rules" "$work/fix.jsonl" > /dev/null
# A key with a plain PostgreSQL store: import refused as on SQLite.
got=0; "$dalil" import --db "$pg3" --key-file "$work/k3" --rules "$rules" "$work/fix.jsonl" > "$work/out" 2>&1 || got=$?
[ "$got" = 3 ] || fail "import with a key into a plain store exited $got: $(cat "$work/out")"
echo "ok   keys init on an empty PostgreSQL store: imports and batches sealed; a key refused with a plain store"

if grep -F -q "$PGPASSWORD" "$all" "$work/out"; then fail "a command printed the password"; fi
echo "pg encrypted reads and writes: the same as on SQLite: ok"
