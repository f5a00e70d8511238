#!/usr/bin/env bash
# Builds everything (a Release build, as a user's, with warnings as errors; Ninja) and runs every
# test through CTest, two at a time (the machines have two cores; the suite is run this way in CI
# in every build). For profiling, configure build/ with -DCMAKE_BUILD_TYPE=RelWithDebInfo.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDALIL_WERROR=ON
cmake --build build
ctest --test-dir build --output-on-failure -j2
