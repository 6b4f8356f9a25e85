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
# The starting model: `train --arch $ARCH --epochs $EPOCHS --seed 1 $TRAIN_OPTS`
# (environment; defaults mnist-paper, 3, none), e.g. ds-cnn on a keyword
# set: ARCH=ds-cnn EPOCHS=20 TRAIN_OPTS="--val 200" with DATA the folder of
# scripts/make_kws_set.sh. SAMPLERS (default "tpe nsga2 random") picks the
# samplers.
# FIXED="STAGES" adds the fixed-pipeline baseline: `mcuopt compress` of the
# starting model with those stages (e.g. "prune:sparsity=0.5,epochs=2 ->
# quant:int8") for each seed, and a second table on figures measured on the
# emulated TARGET for every method's model (the int8 model alone, the fixed
# pipeline, each search's chosen model): test accuracy, Flash, RAM, exact
# instructions, and the measured cost 0.4 log F/F0 + 0.2 log R/R0 + 0.4 log
# I/I0 against int8 alone (I: instructions per inference; the energy term of
# the search's cost is folded into the latency one, as energy is power x
# time at one clock), mean and sample sd over the seeds.
# What it leaves out: wall-clock comparisons.
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
ARCH=${ARCH:-mnist-paper}
read -r -a train_opts <<<"${TRAIN_OPTS:-}"
[ -f "$W/m.mco" ] || "$CLI" train --arch "$ARCH" --data "$DATA" --epochs "${EPOCHS:-3}" --seed 1 "${train_opts[@]}" \
    -o "$W/m.mco" --quiet

if [ -n "${FIXED:-}" ]; then
    [ -f "$W/int8.mcq" ] || "$CLI" quantize "$W/m.mco" --data "$DATA" -o "$W/int8.mcq" >/dev/null
    [ -s "$W/int8.eval.json" ] || "$CLI" eval "$W/int8.mcq" --data "$DATA" --json >"$W/int8.eval.json"
    [ -s "$W/int8.measure.json" ] ||
        "$CLI" measure "$W/int8.mcq" --target "$TARGET" --clock-mhz "$CLOCK" --data "$DATA" --images 5 --json \
            >"$W/int8.measure.json"
    for seed in $(seq 1 "$SEEDS"); do
        [ -s "$W/fixed-$seed.measure.json" ] && continue
        echo "== fixed pipeline, seed $seed" >&2
        "$CLI" compress "$W/m.mco" --stages "$FIXED" --data "$DATA" --seed "$seed" "${train_opts[@]}" --quiet \
            -o "$W/fixed-$seed" \
            >/dev/null
        "$CLI" eval "$W/fixed-$seed.mcq" --data "$DATA" --json >"$W/fixed-$seed.eval.json"
        "$CLI" measure "$W/fixed-$seed.mcq" --target "$TARGET" --clock-mhz "$CLOCK" --data "$DATA" --images 5 \
            --json >"$W/fixed-$seed.measure.json"
    done
fi

common=(--target "$TARGET" --min-accuracy "$MIN_ACC" --max-trials "$TRIALS" --budget 24h --clock-mhz "$CLOCK"
        --data "$DATA" --quiet --json "${EXTRA[@]}")
SAMPLERS=${SAMPLERS:-tpe nsga2 random}
# seed by seed, so that an interrupted run has every method on its first seeds
for seed in $(seq 1 "$SEEDS"); do
    for sampler in $SAMPLERS; do
        run="$sampler-$seed"
        [ -s "$W/$run.json" ] && continue
        echo "== $sampler, seed $seed, $TRIALS trials" >&2
        rm -rf "$W/$run"
        # exit 1 (nothing feasible) still writes the JSON
        "$CLI" search "$W/m.mco" "${common[@]}" --sampler "$sampler" --seed "$seed" -o "$W/$run" > "$W/$run.tmp" || true
        mv "$W/$run.tmp" "$W/$run.json"
    done
done


python3 - "$W" "$SEEDS" "${FIXED:-}" "$MIN_ACC" $SAMPLERS <<'PY'
import json, math, statistics, sys
w, seeds, fixed, floor, samplers = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5:]
def spread(xs):
    m = statistics.mean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return m, sd, min(xs), max(xs)
rows = []
print("| sampler (objective) | best feasible cost: mean ± sd [min, max] | hypervolume: mean ± sd [min, max] | seeds without a feasible trial |")
print("| --- | --- | --- | --- |")
for sampler in samplers:
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

if fixed:
    def load(name):
        return json.load(open(f"{w}/{name}"))
    base_eval, base = load("int8.eval.json"), load("int8.measure.json")
    def cost(flash, ram, insns):
        return (0.4 * math.log(flash / base["flash_bytes"]) + 0.2 * math.log(ram / base["ram_bytes"])
                + 0.4 * math.log(insns / base["instructions"]))
    def pct(a):
        return a * 100 if a <= 1 else a
    methods = [("int8 alone", [(pct(base_eval["accuracy"]), base["flash_bytes"], base["ram_bytes"],
                                base["instructions"], base["mismatches"])] * seeds)]
    runs = []
    for seed in range(1, seeds + 1):
        e, m = load(f"fixed-{seed}.eval.json"), load(f"fixed-{seed}.measure.json")
        runs.append((pct(e["accuracy"]), m["flash_bytes"], m["ram_bytes"], m["instructions"], m["mismatches"]))
    methods.append((f"fixed `{fixed}`", runs))
    for sampler in samplers:
        runs = []
        for seed in range(1, seeds + 1):
            r = load(f"{sampler}-{seed}.json")
            if r.get("found") and r.get("measured"):
                m = r["measured"]
                runs.append((r["best"]["test_accuracy"] * 100, m["flash_bytes"], m["ram_bytes"], m["instructions"],
                             m["mismatches"]))
            else:
                runs.append(None)
        methods.append((f"{sampler} search", runs))
    print()
    print(f"Measured on the emulator (floor {floor} %; cost 0.4 log F/F0 + 0.2 log R/R0 + 0.4 log I/I0 against int8 "
          "alone; mean ± sd [min, max] over the seeds; a seed whose search found nothing counts as int8 alone, cost 0):")
    print()
    print("| method | measured cost | test accuracy % | Flash B | RAM B | instructions | test runs below the floor | outputs bit-exact |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, runs in methods:
        got = [r if r else methods[0][1][0] for r in runs]
        costs = [cost(r[1], r[2], r[3]) for r in got]
        def fmt(xs, f):
            m, sd, lo, hi = spread(xs)
            return f"{m:{f}} ± {sd:{f}} [{lo:{f}}, {hi:{f}}]"
        below = sum(1 for r in got if r[0] < floor - 1e-9)
        exact = "yes" if all(r[4] == 0 for r in got) else "NO"
        missing = sum(1 for r in runs if r is None)
        print(f"| {name}{f' ({missing} found nothing)' if missing else ''} | {fmt(costs, '+.3f')} | "
              f"{fmt([r[0] for r in got], '.2f')} | {fmt([r[1] for r in got], ',.0f')} | "
              f"{fmt([r[2] for r in got], ',.0f')} | {fmt([r[3] for r in got], ',.0f')} | {below} of {seeds} | {exact} |")
PY
