#!/usr/bin/env bash
# Import and batch rates on PostgreSQL against SQLite on one generated cohort (docs/postgresql.md):
# each store fresh for each of RUNS runs; prints every run's seconds and the medians.
# Run it inside a cluster (PG* set), e.g.:
#   flock /tmp/dalil-build.lock pg_virtualenv bash bench/pg_rates.sh build/cli/dalil rules 50000
set -euo pipefail
dalil="$1"; rules="$2"; count="${3:-50000}"; runs="${4:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dalil" generate --count "$count" --seed 17 --out "$work/cohort.jsonl"
# The seconds a command took; its output kept in $work/last (shown for the last run).
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > "$work/last" 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
declare -A t
for i in $(seq 1 "$runs"); do
  rm -f "$work/s.db"*
  psql -qc "DROP DATABASE IF EXISTS dalil_bench" -c "CREATE DATABASE dalil_bench" >/dev/null
  for side in sqlite pg; do
    db="$work/s.db"; [ "$side" = pg ] && db="postgresql:///dalil_bench"
    t[$side.import]+="$(secs "$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl") "
    [ "$i" = "$runs" ] && echo "$side import: $(cat "$work/last")"
    t[$side.batch]+="$(secs "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-01 --quiet) "
    [ "$i" = "$runs" ] && echo "$side batch: $(cat "$work/last")"
  done
done
echo "cohort: $count applicants; load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for k in sqlite.import pg.import sqlite.batch pg.batch; do
  # shellcheck disable=SC2086
  m=$(median ${t[$k]})
  printf '%-14s runs: %s median %.2f s = %.0f records/s\n' "$k" "${t[$k]}" "$m" "$(echo "$count / $m" | bc -l)"
done
