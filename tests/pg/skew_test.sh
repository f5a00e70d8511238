#!/usr/bin/env bash
# Two `dalil serve` processes on one PostgreSQL database whose wall clocks are wrong (issue 17),
# inside run.sh's throwaway cluster (PG* set): server a is 2 days slow, server b 2 days fast (the
# test hook DALIL_TEST_CLOCK_OFFSET, in builds with DALIL_TEST_HOOKS). Sessions, bearer tokens
# and the login rate limits go by PostgreSQL's clock (store::accounts::now), so both agree to the
# second: a login on one works on the other; an idle session (--session-idle 2) is still good one
# second after its last use and refused two seconds after it, on both; a session kept alive on
# one is not ended by the other; a token valid for one more day works on both; failed logins on
# the slow one count on the fast one; the counter's statistics release the same month on each,
# and on a third server 40 days fast; `dalil audit verify` is clean afterwards. With the servers'
# own clocks instead, the first step fails (the fast server sees a session 4 days old).
# Usage: skew_test.sh DALIL RULES
# shellcheck disable=SC2154 # port_X is set by start (printf -v)
set -euo pipefail
dalil="$1"; rules="$2"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
psql -qc "CREATE DATABASE dalil_skew" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_skew"
sql() { psql -d dalil_skew -XAtqc "$1"; }
day=86400

for u in alice bob; do
  printf 'a-long-password-%s\n' "$u" | "$dalil" user add "$u" --role official --office rabat \
    --db "$pg" >/dev/null 2>&1
done
# Valid for one more day by PostgreSQL's clock: expired by the fast server's own clock.
token=$("$dalil" token create counter1 --role official --office rabat --expires 1 --db "$pg" |
  tail -1)

# start NAME OFFSET: a server whose wall clock is OFFSET seconds off; its port in $port_NAME.
start() {
  DALIL_TEST_CLOCK_OFFSET=$2 "$dalil" serve --db "$pg" --rules "$rules" --listen 127.0.0.1:0 \
    --session-idle 2 --log "$work/$1.log" >"$work/$1.out" 2>&1 &
  pids+=("$!")
  local port
  port=$(wait_listening "$work/$1.out" "$!")
  [ -n "$port" ] || { cat "$work/$1.out"; fail "server $1 did not start"; }
  grep -q 'DALIL_TEST_CLOCK_OFFSET' "$work/$1.log" ||
    fail "server $1 does not shift its clock: this dalil was built without DALIL_TEST_HOOKS"
  printf -v "port_$1" '%s' "$port"
}
start a $((-2 * day))
start b $((2 * day))
echo "two servers on one database, a 2 days slow (port $port_a), b 2 days fast (port $port_b)"

# status PORT METHOD PATH BODY [HEADER…]: the HTTP status; the body in $work/body, the headers in
# $work/headers.
status() {
  local port=$1 method=$2 path=$3 body=$4
  shift 4
  local args=(-s -m 10 -D "$work/headers" -o "$work/body" -w '%{http_code}' -X "$method")
  for h in "$@"; do args+=(-H "$h"); done
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "http://127.0.0.1:$port$path" || true
}
# login USER PORT: the session cookie's value of a login that must succeed.
login() {
  local got
  got=$(status "$2" POST /api/v1/login "{\"user\":\"$1\",\"password\":\"a-long-password-$1\"}")
  [ "$got" = 200 ] || fail "the login of $1 on port $2 answered $got"
  sed -n 's/^[Ss]et-[Cc]ookie: __Host-dalil=\([^;]*\).*/\1/p' "$work/headers" | tr -d '\r'
}
# session PORT COOKIE: the status of GET /api/v1/session with that session.
session() { status "$1" GET /api/v1/session '' "Cookie: __Host-dalil=$2"; }
# last_seen COOKIE: the session's last use as the store keeps it (PostgreSQL's Unix seconds).
last_seen() {
  sql "SELECT last_seen FROM sessions WHERE id_hash = sha256(convert_to('$1', 'UTF8'))"
}
# at SECONDS: waits until PostgreSQL's clock reads SECONDS (a fraction allowed); fails rather
# than wait more than 10 s (a time read from a wrong clock).
pg_skew=$(python3 -c '
import subprocess, sys, time
before = time.time()
pg = float(subprocess.check_output(["psql", "-d", "dalil_skew", "-XAtqc",
     "SELECT extract(epoch FROM clock_timestamp())"]))
print(pg - (before + time.time()) / 2)')
at() {
  python3 -c '
import sys, time
wait = float(sys.argv[1]) - float(sys.argv[2]) - time.time()
if wait > 10:
    sys.exit("FAIL: a wait of %.0f s: the session times are not by PostgreSQL'"'"'s clock" % wait)
time.sleep(max(0.0, wait))' "$1" "$pg_skew"
}

# A "still good" check needs the machine to be quick: a session last used at second L is good
# until L + 2 (--session-idle 2). A refusal says something about the servers only when
# PostgreSQL's clock read at most L + 1 once the answer was in; a refusal later than that (a
# loaded CI runner held the request: it happened once) says nothing, and the step is taken
# again with a new session, at most five times.
pg_now() { sql "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint"; }
# use PORT COOKIE SINCE: one use of the session; SINCE is PostgreSQL's clock at or before its
# previous use. 0: good; 1: refused in time (a failure); 2: refused late (nothing learnt).
use() {
  local got after
  got=$(session "$1" "$2")
  [ "$got" = 200 ] && return 0
  after=$(pg_now)
  if [ "$after" -le "$(($3 + 1))" ]; then
    echo "refused ($got) by port $1 at L + $((after - $3)), L its previous use" >&2
    return 1
  fi
  return 2
}
# step WHAT FN ARGS…: runs FN (which returns as use does) until it passes, fails with WHAT on a
# refusal in time; a late one is taken again, at most five times.
step() {
  local what=$1 r
  shift
  for try in 1 2 3 4 5; do
    r=0
    "$@" || r=$?
    [ "$r" = 0 ] && return 0
    [ "$r" = 2 ] || fail "$what"
    echo "($what: answered late on try $try, taken again)"
  done
  fail "$what: five tries, each answered too late to tell"
}

# 1. A session opened on either works on the other at once (a's clock reads it 4 days newer
# than b's).
opened_then_used() {  # OPEN_PORT USE_PORT
  local c
  c=$(login alice "$1") || return 1
  use "$2" "$c" "$(last_seen "$c")"
}
step "a session opened on the slow server is refused on the fast one" \
  opened_then_used "$port_a" "$port_b"
step "a session opened on the fast server is refused on the slow one" \
  opened_then_used "$port_b" "$port_a"
echo "sessions: opened on either server, good on the other"

# 2. Idle expiry (--session-idle 2) at the same second of PostgreSQL's clock on both: a session
# last used at second L is good at L + 1 and refused at L + 2, whichever server opened it and
# whichever checks it. One session for each check (a check is a use: it moves L).
good_a_second_later() {  # OPEN_PORT USE_PORT
  local c l
  c=$(login alice "$1") || return 1
  l=$(last_seen "$c")
  at "$((l + 1)).3"
  use "$2" "$c" "$l"
}
for check in a b; do
  other=b
  [ "$check" = a ] || other=a
  check_port=port_$check
  other_port=port_$other
  step "server $check refused a session 1 s after its last use" \
    good_a_second_later "${!other_port}" "${!check_port}"
  c=$(login alice "${!other_port}")
  l=$(last_seen "$c")
  at "$((l + 2)).3"
  got=$(session "${!check_port}" "$c")
  [ "$got" = 401 ] || fail "server $check kept a session 2 s after its last use ($got)"
done
echo "idle sessions: good 1 s after their last use, refused 2 s after, on both servers"

# 3. A session kept alive on one server is not ended by the other: used on a, then on b every
# half second for 3 s (longer than the idle time), then on a again.
kept_alive() {
  local c since next r
  c=$(login alice "$port_b") || return 1
  since=$(last_seen "$c")
  for p in "$port_a" b b b b b b "$port_a"; do
    if [ "$p" = b ]; then
      sleep 0.5
      p=$port_b
    fi
    next=$(pg_now)  # at or before this use: the next one's SINCE
    r=0
    use "$p" "$c" "$since" || r=$?
    [ "$r" = 0 ] || return "$r"
    since=$next
  done
}
step "a session kept alive on b was refused (by b, or by a: idle by a's last sight of it)" \
  kept_alive
echo "a session in use on one server is not ended by the other"

# 4. A token valid for one more day by PostgreSQL's clock: good on both.
for p in a b; do
  port_var=port_$p
  [ "$(status "${!port_var}" GET /api/v1/rules '' "Authorization: Bearer $token")" = 200 ] ||
    fail "a token valid for one more day is refused by server $p"
done
echo "a token valid for one more day: accepted by both"

# 5. Failed logins on the slow server count on the fast one (the last step: the address is rate
# limited afterwards). The wait is the window's, not days.
for _ in 1 2 3 4 5; do
  [ "$(status "$port_a" POST /api/v1/login '{"user":"bob","password":"not-the-password"}')" = 401 ] ||
    fail "a failed login on a was not 401"
done
[ "$(status "$port_b" POST /api/v1/login '{"user":"bob","password":"a-long-password-bob"}')" = 429 ] ||
  fail "failed logins on the slow server do not count on the fast one"
wait=$(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$work/headers" | tr -d '\r')
{ [ -n "$wait" ] && [ "$wait" -ge 1 ] && [ "$wait" -le 900 ]; } ||
  fail "Retry-After is not within the 15-minute window: '$wait'"
echo "login rate limit: five failures on the slow server, the next login on the fast one 429 (Retry-After ${wait} s)"

# 6. The counter's statistics are released by month, a day after the month ends, by
# PostgreSQL's clock: a server 40 days fast releases no month early (by its own clock it would
# release the month now running, and keep its figures before it ends).
start c $((40 * day))
adviser=$("$dalil" token create analyst --role adviser --db "$pg" | tail -1)
# In UTC, as the server counts months (the session's time zone may be another).
released=$(sql "SELECT to_char(date_trunc('month', (clock_timestamp() AT TIME ZONE 'UTC') - \
  interval '1 day') - interval '1 month', 'YYYY-MM')")
running=$(sql "SELECT to_char((clock_timestamp() AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM')")
for p in a b c; do
  port_var=port_$p
  [ "$(status "${!port_var}" GET /api/v1/stats '' "Authorization: Bearer $adviser")" = 200 ] ||
    fail "server $p: GET /api/v1/stats answered $(cat "$work/body")"
  grep -q "\"period\":{\"month\":\"$released\"" "$work/body" ||
    fail "server $p releases another month than $released: $(head -c 200 "$work/body")"
  [ "$(status "${!port_var}" GET "/api/v1/stats?month=$running" '' \
    "Authorization: Bearer $adviser")" = 404 ] ||
    fail "server $p released $running before it ended"
done
[ "$(sql "SELECT count(*) FROM counter_month_figures WHERE month >= '$running'")" = 0 ] ||
  fail "a month's figures were kept before it ended"
echo "statistics: the servers 2 days slow, 2 days fast and 40 days fast all release $released, not $running"

# 7. The servers stop on SIGTERM; the chain and every row verify.
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "a server's exit status on SIGTERM: $?"; done
pids=()
"$dalil" audit verify --db "$pg" >"$work/verify" || { cat "$work/verify"; fail "audit verify"; }
echo "two servers with skewed clocks: audit verify clean ($(sql 'SELECT count(*) FROM audit') entries)"
