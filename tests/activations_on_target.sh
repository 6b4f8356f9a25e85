#!/usr/bin/env bash
# activations_on_target.sh - the element-wise activations (leaky_relu,
# hard_swish, tanh, sigmoid, hard_sigmoid) end to end on real MNIST: an
# architecture with all five trains for one epoch, its int8 model (each
# activation one LUT_S8 op: a 256-entry table from the exact function) stays
# within one point of the float model's accuracy, and both the int8 and the
# float model (ACTIVATION_F32 ops) run on the emulated STM32F405 (Cortex-M4F)
# with every output bit-identical to the host runtime; `info` shows the
# LeakyReLU's alpha. Usage: activations_on_target.sh PATH/TO/mcuopt (from the
# repository root). Skipped (exit 77) without MNIST or the Arm tools.
set -eu
. "$(dirname "$0")/lib/skip.sh"
. "$(dirname "$0")/lib/on_target.sh"
require_mnist
require_arm_tools
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$(mnist_dir)
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

cat >"$tmp/act.arch" <<'ARCH'
input 28 28 1
classes 10
conv2d filters=4 kernel=3 padding=valid
leaky_relu alpha=0.1
maxpool2d pool=2
conv2d filters=8 kernel=3 padding=valid
hard_swish
maxpool2d pool=2
flatten
dense units=32
tanh
dense units=16
sigmoid
dense units=16
hard_sigmoid alpha=0.2 beta=0.5
dense units=classes
ARCH

"$cli" train --arch "$tmp/act.arch" --data "$data" --epochs 1 --quiet -o "$tmp/m.mco" >/dev/null
"$cli" info "$tmp/m.mco" | grep -q "leaky_relu a=0.1 " || fail "info does not show the LeakyReLU's alpha"
"$cli" info "$tmp/m.mco" | grep -q "hard_sigmoid a=0.2 b=0.5 " || fail "info does not show the HardSigmoid's alpha, beta"
"$cli" quantize "$tmp/m.mco" --mode int8 --data "$data" -o "$tmp/m.mcq" >"$tmp/q.txt"
cat "$tmp/q.txt" | grep -i "accuracy on"
line=$(grep "accuracy on" "$tmp/q.txt")
float=$(echo "$line" | sed -n 's/.*float \([0-9.]*\) %.*/\1/p')
int8=$(echo "$line" | sed -n 's/.*quantized \([0-9.]*\) %.*/\1/p')
[ -n "$float" ] && [ -n "$int8" ] || fail "no accuracies in: $line"
awk -v f="$float" -v q="$int8" 'BEGIN { exit !(f >= 90 && q >= f - 1) }' ||
  fail "float $float %, int8 $int8 %: expected float >= 90 % and int8 within 1 point"

for model in m.mcq m.mco; do
  kind=LUT_S8
  [ "$model" = m.mco ] && kind=ACTIVATION_F32
  measure_bit_exact "$cli" "$tmp/$model" stm32f405 "$data" 100 $kind 5 "$tmp/$model.json"
done
echo "activations_on_target: all checks passed"
