#!/usr/bin/env bash
# Adds Dalil to the peers' comparison (../shared/bench/peers) on the same generated records:
# copies the peers to a temporary folder, runs their run.sh with dalil_bench as an extra engine,
# and prints the table. Every output must match the oracle's SHA-256 or run.sh fails.
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${PEERS:-../shared/bench/peers}"
[ -x build/bench/dalil_bench ] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build; }
work=$(mktemp -d)
cp -r "$peers" "$work/"
bench="$(pwd)/build/bench/dalil_bench"
EXTRA_ENGINES="dalil|$bench --in data/applicants.jsonl --out OUTFILE" "$work/peers/run.sh"
echo "(peers copied to $work)"
