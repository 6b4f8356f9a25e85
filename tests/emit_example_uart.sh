#!/bin/bash
# emit_example_uart.sh - `mcuopt emit --example uart` (issue 14, item 7): the
# example prints through two functions a user fills in for their board
# (example/board.c: board_init, board_putc) instead of printf:
#   1. the package holds example/board.h and example/board.c besides the
#      usual files, and the README's host build runs as written (the stub
#      prints nothing; the exit status says the outputs are right);
#   2. board.c filled in as its comment says for Arm's CMSDK UART, the
#      example cross-built for a Cortex-M4F (QEMU mps2-an386, the
#      measurement firmware's start-up code and linker script) prints its
#      line on the emulated UART, and its outputs equal the host runtime's;
#   3. the same with board_putc writing to stdout on the host.
# What it leaves out: real boards (the stub's registers are the emulator's
# UART), the semihost example (tests/emit_package.sh).
# Usage: emit_example_uart.sh PATH/TO/mcuopt (from the repo root). Skipped
# (exit 77) when a tool is missing.
set -u
cli=${1:?usage: emit_example_uart.sh PATH/TO/mcuopt}
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_cmd cc gcc
require_arm_tools
tmp=$(mktemp -d /tmp/mco-example-uart-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
line="^digits: largest output [0-9] of 10; outputs equal the host runtime's"

"$cli" emit --random-arch mnist-paper --random-format int8 --name digits --example uart --input-type uint8 \
  -o "$tmp/pkg" >"$tmp/emit.log" 2>&1 || { cat "$tmp/emit.log"; fail "emit --example uart"; }
p=$tmp/pkg

# ---- 1. the files and the README's host build --------------------------------------
got=$(cd "$p" && find . -type f ! -path './mcuopt_runtime/*' | sort | tr '\n' ' ')
want="./CMakeLists.txt ./README.md ./digits.c ./digits.h ./digits.mk ./example/board.c ./example/board.h ./example/main.c "
[ "$got" = "$want" ] || fail "the package holds '$got', expected '$want'"
grep -q 'printf' "$p/example/main.c" && fail "example/main.c still uses printf"
grep -q '^void board_putc(char c)$' "$p/example/board.c" && grep -q '^void board_init(void)$' "$p/example/board.c" ||
  fail "example/board.c does not define board_init and board_putc"
block=$(awk '/^```sh$/ {on = 1; next} /^```$/ {if (on) exit} on' "$p/README.md")
echo "$block" | grep -q 'example/board.c' || fail "the README's build command leaves out example/board.c"
cp -r "$p" "$tmp/copy"
(cd "$tmp/copy" && bash -e -c "$block") >"$tmp/host.log" 2>&1 || { cat "$tmp/host.log"; fail "the README's host build"; }
[ ! -s "$tmp/host.log" ] || { cat "$tmp/host.log"; fail "the stub printed something"; }
(cd "$tmp/copy" && make -f digits.mk >/dev/null && ./digits_example) || fail "make -f digits.mk"
echo "emit_example_uart: the package and its README's host build (the stub prints nothing, exits 0)"

# ---- 2. on the emulated Cortex-M4F, with the CMSDK UART -----------------------------
cat >"$tmp/board_cmsdk.c" <<'C'
/* board.c as its comment says for the CMSDK UART0 of QEMU's mps2-an386 */
#include <stdint.h>
#include "board.h"
#define UART0 ((volatile uint32_t *)0x40004000u)
void board_init(void) { UART0[4] = 16u; UART0[2] = 1u; }
void board_putc(char c) { while (UART0[1] & 1u) {} UART0[0] = (uint8_t)c; }
C
fw=$PWD/firmware
m4="-mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
arm-none-eabi-gcc $m4 -std=c99 -O2 -Wall -Wextra -Werror -ffp-contract=off -ffunction-sections -fdata-sections \
  -I"$p" -I"$p/mcuopt_runtime" -I"$p/example" "$fw/startup.c" "$p/example/main.c" "$tmp/board_cmsdk.c" "$p/digits.c" \
  "$p"/mcuopt_runtime/*.c --specs=nano.specs --specs=rdimon.specs -nostartfiles -Wl,--gc-sections -L"$fw/ld" \
  -T"$fw/ld/mps2-an386.ld" -lm -o "$tmp/example.elf" >"$tmp/arm.log" 2>&1 || { cat "$tmp/arm.log"; fail "Cortex-M4 build"; }
timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial stdio \
  -semihosting-config enable=on,target=native -kernel "$tmp/example.elf" >"$tmp/qemu.log" 2>&1
rc=$?
cat "$tmp/qemu.log"
[ $rc = 0 ] && grep -q "$line" "$tmp/qemu.log" || fail "the example on the emulated UART (exit status $rc)"
echo "emit_example_uart: the example prints on the emulated Cortex-M4's UART, outputs equal the host runtime's"

# ---- 3. on the host, board_putc to stdout --------------------------------------------
printf '#include <stdio.h>\n#include "board.h"\nvoid board_init(void) {}\nvoid board_putc(char c) { putchar(c); }\n' \
  >"$tmp/board_host.c"
cc -std=c99 -O2 -Wall -Wextra -Werror -ffp-contract=off -I"$p" -I"$p/mcuopt_runtime" -I"$p/example" \
  "$p/example/main.c" "$tmp/board_host.c" "$p/digits.c" "$p"/mcuopt_runtime/*.c -o "$tmp/host_example" || fail "host build"
"$tmp/host_example" >"$tmp/host.out" && grep -q "$line" "$tmp/host.out" || { cat "$tmp/host.out"; fail "the host example"; }
echo "emit_example_uart: all checks passed"
