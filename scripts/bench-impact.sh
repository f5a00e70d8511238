#!/usr/bin/env bash
# dalil impact against dalil batch on the same store: medians of RUNS runs each, with revisions of
# the pack that change ~1%, ~5% and ~50% of the applicants. Each batch runs on a fresh copy of the
# store (a second batch of the same key would have nothing to do).
#   bash scripts/bench-impact.sh [COUNT=200000] [RUNS=3] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200000}"; runs="${2:-3}"; threads="${3:-2}"
dalil="$PWD/build/cli/dalil"; rules="$PWD/rules"; as_of=2025-01-01
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dalil" generate --count "$count" --seed 11 --out "$work/cohort.jsonl"
"$dalil" import --db "$work/store.db" --rules "$rules" "$work/cohort.jsonl" >/dev/null

# The revisions: the RAMED income ceiling from 5,650 to 6,000 MAD (~1%) or 8,000 MAD (~5%); for
# ~50%, a ceiling of 20,000 MAD, an AMO Tadamon RSU threshold of 20 and the bilateral agreements of
# the employment program extended to eight more nationalities.
variant() {  # name, ceiling, extra sed script on health.dalil, sed script on employment.dalil
  cp -r "$rules" "$work/$1"
  sed -i "s/^  from 2008-10-16 = 5650 MAD$/  from 2008-10-16 = 5650 MAD\n  from 2015-01-01 = $2 MAD/" \
    "$work/$1/health.dalil"
  [ -z "$3" ] || sed -i "$3" "$work/$1/health.dalil"
  [ -z "$4" ] || sed -i "$4" "$work/$1/employment.dalil"
}
variant p1 6000 "" ""
variant p5 8000 "" ""
variant p50 20000 's/  from 2022-12-01 = 9.3264284/  from 2022-12-01 = 9.3264284\n  from 2024-01-01 = 20/' \
  's/  = applicant.nationality in \["SN", "DZ", "TN"\]/  = applicant.nationality in ["SN", "DZ", "TN", "CI", "CM", "NG", "SY", "GN", "ML", "CD", "YE"]/'

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {  # prints "seconds peak_kib" of the command
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  cat "$work/time"
}
: > "$work/batch"
for _ in $(seq "$runs"); do
  cp "$work/store.db" "$work/copy.db"
  timed "$dalil" batch --db "$work/copy.db" --rules "$rules" --as-of "$as_of" --quiet \
    --threads "$threads" >> "$work/batch"
  rm -f "$work/copy.db"*
done
batch=$(cut -d' ' -f1 "$work/batch" | median)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (shared with other builds)"
echo "cohort: $count stored applicants, as of $as_of, $threads evaluation threads, median of $runs"
printf "%-44s %8s %8s %10s\n" "" "seconds" "x batch" "peak MiB"
printf "%-44s %8.2f %8s %10d\n" "dalil batch" "$batch" "1.00" \
  "$(( $(cut -d' ' -f2 "$work/batch" | median) / 1024 ))"
for v in p1 p5 p50; do
  : > "$work/$v.times"
  for _ in $(seq "$runs"); do
    timed "$dalil" impact --db "$work/store.db" --old "$rules" --new "$work/$v" --as-of "$as_of" \
      --threads "$threads" --out "$work/out-$v" >> "$work/$v.times"
  done
  t=$(cut -d' ' -f1 "$work/$v.times" | median)
  flipped=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.1f%% flipped, %d flips" % (100.0*d["applicants_flipped"]/d["records"], d["flips"]))' "$work/out-$v/summary.json")
  printf "%-44s %8.2f %8.2f %10d\n" "dalil impact ($flipped)" "$t" \
    "$(echo "$t / $batch" | bc -l)" "$(( $(cut -d' ' -f2 "$work/$v.times" | median) / 1024 ))"
done
