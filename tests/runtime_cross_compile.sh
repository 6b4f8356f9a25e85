#!/bin/bash
# runtime_cross_compile.sh - compiles every runtime/*.c with arm-none-eabi-gcc
# for the Cortex-M cores mcuopt targets (M0+, M3, M4 soft and hard float,
# M7, and M4 with MCO_FORCE_GENERIC), warning-free under -std=c99 -pedantic
# -Wconversion -Werror, and checks that the DSP cores really take the DSP
# path (SMLAD in the code) and the forced-generic build does not.
# $1 (the CLI path, passed to every shell test) is unused. Skipped (exit
# 77) when the cross compiler is missing; CI installs gcc-arm-none-eabi.
set -u
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
CC=${ARM_CC:-arm-none-eabi-gcc}
require_cmd "$CC" gcc-arm-none-eabi
require_cmd arm-none-eabi-objdump binutils-arm-none-eabi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="-std=c99 -pedantic -Wall -Wextra -Wconversion -Werror -mthumb -ffunction-sections"
targets=(
    "cortex-m0plus|-mcpu=cortex-m0plus -mfloat-abi=soft|nodsp"
    "cortex-m3|-mcpu=cortex-m3 -mfloat-abi=soft|nodsp"
    "cortex-m4|-mcpu=cortex-m4 -mfloat-abi=soft|dsp"
    "cortex-m4-generic|-mcpu=cortex-m4 -mfloat-abi=soft -DMCO_FORCE_GENERIC|nodsp"
    "cortex-m4f|-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard|dsp"
    "cortex-m7|-mcpu=cortex-m7 -mfloat-abi=soft|dsp"
)
failed=0
passed=0
for t in "${targets[@]}"; do
    IFS='|' read -r name cpu dsp <<<"$t"
    for opt in -Os -O2; do   # -O2 last: its objects are inspected below
        for src in runtime/*.c; do
            obj="$out/$name-$(basename "$src" .c).o"
            # shellcheck disable=SC2086
            if $CC $flags $opt $cpu -Iruntime -c "$src" -o "$obj"; then
                passed=$((passed + 1))
            else
                echo "FAIL: $name $opt $src" >&2
                failed=$((failed + 1))
            fi
        done
    done
    # The int8 dense kernel must use SMLAD exactly on the DSP cores.
    n=$(arm-none-eabi-objdump -d "$out/$name-mco_fully_connected_s8.o" | grep -c smlad)
    if [ "$dsp" = dsp ] && [ "$n" -eq 0 ]; then
        echo "FAIL: $name: no smlad in mco_fully_connected_s8" >&2
        failed=$((failed + 1))
    elif [ "$dsp" = nodsp ] && [ "$n" -ne 0 ]; then
        echo "FAIL: $name: smlad on a core without DSP" >&2
        failed=$((failed + 1))
    fi
done
echo "runtime_cross_compile: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
