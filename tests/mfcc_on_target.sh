#!/usr/bin/env bash
# mfcc_on_target.sh - the audio front-end (runtime/mco_mfcc.c) computes the
# same bits on the chip as on the host: tests/lib/mfcc_hash_main.c hashes
# the features of seven clips under three parameter sets (the MLPerf Tiny
# KWS default 49 x 10 MFCCs, an 8 kHz set, a 64-band log-mel set); it is
# built for the host (gcc -O2, gcc -O0, clang -O2, all -ffp-contract=off as
# the project builds) and for emulated cores in QEMU: Cortex-M4F
# (netduinoplus2: gcc -O2, gcc -O0, clang -O2), Cortex-M7 (mps2-an500, gcc
# -O2) and Cortex-M3 (mps2-an385: soft float, gcc -Os). Every build must
# print the host's lines exactly. The firmware links no libm (the
# front-end needs none). The M4F gcc -O2 build also counts, with the QEMU
# instruction-count plugin (firmware/plugin/mco_insn_profile.c), the
# instructions of the KWS default's table computation and of one clip's
# 49 x 10 MFCCs (exact counts, whatever the machine's load). $1 (the CLI) is unused. Skipped (exit 77) when
# arm-none-eabi-gcc, clang or qemu-system-arm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_arm_tools
require_cmd clang clang
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
srcs=(tests/lib/mfcc_hash_main.c runtime/mco_mfcc.c)

# the host's lines, three ways
for build in "gcc -O2" "gcc -O0" "clang -O2"; do
  read -r cc opt <<<"$build"
  "$cc" -std=c99 "$opt" -ffp-contract=off -Wall -Wextra -Werror -Iruntime -Itests/lib "${srcs[@]}" -o "$tmp/host"
  "$tmp/host" >"$tmp/host-$cc$opt.txt"
done
[ "$(grep -c '^MFCC set' "$tmp/host-gcc-O2.txt")" = 21 ] || { cat "$tmp/host-gcc-O2.txt" >&2; echo "FAIL: host run" >&2; exit 1; }
for f in "$tmp"/host-*.txt; do
  cmp -s "$f" "$tmp/host-gcc-O2.txt" || { diff "$tmp/host-gcc-O2.txt" "$f" >&2; echo "FAIL: host builds differ ($f)" >&2; exit 1; }
done

sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
run_target() {   # machine cpu-flags... -- compiler opt [plugin-arguments]
  local machine=$1; shift
  local cpu=()
  while [ "$1" != -- ]; do cpu+=("$1"); shift; done
  shift
  local cc=$1 opt=$2 plugin=${3:-} compiler=(arm-none-eabi-gcc) defs=()
  [ -n "$plugin" ] && defs=(-DMFCC_MEASURE)
  [ "$cc" = clang ] && compiler=(clang --target=arm-none-eabi "--sysroot=$sysroot" -munaligned-access -fshort-enums)
  rm -f "$tmp"/*.o
  for src in "${srcs[@]}"; do
    "${compiler[@]}" "${cpu[@]}" -std=c99 "$opt" "${defs[@]}" -ffp-contract=off -ffunction-sections -fdata-sections \
      -Iruntime -Itests/lib -c "$src" -o "$tmp/$(basename "$src" .c).o"
  done
  arm-none-eabi-gcc "${cpu[@]}" -O2 firmware/startup.c "$tmp"/*.o --specs=nano.specs --specs=rdimon.specs \
    -nostartfiles -Wl,--gc-sections -Wl,-z,noexecstack -Lfirmware/ld -T"firmware/ld/$machine.ld" -o "$tmp/fw.elf"
  local qemu_plugin=()
  if [ -n "$plugin" ]; then
    local begin end
    begin=$(arm-none-eabi-nm "$tmp/fw.elf" | awk '$3 == "mco_measure_begin" { print $1 }')
    end=$(arm-none-eabi-nm "$tmp/fw.elf" | awk '$3 == "mco_measure_end" { print $1 }')
    qemu_plugin=(-icount shift=0,align=off -plugin "$plugin,begin=0x$begin,end=0x$end,out=$tmp/counts.txt" -d plugin)
  fi
  timeout 600 qemu-system-arm -M "$machine" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$tmp/fw.elf" "${qemu_plugin[@]}" >"$tmp/target.txt" 2>&1 || true
  if ! cmp -s "$tmp/target.txt" "$tmp/host-gcc-O2.txt"; then
    diff "$tmp/host-gcc-O2.txt" "$tmp/target.txt" >&2 || true
    echo "FAIL: $machine built with $cc $opt: features differ from the host's" >&2
    exit 1
  fi
  echo "$machine, $cc $opt: 21 of 21 feature sets bit-identical to the host"
}
m4=(-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb)
gcc -shared -fPIC -O2 -o "$tmp/insn.so" firmware/plugin/mco_insn_profile.c
run_target netduinoplus2 "${m4[@]}" -- gcc -O2 "$tmp/insn.so"
tables=$(awk '$1 == "window" && $2 == 0 { print $3 }' "$tmp/counts.txt")
clip=$(awk '$1 == "window" && $2 == 1 { print $3 }' "$tmp/counts.txt")
[ -n "$tables" ] && [ -n "$clip" ] && [ "$clip" -gt 100000 ] ||
  { cat "$tmp/counts.txt" | head -5 >&2; echo "FAIL: no instruction counts from the QEMU plugin" >&2; exit 1; }
echo "Cortex-M4F, gcc -O2, KWS default: tables $tables instructions (once), one 1 s clip -> 49x10 MFCCs $clip instructions"
run_target netduinoplus2 "${m4[@]}" -- gcc -O0
run_target netduinoplus2 "${m4[@]}" -- clang -O2
run_target mps2-an500 -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb -- gcc -O2
run_target mps2-an385 -mcpu=cortex-m3 -mthumb -- gcc -Os
echo "mfcc_on_target: all checks passed"
