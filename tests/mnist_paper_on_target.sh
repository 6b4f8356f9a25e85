#!/usr/bin/env bash
# mnist_paper_on_target.sh - the whole pipeline on real MNIST: `mcuopt run`
# trains mnist-paper (1 epoch here, to keep the suite quick), quantizes it to
# int8, emits C and runs it on an emulated STM32F405 (Cortex-M4F); then the
# same emitted model runs on an emulated Cortex-M0+ part. On both, all 100
# test images must give outputs bit-identical to the host runtime, or this
# fails; `measure --json` must give the figures of both ops, write the
# package (--code-dir) with the measured stack in model.h and keep the
# emulator build (fw.elf) in --measure-dir, not in the package. Skipped (exit
# 77) without MNIST or the Arm toolchain.
# Usage: mnist_paper_on_target.sh PATH/TO/mcuopt (from the repo root)
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_mnist
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$(mnist_dir)

"$cli" run --epochs 1 --data "$data" --images 100 --quiet -o "$tmp/out" >"$tmp/run.txt"
cat "$tmp/run.txt"
grep -q "100 of 100 outputs bit-identical" "$tmp/run.txt"

for target in stm32f405 cortex-m0plus-32k; do
  "$cli" measure "$tmp/out/model-int8.mcq" --target "$target" --images 100 --data "$data" --json \
    --code-dir "$tmp/code-$target" --measure-dir "$tmp/fw-$target" >"$tmp/m.json"
  # the package gets the measured stack; the emulator build stays in --measure-dir
  grep -Eq '^#define MODEL_STACK_MEASURED [1-9][0-9]*$' "$tmp/code-$target/model.h" ||
    { echo "FAIL: $target: no measured stack in model.h" >&2; exit 1; }
  [ -f "$tmp/fw-$target/fw.elf" ] || { ls -R "$tmp/fw-$target"; echo "FAIL: $target: no fw.elf in --measure-dir" >&2; exit 1; }
  leftovers=$(cd "$tmp/code-$target" && find . -name '*.elf' -o -name '*.so' -o -name '*.o' -o -name '*.log' -o -name 'counts*')
  [ -z "$leftovers" ] || { echo "FAIL: $target: emulator files in the package: $leftovers" >&2; exit 1; }
  grep -q '"mismatches":	0' "$tmp/m.json" || { cat "$tmp/m.json"; echo "FAIL: $target mismatches" >&2; exit 1; }
  grep -q '"images":	100' "$tmp/m.json" || { cat "$tmp/m.json"; exit 1; }
  # per-op figures: one entry per op of the plan (conv + pool fused, dense)
  [ "$(grep -c '"kernel":' "$tmp/m.json")" = 2 ] && grep -q '"overhead_instructions"' "$tmp/m.json" ||
    { cat "$tmp/m.json"; echo "FAIL: $target: no per-op figures" >&2; exit 1; }
  echo "$target: 100 of 100 outputs bit-identical"
done
echo "mnist_paper_on_target: all checks passed"
