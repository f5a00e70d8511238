#!/usr/bin/env bash
# Builds everything (Release with debug info, Ninja) and runs every test through CTest, two at a
# time (the machines have two cores; the suite is run this way in CI in every build).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDALIL_WERROR=ON
cmake --build build
ctest --test-dir build --output-on-failure -j2
