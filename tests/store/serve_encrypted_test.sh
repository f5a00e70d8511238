#!/usr/bin/env bash
# `dalil serve` on an encrypted store (docs/operations.md): refused without its master key, with a
# wrong one, or with a key for a plain store; the counter's records sealed and its applicants
# pseudonymous (no value of the POSTed applicants in the store file or its WAL, no id in the
# audit log); a served decision erased while the server runs reads as erased (410), verify
# passes, stats unchanged; a key rotation while serving is refused until the key file holds the
# new key, then every decision reads again; the advisers' impact reads with the key; a plain store
# with counter decisions encrypted in place verifies and reads; a sealed record changed is named
# by verify.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/log" ] && tail -5 "$work/log"; exit 1; }
. "$(dirname "$0")/lib.sh"
this_month_released  # its figures count the decisions it makes
expect_exit() {  # code, command…
  local want="$1" got=0; shift
  "$@" > "$work/out" 2>&1 || got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$work/out")"
}
unset DALIL_MASTER_KEY
enc="$work/enc.db"; plain="$work/plain.db"; key="$work/master.key"
"$dalil" generate --count 40 --seed 11 --out "$work/cohort.jsonl"
# Personal values of the cohort (as encryption_test.sh): ids, birth dates, incomes, RSU scores,
# less those the rule pack itself holds.
python3 - "$work/cohort.jsonl" "$rules" > "$work/values.txt" <<'PY'
import json, pathlib, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[2]).rglob("*.dalil"))
def emit(v):
    if v not in pack: print(v)
for i, line in enumerate(open(sys.argv[1])):
    r = json.loads(line)
    emit(r["id"])
    if r.get("birth_date"): emit('"' + r["birth_date"] + '"')
    h = r.get("household") or {}
    for k in ("annual_income", "rsu_score"):
        if h.get(k): emit(h[k])
    # The first ten are also asked housing.monthly_income (the income / 12, an exact fraction
    # of centimes): their income in centimes must not be in the store either.
    if i < 10 and h.get("annual_income"):
        emit(str(round(float(h["annual_income"]) * 100)) + "/")
PY
[ "$(wc -l < "$work/values.txt")" -gt 80 ] || fail "too few values to look for"
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-12-01","applicant":%s,"trace":false}' "$rec" > "$work/req$i.json"
  printf '{"as_of":"2026-12-01","applicant":%s,"trace":false,"rules":["housing.monthly_income","health.per_person_income","health.ramed"]}' \
    "$rec" > "$work/money$i.json"
  i=$((i + 1))
done < "$work/cohort.jsonl"

"$dalil" keys init --key-file "$key" --db "$enc" > /dev/null
token=$("$dalil" token create clerk --role official --office rabat --db "$enc" 2> /dev/null | tail -1)
auditor=$("$dalil" token create counter-auditor --role auditor --db "$enc" 2> /dev/null | tail -1)
ptoken=$("$dalil" token create clerk --role official --office rabat --db "$plain" 2> /dev/null | tail -1)
pauditor=$("$dalil" token create counter-auditor --role auditor --db "$plain" 2> /dev/null | tail -1)

# Refusals at start, each naming why, never a key.
expect_exit 3 "$dalil" serve --db "$enc" --rules "$rules" --listen 127.0.0.1:0
grep -q "is encrypted: dalil serve needs its master key" "$work/out" || fail "no key: $(cat "$work/out")"
grep -q -- "--key-file" "$work/out" || fail "the refusal does not say how to give the key"
"$dalil" keys init --key-file "$work/other.key" > /dev/null
expect_exit 3 "$dalil" serve --db "$enc" --key-file "$work/other.key" --rules "$rules" --listen 127.0.0.1:0
grep -q "not this store's" "$work/out" || fail "a wrong key: $(cat "$work/out")"
DALIL_MASTER_KEY=$(cat "$work/other.key") expect_exit 3 "$dalil" serve --db "$enc" --rules "$rules" --listen 127.0.0.1:0
grep -q "not this store's" "$work/out" || fail "a wrong key in the environment: $(cat "$work/out")"
expect_exit 3 "$dalil" serve --db "$plain" --key-file "$key" --rules "$rules" --listen 127.0.0.1:0
grep -q "is not encrypted" "$work/out" || fail "a key for a plain store: $(cat "$work/out")"
cp "$key" "$work/open.key"; chmod 644 "$work/open.key"
expect_exit 3 "$dalil" serve --db "$enc" --key-file "$work/open.key" --rules "$rules" --listen 127.0.0.1:0
grep -q "others may read it" "$work/out" || fail "a key file others may read: $(cat "$work/out")"
for k in "$key" "$work/other.key"; do
  ! grep -q -i "$(tr -d '\n' < "$k")" "$work/out" || fail "a key echoed"
done
echo "ok   refused at start: no key, a wrong key (file or environment), a key for a plain store, an open key file"

port=
serve_rules=(--rules "$rules")  # emptied to serve the store's publications
start() {  # db, extra options… (sets port and pids)
  local db=$1; shift
  # Emptied here, not by the background job's redirection (which may come after the wait below
  # has read the previous server's lines).
  : > "$work/serve.out"
  "$dalil" serve --db "$db" "${serve_rules[@]}" --listen 127.0.0.1:0 --log "$work/log" "$@" > "$work/serve.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -q '^listening on' "$work/serve.out" && break; sleep 0.1; done
  port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/serve.out")
  [ -n "$port" ] || fail "the server did not start: $(cat "$work/serve.out")"
}
post() {  # token, request file: prints the status, the body in $work/body
  curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data @"$2" "http://127.0.0.1:$port/api/v1/evaluate"
}
get() {  # token, path
  curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port$2"
}

# A reader that keeps a connection open: the WAL stays beside the store (never checkpointed away).
python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM audit').fetchall(); time.sleep(120)" \
  "$enc" &
pids+=($!)
sleep 0.3
start "$enc" --key-file "$key"
: > "$work/ids"
for n in $(seq 0 39); do
  [ "$(post "$token" "$work/req$n.json")" = 200 ] || fail "POST $n: $(cat "$work/body")"
  grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4 >> "$work/ids"
done
[ "$(post "$token" "$work/req3.json")" = 200 ] || fail "POST again"  # the same record: unchanged
: > "$work/money_ids"
for n in $(seq 0 9); do
  [ "$(post "$token" "$work/money$n.json")" = 200 ] || fail "POST money $n: $(cat "$work/body")"
  grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4 >> "$work/money_ids"
done
cp "$work/body" "$work/money.answer"
# The amounts are kept sealed (read back from the record), the categories in plain for the figures.
sqlite3 "$enc" "SELECT outcomes FROM counter_decisions ORDER BY rowid DESC LIMIT 1" > "$work/outcomes"
grep -q '"rule":"housing.monthly_income","status":"decided","value":"sealed"' "$work/outcomes" ||
  fail "an amount stored in plain: $(cat "$work/outcomes")"
grep -q '"rule":"health.ramed","status":"decided","value":"[a-z_]*"' "$work/outcomes" ||
  fail "a category not kept for the figures: $(cat "$work/outcomes")"
[ "$(get "$token" "/api/v1/decisions/$(tail -1 "$work/money_ids")")" = 200 ] ||
  fail "GET a decision with amounts: $(cat "$work/body")"
grep -q '"value":"[0-9]*/1200"' "$work/body" ||
  fail "the amount read back: $(head -c 400 "$work/body")"
[ "$(get "$token" /api/v1/applicants/SYN-000004/record)" = 200 ] || fail "record read: $(cat "$work/body")"
grep -q '"id":"SYN-000004"' "$work/body" || fail "the record read back: $(head -c 200 "$work/body")"
first=$(sed -n 1p "$work/ids")
[ "$(get "$token" "/api/v1/decisions/$first")" = 200 ] || fail "GET: $(cat "$work/body")"
grep -q '"applicant":"SYN-000001"' "$work/body" || fail "the decision read back names no id"
[ "$(get "$token" /api/v1/applicants/SYN-000001/decisions)" = 200 ] || fail "history: $(cat "$work/body")"
[ -s "$enc-wal" ] || fail "no WAL to look into"
none_found "$work/values.txt" "personal value(s)" "" "$enc" "$enc-wal"
[ "$(sqlite3 "$enc" "SELECT count(*) FROM records WHERE json != '' OR sealed IS NULL")" -eq 0 ] ||
  fail "a record stored in plain"
[ "$(sqlite3 "$enc" "SELECT count(DISTINCT applicant_id) FROM counter_decisions WHERE applicant_id GLOB 'p[0-9]*'")" -eq 40 ] ||
  fail "counter decisions not named by pseudonym"
sqlite3 "$enc" "SELECT count(*) FROM audit WHERE subject LIKE '%SYN-%' OR details LIKE '%SYN-%'" |
  grep -qx 0 || fail "an audit entry names an applicant id"
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify after the counter's decisions"
kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
# The same search finds them in a plain store served alike (the search can fail).
start "$plain"
for n in $(seq 0 39); do [ "$(post "$ptoken" "$work/req$n.json")" = 200 ] || fail "plain POST $n"; done
for n in $(seq 0 9); do
  [ "$(post "$ptoken" "$work/money$n.json")" = 200 ] || fail "plain POST money $n"
  grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4 >> "$work/plain_ids"
done
hits=$(cat "$plain" "$plain-wal" 2> /dev/null | grep -a -F -o -f "$work/values.txt" | sort -u | wc -l)
[ "$hits" -gt 80 ] || fail "the search finds only $hits values in a plain store"
# This month's figures, read on the plain store, are kept with the amounts they count (as its
# outcomes keep them): encrypting it in place must not leave them (below).
[ "$(get "$pauditor" /api/v1/stats)" = 200 ] || fail "figures of the plain store: $(cat "$work/body")"
sqlite3 "$plain" "SELECT figures FROM counter_month_figures" | grep -q '[0-9]/[0-9]' ||
  fail "the plain store's kept figures hold no amount: $(sqlite3 "$plain" "SELECT figures FROM counter_month_figures" | head -c 300)"
kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
echo "ok   40 POSTed applicants: no value in the encrypted store or its WAL ($hits found in a plain one), pseudonyms only, verify passes"

# Erasure while the server runs: the decision reads as erased, verify passes, stats unchanged.
start "$enc" --key-file "$key"
"$dalil" stats --db "$enc" > "$work/stats.before"
s=$(get "$auditor" /api/v1/stats); [ "$s" = 200 ] || fail "figures: $s $(cat "$work/body")"
cp "$work/body" "$work/figures.before"
grep -q '"counter_decisions":51' "$work/figures.before" || fail "the figures do not count 51 decisions: $(head -c 300 "$work/figures.before")"
"$dalil" erase SYN-000001 --db "$enc" --key-file "$key" --reason "art. 8 request 5" --by dpo > /dev/null
[ "$(get "$token" "/api/v1/decisions/$first")" = 410 ] || fail "GET after erasure: $(cat "$work/body")"
grep -q '"type":"https://dalil.ma/problems/erased"' "$work/body" || fail "not erased: $(cat "$work/body")"
[ "$(get "$token" /api/v1/applicants/SYN-000001/decisions)" = 404 ] || fail "history after erasure"
second=$(sed -n 2p "$work/ids")
[ "$(get "$token" "/api/v1/decisions/$second")" = 200 ] || fail "another applicant after the erasure"
"$dalil" audit verify --db "$enc" > "$work/verify.out" || fail "verify after erasure: $(cat "$work/verify.out")"
grep -q "1 applicant(s) erased" "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
"$dalil" stats --db "$enc" > "$work/stats.after"
diff "$work/stats.before" "$work/stats.after" > /dev/null || fail "stats changed with the erasure"
[ "$(get "$auditor" /api/v1/stats)" = 200 ] || fail "figures after erasure: $(cat "$work/body")"
cmp -s "$work/body" "$work/figures.before" || fail "the counter's figures changed with the erasure"
# The same id again: a new applicant (nothing links it to the erased decisions).
[ "$(post "$token" "$work/req0.json")" = 200 ] || fail "POST after erasure: $(cat "$work/body")"
[ "$(sqlite3 "$enc" "SELECT applicant_id FROM counter_decisions ORDER BY rowid DESC LIMIT 1")" = p0000000041 ] ||
  fail "the erased applicant's id did not get a new pseudonym"
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify after the new applicant"
echo "ok   erased while serving: 410 erased, other decisions read, verify passes, stats unchanged, the id a new applicant"

# Rotation while serving: refused (503) until the key file holds the new key, then all reads.
"$dalil" keys rotate --db "$enc" --key-file "$key" --new-key-file "$work/next.key" > /dev/null
[ "$(post "$token" "$work/req5.json")" = 503 ] || fail "POST under a rotated key: $(cat "$work/body")"
grep -q "the master key the server holds is not the store's" "$work/log" || fail "the log does not say why"
cp "$work/next.key" "$key.new"; chmod 600 "$key.new"; mv "$key.new" "$key"
[ "$(post "$token" "$work/req5.json")" = 200 ] || fail "POST after the key file was updated: $(cat "$work/body")"
[ "$(get "$token" "/api/v1/decisions/$second")" = 200 ] || fail "GET after rotation: $(cat "$work/body")"
new=$(grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4)
[ "$new" = "$second" ] || fail "the decision read back"
[ "$(sqlite3 "$enc" "SELECT count(*) FROM data_keys WHERE wrapped IS NOT NULL AND generation != 2")" -eq 0 ] ||
  fail "a data key not at the new generation"
kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
"$dalil" audit verify --db "$enc" > /dev/null || fail "verify after rotation"
expect_exit 3 "$dalil" serve --db "$enc" --key-file "$work/other.key" --rules "$rules" --listen 127.0.0.1:0
echo "ok   rotation while serving: 503 until the key file holds the new key, then writes and reads"

# The advisers' impact reads the stored cohort (the counter's records) with the key the server
# holds now (the rotated one, loaded afresh from its file): 41 applicants, one erased.
"$dalil" publish --db "$enc" --rules "$rules" --approved-by test --from 2015-01-01 > /dev/null
"$dalil" publish --db "$enc" --rules "$rules" --approved-by test --from 2020-01-01 > /dev/null
adviser=$("$dalil" token create adv --role adviser --db "$enc" 2> /dev/null | tail -1)
serve_rules=()
start "$enc" --key-file "$key"
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $adviser" \
  -H 'Content-Type: application/json' --data '{"old":1,"new":2,"as_of":"2026-12-01"}' \
  "http://127.0.0.1:$port/api/v1/impact")
[ "$status" = 200 ] || fail "impact on an encrypted store: $status $(cat "$work/body")"
grep -q '"records":40,"compared":40,"unreadable":{"old":0,"new":0}' "$work/body" ||
  fail "impact: $(head -c 300 "$work/body")"
# An auditor's impact on one applicant: the audit chain, which erasure does not reach, names
# them as every entry of an encrypted store does (their pseudonym), never by their id.
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $auditor" \
  -H 'Content-Type: application/json' \
  --data '{"old":1,"new":2,"as_of":"2026-12-01","where":["id=SYN-000004"]}' \
  "http://127.0.0.1:$port/api/v1/impact")
[ "$status" = 200 ] && grep -q '"records":1,' "$work/body" ||
  fail "an auditor's impact by id: $status $(head -c 300 "$work/body")"
entry=$(sqlite3 "$enc" "SELECT json_extract(details, '$.filter') FROM audit ORDER BY seq DESC LIMIT 1")
hashed=$(sqlite3 "$enc" "SELECT subject FROM audit WHERE subject LIKE 'applicant %' AND details = '{\"purpose\":\"record\"}' ORDER BY seq LIMIT 1")
[ "$entry" = "id=${hashed#applicant }" ] && [ "$entry" != "id=SYN-000004" ] ||
  fail "the impact's entry names the applicant as: $entry (the record read as: $hashed)"
kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
echo "ok   the advisers' impact opens the stored records with the server's (rotated) key; an auditor's by id audited under the applicant's pseudonym"

# The plain store with the counter's decisions, encrypted in place: verify passes (the counter's
# decisions vouched for again), no value left in the file, and served with the key every
# decision reads back.
# The applicants' index spread over its three parts: encrypting in place renames the applicants
# of all three, and leaves no plain id in any.
spread_counter_index "$plain"
"$dalil" audit verify --db "$plain" > "$work/out" 2>&1 || fail "verify, the index spread: $(cat "$work/out")"
"$dalil" audit head --db "$plain" > "$work/head"
sqlite3 "$plain" ".backup '$work/plain-steps.db'"
"$dalil" keys init --key-file "$key" --db "$plain" > "$work/out" 2>&1 || fail "in place: $(cat "$work/out")"
"$dalil" audit verify --db "$plain" --head "$(awk '{print $1 ":" $2}' "$work/head")" > "$work/out" 2>&1 ||
  fail "verify after encrypting the counter's decisions in place: $(cat "$work/out")"
# Taken 7 decisions at a time (a test hook; 1,000 otherwise, so that the memory held is one
# step's rows): the same rows and the same entries.
DALIL_TEST_IN_PLACE_BATCH=7 "$dalil" keys init --key-file "$key" --db "$work/plain-steps.db" > "$work/out" 2>&1 ||
  fail "in place, 7 at a time: $(cat "$work/out")"
counter_forms() {
  sqlite3 "$1" "SELECT decision_id, record_id, applicant_id, outcomes FROM counter_decisions ORDER BY rowid;
    SELECT subject, details FROM audit WHERE action = 'counter_decision' ORDER BY seq"
}
counter_forms "$plain" > "$work/counter.whole"
counter_forms "$work/plain-steps.db" > "$work/counter.steps"
[ "$(grep -c . "$work/counter.whole")" -ge 100 ] || fail "too few counter rows compared: $(grep -c . "$work/counter.whole")"
cmp -s "$work/counter.whole" "$work/counter.steps" ||
  fail "7 counter decisions at a time, other rows or entries: $(diff "$work/counter.whole" "$work/counter.steps" | head -5)"
"$dalil" audit verify --db "$work/plain-steps.db" > /dev/null || fail "verify after steps of 7"
for db in "$plain" "$work/plain-steps.db"; do
  [ "$(counter_index_parts "$db")" = "$counter_indexed 0 0" ] ||
    fail "the applicants' index after encrypting in place ($db): $(counter_index_parts "$db")"
done
none_found "$work/values.txt" "personal value(s)" "after encrypting in place" "$plain" "$plain-wal"
[ "$(sqlite3 "$plain" "SELECT count(*) FROM counter_month_figures")" = 0 ] ||
  fail "the kept figures (amounts) left after encrypting in place"
serve_rules=(--rules "$rules")
start "$plain" --key-file "$key"
pid_in_place=$(tail -1 "$work/plain_ids")
[ "$(get "$ptoken" "/api/v1/decisions/$pid_in_place")" = 200 ] ||
  fail "a decision encrypted in place: $(cat "$work/body")"
grep -q '"value":"[0-9]*/1200"' "$work/body" || fail "its amount read back"
[ "$(get "$ptoken" /api/v1/applicants/SYN-000002/decisions)" = 200 ] || fail "history by id"
kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true
cp "$plain" "$work/t2.db"
sqlite3 "$work/t2.db" "UPDATE counter_decisions SET outcomes=replace(outcomes, '\"sealed\"', '\"1/12\"') WHERE decision_id='$pid_in_place'"
status=0
"$dalil" audit verify --db "$work/t2.db" > "$work/out" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "counter decision $pid_in_place" "$work/out" ||
  fail "a counter decision changed after encrypting in place: $status $(cat "$work/out")"
echo "ok   a plain store with counter decisions encrypted in place: verify passes, no value left, decisions read"

# A counter record's sealed bytes changed: verify names its import (no key needed).
cp "$enc" "$work/t.db"
sqlite3 "$work/t.db" "UPDATE records SET sealed=randomblob(length(sealed)) WHERE record_id=3"
status=0
out=$("$dalil" audit verify --db "$work/t.db" 2>&1) || status=$?
[ "$status" -eq 1 ] && [[ "$out" == *"were changed, deleted or inserted"* ]] ||
  fail "a sealed counter record changed: exit $status: $out"
echo "ok   a counter record's sealed bytes changed: verify names its import"
