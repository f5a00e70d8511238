#!/usr/bin/env bash
# Encrypting an existing plain store in place (docs/operations.md): `dalil keys init --db` on a
# store that holds records seals every record version, renames applicants to pseudonyms, vouches
# for the rows again and VACUUMs, in one audited step. Afterwards no personal value is in the
# file or its WAL, verify passes (and still reaches a head taken before), the decisions are the
# same, the applicants are found by id with the key, stored traces are sealed too.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/lib.sh"
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
db="$work/plain.db"; key="$work/master.key"
"$dalil" generate --count 1500 --seed 5 --out "$work/cohort.jsonl"
# Values to look for: every id, the first 300 birth dates, incomes and RSU scores (less those the
# rule pack itself holds), and the text of a corrected version.
python3 - "$work/cohort.jsonl" "$rules" > "$work/values.txt" <<'PY'
import json, pathlib, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[2]).rglob("*.dalil"))
def emit(v):
    if v not in pack: print(v)
for i, line in enumerate(open(sys.argv[1])):
    r = json.loads(line)
    emit(r["id"])
    if i < 300:
        if r.get("birth_date"): emit('"' + r["birth_date"] + '"')
        h = r.get("household") or {}
        for k in ("annual_income", "rsu_score"):
            if h.get(k): emit(h[k])
PY
# A second version of 39 applicants (one of the 40 already had that income: unchanged), so that several versions are sealed.
head -40 "$work/cohort.jsonl" | sed 's/"annual_income":"[0-9.]*"/"annual_income":"4321.09"/' \
  > "$work/fix.jsonl"
echo '"4321.09"' >> "$work/values.txt"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" > /dev/null
"$dalil" import --db "$db" --rules "$rules" --reason "ticket 4: incomes" --by clerk "$work/fix.jsonl" > /dev/null
"$dalil" batch --db "$db" --rules "$rules" --as-of 2017-06-01 --quiet > /dev/null
hits=$(grep -a -F -o -f "$work/values.txt" "$db" | sort -u | wc -l)
[ "$hits" -gt 1500 ] || fail "the search finds only $hits values in the plain store"
# A run's decision sets whole, as `dalil export` gives them (with the key: values opened),
# "record|decisions" per line: a plain store's and an encrypted one's compare equal.
whole() {  # db run [key file]
  local k=(); [ -n "${3:-}" ] && k=(--key-file "$3")
  "$dalil" export --db "$1" "${k[@]}" --run "$2" | python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(str(d["record"]) + "|" + json.dumps(d["decisions"]))'
}
decided() { whole "$@" | sha256sum; }
before=$(decided "$db" 1)
head=$("$dalil" audit head --db "$db" | tr ' ' ':')

# A store with stored traces: they are sealed too (under each applicant's data key).
cp "$db" "$work/traces.db"
"$dalil" batch --db "$work/traces.db" --rules "$rules" --as-of 2018-01-01 --store-traces --quiet > /dev/null
cp "$work/traces.db" "$work/traces-plain.db"
"$dalil" keys init --key-file "$key" --db "$work/traces.db" > /dev/null
[ "$(sqlite3 "$work/traces.db" "SELECT count(*) FROM decision_sets WHERE run_id=2 AND trace LIKE 'sealed1:%'")" -eq 1500 ] ||
  fail "the stored traces were not sealed"
none_found "$work/values.txt" "personal value(s)" "with the stored traces" "$work/traces.db"
"$dalil" audit verify --db "$work/traces.db" > /dev/null || fail "verify with sealed traces"
"$dalil" replay --db "$work/traces.db" --key-file "$key" 2:100 | grep -q "stored trace bytes: identical" ||
  fail "a sealed trace does not replay"
echo "ok   a store with stored traces: sealed in place too, no value left, verify and replay pass"

# A plain store changed behind the tool's back is not encrypted: encrypting vouches anew for
# every row, which would vouch for the change. Refused (exit 3) in these words, whatever was
# edited (a record's JSON, a decision set), saying why and naming no value; the file is left
# byte for byte as it was (no keyring, every record plain).
refused_unverified() {  # label, SQL run behind the tool's back
  cp "$db" "$work/tampered.db"
  sqlite3 "$work/tampered.db" "$2"
  local before records
  before=$(sha256sum < "$work/tampered.db")
  records=$(sqlite3 "$work/tampered.db" "SELECT record_id, applicant_id, json, sealed FROM records ORDER BY record_id" | sha256sum)
  expect_exit 3 "$dalil" keys init --key-file "$key" --db "$work/tampered.db"
  [ "$(cat "$work/out")" = "refused: $work/tampered.db: binding a master key to the store: the store does not verify (1 problem(s): \`dalil audit verify\` names them); a store is encrypted only when its audit log vouches for all it holds; nothing changed" ] ||
    fail "$1: keys init on a store that does not verify: $(cat "$work/out")"
  if grep -F -f "$work/values.txt" "$work/out" > "$work/hits"; then
    fail "$1: the refusal echoes a personal value: $(cat "$work/hits")"
  fi
  [ "$(sha256sum < "$work/tampered.db")" = "$before" ] || fail "$1: keys init changed the file it refused"
  [ ! -s "$work/tampered.db-wal" ] || fail "$1: keys init left a WAL in the store it refused"
  [ "$(sqlite3 "$work/tampered.db" "SELECT (SELECT count(*) FROM keyring) || ' ' || (SELECT count(*) FROM records WHERE sealed IS NULL AND json != '')")" = "0 1539" ] ||
    fail "$1: keys init bound a key or sealed a record in a store it refused"
  [ "$(sqlite3 "$work/tampered.db" "SELECT record_id, applicant_id, json, sealed FROM records ORDER BY record_id" | sha256sum)" = "$records" ] ||
    fail "$1: the records changed"
}
# An income edited to a value looked for in the message (as an applicant's id and birth date).
echo '"98765.43"' >> "$work/values.txt"
refused_unverified "a record edited" "UPDATE records SET json=replace(json, '\"annual_income\":\"', '\"annual_income\":\"98765.43\",\"x\":\"') WHERE record_id=7"
refused_unverified "a decision set edited" "UPDATE decision_sets SET decisions=replace(decisions, '[', '[ ') WHERE record_id=(SELECT min(record_id) FROM decision_sets)"
echo "ok   a plain store that does not verify is refused (exit 3, why, no value named), the file unchanged"

# Taken a few rows at a time (a test hook: 2,000 records and 1,000 decision sets otherwise), the
# same rows and entries: each applicant first met in one step, their later versions renamed
# already when a later step reads them.
cp "$work/traces-plain.db" "$work/whole.db"
cp "$work/traces-plain.db" "$work/steps.db"
theads=$("$dalil" audit head --db "$work/steps.db" | tr ' ' ':')
"$dalil" keys init --key-file "$key" --db "$work/whole.db" > /dev/null
DALIL_TEST_IN_PLACE_BATCH=7 "$dalil" keys init --key-file "$key" --db "$work/steps.db" > /dev/null
forms() {  # the rows' forms, and the entries after the head with the times, and the tags and
           # digests of lines that hash random-nonce ciphertext, masked
  sqlite3 "$1" "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id;
    SELECT run_id, record_id, applicant_id, decisions, length(sealed_decisions), length(trace), substr(trace, 1, 8) FROM decision_sets ORDER BY run_id, record_id;
    SELECT applicant_id, length(wrapped), generation FROM data_keys ORDER BY applicant_id;
    SELECT applicant_id FROM pseudonyms ORDER BY applicant_id; SELECT applicant_id FROM applicants ORDER BY applicant_id"
  sqlite3 -separator '|' "$1" "SELECT seq, actor, action, subject, details FROM audit WHERE seq > ${theads%%:*} ORDER BY seq" |
    sed 's/"at":"[^"]*"/"at":AT/' |
    perl -pe 'if (/\|(records|decisions)\|/) { s/"tags":"([0-9a-f]*)"/qq("tags":) . length($1)/e; s/"digest":"[0-9a-f]{64}"/"digest":D/ }'
}
forms "$work/whole.db" > "$work/forms.whole"
forms "$work/steps.db" > "$work/forms.steps"
[ "$(grep -c . "$work/forms.whole")" -gt 6000 ] || fail "too few rows compared"
cmp -s "$work/forms.whole" "$work/forms.steps" ||
  fail "a few rows at a time, other rows or entries: $(diff "$work/forms.whole" "$work/forms.steps" | head -5)"
"$dalil" audit verify --db "$work/steps.db" --head "$theads" > /dev/null || fail "verify after steps of 7"
echo "ok   taken 7 records and 7 decision sets at a time: the same rows and entries, verify passes"
"$dalil" keys init --key-file "$key" --db "$db" > "$work/init.out"
grep -q "encrypted under the master key" "$work/init.out" || fail "$(cat "$work/init.out")"
none_found "$work/values.txt" "personal value(s)" "after encryption in place" "$db" "$db-wal"
[ "$(sqlite3 "$db" "SELECT count(*) FROM records WHERE sealed IS NULL OR json != ''")" -eq 0 ] ||
  fail "a record was left plain"
[ "$(sqlite3 "$db" "SELECT count(*) FROM records")" -eq 1539 ] || fail "records lost or added"
echo "ok   encrypted in place: no personal value in the file or its WAL ($hits before)"

"$dalil" audit verify --db "$db" > "$work/verify.out"
grep -q "encrypted in place" "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
"$dalil" audit verify --db "$db" --head "$head" > /dev/null || fail "the old head is no longer reached"
n=$(sqlite3 "$db" "SELECT details FROM audit WHERE action='keys_init'")
[[ "$n" == *'"in_place":1539'* ]] || fail "the keys_init entry: $n"
[ "$(decided "$db" 1 "$key")" = "$before" ] || fail "the decisions changed"
"$dalil" decisions --db "$db" --key-file "$key" SYN-000007 > "$work/d.out"
grep -q "decision 1:1506" "$work/d.out" && grep -q "correction by clerk: ticket 4" "$work/d.out" ||
  fail "decisions by id after: $(cat "$work/d.out")"
"$dalil" replay --db "$db" --key-file "$key" 1:1506 > "$work/replay.out" || fail "replay: $(cat "$work/replay.out")"
# Nothing left to redo: the same batch finds every record decided (the pseudonyms are the rows').
"$dalil" batch --db "$db" --key-file "$key" --rules "$rules" --as-of 2017-06-01 --quiet > "$work/b.out"
grep -q "nothing to do\|already complete\|0 records" "$work/b.out" || fail "batch after: $(cat "$work/b.out")"
# A new version after the encryption is sealed under the same applicant.
head -1 "$work/fix.jsonl" | sed 's/4321.09/5555.55/' > "$work/fix2.jsonl"
"$dalil" import --db "$db" --key-file "$key" --rules "$rules" "$work/fix2.jsonl" | grep -q "1 new versions" ||
  fail "a later correction"
"$dalil" audit verify --db "$db" > /dev/null
echo "ok   verify passes (and reaches the old head), same decisions, found by id, replay, new versions"

# Tampering after the encryption is still named row by row.
cp "$db" "$work/t.db"
sqlite3 "$work/t.db" "UPDATE records SET sealed=randomblob(100) WHERE record_id=12"
expect_exit 1 "$dalil" audit verify --db "$work/t.db"
grep -q "record 12" "$work/out" || fail "tamper: $(cat "$work/out")"
cp "$db" "$work/t.db"
sqlite3 "$work/t.db" "UPDATE decision_sets SET applicant_id='p0000009999' WHERE run_id=1 AND record_id=100"
expect_exit 1 "$dalil" audit verify --db "$work/t.db"
grep -q "decision set 1:100" "$work/out" || fail "tamper: $(cat "$work/out")"
expect_exit 3 "$dalil" keys init --key-file "$key" --db "$db"
grep -q "already encrypted" "$work/out" || fail "twice: $(cat "$work/out")"
echo "ok   tampering after it is named; a second keys init is refused"
