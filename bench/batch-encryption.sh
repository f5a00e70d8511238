#!/usr/bin/env bash
# The batch on an encrypted store against the same batch on a plain store (docs/operations.md,
# "Cost"): one cohort (`dalil generate --count N --seed 7`) imported into a plain store and into
# an encrypted one, then ROUNDS rounds in which every variant runs once on a fresh copy of its
# store, in an order that alternates from round to round (ABBA), with `--threads 1` and with the
# default. Prints, per variant, the medians of the process's wall-clock time, records/s and CPU
# time (user + system), and the encrypted/plain ratios: of the medians, and the median of each
# round's ratio to that round's plain run ("paired"). A shared machine moves single runs by 15-25%
# (and its load changes between rounds): quote medians.
#
#   bench/batch-encryption.sh [DALIL [BEFORE]]
#     DALIL   the dalil to measure (default build/cli/dalil)
#     BEFORE  optionally a second dalil (e.g. a build of the previous commit), run interleaved
#             with the first on the same stores (both must read the same store format)
#   N=100000 ROUNDS=5 THREADS="1 default" KEEP=dir (reuse/keep the cohort and stores there)
#   RESEALED=1: two more encrypted stores of the same cohort: one made in format 1
#     (XChaCha20-Poly1305: an older store, made with the test hook DALIL_TEST_PORTABLE_GCM=1,
#     store "f1") and a copy of it moved to format 2 by `dalil keys reseal` (its time printed,
#     store "resealed"), measured interleaved with the plain store and the one encrypted in
#     format 2 from the start ("enc"); DALIL only
set -euo pipefail
cd "$(dirname "$0")/.."
dalil=$(realpath "${1:-build/cli/dalil}")
before=${2:+$(realpath "$2")}
n="${N:-100000}"
rounds="${ROUNDS:-5}"
threads="${THREADS:-1 default}"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian package 'time')"; exit 1; }
rules=$(realpath rules)
if [ -n "${KEEP:-}" ]; then
  work=$KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
if [ ! -f "$work/enc.db" ]; then
  "$dalil" generate --count "$n" --seed 7 --out "$work/cohort.jsonl" > /dev/null
  "$dalil" import --db "$work/plain.db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
  "$dalil" keys init --key-file "$work/k.key" > /dev/null
  "$dalil" keys init --key-file "$work/k.key" --db "$work/enc.db" > /dev/null
  "$dalil" import --db "$work/enc.db" --key-file "$work/k.key" --rules "$rules" \
    "$work/cohort.jsonl" > /dev/null
  for s in plain enc; do sqlite3 "$work/$s.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null; done
fi
if [ -n "${RESEALED:-}" ] && [ ! -f "$work/resealed.db" ]; then
  # A KEEP folder of this script before 2026-12-04 holds the resealed store as enc.db.
  [ ! -f "$work/f1.db" ] || { echo "$work: enc.db may be a resealed store (f1.db, no resealed.db): use a new KEEP"; exit 1; }
  "$dalil" keys init --key-file "$work/k.key" --db "$work/f1.db" > /dev/null
  DALIL_TEST_PORTABLE_GCM=1 "$dalil" import --db "$work/f1.db" --key-file "$work/k.key" \
    --rules "$rules" "$work/cohort.jsonl" > /dev/null
  sqlite3 "$work/f1.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
  [ "$(sqlite3 "$work/f1.db" "SELECT count(*) FROM data_keys WHERE length(wrapped) != 72")" = 0 ] ||
    { echo "the format-1 store has keys of another format (no test hooks in this build?)"; exit 1; }
  cp "$work/f1.db" "$work/resealed.db"
  /usr/bin/time -f "%e s wall, %U s user, %S s system" -o "$work/reseal.time" \
    "$dalil" keys reseal --db "$work/resealed.db" --key-file "$work/k.key"
  echo "keys reseal of $n applicants: $(cat "$work/reseal.time")"
  sqlite3 "$work/resealed.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
fi

run() {  # binary label, binary, plain|enc, threads -> appends "wall cpu" to $work/<label>.<kind>.<t>
  local label=$1 bin=$2 kind=$3 t=$4
  rm -f "$work/run.db" "$work/run.db-wal" "$work/run.db-shm"
  cp "$work/$kind.db" "$work/run.db"
  local args=(batch --db "$work/run.db" --rules "$rules" --as-of 2017-06-01 --quiet)
  [ "$kind" != plain ] && args+=(--key-file "$work/k.key")
  [ "$t" = default ] || args+=(--threads "$t")
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$bin" "${args[@]}" > "$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time" >> "$work/$label.$kind.$t"
}

variants=("after plain" "after enc")
[ -n "$before" ] && variants+=("before enc" "before plain")
[ -n "${RESEALED:-}" ] && variants=("after plain" "after enc" "after resealed" "after f1")
rm -f "$work"/after.* "$work"/before.*
for r in $(seq 1 "$rounds"); do
  for t in $threads; do
    order=("${variants[@]}")
    if [ $((r % 2)) -eq 0 ]; then  # ABBA: every other round in reverse order
      order=()
      for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[$i]}"); done
    fi
    for v in "${order[@]}"; do
      read -r label kind <<< "$v"
      bin=$dalil
      [ "$label" = before ] && bin=$before
      run "$label" "$bin" "$kind" "$t"
    done
  done
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# The median of the ratios to the plain run of the same round (column $1 of each file): steadier
# than the ratio of the medians when the machine's load changes between rounds.
paired() { paste -d' ' "$2" "$3" | awk -v k="$1" '{n = NF / 2; printf "%.4f\n", $(n + k) / $k}' | median; }
echo "batch of $n records, $rounds rounds interleaved (ABBA), medians; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %-8s %-9s %8s %10s %8s %9s %9s %11s %11s\n" threads binary store "wall s" "records/s" \
  "CPU s" "wall/plain" "CPU/plain" "wall paired" "CPU paired"
for t in $threads; do
  for label in after before; do
    [ -f "$work/$label.plain.$t" ] || continue
    pw=$(cut -d' ' -f1 "$work/$label.plain.$t" | median)
    pc=$(cut -d' ' -f2 "$work/$label.plain.$t" | median)
    for kind in plain enc resealed f1; do
      [ -f "$work/$label.$kind.$t" ] || continue
      w=$(cut -d' ' -f1 "$work/$label.$kind.$t" | median)
      c=$(cut -d' ' -f2 "$work/$label.$kind.$t" | median)
      p="$work/$label.plain.$t"
      printf "%-8s %-8s %-9s %8.2f %10.0f %8.2f %9.3f %9.3f %11.3f %11.3f\n" "$t" "$label" "$kind" \
        "$w" "$(echo "$n / $w" | bc -l)" "$c" "$(echo "$w / $pw" | bc -l)" "$(echo "$c / $pc" | bc -l)" \
        "$(paired 1 "$p" "$work/$label.$kind.$t")" "$(paired 2 "$p" "$work/$label.$kind.$t")"
    done
  done
done
