#!/usr/bin/env bash
# dalil batch --shard I/N on PostgreSQL, inside run.sh's throwaway cluster (PG* set): three shards
# of one run on one cohort, run at once and killed with kill -9 at random moments, resumed until
# each is done: every applicant decided exactly once, run_complete written once, the chain
# verifies; a run in 4 shards and one in 3 decide as one process does (the same export); another
# shard count for an unfinished run is refused; a second process on a shard is refused (busy),
# as is an import while a shard's lease is live; a holder on another machine is not taken over
# even when a process of its pid is gone here, one on this machine is; --status shows each
# shard's counts and state; SQLite refuses --shard and --status.
set -euo pipefail
# shellcheck source=tests/store/lease_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../store/lease_lib.sh"
dalil="$1"; rules="$2"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
run() {  # expected exit code, output file, command…
  local want="$1" out="$2" got=0; shift 2
  "$@" > "$out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "${*:1:3} exited $got, expected $want: $(cat "$out")"
}
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_s1" >/dev/null
psql -qc "CREATE DATABASE dalil_s2" >/dev/null
s1="postgresql:///dalil_s1"; s2="postgresql:///dalil_s2"
a=2016-03-01; b=2017-06-01; c=2018-01-01
"$dalil" generate --count 6000 --seed 31 --out "$work/cohort.jsonl"
run 0 "$work/out" "$dalil" import --db "$s1" --rules "$rules" "$work/cohort.jsonl"
run 0 "$work/out" "$dalil" import --db "$s2" --rules "$rules" "$work/cohort.jsonl"

# The shard function is the documented one: the first 8 bytes of SHA-256 of the id, unsigned,
# modulo N, plus 1 (checked with sha256sum and bc on 40 applicants, negative keys among them).
[ "$(psql -d dalil_s1 -Atc "SELECT count(*) FILTER (WHERE shard_key < 0) > 5 FROM (SELECT shard_key FROM records ORDER BY record_id LIMIT 40) x")" = t ] \
  || fail "too few negative shard keys in the sample"
while IFS='|' read -r id s3 s7 s64; do
  dec=$(echo "ibase=16; $(printf %s "$id" | sha256sum | cut -c1-16 | tr a-f A-F)" | bc)
  for n in 3 7 64; do
    want=$(echo "$dec % $n + 1" | bc); got=s$n
    [ "${!got}" = "$want" ] || fail "an applicant's shard of $n: ${!got}, documented $want"
  done
done < <(psql -d dalil_s1 -Atc "SELECT applicant_id, dalil_shard(shard_key, 3), dalil_shard(shard_key, 7), dalil_shard(shard_key, 64) FROM records ORDER BY record_id LIMIT 40")

# Three shards at once, each killed at random moments (up to 3 times) and started again until it
# finishes. A killed holder's lease is taken over at once: its process is gone, on this machine.
drive() {  # shard → exit 0 once the shard is done; its log in $work/drive.N
  local shard="$1" kills=0 rc p
  while :; do
    "$dalil" batch --db "$s1" --rules "$rules" --as-of "$a" --quiet --threads 1 --chunk 40 \
      --shard "$shard/3" >> "$work/drive.$shard" 2>&1 & p=$!
    if [ "$kills" -lt 3 ]; then
      sleep "0.$((RANDOM % 4 + 1))"
      kill -9 "$p" 2>/dev/null && kills=$((kills + 1))
    fi
    rc=0; wait "$p" 2>/dev/null || rc=$?
    [ "$rc" -eq 137 ] && echo "killed" >> "$work/drive.$shard"
    [ "$rc" -eq 0 ] && return 0
    [ "$rc" -eq 137 ] || return "$rc"
  done
}
for i in 1 2 3; do drive "$i" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a shard's batch failed: $(cat "$work"/drive.*)"; done
pids=()
grep -q killed "$work"/drive.* || fail "no shard was killed: $(cat "$work"/drive.*)"
read -r sets applicants < <(psql -d dalil_s1 -AtF ' ' -c "SELECT count(*), count(DISTINCT applicant_id) FROM decision_sets WHERE run_id=1")
[ "$sets" = 6000 ] && [ "$applicants" = 6000 ] || fail "the sharded run: $sets sets, $applicants applicants"
[ "$(psql -d dalil_s1 -Atc "SELECT status || ' ' || shards FROM runs WHERE run_id=1")" = "complete 3" ] \
  || fail "run 1: $(psql -d dalil_s1 -Atc "SELECT * FROM runs")"
[ "$(psql -d dalil_s1 -Atc "SELECT count(*) FROM audit WHERE action='run_complete' AND subject='1' AND details LIKE '%\"decision_sets\":6000,%'")" = 1 ] \
  || fail "run_complete: $(psql -d dalil_s1 -Atc "SELECT details FROM audit WHERE action='run_complete'")"
[ "$(grep -c "finished last: run 1 is complete" "$work"/drive.* | awk -F: '{s += $2} END {print s}')" = 1 ] \
  || fail "not one shard completed the run: $(cat "$work"/drive.*)"
[ "$(psql -d dalil_s1 -Atc "SELECT count(*) FROM lease")" = 0 ] || fail "a lease was left"
run 0 "$work/out" "$dalil" audit verify --db "$s1"
run 0 "$work/status" "$dalil" batch --status --db "$s1" --rules "$rules" --as-of "$a"
grep -q "^run 1 (ruleset [0-9a-f]\{12\}, as of $a, filter on nothing, generation 1): complete, 3 shards$" "$work/status" \
  || fail "status of the complete run: $(cat "$work/status")"
[ "$(grep -c "^  shard [123]/3: \([0-9]*\)/\1 decided, 0 to decide; done$" "$work/status")" = 3 ] \
  || fail "status of the shards: $(cat "$work/status")"
[ "$(grep -o "^  shard [123]/3: [0-9]*" "$work/status" | awk '{s += $3} END {print s}')" = 6000 ] \
  || fail "the shards' counts: $(cat "$work/status")"

# The same run in one process (s2, run 1), and the second date in 4 shards one after the other
# (s1, run 2) and in one process (s2, run 2): the exports are the same.
run 0 "$work/out" "$dalil" batch --db "$s2" --rules "$rules" --as-of "$a" --quiet
run 0 "$work/out" "$dalil" batch --db "$s2" --rules "$rules" --as-of "$b" --quiet
for i in 1 2 3 4; do
  run 0 "$work/out.$i" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$b" --quiet --shard "$i/4"
done
grep -q "shard 4/4 finished last: run 2 is complete" "$work/out.4" || fail "4 shards: $(cat "$work/out.4")"
for r in 1 2; do
  run 0 "$work/s1.$r" "$dalil" export --db "$s1" --run "$r" --format jsonl
  run 0 "$work/s2.$r" "$dalil" export --db "$s2" --run "$r" --format jsonl
  [ "$(wc -l < "$work/s1.$r")" = 6000 ] || fail "export of run $r: $(wc -l < "$work/s1.$r") lines"
  cmp -s "$work/s1.$r" "$work/s2.$r" || fail "run $r in shards differs from one process: $(diff "$work/s1.$r" "$work/s2.$r" | head -4)"
done

# An unfinished run in 2 shards: another count is refused; a second process on a shard is busy,
# and so is an import; another machine's lease is respected even when no process of its pid
# lives here; this machine's, with its process gone, is taken over at once.
run 0 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --quiet --shard 1/2
grep -q "shard 1/2 is done; run 3 is complete once every shard has finished" "$work/out" || fail "shard 1/2: $(cat "$work/out")"
run 3 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --quiet --shard 1/3
grep -q "refused: run 3 of this ruleset, date and filter is being decided in 2 shard(s), not 3: finish it with --shard I/2" "$work/out" \
  || fail "another shard count: $(cat "$work/out")"
run 3 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --quiet
grep -q "being decided in 2 shard(s), not 1" "$work/out" || fail "no --shard on a run in shards: $(cat "$work/out")"
gone=999999; while kill -0 "$gone" 2>/dev/null; do gone=$((gone - 1)); done
psql -d dalil_s1 -qc "INSERT INTO lease(name, token, run_id, pid, host, since, expires, machine, shard_index, shard_count, total) VALUES('writer 2/2', 'other', 3, $gone, 'twin-host', '2026-01-01T00:00:00Z', extract(epoch from clock_timestamp())::bigint + 3600, 'machine-id:another-machine', 2, 2, 3000)"
run 4 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --quiet --shard 2/2
grep -q "busy: another batch holds this shard's lease (run 3 shard 2/2, pid $gone on twin-host" "$work/out" \
  || fail "a second process on a shard: $(cat "$work/out")"
run 4 "$work/out" "$dalil" import --db "$s1" --rules "$rules" "$work/cohort.jsonl"
grep -q "a batch holds the store's lease (run 3 shard 2/2" "$work/out" || fail "import under a shard's lease: $(cat "$work/out")"
run 0 "$work/status" "$dalil" batch --status --db "$s1"
grep -q "^run 3 (ruleset [0-9a-f]*, as of $c, filter on nothing, generation 1): running, 2 shards$" "$work/status" \
  || fail "status of the unfinished run: $(cat "$work/status")"
grep -q "^  shard 1/2: \([0-9]*\)/\1 decided, 0 to decide; done$" "$work/status" || fail "status, shard 1: $(cat "$work/status")"
grep -q "^  shard 2/2: 0/\([0-9]*\) decided, \1 to decide; pid $gone on twin-host (machine-id:another-machine), renewed 20[0-9-]*T[0-9:]*Z; live$" "$work/status" \
  || fail "status, shard 2: $(cat "$work/status")"
[ "$(grep -c "^run " "$work/status")" = 1 ] || fail "complete runs in the status: $(cat "$work/status")"
here=$(machine_here)
psql -d dalil_s1 -qc "UPDATE lease SET machine = '$here'"
run 0 "$work/status" "$dalil" batch --status --db "$s1"
grep -q "^  shard 2/2: 0/\([0-9]*\) decided, \1 to decide; pid $gone on twin-host ($here), renewed .*; expired$" "$work/status" \
  || fail "status, a dead holder: $(cat "$work/status")"
run 0 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --quiet --shard 2/2
grep -q "^run 3 (generation 1, resumed, shard 2/2): [0-9]* records evaluated" "$work/out" || fail "shard 2/2: $(cat "$work/out")"
grep -q "shard 2/2 finished last: run 3 is complete" "$work/out" || fail "shard 2/2: $(cat "$work/out")"
run 0 "$work/status" "$dalil" batch --status --db "$s1"
grep -qx "no unfinished run in the store" "$work/status" || fail "status at the end: $(cat "$work/status")"
run 0 "$work/out" "$dalil" audit verify --db "$s1"
[ "$(psql -d dalil_s1 -Atc "SELECT count(*) FROM audit WHERE action='run_complete'")" = 3 ] || fail "run_complete entries"
run 2 "$work/out" "$dalil" batch --db "$s1" --rules "$rules" --as-of "$c" --shard 3/2
grep -q "is not I/N with 1 <= I <= N <= 64" "$work/out" || fail "--shard 3/2: $(cat "$work/out")"

# SQLite: one writer per file; --shard and --status refused.
lite="$work/lite.db"
run 0 "$work/out" "$dalil" import --db "$lite" --rules "$rules" "$work/cohort.jsonl"
run 3 "$work/out" "$dalil" batch --db "$lite" --rules "$rules" --as-of "$a" --quiet --shard 1/2
grep -q "refused: a SQLite store is written by one process at a time" "$work/out" || fail "SQLite --shard: $(cat "$work/out")"
run 3 "$work/out" "$dalil" batch --status --db "$lite"
grep -q "refused: dalil batch --status shows the shards of a run on a PostgreSQL store" "$work/out" || fail "SQLite --status: $(cat "$work/out")"
run 0 "$work/out" "$dalil" batch --db "$lite" --rules "$rules" --as-of "$a" --quiet --shard 1/1
echo "pg shards: 3 shards killed and resumed, exactly once; 4 shards as one process; refusals; status: ok"
