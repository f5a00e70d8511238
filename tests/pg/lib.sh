# What the PostgreSQL shell tests share (sourced, after `set -euo pipefail`):
# a work folder, removed at exit unless KEEP is set; `pids`, the processes a test starts, killed
# at exit; `fail`; the check that the test runs inside run.sh's throwaway cluster; and
# `personal_values`, the cohort of the encryption tests and the values they search the store for.
# shellcheck shell=bash
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }  # on standard error: seen from inside $(…) too
: "${PGPASSWORD:?run through tests/pg/run.sh}"

# personal_values COUNT SEED: a generated cohort of COUNT applicants in $work/cohort.jsonl; the
# personal values searched for in $work/values.txt (ids, birth dates, incomes: distinctive
# strings, less those the rule pack $rules itself holds); $work/fix.jsonl, corrections of its
# first 10 records with an income of 4321.09, a value searched for too. Uses $dalil.
# shellcheck disable=SC2154 # dalil and rules: the sourcing test's arguments
personal_values() {
  local count=$1 seed=$2
  "$dalil" generate --count "$count" --seed "$seed" --out "$work/cohort.jsonl"
  python3 - "$work/cohort.jsonl" "$rules" > "$work/values.txt" <<'PY'
import json, pathlib, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[2]).rglob("*.dalil"))
def emit(v):
    if v not in pack: print(v)
for line in open(sys.argv[1]):
    r = json.loads(line)
    emit(r["id"])
    if r.get("birth_date"): emit(r["birth_date"])
    h = r.get("household") or {}
    if h.get("annual_income"): emit(h["annual_income"])
PY
  [ "$(wc -l < "$work/values.txt")" -gt $((count * 3 / 2)) ] || fail "too few personal values to search for"
  head -10 "$work/cohort.jsonl" | sed 's/"annual_income":"[0-9.]*"/"annual_income":"4321.09"/' \
    > "$work/fix.jsonl"
  echo "4321.09" >> "$work/values.txt"
}

# wait_listening OUT PID: waits until the server PID has written its "listening" line to OUT (at
# most 60 s: a sanitized build on a loaded machine starts slowly), or has died; prints its port,
# nothing when it did not start.
wait_listening() {
  local _
  for _ in $(seq 600); do
    grep -q '^listening' "$1" && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$1"
}

# this_month_released: the counter's figures of a month are released the day after it ends
# (server/stats.hpp); a test that counts this month's decisions moves the statistics' clock of
# the servers it starts (a test hook, DALIL_TEST_STATS_CLOCK_OFFSET) to the 2nd of next month.
this_month_released() {
  local release
  release=$(date -u -d "$(date -u +%Y-%m-01) +1 month +1 day +1 hour" +%s)
  export DALIL_TEST_STATS_CLOCK_OFFSET=$((release - $(date -u +%s)))
}
