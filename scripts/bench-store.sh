#!/usr/bin/env bash
# Store benchmark: generates N synthetic applicants (default 1,000,000), imports them and
# batch-evaluates every contract decision, printing records/s for import and batch and the peak
# memory of each step (GNU time). Run with N=100000 and N=1000000 to see that memory stays flat.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-1000000}"
threads="${THREADS:-2}"
[ -x build/cli/dalil ] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian package 'time')"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dalil=build/cli/dalil
$dalil generate --count "$n" --seed 2026 --out "$work/cohort.jsonl"
measure() {  # label, command…
  local label="$1"; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/out" 2>&1
  t1=$(date +%s.%N)
  local secs rss
  secs=$(echo "$t1 - $t0" | bc -l)
  rss=$(( $(cat "$work/rss") / 1024 ))
  printf '%-7s %9d records in %7.2f s = %9.0f records/s, peak RSS %5d MiB\n' \
    "$label" "$n" "$secs" "$(echo "$n / $secs" | bc -l)" "$rss"
}
measure import $dalil import --db "$work/bench.db" --rules rules "$work/cohort.jsonl"
# The batch runs REPEAT times (default 3), each on a fresh copy of the imported store.
sqlite3 "$work/bench.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp "$work/bench.db" "$work/imported.db"
for i in $(seq 1 "${REPEAT:-3}"); do
  rm -f "$work/bench.db" "$work/bench.db-wal" "$work/bench.db-shm"
  cp "$work/imported.db" "$work/bench.db"
  measure batch $dalil batch --db "$work/bench.db" --rules rules --as-of 2017-06-01 --threads "$threads" --quiet
  tail -1 "$work/out"
done
rm -f "$work/imported.db"
$dalil audit verify --db "$work/bench.db" | tail -1
echo "store size: $(du -h "$work/bench.db" | cut -f1)"
