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
  local rate
  rate=$(echo "$n / $secs" | bc -l)
  printf '%-7s %9d records in %7.2f s = %9.0f records/s, peak RSS %5d MiB\n' \
    "$label" "$n" "$secs" "$rate" "$rss"
  printf '%.0f %d\n' "$rate" "$rss" >> "$work/$label.rates"
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
# The machine may be shared: the median of the runs, not the best one, is the figure to quote.
sort -n "$work/batch.rates" | awk '{r[NR] = $1; if ($2 > m) m = $2}
  END {printf "batch median of %d runs: %.0f records/s (from %.0f to %.0f), peak RSS at most %d MiB\n",
       NR, r[int((NR + 1) / 2)], r[1], r[NR], m}'

$dalil audit verify --db "$work/bench.db" | tail -1
echo "store size: $(du -h "$work/bench.db" | cut -f1)"
