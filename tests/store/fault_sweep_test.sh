#!/usr/bin/env bash
# Fault injection as SQLite tests itself: the store's test VFS (store/fault_vfs.cpp, enabled by
# DALIL_FAULT_INJECT=OP:N[:full|ioerr]) fails the Nth write, sync or read of import, batch,
# export, replay and audit verify on a small cohort, for N swept from 1 until the command does
# fewer operations than N. After each failure: the command exited non-zero (no signal) and
# printed nothing of a partial read; the store verifies; the command run again without the fault
# completes, with every applicant decided exactly once. A command that absorbs the fault (SQLite
# ignores a failed checkpoint on close) must then have done exactly what it does without one.
# CI samples N (1..12, then every quarter more); DALIL_FAULT_SWEEP=full tries every N.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dalil" generate --count 150 --seed 31 --out "$work/cohort.jsonl"
printf '%s\n' '{"id":"BAD-1","sex":"femme"}' >> "$work/cohort.jsonl"
"$dalil" import --db "$work/imported.db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
cp "$work/imported.db" "$work/batched.db"
"$dalil" batch --db "$work/batched.db" --rules "$rules" --as-of 2017-06-01 --chunk 20 --quiet >/dev/null
for f in imported batched; do sqlite3 "$work/$f.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; done
cp "$work/batched.db" "$work/ref.db"
"$dalil" export --db "$work/ref.db" --run 1 > "$work/ref.export"
"$dalil" replay --db "$work/ref.db" 1:7 > "$work/ref.replay"
full="${DALIL_FAULT_SWEEP:-}"

passed=0; failed=0; injected=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

setup() {  # command → the store it starts from
  rm -f "$work/s.db" "$work/s.db-wal" "$work/s.db-shm"
  case "$1" in
    import) ;;
    batch) cp "$work/imported.db" "$work/s.db" ;;
    *) cp "$work/batched.db" "$work/s.db" ;;
  esac
}
run_cmd() {  # command (on $work/s.db; stdout to $work/out, stderr to $work/err)
  case "$1" in
    import) "$dalil" import --db "$work/s.db" --rules "$rules" "$work/cohort.jsonl" ;;
    batch) "$dalil" batch --db "$work/s.db" --rules "$rules" --as-of 2017-06-01 --chunk 20 --quiet ;;
    export) "$dalil" export --db "$work/s.db" --run 1 ;;
    replay) "$dalil" replay --db "$work/s.db" 1:7 ;;
    verify) "$dalil" audit verify --db "$work/s.db" ;;
  esac > "$work/out" 2> "$work/err"
}
# The store after the command, run again without a fault where it failed: complete and exact.
check_after() {  # command, label
  local cmd="$1" label="$2"
  if [ -f "$work/s.db" ] && ! "$dalil" audit verify --db "$work/s.db" > "$work/verify" 2>&1; then
    fail "$label: the store does not verify after the fault: $(head -2 "$work/verify")"; return 1
  fi
  local status=0
  run_cmd "$cmd" || status=$?
  if [ "$status" -ne 0 ]; then fail "$label: run again without the fault: exit $status: $(head -2 "$work/err")"; return 1; fi
  case "$cmd" in
    import)
      [ "$(sqlite3 "$work/s.db" "SELECT count(*) FROM records WHERE latest=1")" -eq 150 ] ||
        { fail "$label: not 150 records after the import"; return 1; } ;;
    batch)
      local sets runs doubled
      sets=$(sqlite3 "$work/s.db" "SELECT count(*) FROM decision_sets")
      runs=$(sqlite3 "$work/s.db" "SELECT count(*) FROM runs WHERE status='complete'")
      doubled=$(sqlite3 "$work/s.db" "SELECT count(*) FROM (SELECT run_id, applicant_id FROM decision_sets GROUP BY 1, 2 HAVING count(*) > 1)")
      [ "$sets" -eq 150 ] && [ "$runs" -eq 1 ] && [ "$doubled" -eq 0 ] ||
        { fail "$label: $sets sets in $runs complete runs ($doubled doubled) after resuming"; return 1; } ;;
    export) cmp -s "$work/out" "$work/ref.export" || { fail "$label: the export differs"; return 1; } ;;
    replay) cmp -s "$work/out" "$work/ref.replay" || { fail "$label: the replay differs"; return 1; } ;;
  esac
  "$dalil" audit verify --db "$work/s.db" > "$work/verify" 2>&1 ||
    { fail "$label: the store does not verify at the end: $(head -2 "$work/verify")"; return 1; }
  return 0
}

for cmd in import batch export replay verify; do
  for op in write sync read; do
    n=1
    while :; do
      code=ioerr
      [ "$op" = write ] && [ $((n % 2)) -eq 1 ] && code=full
      label="$cmd $op:$n:$code"
      setup "$cmd"
      status=0
      DALIL_FAULT_INJECT="$op:$n:$code" run_cmd "$cmd" || status=$?
      if ! grep -q "fault injected" "$work/err"; then
        # N is past the command's last operation of this kind: the sweep of this pair is done.
        [ "$status" -eq 0 ] ||
          fail "$label: exit $status without a fault: $(grep -v "^dalil: warning: DALIL_" "$work/err" | head -2)"
        echo "ok   $cmd $op: swept up to $((n - 1))"
        break
      fi
      injected=$((injected + 1))
      if [ "$status" -ge 128 ]; then
        fail "$label: died by signal $((status - 128))"
      elif [ "$status" -ne 0 ]; then
        # The reason: on stderr, or (audit verify) its DAMAGED lines on stdout; neither the
        # fault's line nor the test hook's warning is one (read without a pipe, which grep -q
        # could close early under pipefail).
        reason=$(grep -hv -e "fault injected" -e "^dalil: warning: DALIL_[A-Z_]* is set" \
          "$work/err" "$work/out" || true)
        if [ -z "$reason" ]; then
          fail "$label: exit $status without saying why"
        elif { [ "$cmd" = export ] || [ "$cmd" = replay ]; } && [ -s "$work/out" ]; then
          fail "$label: printed from a partial read: $(head -c 200 "$work/out")"
        elif check_after "$cmd" "$label"; then
          passed=$((passed + 1))
        fi
      else
        # The fault was absorbed (a failed checkpoint or sync on close): the result is exact.
        case "$cmd" in
          export) cmp -s "$work/out" "$work/ref.export" || fail "$label: exit 0 with a different export" ;;
          replay) cmp -s "$work/out" "$work/ref.replay" || fail "$label: exit 0 with a different replay" ;;
          verify) [ "$op" != read ] || fail "$label: verify said intact though a read failed" ;;
        esac
        # Run again (a no-op for completed work) and check the store as after a failure.
        check_after "$cmd" "$label (absorbed)" && passed=$((passed + 1))
      fi
      if [ -n "$full" ] || [ "$n" -lt 12 ]; then n=$((n + 1)); else n=$((n + n / 4)); fi
    done
  done
done
echo "$injected faults injected; $passed passed, $failed failed"
[ "$injected" -gt 0 ] || { echo "FAIL: no fault was injected (is DALIL_FAULT_INJECTION off?)"; exit 1; }
[ "$failed" -eq 0 ]
