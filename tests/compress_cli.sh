#!/usr/bin/env bash
# compress_cli.sh - the compression commands end to end on a tiny MNIST
# subset: prune (schedule), shrink (structured), sensitivity, distill,
# compress (a pipeline string), qat-free quantize + emit, and fine-tuning
# with train --init. Each must succeed,
# write its output, and report what it did (JSON values checked, and every
# written model read back). Skipped (exit 77) without MNIST.
# Usage: compress_cli.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_mnist "$tmp/mini"
d=(--data "$tmp/mini" --val 50 --quiet)

"$cli" train --arch mnist-paper --epochs 1 "${d[@]}" -o "$tmp/m.mco" >/dev/null
# fine-tuning a saved (or imported) model goes on from its weights
"$cli" train --init "$tmp/m.mco" --epochs 1 "${d[@]}" -o "$tmp/ft.mco" --json >"$tmp/ft.json"
grep -q "\"arch\":.*m.mco" "$tmp/ft.json"
"$cli" info "$tmp/ft.mco" | grep -q "13x13x12"

"$cli" prune "$tmp/m.mco" -o "$tmp/p.mco" --sparsity 0.5 --epochs 1 "${d[@]}" --json >"$tmp/prune.json"
grep -Eq '^\s*"sparsity":\s*0\.5,' "$tmp/prune.json"   # the reached sparsity, not the requested one
"$cli" info "$tmp/p.mco" >/dev/null
"$cli" shrink "$tmp/m.mco" -o "$tmp/s.mco" --ratio 0.5 --criterion l1 --fine-tune-epochs 1 --data "$tmp/mini" --quiet --json >"$tmp/shrink.json"
grep -Eq '^\s*"parameters_after":\s*10210,' "$tmp/shrink.json"
"$cli" info "$tmp/s.mco" | grep -q "13x13x6"
"$cli" sensitivity "$tmp/m.mco" --ratios 0.25,0.5 --data "$tmp/mini" --split test --json >"$tmp/sens.json"
grep -q conv2d_0 "$tmp/sens.json"
"$cli" distill --teacher "$tmp/m.mco" --width 0.5 --epochs 1 "${d[@]}" -o "$tmp/d.mco" --json >"$tmp/distill.json"
grep -Eq '^\s*"teacher_parameters":\s*20410,' "$tmp/distill.json"
"$cli" info "$tmp/d.mco" | grep -q "13x13x6"
"$cli" compress "$tmp/m.mco" --stages "prune:structured=0.5,criterion=l1,epochs=1 -> distill:T=4,alpha=0.1,epochs=1 -> quant:int8" \
  "${d[@]}" -o "$tmp/c" --json >"$tmp/compress.json"
[ "$(grep -c '"stage":' "$tmp/compress.json")" -eq 4 ]   # input + three stages
grep -q '"stage":.*"quant:int8"' "$tmp/compress.json"
"$cli" emit "$tmp/c.mcq" -o "$tmp/c_code" >/dev/null   # the last stage quantizes: OUT.mcq, which loads
[ -s "$tmp/c_code/model.c" ]
"$cli" compress "$tmp/m.mco" --stages "prune:bogus=1" "${d[@]}" -o "$tmp/bad" 2>"$tmp/err" && exit 1
grep -q "unknown parameter 'bogus'" "$tmp/err"
echo "compress_cli: all checks passed"
