# shellcheck shell=bash
# Sourced by run.sh, run_one.sh and run_shell.sh before they start a cluster. As root, pg_virtualenv names its
# cluster 15/regress in /etc/postgresql and refuses to start while one exists: two runs at once on
# one machine (two build trees, two checkouts, a benchmark) would make the second fail ("Cluster
# 15/regress exists"). They take turns instead: the calling script runs again under a lock held
# for its whole run. Usage: take_turn "$0" "$@"
take_turn() {
  if [ "$(id -u)" = 0 ] && [ -z "${DALIL_PG_TURN:-}" ] && command -v flock >/dev/null 2>&1; then
    export DALIL_PG_TURN=1
    exec flock /run/lock/dalil-pg_virtualenv.lock bash "$@"
  fi
}
