#!/usr/bin/env bash
# test.sh - the quick start's test command, and what CI runs: installs what
# is missing, then builds and runs the whole test suite twice, once in a
# normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer,
# then gives every fuzz harness (tests/fuzz) a short smoke run.
#
# A test that cannot run here (no Arm toolchain, QEMU or MNIST) exits 77 and
# CTest shows it as Skipped; this script lists each skipped test with its
# reason. With CI=true (.ci/run sets it) every package is installed, so a
# skipped test fails the run, as does a package that cannot be installed;
# so does a fuzz smoke run that cannot run (no clang with libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
ci=${CI:-false}
if ! bash scripts/setup.sh; then
  [ "$ci" = true ] && exit 1
  echo "test.sh: packages are missing (see above); the tests that need them will show as skipped" >&2
fi
jobs=$(nproc)

# run_suite DIR: every CTest of the build in DIR; then the skipped ones, each
# with the "SKIPPED: why" lines it printed. Fails on a failed test, and in
# CI on a skipped one.
run_suite() {
  local dir=$1 skipped
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" | tee "$dir/ctest.log"
  skipped=$(sed -n '/^The following tests did not run:/,/^$/p' "$dir/ctest.log" | grep -c ' - ' || true)
  [ "$skipped" -eq 0 ] && return 0
  echo "== $skipped test(s) skipped in $dir, and why =="
  awk '/^[0-9]+\/[0-9]+ Test: / { name = $3 } /^SKIPPED: / { print "  " name ": " substr($0, 10) }' \
    "$dir/Testing/Temporary/LastTest.log"
  if [ "$ci" = true ]; then
    echo "test.sh: $skipped test(s) skipped in CI, where everything they need is installed: failing" >&2
    return 1
  fi
}

echo "== release build =="
bash scripts/build.sh build
run_suite build

echo "== sanitizer build (address, undefined) =="
bash scripts/build.sh build-sanitize -DMCO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-sanitize

echo "== fuzz smoke run (every harness over its corpus, then 10 s each) =="
if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
   clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
  rm -rf build-fuzz/smoke
  bash bench/fuzz.sh --time 10 --jobs "$jobs" --out build-fuzz/smoke
else
  echo "SKIPPED: the fuzz smoke run needs clang with libFuzzer (clang, libclang-rt-14-dev)"
  [ "$ci" = true ] && { echo "test.sh: fuzz smoke run skipped in CI: failing" >&2; exit 1; }
fi
