#!/usr/bin/env bash
# `dalil keys init --db` over plain records (encryption in place) on SQLite alone, without a
# PostgreSQL cluster (bench/pg_keys_init.sh runs both): a generated cohort imported and batched
# once with stored traces, then each run encrypts a fresh copy of the file; prints every run's
# seconds and peak memory (GNU time's maximum resident set size) and their medians, and checks
# that each encrypted copy verifies with the head taken before. Several dalil executables (a
# build before and after a change) take turns on the same plain store, run by run, so that the
# load of a shared machine falls on each alike.
#   bench/sqlite_keys_init.sh rules 100000 3 build/cli/dalil [/tmp/dalil-before]
# The first executable builds the plain store. Needs about 3 times the plain store's size free
# in the work folder ($TMPDIR; the store, its WAL during the transaction and VACUUM's copy).
set -euo pipefail
rules="$1"; count="$2"; runs="$3"; shift 3
[ "$#" -ge 1 ] || { echo "usage: $0 RULES COUNT RUNS DALIL [DALIL...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
first="$1"
"$first" generate --count "$count" --seed 17 --out "$work/cohort.jsonl"
"$first" keys init --key-file "$work/master.key" > /dev/null
"$first" import --db "$work/plain.db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$first" batch --db "$work/plain.db" --rules "$rules" --as-of 2016-03-01 --quiet --store-traces \
  > /dev/null
rm -f "$work/cohort.jsonl"
head=$("$first" audit head --db "$work/plain.db" | tr ' ' ':')
plain_mb=$(( $(stat -c %s "$work/plain.db") / 1048576 ))
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
declare -A t m
loads=""
for i in $(seq 1 "$runs"); do
  for exe in "$@"; do
    cp "$work/plain.db" "$work/s.db"
    rm -f "$work/s.db-wal" "$work/s.db-shm"
    loads+="$(cut -d' ' -f1 /proc/loadavg) "
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$exe" keys init --key-file "$work/master.key" \
      --db "$work/s.db" > "$work/last" 2>&1 || { cat "$work/last"; exit 1; }
    t1=$(date +%s.%N)
    t[$exe]+="$(echo "$t1 - $t0" | bc) "
    m[$exe]+="$(( $(tail -1 "$work/rss") / 1024 )) "
    "$exe" audit verify --db "$work/s.db" --head "$head" > "$work/verify" 2>&1 ||
      { echo "$exe: the encrypted copy does not verify:"; cat "$work/verify"; exit 1; }
    [ "$i" = "$runs" ] && echo "$exe: $(cat "$work/last")"
  done
done
echo "cohort: $count applicants, one record and one decision set (stored trace) each; plain" \
  "store $plain_mb MB; $(nproc) cores; load (1 min) at each run's start: $loads"
for exe in "$@"; do
  # shellcheck disable=SC2086
  printf '%s\n  seconds: %s median %.1f\n  peak RSS MB: %s median %s\n' "$exe" "${t[$exe]}" \
    "$(median ${t[$exe]})" "${m[$exe]}" "$(median ${m[$exe]})"
done
