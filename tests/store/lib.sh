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

# counter_index_parts DB: the rows of the counter's applicants' index in its main, middle and
# recent parts, as "MAIN MID RECENT".
counter_index_parts() {
  sqlite3 "$1" "SELECT (SELECT count(*) FROM counter_applicants) || ' ' ||
    (SELECT count(*) FROM counter_applicants_mid) || ' ' || (SELECT count(*) FROM counter_applicants_recent)"
}

# spread_counter_index DB: the counter's applicants' index spread over its three parts, as the
# server's merges and drains leave it (tests/store/counter_test.cpp tests those): a third of the
# recent rows moved to the middle part, a third to the main part. Fails unless each part then
# holds some. Sets counter_indexed to the total of rows (not a subshell: fail ends the test).
spread_counter_index() {
  local main mid recent
  sqlite3 "$1" "INSERT OR IGNORE INTO counter_applicants_mid SELECT applicant_id, at, decision_id
      FROM counter_applicants_recent WHERE seq % 3 = 1;
    INSERT OR IGNORE INTO counter_applicants SELECT applicant_id, at, decision_id
      FROM counter_applicants_recent WHERE seq % 3 = 2;
    DELETE FROM counter_applicants_recent WHERE seq % 3 <> 0"
  read -r main mid recent <<< "$(counter_index_parts "$1")"
  [ "$main" -gt 0 ] && [ "$mid" -gt 0 ] && [ "$recent" -gt 0 ] ||
    fail "the applicants' index not spread over its parts: $main $mid $recent"
  # shellcheck disable=SC2034  # read by the test that sources this file
  counter_indexed=$((main + mid + recent))
}
