# skip.sh - sourced by shell tests: the one way a shell test says it could
# not run (the same convention as test_util.h for the C tests). A test that
# lacks a tool or data set exits 77 after printing "SKIPPED: why"; CTest
# shows it as "Skipped" (SKIP_RETURN_CODE in CMakeLists.txt), never as
# passed, and CI fails on any skip (scripts/test.sh). A test that ran some of
# its checks before finding something missing skips too: a partial run is
# not a pass.
#
# Leaves out: deciding whether something missing is an error. Use these only
# for what a developer's machine may lack (the Arm toolchain, QEMU, MNIST,
# python3-onnx, sqlite3); a missing input the test itself made is a failure.

SKIP_CODE=77

# skip REASON: print why and end the test as skipped.
skip() {
  echo "SKIPPED: $*"
  exit "$SKIP_CODE"
}

# require_cmd CMD PACKAGE: skip unless CMD is on PATH.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || skip "$1 not on PATH (Debian package $2; scripts/setup.sh installs it)"
}

# require_arm_tools: the cross compiler and QEMU that running on an emulated
# Cortex-M needs.
require_arm_tools() {
  require_cmd arm-none-eabi-gcc gcc-arm-none-eabi
  require_cmd qemu-system-arm qemu-system-arm
}

# mnist_dir: where the real MNIST files are (MCO_MNIST_DIR overrides).
mnist_dir() {
  echo "${MCO_MNIST_DIR:-../shared/data/mnist}"
}

# require_mnist: skip unless the MNIST training images are there (gzip'd or
# not). Once they are, anything failing to read them is a test failure.
require_mnist() {
  local dir
  dir=$(mnist_dir)
  [ -e "$dir/train-images-idx3-ubyte.gz" ] || [ -e "$dir/train-images-idx3-ubyte" ] ||
    skip "MNIST not found in $dir (set MCO_MNIST_DIR)"
}

# require_python_onnx: /usr/bin/python3 with the onnx and numpy modules.
require_python_onnx() {
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import onnx, numpy" 2>/dev/null ||
    skip "/usr/bin/python3 lacks onnx or numpy (Debian packages python3-onnx python3-numpy)"
}
