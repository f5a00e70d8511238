#!/usr/bin/env bash
# Backup and restore (docs/operations.md): a backup taken while a batch runs is one consistent
# snapshot (the run in it is unfinished, and whole up to its last committed chunk); restored, it
# verifies against the audit head taken before the backup, and the batch resumes on it. The
# refusals: an existing backup file, an existing store without --force, a store whose batch
# holds the lease, a file that is not a store.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
batch_pid=
cleanup() { if [ -n "$batch_pid" ]; then kill "$batch_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
db="$work/store.db"
"$dalil" generate --count 60000 --seed 11 --out "$work/cohort.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
read -r seq hash < <("$dalil" audit head --db "$db")
before="$seq:$hash"

# A batch in small chunks, and the backup while it runs.
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --chunk 100 --threads 1 --quiet \
  > /dev/null &
batch_pid=$!
for _ in $(seq 1 200); do
  n=$(sqlite3 "$db" "SELECT count(*) FROM decision_sets" 2>/dev/null || echo 0)
  [ "$n" -gt 0 ] && break
  sleep 0.05
done
[ "$n" -gt 0 ] || fail "the batch wrote nothing in 10 s"
"$dalil" backup --db "$db" --out "$work/backup.db" > "$work/backup.out"
# The lease of the running batch: a restore over its store is refused (busy).
expect_exit 4 "$dalil" restore --from "$work/backup.db" --db "$db" --force
grep -q "holds the store's lease" "$work/out" || fail "restore over a running batch: $(cat "$work/out")"
wait "$batch_pid"
batch_pid=
[ ! -e "$work/backup.db-wal" ] || fail "the backup left a WAL beside it"
ls "$work" | grep -q partial && fail "a partial file was left"
# The backup is a snapshot taken mid-run: the run is unfinished in it, with whole chunks only.
status=$(sqlite3 "$work/backup.db" "SELECT status FROM runs WHERE run_id=1")
sets=$(sqlite3 "$work/backup.db" "SELECT count(*) FROM decision_sets")
[ "$status" = running ] || fail "the backup was not taken during the batch (run status $status)"
[ "$sets" -gt 0 ] && [ "$sets" -lt 60000 ] && [ $((sets % 100)) -eq 0 ] ||
  fail "the backup holds $sets decision sets (whole chunks of 100 expected)"
echo "ok   backup during the batch: run 1 unfinished, $sets decision sets"

# Refusals.
expect_exit 3 "$dalil" backup --db "$db" --out "$work/backup.db"
grep -q "never overwrites" "$work/out" || fail "backup over a file: $(cat "$work/out")"
expect_exit 1 "$dalil" backup --db "$work/none.db" --out "$work/b2.db"
"$dalil" generate --count 3 --seed 1 --out "$work/tiny.jsonl"
"$dalil" import --db "$work/other.db" --rules "$rules" "$work/tiny.jsonl" >/dev/null
expect_exit 3 "$dalil" restore --from "$work/backup.db" --db "$work/other.db"
grep -q -- "--force" "$work/out" || fail "restore over a store: $(cat "$work/out")"
expect_exit 3 "$dalil" restore --from "$work/backup.db" --db "$work/backup.db" --force
head -c 40000 /dev/urandom > "$work/noise.db"
expect_exit 1 "$dalil" restore --from "$work/noise.db" --db "$work/x.db"
[ ! -e "$work/x.db" ] || fail "a restore from noise created the store"
sqlite3 "$work/plain.db" "CREATE TABLE t(x); INSERT INTO t VALUES(1);"
expect_exit 3 "$dalil" restore --from "$work/plain.db" --db "$work/x.db"
grep -q "not a Dalil store" "$work/out" || fail "restore of another database: $(cat "$work/out")"
echo "ok   refusals: existing backup, existing store, same file, noise, not a store"

# Restore to a new file and to an existing store (--force); both prove whole against the head
# taken before the backup; a head the copy never reached is refused.
"$dalil" restore --from "$work/backup.db" --db "$work/restored.db" > /dev/null
"$dalil" audit verify --db "$work/restored.db" --head "$before"
"$dalil" restore --from "$work/backup.db" --db "$work/other.db" --force > /dev/null
"$dalil" audit verify --db "$work/other.db" --head "$before"
read -r after_seq after_hash < <("$dalil" audit head --db "$db")
expect_exit 1 "$dalil" audit verify --db "$work/restored.db" --head "$after_seq:$after_hash"
# The unfinished run resumes on the restored copy (its batch's process is gone) and completes.
"$dalil" batch --db "$work/restored.db" --rules "$rules" --as-of 2017-06-01 --quiet >/dev/null
[ "$(sqlite3 "$work/restored.db" "SELECT count(*) FROM decision_sets WHERE run_id=1")" -eq 60000 ] ||
  fail "the resumed run does not decide everyone"
"$dalil" audit verify --db "$work/restored.db" --head "$before" >/dev/null
# The copy holds the same decisions as the original (the same bytes for each set).
digest() { sqlite3 "$1" "SELECT record_id, hex(decisions) FROM decision_sets ORDER BY record_id" | sha256sum; }
a=$(digest "$db"); b=$(digest "$work/restored.db")
[ "$a" = "$b" ] || fail "the resumed copy decides differently from the original"
echo "ok   restore, verify --head, resume: every decision as in the original"
