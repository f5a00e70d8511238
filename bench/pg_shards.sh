#!/usr/bin/env bash
# The batch on PostgreSQL in one process and in 2 shards run at once (dalil batch --shard I/2),
# each process with --threads 1, on one generated cohort (docs/postgresql.md): a fresh database
# per run, the cohort imported once into it, then both forms of the batch (each on its own date,
# so each is a new run), in alternating order; prints every run's seconds and the medians. The
# 2-shard time is the wall time until both shards have finished.
# Run it inside a cluster (PG* set), e.g.:
#   flock /tmp/dalil-build.lock pg_virtualenv bash bench/pg_shards.sh build/cli/dalil rules 100000
set -euo pipefail
dalil="$1"; rules="$2"; count="${3:-100000}"; runs="${4:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dalil" generate --count "$count" --seed 17 --out "$work/cohort.jsonl"
db="postgresql:///dalil_shards"
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
one() {
  local t0; t0=$(now)
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-01 --quiet --threads 1 > "$work/one"
  echo "$(now) - $t0" | bc
}
two() {
  local t0 p1 p2; t0=$(now)
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-02 --quiet --threads 1 --shard 1/2 > "$work/two.1" & p1=$!
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-03-02 --quiet --threads 1 --shard 2/2 > "$work/two.2" & p2=$!
  wait "$p1"; wait "$p2"
  echo "$(now) - $t0" | bc
}
t1=""; t2=""
for i in $(seq 1 "$runs"); do
  psql -qc "DROP DATABASE IF EXISTS dalil_shards" -c "CREATE DATABASE dalil_shards" >/dev/null
  "$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
  if [ $((i % 2)) = 1 ]; then t1+="$(one) "; t2+="$(two) "; else t2+="$(two) "; t1+="$(one) "; fi
  grep -q "$count decision sets in the run" "$work/one" || { cat "$work/one"; exit 1; }
  cat "$work/two.1" "$work/two.2" | grep -q "run [0-9]* is complete$" || { cat "$work/two".*; exit 1; }
done
echo "cohort: $count applicants; load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for k in "1 shard:t1" "2 shards:t2"; do
  name=${k%%:*}; var=${k##*:}
  # shellcheck disable=SC2086
  m=$(median ${!var})
  printf '%-9s runs: %s median %.2f s = %.0f records/s\n' "$name" "${!var}" "$m" "$(echo "$count / $m" | bc -l)"
done
