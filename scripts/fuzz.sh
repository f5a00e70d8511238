#!/usr/bin/env bash
# Fuzzes one target (rules, record, csv, json or server) with libFuzzer for SECONDS (default 600), then
# merges what it found into the committed corpus (tests/fuzz/corpus/TARGET, kept minimal) and
# copies each crash, timeout or out-of-memory input into tests/fuzz/regressions/TARGET, where
# plain CTest replays it forever. Fuzzing is not part of CI, which only replays.
#   bash scripts/fuzz.sh rules 3600        # an hour on the rule-source target
# The build takes /tmp/dalil-build.lock (one build at a time on a shared machine); with
# DALIL_FUZZ_NO_BUILD=1 the script fuzzes the binary already in build-fuzz/ (a chain of runs that
# must not rebuild under a fuzzer). NICE=N runs the fuzzer at that niceness.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh rules|record|csv|json|server [SECONDS]}
seconds=${2:-600}

case "$target" in
  rules) dict=tests/fuzz/dicts/rules.dict; max_len=65536 ;;
  server) dict=tests/fuzz/dicts/server.dict; max_len=16384 ;;
  record | csv | json) dict=tests/fuzz/dicts/json.dict; max_len=16384 ;;
  *) echo "unknown target $target (rules, record, csv, json or server)"; exit 2 ;;
esac
[ -s "$dict" ] || { echo "missing dictionary $dict"; exit 2; }

if [ "${DALIL_FUZZ_NO_BUILD:-0}" != 1 ]; then
  bash scripts/install-deps.sh clang-16 libclang-rt-16-dev
  launcher=()  # ccache when there is one (a shared machine's builds share its cache)
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
    -DDALIL_FUZZ=ON -DDALIL_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  flock /tmp/dalil-build.lock cmake --build build-fuzz --target "fuzz_$target"
fi
[ -x "build-fuzz/tests/fuzz/fuzz_$target" ] || { echo "no build-fuzz/tests/fuzz/fuzz_$target"; exit 2; }
corpus=tests/fuzz/corpus/$target
regressions=tests/fuzz/regressions/$target
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$work/artifacts" "$corpus" "$regressions"

# -timeout: an input that runs over 20 s is a finding, like a crash. -rss_limit_mb bounds memory.
# libFuzzer stops at its first finding: keep it and go on with the time left, so that one run
# of the script fuzzes for SECONDS whatever it finds.
deadline=$((SECONDS + seconds))
status=0
while ((SECONDS < deadline)); do
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    nice -n "${NICE:-0}" "build-fuzz/tests/fuzz/fuzz_$target" "$work/new" "$corpus" -dict="$dict" -max_len="$max_len" \
    -timeout=20 -rss_limit_mb=4096 -max_total_time=$((deadline - SECONDS)) \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 >>"$work/log" 2>&1
  status=$?
  set -e
  ((status == 0)) && break
  kept=$(find "$work/artifacts" -type f | wc -l)
  if ((kept == ${last_kept:-0})); then  # it stopped without a finding: not the code's fault
    tail -20 "$work/log"
    exit 2
  fi
  last_kept=$kept
  ((kept >= 20)) && break  # the same bug, again and again
done
grep -E 'ERROR|SUMMARY|Test unit written' "$work/log" | sort | uniq -c || true

# Keep the corpus minimal: merge the new inputs into it (only those that add coverage).
nice -n "${NICE:-0}" "build-fuzz/tests/fuzz/fuzz_$target" -merge=1 "$corpus" "$work/new" -dict="$dict" \
  -max_len="$max_len" -timeout=20 >/dev/null 2>&1 || true
found=0
for f in "$work"/artifacts/*; do
  [ -e "$f" ] || continue
  cp "$f" "$regressions/$(basename "$f")"
  echo "kept $regressions/$(basename "$f")"
  found=$((found + 1))
done
execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work/log" | awk '{s += $2} END {print s + 0}' || true)
cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1 | awk '{print $2}' || true)
echo "fuzz $target: ${seconds} s, ${execs} executions, coverage ${cov:-?} edges," \
  "$(find "$corpus" -type f | wc -l) corpus files, ${found} new findings (exit ${status})"
