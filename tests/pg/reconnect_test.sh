#!/usr/bin/env bash
# A running `dalil serve` on PostgreSQL outlives its connections (issue 17), inside run.sh's
# throwaway cluster (PG* set): every backend of its database is terminated
# (pg_terminate_backend, as an administrator or a failover does), twice, and then the cluster
# itself is restarted (pg_ctlcluster, when this cluster is one of postgresql-common's); after
# each, the server's next requests are answered (an evaluation 200, a review 201, a decision read
# 200) on reset connections, every answered decision is stored once, `dalil audit verify` passes,
# and neither the password nor the connection string appears in its output or log.
# Usage: reconnect_test.sh DALIL RULES COHORT
set -euo pipefail
dalil="$1"; rules="$2"; cohort="$3"
work=$(mktemp -d)
server=""
cleanup() {
  [ -z "$server" ] || kill -9 "$server" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_reconnect" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_reconnect"
sql() { psql -d dalil_reconnect -XAtqc "$1"; }

off=$("$dalil" token create counter1 --role official --office rabat --db "$pg" | tail -1)
"$dalil" serve --db "$pg" --rules "$rules" --listen 127.0.0.1:0 --log "$work/serve.log" \
  >"$work/serve.out" 2>&1 &
server=$!
# At most 60 s to start (a sanitized build on a loaded machine), less when the server dies.
for _ in $(seq 600); do
  grep -q '^listening' "$work/serve.out" && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || { cat "$work/serve.out"; fail "the server did not start"; }

# Request bodies: the first applicants of the sample cohort.
i=0
while IFS= read -r rec && [ "$i" -lt 20 ]; do
  printf '{"as_of":"2026-06-01","applicant":%s,"trace":false}' "$rec" >"$work/req$i.json"
  i=$((i + 1))
done <"$cohort"

# status METHOD PATH BODY-FILE: the HTTP status ("" BODY-FILE: none); the body in $work/body.
status() {
  local args=(-s -m 20 -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $off")
  [ -z "$3" ] || args+=(-H 'Content-Type: application/json' --data @"$3")
  curl "${args[@]}" "http://127.0.0.1:$port$2" || true
}

# round NAME: five evaluations (200 each, their decision ids kept), the first reviewed (201),
# each read back (200).
review=$work/review.json
printf '%s' '{"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"overridden","value":true,"reason":"document shown"}]}' >"$review"
round() {
  local ids=()
  for k in 0 1 2 3 4; do
    local f=$work/req$(((round_no * 5 + k) % 20)).json got
    got=$(status POST /api/v1/evaluate "$f")
    [ "$got" = 200 ] || { cat "$work/body"; fail "$1: an evaluation answered $got"; }
    ids+=("$(grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4)")
  done
  printf '%s\n' "${ids[@]}" >>"$work/answered"
  got=$(status POST "/api/v1/decisions/${ids[0]}/review" "$review")
  [ "$got" = 201 ] || { cat "$work/body"; fail "$1: a review answered $got"; }
  for id in "${ids[@]}"; do
    got=$(status GET "/api/v1/decisions/$id" '')
    [ "$got" = 200 ] || fail "$1: reading a decision answered $got"
  done
  round_no=$((round_no + 1))
}
round_no=0
round "before"

# terminate: ends every backend of the database but this psql's; prints how many.
terminate() {
  sql "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
       WHERE datname = current_database() AND backend_type = 'client backend'
         AND pid <> pg_backend_pid()) t"
}
for n in 1 2; do
  ended=$(terminate)
  [ "$ended" -ge 1 ] || fail "no backend of the server to terminate"
  round "after terminating its backends ($n)"
  echo "terminated the server's $ended backend(s): its next requests answered"
done

if command -v pg_ctlcluster >/dev/null && [ -n "${PGVERSION:-}" ] &&
  pg_lsclusters -h 2>/dev/null | grep -q "^$PGVERSION regress "; then
  pg_ctlcluster "$PGVERSION" regress restart
  round "after the cluster's restart"
  echo "restarted the cluster: the server's next requests answered"
else
  echo "skipped: the cluster restart (not a postgresql-common cluster)"
fi

# Every answered decision stored once; the server stops cleanly; the chain and rows verify.
sort -u "$work/answered" >"$work/answered_sorted"
sql 'SELECT decision_id FROM counter_decisions' | sort >"$work/stored"
[ "$(uniq -d "$work/stored" | wc -l)" -eq 0 ] || fail "a decision stored twice"
cmp -s "$work/answered_sorted" "$work/stored" || fail "the decisions stored are not those answered"
[ "$(sql 'SELECT count(*) FROM reviews')" = "$round_no" ] || fail "not one review per round"
kill -TERM "$server"
st=0
wait "$server" || st=$?
server=""
[ "$st" -eq 0 ] || { cat "$work/serve.out"; fail "SIGTERM: exit status $st"; }
"$dalil" audit verify --db "$pg" >"$work/verify" || { cat "$work/verify"; fail "audit verify"; }
! grep -qF "$PGPASSWORD" "$work/serve.out" "$work/serve.log" ||
  fail "the password in the server's output or log"
echo "reconnects: $(wc -l <"$work/stored") decisions answered and stored, audit verify clean"
