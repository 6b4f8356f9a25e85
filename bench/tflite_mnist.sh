#!/usr/bin/env bash
# tflite_mnist.sh - an int8 TFLite MNIST model imported into mcuopt and
# measured (issue 16): trains LeNet-5 in float with mcuopt, writes it as the
# full-integer int8 .tflite TensorFlow's converter would make (uint8 input
# and output, per-channel convolutions, per-tensor dense layers, calibrated
# on 1000 training images; bench/tflite_mnist.py, no TensorFlow), imports
# it (`mcuopt import` -> .mcq with the file's own quantization), and
#   - evaluates it with mcuopt's runtime on the whole MNIST test set,
#   - runs TFLite's reference integer arithmetic (tests/tflite/tfl_ref.py)
#     on the same 10,000 images: every int8 output must be equal,
#   - runs it on the emulated STM32F405 (`mcuopt measure`, every output
#     byte checked against the host).
# The figures go into docs/benchmarks.md ("An int8 TFLite model").
# Usage: bash bench/tflite_mnist.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench-tflite-out}
cli=$build/mcuopt
py=/usr/bin/python3
mnist=${MCO_MNIST_DIR:-../shared/data/mnist}
mkdir -p "$out"

echo "== train LeNet-5 (float, 3 epochs, seed 1)"
"$cli" train --arch lenet5 --data "$mnist" --epochs 3 --seed 1 --threads 2 -q -o "$out/lenet5.mco"
echo "== write it as a full-integer int8 TFLite model"
"$py" bench/tflite_mnist.py convert "$out/lenet5.mco" "$mnist" "$out/lenet5_int8.tflite"
echo "== import"
"$cli" import "$out/lenet5_int8.tflite" -o "$out/lenet5_int8.mcq"
echo "== mcuopt's runtime on the 10,000 test images"
"$cli" eval "$out/lenet5_int8.mcq" --data "$mnist"
echo "== TFLite's reference integer arithmetic on the same images"
"$py" bench/tflite_mnist.py reference "$out/lenet5_int8.tflite.graph" "$mnist" "$out/ref.s8"
# every output: the test images as network inputs (raw pixel p is the uint8 input, real = scale * (p - zp))
"$py" - "$mnist" "$out/lenet5_int8.tflite.graph" "$out/images.f32" <<'PY'
import gzip, pickle, sys
import numpy as np
sys.path.insert(0, "tests/tflite")
g, x_in, _ = pickle.load(open(sys.argv[2], "rb"))
with gzip.open(sys.argv[1] + "/t10k-images-idx3-ubyte.gz") as f:
    f.read(16)
    p = np.frombuffer(f.read(), dtype=np.uint8).astype(np.float64)
s, zp = float(g.tensors[x_in]["scale"][0]), int(g.tensors[x_in]["zero_point"][0])
((p - zp) * s).astype("<f4").tofile(sys.argv[3])
PY
"$cli" predict "$out/lenet5_int8.mcq" --input "$out/images.f32" -o "$out/mcuopt.f32"
read -r scale zp < <("$py" -c "
import pickle, sys; sys.path.insert(0, 'tests/tflite')
g, _, _ = pickle.load(open('$out/lenet5_int8.tflite.graph', 'rb'))
t = g.tensors[g.ops[-1]['inputs'][0]]
print('%.9g %d' % (t['scale'][0], t['zero_point'][0]))")
"$py" bench/tflite_mnist.py compare "$out/mcuopt.f32" "$out/ref.s8" "$scale" "$zp"
echo "== on the emulated STM32F405 (Cortex-M4F)"
"$cli" measure "$out/lenet5_int8.mcq" --target stm32f405 --data "$mnist" --images 100
