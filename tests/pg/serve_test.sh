#!/usr/bin/env bash
# Two `dalil serve` processes on one PostgreSQL database (issue 17), inside run.sh's throwaway
# cluster (PG* set): they share one audit chain, one set of decisions and reviews, the users,
# tokens, sessions and login rate limits. Clients evaluate on both at once; a decision answered by
# one is read on the other; both review the same decisions at once and exactly one review of each
# pair is stored (the other answered 409); a session opened on one works on the other and ends on
# both; failed logins on one count on the other; a token created or revoked by the CLI while they
# run is seen by both; one server killed (SIGKILL) under load loses no answered decision; the
# other stops gracefully on SIGTERM; `dalil audit verify` passes on the database afterwards.
# Usage: serve_test.sh DALIL RULES COHORT
# shellcheck disable=SC2154 # port_X and pid_X are set by start (printf -v)
set -euo pipefail
dalil="$1"; rules="$2"; cohort="$3"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
psql -qc "CREATE DATABASE dalil_serve" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_serve"
sql() { psql -d dalil_serve -XAtqc "$1"; }

off=$("$dalil" token create counter1 --role official --office rabat --db "$pg" | tail -1)
aud=$("$dalil" token create audit1 --role auditor --db "$pg" | tail -1)
printf 'a-long-password-1\n' | "$dalil" user add alice --role official --office rabat --db "$pg" \
  >/dev/null
printf 'a-long-password-2\n' | "$dalil" user add bob --role official --office rabat --db "$pg" \
  >/dev/null

# start NAME: a server on a free loopback port; its port in $port_NAME, its pid in $pid_NAME.
start() {
  "$dalil" serve --db "$pg" --rules "$rules" --listen 127.0.0.1:0 --log "$work/$1.log" \
    >"$work/$1.out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local port
  port=$(wait_listening "$work/$1.out" "$!")
  [ -n "$port" ] || { cat "$work/$1.out"; fail "server $1 did not start"; }
  printf -v "port_$1" '%s' "$port"
  printf -v "pid_$1" '%s' "$pid"
}
start a
start b
echo "two servers on one database: ports $port_a and $port_b"

# status PORT METHOD PATH BODY [HEADER…]: the HTTP status ("" BODY: none); the body in
# $work/body.
status() {
  local port=$1 method=$2 path=$3 body=$4
  shift 4
  local args=(-s -m 10 -o "$work/body" -w '%{http_code}' -X "$method")
  for h in "$@"; do args+=(-H "$h"); done
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "http://127.0.0.1:$port$path" || true
}

# eventually PORT WANT METHOD PATH [HEADER…]: whether PORT answers WANT within 3 s (what another
# process changed is seen by a server within its 250 ms revocation check).
eventually() {
  local port=$1 want=$2 method=$3 path=$4
  shift 4
  for _ in $(seq 30); do
    [ "$(status "$port" "$method" "$path" '' "$@")" = "$want" ] && return 0
    sleep 0.1
  done
  return 1
}

# Request bodies: one per applicant of the sample cohort.
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-06-01","applicant":%s,"trace":false}' "$rec" >"$work/req$i.json"
  i=$((i + 1))
done <"$cohort"
count=$i

# client N PORT: evaluates in a loop on PORT, keeping the decision ids it was answered.
client() {
  local n=$1 port=$2 k=0
  while :; do
    local f=$work/req$(((n * 7919 + k) % count)).json
    curl -s -m 5 -H "Authorization: Bearer $off" -H 'Content-Type: application/json' \
      --data @"$f" "http://127.0.0.1:$port/api/v1/evaluate" 2>/dev/null |
      grep -o '"decision_id":"[0-9a-f]*"' | cut -d'"' -f4 >>"$work/answered$n" || true
    k=$((k + 1))
  done
}
load() {  # load SECONDS: two clients on each server
  local cpids=()
  client 1 "$port_a" & cpids+=($!)
  client 2 "$port_a" & cpids+=($!)
  client 3 "$port_b" & cpids+=($!)
  client 4 "$port_b" & cpids+=($!)
  sleep "$1"
  kill "${cpids[@]}" 2>/dev/null || true
  wait "${cpids[@]}" 2>/dev/null || true
}

# 1. Both evaluate at once; every answer stored once; each read on the other server.
load 4
cat "$work"/answered[12] | sort -u >"$work/on_a"
cat "$work"/answered[34] | sort -u >"$work/on_b"
[ "$(wc -l <"$work/on_a")" -gt 10 ] || fail "too few answers from server a"
[ "$(wc -l <"$work/on_b")" -gt 10 ] || fail "too few answers from server b"
sort -u "$work/on_a" "$work/on_b" >"$work/answered"
sql 'SELECT decision_id FROM counter_decisions' | sort >"$work/stored"
[ "$(sort "$work/stored" | uniq -d | wc -l)" -eq 0 ] || fail "a decision stored twice"
# Every answer stored; a request in flight when its client was stopped may be stored unanswered
# (at most one per client).
[ "$(comm -23 "$work/answered" "$work/stored" | wc -l)" -eq 0 ] || fail "an answered decision is not stored"
[ "$(comm -13 "$work/answered" "$work/stored" | wc -l)" -le 4 ] || fail "more stored than answered"
echo "evaluated on both: $(wc -l <"$work/on_a") + $(wc -l <"$work/on_b") decisions, each stored once"
for id in $(head -5 "$work/on_a"); do
  [ "$(status "$port_b" GET "/api/v1/decisions/$id" '' "Authorization: Bearer $off")" = 200 ] ||
    fail "a decision answered by a is not read on b"
done
for id in $(head -5 "$work/on_b"); do
  [ "$(status "$port_a" GET "/api/v1/decisions/$id" '' "Authorization: Bearer $off")" = 200 ] ||
    fail "a decision answered by b is not read on a"
done

# 2. The same first review sent to both servers at once: one stored, the other 409.
review='{"supersedes":null,"decisions":[{"rule":"assistance.legal_aid","outcome":"overridden","value":true,"reason":"document shown"}]}'
n=0
for id in $(head -20 "$work/answered"); do
  rpids=()
  for p in a b; do
    port_var=port_$p
    curl -s -m 10 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $off" \
      -H 'Content-Type: application/json' --data "$review" \
      "http://127.0.0.1:${!port_var}/api/v1/decisions/$id/review" >"$work/review_$p" &
    rpids+=($!)
  done
  wait "${rpids[@]}"
  got=$(cat "$work/review_a" "$work/review_b" | sort | tr '\n' ' ')
  [ "$got" = "201 409 " ] || fail "concurrent reviews of one decision answered: $got"
  [ "$(sql "SELECT count(*) FROM reviews WHERE decision_id = '$id'")" = 1 ] ||
    fail "concurrent reviews: not one review stored"
  n=$((n + 1))
done
echo "concurrent reviews: $n decisions, each one review stored and one refused (409)"

# 3. A session opened on a works on b (with its CSRF token), and a logout on b ends it on a.
curl -s -m 10 -D "$work/headers" -o "$work/login" -H 'Content-Type: application/json' \
  --data '{"user":"alice","password":"a-long-password-1"}' "http://127.0.0.1:$port_a/api/v1/login"
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-dalil=[^;]*\).*/\1/p' "$work/headers" | tr -d '\r')
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$work/login")
{ [ -n "$cookie" ] && [ -n "$csrf" ]; } || fail "no session from the login on a"
[ "$(status "$port_b" POST /api/v1/evaluate "$(cat "$work/req0.json")" "Cookie: $cookie" \
  "X-CSRF-Token: $csrf")" = 200 ] || fail "a session opened on a is refused on b"
[ "$(status "$port_b" POST /api/v1/logout '' "Cookie: $cookie" "X-CSRF-Token: $csrf")" = 204 ] ||
  fail "logout on b"
eventually "$port_a" 401 GET /api/v1/session "Cookie: $cookie" ||
  fail "a session ended on b still works on a"
echo "sessions: opened on a, used on b, ended on b and on a"

# 4. Failed logins count on both: five on a, the sixth on b is rate limited (429, Retry-After).
for _ in 1 2 3 4 5; do
  [ "$(status "$port_a" POST /api/v1/login '{"user":"bob","password":"not-the-password"}')" = 401 ] ||
    fail "a failed login on a was not 401"
done
curl -s -m 10 -D "$work/headers" -o /dev/null -H 'Content-Type: application/json' \
  --data '{"user":"bob","password":"a-long-password-2"}' "http://127.0.0.1:$port_b/api/v1/login"
head -1 "$work/headers" | grep -q ' 429' || fail "failed logins on a do not count on b"
grep -qi '^retry-after: [0-9]' "$work/headers" || fail "no Retry-After on the 429"
echo "login rate limit: five failures on a, the next login on b answered 429"

# 5. A token created, then revoked, by the CLI while both run: seen by both.
late=$("$dalil" token create counter2 --role official --office rabat --db "$pg" | tail -1)
for p in a b; do
  port_var=port_$p
  eventually "${!port_var}" 200 GET /api/v1/rules "Authorization: Bearer $late" ||
    fail "a token created while server $p runs is not accepted there"
done
"$dalil" token revoke counter2 --db "$pg" >/dev/null
for p in a b; do
  port_var=port_$p
  eventually "${!port_var}" 401 GET /api/v1/rules "Authorization: Bearer $late" ||
    fail "a token revoked while server $p runs is still accepted there"
done
echo "tokens: created and revoked by the CLI, seen by both servers"

# 6. Server a killed under load: every decision answered (by either) is stored once.
rm -f "$work"/answered[1-4]
client 1 "$port_a" & c1=$!
client 2 "$port_a" & c2=$!
client 3 "$port_b" & c3=$!
client 4 "$port_b" & c4=$!
sleep 3
kill -9 "$pid_a"
sleep 1
kill "$c1" "$c2" "$c3" "$c4" 2>/dev/null || true
wait "$c1" "$c2" "$c3" "$c4" 2>/dev/null || true
cat "$work"/answered[1-4] "$work/answered" | sort -u >"$work/answered_all"
sql 'SELECT decision_id FROM counter_decisions' | sort >"$work/stored"
[ "$(uniq -d "$work/stored" | wc -l)" -eq 0 ] || fail "a decision stored twice"
missing=$(comm -23 "$work/answered_all" "$work/stored" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing answered decisions are not stored after the kill"
echo "kill -9 of a under load: $(wc -l <"$work/answered_all") answered, all stored"

# 7. b stops on SIGTERM with status 0; the audit chain and every row verify, on the CLI and
# through the API of a new server.
kill -TERM "$pid_b"
st=0
wait "$pid_b" || st=$?
[ "$st" -eq 0 ] || { cat "$work/b.out"; fail "SIGTERM: exit status $st"; }
"$dalil" audit verify --db "$pg" >"$work/verify" || { cat "$work/verify"; fail "audit verify"; }
start c
[ "$(status "$port_c" GET /api/v1/audit/verify '' "Authorization: Bearer $aud")" = 200 ] ||
  fail "GET /api/v1/audit/verify"
grep -q '"ok":true' "$work/body" || { cat "$work/body"; fail "the API's verify is not ok"; }
# No personal value in any server's log: an applicant id of the cohort.
first_id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$cohort")
! grep -qF "$first_id" "$work"/*.log || fail "an applicant id in a server's log"
echo "two servers: audit verify clean ($(sql 'SELECT count(*) FROM counter_decisions') decisions, $(sql 'SELECT count(*) FROM reviews') reviews)"
