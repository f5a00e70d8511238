#!/usr/bin/env bash
# Builds everything (Release with debug info, Ninja) and runs every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDALIL_WERROR=ON
cmake --build build
ctest --test-dir build --output-on-failure
