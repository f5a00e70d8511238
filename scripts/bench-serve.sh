#!/usr/bin/env bash
# Server benchmark (issue 14): `dalil serve` on core 0, the open-loop load generator
# (build/…/bench/dalil_loadgen) on core 1, POST /api/v1/evaluate with a bearer token over at least
# 10,000 distinct generated applicants, with "lang": "fr" (explanations in one language, as the
# officials' page asks; --lang all for the three). Runs 10,000 requests/s for 30 s three times
# and reports the medians of p50/p99/p99.9 (latency from each request's intended send time:
# coordinated omission counted), then the maximum sustained rate (the highest rate with
# p99 <= 1 ms and no error, median of three searches) and the capacity (the answers per second
# when twice the rate is offered: the server's throughput at saturation, median of three runs),
# the CPU each side used, the CPU other processes took meanwhile, and checks that the store
# holds one counter decision per 2xx answer (sqlite3 on the store file).
#
#   bash scripts/bench-serve.sh                 # the full benchmark (about 12 minutes)
#   bash scripts/bench-serve.sh --quick         # smoke run: 3 s, one run, a short search
#   bash scripts/bench-serve.sh --help          # every option
#
# It builds a Release tree (build-release/, through the machine's build lock) unless --dalil and
# --loadgen name binaries already built. Figures are only worth quoting when the machine is idle:
# every run prints the share of CPU other processes took during it ("others").
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: scripts/bench-serve.sh [options]
  --quick               smoke run: --duration 3 --warmup 1 --runs 1, a short rate search, no floor
  --runs N              runs at the fixed rate, and rate searches (default 3)
  --rate R              the fixed rate, requests/s (default 10000)
  --duration S          seconds measured per run (default 30)
  --warmup S            seconds at the same rate before measuring (default 5)
  --connections C       client keep-alive connections (default 32)
  --applicants N        distinct generated applicants, at least 10000 (default 10000)
  --as-of DATE          the evaluation date of every request (default: latest, the latest
                        application date of the cohort, as at a counter where every request is
                        of the day); "application": each applicant's own application date
                        (thousands of dates: a cold prepared-instance cache, the worst case)
  --threads T           `dalil serve --threads` (default 1: the server has one core)
  --no-trace            ask for answers without traces ("trace": false in every body)
  --lang L              "lang" of every body: fr (default), ar or en (explanations in that
                        language alone), or all (no "lang": explanations in the three)
  --p99-us U            the target: p99 at most U µs (default 1000)
  --step S              seconds per step of the rate search (default 10)
  --no-max              skip the maximum sustained rate search
  --no-capacity         skip the capacity runs (twice the rate offered: the answers per second
                        at saturation, the steadier figure of what a request costs)
  --capacity-rate R     the rate offered in the capacity runs (default: twice --rate)
  --no-floor            skip the floor run (a null server answering at once, same answer size)
  --busy-poll           the client spins on its event loop instead of sleeping: no wake-up delay
                        charged to the server (40-90 µs on a VM), but on a core shared with other
                        work the scheduler then favours the others: use it on an idle machine
  --nice N              run the server and the client at this niceness (default -20 when allowed,
                        so that a build sharing their cores takes only what they leave; 0: as is)
  --dalil PATH          use this dalil binary (no build)
  --loadgen PATH        use this dalil_loadgen binary (no build)
  --null-server PATH    use this dalil_null_server binary (default: beside the load generator)
  --build-dir DIR       the Release build directory (default build-release)
  --keep DIR            keep the store, the bodies and every run's JSON in DIR
EOF
}

runs=3 rate=10000 duration=30 warmup=5 connections=32 applicants=10000 as_of=latest
threads=1 p99_target=1000 step=10 do_max=1 do_capacity=1 capacity_rate=0 do_floor=1 busy_poll='' quick=0 trace=1 niceness=-20
lang=fr
dalil="" loadgen="" null_server="" build_dir=build-release keep=""
while (($#)); do
  case "$1" in
    --quick) quick=1 duration=3 warmup=1 runs=1 step=1 do_floor=0 ;;
    --runs) runs="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --applicants) applicants="$2"; shift ;;
    --as-of) as_of="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --p99-us) p99_target="$2"; shift ;;
    --step) step="$2"; shift ;;
    --no-trace) trace=0 ;;
    --lang) lang="$2"; shift ;;
    --no-max) do_max=0 ;;
    --no-capacity) do_capacity=0 ;;
    --capacity-rate) capacity_rate="$2"; shift ;;
    --no-floor) do_floor=0 ;;
    --busy-poll) busy_poll=--busy-poll ;;
    --nice) niceness="$2"; shift ;;
    --dalil) dalil="$2"; shift ;;
    --loadgen) loadgen="$2"; shift ;;
    --null-server) null_server="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --keep) keep="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-serve: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in runs rate duration warmup connections applicants threads p99_target step; do
  [[ "${!n}" =~ ^[0-9]+$ && "${!n}" -gt 0 ]] || { echo "bench-serve: --${n//_/-} must be a positive integer" >&2; exit 2; }
done
[[ "$capacity_rate" =~ ^[0-9]+$ ]] || { echo "bench-serve: --capacity-rate must be a positive integer" >&2; exit 2; }
((capacity_rate > 0)) || capacity_rate=$((rate * 2))
((applicants >= 10000)) || { echo "bench-serve: --applicants must be at least 10000 (the issue's floor)" >&2; exit 2; }
[[ "$as_of" =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}|latest|application)$ ]] || { echo "bench-serve: --as-of must be YYYY-MM-DD, latest or application" >&2; exit 2; }
for tool in sqlite3 taskset; do
  command -v "$tool" >/dev/null || { echo "bench-serve: needs $tool (scripts/install-deps.sh)" >&2; exit 2; }
done
[[ "$lang" =~ ^(fr|ar|en|all)$ ]] || { echo "bench-serve: --lang must be fr, ar, en or all" >&2; exit 2; }
[[ "$niceness" =~ ^-?[0-9]+$ ]] || { echo "bench-serve: --nice must be an integer" >&2; exit 2; }
# A negative niceness needs the privilege; without it the runs keep the default one, and say so.
if [[ "$(nice -n "$niceness" nice 2>/dev/null)" != "$niceness" ]]; then niceness="$(nice)"; fi
(($(nproc) >= 2)) || { echo "bench-serve: needs 2 cores (server on core 0, client on core 1)" >&2; exit 2; }

# ------------------------------------------------------------------ binaries
if [[ -z "$dalil" || -z "$loadgen" ]]; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDALIL_BUILD_TESTS=OFF \
    "${launcher[@]}" >/dev/null
  # The machine's build lock (one build at a time on a shared 2-core machine), when it exists.
  lock=(); [[ -e /tmp/dalil-build.lock ]] && lock=(flock /tmp/dalil-build.lock)
  "${lock[@]}" cmake --build "$build_dir" -j2 --target dalil dalil_loadgen dalil_null_server
  dalil="$build_dir/cli/dalil" loadgen="$build_dir/bench/dalil_loadgen"
fi
[[ -n "$null_server" ]] || null_server="$(dirname "$loadgen")/dalil_null_server"
for b in "$dalil" "$loadgen"; do
  [[ -x "$b" ]] || { echo "bench-serve: $b is not an executable" >&2; exit 2; }
done
((do_floor == 0)) || [[ -x "$null_server" ]] || { echo "bench-serve: $null_server is not an executable (--no-floor skips the floor)" >&2; exit 2; }

# ------------------------------------------------------------------ work directory, cleanup
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"; work="$(cd "$keep" && pwd)"
else
  work="$(mktemp -d)"
fi
server_pid="" null_pid=""
cleanup() {
  # Only the processes this script started, by their id.
  [[ -z "$server_pid" ]] || { kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; } || true
  [[ -z "$null_pid" ]] || { kill "$null_pid" 2>/dev/null && wait "$null_pid" 2>/dev/null; } || true
  [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT

# A port nobody listens on now (bash's /dev/tcp: refused means free), below the kernel's
# ephemeral range: a port in that range may be the local end of another program's connection
# (a test's client, PostgreSQL's), which a listen on it would collide with (EADDRINUSE) although
# nothing listens there. For the null server of the floor run (dalil serve chooses its own).
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
(( ephemeral_low > 20000 )) || ephemeral_low=32768
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((10000 + RANDOM % (ephemeral_low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "bench-serve: no free port found" >&2; exit 1
}

# http PORT METHOD PATH [BODY [TOKEN]]: one HTTP/1.1 exchange over bash's /dev/tcp (no curl
# needed); prints the whole answer, headers first.
http() {
  local port="$1" method="$2" path="$3" body="${4:-}" token="${5:-}"
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  {
    printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n' "$method" "$path" "$port"
    [[ -z "$token" ]] || printf 'Authorization: Bearer %s\r\n' "$token"
    if [[ "$method" == POST ]]; then
      printf 'Content-Type: application/json\r\nContent-Length: %s\r\n' "$(printf '%s' "$body" | wc -c)"
    fi
    printf '\r\n%s' "$body"
  } >&3
  timeout 30 cat <&3
  exec 3<&-
}

# field KEY LINE: the value of KEY in a dalil_loadgen --summary line.
field() { tr ' ' '\n' <<< "$2" | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
stored() { sqlite3 -readonly "$work/store.db" 'SELECT count(*) FROM counter_decisions;'; }

# ------------------------------------------------------------------ the store and the bodies
echo "bench-serve: $(date -u '+%F %T') UTC, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work"/store.db*
"$dalil" generate --count "$applicants" --seed 2026 --out "$work/cohort.jsonl" >/dev/null
distinct=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$work/cohort.jsonl" | sort -u | wc -l)
((distinct >= 10000)) || { echo "bench-serve: only $distinct distinct applicant ids were generated" >&2; exit 1; }
"$dalil" import --db "$work/store.db" --rules rules "$work/cohort.jsonl" >/dev/null
# Each body is the evaluate request of one generated applicant.
if [[ "$as_of" == latest ]]; then
  as_of=$(grep -o '"application_date":"[0-9-]*"' "$work/cohort.jsonl" | cut -d'"' -f4 | sort | tail -1)
fi
if [[ "$as_of" == application ]]; then
  sed 's/^\(.*"application_date":"\([0-9-]*\)".*\)$/{"as_of":"\2","applicant":\1}/' \
    "$work/cohort.jsonl" > "$work/bodies.jsonl"
  grep -vc '^{"as_of"' "$work/bodies.jsonl" >/dev/null &&
    { echo "bench-serve: --as-of application: some applicants have no application date" >&2; exit 1; }
else
  sed "s/^/{\"as_of\":\"$as_of\",\"applicant\":/; s/\$/}/" "$work/cohort.jsonl" > "$work/bodies.jsonl"
fi
if ((trace == 0)); then sed -i 's/^{"as_of"/{"trace":false,"as_of"/' "$work/bodies.jsonl"; fi
if [[ "$lang" != all ]]; then sed -i "s/^{\"/{\"lang\":\"$lang\",\"/" "$work/bodies.jsonl"; fi
# In a random order, the same in every run: a counter sees its applicants in no order. In the
# cohort's order, consecutive requests would be for neighbouring applicants, whose rows share the
# pages of the store's indexes by applicant: a commit would write a few of those pages, not one
# per request (a load that flatters the store: docs/server-performance.md, 2026-12-05, fourth).
awk 'BEGIN { srand(2026) } { printf "%.12f\t%s\n", rand(), $0 }' "$work/bodies.jsonl" |
  sort -t "$(printf '\t')" -k1,1 | cut -f2- > "$work/bodies.shuffled"
mv "$work/bodies.shuffled" "$work/bodies.jsonl"
token=$("$dalil" token create bench --role official --office bench --db "$work/store.db" | tail -1)
[[ -n "$token" ]] || { echo "bench-serve: dalil token create printed no token" >&2; exit 1; }

# ------------------------------------------------------------------ the server, pinned to core 0
# The server chooses its port (--listen 127.0.0.1:0) and says which on its first line, as the
# tests read it: no port probed beforehand that another program could take meanwhile.
nice -n "$niceness" taskset -c 0 "$dalil" serve --db "$work/store.db" --rules rules --listen 127.0.0.1:0 \
  --threads "$threads" > "$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 300); do
  [[ -n "$port" ]] || port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/server.log")
  [[ -n "$port" ]] && http "$port" GET /healthz 2>/dev/null | grep -q '"ok"' && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench-serve: dalil serve exited:" >&2; tail -5 "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "bench-serve: dalil serve did not say its port after 30 s" >&2; exit 1; }
http "$port" GET /healthz 2>/dev/null | grep -q '"ok"' || { echo "bench-serve: dalil serve does not answer /healthz after 30 s" >&2; exit 1; }
# One request by hand: the token and the body must be accepted before any load is worth sending.
answer=$(http "$port" POST /api/v1/evaluate "$(head -1 "$work/bodies.jsonl")" "$token" | tr -d '\r')
status=$(head -1 <<< "$answer" | cut -d' ' -f2)
if [[ "$status" != 200 ]]; then
  echo "bench-serve: POST /api/v1/evaluate answered $status:" >&2
  sed -n '/^$/,$p' <<< "$answer" | grep -o '"title":"[^"]*"\|"detail":"[^"]*"' >&2 || true
  exit 1
fi
answer_bytes=$(sed -n 's/^[Cc]ontent-[Ll]ength: *//p' <<< "$answer" | head -1)
grep -q '"decision_id"' <<< "$answer" || { echo "bench-serve: the evaluate answer has no decision_id" >&2; exit 1; }
echo "store: $applicants generated applicants imported ($distinct distinct ids), requests as of $as_of$( ((trace)) || echo ' without traces'), explanations in $([[ "$lang" == all ]] && echo 'fr, ar and en' || echo "$lang alone"), answers of about $answer_bytes bytes"
echo "server: pid $server_pid on core 0 (--threads $threads); client on core 1, $connections connections${busy_poll:+, busy polling}; both at niceness $niceness"

# load NAME RATE DURATION WARMUP: one dalil_loadgen run against the server; prints its summary
# line and checks that the store gained one counter decision per 2xx answer (warmup included).
load() {
  local name="$1" r="$2" d="$3" w="$4" before after line
  before=$(stored)
  line=$(nice -n "$niceness" taskset -c 1 "$loadgen" --url "http://127.0.0.1:$port/api/v1/evaluate" --rate "$r" \
    --duration "$d" --warmup "$w" --connections "$connections" --bodies "$work/bodies.jsonl" \
    --min-distinct 10000 --header "Authorization: Bearer $token" --server-pid "$server_pid" \
    $busy_poll --summary --json-out "$work/$name.json")
  after=$(stored)
  echo "$line stored=$((after - before))"
}

header() {
  printf '%-10s %6s %8s %8s %6s %7s %7s %7s %8s %8s %9s %7s %7s %9s %7s %s\n' run rate answered 2xx \
    errors p50µs p90µs p99µs p99.9µs maxµs achieved client server µs/answer others stored=2xx
}
# A request the client gave up on (timeout, broken connection) may still have been stored: then
# the store holds between the 2xx answers and the 2xx answers plus the failures.
stored_ok() {  # summary line → 0 when the count fits
  local ok n failed
  ok=$(field all_ok "$1") n=$(field stored "$1") failed=$(field all_errors "$1")
  ((n >= ok && n <= ok + failed))
}
row() {  # label, summary line
  local s="$2" all_ok stored_n check
  all_ok=$(field all_ok "$s") stored_n=$(field stored "$s")
  if [[ "$all_ok" == "$stored_n" ]]; then
    check="yes"
  elif stored_ok "$s"; then
    check="$stored_n stored, $all_ok 2xx + $(field all_errors "$s") failed"
  else
    check="NO ($stored_n stored, $all_ok 2xx)"
  fi
  printf '%-10s %6s %8s %8s %6s %7s %7s %7s %8s %8s %9s %6s%% %6s%% %9s %6s%% %s\n' "$1" \
    "$(field rate "$s")" "$(field answered "$s")" "$(field ok "$s")" "$(field errors "$s")" \
    "$(field p50 "$s")" "$(field p90 "$s")" "$(field p99 "$s")" "$(field p99_9 "$s")" \
    "$(field max "$s")" "$(field achieved "$s")" "$(field client_cpu "$s")" \
    "$(field server_cpu "$s")" "$(field server_us_per_answer "$s")" "$(field others_cpu "$s")" \
    "$check"
}
mismatch=0
check_stored() { stored_ok "$1" || mismatch=1; }

# ------------------------------------------------------------------ the fixed rate, RUNS times
echo
echo "== $rate requests/s for $duration s (warmup $warmup s), $runs run(s); latency from the intended send time"
# runs_at NAME LABEL RATE: RUNS loads at RATE, their summary lines kept in $work/NAME.txt, a row
# each (LABEL and the run's number) after the header.
runs_at() {
  local name="$1" label="$2" r="$3" i s
  header
  : > "$work/$name.txt"
  for i in $(seq 1 "$runs"); do
    s=$(load "$name-$i" "$r" "$duration" "$warmup")
    echo "$s" >> "$work/$name.txt"
    row "$label $i" "$s"
    check_stored "$s"
  done
}
# median_of NAME KEY: the median of KEY over the runs of runs_at NAME.
median_of() { while read -r l; do field "$2" "$l"; done < "$work/$1.txt" | median; }
runs_at fixed run "$rate"
med() { median_of fixed "$1"; }
printf '%-10s %6s %8s %8s %6s %7s %7s %7s %8s %8s %9s %6s%% %6s%% %9s %6s%%\n' median "$rate" \
  "$(med answered)" "$(med ok)" "$(med errors)" "$(med p50)" "$(med p90)" "$(med p99)" \
  "$(med p99_9)" "$(med max)" "$(med achieved)" "$(med client_cpu)" "$(med server_cpu)" \
  "$(med server_us_per_answer)" "$(med others_cpu)"
fixed_p99=$(med p99) fixed_errors=$(while read -r l; do field errors "$l"; done < "$work/fixed.txt" | sort -n | tail -1)

# ------------------------------------------------------------------ the capacity
# Twice the rate offered: the server answers as fast as it can and the rest queue (requests
# still unsent 2 s after they were due count as errors). The answers per second are then the
# server's throughput at saturation. At a rate the server barely sustains, its CPU per answer
# says little of what a request costs (a busy core is shared by however many requests come, a
# writer's transaction by however many wait), while the capacity only grows when a request
# costs less.
if ((do_capacity)); then
  echo
  echo "== capacity: $capacity_rate requests/s offered for $duration s (warmup $warmup s), $runs run(s); the answers per second at saturation"
  runs_at capacity cap "$capacity_rate"
  echo "capacity, median of $runs: $(median_of capacity achieved) answers/s (server CPU $(median_of capacity server_us_per_answer) µs an answer at saturation)"
fi

# ------------------------------------------------------------------ the floor: no work behind
if ((do_floor)); then
  nport=$(free_port)
  nice -n "$niceness" taskset -c 0 "$null_server" --listen "127.0.0.1:$nport" --body-bytes "${answer_bytes:-2}" > "$work/null.log" 2>&1 &
  null_pid=$!
  for _ in $(seq 1 50); do http "$nport" GET / >/dev/null 2>&1 && break; sleep 0.1; done
  s=$(nice -n "$niceness" taskset -c 1 "$loadgen" --url "http://127.0.0.1:$nport/api/v1/evaluate" --rate "$rate" \
    --duration "$duration" --warmup "$warmup" --connections "$connections" \
    --bodies "$work/bodies.jsonl" --server-pid "$null_pid" $busy_poll --summary \
    --json-out "$work/floor.json")
  kill "$null_pid"; wait "$null_pid" 2>/dev/null || true; null_pid=""
  floor_p99=$(field p99 "$s") floor_errors=$(field errors "$s")
  echo "-- the floor: the same schedule against dalil_null_server (answers of $answer_bytes bytes at once, core 0)"
  row floor "$s stored=$(field all_ok "$s")" | sed 's/ yes$/ (no store)/'
fi

# ------------------------------------------------------------------ the maximum sustained rate
# Doubles from a start until a step fails (p99 above the target, or any error), then bisects
# between the last rate that held and the first that failed, down to 5% of it.
search() {
  local lo=0 hi=0 r=2000 s p99 errs
  while :; do
    s=$(load "search-$1-$r" "$r" "$step" "$((step >= 5 ? 2 : 1))")
    check_stored "$s"
    p99=$(field p99 "$s") errs=$(field errors "$s")
    printf '   search %s: %6s req/s  p99 %7s µs  errors %6s  server %5s%% (%s µs/answer), others %s%%\n' \
      "$1" "$r" "$p99" "$errs" "$(field server_cpu "$s")" "$(field server_us_per_answer "$s")" \
      "$(field others_cpu "$s")" >&2
    if ((errs == 0 && p99 <= p99_target)); then lo=$r; else hi=$r; fi
    if ((hi == 0)); then  # every step held so far: double
      ((r < 400000)) || break
      r=$((r * 2))
    elif ((lo == 0)); then  # even the start failed: halve, down to 125 requests/s
      ((r > 125)) || break
      r=$((r / 2))
    else  # bisect down to 5% of the rate that held
      (((hi - lo) * 20 > lo && hi - lo > 100)) || break
      r=$(((lo + hi) / 2 / 50 * 50))
      ((r > lo && r < hi)) || break
    fi
  done
  echo "$lo"
}
if ((do_max)); then
  echo
  echo "== maximum sustained rate: p99 <= $p99_target µs and no error, $step s steps, $runs search(es)"
  : > "$work/max.txt"
  for i in $(seq 1 "$runs"); do
    m=$(search "$i")
    echo "$m" >> "$work/max.txt"
    if ((m > 0)); then echo "search $i: held $m req/s"; else echo "search $i: no rate held, not even 125 req/s"; fi
  done
  echo "maximum sustained rate, median of $runs: $(median < "$work/max.txt") req/s (searches: $(tr '\n' ' ' < "$work/max.txt" | sed 's/ $//'); 0 = not even 125 req/s)"
fi

echo
echo "store: $(stored) counter decisions, $(du -h "$work/store.db" | cut -f1) (+ WAL $(du -h "$work/store.db-wal" 2>/dev/null | cut -f1 || echo 0)); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
verdict="MET"
((fixed_p99 <= p99_target && fixed_errors == 0)) || verdict="NOT MET"
echo "target (p99 <= $p99_target µs at $rate req/s with 0 errors, median of $runs): $verdict (p99 $fixed_p99 µs, at most $fixed_errors errors in a run)"
# A server that does no work at all on the same schedule: when even it misses the target, the
# machine (its wake-ups, the loopback, the client) cannot show the target, whatever the server
# does; the server's own share is then what its runs add to the floor.
if [[ -n "${floor_p99:-}" ]] && ((floor_p99 > p99_target || floor_errors > 0)); then
  echo "the floor misses the target too (a server answering at once: p99 $floor_p99 µs, $floor_errors errors): this machine cannot show it, whatever the server does"
fi
if ((mismatch)); then
  echo "bench-serve: the store does not hold one counter decision per 2xx answer" >&2
  exit 1
fi
echo "stored counter decisions (sqlite3: SELECT count(*) FROM counter_decisions) match the 2xx answers of every run"
[[ -z "$keep" ]] || echo "kept: $work (store.db, bodies.jsonl, server.log, one JSON per run)"
((quick == 0)) || echo "(--quick: a smoke run, not figures to quote)"
