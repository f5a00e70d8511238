#!/usr/bin/env python3
"""Chooses the applicants of the eval goldens: the fewest (record, as-of date) pairs in which every
contract decision shows each of its states (each value, undetermined, out of its period in force,
provisional and not). Candidates are the sample cohort's records, the same records with one
group of facts left out, and an empty record, at dates spanning the programs' periods.

    python3 tests/golden/eval/choose_cases.py build/cli/dalil rules data/sample-cohort.jsonl

writes tests/golden/eval/cases.tsv and one NAME.facts.json per case (then rewrite the goldens with
DALIL_UPDATE_GOLDEN=1 ctest -R eval_goldens and review the diff). Prints the states no candidate
reached: tests/golden/eval/unreached.txt must list each with the reason.
"""
import json
import os
import subprocess
import sys

DATES = ["2013-06-01", "2014-06-01", "2015-06-01", "2016-03-01", "2016-06-01", "2017-06-01",
         "2018-01-01", "2018-06-01", "2019-06-01", "2021-06-01", "2022-06-01", "2023-06-01",
         "2024-06-01", "2025-06-01"]
# Facts left out together, so that a decision that needs them is undetermined.
DROPS = [["status"], ["household"], ["nationality"], ["birth_date"], ["spouse"],
         ["application_date"], ["owns_property"], ["medical_coverage"], ["residence_card"],
         ["work_contract", "professional_activity"], ["job_category"], ["housing"],
         ["received_housing_aid"], ["entry_date", "resident_since"], ["parent_lawful_resident"]]
# Facts changed, so that values the cohort rarely shows appear (prices under each cap, low
# incomes, Moroccan nationality, owners).
PATCHES = [{"housing": {"price": "180000.00"}}, {"housing": {"price": "280000.00"}},
           {"housing": {"price": "650000.00"}}, {"household": {"annual_income": "24000.00"}},
           {"household": {"annual_income": "60000.00"}}, {"nationality": "MA"},
           {"owns_property": True}, {"parent_lawful_resident": True},
           {"status": "refugee"}, {"status": "irregular"}]


def patched(rec, patch):
    out = json.loads(json.dumps(rec))
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k].update(v)
        else:
            out[k] = v
    return out


def decisions(dalil, rules, as_of, facts):
    out = subprocess.run([dalil, "eval", "--rules", rules, "--as-of", as_of, "--facts", "-",
                          "--format", "json", "--no-trace"], input=facts, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)["decisions"]


def states(ds):
    keys = set()
    for d in ds:
        r = d["rule"]
        if d["status"] == "undetermined":
            keys.add((r, "undetermined"))
        else:
            keys.add((r, "value=" + json.dumps(d["value"])))
        keys.add((r, "provisional" if d["provisional"] else "not provisional"))
        if not d.get("in_force", True):
            keys.add((r, "out of force"))
    return keys


def main():
    dalil, rules, cohort = sys.argv[1:4]
    here = os.path.dirname(os.path.abspath(__file__))
    records = []
    with open(cohort, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            rec.pop("id", None)
            records.append(rec)
    candidates = [("{}", d) for d in DATES]
    for i, rec in enumerate(records):
        for d in DATES:
            candidates.append((json.dumps(rec, ensure_ascii=False), d))
        if i < 40:
            for drop in DROPS:
                cut = {k: v for k, v in rec.items() if k not in drop}
                if cut != rec:
                    for d in DATES[3::3]:
                        candidates.append((json.dumps(cut, ensure_ascii=False), d))
            for patch in PATCHES:
                for d in DATES[1::3]:
                    candidates.append((json.dumps(patched(rec, patch), ensure_ascii=False), d))
    covered = {}
    for facts, as_of in candidates:
        ds = decisions(dalil, rules, as_of, facts)
        if ds is not None:
            covered[(facts, as_of)] = states(ds)
    everything = set().union(*covered.values())
    chosen = []
    left = set(everything)
    while left:
        best = max(covered, key=lambda c: (len(covered[c] & left), -len(c[0])))
        gain = covered[best] & left
        if not gain:
            break
        chosen.append(best)
        left -= gain
    for name in os.listdir(here):
        if name.endswith(".facts.json"):
            os.remove(os.path.join(here, name))
    with open(os.path.join(here, "cases.tsv"), "w", encoding="utf-8") as tsv:
        for i, (facts, as_of) in enumerate(chosen, 1):
            name = "case-%02d" % i
            tsv.write("%s\t%s\n" % (name, as_of))
            with open(os.path.join(here, name + ".facts.json"), "w", encoding="utf-8") as f:
                json.dump(json.loads(facts), f, ensure_ascii=False, indent=1, sort_keys=True)
                f.write("\n")
    print("%d cases cover %d states" % (len(chosen), len(everything)))
    # States a decision could show but no candidate reached.
    rules_seen = sorted({r for r, _ in everything})
    for r in rules_seen:
        mine = {s for q, s in everything if q == r}
        for want in ("undetermined", "provisional", "not provisional"):
            if want not in mine:
                print("unreached: %s\t%s" % (r, want))


if __name__ == "__main__":
    main()
