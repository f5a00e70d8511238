#!/usr/bin/env bash
# dalil impact, checked from the outside:
#  - its transition tables and flips equal what two full `dalil batch` runs and their exports say
#    (a generated cohort, a revised pack with a moved ceiling and a moved period, two dates);
#  - the "why" of a hand-made applicant: the rule whose parameter moved, with the values it read;
#  - one audit entry per run, naming the two rulesets, the date, the filter and the count, and no
#    personal value; pseudonyms unless --reveal-ids, a new key per report;
#  - a read-only store is refused (exit 3), nothing written, nothing recorded;
#  - report.html is self-contained, and Arabic is right to left.
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1"; failed=$((failed + 1)); }

# The revision: the RAMED income ceiling moves from 5,650 to 7,000 MAD (from 2015), and AMO
# Tadamon's period starts in mid-2025 instead of 2022-12-01 (out of force on 2025-01-01).
v2="$work/v2"
cp -r "$rules" "$v2"
python3 - "$v2/health.dalil" <<'EOF'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
a = "  from 2008-10-16 = 5650 MAD\n"
b = "  in_force from 2022-12-01 otherwise false\n"
assert a in s and b in s
s = s.replace(a, a + "  from 2015-01-01 = 7000 MAD\n")
s = s.replace(b, "  in_force from 2025-06-01 otherwise false\n")
open(p, "w", encoding="utf-8").write(s)
EOF
# The ceiling alone, for the hand-made why.
v3="$work/v3"
cp -r "$rules" "$v3"
sed -i 's/^  from 2008-10-16 = 5650 MAD$/  from 2008-10-16 = 5650 MAD\n  from 2015-01-01 = 7000 MAD/' \
  "$v3/health.dalil"
"$dalil" check "$v2" >/dev/null && "$dalil" check "$v3" >/dev/null

db="$work/store.db"
"$dalil" generate --count 3000 --seed 16 --out "$work/cohort.jsonl"
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null

# --- Counts against two full batches and an export diff, at two dates -----------------------
for as_of in 2020-01-01 2025-01-01; do
  out="$work/out-$as_of"
  "$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of "$as_of" --out "$out" \
    --reveal-ids --format json --threads 3 > "$work/stdout.json" 2> "$work/stderr"
  cmp -s "$work/stdout.json" "$out/summary.json" && ok "summary on stdout = summary.json ($as_of)" ||
    ko "the JSON summary on stdout differs from summary.json ($as_of)"
  "$dalil" batch --db "$db" --rules "$rules" --as-of "$as_of" --quiet >/dev/null
  "$dalil" export --db "$db" --out "$work/old-$as_of.jsonl"
  "$dalil" batch --db "$db" --rules "$v2" --as-of "$as_of" --quiet >/dev/null
  "$dalil" export --db "$db" --out "$work/new-$as_of.jsonl"
  if python3 - "$work/old-$as_of.jsonl" "$work/new-$as_of.jsonl" "$out" <<'EOF'
import collections, json, sys
old_path, new_path, out = sys.argv[1:4]
def load(path):
    return {row["applicant"]: {d["rule"]: d for d in row["decisions"]}
            for row in map(json.loads, open(path, encoding="utf-8"))}
old, new = load(old_path), load(new_path)
assert old.keys() == new.keys() and old, "the two runs decide different applicants"
summary = json.load(open(out + "/summary.json", encoding="utf-8"))
def label(d):
    if not d["in_force"]: return "out of force"
    if d["status"] != "decided": return "undetermined"
    return json.dumps(d["value"])
def category(a, b):
    if a["in_force"] != b["in_force"]:
        return "in_force_to_out_of_force" if a["in_force"] else "out_of_force_to_in_force"
    if not a["in_force"]: return None
    if (a["status"] == "decided") != (b["status"] == "decided"):
        return "undetermined_to_decided" if b["status"] == "decided" else "decided_to_undetermined"
    if a["status"] == "decided" and a["value"] != b["value"]:
        if a["value"] is True and b["value"] is False: return "true_to_false"
        if a["value"] is False and b["value"] is True: return "false_to_true"
        return "value_change"
    return None
cells = collections.Counter()
flips = set()
for applicant in old:
    for name, a in old[applicant].items():
        b = new[applicant].get(name)
        if b is None: continue
        c = category(a, b)
        cells[(name, label(a), label(b), c)] += 1
        if c: flips.add((applicant, name, c, json.dumps(a["value"]), json.dumps(b["value"])))
got = collections.Counter()
for d in summary["decisions"]:
    for t in d["transitions"]:
        got[(d["decision"], t["from"], t["to"], t["category"])] += t["count"]
assert got == cells, "transition tables differ: %s" % (set(got.items()) ^ set(cells.items()))
rows = [json.loads(l) for l in open(out + "/flips.jsonl", encoding="utf-8")]
listed = {(r["applicant"], r["decision"], r["category"], json.dumps(r["before"]["value"]),
           json.dumps(r["after"]["value"])) for r in rows}
assert len(rows) == len(listed) == summary["flips"], "flips.jsonl repeats or misses rows"
assert listed == flips, "flips differ from the export diff: %s" % list(listed ^ flips)[:5]
assert summary["records"] == summary["compared"] == len(old)
assert summary["applicants_flipped"] == len({f[0] for f in flips})
cats = collections.Counter(f[2] for f in flips)
print("  %d flips of %d applicants: %s" % (len(flips), summary["applicants_flipped"], dict(cats)))
EOF
  then ok "impact = two batches + export diff ($as_of)"; else ko "impact differs from the batches ($as_of)"; fi
  modes=$(stat -c %a "$out/flips.csv" "$out/flips.jsonl" "$out/summary.json" "$out/report.html" | sort -u)
  [ "$modes" = 600 ] && ok "the output files are the owner's only ($as_of)" || ko "output modes: $modes"
  lines=$(($(wc -l < "$out/flips.csv") - 1))
  [ "$lines" -eq "$(wc -l < "$out/flips.jsonl")" ] && ok "flips.csv has the rows of flips.jsonl ($as_of)" ||
    ko "flips.csv has $lines rows, flips.jsonl $(wc -l < "$out/flips.jsonl")"
done
# Both kinds of change were exercised: a value moved while in force (2020: RAMED enum, booleans)
# and a period moved (2025: in force → out of force).
grep -q '"value_change"' "$work/out-2020-01-01/summary.json" && ok "an enum decision changed value (2020)" ||
  ko "no value_change at 2020-01-01: the test lost its enum case"
grep -q '"in_force_to_out_of_force"' "$work/out-2025-01-01/summary.json" &&
  ok "in force → out of force counted apart (2025)" || ko "no in_force_to_out_of_force at 2025-01-01"

# --- The why of a hand-made applicant ------------------------------------------------------
# Urban, lawful stay, no coverage, income 24,000 MAD for 4 people: 6,000 per person, above the old
# ceiling (5,650), under the new one (7,000); score and poverty rate under their ceilings.
hand="$work/hand.db"
head -1 "$work/cohort.jsonl" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r.update({"id": "HAND-1", "status": "regular", "medical_coverage": False, "nationality": "SN",
          "residence_card": {"kind": "residence", "expires": "2030-01-01"}})
r["household"].update({"size": 4, "annual_income": "24000.00", "area": "urban",
                       "socioeconomic_score": "9.00", "commune_poverty_rate": "10.0"})
print(json.dumps(r))' > "$work/hand.jsonl"
"$dalil" import --db "$hand" --rules "$rules" "$work/hand.jsonl" >/dev/null
"$dalil" impact --db "$hand" --old "$rules" --new "$v3" --as-of 2020-01-01 --out "$work/hand" \
  --reveal-ids --lang en > "$work/hand.txt" 2>&1
if python3 - "$work/hand/flips.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert rows, "the hand-made applicant did not flip"
decisions = {r["decision"] for r in rows}
assert "health.ramed" in decisions, decisions
for r in rows:
    assert r["applicant"] == "HAND-1", r["applicant"]
    w = r["why"]
    assert w["rule"] == "health.income_criterion", (r["decision"], w["rule"])
    assert w["before"]["value"] is False and w["after"]["value"] is True, w
    pb = {p["name"]: p["value"] for p in w["before"]["parameters"]}
    pa = {p["name"]: p["value"] for p in w["after"]["parameters"]}
    assert pb == {"health.ramed_income_ceiling": "5650.00"}, pb
    assert pa == {"health.ramed_income_ceiling": "7000.00"}, pa
    reads = {x["rule"]: x["value"] for x in w["after"]["read_values"]}
    assert reads == {"health.per_person_income": "6000.00"}, reads
ramed = [r for r in rows if r["decision"] == "health.ramed"][0]
assert ramed["category"] == "value_change", ramed["category"]
assert ramed["before"]["value"] == "ineligible" and ramed["after"]["value"] == "vulnerable", ramed
print("  %d flips, all explained by health.income_criterion (5650.00 -> 7000.00, 6000.00 read)" % len(rows))
EOF
then ok "why of the hand-made applicant"; else ko "why of the hand-made applicant"; fi
grep -q "health.income_criterion" "$work/hand.txt" && ok "the text summary names the why" ||
  ko "the text summary does not name the why"

# --- Audit entry, pseudonyms, no personal value outside the flip files ----------------------
before=$(sqlite3 "$db" "SELECT count(*) FROM audit")
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where status=regular \
  --by "A. Adviser" --out "$work/p1" > "$work/p1.txt" 2> "$work/p1.err"
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where status=regular \
  --out "$work/p2" --lang ar > "$work/p2.txt" 2> "$work/p2.err"
after=$(sqlite3 "$db" "SELECT count(*) FROM audit")
[ $((after - before)) -eq 2 ] && ok "one audit entry per impact run" ||
  ko "$((after - before)) audit entries for two impact runs"
old_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["old_ruleset"])' "$work/p1/summary.json")
new_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["new_ruleset"])' "$work/p1/summary.json")
regular=$(sqlite3 "$db" "SELECT count(*) FROM records WHERE latest=1 AND json_extract(json,'$.status')='regular'")
entry=$(sqlite3 "$db" "SELECT actor || ' ' || action || ' ' || subject || ' ' || details FROM audit ORDER BY seq DESC LIMIT 1 OFFSET 1")
case "$entry" in
  *"read cohort "*'"purpose":"impact"'*"\"old_ruleset\":\"$old_hash\""*"\"new_ruleset\":\"$new_hash\""*'"as_of":"2020-01-01","filter":"status=regular","records":'"$regular"',"ids":"pseudonymised","by":"A. Adviser"'*)
    ok "the audit entry names who, both rulesets, the date, the filter and the count" ;;
  *) ko "audit entry: $entry" ;;
esac
# No applicant id nor any record value in the entry, the terminal output or the errors.
ids=$(python3 -c '
import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["id"])' "$work/cohort.jsonl")
leak=0
for f in "$work/p1.txt" "$work/p1.err" "$work/p2.txt" "$work/p2.err" "$work/p1/summary.json" \
         "$work/p1/report.html" "$work/p2/report.html"; do
  if grep -qF -f <(echo "$ids") "$f"; then leak=1; echo "  an applicant id in $f"; fi
done
sqlite3 "$db" "SELECT details FROM audit WHERE details LIKE '%impact%'" | grep -qF -f <(echo "$ids") && leak=1
grep -qF -f <(echo "$ids") "$work/p1/flips.jsonl" && leak=1
[ $leak -eq 0 ] && ok "no applicant id outside --reveal-ids files (pseudonyms in flips)" ||
  ko "an applicant id leaked"
n1=$(wc -l < "$work/p1/flips.jsonl"); n2=$(wc -l < "$work/p2/flips.jsonl")
common=$(comm -12 <(cut -d'"' -f4 "$work/p1/flips.jsonl" | sort -u) <(cut -d'"' -f4 "$work/p2/flips.jsonl" | sort -u) | wc -l)
[ "$n1" -gt 0 ] && [ "$n1" -eq "$n2" ] && [ "$common" -eq 0 ] &&
  ok "pseudonyms differ from one report to the next ($n1 flips each)" ||
  ko "pseudonyms: $n1 and $n2 flips, $common pseudonyms in common"
sqlite3 "$db" "SELECT details FROM audit WHERE details LIKE '%\"purpose\":\"impact\"%' AND details LIKE '%\"ids\":\"revealed\"%'" | grep -q . &&
  ok "--reveal-ids is recorded in the audit entry" || ko "--reveal-ids not recorded"
"$dalil" audit verify --db "$db" >/dev/null && ok "audit verify after the impact runs" ||
  ko "audit verify fails after the impact runs"

# --- report.html: self-contained, RTL in Arabic -------------------------------------------
h="$work/p2/report.html"
grep -q '<html lang="ar" dir="rtl">' "$h" && grep -q '<svg' "$h" && ok "report.html in Arabic is rtl, with an inline chart" ||
  ko "report.html (ar): no dir=rtl or no inline svg"
grep -Eq '<(script|link|img)|src=|href=|url\(' "$h" "$work/p1/report.html" &&
  ko "report.html loads something from outside" || ok "report.html has no external asset"
grep -q '<html lang="fr" dir="ltr">' "$work/p1/report.html" && ok "report.html in French is ltr" ||
  ko "report.html (fr) is not lang=fr ltr"

# --- A read-only store is refused: exit 3, nothing written, nothing recorded ----------------
ro="$work/ro"
mkdir "$ro"
cp "$db" "$ro/store.db"
entries=$(sqlite3 "$ro/store.db" "SELECT count(*) FROM audit")
chmod a-w "$ro/store.db" "$ro"
status=0
"$dalil" impact --db "$ro/store.db" --old "$rules" --new "$v2" --as-of 2020-01-01 \
  --out "$work/ro-out" > "$work/ro.txt" 2>&1 || status=$?
[ $status -eq 3 ] && grep -q "is read-only" "$work/ro.txt" && ok "read-only store refused (exit 3)" ||
  ko "read-only store: exit $status: $(head -2 "$work/ro.txt")"
[ ! -e "$work/ro-out/flips.csv" ] && [ ! -e "$work/ro-out/summary.json" ] &&
  [ -z "$(ls -A "$work/ro-out" 2>/dev/null)" ] && ok "nothing written for a refused read" ||
  ko "files written for a refused read: $(ls "$work/ro-out")"
chmod u+w "$ro"
[ "$(sqlite3 "$ro/store.db" "SELECT count(*) FROM audit")" -eq "$entries" ] &&
  ok "nothing recorded in the read-only store" || ko "the read-only store was written"

# --- Usage errors --------------------------------------------------------------------------
status=0
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-13-01 > /dev/null 2>&1 || status=$?
[ $status -eq 2 ] && ok "a bad date is a usage error (2)" || ko "a bad date: exit $status"
status=0
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where nationality=XX \
  > "$work/none.txt" 2>&1 || status=$?
[ $status -eq 3 ] && grep -q "no applicant matches the filter on nationality" "$work/none.txt" &&
  ! grep -q XX "$work/none.txt" && ok "no match refused (3), naming the field, not the value" ||
  ko "no match: exit $status, or the message quotes the filter's value"
# Counting the matching records opened them: the refused attempt is audited, and the audit chain
# (which erasure never reaches) keeps a filter's categories, not its other values.
last=$(sqlite3 "$db" "SELECT action || ' ' || subject || ' ' || details FROM audit ORDER BY seq DESC LIMIT 1")
case "$last" in
  *'read cohort {"purpose":"impact"'*'"filter":"nationality","records":0,'*'"refused":"no record matches"}')
    ok "a refused impact is audited: its count, its filter's field without the value" ;;
  *) ko "refused impact's entry: $last" ;;
esac
status=0
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where status=regular \
  --where birth_date=1900-01-01 > /dev/null 2>&1 || status=$?
last=$(sqlite3 "$db" "SELECT details FROM audit ORDER BY seq DESC LIMIT 1")
[ $status -eq 3 ] && case "$last" in *'"filter":"status=regular and birth_date",'*) true ;; *) false ;; esac &&
  ! grep -q 1900 <<< "$last" && ok "the entry keeps status=regular, and birth_date without its value" ||
  ko "exit $status, entry: $last"
someone=$(head -1 <<< "$ids")
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where "id=$someone" \
  --reveal-ids --out "$work/one" > /dev/null 2>&1 &&
  [ "$(sqlite3 "$db" "SELECT details FROM audit ORDER BY seq DESC LIMIT 1" |
       python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["filter"], d["records"])')" = "id=$someone 1" ] &&
  ok "an id filter names the applicant as the store's entries do (the id itself in a plain store)" ||
  ko "an id filter's entry"
status=0
"$dalil" impact --db "$db" --old "$rules" --new "$v2" --as-of 2020-01-01 --where status=tourist \
  > "$work/none.txt" 2>&1 || status=$?
[ $status -eq 2 ] && grep -q "status: not one of its cases (regular," "$work/none.txt" &&
  ! grep -q tourist "$work/none.txt" && ok "a value that is not a case is a usage error (2), naming the cases" ||
  ko "not a case: exit $status, or the message quotes the filter's value"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
