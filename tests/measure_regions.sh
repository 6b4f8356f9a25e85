#!/usr/bin/env bash
# measure_regions.sh - RAM regions on the stm32f405 (SRAM 128 KB + CCM 64 KB,
# 192 KB in all) from estimate to the emulator:
#   - a model whose activation arena is about 150 KB (over the SRAM, under
#     the total) is refused: `mcuopt estimate` says it does not fit and
#     names the regions, `mcuopt measure` fails with one line naming them
#     before anything is built;
#   - a model of about 113 KB is measured on netduinoplus2 with the layout
#     printed: both in SRAM, the emulator's regions SRAM 128 KB at
#     0x20000000 and CCM 64 KB at 0x20020000, every output bit-identical;
#   - on a copy of the profile that prefers the CCM (listed first, so laid
#     out first: CCM at 0x20000000, SRAM at 0x20010000), a smaller model's
#     arena goes to the CCM: its model_arena symbol in the firmware lies in
#     0x20000000..0x2000ffff (the SRAM, default region, starts after it) and
#     its outputs are still bit-identical. The stack stays in the firmware's
#     default region (SRAM), which the layout line says.
# Skipped (exit 77) without MNIST or the Arm toolchain.
# Usage: measure_regions.sh PATH/TO/mcuopt (from the repo root)
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"
fail() { echo "FAIL: $*" >&2; exit 1; }

# model NAME FILTERS: conv 3x3 x FILTERS (26x26xFILTERS int8 activations), conv
# 3x3 x4, Dense 10, trained one epoch on the tiny set and quantized to int8.
model() {
  printf 'input 28 28 1\nconv2d filters=%d kernel=3\nrelu\nconv2d filters=4 kernel=3\nrelu\nflatten\ndense units=classes\n' \
    "$2" >"$tmp/$1.arch"
  "$cli" train --arch "$tmp/$1.arch" --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/$1.mco" >/dev/null
  "$cli" quantize "$tmp/$1.mco" -o "$tmp/$1.mcq" --mode int8 --data "$tmp/mini" >/dev/null
}
model big 200     # arena 153,704 B
model fits 150    # 115,872 B
model small 40    # 32,584 B

regions='SRAM 128 KB, CCM 64 KB (192 KB in all)'

# estimate: not placed, naming the regions
"$cli" estimate "$tmp/big.mcq" --target stm32f405 >"$tmp/est.txt"
cat "$tmp/est.txt"
grep -q '^RAM: .*DOES NOT FIT' "$tmp/est.txt" || fail "estimate does not say the RAM does not fit"
grep -q "^regions: not placed: the arena and static data ([0-9,]* B) fit no single RAM region of stm32f405: $regions\$" \
  "$tmp/est.txt" || fail "estimate does not name the regions"
"$cli" estimate "$tmp/big.mcq" --target stm32f405 --json >"$tmp/est.json"
grep -q '"fits_ram":[[:space:]]*false' "$tmp/est.json" || fail "estimate --json fits_ram is not false"
grep -q '"name":[[:space:]]*"CCM"' "$tmp/est.json" || fail "estimate --json has no CCM region"

# measure: refused with one line, nothing built
status=0
"$cli" measure "$tmp/big.mcq" --target stm32f405 --images 3 --data "$tmp/mini" >"$tmp/out" 2>"$tmp/err" || status=$?
cat "$tmp/err"
[ "$status" = 1 ] || fail "measure exit status $status, expected 1"
[ "$(wc -l <"$tmp/err")" = 1 ] || fail "measure: expected one error line"
grep -q "^mcuopt: error: the model does not fit stm32f405: the arena and static data ([0-9,]* B) fit no single RAM region of stm32f405: $regions\$" \
  "$tmp/err" || fail "measure's error does not name the regions"

# a model that fits: measured, with the regions and their use printed
"$cli" measure "$tmp/fits.mcq" --target stm32f405 --images 3 --data "$tmp/mini" >"$tmp/fits.txt"
cat "$tmp/fits.txt"
grep -q '^outputs: *3 of 3 bit-identical' "$tmp/fits.txt" || fail "fits: outputs differ"
grep -q '^RAM regions: *SRAM [0-9,]* of 131,072 B (static + stack), CCM 0 of 65,536 B (unused)$' "$tmp/fits.txt" ||
  fail "fits: no per-region use"
grep -q '^emulated: *SRAM 128 KB at 0x20000000, CCM 64 KB at 0x20020000; the arena in SRAM, the stack in SRAM' \
  "$tmp/fits.txt" || fail "fits: no emulated layout"

# a profile that prefers the CCM: the small model's arena goes there
python3 - targets/stm32f405.json "$tmp/ccm-first.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "f405-ccm-first"
p["ram_regions"].reverse()
json.dump(p, open(sys.argv[2], "w"), indent=1)
EOF
"$cli" measure "$tmp/small.mcq" --target "$tmp/ccm-first.json" --images 3 --data "$tmp/mini" \
  --measure-dir "$tmp/build" >"$tmp/small.txt"
cat "$tmp/small.txt"
grep -q '^outputs: *3 of 3 bit-identical' "$tmp/small.txt" || fail "small: outputs differ"
grep -q '^RAM regions: *CCM [0-9,]* of 65,536 B (static + stack), SRAM 0 of 131,072 B (unused)$' "$tmp/small.txt" ||
  fail "small: the static RAM is not in the CCM"
grep -q '^emulated: *CCM 64 KB at 0x20000000, SRAM 128 KB at 0x20010000; the arena in CCM, the stack in SRAM' \
  "$tmp/small.txt" || fail "small: no emulated layout"
addr=$(arm-none-eabi-nm "$tmp/build/fw.elf" | sed -n 's/^\([0-9a-f]*\) [bBdD] model_arena$/\1/p')
[ -n "$addr" ] || fail "no model_arena symbol in the firmware"
[ $((16#$addr)) -ge $((16#20000000)) ] && [ $((16#$addr)) -lt $((16#20010000)) ] ||
  fail "model_arena at 0x$addr, not in the CCM (0x20000000..0x2000ffff)"
echo "small: model_arena at 0x$addr, in the emulated CCM"
echo "stm32f405 regions: over-SRAM arena refused by estimate and measure; fitting models measured with the layout"
