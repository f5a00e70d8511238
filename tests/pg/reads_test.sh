#!/usr/bin/env bash
# Reading decisions back on PostgreSQL against SQLite, inside run.sh's throwaway cluster (PG*
# set): one generated cohort, imported and decided on both stores, then a corrected import (a
# second version of some records, with its reason) and a second run; `dalil replay`, `dalil
# decisions` (the record's versions and the decisions of every run) and `dalil impact` (a revised
# pack: summary, flips) give the same output on both; each read is one audit entry on PostgreSQL
# as on SQLite; the chain verifies; an unknown applicant and decision are refused alike, without
# echoing what was asked; audit verify names a ruleset or an import (its fields, its rejections)
# changed, or inserted, behind the tool's back.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
: "${PGPASSWORD:?run through tests/pg/run.sh}"
psql -qc "CREATE DATABASE dalil_r1" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_r1"
lite="$work/store.db"

"$dalil" generate --count 400 --seed 23 --out "$work/cohort.jsonl" >/dev/null
# A correction: 20 records with another income, imported with a reason.
python3 - "$work/cohort.jsonl" "$work/corrected.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")][:20]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for r in rows:
        r["household"]["annual_income"] = "1234.50"
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
    out.write('{"sex":"female"}\n')  # rejected: every record needs an id
PY
# The revision impact reads: the RAMED income ceiling moves from 5,650 to 7,000 MAD in 2015.
v2="$work/v2"
cp -r "$rules" "$v2"
sed -i 's/^  from 2008-10-16 = 5650 MAD$/  from 2008-10-16 = 5650 MAD\n  from 2015-01-01 = 7000 MAD/' \
  "$v2/health.dalil"
cmp -s "$rules/health.dalil" "$v2/health.dalil" && fail "the revised pack is the same"
applicants=$(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in list(open(sys.argv[1]))[:3]]' \
  "$work/cohort.jsonl")

# Times, durations and the store's name aside, both stores print the same.
normal() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/ in [0-9.e-]+ s$/ in S s/'; }
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  out="$work/$side"; mkdir -p "$out"
  "$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet >/dev/null
  "$dalil" import --db "$db" --rules "$rules" --reason "income corrected at the counter" \
    --by agent7 "$work/corrected.jsonl" >/dev/null
  "$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet >/dev/null
  for d in 1:1 1:17 2:401 2:25; do
    "$dalil" replay --db "$db" "$d" 2>&1 | normal >> "$out/replay" || fail "$side: replay $d"
  done
  for a in $applicants; do
    "$dalil" decisions --db "$db" --all "$a" 2>&1 | normal >> "$out/decisions" ||
      fail "$side: decisions"
  done
  "$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --reveal-ids \
    --format json --out "$out/impact" >/dev/null 2>&1 || fail "$side: impact"
  got=0; "$dalil" decisions --db "$db" NOBODY-4711 > "$out/unknown" 2>&1 || got=$?
  echo "exit $got" >> "$out/unknown"
  got=0; "$dalil" replay --db "$db" 9:9 > "$out/unknown-replay" 2>&1 || got=$?
  echo "exit $got" >> "$out/unknown-replay"
  "$dalil" audit verify --db "$db" >/dev/null || fail "$side: audit verify"
done

for f in replay decisions unknown impact/summary.json impact/flips.csv; do
  [ -s "$work/pg/$f" ] || fail "nothing in $f on PostgreSQL"
  diff "$work/lite/$f" "$work/pg/$f" > "$work/diff" || fail "$f differs: $(head -20 "$work/diff")"
done
grep -q "identical" "$work/pg/replay" || fail "replay did not prove a decision identical"
grep -q "v2: record .*correction by agent7: income corrected at the counter (latest)" \
  "$work/pg/decisions" || fail "decisions did not list the corrected version: $(cat "$work/pg/decisions")"
grep -q "NOBODY-4711" "$work/pg/unknown" && fail "the refusal echoed the applicant asked for"
grep -q "^exit 1$" "$work/pg/unknown-replay" && grep -q "no decision 9:9 in the PostgreSQL store" \
  "$work/pg/unknown-replay" || fail "an unknown decision: $(cat "$work/pg/unknown-replay")"
# The connection string (its password) is in nothing printed.
grep -rqF -- "$PGPASSWORD" "$work/pg" && fail "the password was printed: $(grep -rlF -- "$PGPASSWORD" "$work/pg")"
# One audit entry per read, as on SQLite (3 decisions reads and 1 impact read; replay, 4 reads).
lite_reads=$(sqlite3 "$lite" "SELECT count(*) FROM audit WHERE action IN ('read','impact','replay')")
pg_reads=$(psql -d dalil_r1 -tAc "SELECT count(*) FROM audit WHERE action IN ('read','impact','replay')")
[ "$lite_reads" = "$pg_reads" ] || fail "audited reads: SQLite $lite_reads, PostgreSQL $pg_reads"
[ "$pg_reads" -ge 4 ] || fail "only $pg_reads audited reads on PostgreSQL"

# audit verify checks the rulesets on PostgreSQL: a changed source, a changed loaded_at and a row
# inserted behind the tool's back are each named; put back, the store verifies again.
tamper() {  # SQL to change, SQL to put back, what verify must say
  psql -d dalil_r1 -qc "$1" >/dev/null
  got=0; "$dalil" audit verify --db "$pg" > "$work/verify" 2>&1 || got=$?
  [ "$got" = 1 ] && grep -q "TAMPERED: $3" "$work/verify" || fail "verify after '$1': $(cat "$work/verify")"
  psql -d dalil_r1 -qc "$2" >/dev/null
  "$dalil" audit verify --db "$pg" > "$work/verify" 2>&1 || fail "verify after '$2': $(cat "$work/verify")"
}
first=$(psql -d dalil_r1 -tAc "SELECT hash FROM rulesets ORDER BY hash LIMIT 1")
tamper "UPDATE rulesets SET source = source || '\x20'::bytea WHERE hash = '$first'" \
  "UPDATE rulesets SET source = substring(source from 1 for length(source) - 1) WHERE hash = '$first'" \
  "ruleset ${first:0:12} (audit entry [0-9]*) was changed: its source no longer has its hash"
tamper "UPDATE rulesets SET loaded_at = loaded_at || 'x' WHERE hash = '$first'" \
  "UPDATE rulesets SET loaded_at = left(loaded_at, -1) WHERE hash = '$first'" \
  "ruleset ${first:0:12} (audit entry [0-9]*): its loaded_at was changed after it was written"
tamper "INSERT INTO rulesets VALUES ('$(printf 'a%.0s' $(seq 64))', '\x00'::bytea, 'now')" \
  "DELETE FROM rulesets WHERE hash = '$(printf 'a%.0s' $(seq 64))'" \
  "ruleset aaaaaaaaaaaa has no audit entry"
# The imports: a row's file, counts or correction, and its rejections.
tamper "UPDATE imports SET file = file || 'x' WHERE import_id = 1" \
  "UPDATE imports SET file = left(file, -1) WHERE import_id = 1" \
  "import 1 (audit entry [0-9]*): its file was changed after it was written"
tamper "UPDATE imports SET reason = 'another reason', stored = stored + 1 WHERE import_id = 2" \
  "UPDATE imports SET reason = 'income corrected at the counter', stored = stored - 1 WHERE import_id = 2" \
  "import 2 (audit entry [0-9]*): its stored, reason was changed after it was written"
tamper "UPDATE imports SET received = '2020-01-01' WHERE import_id = 1" \
  "UPDATE imports SET received = NULL WHERE import_id = 1" \
  "import 1 (audit entry [0-9]*): its received was changed after it was written"
[ "$(psql -d dalil_r1 -tAc "SELECT count(*) FROM rejections WHERE import_id = 2")" = 1 ] ||
  fail "the corrected import has no rejection"
tamper "UPDATE rejections SET reason = reason || '.' WHERE import_id = 2" \
  "UPDATE rejections SET reason = left(reason, -1) WHERE import_id = 2" \
  "import 2 (audit entry [0-9]*): its rejections was changed after it was written"
tamper "INSERT INTO imports(import_id, file, file_hash, started_at) VALUES (99, 'x', '', 'now')" \
  "DELETE FROM imports WHERE import_id = 99" "import 99 has no audit entry"
# The server's counter tables: a decision inserted behind the tool's back (no entry vouches for it).
tamper "INSERT INTO counter_decisions(decision_id, record_id, applicant_id, office, actor, at, as_of,
    ruleset_hash, input_hash, rules, outcomes, trace, answer_digest) SELECT 'forged', record_id,
    applicant_id, 'rabat', 'x', 'now', '2020-01-01', '$first', content_hash, '[]', '[]', 0, ''
    FROM records ORDER BY record_id LIMIT 1" \
  "DELETE FROM counter_decisions WHERE decision_id = 'forged'" \
  "there are counter decisions that no audit entry vouches for"
grep -q "the rulesets, imports, records, decision sets, counter decisions and reviews the entries vouch for intact" "$work/verify" ||
  fail "verify's summary: $(cat "$work/verify")"
echo "ok: replay, decisions and impact on PostgreSQL equal SQLite's ($pg_reads audited reads each); verify checks the rulesets and imports"
