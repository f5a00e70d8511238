# shellcheck shell=bash
# What the PostgreSQL test runners share (run.sh, run_one.sh, run_shell.sh source it, then call
# `start_cluster "$0" "$@"` before they exec pg_virtualenv):
# - without PostgreSQL (pg_virtualenv and a server from the postgresql package), the test reports
#   itself skipped (77), or fails when DALIL_PG_REQUIRED=1 (as .ci/run sets it);
# - as root, pg_virtualenv names its cluster 15/regress in /etc/postgresql and refuses to start
#   while one exists: two runs at once on one machine (two build trees, two checkouts) would make
#   the second fail ("Cluster 15/regress exists"). They take turns instead: the calling runner
#   runs again under a lock held for its whole run.
# - a run killed before its own cleanup (a CTest timeout, a CI job stopped, a machine image taken
#   while a test ran) leaves its 15/regress behind, and every later run would fail on it. Under the
#   lock no other run of ours is using it: a cluster pg_virtualenv marked as its own
#   (.by_pg_virtualenv) is dropped, as its cleanup would have done; any other is left alone.
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
  if [ "$(id -u)" = 0 ] && [ -n "${DALIL_PG_TURN:-}" ]; then
    drop_stale_clusters
  fi
}

drop_stale_clusters() {
  local conf v
  for conf in /etc/postgresql/*/regress; do
    [ -f "$conf/.by_pg_virtualenv" ] || continue
    v=$(basename "$(dirname "$conf")")
    echo "dropping the throwaway cluster $v/regress an earlier run left behind (stopped before its cleanup)" >&2
    rm -f "$conf/.by_pg_virtualenv" # pg_dropcluster leaves files of its own, and then the directory
    pg_ctlcluster --mode immediate "$v" regress stop >/dev/null 2>&1 || true
    pg_dropcluster "$v" regress >/dev/null 2>&1 || true
    rmdir "$conf" 2>/dev/null || true
  done
}
