#!/usr/bin/env bash
# compilers_on_target.sh - the emitted code computes the host runtime's
# outputs whatever compiler and optimisation level builds it: int8
# mnist-paper (the conv3x3 and Dense assembly loops under GCC, their C paths
# under Clang and GCC -O0) and int8 lenet5 (generic conv + pool, Dense
# layers of 400, 120, 84 and 10 units), each trained for a second on 300
# MNIST images, are run by `mcuopt measure --cc gcc|clang -O0|-O2` on
# an emulated Cortex-M4F (stm32f405) and Cortex-M0+ (samd21: lenet5 needs
# its 256 KB of Flash); a few test images per build must give outputs
# bit-identical to the host (measure fails otherwise). Checks too that each
# build is the one asked for (the reported build, and fewer instructions at
# -O2 than at -O0).
# gcc -O2 over 100 images is mnist_paper_on_target.sh's job.
# Usage: compilers_on_target.sh PATH/TO/mcuopt (from the repo root).
# Skipped (exit 77, tests/lib/skip.sh) when a tool (arm-none-eabi-gcc,
# clang, qemu-system-arm, python3 to read the JSON) or MNIST is missing.
set -euo pipefail
cli=$1
. "$(dirname "$0")/lib/skip.sh"
require_arm_tools
require_cmd clang clang
require_cmd python3 python3
require_mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_mnist "$tmp/mini"

images=5
for arch in mnist-paper lenet5; do
  "$cli" train --arch "$arch" --epochs 1 --data "$tmp/mini" --val 0 --quiet -o "$tmp/$arch.mco" >/dev/null
  "$cli" quantize "$tmp/$arch.mco" -o "$tmp/$arch.mcq" --data "$tmp/mini" --calibration-samples 100 >/dev/null
  for target in stm32f405 samd21; do
    for cc in gcc clang; do
      for opt in -O0 -O2; do
        json="$tmp/$arch-$target-$cc$opt.json"
        if ! "$cli" measure "$tmp/$arch.mcq" --target "$target" --images $images --data "$tmp/mini" \
             --cc "$cc" "$opt" --json >"$json" 2>"$tmp/err"; then
          cat "$tmp/err" "$json" >&2
          echo "FAIL: $arch on $target built with $cc $opt" >&2
          exit 1
        fi
        # the build, images, mismatches and instructions of the whole run
        read -r build n bad insns < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["build"].replace(" ", "_"), d["images"], d["mismatches"], d["instructions"])' "$json")
        if [ "$build" != "${cc}_$opt" ] || [ "$n" != "$images" ] || [ "$bad" != 0 ]; then
          cat "$json" >&2
          echo "FAIL: $arch on $target: built with $build (want $cc $opt), $bad of $n images differ" >&2
          exit 1
        fi
        echo "$arch on $target, $cc $opt: $images of $images outputs bit-identical, $insns instructions"
        echo "$insns" >"$tmp/insns-$arch-$target-$cc$opt"
      done
      o0=$(cat "$tmp/insns-$arch-$target-$cc-O0") o2=$(cat "$tmp/insns-$arch-$target-$cc-O2")
      awk -v a="$o0" -v b="$o2" 'BEGIN { exit !(b < a) }' ||
        { echo "FAIL: $arch on $target with $cc: -O2 ($o2) not below -O0 ($o0) instructions" >&2; exit 1; }
    done
  done
done
echo "compilers_on_target: all checks passed"
