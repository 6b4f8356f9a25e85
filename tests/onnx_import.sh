#!/usr/bin/env bash
# onnx_import.sh - ONNX import and export against an independent reference.
# tests/onnx/make_models.py builds small ONNX models with Debian's
# python3-onnx (conv/pool/gemm, depthwise + batchnorm, residual add) with
# known weights and their expected outputs (tests/onnx/onnx_numpy.py, numpy
# float64). For each: `mcuopt import`, `mcuopt predict` within 1e-5 of the
# reference; `mcuopt export` of the imported model evaluated by numpy within
# 1e-5 too; export -> import gives the same .mco file byte for byte. Then an
# MNIST-shaped model is quantized to int8 on a tiny MNIST subset, exported in
# QDQ form, and an ONNX-runtime-like float32 evaluation of the QDQ graph must
# give mcuopt's int8 outputs within one output step (at least 99 % equal);
# the same for the explicit-padding models (PyTorch stride-2 pad-1 conv on an
# even input, SAME_LOWER, asymmetric pads, ceil_mode pools).
# Skipped (exit 77) if /usr/bin/python3 has no onnx or numpy, or without MNIST.
# Usage: onnx_import.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
py=/usr/bin/python3
. tests/lib/skip.sh
require_python_onnx
require_mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { "$py" tests/onnx/check.py "$@"; }

"$py" tests/onnx/make_models.py "$tmp"
for m in conv_pool_gemm depthwise_bn residual reduce_mean mnist_qdq explicit_pads avgpool_count_pad; do
    "$cli" import "$tmp/$m.onnx" -o "$tmp/$m.mco" >/dev/null
    "$cli" predict "$tmp/$m.mco" --input "$tmp/$m.in.f32" --layout nchw -o "$tmp/$m.out.f32" 2>/dev/null
    check close "$tmp/$m.out.f32" "$tmp/$m.ref.f32" 1e-5
    "$cli" export "$tmp/$m.mco" -o "$tmp/$m.exported.onnx" >/dev/null
    check eval "$tmp/$m.exported.onnx" "$tmp/$m.in.f32" "$tmp/$m.ref.f32" 1e-5
    "$cli" import "$tmp/$m.exported.onnx" -o "$tmp/$m.again.mco" >/dev/null
    cmp "$tmp/$m.mco" "$tmp/$m.again.mco"
done
"$cli" info "$tmp/depthwise_bn.mco" | grep -q depthwise_conv2d
[ "$("$cli" info "$tmp/reduce_mean.mco" | grep -c global_avgpool)" -eq 2 ]
# explicit_pads: 14x14 after the stride-2 pad-1 conv, 8x8 after the ceil_mode pool (7x7 without).
"$cli" info "$tmp/explicit_pads.mco" | grep -Eq 'conv_s2 +conv2d +14x14x6'
"$cli" info "$tmp/explicit_pads.mco" | grep -Eq 'pool_ceil +maxpool2d +8x8x6'
# avgpool_count_pad: both pools divide by the whole window (14 -> 7 -> 4).
"$cli" info "$tmp/avgpool_count_pad.mco" | grep -Eq 'avg_pads +avgpool2d count_pad +7x7x4'
"$cli" info "$tmp/avgpool_count_pad.mco" | grep -Eq 'avg_same +avgpool2d count_pad +4x4x4'

# The normalisation a model holds is shown by import and info (and in --json).
"$cli" import "$tmp/depthwise_bn.onnx" -o "$tmp/norm.mco" --normalize 0.00392156862745098,0.1307,0.3081 >"$tmp/import.txt"
grep -q 'input normalisation: x = (raw \* 0.00392157 - 0.1307) / 0.3081' "$tmp/import.txt"
"$cli" info "$tmp/norm.mco" | grep -q 'input normalisation: x = (raw \* 0.00392157 - 0.1307) / 0.3081  (raw 0 -> -0.4242, raw 255 -> 2.821)'
"$cli" info "$tmp/depthwise_bn.mco" | grep -q 'input normalisation: none (x = raw value)'
"$cli" info "$tmp/norm.mco" --json | "$py" -c 'import json, sys
n = json.load(sys.stdin)["normalization"]
assert abs(n["scale"] - 1 / 255) < 1e-7 and abs(n["mean"] - 0.1307) < 1e-6 and abs(n["std"] - 0.3081) < 1e-6, n'

# int8 in QDQ form.
. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"
"$cli" import "$tmp/mnist_qdq.onnx" --dataset mnist -o "$tmp/q.mco" >/dev/null
"$cli" quantize "$tmp/q.mco" -o "$tmp/q.mcq" --mode int8 --data "$tmp/mini" >/dev/null
"$cli" export "$tmp/q.mcq" -o "$tmp/q.onnx" >/dev/null
check mnist "$tmp/mini/t10k-images-idx3-ubyte" 100 "$tmp/images.f32"
"$cli" predict "$tmp/q.mcq" --input "$tmp/images.f32" --layout nchw -o "$tmp/q.out.f32" 2>/dev/null
check qdq "$tmp/q.onnx" "$tmp/images.f32" "$tmp/q.out.f32" 1 0.99
"$py" -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))" "$tmp/q.onnx"

# int8 with explicit padding everywhere: quantize, host evaluation of the
# int8 plan (predict), QDQ export against the numpy evaluation. The export
# carries mcuopt's rounding (average pool ties away from zero, the
# requantization's double rounding), so at least 99 % are identical.
for m in explicit_pads_maxpool explicit_pads; do
    "$cli" import "$tmp/$m.onnx" --dataset mnist -o "$tmp/$m.q.mco" >/dev/null
    "$cli" quantize "$tmp/$m.q.mco" -o "$tmp/$m.mcq" --mode int8 --data "$tmp/mini" >/dev/null
    "$cli" export "$tmp/$m.mcq" -o "$tmp/$m.qdq.onnx" >/dev/null
    "$cli" predict "$tmp/$m.mcq" --input "$tmp/images.f32" --layout nchw -o "$tmp/$m.q.out.f32" 2>/dev/null
    check qdq "$tmp/$m.qdq.onnx" "$tmp/images.f32" "$tmp/$m.q.out.f32" 1 0.99
done
echo "onnx_import: all checks passed"
