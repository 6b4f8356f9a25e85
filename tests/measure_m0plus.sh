#!/usr/bin/env bash
# measure_m0plus.sh - `mcuopt measure` on a Cortex-M0+ profile (samd21: 256 KB
# Flash, 32 KB RAM) with models QEMU's microbit (16 KB of RAM) could not run:
#   - one needing about 26 KB of RAM is measured, on mps2-an385, with every
#     output bit-identical to the host runtime, every executed instruction
#     ARMv6-M (the note says it was checked) and the RAM it reports between
#     16 and 32 KB;
#   - one whose activation arena alone is about 34 KB is refused with one
#     line naming the region and the excess, before anything is built: an
#     arm-none-eabi-gcc and a qemu-system-arm that record being called are
#     put first on PATH for that run, and must not be called.
# Models: two convolutions and a Dense layer, trained one epoch on a tiny
# MNIST subset and quantized to int8. Skipped (exit 77) without MNIST or the
# Arm toolchain. Usage: measure_m0plus.sh PATH/TO/mcuopt (from the repo root)
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"

# model NAME FILTERS: conv 3x3 x FILTERS (26x26xFILTERS int8 activations),
# conv 3x3 x4, Dense 10.
model() {
  printf 'input 28 28 1\nconv2d filters=%d kernel=3\nrelu\nconv2d filters=4 kernel=3\nrelu\nflatten\ndense units=classes\n' \
    "$2" >"$tmp/$1.arch"
  "$cli" train --arch "$tmp/$1.arch" --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/$1.mco" >/dev/null
  "$cli" quantize "$tmp/$1.mco" -o "$tmp/$1.mcq" --mode int8 --data "$tmp/mini" >/dev/null
}
model fits 36
model too_big 48

# json_number KEY FILE: the number after "KEY": in mcuopt's JSON.
json_number() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([0-9.]*\),*$/\1/p" "$2"; }

"$cli" measure "$tmp/fits.mcq" --target samd21 --images 5 --data "$tmp/mini" --json >"$tmp/fits.json"
cat "$tmp/fits.json"
grep -q '"qemu_machine":[[:space:]]*"mps2-an385"' "$tmp/fits.json" || { echo "FAIL: not run on mps2-an385" >&2; exit 1; }
[ "$(json_number images "$tmp/fits.json")" = 5 ] || { echo "FAIL: not 5 images" >&2; exit 1; }
[ "$(json_number mismatches "$tmp/fits.json")" = 0 ] || { echo "FAIL: outputs differ from the host" >&2; exit 1; }
grep -q '"note":.*every instruction that ran is ARMv6-M (checked)' "$tmp/fits.json" ||
  { echo "FAIL: no ARMv6-M check in the note" >&2; exit 1; }
ram=$(json_number ram_bytes "$tmp/fits.json")
[ "$ram" -gt 16384 ] && [ "$ram" -le 32768 ] || { echo "FAIL: RAM $ram is not between 16 and 32 KB" >&2; exit 1; }
echo "samd21: 26 KB-class model measured on mps2-an385 ($ram bytes of RAM), 5 of 5 outputs bit-identical"

mkdir "$tmp/spy"
for tool in arm-none-eabi-gcc qemu-system-arm; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 1\n' "$tool" "$tmp/spy" >"$tmp/spy/$tool"
  chmod +x "$tmp/spy/$tool"
done
status=0
PATH="$tmp/spy:$PATH" "$cli" measure "$tmp/too_big.mcq" --target samd21 --images 5 --data "$tmp/mini" \
  >"$tmp/out" 2>"$tmp/err" || status=$?
cat "$tmp/err"
[ "$status" = 1 ] || { echo "FAIL: exit status $status, expected 1" >&2; exit 1; }
[ "$(wc -l <"$tmp/err")" = 1 ] || { echo "FAIL: expected one error line" >&2; exit 1; }
line='^mcuopt: error: the model does not fit samd21: RAM needs at least ([0-9]+) bytes \(the activation arena alone\), ([0-9]+) more than its 32 KB$'
[[ "$(cat "$tmp/err")" =~ $line ]] && [ $((BASH_REMATCH[1] - 32768)) = "${BASH_REMATCH[2]}" ] ||
  { echo "FAIL: not the does-not-fit line naming RAM and the excess" >&2; exit 1; }
[ ! -e "$tmp/spy/called" ] || { echo "FAIL: a tool ran before the refusal:" >&2; cat "$tmp/spy/called" >&2; exit 1; }
echo "samd21: the 34 KB model refused before any build"
echo "measure_m0plus: all checks passed"
