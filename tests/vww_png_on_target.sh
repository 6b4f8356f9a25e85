#!/usr/bin/env bash
# vww_png_on_target.sh - visual wake words from a PNG folder to measured C
# code on an emulated Cortex-M7: tests/lib/draw_vww_set.py draws 200 96x96
# RGB images (person / no_person, Keras' image_dataset_from_directory
# layout; about a fifth fall in the test split by mcuopt's path hash), then
#   - `mcuopt train --arch mobilenet-v1-0.25 --data DIR` reads the folder as
#     an image folder (2 classes named by the sub-directories) and trains
#     3 epochs;
#   - `quantize` to int8 (calibrated on the folder), `emit` a C package;
#   - `measure --target stm32h743` (Cortex-M7): every output bit-identical
#     to the host runtime, and the measured Flash, RAM, instructions and
#     latency printed;
#   - a corrupt PNG dropped into the folder stops training with one line
#     naming it.
# The accuracy the model reaches on a larger set of these images is in
# docs/benchmarks.md ("Visual wake words from a PNG folder"); 3 epochs on
# 170 training images (30 test) check the path, not the accuracy.
# Usage: vww_png_on_target.sh PATH/TO/mcuopt (from the repo root). Skipped
# (77) without the Arm toolchain, QEMU, or /usr/bin/python3 with numpy + PIL.
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_arm_tools
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy, PIL" 2>/dev/null ||
  skip "/usr/bin/python3 lacks numpy or PIL (Debian packages python3-numpy, python3-pil)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# json_number FILE KEY: the number after "KEY": in cJSON's output.
json_number() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([-0-9.e+]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

set_dir=$tmp/vww
/usr/bin/python3 tests/lib/draw_vww_set.py "$set_dir" 200 1
[ "$(find "$set_dir" -name '*.png' | wc -l)" = 200 ] || fail "not 200 PNG files drawn"

"$cli" train --arch mobilenet-v1-0.25 --data "$set_dir" --epochs 3 --val 0 --seed 1 --threads 2 \
  -o "$tmp/vww.mco" >"$tmp/train.txt" 2>&1 || { cat "$tmp/train.txt"; fail "train"; }
cat "$tmp/train.txt"
grep -q "training mobilenet-v1-0.25 on vww: 170 images" "$tmp/train.txt" ||
  fail "not trained on the folder's training split"
grep -Eq "test accuracy [0-9.]+ % \([0-9]+ of 30\)" "$tmp/train.txt" || fail "no test accuracy on the test split"
"$cli" info "$tmp/vww.mco" >"$tmp/info.txt" || fail "info"
grep -q "input 96x96x3, 2 classes" "$tmp/info.txt" || fail "the model's input is not 96x96x3, 2 classes"

"$cli" quantize "$tmp/vww.mco" -o "$tmp/vww.mcq" --data "$set_dir" --calibration-samples 64 >"$tmp/quantize.txt" ||
  { cat "$tmp/quantize.txt"; fail "quantize"; }
grep -E "accuracy" "$tmp/quantize.txt" || true
"$cli" emit "$tmp/vww.mcq" -o "$tmp/pkg" --name vww >"$tmp/emit.txt" || fail "emit"
[ -f "$tmp/pkg/vww.c" ] && [ -f "$tmp/pkg/vww.h" ] || fail "emit wrote no vww.c / vww.h"

"$cli" measure "$tmp/vww.mcq" --target stm32h743 --data "$set_dir" --images 2 --json >"$tmp/m.json" ||
  { cat "$tmp/m.json"; fail "measure on stm32h743"; }
grep -q '"mismatches":	0' "$tmp/m.json" || { cat "$tmp/m.json"; fail "outputs differ on the Cortex-M7"; }
grep -q '"images":	2' "$tmp/m.json" || { cat "$tmp/m.json"; fail "not 2 images measured"; }
grep -q "cortex-m7" "$tmp/m.json" || fail "did not run on a Cortex-M7"
flash=$(json_number "$tmp/m.json" flash_bytes) ram=$(json_number "$tmp/m.json" ram_bytes)
insns=$(json_number "$tmp/m.json" instructions) ms=$(json_number "$tmp/m.json" latency_ms_estimate)
mhz=$(json_number "$tmp/m.json" clock_mhz)
[ -n "$flash" ] && [ -n "$ram" ] && [ -n "$insns" ] && [ -n "$ms" ] || { cat "$tmp/m.json"; fail "no Flash, RAM or latency"; }
awk -v f="$flash" -v r="$ram" 'BEGIN { exit !(f > 0 && r > 0 && f <= 2048 * 1024 && r <= 1024 * 1024) }' ||
  fail "Flash $flash B / RAM $ram B do not fit the STM32H743"
echo "mobilenet-v1-0.25 int8 on stm32h743 (Cortex-M7): 2 of 2 outputs bit-identical; Flash $flash B, RAM $ram B," \
  "$insns instructions per inference, $(printf %.2f "$ms") ms at $mhz MHz (estimated from the exact count)"

# a corrupt PNG in the folder: one line naming it, no model written
head -c 300 "$set_dir/person/$(ls "$set_dir/person" | head -n 1)" >"$set_dir/no_person/broken.png"
if "$cli" train --arch mobilenet-v1-0.25 --data "$set_dir" --epochs 1 --quiet -o "$tmp/bad.mco" >"$tmp/out" 2>"$tmp/err"; then
  fail "training on a folder with a truncated PNG succeeded"
fi
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^mcuopt: .*no_person/broken.png" "$tmp/err" ||
  { cat "$tmp/err"; fail "a truncated PNG did not give one line naming it"; }
[ ! -e "$tmp/bad.mco" ] || fail "a model was written after an error"
echo "vww_png_on_target: all checks passed"
