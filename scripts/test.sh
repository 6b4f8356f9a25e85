#!/usr/bin/env bash
# test.sh - the quick start's test command, and what CI runs: installs what
# is missing, then builds and runs the whole test suite twice, once in a
# normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer,
# then gives every fuzz harness (tests/fuzz) a short smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== release build =="
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== sanitizer build (address, undefined) =="
bash scripts/build.sh build-sanitize -DMCO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure -j"$jobs"

echo "== fuzz smoke run (every harness over its corpus, then 10 s each) =="
rm -rf build-fuzz/smoke
bash bench/fuzz.sh --time 10 --jobs "$jobs" --out build-fuzz/smoke
