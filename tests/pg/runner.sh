# shellcheck shell=bash
# What the PostgreSQL test runners share (run.sh, run_one.sh, run_shell.sh source it, then call
# `start_cluster "$0" "$@"` before they exec pg_virtualenv):
# - without PostgreSQL (pg_virtualenv and a server from the postgresql package), the test reports
#   itself skipped (77), or fails when DALIL_PG_REQUIRED=1 (as .ci/run sets it);
# - as root, pg_virtualenv names its cluster 15/regress in /etc/postgresql and refuses to start
#   while one exists: two runs at once on one machine (two build trees, two checkouts) would make
#   the second fail ("Cluster 15/regress exists"). They take turns instead: the calling runner
#   runs again under a lock held for its whole run.
start_cluster() {
  if ! command -v pg_virtualenv >/dev/null 2>&1 ||
    ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    if [ "${DALIL_PG_REQUIRED:-}" = 1 ]; then
      echo "FAILED: PostgreSQL is not installed (pg_virtualenv and a server from the postgresql" \
        "package: scripts/install-deps.sh) and DALIL_PG_REQUIRED=1" >&2
      exit 1
    fi
    echo "skipped: PostgreSQL is not installed (scripts/install-deps.sh); DALIL_PG_REQUIRED=1 makes this fail"
    exit 77
  fi
  if [ "$(id -u)" = 0 ] && [ -z "${DALIL_PG_TURN:-}" ] && command -v flock >/dev/null 2>&1; then
    export DALIL_PG_TURN=1
    exec flock /run/lock/dalil-pg_virtualenv.lock bash "$@"
  fi
}
