#!/bin/bash
# emit_package.sh - the package `mcuopt emit -o DIR --name NAME` writes is
# what a firmware project takes as it is (issue 14, items 1-3), checked on
# the host with two int8 models of random weights: ds-cnn-s as "kws" and
# mnist-paper as "digits" (both use the int8 Dense kernel, so its file is in
# both packages):
#   1. each package holds only NAME.h, NAME.c, README.md, CMakeLists.txt,
#      NAME.mk, example/main.c and mcuopt_runtime/*.c|h; NAME.h states the
#      worst-case stack (arm-none-eabi-gcc's call graph) and NAME_RAM_TOTAL;
#   2. every ```sh block of each README runs as written in a copy of the
#      package (the host example three ways, the Cortex-M compile), but the
#      two cross builds of the example, which need a toolchain and start-up
#      code (bench/package_matrix.sh runs those, tests/package_matrix.sh in CI);
#   3. the header and example/main.c compile as C++ (g++ and clang++,
#      -Wall -Wextra -pedantic -Werror) and link with the C package;
#   4. one CMake project adds both packages (add_subdirectory for kws,
#      FetchContent for digits) and links one
#      program that runs both models on their test vectors with NAME_run and
#      with NAME_run_with_arena on a caller's buffer (which must be written,
#      and a misaligned one refused): built as C and as C++, with gcc and
#      clang, at -O0 and -O2; every output equals the host runtime's, the
#      shared kernel is linked once, and DIGITS_ARENA_SECTION places the
#      static arena in the given section; the one runtime is compiled with
#      the options both models allow, and a package voting against the fast
#      requantization or bringing a second 3x3 conv shape turns them off;
#   5. the same program from the two NAME.mk fragments with plain make (the
#      same option votes);
#   6. the same CMake project cross-built for a Cortex-M4F (QEMU mps2-an386,
#      the measurement firmware's start-up code and linker script, newlib
#      semihosting) as C and as C++, with arm-none-eabi-gcc/g++ and clang/
#      clang++, at -O0 and -O2, runs in QEMU with every output equal to the
#      host runtime's.
# What it leaves out: other cores (compilers_on_target.sh runs the emitted
# code on each through the measurement harness) and the .mk fragments
# cross-built.
# Usage: emit_package.sh PATH/TO/mcuopt (from the repo root). Skipped (exit
# 77) when a tool is missing; scripts/setup.sh installs them all.
set -u
cli=${1:?usage: emit_package.sh PATH/TO/mcuopt}
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
. tests/lib/readme_blocks.sh
. tests/lib/mcu_build.sh
for tool in gcc:gcc g++:g++ clang:clang clang++:clang cmake:cmake make:make objdump:binutils nm:binutils \
            arm-none-eabi-gcc:gcc-arm-none-eabi arm-none-eabi-g++:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm; do
    require_cmd "${tool%%:*}" "${tool##*:}"
done
sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
[ -f "$sysroot/include/string.h" ] || skip "no newlib (Debian package libnewlib-arm-none-eabi)"
work=$(mktemp -d /tmp/mco-emit-package-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
WARN="-Wall -Wextra -Werror"

# ---- emit both models, with test vectors renamed per model ------------------
emit_model() {   # NAME ARCH
    local name=$1 arch=$2 upper
    upper=$(echo "$name" | tr a-z A-Z)
    "$cli" emit --random-arch "$arch" --random-format int8 --name "$name" -o "$work/pkg/$name" \
        --test-vectors "$work/vectors/${name}_vectors.h" >"$work/emit_$name.log" 2>&1 ||
        { cat "$work/emit_$name.log"; fail "emit $arch --name $name"; }
    sed -i "s/\btv_/${name}_tv_/g; s/\bTV_/${upper}_TV_/g" "$work/vectors/${name}_vectors.h"
}
mkdir -p "$work/pkg" "$work/vectors"
emit_model kws ds-cnn-s
emit_model digits mnist-paper

# ---- 1. the package's files ---------------------------------------------------
for name in kws digits; do
    p=$work/pkg/$name
    got=$(cd "$p" && find . -type f ! -path './mcuopt_runtime/*' | sort | tr '\n' ' ')
    want=$(printf '%s\n' ./CMakeLists.txt ./README.md ./example/main.c "./$name.c" "./$name.h" "./$name.mk" | sort | tr '\n' ' ')
    [ "$got" = "$want" ] || fail "$name: the package holds '$got', expected '$want'"
    others=$(cd "$p/mcuopt_runtime" && find . ! -name '*.c' ! -name '*.h' ! -name . | tr '\n' ' ')
    [ -z "$others" ] || fail "$name: mcuopt_runtime/ holds other files: $others"
    [ -f "$p/mcuopt_runtime/mco_fully_connected_s8.c" ] || fail "$name: no mco_fully_connected_s8.c (the shared kernel)"
    upper=$(echo "$name" | tr a-z A-Z)
    grep -Eq "^#define ${upper}_STACK_WORST [1-9][0-9]*$" "$p/$name.h" || fail "$name.h: no worst-case stack"
    grep -q "^#define ${upper}_RAM_TOTAL (${upper}_ARENA_SIZE + ${upper}_STACK_SIZE)$" "$p/$name.h" ||
        fail "$name.h: no ${upper}_RAM_TOTAL"
    if grep -Eq "^(int|typedef|#define) +(model_|MODEL_)" "$p/$name.h"; then fail "$name.h: a name without the model's"; fi
done
echo "emit_package: both packages hold only the firmware's files"

# ---- 2. the README's shell blocks, as written ---------------------------------
for name in kws digits; do
    blocks=$(readme_sh_blocks "$work/pkg/$name/README.md" "$work") cross=0
    [ "$blocks" -ge 6 ] ||
        fail "$name/README.md has $blocks shell blocks, expected 6 (three host builds, one Cortex-M compile, two cross builds)"
    for block in "$work"/block*.sh; do
        # the cross builds of the example (MCU_* variables): bench/package_matrix.sh runs them
        if grep -q '\$MCU_\|\$TOOLCHAIN_FILE' "$block"; then cross=$((cross + 1)); continue; fi
        rm -rf "$work/copy" && cp -r "$work/pkg/$name" "$work/copy"
        (cd "$work/copy" && bash -e "$block") >"$work/block.log" 2>&1 ||
            { cat "$block" "$work/block.log"; fail "$name/README.md: a build command failed"; }
        if grep -q "_example" "$block" && ! grep -q "^$name: .* outputs equal the host runtime's$" "$work/block.log"; then
            cat "$block" "$work/block.log"; fail "$name/README.md: the example did not report equal outputs"
        fi
    done
    [ "$cross" = 2 ] || fail "$name/README.md has $cross cross builds of the example, expected 2 (CMake, make)"
    rm -f "$work"/block*.sh
done
echo "emit_package: every README shell block runs as written (the two cross builds: package_matrix.sh)"

# ---- 3. the header and the example as C++ --------------------------------------
for name in kws digits; do
    p=$work/pkg/$name
    rm -rf "$work/obj" && mkdir "$work/obj"
    (cd "$work/obj" && gcc -std=c99 $WARN -O2 -ffp-contract=off -I"$p" -I"$p/mcuopt_runtime" -c "$p/$name.c" \
        "$p"/mcuopt_runtime/*.c) || fail "$name: C compile"
    for cxx in g++ clang++; do
        $cxx -x c++ -std=c++11 $WARN -pedantic -O2 -I"$p" -c "$p/example/main.c" -o "$work/main_cxx.o" ||
            fail "$name: $cxx does not compile $name.h and example/main.c"
        $cxx "$work/main_cxx.o" "$work"/obj/*.o -o "$work/example_cxx" || fail "$name: $cxx does not link the C package"
        "$work/example_cxx" || fail "$name: the example built with $cxx"
    done
done
echo "emit_package: NAME.h and example/main.c compile as C++ with g++ and clang++ and link the C code"

# ---- 4. both models in one program (CMake) -------------------------------------
cat >"$work/main.c" <<'MAIN'
/* Runs both models on their test vectors, with the static arena and with a
 * caller's one, and checks every output against the host runtime's. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "digits.h"
#include "kws.h"
#include "digits_vectors.h"
#include "kws_vectors.h"

static uint32_t kws_buf[KWS_ARENA_WORDS];
static uint32_t digits_buf[DIGITS_ARENA_WORDS + 1];   /* + 1: room for a misaligned one */

/* The caller's arena is filled with 0xa5 first: the call must write it. */
#define RUN_MODEL(name, NAME, buf)                                                                     \
    for (int i = 0; i < NAME##_TV_N; i++) {                                                            \
        name##_input_t in[NAME##_INPUT_SIZE];                                                          \
        name##_output_t out[NAME##_OUTPUT_SIZE];                                                       \
        memcpy(in, name##_tv_inputs[i], sizeof in);                                                    \
        if (name##_run(in, out) != 0 || memcmp(out, name##_tv_expected[i], sizeof out) != 0) bad++;   \
        memset(out, 0, sizeof out);                                                                    \
        memset(buf, 0xa5, sizeof buf);                                                                 \
        if (name##_run_with_arena(in, out, buf) != 0 || memcmp(out, name##_tv_expected[i], sizeof out) != 0) \
            bad++;                                                                                     \
        int written = 0;                                                                               \
        for (size_t b = 0; b < NAME##_ARENA_SIZE; b++) written |= ((uint8_t *)buf)[b] != 0xa5;         \
        if (!written) unused++;                                                                        \
        n += 2;                                                                                        \
    }

int main(void)
{
    int bad = 0, unused = 0, n = 0;
    RUN_MODEL(kws, KWS, kws_buf)
    RUN_MODEL(digits, DIGITS, digits_buf)
    /* a misaligned or missing arena is refused */
    digits_input_t in[DIGITS_INPUT_SIZE] = {0};
    digits_output_t out[DIGITS_OUTPUT_SIZE];
    if (digits_run_with_arena(in, out, (uint8_t *)digits_buf + 1) >= 0) bad++;
    if (kws_run_with_arena((const kws_input_t *)kws_tv_inputs[0], (kws_output_t *)out, 0) >= 0) bad++;
    printf("%d of %d outputs identical; caller arenas unused in %d calls\n", n - bad, n, unused);
    return bad != 0 || unused != 0 || n < 4;
}
MAIN
cp "$work/main.c" "$work/main.cpp"
cat >"$work/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(two_models LANGUAGES C CXX)
add_subdirectory("\${PKG}/kws" kws)
include(FetchContent)   # the other way the package's README names
FetchContent_Declare(digits SOURCE_DIR "\${PKG}/digits")
FetchContent_MakeAvailable(digits)
target_compile_definitions(digits PRIVATE [[DIGITS_ARENA_SECTION=__attribute__((section(".mco_test_arena")))]])
add_executable(two_models \${MAIN})
target_include_directories(two_models PRIVATE "$work/vectors")
target_link_libraries(two_models PRIVATE kws digits)
CMAKE
for build in gcc:g++:c:-O0 gcc:g++:cpp:-O2 clang:clang++:c:-O2 clang:clang++:cpp:-O0; do
    IFS=: read -r cc cxx ext opt <<<"$build"
    b=$work/build-$cc-$ext$opt
    cmake -S "$work" -B "$b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DMAIN="main.$ext" \
        -DPKG="$work/pkg" -DCMAKE_C_FLAGS="$WARN $opt" -DCMAKE_CXX_FLAGS="$WARN $opt" >"$work/cmake.log" 2>&1 &&
        cmake --build "$b" -j2 >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "CMake build $cc main.$ext $opt"; }
    "$b/two_models" || fail "both models in one program ($cc, main.$ext, $opt)"
    copies=$(nm "$b/two_models" | grep -c ' T mco_fully_connected_s8$')
    [ "$copies" = 1 ] || fail "the shared kernel mco_fully_connected_s8 is linked $copies times"
    objdump -t "$b/two_models" | grep -Eq '^[0-9a-f]+ .* \.mco_test_arena[[:space:]].* digits_arena$' ||
        fail "DIGITS_ARENA_SECTION did not place digits_arena ($cc $opt)"
done
echo "emit_package: both models in one CMake program (C and C++, gcc and clang, -O0 and -O2) equal the host runtime"

# The runtime options are those every model allows: here the fast
# requantization and digits' 3x3 conv shape (the only model using that
# kernel); a model voting against the first, or a second conv3x3 shape, turns
# each off for the whole build (the general paths, still exact).
options_are() {   # LOG FAST IN_H: the compile commands in LOG pass these values, and no other
    grep -q -- "-DMCO_REQUANT_FAST=$2" "$1" && grep -q -- "-DMCO_CONV3X3_IN_H=$3" "$1" &&
        [ "$(grep -o -- '-DMCO_REQUANT_FAST=[0-9]*' "$1" | sort -u | wc -l)" = 1 ] &&
        [ "$(grep -o -- '-DMCO_CONV3X3_IN_H=[0-9]*' "$1" | sort -u | wc -l)" = 1 ]
}
b=$work/build-votes
cmake -S "$work" -B "$b" -DCMAKE_C_COMPILER=gcc -DMAIN=main.c -DPKG="$work/pkg" -DCMAKE_C_FLAGS="$WARN -O2" \
    >"$work/cmake.log" 2>&1 && cmake --build "$b" -j2 -- VERBOSE=1 >"$work/votes.log" 2>&1 ||
    { cat "$work/cmake.log" "$work/votes.log"; fail "CMake build for the runtime options"; }
options_are "$work/votes.log" 1 28 || fail "CMake: the runtime options both models allow are not FAST=1, IN_H=28"
cp -r "$work/pkg" "$work/pkg-votes"
sed -i 's/MCO_REQUANT_FAST_VOTES 1)/MCO_REQUANT_FAST_VOTES 0)/' "$work/pkg-votes/kws/CMakeLists.txt"
grep -q 'MCO_REQUANT_FAST_VOTES 0)' "$work/pkg-votes/kws/CMakeLists.txt" || fail "CMakeLists.txt has no MCO_REQUANT_FAST vote to change"
echo 'set_property(TARGET mcuopt_runtime APPEND PROPERTY MCO_CONV3X3_SHAPES 1x1x1)' >>"$work/pkg-votes/kws/CMakeLists.txt"
rm -rf "$b"
cmake -S "$work" -B "$b" -DCMAKE_C_COMPILER=gcc -DMAIN=main.c -DPKG="$work/pkg-votes" -DCMAKE_C_FLAGS="$WARN -O2" \
    >"$work/cmake.log" 2>&1 && cmake --build "$b" -j2 -- VERBOSE=1 >"$work/votes.log" 2>&1 ||
    { cat "$work/cmake.log" "$work/votes.log"; fail "CMake build with a model voting against the options"; }
options_are "$work/votes.log" 0 0 || fail "CMake: a vote against the options did not turn them off"
"$b/two_models" || fail "both models with the general runtime paths (CMake)"
echo "emit_package: the shared runtime's options are those every model allows (CMake)"

# ---- 5. the same program from the .mk fragments -------------------------------
cat >"$work/Makefile" <<MAKE
PKG ?= $work/pkg
include \$(PKG)/kws/kws.mk
include \$(PKG)/digits/digits.mk
CFLAGS += -std=c99 -O2 $WARN \$(MCUOPT_CFLAGS) -I$work/vectors
two_models_make: $work/main.c \$(MCUOPT_SOURCES)
	\$(CC) \$(CFLAGS) -o \$@ \$^
MAKE
make -C "$work" -f Makefile two_models_make >"$work/make.log" 2>&1 || { cat "$work/make.log"; fail "make with both .mk fragments"; }
[ "$(grep -o 'mco_fully_connected_s8\.c' "$work/make.log" | wc -l)" = 1 ] ||
    { cat "$work/make.log"; fail "the .mk fragments do not compile the shared kernel once"; }
"$work/two_models_make" || fail "both models in one program (make)"
options_are "$work/make.log" 1 28 || fail "make: the runtime options both models allow are not FAST=1, IN_H=28"
sed -i 's/^MCUOPT_MCO_REQUANT_FAST_VOTES += 1$/MCUOPT_MCO_REQUANT_FAST_VOTES += 0/' "$work/pkg-votes/kws/kws.mk"
grep -q '^MCUOPT_MCO_REQUANT_FAST_VOTES += 0$' "$work/pkg-votes/kws/kws.mk" || fail "kws.mk has no MCO_REQUANT_FAST vote to change"
echo 'MCUOPT_CONV3X3_SHAPES += 1x1x1' >>"$work/pkg-votes/kws/kws.mk"
make -B -C "$work" -f Makefile PKG="$work/pkg-votes" two_models_make >"$work/make.log" 2>&1 ||
    { cat "$work/make.log"; fail "make with a model voting against the options"; }
options_are "$work/make.log" 0 0 || { cat "$work/make.log"; fail "make: a vote against the options did not turn them off"; }
"$work/two_models_make" || fail "both models with the general runtime paths (make)"
echo "emit_package: both models in one program from the .mk fragments equal the host runtime"

# ---- 6. both models in one Cortex-M4F firmware, run in QEMU ---------------------
# (the flags, start-up code, linker script and machine: tests/lib/mcu_build.sh)
fw=$PWD/firmware
mcu_setup gcc m4 -O0 "$fw" || fail "mcu_setup"
mkdir -p "$work/m4"
cp "$work/main.c" "$work/main.cpp" "$work/m4/"
cat >"$work/m4/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(two_models_m4 LANGUAGES C CXX)
add_subdirectory("$work/pkg/kws" kws)
add_subdirectory("$work/pkg/digits" digits)
add_executable(two_models "$BOARD_SOURCES" \${MAIN})
target_include_directories(two_models PRIVATE "$work/vectors")
target_link_libraries(two_models PRIVATE kws digits)
# the measurement firmware's link: arm-none-eabi-gcc whatever compiled the objects
foreach(lang C CXX)
  set(CMAKE_\${lang}_LINK_EXECUTABLE "arm-none-eabi-gcc $MCU_CPU <OBJECTS> -o <TARGET> <LINK_LIBRARIES> $MCU_LDFLAGS $MCU_LDLIBS")
endforeach()
CMAKE
for build in arm-none-eabi-gcc:arm-none-eabi-g++:c:-O0 arm-none-eabi-gcc:arm-none-eabi-g++:cpp:-O2 \
             clang:clang++:c:-O2 clang:clang++:cpp:-O0; do
    IFS=: read -r cc cxx ext opt <<<"$build"
    mcu_setup "${cc#arm-none-eabi-}" m4 "$opt" "$fw" || fail "mcu_setup"
    b=$work/m4/build-$cc-$ext$opt
    cmake -S "$work/m4" -B "$b" -DCMAKE_SYSTEM_NAME=Generic -DCMAKE_SYSTEM_PROCESSOR=arm \
        -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
        -DMAIN="main.$ext" -DCMAKE_C_FLAGS="$MCU_CFLAGS" \
        -DCMAKE_CXX_FLAGS="$MCU_CFLAGS -fno-exceptions -fno-rtti" >"$work/m4.log" 2>&1 &&
        cmake --build "$b" -j2 >>"$work/m4.log" 2>&1 || { cat "$work/m4.log"; fail "Cortex-M4 build $cc main.$ext $opt"; }
    mcu_run "$b/two_models" "$work/qemu.log"
    rc=$?
    cat "$work/qemu.log"
    [ $rc = 0 ] && grep -q "^16 of 16 outputs identical; caller arenas unused in 0 calls$" "$work/qemu.log" ||
        fail "both models on the emulated Cortex-M4 ($cc, main.$ext, $opt): exit status $rc"
done
echo "emit_package: both models in one Cortex-M4 firmware (C and C++, gcc and clang, -O0 and -O2) equal the host runtime in QEMU"
