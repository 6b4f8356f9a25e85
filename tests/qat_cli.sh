#!/usr/bin/env bash
# qat_cli.sh - `mcuopt qat`: usage errors, a model whose BatchNorm cannot be
# folded, and a real run on MNIST with a tiny model (the written .mcq loads
# and emits, and the int8 runtime's accuracy equals the fake-quantized
# model's within 0.1 points).
# The usage checks run first; without MNIST (MCO_MNIST_DIR, default
# ../shared/data/mnist) the test then ends as skipped (exit 77).
# Usage: qat_cli.sh PATH/TO/mcuopt   (run from the repository root)
set -u
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

. "$(dirname "$0")/lib/skip.sh"

# expect EXIT_CODE PATTERN -- command...: exit code and a one-line stderr matching PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$got" -ne "$code" ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
    fail "$* -> exit $got (want $code), stderr ($lines lines): $(cat "$tmp/err")"
  fi
}

expect 2 "missing -o" -- "$cli" qat model.mco
expect 2 "expected one MODEL" -- "$cli" qat -o "$tmp/q.mcq"
expect 2 "ema-decay must be in" -- "$cli" qat model.mco -o "$tmp/q.mcq" --ema-decay 1
expect 2 "freeze must be in" -- "$cli" qat model.mco -o "$tmp/q.mcq" --freeze 1.5
expect 1 "no-such.mco" -- "$cli" qat "$tmp/no-such.mco" -o "$tmp/q.mcq"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
require_mnist
mnist=$(mnist_dir)

# A BatchNorm straight after the input cannot be folded: int8 has no BatchNorm kernel.
printf 'input 28 28 1\nbatchnorm\nflatten\ndense units=classes\n' >"$tmp/bn_first.arch"
"$cli" train --arch "$tmp/bn_first.arch" --data "$mnist" --epochs 1 --val 59000 --quiet -o "$tmp/bn.mco" >/dev/null ||
  fail "training the BatchNorm model"
expect 1 "BatchNorm" -- "$cli" qat "$tmp/bn.mco" -o "$tmp/bn.mcq" --data "$mnist" --quiet
[ -e "$tmp/bn.mcq" ] && fail "a failed qat left $tmp/bn.mcq"

# A tiny conv net: float on 1000 images, then one QAT epoch.
printf 'input 28 28 1\nconv2d filters=2 kernel=3\nrelu\nmaxpool2d pool=2\nflatten\ndense units=classes\n' \
  >"$tmp/tiny.arch"
"$cli" train --arch "$tmp/tiny.arch" --data "$mnist" --epochs 1 --val 59000 --quiet -o "$tmp/tiny.mco" >/dev/null ||
  fail "training the tiny model"
if "$cli" qat "$tmp/tiny.mco" -o "$tmp/tiny.mcq" --data "$mnist" --epochs 1 --threads 2 --json >"$tmp/qat.json"; then
  fq=$(sed -n 's/.*"fake_quant_accuracy":[[:space:]]*\([0-9.e-]*\).*/\1/p' "$tmp/qat.json")
  rt=$(sed -n 's/.*"int8_accuracy":[[:space:]]*\([0-9.e-]*\).*/\1/p' "$tmp/qat.json")
  if [ -z "$fq" ] || [ -z "$rt" ]; then
    fail "qat --json lacks the accuracies: $(cat "$tmp/qat.json")"
  elif ! awk -v a="$fq" -v b="$rt" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.001 && a > 0.8) }'; then
    fail "fake-quantized accuracy $fq and int8 runtime accuracy $rt differ by more than 0.1 points (or are low)"
  fi
  "$cli" emit "$tmp/tiny.mcq" -o "$tmp/code" >/dev/null || fail "emit of the QAT model"
  [ -f "$tmp/code/model.c" ] || fail "emit of the QAT model wrote no model.c"
else
  fail "qat on the tiny model"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "qat_cli: all checks passed"
