#!/usr/bin/env bash
# package_matrix.sh - CI's subset of bench/package_matrix.sh (issue 14 item
# 5: "CI runs a subset on M4 and M0+; the bench runs all"): the emitted
# packages of int8 mnist-paper (trained one epoch) and ds-cnn (random
# weights), 3 built-in inputs each, cross-built by the two commands of their
# README.md as written (the package's CMakeLists.txt with a toolchain file,
# its NAME.mk with plain make), with arm-none-eabi-gcc and clang at -O0 and
# -O2 for the Cortex-M4F and M0+, each image run in QEMU: every output
# equals the host runtime's (32 builds).
# Leaves out: -Og/-Os/-O3 and the M3, M7 and M33 (the bench runs them all;
# docs/benchmarks.md has its table).
# Usage: package_matrix.sh PATH/TO/mcuopt (from the repo root). Skipped
# (exit 77) when a tool or MNIST is missing.
set -uo pipefail
cli=${1:?usage: package_matrix.sh PATH/TO/mcuopt}
out=$(mktemp /tmp/mco-package-matrix-ci-XXXXXX)
trap 'rm -f "$out"' EXIT
MCUOPT=$cli CORES="m4 m0plus" LEVELS="-O0 -O2" COMPILERS="gcc clang" BUILDS="cmake make" INPUTS=3 \
  MODELS="mnist-paper ds-cnn" bash bench/package_matrix.sh >"$out"
rc=$?
cat "$out"
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "FAIL: bench/package_matrix.sh exited with $rc" >&2; exit 1; }
# every row there, each built, ran and equal
rows=$(grep -c '^| mnist_paper \|^| ds_cnn ' "$out")
good=$(grep -c '| yes | yes | yes |' "$out")
[ "$rows" = 32 ] && [ "$good" = 32 ] || { echo "FAIL: $good of $rows builds good, expected 32 of 32" >&2; exit 1; }
grep -q '^32 of 32 builds built, ran and gave the host runtime.s outputs on every input$' "$out" ||
  { echo "FAIL: no summary line" >&2; exit 1; }
echo "package_matrix: 32 of 32 package builds (CMake and make, gcc and clang, -O0 and -O2, M4F and M0+) equal the host runtime in QEMU"
