#!/usr/bin/env bash
# Connections past what the server can take: at its connection limit, and out of descriptors
# (EMFILE), it neither spins nor floods its log, and it serves again once connections close.
# Before: an EMFILE failed every accept at once, logged each, and spun a core (100 MB of log a
# second). Usage: descriptors_test.sh DALIL SOURCE_DIR
set -euo pipefail
dalil=$1
src=$2
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
fail() {
  echo "FAIL: $*"
  echo "--- the server's log (head)"
  head -20 "$work/log" 2>/dev/null || true
  exit 1
}

# start ARGS…: dalil serve with 64 descriptors at most (ulimit -n), its port in $port.
start() {
  : >"$work/log"
  bash -c "ulimit -n 64 && exec \"\$0\" serve --db \"$work/store.db\" --rules \"$src/rules\" \
    --listen 127.0.0.1:0 --log \"$work/log\" $*" "$dalil" >"$work/out" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/out"; fail "the server did not start"; }
}

# cpu_seconds: the server's user and system time so far, in hundredths of a second.
cpu() { awk -v hz="$hz" '{ printf "%d\n", ($14 + $15) * 100 / hz }' "/proc/$pid/stat"; }

# healthz: the status line of GET /healthz on a new connection, within 10 s.
healthz() {
  local h line=""
  exec {h}<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$h"
  read -r -t 10 line <&"$h" || true
  exec {h}>&-
  printf '%s\n' "${line%$'\r'}"
}

# flood NAME: 120 connections that send nothing, held 3 s; the server's CPU meanwhile, and its
# log, must show no spinning; then closed, after which the server answers again.
flood() {
  local name=$1 fds=() fd before after used lines
  for _ in $(seq 120); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    fds+=("$fd")
  done
  sleep 0.5
  before=$(cpu)
  sleep 3
  after=$(cpu)
  used=$((after - before))
  # Spinning took a whole core (300 hundredths in 3 s); waiting takes next to nothing.
  [ "$used" -lt 60 ] || fail "$name: the server used ${used}/100 s of CPU in 3 s with 120 idle connections"
  lines=$(wc -l <"$work/log")
  [ "$lines" -lt 10 ] || fail "$name: $lines log lines in 3 s"
  for fd in "${fds[@]}"; do exec {fd}>&-; done
  local status=""
  for _ in 1 2 3; do
    status=$(healthz)
    [[ "$status" == "HTTP/1.1 200"* ]] && break
    sleep 1
  done
  [[ "$status" == "HTTP/1.1 200"* ]] || fail "$name: /healthz answered '$status' after the connections closed"
  echo "$name: ok (CPU ${used}/100 s in 3 s, $lines log lines)"
}

stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "the server exited with $? on SIGTERM"
  pid=""
}

# The limit from the descriptors (64 less 64 kept, at least 16): the rest wait in the queue.
start
flood "at the connection limit"
grep -q 'connections open, the limit' "$work/log" || fail "the limit was not logged"
stop

# A limit past the descriptors: accept fails with EMFILE, is paused and logged once. Not under
# a sanitizer: its own checks need descriptors then (UBSan's vptr check opens a pipe to test a
# page, fails with EMFILE and reports an "invalid vptr" in Boost's error category, ending the
# process), which says nothing of the server.
if grep -aq __asan_init "$dalil" || grep -aq __tsan_init "$dalil"; then
  echo "out of descriptors: skipped (a sanitizer's build)"
  echo "descriptors: ok"
  exit 0
fi
start --max-connections 1000
flood "out of descriptors"
grep -q 'accept failed: Too many open files' "$work/log" || fail "EMFILE was not logged"
[ "$(grep -c 'accept failed' "$work/log")" -le 2 ] || fail "accept failures logged more than twice"
stop
echo "descriptors: ok"
