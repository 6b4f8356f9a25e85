#!/bin/bash
# bench/search_vs_baselines.sh - the search's samplers against each other at
# the same budget in trials (not seconds, so the machine's load changes the
# time, not the figures): `mcuopt search --sampler tpe`, `--sampler nsga2`
# (its default objective: the Pareto front) and `--sampler random`, each
# over SEEDS seeds (1..SEEDS). For each sampler it prints the mean, the
# sample standard deviation and the range over the seeds of
#   - the best feasible cost (docs/search.md: 0.4 log F/F0 + 0.2 log R/R0 +
#     0.3 log L/L0 + 0.1 log E/E0 against the starting model as int8, on the
#     trials' figures; lower is better; a seed with no feasible trial counts
#     as 0, the starting model's cost, and is reported);
#   - the hypervolume of the front (docs/search.md: accuracy points above
#     the floor x Flash saved x latency saved, reference point the starting
#     model at the floor; higher is better);
# then one row per run. Runs are kept in $BENCH_DIR (default
# bench-search-out) and reused when their JSON is there.
# Usage: bench/search_vs_baselines.sh [CLI] [DATA] [TRIALS] [TARGET] [MIN_ACC %] [CLOCK MHz] [SEEDS]
#        [extra search options...]
# (defaults: build/mcuopt ../shared/data/mnist 40 stm32f405 97.9 160 3).
# The starting model: `train --arch mnist-paper --epochs 3 --seed 1`.
# What it leaves out: a fixed-pipeline baseline (docs/benchmarks.md, issue 5,
# has one), wall-clock comparisons.
set -euo pipefail
CLI=${1:-build/mcuopt}
DATA=${2:-../shared/data/mnist}
TRIALS=${3:-40}
TARGET=${4:-stm32f405}
MIN_ACC=${5:-97.9}
CLOCK=${6:-160}
SEEDS=${7:-3}
shift $(($# < 7 ? $# : 7))
EXTRA=("$@")
W=${BENCH_DIR:-bench-search-out}
mkdir -p "$W"
[ -f "$W/m.mco" ] || "$CLI" train --arch mnist-paper --data "$DATA" --epochs 3 --seed 1 -o "$W/m.mco" --quiet

common=(--target "$TARGET" --min-accuracy "$MIN_ACC" --max-trials "$TRIALS" --budget 24h --clock-mhz "$CLOCK"
        --data "$DATA" --quiet --json "${EXTRA[@]}")
for sampler in tpe nsga2 random; do
    for seed in $(seq 1 "$SEEDS"); do
        run="$sampler-$seed"
        [ -s "$W/$run.json" ] && continue
        echo "== $sampler, seed $seed, $TRIALS trials" >&2
        rm -rf "$W/$run"
        # exit 1 (nothing feasible) still writes the JSON
        "$CLI" search "$W/m.mco" "${common[@]}" --sampler "$sampler" --seed "$seed" -o "$W/$run" > "$W/$run.tmp" || true
        mv "$W/$run.tmp" "$W/$run.json"
    done
done

python3 - "$W" "$SEEDS" <<'PY'
import json, statistics, sys
w, seeds = sys.argv[1], int(sys.argv[2])
def spread(xs):
    m = statistics.mean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return m, sd, min(xs), max(xs)
rows = []
print("| sampler (objective) | best feasible cost: mean ± sd [min, max] | hypervolume: mean ± sd [min, max] | seeds without a feasible trial |")
print("| --- | --- | --- | --- |")
for sampler in ("tpe", "nsga2", "random"):
    costs, hvs, missing = [], [], 0
    for seed in range(1, seeds + 1):
        r = json.load(open(f"{w}/{sampler}-{seed}.json"))
        cost = r["best"]["objective"] if r.get("found") else 0.0
        missing += not r.get("found")
        costs.append(cost)
        hvs.append(r["hypervolume"]["value"])
        rows.append((sampler, seed, r["objective"], r["trials"], r["done"], r["pruned"], cost,
                     r["hypervolume"]["value"], r["hypervolume"]["front_size"],
                     r["best"]["config"] if r.get("found") else "-", r.get("formats_dropped")))
    c, h = spread(costs), spread(hvs)
    objective = rows[-1][2]
    print(f"| {sampler} ({objective}) | {c[0]:+.3f} ± {c[1]:.3f} [{c[2]:+.3f}, {c[3]:+.3f}] "
          f"| {h[0]:.4f} ± {h[1]:.4f} [{h[2]:.4f}, {h[3]:.4f}] | {missing} of {seeds} |")
print()
print("| sampler | seed | trials (done, pruned) | best cost | hypervolume | front | chosen pipeline | formats dropped |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for s, seed, obj, n, done, pruned, cost, hv, front, config, dropped in rows:
    print(f"| {s} | {seed} | {n} ({done}, {pruned}) | {cost:+.3f} | {hv:.4f} | {front} | `{config}` | {dropped or '-'} |")
PY
