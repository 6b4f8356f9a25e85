#!/bin/bash
# codegen_compile.sh - the emitted C really builds and computes what the host
# computes: for an int8, a float, a float16 and an int8-weights-only model
# (mnist-paper with random weights) `mcuopt emit` writes a directory plus
# test vectors (inputs and the host plan's exact outputs); the package
# (model.c and mcuopt_runtime/) is compiled with the host gcc (-std=c99 -Wall -Wextra -Wconversion -Werror)
# and a small main that runs model_run on every input and compares the
# output bytes; then it is cross-compiled for Cortex-M0+, M3, M4 and M7 with
# the same warnings. resnet8 and ds-cnn-s (random weights) are compiled and
# compared on the host only. Without arm-none-eabi-gcc the host checks run
# and the test then ends as skipped (exit 77): a partial run is not a pass.
# Usage: codegen_compile.sh MCUOPT_CLI   (cwd: repository root)
set -u
CLI=${1:?usage: codegen_compile.sh MCUOPT_CLI}
. "$(dirname "$0")/lib/skip.sh"
have_arm_gcc=0
command -v arm-none-eabi-gcc > /dev/null && have_arm_gcc=1
WORK=$(mktemp -d /tmp/mco-codegen-compile-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
WARN="-std=c99 -Wall -Wextra -Wconversion -Werror -ffp-contract=off"

cat > "$WORK/check_main.c" <<'MAIN'
/* Runs model_run on the test vectors and compares every output byte. */
#include <stdio.h>
#include <string.h>
#include "model.h"
#include "vectors.h"
int main(void)
{
    int bad = 0, i;
    for (i = 0; i < TV_N; i++) {
        model_input_t in[MODEL_INPUT_SIZE];
        model_output_t out[MODEL_OUTPUT_SIZE];
        memcpy(in, tv_inputs[i], sizeof in);
        if (model_run(in, out) != 0) { printf("input %d: model_run failed\n", i); bad++; continue; }
        if (sizeof out != TV_OUTPUT_BYTES || memcmp(out, tv_expected[i], sizeof out) != 0) {
            printf("input %d: output differs from the host plan\n", i);
            bad++;
        }
    }
    printf("%d of %d outputs identical\n", TV_N - bad, TV_N);
    return bad != 0 || TV_N < 1;   /* no vectors compares nothing: a failure */
}
MAIN

for format in int8 f32 f16 int8w; do
    dir="$WORK/$format"
    if ! "$CLI" emit --random-arch mnist-paper --random-format "$format" -o "$dir" \
            --test-vectors "$WORK/vectors_$format.h" > "$WORK/emit_$format.log" 2>&1; then
        echo "FAIL: emit $format:"; cat "$WORK/emit_$format.log"; FAILED=1; continue
    fi
    cp "$WORK/vectors_$format.h" "$dir/../vectors.h"
    if ! gcc $WARN -O2 -I"$dir" -I"$dir/mcuopt_runtime" -I"$WORK" "$dir"/*.c "$dir"/mcuopt_runtime/*.c \
            "$WORK/check_main.c" -o "$WORK/check_$format" > "$WORK/host_$format.log" 2>&1; then
        echo "FAIL: host compile of $format:"; head -20 "$WORK/host_$format.log"; FAILED=1; continue
    fi
    if ! "$WORK/check_$format"; then echo "FAIL: $format outputs differ"; FAILED=1; fi
    # the package's example: built with the same warnings, its outputs equal the host's
    if ! gcc $WARN -pedantic -O2 -I"$dir" -I"$dir/mcuopt_runtime" "$dir/example/main.c" "$dir"/*.c \
            "$dir"/mcuopt_runtime/*.c -o "$WORK/example_$format" > "$WORK/example_$format.log" 2>&1; then
        echo "FAIL: host compile of $format's example:"; head -20 "$WORK/example_$format.log"; FAILED=1
    elif ! "$WORK/example_$format"; then
        echo "FAIL: $format's example/main.c"; FAILED=1
    fi
    if [ $have_arm_gcc = 1 ]; then
        for cpu in "-mcpu=cortex-m0plus" "-mcpu=cortex-m3" \
                   "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard" \
                   "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard"; do
            for f in "$dir"/*.c "$dir"/mcuopt_runtime/*.c; do
                if ! arm-none-eabi-gcc $cpu -mthumb $WARN -O2 -ffunction-sections -fdata-sections \
                        -I"$dir" -I"$dir/mcuopt_runtime" -c "$f" -o "$WORK/obj.o" > "$WORK/arm.log" 2>&1; then
                    echo "FAIL: $format $(basename "$f") for $cpu:"; head -20 "$WORK/arm.log"; FAILED=1
                fi
            done
        done
    fi
    echo "$format: $(grep -E '^(Flash|RAM)' "$WORK/emit_$format.log" | tr '\n' ' ')"
done

# Other op kinds in the direct kernel calls of model_run (Add, depthwise,
# global average pool, in-place clamps): host compile and compare only.
for case in resnet8:int8 resnet8:f32 ds-cnn-s:int8 ds-cnn-s:int8w; do
    arch=${case%%:*} format=${case##*:} dir="$WORK/$arch-${case##*:}"
    if ! "$CLI" emit --random-arch "$arch" --random-format "$format" -o "$dir" \
            --test-vectors "$WORK/vectors.h" > "$WORK/emit.log" 2>&1; then
        echo "FAIL: emit $case:"; cat "$WORK/emit.log"; FAILED=1; continue
    fi
    if ! gcc $WARN -O2 -I"$dir" -I"$dir/mcuopt_runtime" -I"$WORK" "$dir"/*.c "$dir"/mcuopt_runtime/*.c \
            "$WORK/check_main.c" -o "$WORK/check" > "$WORK/host.log" 2>&1; then
        echo "FAIL: host compile of $case:"; head -20 "$WORK/host.log"; FAILED=1; continue
    fi
    if ! "$WORK/check"; then echo "FAIL: $case outputs differ"; FAILED=1; fi
done
[ $FAILED = 0 ] || exit 1
[ $have_arm_gcc = 1 ] || skip "cross compilation for Cortex-M: arm-none-eabi-gcc not on PATH (host checks passed)"
echo "codegen_compile: all checks passed"
