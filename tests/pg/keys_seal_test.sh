#!/usr/bin/env bash
# `dalil keys seal` on PostgreSQL as on SQLite (docs/postgresql.md), on a store migrated from an
# older SQLite store: tests/store/fixtures/store-sealed-v9.db (an encrypted store whose run 1 an
# older dalil wrote with every value in plain, run 2 with values sealed by their shape) is
# migrated as it is, then sealed on both with its key. Both print the same, append the same
# entries (the keys_seal's time aside, and the tags and digests of the sets' lines, which hash
# random-nonce ciphertext), hold the same decision sets (plain columns equal, sealed lengths
# equal), verify with the head taken before, read the same with the key as before sealing, and
# the PostgreSQL store keeps no amount of the sets in any table's `COPY … TO STDOUT`; a second
# keys seal changes nothing. Two reviews an older dalil kept in plain (made by a test hook) are
# sealed on both and vouched for again, their texts then in no table. Without the key: refused (exit 3), nothing appended; busy (exit 4)
# while a batch's lease is live.
# Usage: keys_seal_test.sh DALIL RULES COHORT (inside a cluster: tests/pg/run_shell.sh)
set -euo pipefail
dalil="$1"
fixtures="$(cd "$(dirname "$0")/../store/fixtures" && pwd)"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
unset DALIL_MASTER_KEY
psql -qc "CREATE DATABASE dalil_seal1" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_seal1"
lite="$work/store.db"; key="$work/master.key"
cp "$fixtures/store-sealed-v9.db" "$lite"
cp "$fixtures/store-sealed-v9.key" "$key"
chmod 600 "$key"
# Upgraded to this dalil's schema first (migrate copies a store of the current schema).
"$dalil" stats --db "$lite" --key-file "$key" > "$work/out" 2>&1 || fail "stats: $(cat "$work/out")"
# Two counter decisions reviewed as a dalil before sealed reviews kept them, in plain (the test
# hook DALIL_TEST_PLAIN_REVIEWS), with distinctive texts: keys seal seals them on both.
off=$("$dalil" token create clerk --role official --office rabat --db "$lite" 2>/dev/null | tail -1)
DALIL_TEST_PLAIN_REVIEWS=1 "$dalil" serve --db "$lite" --rules "$2" --key-file "$key" \
  --listen 127.0.0.1:0 --log "$work/serve.log" >"$work/serve.out" 2>&1 &
pids+=($!)
port=$(wait_listening "$work/serve.out" "$!")
[ -n "$port" ] || fail "the server did not start: $(cat "$work/serve.out")"
: > "$work/reviews.txt"
for n in 1 2; do
  rec=$(sed -n "${n}p" "$3")
  id=$(curl -s -m 10 -H "Authorization: Bearer $off" -H 'Content-Type: application/json' \
    --data "{\"as_of\":\"2026-06-01\",\"applicant\":$rec,\"trace\":false,\"rules\":[\"status.lawful_stay\"]}" \
    "http://127.0.0.1:$port/api/v1/evaluate" | grep -o '"decision_id":"[0-9a-f]*"' | cut -d'"' -f4)
  [ -n "$id" ] || fail "evaluate $n"
  code=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $off" \
    -H 'Content-Type: application/json' \
    --data "{\"supersedes\":null,\"decisions\":[{\"rule\":\"status.lawful_stay\",\"outcome\":\"overridden\",\"value\":true,\"reason\":\"Raison-Ancienne-4P8-$n\"}],\"observations\":\"Observation-Ancienne-2M5-$n\"}" \
    "http://127.0.0.1:$port/api/v1/decisions/$id/review")
  [ "$code" = 201 ] || fail "review $n answered $code: $(cat "$work/body")"
  printf '%s\n' "Raison-Ancienne-4P8-$n" "Observation-Ancienne-2M5-$n" >> "$work/reviews.txt"
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
[ "$(sqlite3 "$lite" "SELECT count(*) FROM reviews WHERE sealed IS NULL")" = 2 ] ||
  fail "the reviews were not kept in plain (a build without DALIL_TEST_HOOKS?)"
"$dalil" migrate --from "$lite" --to "$pg" > "$work/out" 2>&1 || fail "migrate: $(cat "$work/out")"
grep -q -F -f "$work/reviews.txt" <(psql -d dalil_seal1 -XAtc "SELECT decisions || observations FROM reviews") ||
  fail "the plain reviews were not migrated as they were"
head_before=$("$dalil" audit head --db "$lite" | tr ' ' ':')
[ "$("$dalil" audit head --db "$pg" | tr ' ' ':')" = "$head_before" ] || fail "heads differ"
# The amounts the sets keep in plain before sealing (long enough not to be found by chance).
psql -d dalil_seal1 -XAtc "SELECT decisions FROM decision_sets" | python3 -c 'import json, sys
for line in sys.stdin:
    for v in json.loads(line):
        if isinstance(v[1], str) and v[1][:1].isdigit() and len(v[1]) >= 6:
            print(json.dumps(v[1]))' | sort -u > "$work/amounts.txt"
[ "$(wc -l < "$work/amounts.txt")" -ge 20 ] || fail "too few amounts in plain in the fixture"
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  for run in 1 2; do
    "$dalil" export --db "$db" --key-file "$key" --run "$run" > "$work/run$run.$side.before" 2>&1 ||
      fail "export before on $side: $(cat "$work/run$run.$side.before")"
  done
done
cmp -s "$work/run1.lite.before" "$work/run1.pg.before" || fail "exports differ before sealing"
n=$(psql -d dalil_seal1 -XAtc "SELECT count(*) FROM audit")
code=0; "$dalil" keys seal --db "$pg" > "$work/out" 2>&1 || code=$?
[ "$code" = 3 ] || fail "keys seal without the key exited $code: $(cat "$work/out")"
grep -q "is encrypted: sealing decision sets needs its master key" "$work/out" || fail "$(cat "$work/out")"
psql -d dalil_seal1 -Xqc "INSERT INTO lease(name, token, run_id, pid, host, since, expires, machine) VALUES('writer', 't', 1, 1, 'elsewhere', '2026-01-01T00:00:00Z', extract(epoch FROM clock_timestamp())::bigint + 600, 'machine-id:elsewhere')"
code=0; "$dalil" keys seal --db "$pg" --key-file "$key" > "$work/out" 2>&1 || code=$?
[ "$code" = 4 ] || fail "keys seal under a lease exited $code: $(cat "$work/out")"
grep -q "a batch holds the store's lease" "$work/out" || fail "$(cat "$work/out")"
psql -d dalil_seal1 -Xqc "DELETE FROM lease"
[ "$(psql -d dalil_seal1 -XAtc "SELECT count(*) FROM audit")" = "$n" ] || fail "a refused keys seal appended"
echo "ok   without the key refused, under a lease busy; nothing appended"

for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  "$dalil" keys seal --db "$db" --key-file "$key" > "$work/seal.$side" 2>&1 || fail "keys seal on $side: $(cat "$work/seal.$side")"
  sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/seal.$side"
done
diff "$work/seal.lite" "$work/seal.pg" || fail "keys seal prints differently"
grep -q "decision set(s) and counter decision(s) sealed in place" "$work/seal.pg" || fail "$(cat "$work/seal.pg")"
seq_before=${head_before%%:*}
mask() {
  sed 's/"at":"[^"]*"/"at":AT/' |
    perl -pe 'if (/\|(records|decisions)\|/) { s/"tags":"([0-9a-f]*)"/qq("tags":) . length($1)/e; s/"digest":"[0-9a-f]{64}"/"digest":D/ } if (/\|review\|/) { s/"digest":"[0-9a-f]{64}"/"digest":D/ }'
}
sqlite3 -separator '|' "$lite" "SELECT seq, actor, action, subject, details FROM audit WHERE seq > $seq_before ORDER BY seq" | mask > "$work/entries.lite"
psql -d dalil_seal1 -XAtF '|' -c "SELECT seq, actor, action, subject, details FROM audit WHERE seq > $seq_before ORDER BY seq" | mask > "$work/entries.pg"
cmp -s "$work/entries.lite" "$work/entries.pg" || fail "the entries differ: $(diff "$work/entries.lite" "$work/entries.pg" | head -c 600)"
grep -q '|keys_seal|' "$work/entries.pg" || fail "no keys_seal entry"
grep -q '|decisions|' "$work/entries.pg" || fail "no decisions entry after keys_seal"
grep -q '|keys_seal|.*"reviews":2' "$work/entries.pg" || fail "the keys_seal entry does not count the reviews"
[ "$(grep -c '|review|.*"form":"sealed".*"replaces":' "$work/entries.pg")" = 2 ] || fail "the reviews not vouched for again"
sqlite3 "$lite" "SELECT review_id, decisions, observations, length(sealed) FROM reviews ORDER BY review_id" > "$work/reviews.lite"
psql -d dalil_seal1 -XAtF '|' -c "SELECT review_id, decisions, observations, length(sealed) FROM reviews ORDER BY review_id COLLATE \"C\"" > "$work/reviews.pg"
cmp -s "$work/reviews.lite" "$work/reviews.pg" || fail "the reviews differ: $(diff "$work/reviews.lite" "$work/reviews.pg" | head -5)"
sqlite3 "$lite" "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace) FROM decision_sets ORDER BY run_id, record_id" > "$work/rows.lite"
psql -d dalil_seal1 -XAtF '|' -c "SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace) FROM decision_sets ORDER BY run_id, record_id" > "$work/rows.pg"
cmp -s "$work/rows.lite" "$work/rows.pg" || fail "the sets differ: $(diff "$work/rows.lite" "$work/rows.pg" | head -5)"
[ "$(psql -d dalil_seal1 -XAtc "SELECT count(*) FROM decision_sets WHERE sealed_decisions IS NULL")" = 0 ] ||
  fail "a set was left without sealed values"
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  "$dalil" audit verify --db "$db" --head "$head_before" > "$work/out" 2>&1 || fail "verify on $side: $(cat "$work/out")"
  for run in 1 2; do
    "$dalil" export --db "$db" --key-file "$key" --run "$run" > "$work/after" 2>&1 || fail "export after: $(cat "$work/after")"
    cmp -s "$work/run$run.$side.before" "$work/after" || fail "run $run reads differently after sealing on $side"
  done
done
psql -d dalil_seal1 -XAtc "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" > "$work/tables"
while read -r t; do psql -d dalil_seal1 -Xqc "COPY \"$t\" TO STDOUT"; done < "$work/tables" > "$work/dump"
if grep -F -c -f "$work/amounts.txt" "$work/dump" > "$work/hits"; then
  fail "$(cat "$work/hits") line(s) with an amount left in the PostgreSQL store"
fi
if grep -F -c -f "$work/reviews.txt" "$work/dump" > "$work/hits"; then
  fail "$(cat "$work/hits") line(s) with a review's text left in the PostgreSQL store"
fi
echo "ok   keys seal: the same output, entries and sets as SQLite's; verify --head; export unchanged; no amount left"

for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  "$dalil" keys seal --db "$db" --key-file "$key" > "$work/out" 2>&1 || fail "keys seal again: $(cat "$work/out")"
  grep -q "nothing changed" "$work/out" || fail "keys seal again on $side: $(cat "$work/out")"
done
[ "$(psql -d dalil_seal1 -XAtc "SELECT count(*) FROM audit WHERE action = 'keys_seal'")" = 1 ] || fail "a second keys seal appended"
if grep -F -q "$PGPASSWORD" "$work/seal.pg" "$work/out"; then fail "a command printed the password"; fi
echo "pg keys seal: the same as on SQLite: ok"
