#!/usr/bin/env bash
# compilers_matrix.sh - the whole compiler matrix of issue 14 item 5: the
# emitted code of int8 models built by arm-none-eabi-gcc and clang at -O0,
# -Og, -Os, -O2 and -O3 for a Cortex-M0+, M3, M4F, M7 and M33 board, each
# run on the emulator by `mcuopt measure`, which fails unless every output
# equals the host runtime's. Prints one row per build: instructions per
# inference (exact) and Flash. CI runs a subset (tests/compilers_on_target.sh:
# gcc and clang at -O0 and -O2 on the M4F and the M0+).
#
# The models (tests/lib/bench_models.sh): mnist-paper trained one epoch on
# 300 MNIST images and ds-cnn with random weights, run on random 49x10
# inputs. bench/package_matrix.sh builds the same models' emitted packages
# through their own CMake and make files.
#
# Usage: bench/compilers_matrix.sh [BUILD_DIR]   (from anywhere; default build)
# Environment: TARGETS (default "samd21 stm32f103 stm32f405 stm32h743
#   lpc55s69"), LEVELS (default "-O0 -Og -Os -O2 -O3"), IMAGES (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cli=$build/mcuopt
targets=${TARGETS:-"samd21 stm32f103 stm32f405 stm32h743 lpc55s69"}
levels=${LEVELS:-"-O0 -Og -Os -O2 -O3"}
images=${IMAGES:-3}
bash scripts/build.sh "$build" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/lib/bench_models.sh
bench_models "$cli" "$build" "$work"

echo "# emitted code on the emulator, every compiler and level ($(date -u +%Y-%m-%dT%H:%MZ), $(arm-none-eabi-gcc --version | head -1), $(clang --version | head -1), $images inputs per build, all bit-exact against the host runtime or the script stops)"
echo
echo "| model | target (core) | compiler | level | instructions per inference | Flash (B) |"
echo "|---|---|---|---|---:|---:|"
for model in mnist-paper ds-cnn; do
  case $model in
    mnist-paper) data=$work/mini ;;
    *) data=$work/kws ;;
  esac
  for target in $targets; do
    for cc in gcc clang; do
      for level in $levels; do
        json=$work/out.json
        if ! "$cli" measure "$work/$model.mcq" --target "$target" --images "$images" --data "$data" \
             --cc "$cc" "$level" --json >"$json" 2>"$work/err"; then
          if grep -q "does not fit" "$work/err"; then
            echo "| $model | $target | $cc | $level | (does not fit: $(head -c 120 "$work/err")) | |"
            continue
          fi
          cat "$work/err" >&2
          echo "compilers_matrix: $model on $target built with $cc $level failed" >&2
          exit 1
        fi
        /usr/bin/python3 - "$json" "$model" "$target" "$cc" "$level" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["bit_exact"] and r["mismatches"] == 0, "not bit-exact"
core = r.get("core", "")
print(f"| {sys.argv[2]} | {sys.argv[3]} ({core}) | {sys.argv[4]} | {sys.argv[5]} | {r['instructions']:,.0f} | {r['flash_bytes']:,} |")
PY
      done
    done
  done
done
