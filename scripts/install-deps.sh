#!/usr/bin/env bash
# Installs every Debian package Dalil needs to build, test and benchmark.
# Used by the README's set-up commands and by .ci/run; safe to run twice. Extra package names
# given as arguments are installed too (scripts/fuzz.sh adds clang 16).
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  libboost1.81-dev          # Spirit X3 (header-only)
  libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev
  catch2                    # Catch2 v2 (single header)
  libcli11-dev
  libssl-dev                # SHA-256 for ruleset and record hashes
  libsodium-dev             # Argon2id passwords, random tokens (server/auth)
  libz3-dev                 # the SMT solver of dalil diff (analysis/)
  # The PostgreSQL store (store/pg, docs/postgresql.md): libpq, and a server with pg_virtualenv
  # for the tests' throwaway cluster (tests/pg/run.sh, CTest label pg).
  libpq-dev postgresql postgresql-common
  clang-format clang-tidy
  time bc                   # benchmarks: peak memory and rates
  # Other allocators, preloaded by the memory-remnants tests (tests/CMakeLists.txt): a freed
  # block they keep as it was shows a copy that was not zeroed.
  libtcmalloc-minimal4 libmimalloc2.0 libjemalloc2
  # The officials' page's browser tests (tests/browser): Debian's Chromium driven by
  # playwright-core (npm ci), its translations (the date fields follow the PC's locale) and
  # Arabic-capable fonts.
  chromium chromium-l10n fonts-noto-core
)
# Node and npm from Debian unless a Node with npm is already there (NodeSource's nodejs carries its
# own npm and conflicts with Debian's).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
