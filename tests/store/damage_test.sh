#!/usr/bin/env bash
# Damaged pages, table-driven over every b-tree of the schema (each table and each index, found
# with SQLite's dbstat): one leaf page of each zeroed on a fresh copy of the store. Then
# `dalil audit verify` must exit 1, and every read (stats, export, decisions, replay) must either
# fail (non-zero, no signal) or print exactly what it prints from the undamaged store: damage is
# never read as "nothing there".
set -euo pipefail
dalil="$1"; rules="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clean="$work/clean.db"
"$dalil" generate --count 600 --seed 8 --out "$work/cohort.jsonl"
printf '%s\n' '{"id":"BAD-1","sex":"femme"}' >> "$work/cohort.jsonl"
"$dalil" import --db "$clean" --rules "$rules" "$work/cohort.jsonl" >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2017-06-01 --chunk 100 --quiet >/dev/null
head -5 "$work/cohort.jsonl" |
  sed 's/"application_date":"[0-9-]*"/"application_date":"2017-05-02"/' > "$work/changed.jsonl"
"$dalil" import --db "$clean" --rules "$rules" "$work/changed.jsonl" >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2017-06-01 --chunk 100 --quiet >/dev/null
"$dalil" batch --db "$clean" --rules "$rules" --as-of 2023-06-01 --where status=refugee \
  --store-traces --quiet >/dev/null
sqlite3 "$clean" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
page_size=$(sqlite3 "$clean" "PRAGMA page_size")

reads=(stats export decisions replay)
read_cmd() {  # read, db
  case "$1" in
    stats) "$dalil" stats --db "$2" --all ;;
    export) "$dalil" export --db "$2" --run 2 ;;
    decisions) "$dalil" decisions --db "$2" --all SYN-000007 ;;
    replay) "$dalil" replay --db "$2" 2:7 ;;
  esac
}
for r in "${reads[@]}"; do
  cp "$clean" "$work/ref.db"
  read_cmd "$r" "$work/ref.db" > "$work/clean.$r" 2>/dev/null ||
    { echo "FAIL: $r fails on the undamaged store"; exit 1; }
  rm -f "$work/ref.db"*
done

passed=0; failed=0
# One leaf page per b-tree (the middle one of its leaves; its root when it has one page).
while IFS='|' read -r name page; do
  db="$work/damaged.db"
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$clean" "$db"
  dd if=/dev/zero of="$db" bs="$page_size" seek=$((page - 1)) count=1 conv=notrunc status=none
  status=0
  out=$("$dalil" audit verify --db "$db" 2>&1) || status=$?
  if [ "$status" -ne 1 ]; then
    echo "FAIL $name (page $page): verify exited $status: $(echo "$out" | head -3)"
    failed=$((failed + 1))
  else
    echo "ok   $name (page $page): verify: $(echo "$out" | head -1)"; passed=$((passed + 1))
  fi
  for r in "${reads[@]}"; do
    rm -f "$db" "$db-wal" "$db-shm"
    cp "$clean" "$db"
    dd if=/dev/zero of="$db" bs="$page_size" seek=$((page - 1)) count=1 conv=notrunc status=none
    status=0
    read_cmd "$r" "$db" > "$work/out" 2> "$work/err" || status=$?
    if [ "$status" -ge 128 ]; then
      echo "FAIL $name: $r died by signal $((status - 128))"; failed=$((failed + 1))
    elif [ "$status" -eq 0 ] && ! cmp -s "$work/out" "$work/clean.$r"; then
      echo "FAIL $name: $r exited 0 with what the damaged store let it read:"
      diff "$work/clean.$r" "$work/out" | head -5
      failed=$((failed + 1))
    else
      passed=$((passed + 1))
    fi
  done
done < <(sqlite3 "$clean" "
  WITH leaves AS (SELECT name, pageno, row_number() OVER (PARTITION BY name ORDER BY pageno) AS k,
                         count(*) OVER (PARTITION BY name) AS n
                  FROM dbstat WHERE pagetype = 'leaf' OR (pagetype = 'internal' AND 0))
  SELECT name, pageno FROM leaves WHERE k = (n + 1) / 2 AND name NOT LIKE 'sqlite_autoindex_lease%'
  ORDER BY name")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
