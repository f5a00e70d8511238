#!/usr/bin/env bash
# Retention (docs/operations.md, Law 09-08 art. 3): periods per kind of data, set in the store
# (audited); `dalil retention --due` lists what is due on a date (counts and store ids, never a
# value), at the boundaries; `--apply` erases it (traces on any store, their hashes kept; records
# only on an encrypted store, by crypto-shredding), audited; verify passes afterwards and counts
# the erasures as erasures, and names a period or a trace changed behind the tool's back.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
day() { date -u -d "$1" +%F; }
old=$(day "400 days ago"); recent=$(day "10 days ago"); today=$(day today)
db="$work/r.db"; key="$work/master.key"
"$dalil" generate --count 200 --seed 9 --out "$work/cohort.jsonl"
head -100 "$work/cohort.jsonl" > "$work/a.jsonl"      # received long ago
tail -100 "$work/cohort.jsonl" > "$work/b.jsonl"      # received recently
head -10 "$work/cohort.jsonl" | sed 's/"annual_income":"[0-9.]*"/"annual_income":"1234.56"/' \
  > "$work/fix.jsonl"                                   # 10 of the old ones corrected recently
"$dalil" import --db "$db" --rules "$rules" --received "$old" "$work/a.jsonl" > /dev/null
"$dalil" import --db "$db" --rules "$rules" --received "$recent" "$work/b.jsonl" > /dev/null
"$dalil" import --db "$db" --rules "$rules" --received "$recent" --reason "ticket 3" --by clerk \
  "$work/fix.jsonl" > /dev/null
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --store-traces --quiet > /dev/null
expect_exit 2 "$dalil" import --db "$db" --rules "$rules" --received "$(day tomorrow)" "$work/a.jsonl"

# Defaults, then a period set (audited, with who and the old value).
"$dalil" retention --db "$db" --due --format json > "$work/due.json"
python3 - "$work/due.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["periods"]["records"]["days"] == 1825 and d["periods"]["traces"]["days"] == 365, d
assert d["records"]["applicants"] == 0 and d["traces"]["count"] == 0, d
PY
"$dalil" retention --db "$db" --set records=365 --by "dpo:amina" > /dev/null
entry=$(sqlite3 "$db" "SELECT actor || '|' || subject || '|' || details FROM audit WHERE action='retention_set'")
[[ "$entry" == 'dpo:amina|records|'*'"days":365,"from":1825'* ]] || fail "the retention_set entry: $entry"
expect_exit 3 "$dalil" retention --db "$db" --set records=0 --by dpo
expect_exit 3 "$dalil" retention --db "$db" --set photos=10 --by dpo
expect_exit 2 "$dalil" retention --db "$db" --set records=10
echo "ok   defaults 1825/365; --set audited (who, old and new); bad kinds and periods refused"

# Due at the boundaries: the 90 old applicants never corrected are due from old + 365 days.
due_count() { "$dalil" retention --db "$db" --due --as-of "$1" --format json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["records"]["applicants"], d["records"]["versions"], d["traces"]["count"])'; }
[ "$(due_count "$(day "$old + 364 days")")" = "0 0 0" ] || fail "due a day early: $(due_count "$(day "$old + 364 days")")"
[ "$(due_count "$(day "$old + 365 days")")" = "90 90 0" ] || fail "not due on the day: $(due_count "$(day "$old + 365 days")")"
[ "$(due_count "$(day "$recent + 364 days")")" = "90 90 0" ] || fail "the day before the recent ones"
[ "$(due_count "$(day "$recent + 365 days")")" = "200 210 0" ] || fail "all due: $(due_count "$(day "$recent + 365 days")")"
# Traces (365 days by default) from their run's start, today.
[ "$(due_count "$(day "$today + 364 days")")" = "200 210 0" ] || fail "traces due a day early"
[ "$(due_count "$(day "$today + 365 days")")" = "200 210 200" ] || fail "traces not due on the day"
"$dalil" retention --db "$db" --due > "$work/due.txt"
grep -q "records: 90 applicant(s), 90 record version(s)" "$work/due.txt" || fail "$(cat "$work/due.txt")"
grep -q "SYN-000011" "$work/due.txt" && ! grep -q "SYN-000010$" "$work/due.txt" &&
  ! grep -q "SYN-000101" "$work/due.txt" || fail "the wrong applicants are due: $(cat "$work/due.txt")"
grep -q "not encrypted" "$work/due.txt" || fail "no word that apply will refuse"
grep -q '"birth_date"\|annual_income\|[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T' "$work/due.txt" "$work/due.json" &&
  fail "a value in the listing"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='read' AND subject='retention'")" -ge 5 ] ||
  fail "--due is not an audited read"
echo "ok   due at the boundaries (day before / on the day), the right applicants, no value, audited"

# A plain store: records due are not erased (encrypt first), nothing changes.
entries=$(sqlite3 "$db" "SELECT count(*) FROM audit")
expect_exit 3 "$dalil" retention --db "$db" --apply --by dpo
grep -q "not encrypted.*Encrypt it first" "$work/out" || fail "plain apply: $(cat "$work/out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit")" -eq "$entries" ] || fail "the refused apply wrote"
# A trace erased behind the tool's back, even with its hash kept as retention keeps it, is named.
cp "$db" "$work/t.db"
python3 - "$work/t.db" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
(t,) = c.execute("SELECT trace FROM decision_sets WHERE record_id=151").fetchone()
c.execute("UPDATE decision_sets SET trace=NULL, trace_erased=? WHERE record_id=151",
          (hashlib.sha256(t.encode()).hexdigest(),))
c.commit()
PY
expect_exit 1 "$dalil" audit verify --db "$work/t.db"
grep -q "1 stored trace(s) are erased and the retention entries account for 0" "$work/out" ||
  fail "a trace erased behind the tool's back: $(cat "$work/out")"
# Traces kept 0 days: erased on a plain store too, their hashes kept; verify counts them.
"$dalil" retention --db "$db" --set traces=0 --by dpo > /dev/null
"$dalil" retention --db "$db" --apply --kind traces --by "dpo:amina" > "$work/apply.out"
grep -q "erased 0 applicant(s) (0 record version(s), their data keys destroyed) and 200 stored trace(s)" \
  "$work/apply.out" || fail "traces apply: $(cat "$work/apply.out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM decision_sets WHERE trace IS NOT NULL")" -eq 0 ] || fail "a trace left"
"$dalil" audit verify --db "$db" > "$work/v.out"
grep -q "200 stored trace(s) erased by retention" "$work/v.out" || fail "verify: $(cat "$work/v.out")"
"$dalil" replay --db "$db" 1:150 > /dev/null || fail "replay after the trace's erasure"
tamper() {  # name, SQL, expected words
  cp "$db" "$work/t.db"
  sqlite3 "$work/t.db" "$2"
  local status=0
  out=$("$dalil" audit verify --db "$work/t.db" 2>&1) || status=$?
  [ "$status" -eq 1 ] && [[ "$out" == *"$3"* ]] || fail "tamper $1: exit $status: $out"
}
tamper period "UPDATE retention SET days=9999 WHERE kind='records'" "retention period of records is 9999 days"
tamper trace_hash "UPDATE decision_sets SET trace_erased=NULL WHERE record_id=150" "decision set 1:150"
echo "ok   plain store: records refused (nothing written), traces erased with their hashes; verify counts them; tampering named"

# Encrypted in place, the records due are erased by crypto-shredding.
"$dalil" stats --db "$db" > "$work/stats.before"
"$dalil" keys init --key-file "$key" --db "$db" > /dev/null
expect_exit 3 "$dalil" retention --db "$db" --apply --by dpo
grep -q "master key" "$work/out" || fail "apply without the key: $(cat "$work/out")"
"$dalil" retention --db "$db" --key-file "$key" --apply --by "dpo:amina" > "$work/apply.out"
grep -q "erased 90 applicant(s) (90 record version(s)" "$work/apply.out" || fail "$(cat "$work/apply.out")"
"$dalil" audit verify --db "$db" > "$work/v.out"
grep -q "90 applicant(s) erased" "$work/v.out" || fail "verify: $(cat "$work/v.out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='erase' AND actor='dpo:amina' AND details LIKE '%retention: records kept 365 days%'")" -eq 90 ] ||
  fail "one erase entry per applicant, naming the period"
sqlite3 "$db" "SELECT details FROM audit WHERE action='retention' ORDER BY seq DESC LIMIT 1" | grep -q '"applicants":90,"records":90' ||
  fail "the retention entry"
"$dalil" stats --db "$db" > "$work/stats.after"
diff "$work/stats.before" "$work/stats.after" > /dev/null || fail "stats changed"
expect_exit 1 "$dalil" decisions --db "$db" --key-file "$key" SYN-000011
"$dalil" decisions --db "$db" --key-file "$key" SYN-000001 | grep -q "correction by clerk: ticket 3" ||
  fail "a corrected applicant (not due) was erased"
[ "$(due_count "$today")" = "0 0 0" ] || fail "still due after apply: $(due_count "$today")"
"$dalil" audit verify --db "$db" > /dev/null
echo "ok   encrypted: 90 due applicants crypto-shredded (an erase entry each), verify counts them, stats unchanged"
