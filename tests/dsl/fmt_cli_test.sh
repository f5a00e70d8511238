#!/usr/bin/env bash
# `dalil fmt` and `dalil check` as an author runs them: a pack whose parentheses matter checks
# after fmt and fmt --check then finds nothing; a link is rewritten through, not replaced; a
# FIFO, a directory and a dangling link named .dalil are errors, never a hang.
set -euo pipefail
dalil="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$work/pack"
cat > "$work/pack/m.dalil" <<'DALIL'
module m
  title fr "t" ar "t" en "t"
record A { x : int  flag : bool }
input a : A
rule r : bool
  source "s"
  = (a.flag == true) == (a.x in [1, 2])
rule s : int
  source "s"
  = a.x - (a.x - 1)
DALIL
"$dalil" check "$work/pack" >/dev/null || fail "the pack does not check before fmt"
"$dalil" fmt "$work/pack" >/dev/null
"$dalil" check "$work/pack" >/dev/null || fail "fmt broke the pack: $(cat "$work/pack/m.dalil")"
"$dalil" fmt --check "$work/pack" || fail "fmt --check after fmt"
grep -q '(a.flag == true) == (a.x in \[1, 2\])' "$work/pack/m.dalil" || fail "parentheses dropped"
grep -q 'a.x - (a.x - 1)' "$work/pack/m.dalil" || fail "a - (b - c) lost its parentheses"

mkdir "$work/linked"
printf 'module   m\n' > "$work/linked/real.dalil"
ln -s real.dalil "$work/linked/link.dalil"
"$dalil" fmt "$work/linked/link.dalil" >/dev/null
[ -L "$work/linked/link.dalil" ] || fail "fmt replaced the symbolic link by a file"
[ "$(cat "$work/linked/real.dalil")" = "module m" ] || fail "fmt did not rewrite the link's target"

mkdir "$work/odd"
cp "$work/pack/m.dalil" "$work/odd/m.dalil"
mkfifo "$work/odd/pipe.dalil"
mkdir "$work/odd/dir.dalil"
ln -s nowhere "$work/odd/gone.dalil"
for cmd in check fmt; do
  set +e
  out=$(timeout 20 "$dalil" $cmd "$work/odd" 2>&1)
  rc=$?
  set -e
  [ $rc -ne 124 ] || fail "dalil $cmd hung on a FIFO"
  [ $rc -eq 1 ] || fail "dalil $cmd exited $rc: $out"
  for why in "pipe.dalil is not a regular file" "dir.dalil is a directory" \
             "gone.dalil is a dangling symbolic link"; do
    grep -q "$why" <<<"$out" || fail "dalil $cmd did not say '$why': $out"
  done
done
echo "fmt and check: all cases passed"
