#!/usr/bin/env bash
# paper_table.sh - the published STM32F405 study's table, reproduced with
# mcuopt: trains mnist-paper on MNIST (3 epochs, seed 1), derives float16,
# int8-weights-only and full int8 variants, runs each on the emulated
# STM32F405 (QEMU netduinoplus2) over 100 test images (outputs checked
# bit-identical to the host), and prints Flash, peak RAM, test accuracy,
# exact instructions per inference and estimated ms at 160 MHz next to the
# published figures; then the study's pruning and QAT rows (50 % magnitude
# pruning with 2 fine-tuning epochs, float and int8 -- the int8 one twice:
# the plan for cycles, the default, and the plan for size; QAT for 2
# epochs) and mcuopt's own structured pruning + distillation pipeline.
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

echo "pruning 50 % (2 epochs of fine-tuning) ..." >&2
"$cli" prune "$work/f32.mco" --sparsity 0.5 --epochs 2 --data "$data" --quiet --json -o "$work/p50.mco" >"$work/prune.json"
model[p50]=$work/p50.mco
accuracy[p50]=$(json_num "$work/prune.json" accuracy_after)
"$cli" quantize "$work/p50.mco" --mode int8 --data "$data" --json -o "$work/p50-int8.mcq" >"$work/q-p50.json"
model[p50-int8]=$work/p50-int8.mcq
accuracy[p50-int8]=$(json_num "$work/q-p50.json" quantized_accuracy)
echo "quantization-aware training (2 epochs) ..." >&2
"$cli" qat "$work/f32.mco" --epochs 2 --data "$data" --quiet --json -o "$work/qat.mcq" >"$work/qat.json"
model[qat]=$work/qat.mcq
accuracy[qat]=$(json_num "$work/qat.json" int8_accuracy)
qat_fake=$(json_num "$work/qat.json" fake_quant_accuracy)
echo "structured pruning to 6 filters + distillation + int8 ..." >&2
"$cli" compress "$work/f32.mco" --stages "prune:structured=0.5,criterion=l1 -> distill:T=4,alpha=0.1,epochs=3 -> quant:int8" \
  --data "$data" --quiet --json -o "$work/sd" >"$work/sd.json"
model[sd]=$work/sd.mcq
accuracy[sd]=$(grep '"accuracy":' "$work/sd.json" | tail -n 1 | sed 's/.*:[[:space:]]*//; s/,$//')

row() { # row KEY LABEL PAPER_BYTES PAPER_ACC PAPER_MS [MEASURE OPTIONS...]
  local key=$1 label=$2 paper_bytes=$3 paper_acc=$4 paper_ms=$5
  shift 5
  "$cli" measure "${model[$key]}" --target stm32f405 --clock-mhz 160 --images 100 --data "$data" --json "$@" \
    >"$work/m-$key.json"
  local flash ram insns ms mism
  flash=$(json_num "$work/m-$key.json" flash_bytes)
  ram=$(json_num "$work/m-$key.json" ram_bytes)
  insns=$(json_num "$work/m-$key.json" instructions)
  ms=$(json_num "$work/m-$key.json" latency_ms_estimate)
  mism=$(json_num "$work/m-$key.json" mismatches)
  printf "| %-26s | %8s B | %6s B | %6.2f %% | %10.0f | %8.3f ms | %s/100 | %9s B | %6s %% | %9s ms |\n" \
    "$label" "$flash" "$ram" "$(awk -v a="${accuracy[$key]}" 'BEGIN { printf "%.2f", a * 100 }')" "$insns" "$ms" \
    "$((100 - mism))" "$paper_bytes" "$paper_acc" "$paper_ms"
}

echo
echo "mnist-paper on the emulated STM32F405 (Cortex-M4F) at 160 MHz; ms are estimates from exact instruction counts"
echo "| variant                    | mcuopt Flash | RAM      | accuracy | instructions | latency     | bit-exact | paper Flash | paper acc | paper latency |"
echo "|----------------------------|--------------|----------|----------|--------------|-------------|-----------|-------------|-----------|---------------|"
row f32 "float32" "84,896" "97.95" "109.66"
row float16 "float16 weights" "44,716" "97.62" "109.63"
row int8-weights "int8 weights" "24,136" "97.12" "93.17"
row int8 "int8 weights + activations" "24,672" "97.08" "95.56"
row p50 "50 % pruned, float" "84,820" "96.81" "106.69"
row p50-int8 "50 % pruned + int8" "24,064" "96.80" "90.81"
row p50-int8 "  the same, --optimize size" "24,064" "96.80" "90.81" --optimize size
printf "| %-26s | %10s | %8s | %6.2f %% | %12s | %11s | %9s | %9s B | %6s %% | %9s ms |\n" "QAT float (fake-quant)" "-" "-" \
  "$(awk -v a="$qat_fake" 'BEGIN { printf "%.2f", a * 100 }')" "-" "-" "-" "84,896" "97.90" "109.66"
row qat "QAT int8" "25,216" "97.87" "95.45"
row sd "structured 6/12 + distill + int8" "-" "-" "-"
