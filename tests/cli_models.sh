#!/usr/bin/env bash
# cli_models.sh - commands given good models print sound results (issue 11,
# defects 7 and 11; bad input is tests/cli_errors.sh):
#   - `eval` takes a quantized deploy model (.mcq) as well as a float one
#     (.mco), and its accuracy for the .mcq is the one `quantize` printed for
#     the integer runtime;
#   - `estimate` prints no negative quantity as a huge unsigned number (it
#     printed "(model_run, base code) 18446744073709551529" bytes on samd21):
#     every figure is below 2^32, and the ops' code plus the base code row
#     add up to the code total, for float and int8 models on every profile.
# Usage: cli_models.sh PATH/TO/mcuopt   (run from the repository root).
# Skipped (exit 77) without MNIST.
set -u
. "$(dirname "$0")/lib/skip.sh"
require_mnist
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_mnist "$tmp/mini"
"$cli" train --arch mnist-paper --data "$tmp/mini" --epochs 1 --val 50 --quiet -o "$tmp/m.mco" >/dev/null ||
  fail "train"
"$cli" quantize "$tmp/m.mco" --mode int8 --data "$tmp/mini" --json -o "$tmp/m.mcq" >"$tmp/quantize.json" ||
  fail "quantize"

# eval of the .mcq: the integer runtime's accuracy, as quantize reported it.
if "$cli" eval "$tmp/m.mcq" --data "$tmp/mini" --json >"$tmp/eval.json" 2>"$tmp/eval.err"; then
  want=$(grep -o '"quantized_accuracy":[[:space:]]*[0-9.e-]*' "$tmp/quantize.json" | grep -o '[0-9.e-]*$')
  got=$(grep -o '"accuracy":[[:space:]]*[0-9.e-]*' "$tmp/eval.json" | grep -o '[0-9.e-]*$')
  grep -q '"runtime":[[:space:]]*"mcu"' "$tmp/eval.json" || fail "eval of a .mcq did not use the MCU runtime"
  [ -n "$want" ] && [ "$got" = "$want" ] || fail "eval m.mcq: accuracy $got, quantize printed $want"
else
  fail "eval m.mcq: $(cat "$tmp/eval.err")"
fi
"$cli" eval "$tmp/m.mco" --data "$tmp/mini" --json >"$tmp/evalf.json" || fail "eval m.mco"
grep -q '"runtime":[[:space:]]*"float"' "$tmp/evalf.json" || fail "eval of a .mco did not use the float model"

# estimate: rows that add up, no wrapped-around numbers.
for model in "$tmp/m.mco" "$tmp/m.mcq"; do
  for target in targets/*.json; do
    name=$(basename "$target" .json)
    if ! "$cli" estimate "$model" --target "$name" >"$tmp/est.txt" 2>"$tmp/est.err"; then
      grep -q "no calibration for the core" "$tmp/est.err" || fail "estimate $model $name: $(cat "$tmp/est.err")"
      continue
    fi
    huge=$(grep -oE '[0-9]{10,}' "$tmp/est.txt" | head -n 1)
    [ -z "$huge" ] || fail "estimate $(basename "$model") on $name prints $huge"
    # op rows: "  N  layer  kernel  MACs  Flash  (code) ..."; the base row names model_run.
    ops=$(awk '$1 ~ /^[0-9]+$/ && NF >= 8 {s += $6} END {print s + 0}' "$tmp/est.txt")
    base=$(awk '/\(model_run, base code\)/ {print $(NF - 3)}' "$tmp/est.txt")
    total=$(sed -n 's/^Flash: .*code \([0-9]*\);.*/\1/p' "$tmp/est.txt")
    [ -n "$base" ] && [ -n "$total" ] && [ $((ops + base)) -eq "$total" ] ||
      fail "estimate $(basename "$model") on $name: ops' code $ops + base ${base:-?} != code ${total:-?}"
  done
done

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "cli_models: eval takes .mcq; estimate figures add up on every profile"
