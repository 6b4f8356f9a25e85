#!/usr/bin/env bash
# emit_io_types.sh - the input and output types of the emitted code (issue
# 14, item 4: mcuopt emit / measure --input-type int8|uint8|float
# --output-type int8|float) on mnist-paper trained on a tiny MNIST (300 +
# 100 images of the real set), int8:
#   1. `measure` on an emulated Cortex-M4 (stm32f405) with the model's own
#      int8 input, with raw MNIST bytes (uint8) and with the pixels as
#      floats: all 100 test images bit-identical to the host runtime in QEMU,
#      and the host's outputs (the firmware's expected vectors) are the same
#      bytes on all three paths: the same predictions;
#   2. with --output-type float the outputs are the int8 ones dequantized
#      (checked in QEMU too), with the same top-1 for every image;
#   3. the package of a uint8-in / float-out model types its input and
#      output so (NAME.h), its README says so, and its example built on the
#      host as the README says runs and equals the host runtime.
# What it leaves out: float models (tests/test_plan_io.c), other cores.
# Usage: emit_io_types.sh PATH/TO/mcuopt (from the repo root). Skipped (exit
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

. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini" || fail "mini MNIST"
"$cli" train --arch mnist-paper --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/m.mco" >/dev/null ||
  fail "train"
"$cli" quantize "$tmp/m.mco" --mode int8 --data "$tmp/mini" --no-eval -o "$tmp/m.mcq" >/dev/null || fail "quantize"

# the expected output rows of a measurement build (test_vectors.c), one line per image
expected_rows() {
  sed -n '/mco_test_expected/,/^};/p' "$1/test_vectors.c" | sed '1d;$d' | tr -d ' \n' | sed 's/},{/}\n{/g'
  echo
}

# ---- 1, 2: the three input types and the float output in QEMU -------------------
for io in int8:int8 uint8:int8 float:int8 uint8:float float:float; do
  in=${io%%:*} out=${io##*:}
  "$cli" measure "$tmp/m.mcq" --target stm32f405 --data "$tmp/mini" --images 100 --json \
    --input-type "$in" --output-type "$out" --measure-dir "$tmp/fw-$in-$out" >"$tmp/m.json" 2>"$tmp/m.err" ||
    { cat "$tmp/m.err" "$tmp/m.json"; fail "measure --input-type $in --output-type $out"; }
  grep -q '"mismatches":	0' "$tmp/m.json" && grep -q '"images":	100' "$tmp/m.json" ||
    { cat "$tmp/m.json"; fail "$in -> $out: outputs in QEMU differ from the host runtime"; }
  expected_rows "$tmp/fw-$in-$out" >"$tmp/rows-$in-$out"
  [ "$(wc -l <"$tmp/rows-$in-$out")" = 100 ] || fail "$in -> $out: no 100 expected rows in test_vectors.c"
  echo "emit_io_types: $in input, $out output: 100 of 100 outputs in QEMU equal the host runtime's"
done
cmp -s "$tmp/rows-int8-int8" "$tmp/rows-uint8-int8" || fail "raw uint8 bytes give other outputs than the int8 path"
cmp -s "$tmp/rows-int8-int8" "$tmp/rows-float-int8" || fail "float pixels give other outputs than the int8 path"
cmp -s "$tmp/rows-uint8-float" "$tmp/rows-float-float" || fail "uint8 and float inputs give other float outputs"
echo "emit_io_types: uint8 bytes and float pixels give the int8 path's outputs, byte for byte"

# The float outputs are the int8 ones dequantized: same top-1 for each image.
cat >"$tmp/top1.c" <<'C'
/* reads two files of expected rows (int8 bytes, float bytes); prints how many top-1 agree */
#include <stdio.h>
#include <string.h>
static int row(FILE *f, unsigned char *b, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned v;
        if (fscanf(f, " %*[{,]%u", &v) != 1) return 0;
        b[i] = (unsigned char)v;
    }
    return fscanf(f, "}") == 0;
}
int main(int argc, char **argv)
{
    FILE *a = fopen(argv[1], "r"), *b = fopen(argv[2], "r");
    unsigned char q[10], fb[40];
    int n = 0, same = 0;
    (void)argc;
    while (a && b && row(a, q, 10) && row(b, fb, 40)) {
        float f[10];
        memcpy(f, fb, sizeof f);
        int bq = 0, bf = 0;
        for (int i = 1; i < 10; i++) {
            if ((signed char)q[i] > (signed char)q[bq]) bq = i;
            if (f[i] > f[bf]) bf = i;
        }
        same += bq == bf;
        n++;
    }
    printf("%d %d\n", same, n);
    return 0;
}
C
cc -std=c99 -O1 -o "$tmp/top1" "$tmp/top1.c" || fail "compile top1.c"
read -r same n < <("$tmp/top1" "$tmp/rows-int8-int8" "$tmp/rows-uint8-float")
[ "$n" = 100 ] && [ "$same" = 100 ] || fail "float outputs: $same of $n top-1 equal to the int8 outputs'"
echo "emit_io_types: the float outputs have the int8 outputs' top-1 for 100 of 100 images"

# ---- 3: the package of a uint8-in / float-out model -------------------------------
"$cli" emit "$tmp/m.mcq" --name digits --input-type uint8 --output-type float -o "$tmp/pkg" >/dev/null ||
  fail "emit --input-type uint8 --output-type float"
grep -q '^typedef uint8_t digits_input_t;$' "$tmp/pkg/digits.h" && grep -q '^typedef float digits_output_t;$' "$tmp/pkg/digits.h" ||
  fail "digits.h does not type the input uint8_t and the output float"
grep -q 'here `digits_input_t` is `uint8_t`' "$tmp/pkg/README.md" || fail "README.md does not give the input type"
grep -q 'digits_run takes the raw 8-bit sample' "$tmp/pkg/README.md" || fail "README.md does not give the input recipe"
block=$(awk '/^```sh$/ {on = 1; next} /^```$/ {if (on) exit} on' "$tmp/pkg/README.md")
(cd "$tmp/pkg" && bash -e -c "$block") >"$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; fail "the README's first build command"; }
grep -q "^digits: .* outputs equal the host runtime's$" "$tmp/ex.log" || { cat "$tmp/ex.log"; fail "the example's outputs"; }
echo "emit_io_types: all checks passed"
