#!/usr/bin/env bash
# Shell tests of the PostgreSQL store run apart from run.sh's (each its own CTest test), inside a
# throwaway cluster as run.sh starts one (pg_virtualenv). Skipped (77) without PostgreSQL; with
# DALIL_PG_REQUIRED=1 it fails instead. The tests of label pg share the cluster's name as root
# (RESOURCE_LOCK pg_cluster in CMakeLists.txt: CTest runs them one at a time).
# Usage: run_shell.sh DALIL RULES TEST…
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/pg/runner.sh
source "$here/runner.sh"
start_cluster "$0" "$@"
# shellcheck disable=SC2016 # expanded by the inner bash
exec pg_virtualenv bash -c 'set -e; for t in "${@:4}"; do bash "$t" "$1" "$2" "$3"; done' \
  _ "$1" "$2" "$here/../../data/sample-cohort.jsonl" "${@:3}"
