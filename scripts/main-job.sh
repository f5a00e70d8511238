#!/usr/bin/env bash
# The main job on the shipped rule pack: build, then check the pack.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
./build/cli/dalil check rules
