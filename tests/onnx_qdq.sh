#!/usr/bin/env bash
# onnx_qdq.sh - QDQ ONNX import of graphs written as onnxruntime's quantizer
# writes them (tests/onnx/make_qdq_models.py, Debian's python3-onnx and
# numpy): `mcuopt import` makes an int8 deploy model (.mcq) of the int8 and
# of the uint8 version, which predict the same outputs byte for byte (uint8
# activations are int8 ones with the zero point minus 128); exporting the
# imported model in QDQ form again gives a graph that the numpy QDQ
# evaluator (tests/onnx/onnx_numpy.py, float32 as an ONNX runtime) evaluates
# to mcuopt's integer outputs on >= 99 % of them (the export carries
# mcuopt's rounding); against the original graph, whose float-simulated
# rounding differs (requantization rounding twice, average pool ties away
# from zero: docs/benchmarks.md, "QDQ export fidelity"), mcuopt's outputs
# are >= 99 % identical after one convolution and within 3 steps after the
# whole model. The refused patterns are in tests/cli_errors.sh.
# Skipped (exit 77) if /usr/bin/python3 has no onnx or numpy.
# Usage: onnx_qdq.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
py=/usr/bin/python3
. tests/lib/skip.sh
require_python_onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" tests/onnx/make_qdq_models.py "$tmp"
for m in qdq_cnn_s8 qdq_cnn_u8 qdq_conv_s8; do
    "$cli" import "$tmp/$m.onnx" -o "$tmp/$m.mcq" >"$tmp/$m.txt"
    grep -q "(ONNX QDQ, int8): .* layers, input 12x12x3 (scale 0.0156999994, zero point -3)" "$tmp/$m.txt"
    in=$tmp/${m%_*}_s8.in.f32
    [ $m = qdq_cnn_u8 ] && in=$tmp/qdq_cnn_u8.in.f32
    "$cli" predict "$tmp/$m.mcq" --input "$in" --layout nchw -o "$tmp/$m.out.f32" 2>/dev/null
    "$cli" export "$tmp/$m.mcq" -o "$tmp/$m.again.onnx" >/dev/null
done
cmp "$tmp/qdq_cnn_s8.out.f32" "$tmp/qdq_cnn_u8.out.f32"
for m in qdq_cnn_s8 qdq_cnn_u8; do   # mcuopt's export carries its rounding: the float evaluation gives its integers
    "$py" tests/onnx/check.py qdq "$tmp/$m.again.onnx" "$tmp/$m.in.f32" "$tmp/$m.out.f32" 1 0.99
done
"$py" tests/onnx/check.py qdq "$tmp/qdq_conv_s8.onnx" "$tmp/qdq_conv_s8.in.f32" "$tmp/qdq_conv_s8.out.f32" 1 0.99
"$py" tests/onnx/check.py qdq "$tmp/qdq_cnn_s8.onnx" "$tmp/qdq_cnn_s8.in.f32" "$tmp/qdq_cnn_s8.out.f32" 3 0.45
echo "onnx_qdq: all checks passed"
