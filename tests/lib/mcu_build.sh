# mcu_build.sh - sourced by tests and benches that cross-build C for an
# emulated Cortex-M and run it in QEMU with the measurement firmware's
# start-up code (firmware/startup.c: vector table, reset handler, newlib
# semihosting) and linker scripts (firmware/ld/MACHINE.ld), one QEMU machine
# per core as `mcuopt measure` picks them (targets/*.json, the calibration
# table): m0plus and m3 on mps2-an385, m4 (M4F) on mps2-an386, m7 on
# mps2-an500, m33 on mps2-an505.
#
#   mcu_setup CC CORE LEVEL FIRMWARE_DIR   CC gcc|clang, CORE m0plus|m3|m4|m7|m33
#
# sets and exports what a package's README cross-build commands take:
#   MCU_CC       arm-none-eabi-gcc, or clang
#   MCU_CFLAGS   CPU (the -mcpu/-mfpu/-mfloat-abi of `mcuopt measure`), LEVEL,
#                -Wall -Wextra -Werror, and for clang the target, newlib's
#                sysroot and the ABI options the measure build uses
#                (-fshort-enums, -munaligned-access on v7-M/v8-M mainline)
#   MCU_LDFLAGS  the machine's linker script; gcc links with nano.specs and
#                rdimon.specs, clang with -nostdlib and arm-none-eabi-ld
#   MCU_LDLIBS   clang: newlib-nano, rdimon, libm and libgcc of the core's
#                multilib (gcc: -lm)
#   TOOLCHAIN_FILE  tests/lib/toolchain-{arm-none-eabi-gcc,clang-arm-none-eabi}.cmake
#                (they read the MCU_* variables)
#   BOARD_SOURCES   FIRMWARE_DIR/startup.c
#   MCU_MACHINE  the QEMU machine
#   MCU_CPU      the CPU flags alone (-mthumb -mcpu=... -mfpu/-mfloat-abi)
# and returns 1 (with a line on stderr) for an unknown CC or CORE.
#
#   mcu_run ELF LOG [PLUGIN]   runs ELF on $MCU_MACHINE (semihosting, 120 s
#                     at most), output in LOG, with the QEMU plugin argument
#                     PLUGIN if given (-plugin PLUGIN -d plugin); returns the
#                     firmware's exit status
#
# Leaves out: skipping (the caller checks the tools first), building.

mcu_setup() {
  local cc=$1 core=$2 level=$3 fw=$4 cpu machine sysroot multi
  case $core in
    m0plus) cpu="-mcpu=cortex-m0plus -mfloat-abi=soft" machine=mps2-an385 ;;
    m3) cpu="-mcpu=cortex-m3 -mfloat-abi=soft" machine=mps2-an385 ;;
    m4) cpu="-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard" machine=mps2-an386 ;;
    m7) cpu="-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard" machine=mps2-an500 ;;
    m33) cpu="-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard" machine=mps2-an505 ;;
    *) echo "mcu_setup: unknown core '$core' (m0plus, m3, m4, m7, m33)" >&2; return 1 ;;
  esac
  cpu="-mthumb $cpu"
  MCU_CPU=$cpu
  fw=$(cd "$fw" && pwd)
  MCU_MACHINE=$machine
  BOARD_SOURCES=$fw/startup.c
  MCU_LDFLAGS="-Wl,--gc-sections -L$fw/ld -T$fw/ld/$machine.ld"
  case $cc in
    gcc)
      MCU_CC=arm-none-eabi-gcc
      MCU_CFLAGS="$cpu $level -Wall -Wextra -Werror -ffunction-sections -fdata-sections"
      MCU_LDFLAGS="--specs=nano.specs --specs=rdimon.specs -nostartfiles $MCU_LDFLAGS"
      MCU_LDLIBS=-lm
      TOOLCHAIN_FILE=$PWD/tests/lib/toolchain-arm-none-eabi-gcc.cmake ;;
    clang)
      sysroot=$(dirname "$(dirname "$(arm-none-eabi-gcc -print-file-name=libc.a)")")
      multi=$(arm-none-eabi-gcc $cpu -print-multi-directory)
      MCU_CC=clang
      MCU_CFLAGS="--target=arm-none-eabi --sysroot=$sysroot $cpu -fshort-enums $level -Wall -Wextra -Werror"
      MCU_CFLAGS="$MCU_CFLAGS -ffunction-sections -fdata-sections"
      case $core in m0plus) ;; *) MCU_CFLAGS="$MCU_CFLAGS -munaligned-access" ;; esac
      MCU_LDFLAGS="--ld-path=$(command -v arm-none-eabi-ld) -nostdlib -L$sysroot/lib/$multi $MCU_LDFLAGS"
      MCU_LDLIBS="-Wl,--start-group -lc_nano -lrdimon_nano -lm $(arm-none-eabi-gcc $cpu -print-libgcc-file-name) -Wl,--end-group"
      TOOLCHAIN_FILE=$PWD/tests/lib/toolchain-clang-arm-none-eabi.cmake ;;
    *) echo "mcu_setup: unknown compiler '$cc' (gcc, clang)" >&2; return 1 ;;
  esac
  export MCU_CPU MCU_CC MCU_CFLAGS MCU_LDFLAGS MCU_LDLIBS TOOLCHAIN_FILE BOARD_SOURCES MCU_MACHINE
}

mcu_run() {
  local plugin=()
  [ -z "${3:-}" ] || plugin=(-plugin "$3" -d plugin)
  timeout 120 qemu-system-arm -M "$MCU_MACHINE" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$1" "${plugin[@]}" >"$2" 2>&1
}
