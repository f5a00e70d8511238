#!/usr/bin/env bash
# The main job on the shipped rule pack and sample cohort, in an embedded SQLite file:
# build; check and test the rules; import the cohort; evaluate every applicant as of a date;
# verify the audit chain; print the outcome statistics. Set DALIL_DB or AS_OF to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DALIL_DB:-out/dalil.db}"
as_of="${AS_OF:-2017-06-01}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
mkdir -p "$(dirname "$db")"
dalil=build/cli/dalil
$dalil check rules
$dalil test rules | tail -1
$dalil import --db "$db" --rules rules data/sample-cohort.jsonl
$dalil batch --db "$db" --rules rules --as-of "$as_of"
$dalil audit verify --db "$db"
$dalil stats --db "$db" --rules rules
echo "store: $db — try: $dalil replay --db $db 1:1   or   $dalil export --db $db --format csv"
