#!/usr/bin/env bash
# cli_errors.sh - bad input gets one clear error line and a non-zero exit,
# never a crash or a half-written output: unknown commands and options,
# unknown architectures and layers, shape mismatches, missing data sets,
# corrupt and truncated model files, unwritable outputs.
# Usage: cli_errors.sh PATH/TO/mcuopt   (run from the repository root)
set -u
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect EXIT_CODE PATTERN -- command...: checks the exit code, that stderr
# is exactly one line, and that it matches PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$got" -ne "$code" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: $* -> exit $got (want $code), stderr ($lines lines):" >&2
    cat "$tmp/err" >&2
    failures=$((failures + 1))
  fi
}

# A tiny MNIST-layout data set: the first 300 train and 100 test images.
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_mnist "$tmp/mini"

expect 2 "unknown command 'frobnicate'" -- "$cli" frobnicate
expect 2 "expects an integer" -- "$cli" train --epochs many
expect 1 "unknown architecture 'nosuch'" -- "$cli" info --arch nosuch

printf 'input 28 28 1\nconv3d filters=4 kernel=3\n' >"$tmp/bad_layer.arch"
expect 1 "bad_layer.arch:2: unknown layer type 'conv3d'" -- "$cli" info --arch "$tmp/bad_layer.arch"
printf 'input 28 28 1\nconv2d filters=4 kernel=3\ndense units=10\n' >"$tmp/bad_shape.arch"
expect 1 "add a flatten layer" -- "$cli" info --arch "$tmp/bad_shape.arch"

expect 1 "not found" -- "$cli" train --data "$tmp/no-such-dir" --quiet -o "$tmp/m.mco"
[ -e "$tmp/m.mco" ] && { echo "FAIL: a failed train left $tmp/m.mco" >&2; failures=$((failures + 1)); }

# A real (small) model, then corrupt copies of it.
"$cli" train --arch mnist-paper --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/good.mco" >/dev/null ||
  { echo "FAIL: training on the mini set" >&2; failures=$((failures + 1)); }
"$cli" info "$tmp/good.mco" >/dev/null || { echo "FAIL: info on a good model" >&2; failures=$((failures + 1)); }
"$cli" eval "$tmp/good.mco" --data "$tmp/mini" >/dev/null || { echo "FAIL: eval on a good model" >&2; failures=$((failures + 1)); }

head -c 100 "$tmp/good.mco" >"$tmp/truncated.mco"
expect 1 "truncated.mco" -- "$cli" info "$tmp/truncated.mco"
cp "$tmp/good.mco" "$tmp/flipped.mco"
printf '\xff' | dd of="$tmp/flipped.mco" bs=1 seek=500 conv=notrunc status=none
expect 1 "flipped.mco" -- "$cli" eval "$tmp/flipped.mco" --data "$tmp/mini"
head -c 4096 /dev/urandom >"$tmp/random.mco"
expect 1 "random.mco" -- "$cli" info "$tmp/random.mco"
expect 1 "no-such.mco" -- "$cli" info "$tmp/no-such.mco"

# Wrong shape: a 28x28x1 model on 32x32x3 CIFAR-10 data.
mkdir -p "$tmp/cifar"
for i in 1 2 3; do printf '\x03'; head -c 3072 /dev/zero; done >"$tmp/cifar/test_batch.bin"
expect 1 "32x32x3 but the model takes 28x28x1" -- "$cli" eval "$tmp/good.mco" --dataset cifar10 --data "$tmp/cifar"

# Quantized models: corrupt, unknown target, a model that does not fit.
"$cli" quantize "$tmp/good.mco" --mode int8 --data "$tmp/mini" -o "$tmp/good.mcq" >/dev/null ||
  { echo "FAIL: quantize" >&2; failures=$((failures + 1)); }
cp "$tmp/good.mcq" "$tmp/flipped.mcq"
printf '\x00' | dd of="$tmp/flipped.mcq" bs=1 seek=300 conv=notrunc status=none
expect 1 "flipped.mcq" -- "$cli" emit "$tmp/flipped.mcq" -o "$tmp/code"
expect 1 "unknown target" -- "$cli" measure "$tmp/good.mcq" --target no-such-mcu --data "$tmp/mini"
expect 2 "unknown compiler 'icc' (gcc or clang)" -- "$cli" measure "$tmp/good.mcq" --target stm32f405 --cc icc
expect 2 "unknown optimisation level '-O9'" -- "$cli" measure "$tmp/good.mcq" --target stm32f405 -O9
expect 1 "does not fit cortex-m0plus-32k" -- "$cli" measure "$tmp/good.mco" --target cortex-m0plus-32k --images 3 --data "$tmp/mini"

# An unwritable output leaves nothing behind.
expect 1 "no-such-dir" -- "$cli" train --arch mlp --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/no-such-dir/m.mco"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "cli_errors: all checks passed"
