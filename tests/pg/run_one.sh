#!/usr/bin/env bash
# One PostgreSQL shell test in a throwaway cluster of its own (pg_virtualenv, as run.sh does for
# the others), for the tests CTest runs apart from pg_store (each its own CTest test, so that
# `ctest -j2` runs them beside the rest; RESOURCE_LOCK keeps two clusters from starting at once).
# Skipped (77) without PostgreSQL unless DALIL_PG_REQUIRED=1.
# Usage: run_one.sh TEST.sh ARGS…
set -euo pipefail
# shellcheck source=tests/pg/runner.sh
source "$(dirname "$0")/runner.sh"
start_cluster "$0" "$@"
exec pg_virtualenv bash "$@"
