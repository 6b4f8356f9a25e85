# bench_models.sh - sourced by the compiler benches (bench/compilers_matrix.sh,
# bench/package_matrix.sh, tests/package_matrix.sh): the two int8 models they
# build with every compiler, level and core.
#
#   bench_models CLI BUILD_DIR WORK   writes into WORK:
#     mini/             300 + 100 real MNIST images (mini_mnist.sh)
#     mnist-paper.mcq   mnist-paper trained one epoch on mini/ and quantized
#                       (the 3x3 conv + pool and Dense kernels, their
#                       assembly paths under gcc)
#     ds-cnn.mcq        ds-cnn with random weights (BUILD_DIR/vs_cmsis_nn
#                       `model`: the blocked 10x4 and 1x1 convs, depthwise,
#                       average pool, Dense)
#     kws/x.npy, y.npy  8 random 49x10 inputs for ds-cnn
#   and returns non-zero if a step fails (its output on stderr).
#
# Leaves out: skipping (mini_mnist.sh skips without MNIST), other models.
. "$(dirname "${BASH_SOURCE[0]}")/mini_mnist.sh"

bench_models() {
  local cli=$1 build=$2 work=$3
  make_mini_mnist "$work/mini" || return 1
  "$cli" train --arch mnist-paper --epochs 1 --data "$work/mini" --val 0 --quiet -o "$work/mnist-paper.mco" >/dev/null &&
    "$cli" quantize "$work/mnist-paper.mco" -o "$work/mnist-paper.mcq" --data "$work/mini" \
      --calibration-samples 100 >/dev/null &&
    "$build/vs_cmsis_nn" model ds-cnn "$work/ds-cnn.mcq" 1 >/dev/null || return 1
  mkdir -p "$work/kws"
  /usr/bin/python3 - "$work/kws" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1)
np.save(sys.argv[1] + "/x.npy", rng.integers(0, 256, size=(8, 49, 10, 1), dtype=np.uint8))
np.save(sys.argv[1] + "/y.npy", rng.integers(0, 12, size=8, dtype=np.uint8))
PY
}
