#!/bin/sh
# train_vs_pytorch.sh - one epoch of MNIST on `mnist-paper` (batch 32, Adam,
# 2 threads) with mcuopt (bench/bench_train_epoch.c, which calls the library
# directly) and with PyTorch (bench/pytorch_mnist_paper.py, Debian's
# python3-torch), then prints both training times and their ratio.
# The requirement is mcuopt <= 0.5 x PyTorch.
#
# Usage: bench/train_vs_pytorch.sh [build_dir] [mnist_dir]   (run from the repo root)
# What it leaves out: repeated runs and statistics; the machine is shared, so
# run it more than once when the figures matter.
set -eu
build=${1:-build}
data=${2:-../shared/data/mnist}

bash scripts/setup.sh python3-torch
if [ ! -x "$build/bench_train_epoch" ]; then
    cmake -S . -B "$build" >/dev/null
    cmake --build "$build" --target bench_train_epoch -j2 >/dev/null
fi

json_field() { # json_field NAME JSON_LINE
    printf '%s\n' "$2" | sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"
}

ours=$("$build/bench_train_epoch" "$data" 1 2 32)
theirs=$(/usr/bin/python3 bench/pytorch_mnist_paper.py "$data" 1 2)
echo "mcuopt:  $ours"
echo "pytorch: $theirs"
t_ours=$(json_field train_seconds "$ours")
t_theirs=$(json_field train_seconds "$theirs")
awk -v a="$t_ours" -v b="$t_theirs" 'BEGIN {
    r = a / b
    printf "epoch time: mcuopt %.2f s, pytorch %.2f s, ratio %.3f (%s)\n", a, b, r, r <= 0.5 ? "ok: <= 0.5" : "TOO SLOW: > 0.5"
    exit r <= 0.5 ? 0 : 1 }'
