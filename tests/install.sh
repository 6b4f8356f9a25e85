#!/usr/bin/env bash
# install.sh - `cmake --install` makes a self-contained mcuopt. A copy of the
# source tree is configured, built (the CLI and the libraries) and installed
# to a temporary prefix; then the copy and its build tree are deleted, the
# prefix is moved to another place, and from an unrelated directory, with no
# MCO_* variable set, the installed mcuopt must:
#   - hold bin/, the libraries, the headers, share/mcuopt/{targets,runtime,
#     firmware} and a pkg-config file, and no path of the deleted trees;
#   - list the targets (`mcuopt targets`);
#   - run the main job on a tiny MNIST subset (`mcuopt run`: train, int8,
#     emit C, measure on QEMU with every output bit-identical to the host),
#     its measurement using the installed firmware (`mcuopt -v measure`);
#   - estimate from the installed calibration table (`mcuopt estimate`);
# and a program compiled against the installed headers and libraries
# (pkg-config mcuopt) must load a target through a context rooted at the
# installed share/mcuopt. $1 (the CLI every shell test gets) is not used:
# the test builds its own. Skips (tests/lib/skip.sh) when MNIST, the Arm
# toolchain, QEMU or pkg-config is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/mini_mnist.sh
source tests/lib/skip.sh
require_arm_tools
require_cmd pkg-config pkg-config
require_mnist

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install: FAIL: $*" >&2; exit 1; }

# A copy of the source: every top-level entry but .git and build trees (a
# directory with a CMakeCache.txt).
mkdir "$tmp/src"
for entry in * .[!.]*; do
  [ -e "$entry" ] || continue
  [ "$entry" = .git ] && continue
  [ -f "$entry/CMakeCache.txt" ] && continue
  cp -R "$entry" "$tmp/src/"
done
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configure"; }
cmake --build "$tmp/build" -j2 --target mcuopt_cli >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; fail "build"; }
cmake --install "$tmp/build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "install"; }
src_path=$tmp/src build_path=$tmp/build
rm -rf "$tmp/src" "$tmp/build"
mv "$tmp/prefix" "$tmp/moved"   # the prefix it was installed to is gone too
prefix=$(cd "$tmp/moved" && pwd -P)
mcuopt=$prefix/bin/mcuopt

# The layout.
for f in bin/mcuopt share/mcuopt/targets/stm32f405.json share/mcuopt/targets/calibration/resource-model.json \
         share/mcuopt/runtime/mco_runtime.h share/mcuopt/firmware/harness_main.c \
         share/mcuopt/firmware/mco_layer_mark.h share/mcuopt/firmware/ld/netduinoplus2.ld \
         share/mcuopt/firmware/plugin/mco_insn_profile.c include/mcuopt/context.h include/mcuopt/target.h; do
  [ -e "$prefix/$f" ] || fail "$f not installed"
done
pc=$(find "$prefix" -name mcuopt.pc | head -1)
[ -n "$pc" ] || fail "no mcuopt.pc installed"
n_libs=$(find "$prefix" -name 'libmcuopt_*.a' | wc -l)
[ "$n_libs" -ge 13 ] || fail "$n_libs libraries installed (expected the 12 areas and the runtime)"
if grep -rlF -e "$src_path" -e "$build_path" "$prefix" >"$tmp/refs.txt"; then
  cat "$tmp/refs.txt"
  fail "installed files name the deleted source or build tree"
fi

# The installed CLI, from an unrelated directory, with no override.
mkdir "$tmp/work"
make_mini_mnist "$tmp/work/mini"   # from the repository root: MCO_MNIST_DIR may be relative to it
cd "$tmp/work"
unset MCO_TARGETS_DIR MCO_RUNTIME_DIR MCO_FIRMWARE_DIR MCO_RESOURCE_MODEL MCO_DATA_DIR
"$mcuopt" targets >targets.txt || fail "mcuopt targets"
grep -q "^stm32f405 " targets.txt || { cat targets.txt; fail "mcuopt targets does not list stm32f405"; }
"$mcuopt" targets --help | grep -qF "$prefix/share/mcuopt/targets" || fail "targets --help does not name the installed directory"
echo "install: mcuopt targets lists $(($(wc -l <targets.txt) - 1)) profiles from $prefix/share/mcuopt/targets"

"$mcuopt" run --data mini --val 50 --epochs 1 --images 10 --target stm32f405 --quiet -o out >run.txt 2>run.err ||
  { cat run.txt run.err; fail "mcuopt run"; }
grep -q "10 of 10 outputs bit-identical" run.txt || { cat run.txt; fail "mcuopt run: outputs differ"; }
[ -f out/summary.json ] && [ -f out/code/model.c ] && [ -f out/code/mcuopt_runtime/mco_runtime.h ] && [ ! -e out/code/measure ] || fail "mcuopt run: outputs missing"
echo "install: mcuopt run: $(grep 'bit-identical' run.txt | sed 's/^ *//')"

"$mcuopt" -v measure out/model-int8.mcq --target cortex-m0plus-32k --data mini --images 3 >measure.txt 2>measure.err ||
  { cat measure.txt measure.err; fail "mcuopt measure"; }
grep -qF "firmware from $prefix/share/mcuopt/firmware" measure.err ||
  { cat measure.err; fail "mcuopt -v measure does not report the installed firmware"; }
"$mcuopt" estimate out/model-int8.mcq --target stm32f405 >estimate.txt || fail "mcuopt estimate"
grep -q "cycles" estimate.txt || { cat estimate.txt; fail "mcuopt estimate printed no cycles"; }
echo "install: mcuopt measure and estimate use $prefix/share/mcuopt"

# A program embedding the library, through pkg-config.
cat >embed.c <<'EOF'
#include <stdio.h>
#include "mcuopt/context.h"
#include "mcuopt/search_driver.h"
#include "mcuopt/target.h"
int main(int argc, char **argv)
{
    mco_context *ctx;
    mco_target_profile t;
    mco_search_options so;   /* the top layer: links every area below it */
    if (argc != 2 || mco_context_create(&ctx) != MCO_OK) return 2;
    mco_search_options_default(&so);
    so.ctx = ctx;
    mco_status st = mco_context_set_root(ctx, argv[1]);
    if (st == MCO_OK) st = mco_target_load(ctx, "stm32f405", &t);
    if (st == MCO_OK) printf("%s: %s, %d KB RAM; search defaults: %d worker\n", t.name, t.core_name, t.ram_kb, so.workers);
    else fprintf(stderr, "embed: %s\n", mco_last_error());
    mco_context_free(ctx);
    return st == MCO_OK ? 0 : 1;
}
EOF
export PKG_CONFIG_PATH=$(dirname "$pc")
cc -std=c11 -Wall -Werror embed.c -o embed $(pkg-config --cflags --libs mcuopt) || fail "embedding program does not build"
./embed "$prefix/share/mcuopt" | tee embed.txt
grep -q "stm32f405: cortex-m4f" embed.txt || fail "embedding program"
echo "install: all checks passed"
