#!/usr/bin/env bash
# sparse_fc_on_target.sh - the sparse Dense kernel's assembly path (threaded
# code, runtime/mco_fully_connected_sparse_s8.c), which only a DSP core runs:
# a small firmware built for the Cortex-M4F packs random pruned matrices
# (sparsity 0 to 100 %, odd sizes, inputs up to 2100 with long zero runs)
# on the target and checks mco_fully_connected_sparse_s8 against
# mco_fully_connected_s8 bit for bit, in QEMU (netduinoplus2). Built five
# ways: arm-none-eabi-gcc -O2 (the assembly), -O0 (its C path), clang -O2
# and -O0 (the assembly: Clang gives it its eleven registers at every
# level), and gcc -O2 with -DMCO_FC_UNROLL=1 (the dense kernel's unrolled
# assembly loop, odd and even word counts, against the sparse kernel). The
# same firmware checks the dense kernel's interleaved weight layout
# (mco_fc_s8_interleave, layers of five units or more: its own assembly
# loop at -O2, the C path at -O0), every kernel against the plain sum; and
# two more gcc -O2 builds as an emitted mco_config.h has them: the
# interleaved layout only (-DMCO_FC_INTERLEAVED_ONLY=1, with the unrolled
# loop: row-major five-unit layers refused, narrower ones still run) and
# row-major only (-DMCO_FC_ROWS_ONLY=1: interleaved layers refused).
# The host tests (test_sparse_kernels) cover the C paths. $1 (the
# CLI) is unused. Skipped (exit 77) when arm-none-eabi-gcc, clang or
# qemu-system-arm is missing (CI installs them, see scripts/setup.sh, and
# fails on any skip).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_arm_tools
require_cmd clang clang
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/main.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include "mco_config.h"
#include "mco_fixed_point.h"
#include "mco_runtime.h"
#include "mco_sparse.h"

static uint32_t seed = 12345;
static uint32_t rnd(void) { seed = seed * 1664525u + 1013904223u; return seed >> 8; }
static int32_t below(int32_t n) { return (int32_t)(rnd() % (uint32_t)n); }

static int8_t w[2100 * 9], wi[2100 * 10], x[2100];
static uint8_t packed[2100 * 9 * 2 + 64];

int main(void)
{
    static const int percent[] = {0, 10, 25, 50, 75, 90, 97, 100};
    int fails = 0, runs = 0, wide = 0, wide_runs = 0, trial;
    for (trial = 0; trial < 400; trial++) {
        int32_t in = trial < 360 ? 1 + below(70) : 1000 + below(1100), out = 1 + below(9), i, n;
        int32_t bias[9], mult[9], shift[9];
        int8_t ref[9], got[9];
        for (i = 0; i < in * out; i++) {
            int32_t v = below(255) - 127;
            w[i] = (int8_t)(below(100) < percent[trial % 8] ? 0 : (v == 0 ? 1 : v));
        }
        if (trial % 7 == 2 && in > 8)   /* long runs of empty groups */
            for (i = 0; i < out; i++) memset(w + i * in + in / 3, 0, (size_t)(in / 2));
        for (i = 0; i < out; i++) {
            bias[i] = below(20001) - 10000;
            mult[i] = (int32_t)(0x40000000u | rnd());
            shift[i] = -1 - below(12);
        }
        for (i = 0; i < in; i++) x[i] = (int8_t)(below(256) - 128);
        mco_fc_s8_params p = {in, out, below(256) - 127, below(256) - 128, -128, 127, mult, shift, 0, 0};
        int ok = 1;
        for (i = 0; i < out; i++) {   /* the reference: the plain sum, the output stage */
            int32_t acc = bias[i], j;
            for (j = 0; j < in; j++) acc += ((int32_t)x[j] + p.input_offset) * (int32_t)w[i * in + j];
            ref[i] = mco_fp_output_s8(acc, mult[i], shift[i], p.output_offset, p.act_min, p.act_max);
        }
        /* row-major: refused where the build left its five-unit pass out */
        memset(got, 0x55, sizeof got);
        if (MCO_FC_INTERLEAVED_ONLY && out >= MCO_FC_S8_ROWS)
            ok &= mco_fully_connected_s8(&p, x, w, bias, got) == MCO_RT_ARG_ERROR;
        else
            ok &= mco_fully_connected_s8(&p, x, w, bias, got) == MCO_RT_OK && memcmp(ref, got, (size_t)out) == 0;
        n = mco_sparse_s8_pack(w, out, in, MCO_SPARSE_ROW_PAIRS, packed, (int32_t)sizeof packed);
        memset(got, 0x55, sizeof got);
        ok &= n >= 0 && mco_fully_connected_sparse_s8(&p, x, packed, bias, got) == MCO_RT_OK &&
              memcmp(ref, got, (size_t)out) == 0;
        if (!ok) {
            if (fails++ < 5) printf("trial %d (%ld x %ld, %d %%) differs\n", trial, (long)out, (long)in, percent[trial % 8]);
            continue;
        }
        runs++;
        if (out >= MCO_FC_S8_ROWS) {   /* the interleaved layout, unless the build left it out */
            mco_fc_s8_params pi = p;
            pi.interleaved = 1;
            mco_fc_s8_interleave(in, out, w, wi);
            memset(got, 0x55, sizeof got);
            wide++;
            if (MCO_FC_ROWS_ONLY ? mco_fully_connected_s8(&pi, x, wi, bias, got) != MCO_RT_ARG_ERROR
                                 : mco_fully_connected_s8(&pi, x, wi, bias, got) != MCO_RT_OK ||
                                       memcmp(ref, got, (size_t)out) != 0) {
                if (fails++ < 5) printf("trial %d (%ld x %ld) interleaved differs\n", trial, (long)out, (long)in);
                continue;
            }
            wide_runs++;
        }
    }
    printf("SPARSE_FC %d of 400 bit-identical\n", runs);
    printf("INTERLEAVED_FC %d of %d bit-identical\n", wide_runs, wide);
    return 0;
}
EOC
fw=firmware
cpu=(-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb)
sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
for build in "gcc -O2" "gcc -O0" "clang -O2" "clang -O0" "gcc -O2 -DMCO_FC_UNROLL=1" \
             "gcc -O2 -DMCO_FC_INTERLEAVED_ONLY=1 -DMCO_FC_UNROLL=1" "gcc -O2 -DMCO_FC_ROWS_ONLY=1"; do
  read -r cc opt defs <<<"$build"
  compiler=(arm-none-eabi-gcc)
  # Clang as `mcuopt measure --cc clang` calls it (src/target/target_measure.c)
  [ "$cc" = clang ] && compiler=(clang --target=arm-none-eabi "--sysroot=$sysroot" -munaligned-access -fshort-enums)
  rm -f "$tmp"/*.o
  for src in "$tmp/main.c" runtime/mco_fully_connected_sparse_s8.c runtime/mco_sparse_pack.c \
             runtime/mco_fully_connected_s8.c runtime/mco_fixed_point.c; do
    # shellcheck disable=SC2086
    "${compiler[@]}" "${cpu[@]}" -std=gnu11 "$opt" ${defs:-} -ffunction-sections -fdata-sections -Iruntime -c "$src" \
      -o "$tmp/$(basename "$src" .c).o"
  done
  # (-z noexecstack: Clang's objects carry a stack note newlib's do not)
  arm-none-eabi-gcc "${cpu[@]}" -O2 "$fw/startup.c" "$tmp"/*.o --specs=nano.specs --specs=rdimon.specs \
    -nostartfiles -Wl,--gc-sections -Wl,-z,noexecstack -L"$fw/ld" -T"$fw/ld/netduinoplus2.ld" -o "$tmp/fw.elf" -lm
  timeout 300 qemu-system-arm -M netduinoplus2 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$tmp/fw.elf" >"$tmp/out.txt" 2>&1 || true
  echo "$build: $(cat "$tmp/out.txt")"
  grep -q "SPARSE_FC 400 of 400 bit-identical" "$tmp/out.txt" ||
    { echo "FAIL: sparse Dense kernel built with $build differs" >&2; exit 1; }
  grep -Eq "INTERLEAVED_FC ([1-9][0-9]*) of \1 bit-identical" "$tmp/out.txt" ||
    { echo "FAIL: the dense kernel's interleaved layout built with $build differs" >&2; exit 1; }
done
echo "sparse_fc_on_target: all checks passed"
