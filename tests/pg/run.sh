#!/usr/bin/env bash
# The PostgreSQL store's tests against a throwaway cluster: pg_virtualenv (postgresql-common)
# creates one on a free port, sets PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE, runs the
# tests and drops the cluster, whoever runs it (root or a plain user). Without PostgreSQL this
# reports itself skipped (77); with DALIL_PG_REQUIRED=1 (as .ci/run sets it) it fails instead.
# Usage: run.sh DALIL_PG_TESTS DALIL RULES DALIL_PG_STORE_SUITE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/pg/runner.sh
source "$here/runner.sh"
start_cluster "$0" "$@"
# pg_virtualenv's own messages (creating and dropping the cluster) go to its standard error.
# Inside the cluster: the two C++ binaries, then each shell test with DALIL RULES COHORT.
# shellcheck disable=SC2016 # expanded by the inner bash
exec pg_virtualenv bash -c 'set -e; "$1"; "$2"; for t in "${@:6}"; do bash "$t" "$3" "$4" "$5"; done' \
  _ "$1" "$4" "$2" "$3" "$here/../../data/sample-cohort.jsonl" "$here/cli_test.sh" \
  "$here/batch_test.sh" "$here/reads_test.sh" "$here/shard_test.sh" "$here/accounts_test.sh" \
  "$here/serve_test.sh" "$here/verify_test.sh" \
  "$here/retention_test.sh" "$here/encryption_test.sh" "$here/encrypted_rw_test.sh" \
  "$here/skew_test.sh" \
  "$here/reconnect_test.sh"
