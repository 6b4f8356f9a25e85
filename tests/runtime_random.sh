#!/bin/bash
# runtime_random.sh - the randomised runtime test (tests/test_runtime_random.c)
# with all of runtime/, compiled by clang under AddressSanitizer and
# UndefinedBehaviorSanitizer, pointer overflow included, no recovery (the
# first report fails the run), in five configurations:
#   generic   -DMCO_FORCE_GENERIC   the portable C path everywhere
#   dsp       -DMCO_EMULATE_DSP     the DSP path, its instructions emulated
#                                   in C (runtime/mco_arch.h)
#   default   neither               what a host build picks
#   generic-fast, dsp-fast   the two paths with the requantization options
#             `mcuopt emit` writes for a model that allows them (mnist-paper:
#             MCO_REQUANT_RIGHT_ONLY and MCO_REQUANT_FAST, set in a copy of
#             runtime/mco_config.h)
# generic, dsp and default must print the same digest of every kernel
# output, and generic-fast and dsp-fast theirs: the generic and the DSP
# paths agree bit for bit (each also against the test's references). The runtime is
# compiled with the chip's warnings (-std=c99 -pedantic -Wconversion
# -Werror). $1 (the CLI path every shell test gets) is unused.
# MCO_RANDOM_SEED / MCO_RANDOM_SCALE are passed on to the test.
# Exits 77 (SKIPPED) when clang or its sanitizer runtime is missing
# (scripts/setup.sh installs clang and libclang-rt-14-dev).
set -u
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
CC=${CLANG:-clang}
require_cmd "$CC" "clang libclang-rt-14-dev"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
san="-fsanitize=address,undefined,pointer-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer"
if ! echo 'int main(void) { return 0; }' | $CC $san -x c - -o "$out/probe" 2>"$out/probe.log"; then
    head -3 "$out/probe.log" >&2
    skip "$CC cannot link sanitizer builds (Debian package libclang-rt-14-dev)"
fi
common="-O1 -g -ffp-contract=off $san"
rt_flags="-std=c99 -pedantic -Wall -Wextra -Wconversion -Werror"
test_flags="-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# build NAME RUNTIME_DIR DEFINES: compiles runtime and test into $out/NAME/test
build() {
    local name=$1 rt=$2 defs=$3 dir="$out/$1"
    mkdir -p "$dir"
    # two compilers at a time: the machine is shared
    # shellcheck disable=SC2086
    if ! printf '%s\n' "$rt"/*.c | xargs -P2 -I{} sh -c \
        'src={}; exec '"$CC $common $rt_flags $defs"' -I'"$rt"' -c "$src" -o '"$dir"'/$(basename "$src" .c).o'; then
        echo "runtime_random: $name: runtime does not compile" >&2
        return 1
    fi
    # shellcheck disable=SC2086
    $CC $common $test_flags $defs -I"$rt" -Itests tests/test_runtime_random.c "$dir"/*.o -lm -o "$dir/test" || {
        echo "runtime_random: $name: test does not compile" >&2
        return 1
    }
}

# run NAME EXPECTED_PATH: runs it, checks the path it reports, keeps its digest
run() {
    local name=$1 path=$2 log="$out/$1.log"
    if ! "$out/$name/test" >"$log" 2>&1; then
        echo "FAIL: $name:" >&2
        tail -40 "$log" >&2
        return 1
    fi
    if ! grep -q "^path: $path," "$log"; then
        echo "FAIL: $name: expected the $path path, the test reports: $(head -1 "$log")" >&2
        return 1
    fi
    echo "$name: $(head -1 "$log"), $(grep '^digest:' "$log")"
}

failed=0
cp -r runtime "$out/runtime-fast"
sed -i -e 's/^#define MCO_REQUANT_RIGHT_ONLY 0$/#define MCO_REQUANT_RIGHT_ONLY 1/' \
       -e 's/^#define MCO_REQUANT_FAST 0$/#define MCO_REQUANT_FAST 1/' "$out/runtime-fast/mco_config.h"
grep -q '^#define MCO_REQUANT_FAST 1$' "$out/runtime-fast/mco_config.h" || {
    echo "FAIL: could not set MCO_REQUANT_FAST in a copy of runtime/mco_config.h" >&2
    failed=1
}
for cfg in "generic|runtime|-DMCO_FORCE_GENERIC|generic" "dsp|runtime|-DMCO_EMULATE_DSP|dsp" \
           "default|runtime||generic" "generic-fast|$out/runtime-fast|-DMCO_FORCE_GENERIC|generic" \
           "dsp-fast|$out/runtime-fast|-DMCO_EMULATE_DSP|dsp"; do
    IFS='|' read -r name rt defs path <<<"$cfg"
    if build "$name" "$rt" "$defs" && run "$name" "$path"; then :; else failed=1; fi
done
if [ "$failed" -eq 0 ]; then
    d1=$(grep '^digest:' "$out/generic.log") d2=$(grep '^digest:' "$out/dsp.log") d3=$(grep '^digest:' "$out/default.log")
    if [ "$d1" != "$d2" ] || [ "$d1" != "$d3" ]; then
        echo "FAIL: the generic and the DSP paths differ: generic $d1, dsp $d2, default $d3" >&2
        failed=1
    fi
    d1=$(grep '^digest:' "$out/generic-fast.log") d2=$(grep '^digest:' "$out/dsp-fast.log")
    if [ "$d1" != "$d2" ]; then
        echo "FAIL: with the emitted requantization options the generic and the DSP paths differ: $d1, $d2" >&2
        failed=1
    fi
fi
[ "$failed" -eq 0 ] && echo "runtime_random: passed (generic and DSP paths bit-identical)"
[ "$failed" -eq 0 ]
