#!/usr/bin/env bash
# tflite_import.sh - TFLite import against an independent reference, with
# no TensorFlow: tests/tflite/make_models.py writes .tflite files with the
# flatbuffers library from mcuopt's schema subset (float32, float16
# weights, dynamic-range int8 weights, full int8 with uint8 / int8 / float
# input and output, per-channel convolutions, PAD, residual ADD, pools,
# MEAN, Keras' flatten prologue and Rescaling, SOFTMAX, LOGISTIC) and computes their outputs with
# tests/tflite/tfl_ref.py (numpy: float64, and TFLite's reference integer
# arithmetic for int8). For each: `mcuopt import`, `mcuopt predict`; float
# outputs within 1e-5 of the reference, int8 outputs all equal to it. The
# MNIST-shaped int8 model then runs in QEMU on an emulated Cortex-M4
# (`mcuopt measure`, which checks every output byte against the host) on
# the same images. Unsupported operators and corrupt files get one line.
# Skips (exit 77, tests/lib/skip.sh) when /usr/bin/python3 lacks numpy or
# flatbuffers, flatc is missing, MNIST (for the measured model's images) or
# the Arm toolchain and QEMU are missing; scripts/setup.sh installs them all.
# Usage: tflite_import.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
py=/usr/bin/python3
. tests/lib/skip.sh
[ -x "$py" ] && "$py" -c "import numpy, flatbuffers" 2>/dev/null ||
    skip "/usr/bin/python3 lacks numpy or flatbuffers (Debian packages python3-numpy python3-flatbuffers)"
require_cmd flatc flatbuffers-compiler
require_mnist
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { "$py" tests/tflite/check.py "$@"; }

. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"
"$py" tests/tflite/make_models.py "$tmp" "$tmp/mini/t10k-images-idx3-ubyte"

for m in cnn_float32 cnn_float16 cnn_hybrid gap_float32 gap_float16 gap_hybrid logistic_float32 logistic_float16 \
         logistic_hybrid general_float32 general_float16 general_hybrid; do
    "$cli" import "$tmp/$m.tflite" -o "$tmp/$m.mco" >"$tmp/$m.log"
    "$cli" predict "$tmp/$m.mco" --input "$tmp/$m.in.f32" -o "$tmp/$m.out.f32" 2>/dev/null
    check close "$tmp/$m.out.f32" "$tmp/$m.ref.f32" 1e-5
done
# Keras' Rescaling (MUL, ADD by constants on the float input) folded into
# the input normalisation: the outputs on the network inputs, and the
# recorded normalisation mapping the raw inputs onto them.
for m in rescaled_float32 rescaled_float16 rescaled_hybrid; do
    "$cli" import "$tmp/$m.tflite" -o "$tmp/$m.mco" --json >"$tmp/$m.json"
    "$cli" predict "$tmp/$m.mco" --input "$tmp/$m.in.f32" -o "$tmp/$m.out.f32" 2>/dev/null
    check close "$tmp/$m.out.f32" "$tmp/$m.ref.f32" 1e-5
    check norm "$tmp/$m.json" "$tmp/$m.raw.f32" "$tmp/$m.in.f32"
done
"$cli" import "$tmp/rescaled_float32.tflite" -o "$tmp/r.mco" | grep -q "MUL / ADD on its input, folded"
grep -q "dynamic-range int8 weights" "$tmp/cnn_hybrid.log"
grep -q "float16 weights" "$tmp/cnn_float16.log"
# PAD folded into the first conv, flatten prologue folded: 13 layers, the second conv stride 2 "same".
"$cli" info "$tmp/cnn_float32.mco" | grep -Eq 'conv2d_1 +conv2d +12x12x6'

for m in cnn_int8 gap_int8 cnn_int8_float_io mnist_int8 logistic_int8 general_int8; do
    "$cli" import "$tmp/$m.tflite" -o "$tmp/$m.mcq" >"$tmp/$m.log"
    "$cli" predict "$tmp/$m.mcq" --input "$tmp/$m.in.f32" -o "$tmp/$m.out.f32" 2>/dev/null
    check int8 "$tmp/$m.out.f32" "$tmp/$m.ref.f32" "$tmp/$m.q.txt"
done
grep -Eq "input: uint8, scale 0.0039[0-9]+, zero point 0" "$tmp/cnn_int8.log"
grep -q "output: uint8" "$tmp/cnn_int8.log"
grep -q "input: int8" "$tmp/gap_int8.log"

# An int8 model must go to a .mcq file.
if "$cli" import "$tmp/cnn_int8.tflite" -o "$tmp/x.mco" 2>"$tmp/err"; then echo "int8 to .mco accepted"; exit 1; fi
grep -q "give -o NAME.mcq" "$tmp/err"

# Unsupported operators and broken files: one line naming the problem.
expect_error() {   # FILE REGEX
    if "$cli" import "$1" -o "$tmp/bad.mco" >/dev/null 2>"$tmp/err"; then echo "accepted: $1"; exit 1; fi
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "more than one line for $1:"; cat "$tmp/err"; exit 1; }
    grep -Eq "$2" "$tmp/err" || { echo "unexpected message for $1:"; cat "$tmp/err"; exit 1; }
}
expect_error "$tmp/bad_mul.tflite" 'operator 0 \(MUL\)'
expect_error "$tmp/bad_concat.tflite" 'operator 0 \(CONCATENATION\)'
expect_error "$tmp/bad_rescale_branch.tflite" 'operator 1 \(ADD\).*before the MUL / ADD'
expect_error "$tmp/bad_rescale_zero.tflite" 'operator 0 \(MUL\).*degenerate'
expect_error "$tmp/bad_nan_weight.tflite" 'tensor 1 \(t1_fc_w\): value 6 is not finite'
if "$cli" import "$tmp/bad_inf_bias.tflite" -o "$tmp/bad.mcq" >/dev/null 2>"$tmp/err"; then echo "accepted: bad_inf_bias"; exit 1; fi
grep -q "bad_inf_bias.tflite: layer 0 (dense_0): bias\[0\] is inf: the parameters are not finite" "$tmp/err" || { cat "$tmp/err"; exit 1; }
[ ! -e "$tmp/bad.mcq" ] || { echo "bad_inf_bias: a .mcq was written"; exit 1; }
# An int32 accumulator that can overflow: refused before anything is
# written, and an existing file of that name is left as it was.
echo "not replaced" >"$tmp/keep.mcq"
if "$cli" import "$tmp/bad_acc_overflow.tflite" -o "$tmp/keep.mcq" >/dev/null 2>"$tmp/err"; then
    echo "accepted: bad_acc_overflow"; exit 1
fi
grep -q "bad_acc_overflow.tflite: layer 0 (dense_0): unit 0: bias 2147483647 .* overflows the int32 accumulator" \
    "$tmp/err" || { cat "$tmp/err"; exit 1; }
[ "$(cat "$tmp/keep.mcq")" = "not replaced" ] || { echo "bad_acc_overflow: the existing .mcq was replaced"; exit 1; }
head -c 600 "$tmp/cnn_float32.tflite" >"$tmp/truncated.tflite"
expect_error "$tmp/truncated.tflite" 'does not verify'
"$py" - "$tmp/cnn_float32.tflite" "$tmp/offset.tflite" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
data[0:4] = struct.pack("<I", len(data) + 4096)   # the root table offset points past the end
open(sys.argv[2], "wb").write(data)
PY
expect_error "$tmp/offset.tflite" 'does not verify'
printf 'not a model' >"$tmp/junk.tflite"
expect_error "$tmp/junk.tflite" 'not a TFLite file'

# The MNIST-shaped int8 model on the emulated Cortex-M4, on the 16 images
# whose host outputs were just checked against the reference.
"$cli" measure "$tmp/mnist_int8.mcq" --target stm32f405 --data "$tmp/mini" --images 16 >"$tmp/measure.log"
grep -q "16 of 16 bit-identical" "$tmp/measure.log" || { cat "$tmp/measure.log"; exit 1; }
echo "tflite_import: all checks passed"
