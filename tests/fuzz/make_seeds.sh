#!/usr/bin/env bash
# tests/fuzz/make_seeds.sh - rewrites the committed seed corpus
# tests/fuzz/corpus/<harness>/ from the library's own writers
# (fuzz_make_seeds, built by tests/fuzz/build.sh) and the MCU profiles of
# targets/. Regression inputs (regress-*) are kept; everything else is
# replaced. Usage: bash tests/fuzz/make_seeds.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
[ -x "$build/tests/fuzz/fuzz_make_seeds" ] || bash tests/fuzz/build.sh "$build"
corpus=tests/fuzz/corpus
find "$corpus" -type f ! -name 'regress-*' -delete 2>/dev/null || true
mkdir -p "$corpus/target_profile"
"$build/tests/fuzz/fuzz_make_seeds" "$corpus" targets/calibration/resource-model.json
cp targets/*.json "$corpus/target_profile/"
du -sh "$corpus"/* | sed 's|tests/fuzz/corpus/||'
