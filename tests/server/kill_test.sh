#!/usr/bin/env bash
# A kill under load: dalil serve is killed (SIGKILL) while clients evaluate; every decision that
# was answered must be in the store afterwards (the answer leaves only after its commit), and
# the audit chain must verify. Usage: kill_test.sh DALIL SOURCE_DIR
set -euo pipefail
dalil=$1
src=$2
work=$(mktemp -d)
trap 'kill -9 $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
db=$work/store.db
token=$("$dalil" token create loadtest --role official --office rabat --db "$db" 2>/dev/null | tail -1)
"$dalil" serve --db "$db" --rules "$src/rules" --listen 127.0.0.1:0 --log "$work/log" >"$work/out" 2>&1 &
pid=$!
# At most 60 s to start (a sanitized build on a loaded machine), less when the server dies.
for _ in $(seq 600); do grep -q listening "$work/out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/out")
[ -n "$port" ] || { echo "the server did not start"; cat "$work/out"; exit 1; }
# One request body per applicant of the sample cohort.
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-06-01","applicant":%s,"trace":false}' "$rec" >"$work/req$i.json"
  i=$((i + 1))
done <"$src/data/sample-cohort.jsonl"
count=$i
# Four clients, each sending requests in a loop and keeping the decision ids they were answered.
client() {
  local n=$1 k=0
  while :; do
    local f=$work/req$(((n * 7919 + k) % count)).json
    curl -s -m 5 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data @"$f" "http://127.0.0.1:$port/api/v1/evaluate" 2>/dev/null |
      grep -o '"decision_id":"[0-9a-f]*"' | cut -d'"' -f4 >>"$work/answered$n" || true
    k=$((k + 1))
  done
}
for n in 1 2 3 4; do client $n & done
sleep 3
kill -9 $pid
wait $pid 2>/dev/null || true
sleep 0.5
kill $(jobs -p) 2>/dev/null || true
wait 2>/dev/null || true
cat "$work"/answered* | sort -u >"$work/answered"
answered=$(wc -l <"$work/answered")
[ "$answered" -gt 20 ] || { echo "too few answers before the kill ($answered)"; exit 1; }
sqlite3 "$db" 'SELECT decision_id FROM counter_decisions' | sort -u >"$work/stored"
missing=$(comm -23 "$work/answered" "$work/stored" | wc -l)
echo "answered $answered, stored $(wc -l <"$work/stored"), answered but not stored: $missing"
[ "$missing" -eq 0 ] || exit 1
"$dalil" audit verify --db "$db"

# A graceful stop: SIGTERM ends the server with status 0, the store closed and verifiable.
"$dalil" serve --db "$db" --rules "$src/rules" --listen 127.0.0.1:0 >"$work/out2" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q listening "$work/out2" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/out2")
curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data @"$work/req0.json" "http://127.0.0.1:$port/api/v1/evaluate" | grep -q '"decision_id"'
kill -TERM $pid
status=0
wait $pid || status=$?
[ "$status" -eq 0 ] || { echo "SIGTERM: exit status $status"; cat "$work/out2"; exit 1; }
[ ! -s "$db-wal" ] || sqlite3 "$db" 'PRAGMA integrity_check' | grep -qx ok
"$dalil" audit verify --db "$db"
echo "graceful stop: exit 0, store verified"
