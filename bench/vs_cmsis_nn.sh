#!/usr/bin/env bash
# vs_cmsis_nn.sh - mcuopt's emitted code against CMSIS-NN, layer by layer, on
# the emulated Cortex-M4, M7 and M0+. For each architecture (the built-in
# mnist-paper, lenet5 and MLPerf Tiny's ds-cnn, resnet8, mobilenet-v1-0.25
# (96x96) and ad-autoencoder):
#   1. an int8 model with random weights, calibrated on random inputs
#      (bench/vs_cmsis_nn.c `model`);
#   2. random inputs, mcuopt's host outputs, and the CMSIS-NN peer program:
#      the same layers as the CMSIS-NN calls TFLite Micro makes, with the
#      same int8 weights, biases, multipliers, shifts and offsets (`emit`);
#   3. the peer program built for the host from the CMSIS-NN tree (plain C
#      path): its outputs, which must equal mcuopt's host outputs (both are
#      TFLite's int8 arithmetic), and its scratch needs per core class;
#   4. per core: both sides built with the same arm-none-eabi-gcc -O2 flags
#      into the same harness, run on the same QEMU machine with the same
#      instruction-count plugin and cycle estimator (mco_target_measure),
#      every output checked bit-exact against its host build; exact
#      instructions and estimated cycles per op from the layer marks (`measure`);
#   5. the tables: per model and core, cycles, cycles/MAC, Flash (weights +
#      code) and RAM (arena + scratch + stack) of both and the ratios; per
#      layer kind, cycles of both (`report`).
# The cores are the resource model's 4 MB profiles (class:m4f on mps2-an386,
# class:m7 on mps2-an500, class:m0plus: Cortex-M0+ code on the Cortex-M3
# machine mps2-an385, whose 4 MB of RAM hold resnet8; it executes the same
# ARMv6-M instructions).
#
# Usage: bench/vs_cmsis_nn.sh [CMSIS_NN_DIR] [BUILD_DIR]   (from anywhere)
#   CMSIS_NN_DIR  default ../shared/peers/cmsis-nn (compiled from there, never copied)
#   BUILD_DIR     default build
# Environment: ARCHS (names or .arch files), CORES (default "m4f m7 m0plus"),
#   INPUTS (inputs per run, default 2), OUT (keep the work directory there).
# Prints the markdown tables on stdout, progress on stderr; exits non-zero if
# a step fails or any output is not bit-exact.
set -euo pipefail
cd "$(dirname "$0")/.."
cmsis=$(cd "${1:-../shared/peers/cmsis-nn}" && pwd)
build=${2:-build}
archs=${ARCHS:-"mnist-paper lenet5 ds-cnn resnet8 mobilenet-v1-0.25 ad-autoencoder"}
cores=${CORES:-"m4f m7 m0plus"}
inputs=${INPUTS:-2}

[ -f "$cmsis/Include/arm_nnfunctions.h" ] || { echo "vs_cmsis_nn: $cmsis is not a CMSIS-NN tree" >&2; exit 2; }
bash scripts/build.sh "$build" >/dev/null
helper=$build/vs_cmsis_nn
if [ -n "${OUT:-}" ]; then
  work=$OUT
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
"$helper" sources "$cmsis" >"$work/sources.txt"
mapfile -t sources <"$work/sources.txt"

results=()
for arch in $archs; do
  name=$(basename "$arch" .arch)
  dir=$work/$name
  mkdir -p "$dir"
  echo "$name: model, inputs, CMSIS-NN peer program, host build ..." >&2
  "$helper" model "$arch" "$dir/model.mcq" 1
  "$helper" emit "$dir/model.mcq" "$dir" "$inputs"
  gcc -O2 -std=gnu11 -DCMSIS_HOST -DCMSIS_SCRATCH_BYTES=16777216 -I"$cmsis/Include" -I"$dir/cmsis" \
    "$dir/host_main.c" "$dir/cmsis/model.c" "${sources[@]}" -o "$dir/host"
  "$dir/host" run "$dir/inputs.bin" "$dir/cmsis_host.bin"
  if ! cmp -s "$dir/cmsis_host.bin" "$dir/mcuopt_host.bin"; then
    echo "$name: NOTE: the CMSIS-NN host build's outputs differ from mcuopt's host outputs" >&2
  fi
  read -r scratch_dsp scratch_plain < <("$dir/host" scratch)
  for core in $cores; do
    case $core in
      m0plus | m3) scratch=$scratch_plain ;;   # no DSP extension: the plain C kernels
      *) scratch=$scratch_dsp ;;
    esac
    echo "$name on $core: measuring both sides ..." >&2
    "$helper" measure "$dir/model.mcq" "$dir" "class:$core" "$cmsis" "$scratch" >"$work/$name-$core.json"
    results+=("$work/$name-$core.json")
  done
done

echo "# mcuopt vs CMSIS-NN ($(date -u +%Y-%m-%d), $(uname -m), $(arm-none-eabi-gcc --version | head -1)," \
  "$(qemu-system-arm --version | head -1 | sed 's/ (.*//'), CMSIS-NN $(sed -n 's/.*\$Revision: *\(V[0-9.]*\).*/\1/p' \
  "$cmsis/Include/arm_nnfunctions.h"), $inputs inputs per run)"
echo
"$helper" report "${results[@]}"
status=0
for r in "${results[@]}"; do
  grep -q '"bit_exact":	false' "$r" && { echo "vs_cmsis_nn: $r: outputs not bit-exact" >&2; status=1; }
done
exit $status
