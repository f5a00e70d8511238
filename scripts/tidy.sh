#!/usr/bin/env bash
# clang-tidy (checks in .clang-tidy, every warning an error) over the project's sources: dsl,
# engine, store, cli and bench. Needs build/compile_commands.json (any configured build).
# Prints each finding once and fails when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || cmake -S . -B build -G Ninja >/dev/null
mapfile -t files < <(git ls-files 'dsl/*.cpp' 'engine/*.cpp' 'store/*.cpp' 'cli/*.cpp' 'bench/*.cpp')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} sh -c 'clang-tidy -p build --quiet "$1" 2>/dev/null || true' _ {} |
  grep -E '^/.*: (error|warning): ' | sort -u > "$out" || true
if [ -s "$out" ]; then
  cat "$out"
  echo "clang-tidy: $(wc -l < "$out") finding(s) in ${#files[@]} files"
  exit 1
fi
echo "clang-tidy: no finding in ${#files[@]} files"
