#!/usr/bin/env bash
# package_matrix.sh - issue 14 item 5: an emitted package builds and runs
# with every compiler at every level on every core, through its own build
# files. For each model it emits the package (`mcuopt emit MODEL -o DIR
# --name NAME --example semihost --example-inputs INPUTS`), then for each
# core, compiler and level it runs the two cross-build commands of the
# package's README.md exactly as written (each in a fresh copy of the
# package): the CMake one (the package's CMakeLists.txt with a toolchain file
# for arm-none-eabi-gcc or for clang --target=arm-none-eabi,
# tests/lib/toolchain-*.cmake) and the make one (the package's NAME.mk with
# plain make), with the variables they name set by tests/lib/mcu_build.sh
# (the measurement firmware's start-up code and the QEMU machine's linker
# script per core: m0plus and m3 on mps2-an385, m4 on mps2-an386, m7 on
# mps2-an500, m33 on mps2-an505). Each image, example/main.c as emitted,
# runs in QEMU; it compares its outputs for INPUTS built-in inputs with the
# ones the host runtime computed at emit time (memcmp, bit for bit) and
# prints one line per input. Prints one table row per build: built, ran,
# outputs equal, Flash (text + data of the image: the model, the runtime,
# the example, start-up code and newlib's printf) and instructions per
# inference (the QEMU plugin of `mcuopt measure`, firmware/plugin: from the
# first instruction of NAME_run up to the example's printf of that input,
# so the output check is in it; the mean over the inputs). Exits 1 if any
# build fails, does not run, or differs (after the whole table).
#
# The default models (tests/lib/bench_models.sh): mnist-paper trained one
# epoch on 300 MNIST images and quantized to int8 (3x3 conv + pool, Dense),
# and ds-cnn with random weights (10x4 and 1x1 convs, depthwise, average
# pool, Dense). Any .mcq given as an argument replaces them.
#
# Usage: bench/package_matrix.sh [MODEL.mcq ...]   (from anywhere)
# Environment: MCUOPT (the CLI; default build/mcuopt, built first),
#   MODELS (default models to use: "mnist-paper ds-cnn"), CORES (default
#   "m0plus m3 m4 m7 m33"), COMPILERS ("gcc clang"), LEVELS ("-O0 -Og -Os
#   -O2 -O3"), BUILDS ("cmake make"), INPUTS (3).
# tests/package_matrix.sh runs a subset in CI. Skipped (exit 77) when a tool
# or MNIST is missing.
#
# Leaves out: C++ callers and two models in one image (tests/emit_package.sh),
# the UART example (tests/emit_example_uart.sh), and per-layer counts
# (`mcuopt measure`, bench/compilers_matrix.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
. tests/lib/mcu_build.sh
. tests/lib/readme_blocks.sh
require_arm_tools
for tool in clang:clang cmake:cmake make:make gcc:gcc; do require_cmd "${tool%%:*}" "${tool##*:}"; done
sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
[ -f "$sysroot/include/string.h" ] || skip "no newlib (Debian package libnewlib-arm-none-eabi)"

cli=${MCUOPT:-build/mcuopt}
[ -n "${MCUOPT:-}" ] || bash scripts/build.sh build >/dev/null || { echo "package_matrix: build failed" >&2; exit 1; }
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")
cores=${CORES:-"m0plus m3 m4 m7 m33"}
compilers=${COMPILERS:-"gcc clang"}
levels=${LEVELS:-"-O0 -Og -Os -O2 -O3"}
builds=${BUILDS:-"cmake make"}
inputs=${INPUTS:-3}
work=$(mktemp -d /tmp/mco-package-matrix-XXXXXX)
trap 'rm -rf "$work"' EXIT

models=("$@")
if [ ${#models[@]} = 0 ]; then
  require_mnist
  . tests/lib/bench_models.sh
  bench_models "$cli" "$(dirname "$cli")" "$work" || { echo "package_matrix: could not make the models" >&2; exit 1; }
  for m in ${MODELS:-mnist-paper ds-cnn}; do models+=("$work/$m.mcq"); done
fi
gcc -shared -fPIC -O2 -o "$work/plugin.so" firmware/plugin/mco_insn_profile.c ||
  { echo "package_matrix: the QEMU plugin does not build" >&2; exit 1; }

echo "# emitted packages built by their own CMakeLists.txt and NAME.mk, run in QEMU ($(date -u +%Y-%m-%dT%H:%MZ), $(arm-none-eabi-gcc --version | head -1), $(clang --version | head -1), cmake $(cmake --version | head -1 | awk '{print $3}'), $inputs inputs per image)"
echo
echo "| model | core (QEMU machine) | compiler | level | build | built | ran | outputs equal | Flash (B) | instructions per inference |"
echo "|---|---|---|---|---|---|---|---|---:|---:|"
# 1234567 -> 1,234,567
commas() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }
total=0 bad=0
for model in "${models[@]}"; do
  # the package's name: the file's base name as a C identifier
  name=$(basename "$model" .mcq | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_')
  case $name in [a-z]*) ;; *) name=m_$name ;; esac
  pkg=$work/pkg/$name
  mkdir -p "$work/pkg"
  if ! "$cli" emit "$model" -o "$pkg" --name "$name" --example semihost --example-inputs "$inputs" \
       >"$work/emit.log" 2>&1; then
    cat "$work/emit.log" >&2
    echo "package_matrix: emit $model failed" >&2
    exit 1
  fi
  # the README's two cross builds of the example, as written
  mkdir -p "$work/blocks-$name"
  readme_sh_blocks "$pkg/README.md" "$work/blocks-$name" >/dev/null
  cmake_block=$(grep -l '\$TOOLCHAIN_FILE' "$work/blocks-$name"/block*.sh)
  make_block=$(grep -l '\$MCU_CC' "$work/blocks-$name"/block*.sh)
  if [ "$(echo "$cmake_block" | wc -w)" != 1 ] || [ "$(echo "$make_block" | wc -w)" != 1 ]; then
    echo "package_matrix: $name/README.md has no single CMake and make cross build of the example" >&2
    exit 1
  fi
  for core in $cores; do
    for cc in $compilers; do
      for level in $levels; do
        mcu_setup "$cc" "$core" "$level" firmware || exit 1
        for b in $builds; do
          case $b in
            cmake) block=$cmake_block elf=build-mcu/${name}_example ;;
            make) block=$make_block elf=${name}_example ;;
            *) echo "package_matrix: unknown build '$b' (cmake, make)" >&2; exit 1 ;;
          esac
          total=$((total + 1))
          built=no ran=no equal=no flash="" insns=""
          copy=$work/copy
          rm -rf "$copy" && cp -r "$pkg" "$copy"
          log=$work/$name-$core-$cc$level-$b
          if (cd "$copy" && bash -e "$block") >"$log.build" 2>&1 && [ -f "$copy/$elf" ]; then
            built=yes
            read -r text data _ < <(arm-none-eabi-size -B "$copy/$elf" | awk 'NR == 2')
            flash=$((text + data))
            begin=$(arm-none-eabi-nm "$copy/$elf" | awk -v f="${name}_run" '$3 == f {print $1}')
            end=$(arm-none-eabi-nm "$copy/$elf" | awk '$3 == "printf" {print $1}')
            plugin=""
            [ -z "$begin" ] || [ -z "$end" ] ||
              plugin=$work/plugin.so,begin=$(printf '0x%x' $((0x$begin & ~1))),end=$(printf '0x%x' $((0x$end & ~1))),out=$work/counts.txt
            rm -f "$work/counts.txt"
            mcu_run "$copy/$elf" "$log.run" "$plugin"
            rc=$?
            # the example ran to its end if it printed a line per input
            lines=$(grep -c "^$name: largest output [0-9]* of [0-9]*; outputs" "$log.run")
            [ "$lines" = "$inputs" ] && ran=yes
            same=$(grep -c "^$name: largest output [0-9]* of [0-9]*; outputs equal the host runtime's$" "$log.run")
            [ $rc = 0 ] && [ "$same" = "$inputs" ] && equal=yes
            if [ -f "$work/counts.txt" ]; then
              insns=$(awk -v n="$inputs" '$1 == "window" {s += $3; w++} END {if (w == n) printf "%.0f", s / n}' \
                "$work/counts.txt")
            fi
          fi
          insns=$(commas "$insns") flash=$(commas "$flash")
          echo "| $name | $core ($MCU_MACHINE) | $cc | $level | $b | $built | $ran | $equal | $flash | $insns |"
          if [ $equal != yes ]; then
            bad=$((bad + 1))
            { echo "package_matrix: FAIL $name $core $cc $level $b: built $built, ran $ran, outputs equal $equal"
              tail -15 "$log.build"; [ ! -f "$log.run" ] || tail -15 "$log.run"; } >&2
          fi
        done
      done
    done
  done
done
echo
echo "$((total - bad)) of $total builds built, ran and gave the host runtime's outputs on every input"
[ $bad = 0 ]
