#!/bin/bash
# runtime_cross_compile.sh - the compiler / optimisation-level contract of
# the MCU runtime (docs/design.md, "Compilers and optimisation levels"):
# every runtime/*.c (the host's mco_config.h), every runtime/*.c again with
# the output-stage options an emitted int8 model sets (MCO_REQUANT_RIGHT_ONLY
# and MCO_REQUANT_FAST 1: the blocked convs' assembly output stage), and
# the emitted code of an int8 mnist-paper (its own mco_config.h, which
# turns on the conv3x3 assembly path) compile warning-free under -std=c99 -pedantic -Wall
# -Wextra -Wconversion -Werror with arm-none-eabi-gcc and with clang
# (--target=arm-none-eabi, newlib's headers) at -O0, -Og, -Os, -O2 and -O3
# for Cortex-M0+, M3, M4 (soft and hard float), M7 and M33; plus the
# portable path (MCO_FORCE_GENERIC) on the M4. The int8 Dense kernel must
# contain SMLAD exactly on the DSP cores, whatever the compiler and level
# (the intrinsics path where the assembly loop is not compiled).
# That the builds compute the host's outputs is checked on the emulator by
# compilers_on_target.sh and sparse_fc_on_target.sh.
# Usage: runtime_cross_compile.sh PATH/TO/mcuopt (from the repo root).
# Skipped (exit 77, tests/lib/skip.sh) when a compiler is missing:
# scripts/setup.sh installs gcc-arm-none-eabi, libnewlib-arm-none-eabi and
# clang, and CI fails on any skip.
set -u
cli=${1:?usage: runtime_cross_compile.sh PATH/TO/mcuopt}
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_cmd arm-none-eabi-gcc gcc-arm-none-eabi
require_cmd arm-none-eabi-objdump binutils-arm-none-eabi
require_cmd clang clang
sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
[ -f "$sysroot/include/string.h" ] || skip "no newlib headers for clang (Debian package libnewlib-arm-none-eabi)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! "$cli" emit --random-arch mnist-paper --random-format int8 -o "$out/emitted" >"$out/emit.log" 2>&1; then
    cat "$out/emit.log"
    echo "FAIL: mcuopt emit" >&2
    exit 1
fi
grep -q "define MCO_CONV3X3_IN_W 28" "$out/emitted/mcuopt_runtime/mco_config.h" ||
    { echo "FAIL: the emitted mnist-paper does not configure the conv3x3 assembly path" >&2; exit 1; }
grep -q "define MCO_FC_WIDE_ONLY 1" "$out/emitted/mcuopt_runtime/mco_config.h" ||
    { echo "FAIL: the emitted mnist-paper (10 Dense units) keeps the narrow Dense pass" >&2; exit 1; }
# a copy of the runtime with an emitted model's output-stage options (the
# sources too: a quoted include looks beside its source file first)
mkdir -p "$out/fast"
cp runtime/*.c runtime/*.h "$out/fast/"
sed -i -e 's/^#define MCO_REQUANT_RIGHT_ONLY 0$/#define MCO_REQUANT_RIGHT_ONLY 1/' \
       -e 's/^#define MCO_REQUANT_FAST 0$/#define MCO_REQUANT_FAST 1/' "$out/fast/mco_config.h"
[ "$(grep -cE '^#define MCO_REQUANT_(RIGHT_ONLY|FAST) 1$' "$out/fast/mco_config.h")" = 2 ] ||
    { echo "FAIL: could not set the output-stage options in a copy of runtime/mco_config.h" >&2; exit 1; }

# One job per compiler x core x level x source set, each compiling its
# whole set in one compiler run, two jobs per core at a time.
cores=(
    "m0plus|-mcpu=cortex-m0plus -mfloat-abi=soft|nodsp"
    "m3|-mcpu=cortex-m3 -mfloat-abi=soft|nodsp"
    "m4|-mcpu=cortex-m4 -mfloat-abi=soft|dsp"
    "m4f|-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard|dsp"
    "m7|-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard|dsp"
    "m33|-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard|dsp"
)
for cc in gcc clang; do
    for core in "${cores[@]}"; do
        for opt in -O0 -Og -Os -O2 -O3; do
            echo "$cc|$core|$opt|runtime"
            echo "$cc|$core|$opt|fast"
            echo "$cc|$core|$opt|emitted"
        done
    done
    echo "$cc|m4-generic|-mcpu=cortex-m4 -mfloat-abi=soft -DMCO_FORCE_GENERIC|nodsp|-O2|runtime"
done >"$out/jobs"

# compile_job LINE: prints "ok NAME" or the failure with the first errors.
compile_job() {
    local cc name cpu dsp opt set dir n
    local -a srcs inc
    IFS='|' read -r cc name cpu dsp opt set <<<"$1"
    dir="$out/obj/$cc-$name$opt-$set"
    mkdir -p "$dir"
    case $set in
        runtime) srcs=("$PWD"/runtime/*.c); inc=(-I"$PWD/runtime") ;;
        fast) srcs=("$out"/fast/*.c); inc=(-I"$out/fast") ;;
        # the package: NAME.c at the top, the runtime in mcuopt_runtime/ (example/ is not firmware code)
        *) srcs=("$out"/emitted/*.c "$out"/emitted/mcuopt_runtime/*.c); inc=(-I"$out/emitted" -I"$out/emitted/mcuopt_runtime") ;;
    esac
    local compiler=(arm-none-eabi-gcc)
    [ "$cc" = clang ] && compiler=(clang --target=arm-none-eabi "--sysroot=$sysroot")
    # shellcheck disable=SC2086
    if ! (cd "$dir" && "${compiler[@]}" -std=c99 -pedantic -Wall -Wextra -Wconversion -Werror -mthumb \
            -ffunction-sections $opt $cpu "${inc[@]}" -c "${srcs[@]}" >log.txt 2>&1); then
        echo "FAIL: $cc $name $opt $set: $(grep -m3 -E 'error|warning' "$dir/log.txt" | tr '\n' ' ')"
        return
    fi
    # The int8 Dense kernel: SMLAD exactly on the DSP cores.
    n=$(arm-none-eabi-objdump -d "$dir/mco_fully_connected_s8.o" | grep -c smlad)
    if [ "$dsp" = dsp ] && [ "$n" -eq 0 ]; then
        echo "FAIL: $cc $name $opt $set: no smlad in mco_fully_connected_s8"
    elif [ "$dsp" = nodsp ] && [ "$n" -ne 0 ]; then
        echo "FAIL: $cc $name $opt $set: smlad on a core without DSP"
    else
        echo "ok $cc $name $opt $set"
    fi
}
export -f compile_job
export out sysroot
tr '\n' '\0' <"$out/jobs" | xargs -0 -P "$(nproc)" -I{} bash -c 'compile_job "$1"' _ {} >"$out/results"

passed=$(grep -c '^ok ' "$out/results")
failed=$(grep -c '^FAIL' "$out/results")
total=$(wc -l <"$out/jobs")
grep '^FAIL' "$out/results" >&2
echo "runtime_cross_compile: $passed of $total builds passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -eq "$total" ]
