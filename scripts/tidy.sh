#!/usr/bin/env bash
# clang-tidy (checks in .clang-tidy, every warning an error) over the project's sources: dsl,
# engine, analysis, store, server, cli and bench. Needs build/compile_commands.json (any configured build).
# Prints each finding once and fails when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || cmake -S . -B build -G Ninja >/dev/null
mapfile -t files < <(git ls-files 'dsl/*.cpp' 'engine/*.cpp' 'analysis/*.cpp' 'store/*.cpp' 'server/*.cpp' \
  'server/auth/*.cpp' 'cli/*.cpp' 'bench/*.cpp')
command -v clang-tidy >/dev/null || { echo "clang-tidy is not installed"; exit 1; }
out=$(mktemp)
failed=$(mktemp)
trap 'rm -f "$out" "$failed"' EXIT
# clang-tidy exits non-zero on findings (every warning is an error here): those are collected.
# A run that prints no finding but still fails (a crash, a file missing from the compilation
# database) fails the check too, with its output.
tidy_one() {
  local log
  # GCC-only flags of the compilation database (-Wno-restrict) are not clang-tidy's concern.
  log=$(clang-tidy -p build --quiet --extra-arg=-Wno-unknown-warning-option "$1" 2>&1) && return 0
  if grep -qE '^/.*: (error|warning): ' <<< "$log"; then
    grep -E '^/.*: (error|warning): ' <<< "$log"
  else
    printf '%s: clang-tidy failed without a finding:\n%s\n' "$1" "$log" >> "$2"
  fi
}
export -f tidy_one
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} bash -c 'tidy_one "$1" "$2"' _ {} "$failed" | sort -u > "$out"
if [ -s "$failed" ]; then
  cat "$failed"
  exit 1
fi
if [ -s "$out" ]; then
  cat "$out"
  echo "clang-tidy: $(wc -l < "$out") finding(s) in ${#files[@]} files"
  exit 1
fi
echo "clang-tidy: no finding in ${#files[@]} files"
