#!/usr/bin/env bash
# The officials' reviews on an encrypted SQLite store (docs/operations.md): what an official wrote
# over a recommendation (reasons, values, documents) and the applicant's own observations are
# sealed under the applicant's data key. Served by `dalil serve`, none of them is in the store
# file or its WAL, while the API shows them back exactly as a plain store does; the override
# rates are the same on both; verify needs no key and names a changed, a moved and a deleted
# sealed review; an erased applicant's reviews verify, are counted erased and can never be read
# again; a plain store with reviews encrypted in place keeps no plain text and verifies with the
# head taken before.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"; [ -z "${KEEP:-}" ] || echo "kept $work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/log" ] && tail -5 "$work/log"; exit 1; }
. "$(dirname "$0")/lib.sh"
this_month_released  # its figures count the decisions it makes
unset DALIL_MASTER_KEY
enc="$work/enc.db"; plain="$work/plain.db"; key="$work/master.key"
n_reviews=12
"$dalil" generate --count "$n_reviews" --seed 13 --out "$work/cohort.jsonl"
i=0
while IFS= read -r rec; do
  printf '{"as_of":"2026-12-01","applicant":%s,"trace":false,"rules":["regularization_2014.eligible","status.lawful_stay"]}' \
    "$rec" > "$work/req$i.json"
  i=$((i + 1))
done < "$work/cohort.jsonl"
# What the officials and applicants write: distinctive texts, in Latin and Arabic script, each
# review its own. The words looked for in the store's bytes are in $work/texts.
: > "$work/texts"
for n in $(seq 0 $((n_reviews - 1))); do
  outcome=overridden
  [ "$n" -lt $((n_reviews - 2)) ] || outcome=accepted  # 10 overridden of 12, then 11: shown
  if [ "$outcome" = overridden ]; then
    extra=",\"value\":true,\"reason\":\"Raison-Unique-7Q3-$n: a serious illness\",\"documents\":[\"Certificat-Medical-K9-$n\"]"
    printf '%s\n' "Raison-Unique-7Q3-$n" "Certificat-Medical-K9-$n" >> "$work/texts"
  else
    extra=""
  fi
  printf '{"supersedes":null,"decisions":[{"rule":"regularization_2014.eligible","outcome":"%s"%s},{"rule":"status.lawful_stay","outcome":"accepted"}],"observations":"Observation-Privee-5W8-%s ملاحظة سرية ٧ق٣ %s"}' \
    "$outcome" "$extra" "$n" "$n" > "$work/review$n.json"
  printf '%s\n' "Observation-Privee-5W8-$n" >> "$work/texts"
done
printf '%s\n' "ملاحظة سرية ٧ق٣" >> "$work/texts"

"$dalil" keys init --key-file "$key" --db "$enc" > /dev/null
for db in "$enc" "$plain"; do
  "$dalil" token create clerk --role official --office rabat --db "$db" 2> /dev/null | tail -1 > "$db.official"
  "$dalil" token create audit --role auditor --db "$db" 2> /dev/null | tail -1 > "$db.auditor"
  "$dalil" token create adv --role adviser --db "$db" 2> /dev/null | tail -1 > "$db.adviser"
done

port=
start() {  # db, extra options… (sets port and pids)
  local db=$1; shift
  : > "$work/serve.out"
  "$dalil" serve --db "$db" --rules "$rules" --listen 127.0.0.1:0 --log "$work/log" "$@" > "$work/serve.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -q '^listening on' "$work/serve.out" && break; sleep 0.1; done
  port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/serve.out")
  [ -n "$port" ] || fail "the server did not start: $(cat "$work/serve.out")"
}
stop() { kill "${pids[-1]}"; wait "${pids[-1]}" 2> /dev/null || true; }
call() {  # token, method, path[, body file]: prints the status, the body in $work/body
  local data=()
  [ $# -lt 4 ] || data=(-H 'Content-Type: application/json' --data @"$4")
  curl -s -o "$work/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "${data[@]}" \
    "http://127.0.0.1:$port$3"
}
# The override rates of the figures in $work/body (wherever the answer keeps them).
overrides() {
  python3 -c '
import json, sys
def find(v):
    if isinstance(v, dict):
        if "overrides" in v: return v["overrides"]
        for x in v.values():
            f = find(x)
            if f is not None: return f
    return None
print(json.dumps(find(json.load(open(sys.argv[1])))))' "$work/body"
}
# The reviews of a decision as GET shows them, each without its ids and time (which differ from
# one store to another), one per line.
shown_reviews() {
  python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["reviews"]:
    for k in ("review_id", "decision_id", "at", "supersedes"): r.pop(k)
    print(json.dumps(r, ensure_ascii=False, sort_keys=True))' "$work/body"
}
# Serves `db`, evaluates the cohort, reviews every decision (one twice), and keeps what the API
# shows: $db.shown (the reviews read back), $db.stats (the override rates), $db.ids.
serve_and_review() {  # db, extra serve options…
  local db=$1; shift
  start "$db" "$@"
  local official auditor adviser
  official=$(cat "$db.official"); auditor=$(cat "$db.auditor"); adviser=$(cat "$db.adviser")
  : > "$db.ids"; : > "$db.shown"
  for n in $(seq 0 $((n_reviews - 1))); do
    [ "$(call "$official" POST /api/v1/evaluate "$work/req$n.json")" = 200 ] || fail "POST $n: $(cat "$work/body")"
    id=$(grep -o '"decision_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4)
    echo "$id" >> "$db.ids"
    [ "$(call "$official" POST "/api/v1/decisions/$id/review" "$work/review$n.json")" = 201 ] ||
      fail "review $n: $(cat "$work/body")"
    # What the answer to the review shows is what every later read shows.
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); w = json.load(open(sys.argv[2]))
assert r["decisions"] == w["decisions"] and r["observations"] == w["observations"], (r, w)' \
      "$work/body" "$work/review$n.json" || fail "the review's answer is not what was sent"
    first_review=$(grep -o '"review_id":"[0-9a-f]*"' "$work/body" | cut -d'"' -f4)
  done
  # A second review of the last decision supersedes the first.
  sed "s/\"supersedes\":null/\"supersedes\":\"$first_review\"/; s/Observation-Privee-5W8-/Seconde-Obs-3J6-/" \
    "$work/review0.json" > "$work/again.json"
  [ "$(call "$official" POST "/api/v1/decisions/$id/review" "$work/again.json")" = 201 ] ||
    fail "a second review: $(cat "$work/body")"
  for id in $(cat "$db.ids"); do
    [ "$(call "$official" GET "/api/v1/decisions/$id")" = 200 ] || fail "GET $id: $(cat "$work/body")"
    shown_reviews >> "$db.shown"
  done
  [ "$(call "$auditor" GET "/api/v1/reviews?limit=1000")" = 200 ] || fail "the auditors' list: $(cat "$work/body")"
  python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["reviews"]:
    for k in ("review_id", "decision_id", "at", "supersedes"): r.pop(k)
    print(json.dumps(r, ensure_ascii=False, sort_keys=True))' "$work/body" > "$db.listed"
  [ "$(call "$adviser" GET /api/v1/stats)" = 200 ] || fail "stats: $(cat "$work/body")"
  overrides > "$db.stats"
}

# A reader that keeps a connection open: the WAL stays beside the store (never checkpointed away).
python3 -c "import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM audit').fetchall(); time.sleep(300)" \
  "$enc" &
pids+=($!)
sleep 0.3
serve_and_review "$enc" --key-file "$key"
[ -s "$enc-wal" ] || fail "no WAL to look into"
none_found "$work/texts" "review text(s)" "" "$enc" "$enc-wal"
! grep -a -q -F "Seconde-Obs-3J6-" "$enc" "$enc-wal" || fail "the second review's text is in the store"
"$dalil" audit verify --db "$enc" > "$work/out" 2>&1 || fail "verify: $(cat "$work/out")"
stop
serve_and_review "$plain"
hits=$(cat "$plain" "$plain-wal" 2> /dev/null | grep -a -F -o -f "$work/texts" | sort -u | wc -l)
[ "$hits" -eq "$(sort -u "$work/texts" | wc -l)" ] || fail "the search finds only $hits texts in a plain store"
stop
cmp -s "$enc.shown" "$plain.shown" || fail "the reviews read back differ: $(diff "$enc.shown" "$plain.shown" | head -5)"
[ "$(grep -c 'Raison-Unique-7Q3-' "$enc.shown")" -eq $((n_reviews - 2 + 1)) ] || fail "the reasons read back: $(head -2 "$enc.shown")"
grep -q 'ملاحظة سرية ٧ق٣ 3' "$enc.shown" || fail "the Arabic observations read back"
cmp -s "$enc.listed" "$plain.listed" || fail "the auditors' list differs: $(diff "$enc.listed" "$plain.listed" | head -5)"
# 11 overridden of 12 reviewed: suppressed, as it would say that 1 was accepted.
grep -q '"decision": "regularization_2014.eligible", "reviewed": {"count": 12, "suppressed": false}, "overridden": {"count": null, "suppressed": true}, "rate": null' "$enc.stats" ||
  fail "the override rates: $(cat "$enc.stats")"
cmp -s "$enc.stats" "$plain.stats" || fail "the override rates differ: $(cat "$enc.stats") / $(cat "$plain.stats")"
echo "ok   reviews sealed: no reason, document or observation in the encrypted store or its WAL ($hits found in a plain one); reads and override rates as on a plain store; verify passes"

# Verify needs no key, and names a sealed review changed, moved to another row, or deleted.
tampered() {  # python over the connection c to a copy of the store, what verify must say
  sqlite3 "$enc" ".backup '$work/t.db'"
  python3 -c "import sqlite3; c = sqlite3.connect('$work/t.db'); $1; c.commit()"
  local status=0
  "$dalil" audit verify --db "$work/t.db" > "$work/out" 2>&1 || status=$?
  [ "$status" -eq 1 ] && grep -q "$2" "$work/out" || fail "$1: exit $status: $(cat "$work/out")"
}
tampered "b = bytearray(c.execute('SELECT sealed FROM reviews WHERE rowid = 3').fetchone()[0]); b[20] ^= 1; c.execute('UPDATE reviews SET sealed = ? WHERE rowid = 3', (bytes(b),))" "review .* was changed"
tampered "c.execute('UPDATE reviews SET sealed = (SELECT sealed FROM reviews WHERE rowid = 4) WHERE rowid = 3')" "review .* was changed"
tampered "c.execute(\"UPDATE reviews SET decisions = replace(decisions, 'overridden', 'accepted') WHERE rowid = 3\")" "review .* was changed"
tampered "c.execute('DELETE FROM reviews WHERE rowid = (SELECT max(rowid) FROM reviews)')" "review .* was deleted"
tampered "c.execute(\"UPDATE reviews SET sealed = NULL, observations = 'x' WHERE rowid = 3\")" "review .* was changed"
echo "ok   verify (no key) names a sealed byte changed, a sealed part moved, an outcome changed, a review deleted or unsealed"

# Erasure: verify passes and counts the applicant erased; their reviews read as erased, with no
# text, also with the master key; the override rates unchanged.
"$dalil" erase SYN-000001 --db "$enc" --key-file "$key" --reason "art. 8 request 9" --by dpo > /dev/null
"$dalil" audit verify --db "$enc" > "$work/verify.out" 2>&1 || fail "verify after erasure: $(cat "$work/verify.out")"
grep -q "1 applicant(s) erased" "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
start "$enc" --key-file "$key"
first=$(sed -n 1p "$enc.ids")
[ "$(call "$(cat "$enc.official")" GET "/api/v1/decisions/$first")" = 410 ] || fail "GET after erasure: $(cat "$work/body")"
[ "$(call "$(cat "$enc.official")" POST "/api/v1/decisions/$first/review" "$work/review0.json")" = 410 ] ||
  fail "a review of an erased applicant's decision: $(cat "$work/body")"
[ "$(call "$(cat "$enc.auditor")" GET "/api/v1/reviews?limit=1000")" = 200 ] || fail "the auditors' list after erasure: $(cat "$work/body")"
python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["reviews"]
erased = [r for r in rows if r.get("erased")]
assert len(erased) == 1 and erased[0]["decision_id"] == sys.argv[2], erased
e = erased[0]
assert e["observations"] == "" and all(set(d) == {"rule", "outcome"} for d in e["decisions"]), e
assert sum("Raison-Unique-7Q3-" in json.dumps(r, ensure_ascii=False) for r in rows) == 10, "the other reasons"' \
  "$work/body" "$first" || fail "the erased review in the auditors' list"
[ "$(call "$(cat "$enc.adviser")" GET /api/v1/stats)" = 200 ] || fail "stats after erasure"
overrides > "$work/stats.after"
cmp -s "$work/stats.after" "$enc.stats" || fail "the override rates changed with the erasure"
stop
# What is served is the month kept when it was released: counted afresh (on a copy whose kept
# month is dropped), the erased applicant's reviews still count, and the rates are the same.
sqlite3 "$enc" ".backup '$work/recount.db'"
sqlite3 "$work/recount.db" "DELETE FROM counter_month_figures"
start "$work/recount.db" --key-file "$key"
[ "$(call "$(cat "$enc.adviser")" GET /api/v1/stats)" = 200 ] || fail "stats counted afresh: $(cat "$work/body")"
overrides > "$work/stats.recount"
stop
[ "$(sqlite3 "$work/recount.db" "SELECT count(*) FROM counter_month_figures")" = 1 ] ||
  fail "the month counted afresh was not kept"
cmp -s "$work/stats.recount" "$enc.stats" ||
  fail "counted afresh after the erasure, the override rates differ: $(cat "$work/stats.recount") / $(cat "$enc.stats")"
# With the master key, nothing opens the erased review's sealed part: its data key is gone.
[ "$(sqlite3 "$enc" "SELECT count(*) FROM data_keys k JOIN counter_decisions c ON c.applicant_id = k.applicant_id WHERE c.decision_id = '$first' AND k.wrapped IS NULL")" = 1 ] ||
  fail "the erased applicant's data key is not destroyed"
[ "$(sqlite3 "$enc" "SELECT count(*) FROM reviews WHERE decision_id = '$first' AND sealed IS NOT NULL AND observations = ''")" = 1 ] ||
  fail "the erased review is not sealed"
echo "ok   erased: verify passes and counts the applicant erased, the review reads as erased (410 for its decision, erased in the auditors' list), override rates unchanged (as kept, and counted afresh)"

# The plain store with its reviews encrypted in place: no text left, verify passes with the head
# taken before, and served with the key every review reads back as before.
"$dalil" audit head --db "$plain" > "$work/head"
"$dalil" keys init --key-file "$key" --db "$plain" > "$work/out" 2>&1 || fail "in place: $(cat "$work/out")"
"$dalil" audit verify --db "$plain" --head "$(awk '{print $1 ":" $2}' "$work/head")" > "$work/out" 2>&1 ||
  fail "verify after encrypting the reviews in place: $(cat "$work/out")"
none_found "$work/texts" "review text(s)" "after encrypting in place" "$plain" "$plain-wal"
[ "$(sqlite3 "$plain" "SELECT count(*) FROM reviews WHERE sealed IS NULL OR observations != ''")" = 0 ] ||
  fail "a review left in plain"
start "$plain" --key-file "$key"
: > "$work/in_place.shown"
for id in $(cat "$plain.ids"); do
  [ "$(call "$(cat "$plain.official")" GET "/api/v1/decisions/$id")" = 200 ] || fail "GET $id in place: $(cat "$work/body")"
  shown_reviews >> "$work/in_place.shown"
done
[ "$(call "$(cat "$plain.adviser")" GET /api/v1/stats)" = 200 ] || fail "stats in place"
overrides > "$work/stats.in_place"
stop
cmp -s "$work/in_place.shown" "$plain.shown" || fail "the reviews read back after encrypting in place differ"
cmp -s "$work/stats.in_place" "$plain.stats" || fail "the override rates changed with encrypting in place"
tampered_in_place=$(sqlite3 "$plain" "SELECT review_id FROM reviews LIMIT 1")
sqlite3 "$plain" ".backup '$work/t.db'"
sqlite3 "$work/t.db" "UPDATE reviews SET sealed = randomblob(length(sealed)) WHERE review_id = '$tampered_in_place'"
status=0
"$dalil" audit verify --db "$work/t.db" > "$work/out" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "review $tampered_in_place" "$work/out" ||
  fail "a review sealed in place changed: exit $status: $(cat "$work/out")"
echo "ok   reviews encrypted in place: no text left, verify passes with the head taken before, reads and override rates unchanged, a change named"

# keys reseal (format 1 → 2): reviews sealed under a format-1 data key are sealed again under the
# applicant's new one and vouched for again; then keys rotate (re-wraps only). After each, verify
# passes (with the head taken before) and every review reads back as before.
old="$work/format1.db"
"$dalil" keys init --key-file "$key" --db "$old" > /dev/null
"$dalil" token create clerk --role official --office rabat --db "$old" 2> /dev/null | tail -1 > "$old.official"
"$dalil" token create audit --role auditor --db "$old" 2> /dev/null | tail -1 > "$old.auditor"
"$dalil" token create adv --role adviser --db "$old" 2> /dev/null | tail -1 > "$old.adviser"
DALIL_TEST_PORTABLE_GCM=1 serve_and_review "$old" --key-file "$key"
stop
[ "$(sqlite3 "$old" "SELECT count(*) FROM data_keys WHERE length(wrapped) = 72")" = "$n_reviews" ] || {
  echo "skip: keys reseal needs the test hooks (DALIL_TEST_PORTABLE_GCM) to make format-1 keys"
  exit 0
}
cmp -s "$old.shown" "$plain.shown" || fail "format 1: the reviews read back differ"
reads_back() {  # what: every review of $old reads as on the plain store
  start "$old" --key-file "$key"
  : > "$work/again.shown"
  for id in $(cat "$old.ids"); do
    [ "$(call "$(cat "$old.official")" GET "/api/v1/decisions/$id")" = 200 ] || fail "$1: GET $id: $(cat "$work/body")"
    shown_reviews >> "$work/again.shown"
  done
  stop
  cmp -s "$work/again.shown" "$plain.shown" || fail "$1: the reviews read back differ"
}
# The applicants' index spread over its three parts: keys reseal finds each applicant's reviews
# through all three.
spread_counter_index "$old"
"$dalil" audit head --db "$old" > "$work/head"
"$dalil" keys reseal --db "$old" --key-file "$key" --per-transaction 5 > "$work/out" 2>&1 || fail "reseal: $(cat "$work/out")"
[ "$(counter_index_parts "$old")" = "$counter_indexed 0 0" ] ||
  fail "the applicants' index after keys reseal: $(counter_index_parts "$old")"
[ "$(sqlite3 "$old" "SELECT count(*) FROM data_keys WHERE length(wrapped) = 72")" = 0 ] || fail "keys left in format 1"
[ "$(sqlite3 "$old" "SELECT count(*) FROM audit WHERE action = 'review' AND details LIKE '%\"replaces\":%'")" = $((n_reviews + 1)) ] ||
  fail "the reviews not vouched for again"
"$dalil" audit verify --db "$old" --head "$(awk '{print $1 ":" $2}' "$work/head")" > "$work/out" 2>&1 ||
  fail "verify after the reseal: $(cat "$work/out")"
reads_back "after keys reseal"
sqlite3 "$old" ".backup '$work/t.db'"
python3 -c "import sqlite3; c = sqlite3.connect('$work/t.db'); b = bytearray(c.execute('SELECT sealed FROM reviews WHERE rowid = 2').fetchone()[0]); b[30] ^= 1; c.execute('UPDATE reviews SET sealed = ? WHERE rowid = 2', (bytes(b),)); c.commit()"
status=0
"$dalil" audit verify --db "$work/t.db" > "$work/out" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "review .* was changed" "$work/out" || fail "a resealed review changed: exit $status: $(cat "$work/out")"
"$dalil" keys rotate --db "$old" --key-file "$key" --new-key-file "$work/next.key" > /dev/null
cp "$work/next.key" "$key"
"$dalil" audit verify --db "$old" > "$work/out" 2>&1 || fail "verify after the rotation: $(cat "$work/out")"
reads_back "after keys rotate"
echo "ok   keys reseal seals the reviews again under the new format-2 keys (vouched for again, verify passes, a change named); after keys rotate they still open"

# keys seal over the reviews a dalil before sealed reviews kept in plain on an encrypted store
# (made here by a test hook, DALIL_TEST_PLAIN_REVIEWS): each sealed under its applicant's data
# key and vouched for again; an erased applicant's under a key nobody keeps (gone for good). No
# text left in the file or its WAL, verify passes with the head taken before, reads as before.
"$dalil" keys init --key-file "$work/hooks.key" > /dev/null
key="$work/hooks.key"
older="$work/older.db"
"$dalil" keys init --key-file "$key" --db "$older" > /dev/null
"$dalil" token create clerk --role official --office rabat --db "$older" 2> /dev/null | tail -1 > "$older.official"
"$dalil" token create audit --role auditor --db "$older" 2> /dev/null | tail -1 > "$older.auditor"
"$dalil" token create adv --role adviser --db "$older" 2> /dev/null | tail -1 > "$older.adviser"
DALIL_TEST_PLAIN_REVIEWS=1 serve_and_review "$older" --key-file "$key"
stop
[ "$(sqlite3 "$older" "SELECT count(*) FROM reviews WHERE sealed IS NULL")" = $((n_reviews + 1)) ] || {
  echo "skip: keys seal over plain reviews needs the test hooks (DALIL_TEST_PLAIN_REVIEWS)"
  exit 0
}
grep -a -q -F -f "$work/texts" "$older" "$older-wal" 2> /dev/null || fail "the hook did not keep the reviews in plain"
"$dalil" erase SYN-000002 --db "$older" --key-file "$key" --reason "art. 8 request 11" --by dpo > /dev/null
"$dalil" audit head --db "$older" > "$work/head"
"$dalil" keys seal --db "$older" --key-file "$key" > "$work/out" 2>&1 || fail "keys seal: $(cat "$work/out")"
[ "$(sqlite3 "$older" "SELECT count(*) FROM reviews WHERE sealed IS NULL OR observations != ''")" = 0 ] ||
  fail "a review left in plain by keys seal"
sqlite3 "$older" "SELECT details FROM audit WHERE action = 'keys_seal'" | grep -q "\"reviews\":$((n_reviews + 1))" ||
  fail "the keys_seal entry does not count the reviews: $(sqlite3 "$older" "SELECT details FROM audit WHERE action = 'keys_seal'")"
none_found "$work/texts" "review text(s)" "after keys seal" "$older" "$older-wal"
"$dalil" audit verify --db "$older" --head "$(awk '{print $1 ":" $2}' "$work/head")" > "$work/out" 2>&1 ||
  fail "verify after keys seal: $(cat "$work/out")"
grep -q "1 applicant(s) erased" "$work/out" || fail "verify: $(cat "$work/out")"
start "$older" --key-file "$key"
: > "$work/sealed.shown"
n=0
for id in $(cat "$older.ids"); do
  n=$((n + 1))
  if [ "$n" = 2 ]; then
    [ "$(call "$(cat "$older.official")" GET "/api/v1/decisions/$id")" = 410 ] || fail "the erased applicant's decision: $(cat "$work/body")"
    continue
  fi
  [ "$(call "$(cat "$older.official")" GET "/api/v1/decisions/$id")" = 200 ] || fail "GET $id after keys seal: $(cat "$work/body")"
  shown_reviews >> "$work/sealed.shown"
done
[ "$(call "$(cat "$older.auditor")" GET "/api/v1/reviews?limit=1000")" = 200 ] || fail "the auditors' list after keys seal"
python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["reviews"]
erased = [r for r in rows if r.get("erased")]
assert len(erased) == 1 and erased[0]["observations"] == "", erased' "$work/body" ||
  fail "the erased applicant's review after keys seal: $(head -c 300 "$work/body")"
stop
cmp -s "$work/sealed.shown" <(sed 2d "$plain.shown") || fail "the reviews read back after keys seal differ"
echo "ok   keys seal seals the reviews an older dalil kept in plain (an erased applicant's for good): no text left, verify passes with the head taken before, reads as before"
