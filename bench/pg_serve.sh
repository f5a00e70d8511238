#!/usr/bin/env bash
# The server's evaluate on PostgreSQL (issue 17, docs/postgresql.md): one `dalil serve` against
# two on one database, each with --threads 1, POST /api/v1/evaluate with a bearer token over
# 10,000 distinct generated applicants. For each form and each RATE (requests/s in all, split
# evenly between the servers, one open-loop dalil_loadgen per server: latency from each
# request's intended send time), RUNS runs of DURATION seconds, alternating the forms; prints
# every run and the medians of the achieved rate (2xx/s, summed over the servers) and of the
# worst p50/p99 of the servers' clients. A rate above what the servers sustain measures their
# throughput (achieved), not their latency. Every 2xx answer is checked against the stored
# counter decisions.
# Run it inside a cluster (PG* set), e.g.:
#   flock /tmp/dalil-build.lock pg_virtualenv bash bench/pg_serve.sh build-release/cli/dalil \
#     build-release/bench/dalil_loadgen rules "500 4000" 3 20
set -euo pipefail
dalil="$1"; loadgen="$2"; rules="$3"; rates="${4:-500 4000}"; runs="${5:-3}"; duration="${6:-20}"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
: "${PGDATABASE:?run inside a cluster: pg_virtualenv bash bench/pg_serve.sh …}"
psql -qc "DROP DATABASE IF EXISTS dalil_serve_bench" -c "CREATE DATABASE dalil_serve_bench" >/dev/null
db="postgresql:///dalil_serve_bench"
"$dalil" generate --count 10000 --seed 2026 --out "$work/cohort.jsonl" >/dev/null
"$dalil" import --db "$db" --rules "$rules" "$work/cohort.jsonl" >/dev/null
as_of=$(grep -o '"application_date":"[0-9-]*"' "$work/cohort.jsonl" | cut -d'"' -f4 | sort | tail -1)
sed "s/^/{\"lang\":\"fr\",\"as_of\":\"$as_of\",\"applicant\":/; s/\$/}/" "$work/cohort.jsonl" \
  >"$work/bodies.jsonl"
token=$("$dalil" token create bench --role official --office bench --db "$db" | tail -1)
stored() { psql -d dalil_serve_bench -XAtqc 'SELECT count(*) FROM counter_decisions'; }
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

# serve N: N servers; their ports in $ports, their pids in $spids.
serve() {
  ports=() spids=()
  for i in $(seq 1 "$1"); do
    "$dalil" serve --db "$db" --rules "$rules" --listen 127.0.0.1:0 --threads 1 \
      >"$work/server$i.out" 2>&1 &
    spids+=($!)
    pids+=($!)
    for _ in $(seq 100); do grep -q '^listening' "$work/server$i.out" && break; sleep 0.1; done
    ports+=("$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$work/server$i.out")")
    [ -n "${ports[-1]}" ] || { cat "$work/server$i.out"; exit 1; }
  done
}
stop() {
  kill "${spids[@]}"
  wait "${spids[@]}" 2>/dev/null || true
}

# run N RATE: one run on N servers at RATE in all; prints "achieved p50 p99 ok stored".
run() {
  local n=$1 rate=$2 each before after lg=()
  each=$((rate / n))
  before=$(stored)
  for i in $(seq 0 $((n - 1))); do
    "$loadgen" --url "http://127.0.0.1:${ports[$i]}/api/v1/evaluate" --rate "$each" \
      --duration "$duration" --warmup 3 --connections 16 --bodies "$work/bodies.jsonl" \
      --min-distinct 10000 --header "Authorization: Bearer $token" --server-pid "${spids[$i]}" \
      --summary >"$work/lg$i" &
    lg+=($!)
  done
  wait "${lg[@]}"
  after=$(stored)
  local achieved=0 p50=0 p99=0 ok=0 all_ok=0 errors=0 failed=0
  for i in $(seq 0 $((n - 1))); do
    local s
    s=$(cat "$work/lg$i")
    achieved=$(echo "$achieved + $(field achieved "$s")" | bc)
    ok=$((ok + $(field ok "$s")))
    all_ok=$((all_ok + $(field all_ok "$s")))
    errors=$((errors + $(field errors "$s")))
    failed=$((failed + $(field all_errors "$s")))
    (($(field p50 "$s") > p50)) && p50=$(field p50 "$s")
    (($(field p99 "$s") > p99)) && p99=$(field p99 "$s")
  done
  local got=$((after - before))
  # A request the client gave up on may still have been stored.
  ((got >= all_ok && got <= all_ok + failed)) || {
    echo "stored $got counter decisions for $all_ok 2xx answers ($failed failed)" >&2
    exit 1
  }
  echo "$achieved $p50 $p99 $errors"
}

echo "pg_serve: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $runs runs of $duration s per form and rate"
for rate in $rates; do
  a1=() p1=() q1=() a2=() p2=() q2=()
  for r in $(seq 1 "$runs"); do
    for n in $( ((r % 2)) && echo "1 2" || echo "2 1"); do
      serve "$n"
      read -r ach p50 p99 errs < <(run "$n" "$rate")
      stop
      printf 'rate %5s  %s server(s)  run %s: achieved %8s/s  p50 %7s µs  p99 %8s µs  errors %s\n' \
        "$rate" "$n" "$r" "$ach" "$p50" "$p99" "$errs"
      if ((n == 1)); then a1+=("$ach") p1+=("$p50") q1+=("$p99"); else a2+=("$ach") p2+=("$p50") q2+=("$p99"); fi
    done
  done
  printf 'median at %5s req/s: 1 server: achieved %s/s, p50 %s µs, p99 %s µs; 2 servers: achieved %s/s, p50 %s µs, p99 %s µs\n' \
    "$rate" "$(median "${a1[@]}")" "$(median "${p1[@]}")" "$(median "${q1[@]}")" \
    "$(median "${a2[@]}")" "$(median "${p2[@]}")" "$(median "${q2[@]}")"
done
echo "load now: $(cut -d' ' -f1-3 /proc/loadavg); $(stored) counter decisions stored, each 2xx answer checked"
