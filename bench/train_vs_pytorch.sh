#!/usr/bin/env bash
# train_vs_pytorch.sh - one training epoch of each built-in architecture with
# mcuopt (bench/bench_train_epoch.c) and with PyTorch (Debian's
# python3-torch, bench/pytorch_train_epoch.py): same model, batch 32, Adam,
# the same thread count on both sides, synthetic data of the model's input
# shape preloaded before the clock starts.
#
# For each thread count and architecture it alternates the two sides, RUNS
# times each (mcuopt, PyTorch, mcuopt, ...), reads the 1-minute load average
# before every run, and prints every run with its load. A pair (one run of
# each side) is QUIET when the load before both of its runs is at most
# MAX_LOAD; the others are flagged and left out of the figures. It then
# prints the minimum and median time of each side over the quiet pairs and
# the ratio of the minima, or REFUSES to give figures for a case with fewer
# than 3 quiet pairs.
#
# MAX_LOAD defaults to the number of cores: the bench's own runs keep about
# `threads` of the load average busy, so this admits at most (cores -
# threads) of other work, i.e. no more than the cores the bench leaves idle.
# A busy machine slows PyTorch's OpenMP threads far more than mcuopt's (see
# docs/benchmarks.md), so figures taken under load flatter mcuopt.
#
# Usage: bench/train_vs_pytorch.sh [build_dir]     (from the repo root)
#   env: ARCHS="mnist-paper lenet5 ds-cnn resnet8 mobilenet-v1-0.25 ad-autoencoder" THREADS="2 1" RUNS=3
#        MAX_LOAD=<cores> SAMPLES=<per-architecture default>
# Exit status: 0 if every case had enough quiet pairs, 1 otherwise.
# What it leaves out: GPU, data loading and augmentation (both sides
# preload), statistics beyond min and median.
set -euo pipefail
build=${1:-build}
archs=${ARCHS:-"mnist-paper lenet5 ds-cnn resnet8 mobilenet-v1-0.25 ad-autoencoder"}
thread_counts=${THREADS:-"2 1"}
runs=${RUNS:-3}
cores=$(nproc)
max_load=${MAX_LOAD:-$cores}
samples=${SAMPLES:-0}

bash scripts/setup.sh python3-torch
if [ ! -x "$build/bench_train_epoch" ]; then
    cmake -S . -B "$build" >/dev/null
    cmake --build "$build" --target bench_train_epoch -j2 >/dev/null
fi

load1() { cut -d' ' -f1 /proc/loadavg; }
seconds_of() { sed -n 's/.*"train_seconds": *\([0-9.]*\).*/\1/p'; }
# stats "t1 t2 ..." -> "min median"
stats() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f", v[1], m }'; }
# target ARCH THREADS: the issue's goal for the ratio
target() {
    if [ "$1" = resnet8 ]; then [ "$2" = 1 ] && echo 1.0 || echo 0.8
    else [ "$2" = 1 ] && echo 0.7 || echo 0.5; fi
}

echo "machine: $cores cores, $(uname -m); quiet pair: 1-minute load <= $max_load before both runs"
status=0
for threads in $thread_counts; do
    for arch in $archs; do
        ours_times="" theirs_times="" flagged=0
        for run in $(seq 1 "$runs"); do
            l_ours=$(load1)
            t_ours=$("$build/bench_train_epoch" --arch "$arch" --threads "$threads" --samples "$samples" | seconds_of)
            l_theirs=$(load1)
            t_theirs=$(/usr/bin/python3 bench/pytorch_train_epoch.py "$arch" "$samples" "$threads" | seconds_of)
            quiet=$(awk -v a="$l_ours" -v b="$l_theirs" -v m="$max_load" 'BEGIN { print (a <= m && b <= m) ? 1 : 0 }')
            mark="quiet"
            if [ "$quiet" = 1 ]; then
                ours_times="$ours_times $t_ours"
                theirs_times="$theirs_times $t_theirs"
            else
                mark="FLAGGED: load above $max_load, left out"
                flagged=$((flagged + 1))
            fi
            printf '%-12s %s thr run %d: mcuopt %7.3f s (load %s)  pytorch %7.3f s (load %s)  %s\n' \
                "$arch" "$threads" "$run" "$t_ours" "$l_ours" "$t_theirs" "$l_theirs" "$mark"
        done
        n_quiet=$(printf '%s\n' $ours_times | grep -c . || true)
        if [ "$n_quiet" -lt 3 ]; then
            echo "$arch $threads thr: REFUSED: $n_quiet quiet pairs of $runs ($flagged taken under load); no figures"
            status=1
            continue
        fi
        read -r o_min o_med <<<"$(stats "$ours_times")"
        read -r p_min p_med <<<"$(stats "$theirs_times")"
        goal=$(target "$arch" "$threads")
        awk -v a="$arch" -v t="$threads" -v om="$o_min" -v od="$o_med" -v pm="$p_min" -v pd="$p_med" \
            -v g="$goal" -v n="$n_quiet" 'BEGIN { r = om / pm
            printf "%s %s thr (%d quiet pairs): mcuopt min %.3f median %.3f s | pytorch min %.3f median %.3f s | " \
                   "ratio of minima %.3f (goal <= %s: %s; %+.3f from 0.5)\n", a, t, n, om, od, pm, pd, r, g,
                   r <= g ? "met" : "NOT met", r - 0.5 }'
    done
done
exit $status
