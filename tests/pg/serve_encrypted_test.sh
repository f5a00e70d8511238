#!/usr/bin/env bash
# The server's counter on an encrypted PostgreSQL store against the same on an encrypted SQLite
# store (docs/postgresql.md, "The server's counter"), inside a throwaway cluster (run_one.sh):
# 1. without the key (or with another) both refuse to start, in the same words, never echoing
#    the connection string; with it, the same cohort evaluated on a server of each (new
#    applicants, one again unchanged, one corrected), reviewed and read (decisions, an
#    applicant's decisions and record, the auditors' reviews, the figures): the same answers,
#    ids and times aside, the same pseudonyms in the same rows;
# 2. an applicant erased while the servers run: their decision reads as erased (410) on both,
#    their next evaluation makes a new applicant (the next pseudonym, a new data key) on both,
#    verify counts one erased applicant on both;
# 3. two servers on the PostgreSQL database evaluate at once while `dalil keys rotate` runs from
#    a third process and the key file is then replaced: every answered decision is stored,
#    every data key is at the new generation, each answered decision reads with the new key;
# 4. `dalil audit verify` is clean on both; no personal value the test sent is in a
#    `COPY … TO STDOUT` of any table of the PostgreSQL database, nor an id in the audit log or a
#    server's log.
# Usage: serve_encrypted_test.sh DALIL RULES
# shellcheck disable=SC2154 # port_X and pid_X are set by start (printf -v)
set -euo pipefail
dalil="$1"; rules="$2"
# shellcheck source=tests/pg/lib.sh
. "$(dirname "$0")/lib.sh"
unset DALIL_MASTER_KEY
psql -qc "CREATE DATABASE dalil_enc" >/dev/null
pg="postgresql://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/dalil_enc"
sql() { psql -d dalil_enc -XAtqc "$1"; }
lite="$work/enc.db"; key="$work/master.key"

"$dalil" generate --count 30 --seed 17 --out "$work/cohort.jsonl"
"$dalil" generate --count 400 --seed 18 --out "$work/crowd.jsonl"
sed -i 's/"id":"SYN-/"id":"CRW-/' "$work/crowd.jsonl"
# The personal values the test sends: ids, birth dates, incomes, RSU scores (less those the rule
# pack itself holds), and the corrected income.
python3 - "$rules" "$work/cohort.jsonl" "$work/crowd.jsonl" >"$work/values.txt" <<'PY'
import json, pathlib, sys
pack = "".join(p.read_text() for p in pathlib.Path(sys.argv[1]).rglob("*.dalil"))
def emit(v):
    if v and v not in pack: print(v)
for f in sys.argv[2:]:
    for line in open(f):
        r = json.loads(line)
        emit(r["id"])
        if r.get("birth_date"): emit('"' + r["birth_date"] + '"')
        h = r.get("household") or {}
        for k in ("annual_income", "rsu_score"):
            if h.get(k): emit(h[k])
print("98765.43")
PY
[ "$(wc -l <"$work/values.txt")" -gt 800 ] || fail "too few personal values to look for"
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-12-01","applicant":%s,"trace":false}' "$rec" >"$work/req$i.json"
  printf '{"as_of":"2026-12-01","applicant":%s,"rules":["housing.monthly_income","health.per_person_income","health.ramed"]}' \
    "$rec" >"$work/money$i.json"
  i=$((i + 1))
done <"$work/cohort.jsonl"
python3 - "$work/cohort.jsonl" >"$work/fix.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
r.setdefault("household", {})["annual_income"] = "98765.43"
print(json.dumps({"as_of": "2026-12-01", "applicant": r, "trace": False}))
PY
first_id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/cohort.jsonl")
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-12-01","applicant":%s,"trace":false}' "$rec" >"$work/crowd$i.json"
  i=$((i + 1))
done <"$work/crowd.jsonl"
crowd=$i

"$dalil" keys init --key-file "$key" --db "$lite" >/dev/null
"$dalil" keys init --key-file "$key" --db "$pg" >/dev/null
for db in "$lite" "$pg"; do
  side=lite; [ "$db" = "$pg" ] && side=pg
  printf -v "off_$side" '%s' "$("$dalil" token create clerk --role official --office rabat --db "$db" 2>/dev/null | tail -1)"
  printf -v "aud_$side" '%s' "$("$dalil" token create auditor1 --role auditor --db "$db" 2>/dev/null | tail -1)"
done

# 1a. Refused at start without the key, and with another, in the SQLite store's words.
"$dalil" keys init --key-file "$work/other.key" >/dev/null
refusal() {  # NAME DB ARGS…: the exit status must be 3; the message, store named STORE
  local name=$1 db=$2 got=0; shift 2
  "$dalil" serve --db "$db" --rules "$rules" --listen 127.0.0.1:0 "$@" >"$work/$name" 2>&1 || got=$?
  [ "$got" = 3 ] || fail "$name: exit $got: $(cat "$work/$name")"
  ! grep -qF -e "$PGPASSWORD" -e "$pg" "$work/$name" || fail "$name: the connection string echoed"
  sed -i "s|$lite|STORE|g; s|the PostgreSQL store|STORE|g" "$work/$name"
}
for side in lite pg; do
  db=$lite; [ "$side" = pg ] && db=$pg
  refusal "nokey.$side" "$db"
  refusal "wrongkey.$side" "$db" --key-file "$work/other.key"
done
grep -q "STORE is encrypted: dalil serve needs its master key" "$work/nokey.pg" ||
  fail "no key: $(cat "$work/nokey.pg")"
diff "$work/nokey.lite" "$work/nokey.pg" >/dev/null || fail "no key: $(diff "$work/nokey.lite" "$work/nokey.pg")"
grep -q "the master key given is not this store's" "$work/wrongkey.pg" || fail "$(cat "$work/wrongkey.pg")"
diff "$work/wrongkey.lite" "$work/wrongkey.pg" >/dev/null || fail "wrong key: $(diff "$work/wrongkey.lite" "$work/wrongkey.pg")"
echo "ok   refused at start without the key and with another, in the same words on both"

# The servers' figures count this month's decisions (after the refusals, which are compared
# line for line: the test hook's warning would be in them).
this_month_released
# start NAME DB: a server with the key on a free loopback port ($port_NAME, $pid_NAME).
start() {
  "$dalil" serve --db "$2" --rules "$rules" --key-file "$key" --listen 127.0.0.1:0 \
    --log "$work/$1.log" >"$work/$1.out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local port
  port=$(wait_listening "$work/$1.out" "$!")
  [ -n "$port" ] || fail "server $1 did not start: $(cat "$work/$1.out")"
  printf -v "port_$1" '%s' "$port"
  printf -v "pid_$1" '%s' "$pid"
}
# call SIDE TOKEN METHOD PATH [BODY-FILE]: the status; the body in $work/body.
call() {
  local port_var=port_$1 args=(-s -m 10 -o "$work/body" -w '%{http_code}' -X "$3" -H "Authorization: Bearer $2")
  [ -z "${5:-}" ] || args+=(-H 'Content-Type: application/json' --data @"$5")
  curl "${args[@]}" "http://127.0.0.1:${!port_var}$4" || true
}
# The answer without what differs between two stores: ids, times.
norm() {
  python3 - "$work/body" <<'PY'
import json, re, sys
drop = {"decision_id", "review_id", "supersedes", "at", "seq", "instance", "trace_id"}
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[0-9:.]+Z", v):
        return "TIME"
    return v
print(json.dumps(clean(json.load(open(sys.argv[1]))), sort_keys=True))
PY
}
# same SIDE-TOKEN-VAR METHOD PATH [BODY-FILE] WANT: both servers answer WANT and the same thing.
same() {
  local tok=$1 method=$2 path_lite=$3 path_pg=$4 body=$5 want=$6 got
  local t=${tok}_lite
  got=$(call lite "${!t}" "$method" "$path_lite" "$body")
  [ "$got" = "$want" ] || fail "$method $path_lite on SQLite: $got $(head -c 300 "$work/body")"
  norm >"$work/a.lite"; cp "$work/body" "$work/body.lite"
  t=${tok}_pg
  got=$(call pg "${!t}" "$method" "$path_pg" "$body")
  [ "$got" = "$want" ] || fail "$method $path_pg on PostgreSQL: $got $(head -c 300 "$work/body")"
  norm >"$work/a.pg"
  cmp -s "$work/a.lite" "$work/a.pg" ||
    fail "$method $path_pg: the answers differ: $(diff "$work/a.lite" "$work/a.pg" | head -c 600)"
}
id_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$1"; }

start lite "$lite"
start pg "$pg"
# 1b. The same evaluations: 30 new applicants, amounts for ten, one unchanged, one corrected.
: >"$work/ids.lite"; : >"$work/ids.pg"
evaluate() {  # BODY-FILE
  same off POST /api/v1/evaluate /api/v1/evaluate "$1" 200
  id_of "$work/body.lite" >>"$work/ids.lite"
  id_of "$work/body" >>"$work/ids.pg"
}
for n in $(seq 0 29); do evaluate "$work/req$n.json"; done
for n in $(seq 0 9); do evaluate "$work/money$n.json"; done
evaluate "$work/req3.json"
evaluate "$work/fix.json"
cmp -s <(sqlite3 "$lite" "SELECT applicant_id, record_id, outcomes, rules, trace FROM counter_decisions ORDER BY rowid") \
  <(sql "SELECT applicant_id, record_id, outcomes, rules, trace FROM counter_decisions ORDER BY rowid" | tr '\t' '|') ||
  fail "the counter decisions' rows differ"
cmp -s <(sqlite3 "$lite" "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id") \
  <(sql "SELECT record_id, applicant_id, version, latest, content_hash, json, length(sealed) FROM records ORDER BY record_id" | tr '\t' '|') ||
  fail "the records differ"
[ "$(sql "SELECT count(*) FROM records WHERE json <> '' OR sealed IS NULL")" = 0 ] || fail "a record stored in plain"
[ "$(sql "SELECT count(DISTINCT applicant_id) FROM counter_decisions WHERE applicant_id ~ '^p[0-9]{10}\$'")" = 30 ] ||
  fail "the counter decisions are not named by pseudonym"
grep -q '"rule":"housing.monthly_income","status":"decided","value":"sealed"' \
  <(sql "SELECT outcomes FROM counter_decisions") || fail "an amount stored in plain"
echo "ok   the same 42 evaluations on both: the same answers, rows, pseudonyms and sealed lengths"

# 1c. Reviews and reads: the same on both.
for k in 1 2 31; do
  # The first program decision of the answer, accepted; the second overridden with its own value.
  [ "$(call lite "$off_lite" GET "/api/v1/decisions/$(sed -n "${k}p" "$work/ids.lite")")" = 200 ] ||
    fail "GET before the review: $(head -c 300 "$work/body")"
  # What the official and the applicant write: distinctive texts (Latin and Arabic script),
  # sealed on both stores, searched for in every table below.
  python3 - "$work/body" "$k" >"$work/review.json" <<'PY'
import json, sys
ds = [d for d in json.load(open(sys.argv[1]))["decisions"] if d.get("status") == "decided"]
k = sys.argv[2]
print(json.dumps({"supersedes": None,
    "observations": "Observation-Privee-5W8-" + k + " ملاحظة سرية ٧ق٣", "decisions": [
    {"rule": ds[0]["rule"], "outcome": "accepted"},
    {"rule": ds[1]["rule"], "outcome": "overridden", "value": ds[1]["value"],
     "reason": "Raison-Unique-7Q3-" + k, "documents": ["Certificat-Medical-K9-" + k]}]},
    ensure_ascii=False))
PY
  printf '%s\n' "Observation-Privee-5W8-$k" "Raison-Unique-7Q3-$k" "Certificat-Medical-K9-$k" >>"$work/values.txt"
  same off POST "/api/v1/decisions/$(sed -n "${k}p" "$work/ids.lite")/review" \
    "/api/v1/decisions/$(sed -n "${k}p" "$work/ids.pg")/review" "$work/review.json" 201
done
echo "ملاحظة سرية ٧ق٣" >>"$work/values.txt"
for k in 1 2 5 31 33 41 42; do
  same off GET "/api/v1/decisions/$(sed -n "${k}p" "$work/ids.lite")" \
    "/api/v1/decisions/$(sed -n "${k}p" "$work/ids.pg")" "" 200
done
same off GET "/api/v1/decisions/$(sed -n 33p "$work/ids.lite")" "/api/v1/decisions/$(sed -n 33p "$work/ids.pg")" "" 200
grep -q '"rule":"housing.monthly_income","title":{},"status":"decided","value":"[0-9]*/[0-9]*"' "$work/body" ||
  fail "an amount not read back: $(head -c 300 "$work/body")"
same off GET "/api/v1/applicants/$first_id/decisions" "/api/v1/applicants/$first_id/decisions" "" 200
same off GET "/api/v1/applicants/$first_id/record" "/api/v1/applicants/$first_id/record" "" 200
grep -q '98765.43' "$work/body" || fail "the corrected record not read back"
same off GET /api/v1/applicants/NOBODY/decisions /api/v1/applicants/NOBODY/decisions "" 404
same aud GET /api/v1/reviews /api/v1/reviews "" 200
python3 -c '
import json, sys
text = json.dumps(json.load(open(sys.argv[1])), ensure_ascii=False)
assert "Raison-Unique-7Q3-31" in text and "Certificat-Medical-K9-31" in text
assert "Observation-Privee-5W8-31 ملاحظة سرية ٧ق٣" in text' "$work/body" ||
  fail "the reviews' texts not read back: $(head -c 300 "$work/body")"
[ "$(sql "SELECT count(*) FROM reviews WHERE sealed IS NULL OR observations <> '' OR decisions LIKE '%reason%'")" = 0 ] ||
  fail "a review stored in plain"
same aud GET /api/v1/stats /api/v1/stats "" 200
echo "ok   reviews, decisions, an applicant's history and record, the auditors' reviews, the figures: the same on both"

# 2. An erasure while the servers run: 410, then the id a new applicant, on both.
erased_pseudonym=$(sqlite3 "$lite" "SELECT applicant_id FROM counter_decisions ORDER BY rowid LIMIT 1 OFFSET 1")
second_id=$(python3 -c 'import json,sys; f=open(sys.argv[1]); f.readline(); print(json.loads(f.readline())["id"])' "$work/cohort.jsonl")
for db in "$lite" "$pg"; do
  "$dalil" erase "$second_id" --db "$db" --key-file "$key" --reason "art. 8 request" --by dpo >/dev/null
done
same off GET "/api/v1/decisions/$(sed -n 2p "$work/ids.lite")" "/api/v1/decisions/$(sed -n 2p "$work/ids.pg")" "" 410
same off GET "/api/v1/applicants/$second_id/decisions" "/api/v1/applicants/$second_id/decisions" "" 404
# The auditors' list shows the erased applicant's review as erased (rules and outcomes only).
same aud GET /api/v1/reviews /api/v1/reviews "" 200
python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["reviews"]
erased = [r for r in rows if r.get("erased")]
assert len(erased) == 1 and erased[0]["observations"] == "", erased
assert all(set(d) == {"rule", "outcome"} for d in erased[0]["decisions"]), erased
assert "Raison-Unique-7Q3-2" not in json.dumps(rows), "the erased reason"' "$work/body" ||
  fail "the erased review in the auditors' list: $(head -c 400 "$work/body")"
evaluate "$work/req1.json"
cmp -s <(sqlite3 "$lite" "SELECT applicant_id, record_id FROM counter_decisions ORDER BY rowid") \
  <(sql "SELECT applicant_id, record_id FROM counter_decisions ORDER BY rowid" | tr '\t' '|') ||
  fail "after the erasure, the counter decisions' rows differ"
again=$(sql "SELECT applicant_id FROM counter_decisions ORDER BY rowid DESC LIMIT 1")
{ [ "$again" = p0000000031 ] && [ "$again" != "$erased_pseudonym" ]; } ||
  fail "the erased applicant's id did not get a new pseudonym: $again"
[ "$(sql "SELECT count(*) FROM data_keys WHERE applicant_id = '$again' AND wrapped IS NOT NULL")" = 1 ] ||
  fail "no new data key"
for db in "$lite" "$pg"; do
  "$dalil" audit verify --db "$db" >"$work/verify" 2>&1 || fail "verify after the erasure: $(cat "$work/verify")"
  grep -q "1 applicant(s) erased" "$work/verify" || fail "verify does not count the erasure: $(cat "$work/verify")"
done
echo "ok   erased while serving: 410 on both, the id then a new applicant ($again) on both, verify counts 1 erased"
kill "$pid_lite"; wait "$pid_lite" 2>/dev/null || true

# 3. Two servers on the PostgreSQL store evaluate at once while another process rotates the key.
start pg2 "$pg"
client() {  # N PORT: new applicants of the crowd (and some again), the decision ids answered
  local n=$1 port=$2 k=0
  while :; do
    local f=$work/crowd$(((n * 101 + k) % crowd)).json
    curl -s -m 5 -H "Authorization: Bearer $off_pg" -H 'Content-Type: application/json' \
      --data @"$f" "http://127.0.0.1:$port/api/v1/evaluate" 2>/dev/null |
      grep -o '"decision_id":"[0-9a-f]*"' | cut -d'"' -f4 >>"$work/answered$n" || true
    k=$((k + 1))
  done
}
client 1 "$port_pg" & c1=$!
client 2 "$port_pg" & c2=$!
client 3 "$port_pg2" & c3=$!
client 4 "$port_pg2" & c4=$!
sleep 2
"$dalil" keys rotate --db "$pg" --key-file "$key" --new-key-file "$work/next.key" >"$work/rotate" 2>&1 ||
  fail "keys rotate: $(cat "$work/rotate")"
sleep 0.5
# The servers take the new key from their key file once it holds it (503 until then).
cp "$work/next.key" "$key.new"; chmod 600 "$key.new"; mv "$key.new" "$key"
sleep 2.5
kill "$c1" "$c2" "$c3" "$c4" 2>/dev/null || true
wait "$c1" "$c2" "$c3" "$c4" 2>/dev/null || true
sort -u "$work"/answered[1-4] >"$work/answered"
sql 'SELECT decision_id FROM counter_decisions' | sort >"$work/stored"
[ "$(wc -l <"$work/answered")" -gt 40 ] || fail "too few answers: $(wc -l <"$work/answered")"
[ "$(comm -23 "$work/answered" "$work/stored" | wc -l)" -eq 0 ] || fail "an answered decision is not stored"
[ "$(sql "SELECT count(*) FROM data_keys WHERE wrapped IS NOT NULL AND generation <> 2")" = 0 ] ||
  fail "$(sql "SELECT count(*) FROM data_keys WHERE wrapped IS NOT NULL AND generation <> 2") data key(s) not at the rotated key's generation"
after=$(sql "SELECT count(*) FROM data_keys WHERE wrapped IS NOT NULL AND applicant_id > (SELECT max(applicant_id) FROM data_keys WHERE applicant_id <= 'p0000000031')")
[ "$after" -gt 0 ] || fail "no applicant of the crowd was stored"
# Each answered decision reads (its record opened) with the new key, on a server started with it.
start reader "$pg"
bad=0
while read -r id; do
  s=$(call reader "$off_pg" GET "/api/v1/decisions/$id")
  [ "$s" = 200 ] || { bad=$((bad + 1)); echo "decision $id: $s $(head -c 200 "$work/body")"; }
done <"$work/answered"
[ "$bad" = 0 ] || fail "$bad answered decision(s) do not read with the new key"
new_after=$(sql "SELECT count(*) FROM counter_decisions c JOIN data_keys k USING(applicant_id) WHERE k.generation = 2 AND c.at > (SELECT at FROM audit WHERE action = 'keys_rotate')")
echo "ok   two servers through a key rotation: $(wc -l <"$work/answered") answered, all stored and read with the new key ($new_after after the rotation)"
[ "$new_after" -gt 0 ] || fail "no decision was stored after the rotation"

# 4. Verify clean; no personal value in any table; no id in the audit log or a server's log.
for p in $pid_pg $pid_pg2 $pid_reader; do kill "$p"; wait "$p" 2>/dev/null || true; done
"$dalil" audit verify --db "$pg" >"$work/verify" 2>&1 || fail "verify: $(cat "$work/verify")"
grep -q "1 applicant(s) erased" "$work/verify" || fail "verify: $(cat "$work/verify")"
"$dalil" audit verify --db "$lite" >"$work/verify" 2>&1 || fail "verify SQLite: $(cat "$work/verify")"
sql "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" >"$work/tables"
while read -r t; do psql -d dalil_enc -Xqc "COPY \"$t\" TO STDOUT"; done <"$work/tables" >"$work/dump"
[ "$(grep -c . "$work/dump")" -gt 1000 ] || fail "the dump is too short"
if grep -F -c -f "$work/values.txt" "$work/dump" >"$work/hits"; then
  fail "$(cat "$work/hits") line(s) with a personal value in the PostgreSQL store: $(grep -F -o -f "$work/values.txt" "$work/dump" | sort -u | head -3)"
fi
! grep -qF -e "$first_id" -e CRW- "$work"/*.log || fail "an applicant id in a server's log"
echo "ok   verify clean on both; no personal value in any table of the PostgreSQL store ($(grep -c . "$work/dump") rows), no id in the logs"

# 5. A sealed review changed, moved to another row, or deleted: verify (no key) names it.
tampered() {  # SQL, what verify must say; the review restored after
  local saved
  saved=$(sql "SELECT string_agg(review_id || ':' || encode(sealed, 'hex'), ' ') FROM reviews")
  sql "$1" >/dev/null
  local got=0
  "$dalil" audit verify --db "$pg" >"$work/verify" 2>&1 || got=$?
  [ "$got" = 1 ] && grep -q "$2" "$work/verify" || fail "$1: exit $got: $(cat "$work/verify")"
  for r in $saved; do
    sql "UPDATE reviews SET sealed = decode('${r#*:}', 'hex') WHERE review_id = '${r%%:*}'" >/dev/null
  done
}
first_review=$(sql "SELECT review_id FROM reviews ORDER BY rowid LIMIT 1")
tampered "UPDATE reviews SET sealed = set_byte(sealed, 20, get_byte(sealed, 20) # 1) WHERE review_id = '$first_review'" "review $first_review .* was changed"
tampered "UPDATE reviews SET sealed = (SELECT sealed FROM reviews ORDER BY rowid DESC LIMIT 1) WHERE review_id = '$first_review'" "review $first_review .* was changed"
"$dalil" audit verify --db "$pg" >"$work/verify" 2>&1 || fail "verify after restoring the reviews: $(cat "$work/verify")"
sql "DELETE FROM reviews WHERE review_id = '$first_review'" >/dev/null
got=0; "$dalil" audit verify --db "$pg" >"$work/verify" 2>&1 || got=$?
[ "$got" = 1 ] && grep -q "review $first_review .* was deleted" "$work/verify" ||
  fail "a review deleted: exit $got: $(cat "$work/verify")"
echo "ok   a sealed review changed, moved or deleted: verify names it on PostgreSQL"
