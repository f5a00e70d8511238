#!/usr/bin/env bash
# clang-format for C++ and `dalil fmt` for rule sources. With --check, changes nothing and fails
# when something is not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [[ "${1:-}" == "--check" ]]; then
  clang-format --dry-run -Werror "${files[@]}"
  ./build/cli/dalil fmt --check rules tests/golden/format
else
  clang-format -i "${files[@]}"
  ./build/cli/dalil fmt rules tests/golden/format
fi
