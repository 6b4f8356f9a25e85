#!/usr/bin/env bash
# tests/fuzz/build.sh - configures and builds the libFuzzer harnesses with
# clang into build-fuzz/ (or the directory given as $1). A fuzz-only build:
# -DMCO_FUZZ=ON compiles the library with sanitizer coverage, ASan and UBSan,
# and makes the loaders skip CRC checks, so nothing else from this directory
# is ever used. -O2 -g without NDEBUG: asserts stay on. clang++ for the one
# C++ file (the TFLite reader): g++ has no -fsanitize=fuzzer-no-link.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build-fuzz}
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" -DMCO_FUZZ=ON >/dev/null
cmake --build "$dir" --target fuzzers -j"$(nproc)"
