#!/usr/bin/env bash
# onnx_from_pytorch.sh - bring-your-own-model end to end: train mnist-paper in
# PyTorch (bench/onnx_from_pytorch.py, Debian's python3-torch), export it with
# torch.onnx.export, `mcuopt import` it, and compare on the MNIST test set:
#   - float: mcuopt's accuracy must equal PyTorch's, and so must every
#     per-image prediction (mcuopt predict on all 10,000 images);
#   - int8: `mcuopt quantize --mode int8` accuracy within 0.3 points of float;
#   - QDQ: `mcuopt export` of the int8 model, evaluated like an ONNX runtime
#     (tests/onnx/onnx_numpy.py, float32) on 1000 test images, against
#     mcuopt's int8 outputs.
# Prints the figures and exits non-zero if a requirement fails.
#
# Usage: bench/onnx_from_pytorch.sh [build_dir] [mnist_dir] [epochs]   (from the repo root)
# What it leaves out: repeated runs; PyTorch training is not timed against mcuopt here.
set -euo pipefail
build=${1:-build}
data=${2:-../shared/data/mnist}
epochs=${3:-1}
py=/usr/bin/python3

bash scripts/setup.sh python3-torch
if [ ! -x "$build/mcuopt" ]; then
    cmake -S . -B "$build" >/dev/null
    cmake --build "$build" --target mcuopt_cli -j2 >/dev/null
fi
cli=$build/mcuopt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

json_field() { # json_field NAME JSON
    printf '%s\n' "$2" | tr -d '\t\n' | sed -n "s/.*\"$1\": *\([0-9.e+-]*\).*/\1/p"
}

theirs=$("$py" bench/onnx_from_pytorch.py "$tmp" "$data" "$epochs")
echo "pytorch: $theirs"
"$cli" import "$tmp/model.onnx" --dataset mnist -o "$tmp/model.mco"
"$cli" info "$tmp/model.mco"

# Float: accuracy and every prediction.
ours_eval=$("$cli" eval "$tmp/model.mco" --data "$data" --json)
zcat "$data/t10k-images-idx3-ubyte.gz" | tail -c +17 >"$tmp/raw_test"
"$py" - "$tmp/raw_test" "$tmp/all_images.f32" <<'PY'
import sys, numpy as np
raw = np.fromfile(sys.argv[1], np.uint8).astype(np.float32)
((raw * np.float32(1 / 255) - np.float32(0.1307)) / np.float32(0.3081)).astype("<f4").tofile(sys.argv[2])
PY
"$cli" predict "$tmp/model.mco" --input "$tmp/all_images.f32" -o "$tmp/logits.f32" 2>/dev/null
same=$("$py" -c "
import sys, numpy as np
ours = np.fromfile('$tmp/logits.f32', '<f4').reshape(-1, 10).argmax(1)
theirs = np.fromfile('$tmp/pytorch_predictions.u8', np.uint8)
print(int((ours == theirs).sum()))")

# int8 and its QDQ export.
q=$("$cli" quantize "$tmp/model.mco" -o "$tmp/model.mcq" --mode int8 --data "$data" --json)
"$cli" export "$tmp/model.mcq" -o "$tmp/model_int8_qdq.onnx"
"$cli" predict "$tmp/model.mcq" --input "$tmp/test_images.f32" --layout nchw -o "$tmp/int8.f32" 2>/dev/null
qdq=$("$py" tests/onnx/check.py qdq "$tmp/model_int8_qdq.onnx" "$tmp/test_images.f32" "$tmp/int8.f32" || true)

pt=$(json_field test_correct "$theirs")
float=$(json_field correct "$ours_eval")
int8=$(json_field quantized_accuracy "$q")
echo "float accuracy: pytorch $pt, mcuopt $float of 10000 correct; identical predictions on $same of 10000 test images"
echo "int8 accuracy (mcuopt quantize --mode int8): $int8"
echo "QDQ export vs mcuopt int8 on 1000 test images: $qdq"
awk -v pt="$pt" -v f="$float" -v q="$int8" -v same="$same" 'BEGIN {
    d = q * 100 - f / 100
    ok = pt == f && same == 10000 && d <= 0.3 && d >= -0.3
    printf "float %s, int8 %+.2f points from float: %s\n", (pt == f ? "identical" : "DIFFERENT"), d, ok ? "ok" : "FAILED"
    exit ok ? 0 : 1 }'
