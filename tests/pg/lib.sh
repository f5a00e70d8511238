# What the PostgreSQL shell tests that start servers share (sourced, after `set -euo pipefail`):
# a work folder, removed at exit unless KEEP is set; `pids`, the processes a test starts, killed
# at exit; `fail`; and the check that the test runs inside run.sh's throwaway cluster.
# shellcheck shell=bash
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }  # on standard error: seen from inside $(…) too
: "${PGPASSWORD:?run through tests/pg/run.sh}"
