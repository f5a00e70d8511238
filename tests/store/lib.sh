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
