#!/usr/bin/env bash
# One PostgreSQL shell test in a throwaway cluster of its own (pg_virtualenv, as run.sh does for
# the others), for the tests CTest runs apart from pg_store (each its own CTest test, so that
# `ctest -j2` runs them beside the rest; RESOURCE_LOCK keeps two clusters from starting at once).
# Skipped (77) without PostgreSQL unless DALIL_PG_REQUIRED=1.
# Usage: run_one.sh TEST.sh ARGS…
set -euo pipefail
if ! command -v pg_virtualenv >/dev/null 2>&1 || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  if [ "${DALIL_PG_REQUIRED:-}" = 1 ]; then
    echo "FAILED: PostgreSQL is not installed (scripts/install-deps.sh) and DALIL_PG_REQUIRED=1" >&2
    exit 1
  fi
  echo "skipped: PostgreSQL is not installed (scripts/install-deps.sh); DALIL_PG_REQUIRED=1 makes this fail"
  exit 77
fi
# shellcheck source=tests/pg/turn.sh
source "$(dirname "$0")/turn.sh"
take_turn "$0" "$@"
exec pg_virtualenv bash "$@"
