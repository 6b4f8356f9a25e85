#!/usr/bin/env bash
# onnx_qdq.sh - QDQ ONNX import of graphs written as onnxruntime's quantizer
# writes them (tests/onnx/make_qdq_models.py, Debian's python3-onnx and
# numpy): `mcuopt import` makes an int8 deploy model (.mcq) of the int8 and
# of the uint8 version, which predict the same outputs byte for byte (uint8
# activations are int8 ones with the zero point minus 128); exporting the
# imported model in QDQ form gives a graph the numpy QDQ evaluator
# (tests/onnx/onnx_numpy.py, float32 as an ONNX runtime) evaluates exactly as
# the original (same scales, zero points, weights and biases); mcuopt's
# integer arithmetic matches that float-simulated evaluation on >= 99 % of
# a convolution's outputs within one step (the rest: requantization
# near-ties, docs/onnx.md) and on the whole model within the bounds its
# average pool's ties allow. The refused patterns are in tests/cli_errors.sh.
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
"$py" - "$tmp" <<'PY'
import sys
import numpy as np
import onnx
sys.path.insert(0, "tests/onnx")
from onnx_numpy import evaluate
tmp = sys.argv[1]
x = np.fromfile(tmp + "/qdq_cnn_s8.in.f32", np.float32).reshape(-1, 3, 12, 12)
for name in ("qdq_cnn_s8", "qdq_cnn_u8"):
    a, b = onnx.load("%s/%s.onnx" % (tmp, name)), onnx.load("%s/%s.again.onnx" % (tmp, name))
    ya = np.concatenate([evaluate(a, x[i:i + 1], np.float32) for i in range(len(x))])
    yb = np.concatenate([evaluate(b, x[i:i + 1], np.float32) for i in range(len(x))])
    assert ya.shape == yb.shape and np.array_equal(ya, yb), (name, float(np.abs(ya - yb).max()))
PY
"$py" tests/onnx/check.py qdq "$tmp/qdq_conv_s8.onnx" "$tmp/qdq_conv_s8.in.f32" "$tmp/qdq_conv_s8.out.f32" 1 0.99
"$py" tests/onnx/check.py qdq "$tmp/qdq_cnn_s8.onnx" "$tmp/qdq_cnn_s8.in.f32" "$tmp/qdq_cnn_s8.out.f32" 3 0.45
echo "onnx_qdq: all checks passed"
