#!/bin/bash
# calibrate_resource_model.sh - re-derives the resource model's table
# (targets/calibration/resource-model.json) from QEMU runs and prints its
# error against the emulator on the built-in architectures.
#
#   bash bench/calibrate_resource_model.sh [CLASSES]     (default m0plus,m3,m4f,m7)
#
# MCO_BUILD_DIR picks the build tree (default build), MCO_RESOURCE_TABLE the
# table written (default targets/calibration/resource-model.json; the
# estimate command and tests/test_resource_model.c read it).
#
# Run it again whenever a runtime kernel or the code generator changes: the
# table holds per-kernel cycle coefficients and code sizes of the current
# runtime, compiled by the installed arm-none-eabi-gcc. Takes about 5 minutes
# per core class for the calibration plus a few minutes for the error table
# (sequential: one compiler or QEMU at a time). Needs arm-none-eabi-gcc and
# qemu-system-arm. The cycles it fits are the emulator's estimate (exact
# instruction counts x per-core timing tables), not silicon.
#
# What it leaves out: float32 on the soft-float classes (m0plus, m3) is
# validated on the three small architectures only (resnet8 and ds-cnn-s in
# soft float take minutes each in QEMU).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MCO_BUILD_DIR:-build}
classes=${1:-m0plus,m3,m4f,m7}
table=${MCO_RESOURCE_TABLE:-targets/calibration/resource-model.json}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target mcuopt_cli >/dev/null
mkdir -p "$(dirname "$table")"
echo "== calibration ($classes), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$build/mcuopt" estimate --calibrate --classes "$classes" -o "$table"

echo "== error against the emulator: int8 on every class"
"$build/mcuopt" estimate --validate --table "$table" --classes "$classes" --formats int8
hard_float=$(echo "$classes" | tr ',' '\n' | grep -E '^(m4f|m7)$' | paste -sd, || true)
soft_float=$(echo "$classes" | tr ',' '\n' | grep -E '^(m0plus|m3)$' | paste -sd, || true)
if [ -n "$hard_float" ]; then
    echo "== float32 on the FPU classes"
    "$build/mcuopt" estimate --validate --table "$table" --classes "$hard_float" --formats float32
fi
if [ -n "$soft_float" ]; then
    echo "== float32 on the soft-float classes (small architectures)"
    "$build/mcuopt" estimate --validate --table "$table" --classes "$soft_float" --formats float32 \
        --archs mnist-paper,lenet5,mlp
fi
