#!/usr/bin/env bash
# qdq_fidelity.sh - how often onnxruntime's int8 outputs on mcuopt's QDQ
# exports are identical to mcuopt's own (issue 16, item 5). Four small MNIST
# models (conv + max pool + dense; two average pools; a residual add with a
# global average pool; depthwise-separable blocks with a requantizing
# global pool ... see the arch texts below), each trained for one epoch on
# 300 MNIST images, quantized to int8 (calibrated on the same images) and
# exported (`mcuopt export` of the .mcq). On the first N MNIST test images
# (default 1000) mcuopt's host evaluation of the int8 plan (`mcuopt
# predict`, the MCU kernels) is compared with onnxruntime running the QDQ
# graph, with its default graph optimisations ("all": QDQ groups fused into
# QLinear operators where onnxruntime does) and without ("disabled": the
# float graph as written), as the share of identical int8 outputs (one
# output step = the output scale). The same for the export with mcuopt's
# rounding nudges removed (the export before they were added) shows what
# they change. Then the other direction: QDQ graphs as onnxruntime's
# quantizer writes them, imported (`mcuopt import`), against onnxruntime on
# the original graph and on mcuopt's re-export.
# onnxruntime: Python's if /usr/bin/python3 has it, else onnxruntime-node
# from npm, installed into a temporary directory for this run (never
# committed; --ignore-scripts: its install script fetches GPU libraries,
# the CPU library ships in the package). Needs node and npm, python3-onnx
# and numpy, and MNIST in ../shared/data/mnist (MCO_MNIST_DIR overrides).
# Usage: bash bench/qdq_fidelity.sh [BUILD_DIR] [OUT_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench-qdq-out}
n=${3:-1000}
cli=$build/mcuopt
py=/usr/bin/python3
mnist=${MCO_MNIST_DIR:-../shared/data/mnist}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if "$py" -c 'import onnxruntime' 2>/dev/null; then
    runner=python
else
    command -v npm >/dev/null || { echo "qdq_fidelity: neither Python's onnxruntime nor npm" >&2; exit 1; }
    (cd "$tmp" && npm install --silent --no-audit --no-fund --ignore-scripts onnxruntime-node >/dev/null)
    runner=node
fi
# run_ort_n MODEL LEVEL OUT INPUTS COUNT: onnxruntime on COUNT float32 inputs.
run_ort_n() {
    if [ $runner = node ]; then
        NODE_PATH="$tmp/node_modules" node bench/qdq_ort.js "$1" "$4" "$5" "$3" "$2"
    else
        "$py" - "$1" "$4" "$5" "$3" "$2" <<'PY'
import sys
import numpy as np
import onnxruntime as ort
model, images, n, out, level = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
opt = ort.SessionOptions()
opt.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if level == "all" else \
    ort.GraphOptimizationLevel.ORT_DISABLE_ALL
opt.log_severity_level = 3
s = ort.InferenceSession(model, opt, providers=["CPUExecutionProvider"])
shape = [d if isinstance(d, int) else 1 for d in s.get_inputs()[0].shape]
x = np.fromfile(images, np.float32).reshape([n] + shape[1:])
np.concatenate([s.run(None, {s.get_inputs()[0].name: x[i:i + 1]})[0] for i in range(n)]).astype("<f4").tofile(out)
PY
    fi
}
# run_ort MODEL LEVEL OUT: onnxruntime on the n MNIST images.
run_ort() { run_ort_n "$1" "$2" "$3" "$out/images.f32" "$n"; }

. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"
zcat -f "$mnist/t10k-images-idx3-ubyte.gz" 2>/dev/null >"$tmp/t10k" || cp "$mnist/t10k-images-idx3-ubyte" "$tmp/t10k"
"$py" tests/onnx/check.py mnist "$tmp/t10k" "$n" "$out/images.f32"

cat >"$tmp/conv_dense.arch" <<'EOF'
input 28 28 1
classes 10
conv2d filters=8 kernel=3 padding=same
relu
maxpool2d pool=2
conv2d filters=16 kernel=3 padding=same
relu
maxpool2d pool=2
flatten
dense units=32
relu
dense units=classes
EOF
cat >"$tmp/avgpool.arch" <<'EOF'
input 28 28 1
classes 10
conv2d filters=8 kernel=3 padding=same
relu
avgpool2d pool=2
conv2d filters=16 kernel=3 padding=same
relu
avgpool2d pool=2
flatten
dense units=classes
EOF
cat >"$tmp/residual.arch" <<'EOF'
input 28 28 1
classes 10
conv2d filters=16 kernel=3 stride=2 padding=same
stem = relu
conv2d filters=16 kernel=3 padding=same
relu
b1 = conv2d filters=16 kernel=3 padding=same
add inputs=stem,b1
relu
conv2d filters=32 kernel=3 stride=2 padding=same
relu
global_avgpool
dense units=classes
EOF
cat >"$tmp/separable.arch" <<'EOF'
input 28 28 1
classes 10
conv2d filters=16 kernel=3 stride=2 padding=same
relu
depthwise_conv2d kernel=3 padding=same
relu
conv2d filters=24 kernel=1 padding=same
relu
depthwise_conv2d kernel=3 stride=2 padding=same
relu
conv2d filters=32 kernel=1 padding=same
relu
avgpool2d pool=7
flatten
dense units=classes
EOF

# identical OURS REF MODEL: the share of identical int8 outputs (in output steps).
identical() {
    "$py" - "$@" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "tests/onnx")
from check import output_scale
ours, ref = np.fromfile(sys.argv[1], np.float32), np.fromfile(sys.argv[2], np.float32)
steps = np.rint(np.abs(ours.astype(np.float64) - ref) / output_scale(sys.argv[3]))
print("%.2f %% (max %d)" % (100 * np.mean(steps == 0), steps.max()), end="")
PY
}

# strip MODEL OUT: the export without mcuopt's rounding nudges (each final
# Add of y and its nudge becomes Identity(y)).
strip() {
    "$py" - "$1" "$2" <<'PY'
import sys
import onnx
from onnx import helper
m = onnx.load(sys.argv[1])
nodes = []
for node in m.graph.node:
    if node.op_type == "Add" and (node.output[0].endswith(":half_away") or node.output[0].endswith(":requantized")):
        node = helper.make_node("Identity", [node.input[0]], list(node.output), name=node.name)
    nodes.append(node)
del m.graph.node[:]
m.graph.node.extend(nodes)
onnx.save(m, sys.argv[2])
PY
}

printf '%-11s %-9s %-22s %-22s %-22s\n' model export "onnxruntime (all)" "onnxruntime (disabled)" "numpy float32"
for m in conv_dense avgpool residual separable; do
    "$cli" train --arch "$tmp/$m.arch" --data "$tmp/mini" --epochs 1 --val 50 --seed 1 --threads 2 -q -o "$out/$m.mco"
    "$cli" quantize "$out/$m.mco" --mode int8 --data "$tmp/mini" -o "$out/$m.mcq" >/dev/null
    "$cli" export "$out/$m.mcq" -o "$out/$m.qdq.onnx" >/dev/null
    strip "$out/$m.qdq.onnx" "$out/$m.plain.onnx"
    "$cli" predict "$out/$m.mcq" --input "$out/images.f32" --layout nchw -o "$out/$m.mcuopt.f32" 2>/dev/null
    for e in plain qdq; do
        run_ort "$out/$m.$e.onnx" all "$out/$m.$e.all.f32"
        run_ort "$out/$m.$e.onnx" disabled "$out/$m.$e.disabled.f32"
        label=$([ $e = qdq ] && echo "with nudges" || echo "without")
        printf '%-11s %-9s ' "$m" "$label"
        printf '%-22s ' "$(identical "$out/$m.mcuopt.f32" "$out/$m.$e.all.f32" "$out/$m.$e.onnx")"
        printf '%-22s ' "$(identical "$out/$m.mcuopt.f32" "$out/$m.$e.disabled.f32" "$out/$m.$e.onnx")"
        "$py" tests/onnx/check.py qdq "$out/$m.$e.onnx" "$out/images.f32" "$out/$m.mcuopt.f32" 255 0 |
            sed 's/.*outputs, \([0-9.]*\) % identical, largest difference \([0-9]*\).*/\1 % (max \2)/'
    done
done
echo "($n MNIST test images, $((n * 10)) outputs per model; onnxruntime via $runner)"

# The other direction: QDQ graphs written as onnxruntime's quantizer writes
# them (tests/onnx/make_qdq_models.py: int8 and uint8 activations, an
# average pool, a residual add, a requantizing global pool) imported into
# mcuopt; its integer arithmetic against onnxruntime on the original graph
# (64 random inputs), and its own export of the imported model.
"$py" tests/onnx/make_qdq_models.py "$tmp/ort"
printf '\n%-11s %-22s %-22s\n' "imported" "onnxruntime (all)" "onnxruntime (disabled)"
for m in qdq_cnn_s8 qdq_cnn_u8; do
    "$cli" import "$tmp/ort/$m.onnx" -o "$out/$m.mcq" >/dev/null
    "$cli" predict "$out/$m.mcq" --input "$tmp/ort/$m.in.f32" --layout nchw -o "$out/$m.mcuopt.f32" 2>/dev/null
    "$cli" export "$out/$m.mcq" -o "$out/$m.again.onnx" >/dev/null
    for g in "$m" "$m.again"; do
        src=$tmp/ort/$g.onnx
        [ "$g" = "$m" ] || src=$out/$g.onnx
        for level in all disabled; do
            run_ort_n "$src" "$level" "$out/$g.$level.f32" "$tmp/ort/$m.in.f32" 64
        done
        label=$([ "$g" = "$m" ] && echo "$m" || echo "(re-export)")
        printf '%-11s %-22s ' "$label" "$(identical "$out/$m.mcuopt.f32" "$out/$g.all.f32" "$src")"
        printf '%-22s\n' "$(identical "$out/$m.mcuopt.f32" "$out/$g.disabled.f32" "$src")"
    done
done
