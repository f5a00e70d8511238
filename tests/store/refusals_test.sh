#!/usr/bin/env bash
# What an operator is refused, and how: exit codes (1 failed, 3 refused, 4 busy) and messages
# that say why, never a raw SQLite message, a death by signal, or an exit 0 that did nothing.
# Re-runs after new versions (a new generation, nothing doubled), the writer lease (a live holder
# refused with its pid and host, a dead or expired one taken over), imports during a batch,
# read-only stores (audited reads refused, verify and head allowed), the reader recorded as the
# OS user and host, and a file-size limit (EFBIG reported, then resumed).
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
db="$work/store.db"
"$dalil" generate --count 3000 --seed 21 --out "$work/cohort.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null

passed=0; failed=0
expect() {  # name, exit code wanted, words wanted in the output, command…
  local name="$1" code="$2" words="$3"; shift 3
  local status=0
  "$@" > "$work/out" 2>&1 || status=$?
  if { [ "$code" = nz ] && [ "$status" -eq 0 ]; } || { [ "$code" != nz ] && [ "$status" -ne "$code" ]; }; then
    echo "FAIL $name: exit $status, wanted $code: $(head -3 "$work/out")"; failed=$((failed + 1))
  elif ! grep -qF -- "$words" "$work/out"; then
    echo "FAIL $name: '$words' not in: $(head -3 "$work/out")"; failed=$((failed + 1))
  else
    echo "ok   $name: $(head -1 "$work/out")"; passed=$((passed + 1))
  fi
}
q() { sqlite3 "$db" "$1"; }

# Nothing to decide: refused before any run is started.
mkdir -p "$work/empty" "$work/schema-only"
expect empty_rules 1 "holds no .dalil file" \
  "$dalil" batch --db "$db" --rules "$work/empty" --as-of 2017-06-01 --quiet
cp "$rules/schema.dalil" "$work/schema-only/"
expect no_contract_decision 3 "no contract decision" \
  "$dalil" batch --db "$db" --rules "$work/schema-only" --as-of 2017-06-01 --quiet
# A mistyped --db: said so, exit 1, and no empty store left behind to read as "intact".
for cmd in "audit verify" "audit head" stats export "decisions SYN-000001" "replay 1:1" \
  "batch --rules $rules --as-of 2017-06-01 --quiet"; do
  # shellcheck disable=SC2086
  expect "missing_store_${cmd%% *}" 1 "$work/typo.db: no such store (dalil import creates one; check --db)" \
    "$dalil" $cmd --db "$work/typo.db"
  [ ! -e "$work/typo.db" ] || { echo "FAIL: $cmd created the mistyped store"; failed=$((failed + 1)); rm -f "$work/typo.db"*; }
done
runs_before=$(q "SELECT count(*) FROM runs")
expect too_many_threads 3 "at most 256 evaluation threads" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --threads 100000 --quiet
[ "$(q "SELECT count(*) FROM runs")" = "$runs_before" ] ||
  { echo "FAIL too_many_threads: a run was started"; failed=$((failed + 1)); }
expect where_matches_nothing 3 "no applicant matches --where on nationality (of" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where nationality=XX --quiet
# A value of another type than the field's is refused before anything is read, saying what the
# field takes and never repeating the value (it matched nobody and was refused as matching
# nothing, as a typo in a case or a yes-or-no written true).
expect where_not_a_case 2 "--where status: not one of its cases (regular, " \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where status=tourist --quiet
if grep -q tourist "$work/out"; then
  echo "FAIL where_not_a_case: the value is repeated: $(head -3 "$work/out")"; failed=$((failed + 1))
fi
expect where_not_a_flag 2 "--where born_in_morocco: takes true or false" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where born_in_morocco=oui --quiet
expect where_not_a_date 2 "--where birth_date: takes a date (YYYY-MM-DD)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where birth_date=1990-13-45 --quiet
expect where_not_a_number 2 "--where household.size: takes a whole number" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where household.size=four --quiet
expect where_not_an_amount 2 "--where household.annual_income: takes a number" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where household.annual_income=1,5 --quiet
expect where_a_group 2 "--where household: is a group of fields: name one of them (such as household." \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --where household=x --quiet
expect where_impact_not_a_case 2 "--where status: not one of its cases" \
  "$dalil" impact --db "$db" --old "$rules" --new "$rules" --as-of 2017-06-01 --where status=tourist
# The filter's field, never its value: a filter on an id or a date names a person.
! grep -q tourist "$work/out" || { echo "FAIL: the refusal quotes the filter's value"; failed=$((failed + 1)); }
[ "$(q "SELECT count(*) FROM runs")" -eq 0 ] ||
  { echo "FAIL: a refused batch left a run"; failed=$((failed + 1)); }

# A run, the same batch again (nothing to do), new versions (a new generation deciding all).
expect batch 0 "run 1 (generation 1)" "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet
expect batch_again 0 "nothing to do" "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet
head -50 "$work/cohort.jsonl" |
  sed 's/"application_date":"[0-9-]*"/"application_date":"2017-05-02"/' > "$work/changed.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/changed.jsonl" >/dev/null
expect new_generation 0 "run 2 (generation 2)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet
[ "$(q "SELECT count(*) FROM decision_sets WHERE run_id=1")" -eq 3000 ] &&
  [ "$(q "SELECT count(*) FROM decision_sets WHERE run_id=2")" -eq 3000 ] &&
  [ "$(q "SELECT count(*) FROM (SELECT run_id, applicant_id FROM decision_sets GROUP BY 1, 2 HAVING count(*) > 1)")" -eq 0 ] ||
  { echo "FAIL: runs 1 and 2 do not each decide the 3000 applicants once"; failed=$((failed + 1)); }
expect stats_newest 0 "run 2 (as of 2017-06-01" "$dalil" stats --db "$db"
if grep -q "^run 1 " "$work/out"; then
  echo "FAIL: stats shows the superseded generation by default"; failed=$((failed + 1))
fi
expect stats_run1 0 "3000 applicants" "$dalil" stats --db "$db" --run 1
# The schema itself refuses a second set for an applicant in a run, and any change to a complete run.
cp "$db" "$work/copy.db"
expect schema_one_per_applicant nz "UNIQUE constraint failed: decision_sets.run_id, decision_sets.applicant_id" \
  sqlite3 "$work/copy.db" "PRAGMA foreign_keys=OFF; INSERT INTO decision_sets SELECT run_id, 3001, input_hash, decisions, trace_digest, trace, format, applicant_id, trace_erased, sealed_decisions FROM decision_sets WHERE run_id=1 LIMIT 1"
cp "$db" "$work/copy.db"
expect schema_complete_closed nz "a complete run never changes" \
  sqlite3 "$work/copy.db" "DELETE FROM decision_sets WHERE run_id=1 AND record_id=5"
expect schema_complete_frozen nz "a complete run never changes" \
  sqlite3 "$work/copy.db" "UPDATE runs SET as_of='2018-01-01' WHERE run_id=1"
"$dalil" audit verify --db "$db" >/dev/null

# shellcheck source=tests/store/lease_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lease_lib.sh"
# The writer lease: held by a live process of this machine → busy, naming it.
machine=$(machine_here)
# The holder's parent (perl) never collects it: once killed below, it is a zombie, as a batch killed
# under `timeout -s KILL` stays where nothing reaps orphans.
perl -e '$p = fork // die; if (!$p) { exec "sleep", "60" } $| = 1; print "$p\n"; sleep 120' \
  > "$work/holder.pid" & holder_parent=$!
while [ ! -s "$work/holder.pid" ]; do sleep 0.05; done
holder=$(cat "$work/holder.pid")
q "INSERT INTO lease VALUES('writer', 'test', 7, $holder, '$(hostname)', '2026-01-01T00:00:00Z', strftime('%s','now') + 3600, '$machine')"
expect lease_batch 4 "another batch holds the store's lease (run 7, pid $holder on $(hostname)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-06-01 --quiet
expect lease_import 4 "a batch holds the store's lease (run 7, pid $holder" \
  "$dalil" import --db "$db" --rules "$rules" "$work/changed.jsonl"
kill -9 "$holder"
for _ in $(seq 1 100); do grep -q ') Z' "/proc/$holder/stat" 2>/dev/null && break; sleep 0.05; done
grep -q ') Z' "/proc/$holder/stat" || { echo "FAIL: the holder is not a zombie"; failed=$((failed + 1)); }
# The holder is gone (a zombie runs nothing): its lease is taken over at once.
expect lease_dead_holder 0 "run 3 (generation 1)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2016-06-01 --quiet
kill "$holder_parent"; wait "$holder_parent" 2>/dev/null || true
gone_ns=999998; while kill -0 "$gone_ns" 2>/dev/null; do gone_ns=$((gone_ns - 1)); done
# A lease of another container of this machine (the same machine id and boot, another pid
# namespace), whose pid is free here: its holder may be alive there, so it is respected.
q "INSERT INTO lease VALUES('writer', 'other', 8, $gone_ns, '$(hostname)', '2026-01-01T00:00:00Z', strftime('%s','now') + 3600, '${machine%/pid-ns:*}/pid-ns:1')"
expect lease_other_container 4 "pid $gone_ns on $(hostname)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2015-06-01 --quiet
q "DELETE FROM lease"
# Another machine's lease, even under this host's name and with no process of its pid here:
# respected until it expires, then taken over.
gone=999999; while kill -0 "$gone" 2>/dev/null; do gone=$((gone - 1)); done
q "INSERT INTO lease VALUES('writer', 'other', 8, $gone, '$(hostname)', '2026-01-01T00:00:00Z', strftime('%s','now') + 3600, 'machine-id:another-machine')"
expect lease_other_machine 4 "pid $gone on $(hostname)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2015-06-01 --quiet
q "UPDATE lease SET expires = strftime('%s','now') - 1"
expect lease_expired 0 "run 4 (generation 1)" \
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2015-06-01 --quiet
[ "$(q "SELECT count(*) FROM lease")" -eq 0 ] ||
  { echo "FAIL: a finished batch left its lease"; failed=$((failed + 1)); }

# An import racing a batch: refused or before it; never a doubled or partial run.
"$dalil" generate --count 20000 --seed 22 --out "$work/big.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/big.jsonl" >/dev/null
head -2000 "$work/big.jsonl" | sed 's/"application_date":"[0-9-]*"/"application_date":"2017-05-03"/' > "$work/big-changed.jsonl"
"$dalil" batch --db "$db" --rules "$rules" --as-of 2014-06-01 --chunk 50 --threads 1 --quiet \
  > "$work/race.out" 2>&1 &
racer=$!
sleep 0.2
status=0
"$dalil" import --db "$db" --rules "$rules" "$work/big-changed.jsonl" > "$work/import.out" 2>&1 || status=$?
wait "$racer" || { echo "FAIL: the racing batch failed: $(cat "$work/race.out")"; failed=$((failed + 1)); }
if [ "$status" -ne 0 ] && [ "$status" -ne 4 ]; then
  echo "FAIL race: the import exited $status: $(cat "$work/import.out")"; failed=$((failed + 1))
else
  echo "ok   race: import exited $status: $(head -1 "$work/import.out")"; passed=$((passed + 1))
fi
doubled=$(q "SELECT count(*) FROM (SELECT run_id, applicant_id FROM decision_sets GROUP BY 1, 2 HAVING count(*) > 1)")
short=$(q "SELECT count(*) FROM runs r WHERE status='complete' AND r.as_of='2014-06-01' AND (SELECT count(*) FROM decision_sets d WHERE d.run_id=r.run_id) <> (SELECT count(*) FROM applicants)")
[ "$doubled" -eq 0 ] && [ "$short" -eq 0 ] ||
  { echo "FAIL race: $doubled doubled, $short complete runs missing applicants"; failed=$((failed + 1)); }
"$dalil" audit verify --db "$db" >/dev/null

# The reader recorded: the OS user and host, unauthenticated.
"$dalil" decisions --db "$db" SYN-000007 > /dev/null
actor=$(q "SELECT actor FROM audit ORDER BY seq DESC LIMIT 1")
[ "$actor" = "cli:$(id -un)@$(hostname) (unauthenticated)" ] ||
  { echo "FAIL: the read was recorded as '$actor'"; failed=$((failed + 1)); }

# A read-only store: audited reads refused (nothing printed, nothing recorded); verify and head work.
ro="$work/ro"
mkdir -p "$ro"
cp "$db" "$ro/store.db"
sqlite3 "$ro/store.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
entries=$(sqlite3 "$ro/store.db" "SELECT count(*) FROM audit")
chmod a-w "$ro/store.db" "$ro"
for read in "decisions --db $ro/store.db SYN-000007" "export --db $ro/store.db" "replay --db $ro/store.db 1:7"; do
  # shellcheck disable=SC2086
  expect "read_only_${read%% *}" 3 "is read-only" "$dalil" $read
  if grep -q "SYN-\|assistance\." "$work/out"; then
    echo "FAIL read_only_${read%% *}: printed decisions"; failed=$((failed + 1))
  fi
done
expect read_only_verify 0 "audit log verified" "$dalil" audit verify --db "$ro/store.db"
expect read_only_head 0 "$entries " "$dalil" audit head --db "$ro/store.db"
expect read_only_stats 0 "applicants" "$dalil" stats --db "$ro/store.db"
chmod u+w "$ro" "$ro/store.db"
[ "$(sqlite3 "$ro/store.db" "SELECT count(*) FROM audit")" -eq "$entries" ] ||
  { echo "FAIL: the read-only store was written"; failed=$((failed + 1)); }
# Opened writable but the file is read-only to SQLite's writes (an explicit --read-only verify too).
expect verify_read_only_flag 0 "audit log verified" "$dalil" audit verify --db "$db" --read-only

# A file-size limit: the write fails with EFBIG, reported; no death by SIGXFSZ; then resumed.
fsz="$work/fsz.db"
"$dalil" generate --count 20000 --seed 23 --out "$work/fsz.jsonl"
status=0
(ulimit -f 2048; exec "$dalil" import --db "$fsz" --rules "$rules" "$work/fsz.jsonl") > "$work/out" 2>&1 || status=$?
if [ "$status" -ne 1 ] || ! grep -q "File too large" "$work/out"; then
  echo "FAIL fsize_import: exit $status: $(cat "$work/out")"; failed=$((failed + 1))
else
  echo "ok   fsize_import: $(grep -m1 "error" "$work/out")"; passed=$((passed + 1))
fi
"$dalil" import --db "$fsz" --rules "$rules" "$work/fsz.jsonl" >/dev/null
sqlite3 "$fsz" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
size_kib=$(( $(stat -c %s "$fsz") / 1024 ))
status=0
# Traces make the batch write more than the store holds: past the limit in the WAL or the file.
(ulimit -f $((size_kib + 256)); exec "$dalil" batch --db "$fsz" --rules "$rules" --as-of 2017-06-01 --chunk 500 --store-traces --quiet) > "$work/out" 2>&1 || status=$?
if [ "$status" -ne 1 ] || ! grep -q "File too large" "$work/out"; then
  echo "FAIL fsize_batch: exit $status: $(cat "$work/out")"; failed=$((failed + 1))
else
  echo "ok   fsize_batch: $(grep -m1 "error" "$work/out")"; passed=$((passed + 1))
fi
"$dalil" audit verify --db "$fsz" >/dev/null || { echo "FAIL: the store does not verify after EFBIG"; failed=$((failed + 1)); }
expect fsize_resumed 0 "resumed" "$dalil" batch --db "$fsz" --rules "$rules" --as-of 2017-06-01 --chunk 500 --store-traces --quiet
[ "$(sqlite3 "$fsz" "SELECT count(*) FROM decision_sets")" -eq 20000 ] ||
  { echo "FAIL: the resumed batch did not decide the 20000 applicants once"; failed=$((failed + 1)); }
"$dalil" audit verify --db "$fsz" >/dev/null
# A test hook set in the environment is said on standard error before anything runs, by its name
# and never its value: honoured by this test build (ignored by one without the hooks); none set,
# nothing is said.
status=0
DALIL_TEST_RESEAL_EDIT_SQL="SELECT 'SYN-424242'" "$dalil" audit head --db "$db" > "$work/out" 2>&1 || status=$?
if [ "$status" -ne 0 ] || ! grep -qE "^dalil: warning: DALIL_TEST_RESEAL_EDIT_SQL is set(: this build has the test hooks| and ignored)" "$work/out" ||
  grep -q "SYN-424242" "$work/out"; then
  echo "FAIL test_hook_said: exit $status: $(cat "$work/out")"; failed=$((failed + 1))
else
  echo "ok   test_hook_said: $(grep -m1 warning "$work/out")"; passed=$((passed + 1))
fi
# shellcheck disable=SC2046  # one -u per hook variable the caller exported
env $(env | sed -n 's/^\(DALIL_TEST_[A-Z_]*\|DALIL_FAULT_INJECT\)=.*/-u \1/p') \
  "$dalil" audit head --db "$db" > "$work/out" 2>&1
if grep -q "DALIL_" "$work/out"; then
  echo "FAIL no_test_hook: $(cat "$work/out")"; failed=$((failed + 1))
else
  echo "ok   no_test_hook: nothing said"; passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
