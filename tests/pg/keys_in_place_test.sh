#!/usr/bin/env bash
# `dalil keys init --db` over plain records on PostgreSQL as on SQLite (docs/postgresql.md): a
# plain SQLite store (imports with a correction, a batch with stored traces under a pack whose
# amounts are sealed, counter decisions of `dalil serve`) is migrated, then encrypted in place on
# both with the same key. Both print the same, append the same entries (the keys_init's time
# aside: the chain's details byte for byte), hold the same rows in the same form (pseudonyms,
# sealed lengths, data keys), verify with the head taken before, and the PostgreSQL store keeps
# no personal value of the cohort in a `COPY … TO STDOUT` of any table; reads and a batch with
# the key then give the same output. Refused (busy, exit 4, nothing changed) while another
# process holds the writer's lock, while a batch's lease is live, and while a `dalil serve` is
# connected (its counter would go on writing plain rows).
# Usage: keys_in_place_test.sh DALIL RULES COHORT (inside a cluster: tests/pg/run_shell.sh)
set -euo pipefail
dalil="$1"; rules="$2"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
unset DALIL_MASTER_KEY
psql -qc "CREATE DATABASE dalil_kip1" >/dev/null
psql -qc "CREATE DATABASE dalil_kip2" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_kip1"
pg2="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_kip2"
lite="$work/plain.db"; key="$work/master.key"
all="$work/all-output"

# A pack that explains the household's monthly income (an amount): the batch's sets then carry a
# value that encryption seals (as tests/store/sealed_decisions_test.sh does).
cp -r "$rules" "$work/rules"
rules="$work/rules"
python3 - "$rules/housing.dalil" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
a = "rule monthly_income : money\n"
assert a in s
s = s.replace(a, a + """  title fr "Revenu mensuel du ménage" ar "الدخل الشهري للأسرة" en "Monthly household income"
  explain fr "Revenu mensuel du ménage : {value}." ar "الدخل الشهري للأسرة: {value}."
          en "Monthly household income: {value}."
""")
open(p, "w", encoding="utf-8").write(s)
PY
personal_values 300 13

# The plain SQLite store: two imports, a batch with stored traces, 5 counter decisions.
"$dalil" import --db "$lite" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" import --db "$lite" --rules "$rules" --reason "income corrected" --by clerk "$work/fix.jsonl" > /dev/null
"$dalil" batch --db "$lite" --rules "$rules" --as-of 2017-06-01 --quiet --store-traces > /dev/null
off=$("$dalil" token create counter1 --role official --office rabat --db "$lite" | tail -1)
"$dalil" serve --db "$lite" --rules "$rules" --listen 127.0.0.1:0 --log "$work/serve.log" \
  > "$work/serve.out" 2>&1 &
pids+=("$!")
port=$(wait_listening "$work/serve.out" "$!")
[ -n "$port" ] || fail "the server did not start: $(cat "$work/serve.out")"
sed -n '290,294p' "$work/cohort.jsonl" > "$work/counter.jsonl"
sed -n '1p' "$work/fix.jsonl" | sed 's/4321.09/5432.10/' >> "$work/counter.jsonl"
echo "5432.10" >> "$work/values.txt"
while IFS= read -r rec; do
  code=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $off" \
    -H 'Content-Type: application/json' \
    --data "{\"as_of\":\"2026-06-01\",\"applicant\":$rec,\"trace\":false}" \
    "http://127.0.0.1:$port/api/v1/evaluate")
  [ "$code" = 200 ] || [ "$code" = 201 ] || fail "evaluate answered $code: $(cat "$work/body")"
done < "$work/counter.jsonl"
# Two of them reviewed, with an official's reason, documents and the applicant's observations
# (Latin and Arabic script): text that encrypting in place seals, searched for below.
n=0
for id in $(sqlite3 "$lite" "SELECT decision_id FROM counter_decisions ORDER BY rowid LIMIT 2"); do
  n=$((n + 1))
  rule=$(sqlite3 "$lite" "SELECT json_extract(rules, '\$[0]') FROM counter_decisions WHERE decision_id = '$id'")
  printf '{"supersedes":null,"decisions":[{"rule":"%s","outcome":"overridden","value":true,"reason":"Raison-Unique-7Q3-%s","documents":["Certificat-Medical-K9-%s"]}],"observations":"Observation-Privee-5W8-%s ملاحظة سرية ٧ق٣"}' \
    "$rule" "$n" "$n" "$n" > "$work/review.json"
  code=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $off" \
    -H 'Content-Type: application/json' --data @"$work/review.json" \
    "http://127.0.0.1:$port/api/v1/decisions/$id/review")
  [ "$code" = 201 ] || fail "review answered $code: $(cat "$work/body")"
  printf '%s\n' "Raison-Unique-7Q3-$n" "Certificat-Medical-K9-$n" "Observation-Privee-5W8-$n" >> "$work/values.txt"
done
echo "ملاحظة سرية ٧ق٣" >> "$work/values.txt"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
[ "$(sqlite3 "$lite" "SELECT count(*) FROM counter_decisions")" = 6 ] || fail "counter decisions"
[ "$(sqlite3 "$lite" "SELECT count(*) FROM reviews")" = 2 ] || fail "reviews"
"$dalil" migrate --from "$lite" --to "$pg" > "$work/out" 2>&1 || fail "migrate: $(cat "$work/out")"
head_before=$("$dalil" audit head --db "$lite" | tr ' ' ':')
[ "$("$dalil" audit head --db "$pg" | tr ' ' ':')" = "$head_before" ] || fail "heads differ before"
echo "ok   a plain SQLite store (imports, a batch with traces, counter decisions) migrated"

"$dalil" keys init --key-file "$key" > /dev/null

# A store with a record edited behind the tool's back is refused on both as on SQLite (exit 3,
# the same words, no value named) and left as it was: copies of both, the same record edited.
psql -qc "CREATE DATABASE dalil_kip3 TEMPLATE dalil_kip1" >/dev/null
pg3="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_kip3"
cp "$lite" "$work/tampered.db"
echo "98765.43" >> "$work/values.txt"
edit="UPDATE records SET json = replace(json, '\"annual_income\":\"', '\"annual_income\":\"98765.43\",\"x\":\"') WHERE record_id = 7"
sqlite3 "$work/tampered.db" "$edit"
psql -d dalil_kip3 -Xqc "$edit"
[ "$(psql -d dalil_kip3 -XAtc "SELECT count(*) FROM records WHERE json LIKE '%98765.43%'")" = 1 ] ||
  fail "the record was not edited"
tampered_rows() {
  psql -d dalil_kip3 -XAt -c "SELECT (SELECT count(*) FROM keyring), (SELECT count(*) FROM pseudonyms), (SELECT count(*) FROM data_keys), (SELECT max(seq) FROM audit)" \
    -c "COPY (SELECT record_id, applicant_id, version, json, sealed FROM records ORDER BY record_id) TO STDOUT" \
    -c "COPY (SELECT run_id, record_id, applicant_id, decisions, trace FROM decision_sets ORDER BY run_id, record_id) TO STDOUT" |
    sha256sum
}
rows_before=$(tampered_rows)
for side in lite pg; do
  db=$work/tampered.db; [ "$side" = pg ] && db=$pg3
  got=0; "$dalil" keys init --key-file "$key" --db "$db" > "$work/tampered.$side" 2>&1 || got=$?
  cat "$work/tampered.$side" >> "$all"
  [ "$got" = 3 ] || fail "keys init on a tampered $side store exited $got: $(cat "$work/tampered.$side")"
  sed -i "s|$work/tampered.db|STORE|g; s|the PostgreSQL store|STORE|g" "$work/tampered.$side"
  if grep -F -f "$work/values.txt" "$work/tampered.$side" > "$work/hits"; then
    fail "the refusal on $side echoes a personal value: $(cat "$work/hits")"
  fi
done
[ "$(cat "$work/tampered.pg")" = "refused: STORE: binding a master key to the store: the store does not verify (1 problem(s): \`dalil audit verify\` names them); a store is encrypted only when its audit log vouches for all it holds; nothing changed" ] ||
  fail "keys init on a tampered store: $(cat "$work/tampered.pg")"
diff "$work/tampered.lite" "$work/tampered.pg" || fail "the refusals differ"
[ "$(tampered_rows)" = "$rows_before" ] || fail "a refused keys init changed the PostgreSQL store"
psql -qc "DROP DATABASE dalil_kip3" >/dev/null
echo "ok   a store that does not verify: keys init refused on both in the same words (exit 3), no value named, nothing changed"

# Encrypted in place, both with the same key: the same output.
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  # On PostgreSQL in batches of 7 applicants (a test hook; 2,000 otherwise): 43 batches.
  got=0; DALIL_TEST_IN_PLACE_BATCH=7 "$dalil" keys init --key-file "$key" --db "$db" > "$work/init.$side" 2>&1 || got=$?
  cat "$work/init.$side" >> "$all"
  [ "$got" = 0 ] || fail "keys init on $side exited $got: $(cat "$work/init.$side")"
  sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/init.$side"
done
diff "$work/init.lite" "$work/init.pg" || fail "keys init prints differently"
# The same entries after the head, byte for byte but for the keys_init's time and, in the
# entries that vouch again for records and decision sets, the rows' tags and digest: a row's line
# holds the hash of its ciphertext, whose nonce is random (their length compared; each store's
# verify below recomputes them from its own rows).
seq_before=${head_before%%:*}
mask() {
  sed 's/"at":"[^"]*"/"at":AT/' |
    perl -pe 'if (/\|(records|decisions)\|/) { s/"tags":"([0-9a-f]*)"/qq("tags":) . length($1)/e; s/"digest":"[0-9a-f]{64}"/"digest":D/ } if (/\|review\|/) { s/"digest":"[0-9a-f]{64}"/"digest":D/ }'
}
sqlite3 -separator '|' "$lite" "SELECT seq, actor, action, subject, details FROM audit WHERE seq > $seq_before ORDER BY seq" |
  mask > "$work/entries.lite"
psql -d dalil_kip1 -XAtF '|' -c "SELECT seq, actor, action, subject, details FROM audit WHERE seq > $seq_before ORDER BY seq" |
  mask > "$work/entries.pg"
cmp -s "$work/entries.lite" "$work/entries.pg" ||
  fail "the entries differ: $(diff "$work/entries.lite" "$work/entries.pg" | head -c 600)"
for a in keys_init counter_decision review records decisions; do
  grep -q "|$a|" "$work/entries.pg" || fail "no $a entry after keys init: $(cut -c1-200 "$work/entries.pg")"
done
grep -q '"in_place":' "$work/entries.pg" || fail "the keys_init entry names no in_place"
grep -q '"reviews":2' "$work/entries.pg" || fail "the keys_init entry counts no reviews"
[ "$(grep -c '|review|.*"form":"sealed"' "$work/entries.pg")" = 2 ] || fail "the reviews not vouched for again, sealed"

# Both hold the same rows in the same form (the nonces aside).
same_rows() {
  local what="$1" db="$2"
  sqlite3 "$lite" "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id" > "$work/rows.lite"
  psql -d "$db" -XAtF '|' -c "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id" > "$work/rows.pg"
  sqlite3 "$lite" "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace), substr(trace, 1, 8) FROM decision_sets ORDER BY run_id, record_id" >> "$work/rows.lite"
  psql -d "$db" -XAtF '|' -c "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace), substr(trace, 1, 8) FROM decision_sets ORDER BY run_id, record_id" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT decision_id, record_id, applicant_id, outcomes FROM counter_decisions ORDER BY decision_id" >> "$work/rows.lite"
  psql -d "$db" -XAtF '|' -c "SELECT decision_id, record_id, applicant_id, outcomes FROM counter_decisions ORDER BY decision_id COLLATE \"C\"" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT review_id, decisions, observations, length(sealed) FROM reviews ORDER BY review_id" >> "$work/rows.lite"
  psql -d "$db" -XAtF '|' -c "SELECT review_id, decisions, observations, length(sealed) FROM reviews ORDER BY review_id COLLATE \"C\"" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT applicant_id, length(wrapped), generation FROM data_keys ORDER BY applicant_id" >> "$work/rows.lite"
  psql -d "$db" -XAtF '|' -c "SELECT applicant_id, length(wrapped), generation FROM data_keys ORDER BY applicant_id COLLATE \"C\"" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT applicant_id FROM applicants ORDER BY applicant_id" >> "$work/rows.lite"
  psql -d "$db" -XAt -c "SELECT applicant_id FROM applicants ORDER BY applicant_id COLLATE \"C\"" >> "$work/rows.pg"
  sqlite3 "$lite" "SELECT applicant_id FROM pseudonyms ORDER BY applicant_id" >> "$work/rows.lite"
  psql -d "$db" -XAt -c "SELECT applicant_id FROM pseudonyms ORDER BY applicant_id COLLATE \"C\"" >> "$work/rows.pg"
  cmp -s "$work/rows.lite" "$work/rows.pg" ||
    fail "$what: the stores' rows differ: $(diff "$work/rows.lite" "$work/rows.pg" | head -5)"
}
same_rows "after keys init in place" dalil_kip1
[ "$(psql -d dalil_kip1 -XAtc "SELECT count(*) FROM records WHERE sealed IS NULL OR json <> ''")" = 0 ] ||
  fail "records left plain"
# Every stored trace sealed; the monthly income sealed in every set that has one.
[ "$(psql -d dalil_kip1 -XAtc "SELECT count(*) FROM decision_sets WHERE trace LIKE 'sealed1:%'")" = 300 ] ||
  fail "stored traces not sealed"
[ "$(psql -d dalil_kip1 -XAtc "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NOT NULL")" -gt 250 ] ||
  fail "decision sets not sealed: $(psql -d dalil_kip1 -XAtc "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NOT NULL")"
for db in "$lite" "$pg"; do
  "$dalil" audit verify --db "$db" --head "$head_before" > "$work/verify" 2>&1 ||
    fail "verify after keys init: $(cat "$work/verify")"
  grep -q "the store was encrypted in place" "$work/verify" || fail "verify: $(cat "$work/verify")"
done
# No personal value in any table of the PostgreSQL store.
psql -d dalil_kip1 -XAtc "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" > "$work/tables"
while read -r t; do psql -d dalil_kip1 -Xqc "COPY \"$t\" TO STDOUT"; done < "$work/tables" > "$work/dump"
[ "$(grep -c . "$work/dump")" -gt 600 ] || fail "the dump is too short"
if grep -F -c -f "$work/values.txt" "$work/dump" > "$work/hits"; then
  fail "$(cat "$work/hits") line(s) with a personal value in the PostgreSQL store: $(grep -F -m1 -f "$work/values.txt" "$work/dump" | head -c 200)"
fi
echo "ok   keys init in place: the same output, entries and rows as SQLite's; verify --head passes; no personal value left"

# With the key: the same reads, and a batch that opens every record.
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  "$dalil" export --db "$db" --key-file "$key" --run 1 --format jsonl > "$work/export.$side" 2>&1 ||
    fail "export on $side: $(cat "$work/export.$side")"
  "$dalil" decisions SYN-000005 --db "$db" --key-file "$key" --all > "$work/dec.$side" 2>&1 ||
    fail "decisions on $side: $(cat "$work/dec.$side")"
  "$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2018-01-01 --quiet > "$work/out" 2>&1 ||
    fail "batch after keys init on $side: $(cat "$work/out")"
  cat "$work/export.$side" "$work/dec.$side" >> "$all"
done
cmp -s "$work/export.lite" "$work/export.pg" || fail "exports differ"
grep -q 'monthly_income' "$work/export.pg" || fail "export: $(head -c 300 "$work/export.pg")"
sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/dec.lite" "$work/dec.pg"
cmp -s "$work/dec.lite" "$work/dec.pg" || fail "decisions differ: $(diff "$work/dec.lite" "$work/dec.pg" | head -5)"
same_rows "after a batch on the encrypted stores" dalil_kip1
"$dalil" audit verify --db "$pg" > "$work/verify" 2>&1 || fail "verify after the batch: $(cat "$work/verify")"
echo "ok   with the key: export, decisions and a batch the same on both"

# Refusals on another plain store: busy (exit 4), nothing changed.
"$dalil" import --db "$pg2" --rules "$rules" "$work/fix.jsonl" > /dev/null
n=$(psql -d dalil_kip2 -XAtc "SELECT count(*) FROM audit")
refused() {  # refused WHAT PATTERN: keys init exits 4 saying PATTERN, and writes nothing
  local got=0
  "$dalil" keys init --key-file "$key" --db "$pg2" > "$work/out" 2>&1 || got=$?
  cat "$work/out" >> "$all"
  [ "$got" = 4 ] || fail "$1: keys init exited $got: $(cat "$work/out")"
  grep -q "$2" "$work/out" || fail "$1: $(cat "$work/out")"
  grep -q "nothing changed" "$work/out" || fail "$1: $(cat "$work/out")"
  [ "$(psql -d dalil_kip2 -XAtc "SELECT (SELECT count(*) FROM keyring) || ' ' || (SELECT count(*) FROM audit) || ' ' || (SELECT count(*) FROM records WHERE sealed IS NOT NULL)")" = "0 $n 0" ] ||
    fail "$1: a refused keys init wrote"
}
# Another process holds the writer's lock (as an import does).
psql -d dalil_kip2 -Xq -c "SELECT pg_advisory_lock(x'64616c696c03'::bigint), pg_sleep(30)" > /dev/null 2>&1 &
locker=$!; pids+=("$locker")
granted=0
for _ in $(seq 300); do  # at most 30 s
  [ "$(psql -d dalil_kip2 -XAtc "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] &&
    granted=1 && break
  sleep 0.1
done
[ "$granted" = 1 ] || fail "psql did not take the writer's lock within 30 s"
refused "writer lock" "holds the store's writer lock"
kill "$locker"; wait "$locker" 2>/dev/null || true
psql -d dalil_kip2 -XAtc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dalil_kip2' AND pid <> pg_backend_pid()" > /dev/null
# A batch's live lease (of another machine: not taken over).
psql -d dalil_kip2 -Xqc "INSERT INTO lease(name, token, run_id, pid, host, since, expires, machine) VALUES('writer', 't', 1, 1, 'elsewhere', '2026-01-01T00:00:00Z', extract(epoch FROM clock_timestamp())::bigint + 600, 'machine-id:elsewhere')"
refused "lease" "a batch holds the store's lease"
psql -d dalil_kip2 -Xqc "DELETE FROM lease"
# A server connected to the store (its counter opened it as plain).
off2=$("$dalil" token create counter2 --role official --office rabat --db "$pg2" | tail -1)
[ -n "$off2" ] || fail "token"
"$dalil" serve --db "$pg2" --rules "$rules" --listen 127.0.0.1:0 --log "$work/serve2.log" \
  > "$work/serve2.out" 2>&1 &
server=$!; pids+=("$server")
[ -n "$(wait_listening "$work/serve2.out" "$server")" ] ||
  fail "the server did not start: $(cat "$work/serve2.out")"
n=$(psql -d dalil_kip2 -XAtc "SELECT count(*) FROM audit")
refused "a running server" "other connection(s) to the database (a running dalil serve"
kill "$server"; wait "$server" 2>/dev/null || true
for _ in $(seq 50); do
  [ "$(psql -d dalil_kip2 -XAtc "SELECT count(*) FROM pg_stat_activity WHERE datname = 'dalil_kip2' AND pid <> pg_backend_pid()")" = 0 ] && break
  sleep 0.1
done
"$dalil" keys init --key-file "$key" --db "$pg2" > "$work/out" 2>&1 || fail "keys init once alone: $(cat "$work/out")"
"$dalil" audit verify --db "$pg2" > "$work/out" 2>&1 || fail "verify: $(cat "$work/out")"
echo "ok   refused (busy, nothing changed) under another's writer lock, a live lease, a running server; then done"

if grep -F -q "$PGPASSWORD" "$all"; then fail "a command printed the password"; fi
echo "pg keys init in place: the same as on SQLite: ok"
