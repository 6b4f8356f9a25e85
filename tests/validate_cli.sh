#!/usr/bin/env bash
# validate_cli.sh - `mcuopt validate` (issue 14, item 6) on 300 real MNIST
# test images with mnist-paper trained on a tiny MNIST (300 + 100 images),
# int8, on an emulated STM32F405 (Cortex-M4F):
#   1. --data (the test split, the first 300): every output identical
#      between the host runtime and the target, the largest difference 0
#      steps, top-1 agreement with the float model (--float-model) and
#      accuracies reported, per-op instructions, --json; the same run in text;
#   2. the same images as --inputs files: a .npy uint8 array (300, 28, 28),
#      raw .u8 bytes, raw .f32 pixels (with --input-type float), and .i8
#      int8 model inputs (raw - 128, the int8 grid of MNIST's
#      normalisation): all identical on the target, and the same top-1
#      agreement with the float model as the --data run (the same inputs);
#      the float pixels (940 KB with their outputs) run in two chunks, each
#      within half the target's Flash;
#   3. a .mco MODEL is its own float model: the float code on the target
#      against the float host runtime.
# What it leaves out: bad inputs (tests/cli_errors.sh), other targets.
# Usage: validate_cli.sh PATH/TO/mcuopt (from the repo root). Skipped (exit
# 77) without MNIST or the Arm toolchain.
set -u
cli=$1
. tests/lib/skip.sh
require_mnist
require_arm_tools
require_cmd cc gcc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mnist=$(mnist_dir)
N=300

. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini" || fail "mini MNIST"
"$cli" train --arch mnist-paper --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/m.mco" >/dev/null ||
  fail "train"
"$cli" quantize "$tmp/m.mco" --mode int8 --data "$tmp/mini" --no-eval -o "$tmp/m.mcq" >/dev/null || fail "quantize"

# field NAME FILE: a number of the JSON output
field() { grep -o "\"$1\":[[:space:]]*[-0-9.e]*" "$2" | head -n 1 | grep -o '[-0-9.e]*$'; }

# ---- 1. the test split through --data ------------------------------------------------
"$cli" validate "$tmp/m.mcq" --float-model "$tmp/m.mco" --target stm32f405 --data "$mnist" --images $N --json \
  >"$tmp/data.json" 2>"$tmp/err" || { cat "$tmp/err" "$tmp/data.json"; fail "validate --data"; }
[ "$(field inputs "$tmp/data.json")" = $N ] && [ "$(field identical "$tmp/data.json")" = $N ] &&
  [ "$(field identical_values "$tmp/data.json")" = $((N * 10)) ] &&
  [ "$(field max_difference "$tmp/data.json")" = 0 ] && [ "$(field top1_host_target "$tmp/data.json")" = $N ] ||
  { cat "$tmp/data.json"; fail "--data: not every output identical between host and target"; }
top1=$(field top1_host_float "$tmp/data.json")
[ -n "$top1" ] && [ "$top1" -gt $((N / 2)) ] && [ "$top1" -le $N ] &&
  [ "$(field top1_target_float "$tmp/data.json")" = "$top1" ] ||
  { cat "$tmp/data.json"; fail "--data: no sound top-1 agreement with the float model"; }
[ -n "$(field correct_host "$tmp/data.json")" ] && [ -n "$(field correct_float "$tmp/data.json")" ] ||
  fail "--data: no accuracies for labelled inputs"
[ "$(grep -c '"kernel":' "$tmp/data.json")" = 2 ] || { cat "$tmp/data.json"; fail "--data: no per-op figures"; }
"$cli" validate "$tmp/m.mcq" --float-model "$tmp/m.mco" --target stm32f405 --data "$mnist" --images $N \
  >"$tmp/data.txt" 2>"$tmp/err" || { cat "$tmp/err"; fail "validate --data (text)"; }
grep -q "host runtime vs target: $N of $N identical (100.00 %)" "$tmp/data.txt" &&
  grep -q "top-1 vs float model:   host $top1 of $N" "$tmp/data.txt" ||
  { cat "$tmp/data.txt"; fail "the text report"; }
echo "validate_cli: --data: $N of $N identical on the target, top-1 = float model for $top1 of $N"

# ---- 2. the same images as files ------------------------------------------------------
images=$mnist/t10k-images-idx3-ubyte.gz
[ -e "$images" ] || images=${images%.gz}
(set +o pipefail; zcat -f "$images" | tail -c +17 | head -c $((N * 784))) >"$tmp/x.u8"
[ "$(stat -c %s "$tmp/x.u8")" = $((N * 784)) ] || fail "could not cut $N test images"
header="{'descr': '|u1', 'fortran_order': False, 'shape': ($N, 28, 28), }"
while [ $(((10 + ${#header} + 1) % 64)) != 0 ]; do header="$header "; done
{ printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(((${#header} + 1) % 256)))\\x$(printf %02x $(((${#header} + 1) / 256)))";
  printf '%s\n' "$header"; cat "$tmp/x.u8"; } >"$tmp/x.npy"
cat >"$tmp/conv.c" <<'C'
/* x.u8 -> x.f32 (the pixels as float32) and x.i8 (raw - 128 as int8) */
#include <stdio.h>
#include <stdint.h>
int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb"), *f = fopen(argv[2], "wb"), *q = fopen(argv[3], "wb");
    int c;
    (void)argc;
    if (!in || !f || !q) return 1;
    while ((c = fgetc(in)) != EOF) {
        float v = (float)c;
        int8_t s = (int8_t)(c - 128);
        fwrite(&v, sizeof v, 1, f);
        fwrite(&s, 1, 1, q);
    }
    return fclose(f) != 0 || fclose(q) != 0;
}
C
cc -std=c99 -O1 -o "$tmp/conv" "$tmp/conv.c" && "$tmp/conv" "$tmp/x.u8" "$tmp/x.f32" "$tmp/x.i8" || fail "conv.c"
for file in x.npy x.u8 x.f32 x.i8; do
  extra=()
  [ "$file" = x.f32 ] && extra=(--input-type float)
  "$cli" validate "$tmp/m.mcq" --float-model "$tmp/m.mco" --target stm32f405 --inputs "$tmp/$file" "${extra[@]}" --json \
    >"$tmp/f.json" 2>"$tmp/err" || { cat "$tmp/err" "$tmp/f.json"; fail "validate --inputs $file"; }
  [ "$(field inputs "$tmp/f.json")" = $N ] && [ "$(field identical "$tmp/f.json")" = $N ] &&
    [ "$(field max_difference "$tmp/f.json")" = 0 ] || { cat "$tmp/f.json"; fail "--inputs $file: outputs differ"; }
  got=$(field top1_host_float "$tmp/f.json")
  [ "$got" = "$top1" ] || { cat "$tmp/f.json"; fail "--inputs $file: top-1 agreement $got, with --data $top1"; }
  [ -z "$(field correct_host "$tmp/f.json")" ] || fail "--inputs $file: accuracies without labels"
  echo "validate_cli: --inputs $file: $N of $N identical, top-1 = float model for $got"
done

# ---- 3. a float model -------------------------------------------------------------------
"$cli" validate "$tmp/m.mco" --target stm32f405 --data "$mnist" --images 50 --json >"$tmp/float.json" 2>"$tmp/err" ||
  { cat "$tmp/err" "$tmp/float.json"; fail "validate m.mco"; }
[ "$(field identical "$tmp/float.json")" = 50 ] && [ "$(field top1_host_float "$tmp/float.json")" = 50 ] &&
  grep -q '"type":[[:space:]]*"float"' "$tmp/float.json" || { cat "$tmp/float.json"; fail "the float model"; }
echo "validate_cli: all checks passed"
