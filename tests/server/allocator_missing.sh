#!/usr/bin/env bash
# Stands in for a memory-remnants test under another allocator whose library was not found when
# the build was configured (tests/CMakeLists.txt): skipped (exit 77) on a machine without it,
# failed where DALIL_ALLOCATORS_REQUIRED=1 (CI), so that CI cannot pass with the test missing.
set -euo pipefail
library=$1
echo "$library was not found when this build was configured (scripts/install-deps.sh installs it;" \
  "configure the build again after installing it)"
if [[ "${DALIL_ALLOCATORS_REQUIRED:-}" == 1 ]]; then
  echo "DALIL_ALLOCATORS_REQUIRED=1: failing instead of skipping"
  exit 1
fi
exit 77
