#!/usr/bin/env bash
# paper_table.sh - the published STM32F405 study's table, reproduced with
# mcuopt: trains mnist-paper on MNIST (3 epochs, seed 1), derives float16,
# int8-weights-only and full int8 variants, runs each on the emulated
# STM32F405 (QEMU netduinoplus2) over 100 test images (outputs checked
# bit-identical to the host), and prints Flash, peak RAM, test accuracy,
# exact instructions per inference and estimated ms at 160 MHz next to the
# published figures.
# Usage: bench/paper_table.sh [MNIST_DIR] [BUILD_DIR]   (from the repo root)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mnist}
build=${2:-build}
bash scripts/setup.sh
bash scripts/build.sh "$build" >/dev/null
cli=$build/mcuopt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# json_num FILE KEY: the first numeric value of "KEY" in cJSON's output.
json_num() { grep -m1 "\"$2\":" "$1" | sed 's/.*:[[:space:]]*//; s/,$//'; }

echo "training mnist-paper (3 epochs, seed 1) on $data ..." >&2
"$cli" train --arch mnist-paper --data "$data" --epochs 3 --seed 1 --quiet --json -o "$work/f32.mco" >"$work/train.json"

declare -A model accuracy
model[f32]=$work/f32.mco
accuracy[f32]=$(json_num "$work/train.json" test_accuracy)
for mode in float16 int8-weights int8; do
  "$cli" quantize "$work/f32.mco" --mode "$mode" --data "$data" --json -o "$work/$mode.mcq" >"$work/q-$mode.json"
  model[$mode]=$work/$mode.mcq
  accuracy[$mode]=$(json_num "$work/q-$mode.json" quantized_accuracy)
done

row() { # row KEY LABEL PAPER_BYTES PAPER_ACC PAPER_MS
  local key=$1 label=$2
  "$cli" measure "${model[$key]}" --target stm32f405 --clock-mhz 160 --images 100 --data "$data" --json >"$work/m-$key.json"
  local flash ram insns ms mism
  flash=$(json_num "$work/m-$key.json" flash_bytes)
  ram=$(json_num "$work/m-$key.json" ram_bytes)
  insns=$(json_num "$work/m-$key.json" instructions)
  ms=$(json_num "$work/m-$key.json" latency_ms_estimate)
  mism=$(json_num "$work/m-$key.json" mismatches)
  printf "| %-26s | %8s B | %6s B | %6.2f %% | %10.0f | %8.3f ms | %s/100 | %9s B | %6s %% | %9s ms |\n" \
    "$label" "$flash" "$ram" "$(awk -v a="${accuracy[$key]}" 'BEGIN { printf "%.2f", a * 100 }')" "$insns" "$ms" \
    "$((100 - mism))" "$3" "$4" "$5"
}

echo
echo "mnist-paper on the emulated STM32F405 (Cortex-M4F) at 160 MHz; ms are estimates from exact instruction counts"
echo "| variant                    | mcuopt Flash | RAM      | accuracy | instructions | latency     | bit-exact | paper Flash | paper acc | paper latency |"
echo "|----------------------------|--------------|----------|----------|--------------|-------------|-----------|-------------|-----------|---------------|"
row f32 "float32" "84,896" "97.95" "109.66"
row float16 "float16 weights" "44,716" "97.62" "109.63"
row int8-weights "int8 weights" "24,136" "97.12" "93.17"
row int8 "int8 weights + activations" "24,672" "97.08" "95.56"
