#!/usr/bin/env bash
# `dalil keys init --db` over plain records (encryption in place) on PostgreSQL against SQLite
# (docs/postgresql.md): a generated cohort imported and batched once into each (with stored
# traces), then each run encrypts a fresh copy (SQLite: the file copied; PostgreSQL: a database
# made from the plain one as template); prints every run's seconds and the medians, and the
# process's peak memory (GNU time's maximum resident set size).
# Run it inside a cluster (PG* set), e.g.:
#   flock /tmp/dalil-pg.lock pg_virtualenv bash bench/pg_keys_init.sh build/cli/dalil rules 100000 3
set -euo pipefail
dalil="$1"; rules="$2"; count="${3:-100000}"; runs="${4:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dalil" generate --count "$count" --seed 17 --out "$work/cohort.jsonl"
"$dalil" keys init --key-file "$work/master.key" > /dev/null
psql -qc "DROP DATABASE IF EXISTS dalil_kbench_plain" -c "CREATE DATABASE dalil_kbench_plain" >/dev/null
for db in "$work/plain.db" "postgresql:///dalil_kbench_plain"; do
  "$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-01 --quiet --store-traces > /dev/null
done
# The seconds and peak kilobytes of a command; its output kept in $work/last.
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/last" 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
declare -A t m
for i in $(seq 1 "$runs"); do
  cp "$work/plain.db" "$work/s.db"
  psql -qc "DROP DATABASE IF EXISTS dalil_kbench" \
    -c "CREATE DATABASE dalil_kbench TEMPLATE dalil_kbench_plain" >/dev/null
  for side in sqlite pg; do
    db="$work/s.db"; [ "$side" = pg ] && db="postgresql:///dalil_kbench"
    t[$side]+="$(secs "$dalil" keys init --key-file "$work/master.key" --db "$db") "
    m[$side]+="$(cat "$work/rss") "
    [ "$i" = "$runs" ] && echo "$side keys init: $(cat "$work/last")"
  done
  "$dalil" audit verify --db "postgresql:///dalil_kbench" > "$work/last" 2>&1 ||
    { cat "$work/last"; exit 1; }
done
echo "cohort: $count applicants, one record and one decision set (stored trace) each; load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for k in sqlite pg; do
  # shellcheck disable=SC2086
  printf '%-7s runs: %s median %.2f s; peak RSS kB: %s\n' "$k" "${t[$k]}" "$(median ${t[$k]})" "${m[$k]}"
done
