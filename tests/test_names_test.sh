#!/usr/bin/env bash
# Catch2 v2's console reporter indents the lines of a test case's name that follow its first
# ": " to just after it; when that indent reaches the report's width (80 columns), a failing
# test no longer reports: the reporter loops, writing without end (40 GB in five seconds here,
# with NDEBUG), or aborts ("terminate called recursively"). So a test that fails must have a
# name whose first ": " starts before column 76 (measured: 75 reports, 76 loops). And a name
# must hold no ';': catch_discover_tests registers names as a CMake list, so CTest would get the
# name cut at it, which Catch2 then matches to no test and passes without running anything (nine
# test cases ran only in CI's ThreadSanitizer stage, which runs the binaries by tag). Lists every
# test case of the Catch2 binaries given and names those that would not report or not run.
#   bash tests/test_names_test.sh BINARY...
set -euo pipefail
bad=0
for bin in "$@"; do
  while IFS= read -r name; do
    prefix="${name%%: *}"
    if [[ "$prefix" != "$name" ]] && ((${#prefix} >= 76)); then
      echo "FAIL $(basename "$bin"): \"$name\": its first ': ' is at column ${#prefix}; move it before 76 or drop it"
      bad=$((bad + 1))
    fi
    if [[ "$name" == *";"* ]]; then
      echo "FAIL $(basename "$bin"): \"$name\": a ';' cuts the name CTest registers, and the cut name runs no test"
      bad=$((bad + 1))
    fi
  done < <("$bin" --list-test-names-only)
done
((bad == 0)) || exit 1
echo "every test case's name reports (first ': ' before column 76) and runs (no ';') in $# binaries"
