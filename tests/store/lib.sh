# shellcheck shell=bash
# What the store's shell tests share (sourced after the test defines `fail`).

# none_found PATTERNS WHAT WHEN FILE...: each FILE that exists (a store, its WAL, a backup) is
# searched byte for byte for the lines of PATTERNS (personal values, review texts, ids); the
# test fails on the first file that holds any, saying how many: "N WHAT found in FILE WHEN".
none_found() {
  local patterns=$1 what=$2 when=$3 f n
  shift 3
  for f in "$@"; do
    [ -e "$f" ] || continue
    if n=$(grep -a -F -c -f "$patterns" "$f"); then
      fail "$n $what found in $(basename "$f")${when:+ $when}"
    fi
  done
}

# this_month_released: the counter's figures of a month are released the day after it ends
# (server/stats.hpp); a test that counts this month's decisions moves the statistics' clock of
# the servers it starts (a test hook, DALIL_TEST_STATS_CLOCK_OFFSET) to the 2nd of next month.
this_month_released() {
  local release
  release=$(date -u -d "$(date -u +%Y-%m-01) +1 month +1 day +1 hour" +%s)
  export DALIL_TEST_STATS_CLOCK_OFFSET=$((release - $(date -u +%s)))
}
