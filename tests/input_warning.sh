#!/usr/bin/env bash
# input_warning.sh - `mcuopt eval` and `mcuopt quantize` warn (one
# "mcuopt: warning:" line, the command still succeeds) when the data, after
# the model's input normalisation, looks far from what the model takes
# (mcuopt/input_check.h). An MNIST-shaped float CNN
# (tests/onnx/make_models.py) imported without a normalisation gets raw
# 0..255 pixels: eval and quantize warn, naming --normalize 0.00392157,0,1;
# imported with --dataset mnist, they do not, and neither does eval of its
# int8 model (its inputs inside the range they were calibrated on).
# Skipped (exit 77) without python3-onnx or MNIST.
# Usage: input_warning.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
py=/usr/bin/python3
. tests/lib/skip.sh
require_python_onnx
. tests/lib/mini_mnist.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make_mini_mnist "$tmp/mini"
"$py" tests/onnx/make_models.py "$tmp" >/dev/null

warnings() { grep -c '^mcuopt: warning: ' "$1" || true; }

# wrong: no normalisation recorded, raw pixels
"$cli" import "$tmp/mnist_qdq.onnx" -o "$tmp/raw.mco" >/dev/null
"$cli" eval "$tmp/raw.mco" --data "$tmp/mini" >/dev/null 2>"$tmp/eval_raw.err"
[ "$(warnings "$tmp/eval_raw.err")" -eq 1 ] && [ "$(wc -l <"$tmp/eval_raw.err")" -eq 1 ]
grep -q 'standard deviation .*far from the unit scale .*--normalize 0.00392157,0,1' "$tmp/eval_raw.err"
"$cli" quantize "$tmp/raw.mco" --data "$tmp/mini" -o "$tmp/raw.mcq" >/dev/null 2>"$tmp/quant_raw.err"
[ "$(warnings "$tmp/quant_raw.err")" -eq 1 ]
grep -q -- '--normalize 0.00392157,0,1' "$tmp/quant_raw.err"

# right: MNIST's normalisation
"$cli" import "$tmp/mnist_qdq.onnx" --dataset mnist -o "$tmp/ok.mco" >/dev/null
"$cli" eval "$tmp/ok.mco" --data "$tmp/mini" >/dev/null 2>"$tmp/eval_ok.err"
"$cli" quantize "$tmp/ok.mco" --data "$tmp/mini" -o "$tmp/ok.mcq" >/dev/null 2>"$tmp/quant_ok.err"
"$cli" eval "$tmp/ok.mcq" --data "$tmp/mini" >/dev/null 2>"$tmp/eval_ok_int8.err"
for f in eval_ok quant_ok eval_ok_int8; do
    [ "$(warnings "$tmp/$f.err")" -eq 0 ] || { cat "$tmp/$f.err"; exit 1; }
done
echo "input_warning: all checks passed"
