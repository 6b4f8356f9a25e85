#!/bin/bash
# bench/search_tasks.sh - `mcuopt search` on two MLPerf Tiny tasks, against
# the int8 model alone, on sets made here (the real ones cannot be
# downloaded on these machines):
#   kws    ds-cnn on the keyword set of scripts/make_kws_set.sh (14 voices,
#          5 of them only in testing_list.txt: 2,052 clips, 49x10 MFCCs);
#   cifar  resnet8 on a CIFAR-10-format set drawn by
#          tests/lib/draw_cifar_set.py (ten drawn shapes, 5,000 + 1,000).
# For each: train the starting model, quantize it to int8 (post-training,
# `quantize` defaults), evaluate and measure it on the emulated TARGET; then
# search it with an accuracy floor and a budget in trials (not seconds: the
# machine's load changes the time, not the figures) and report, from the
# search's JSON, the chosen model's test accuracy and its Flash, RAM and
# exact instruction count measured on the emulator, next to int8 alone's.
# Usage: bench/search_tasks.sh [CLI] [TRIALS (12)] [TARGET (stm32f405)]
# Environment: BENCH_DIR (bench-search-out/tasks), TASKS ("kws cifar"),
#   KWS_FLOOR (92), CIFAR_FLOOR (95): validation accuracy floors in %,
#   KWS_EPOCHS (20), CIFAR_EPOCHS (10): the starting models' training,
#   VAL_IMAGES (300): the search's validation images (from the training split),
#   SEARCH_OPTS ("--eta 2"): more search options (successive halving by 2:
#   with 1,315 or 5,000 training samples, eta 3's first rung trains on a
#   ninth of them, too few to judge a pruned model by).
# Runs are kept in BENCH_DIR and reused when their output is there.
# What it leaves out: wall-clock figures; the real data sets.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${1:-build/mcuopt}
TRIALS=${2:-12}
TARGET=${3:-stm32f405}
W=${BENCH_DIR:-bench-search-out/tasks}
TASKS=${TASKS:-kws cifar}
VAL=${VAL_IMAGES:-300}
mkdir -p "$W"

prepare() {   # TASK: the data set, the starting model, int8 alone evaluated and measured
  local t=$1
  case $t in
    kws)
      [ -f "$W/kws/testing_list.txt" ] ||
        bash scripts/make_kws_set.sh "$W/kws" --voices 14 --test-voices 5 --jobs 2 >&2
      [ -f "$W/kws.mco" ] || "$CLI" train --arch ds-cnn --data "$W/kws" --epochs "${KWS_EPOCHS:-20}" --val 200 \
        --seed 1 --quiet -o "$W/kws.mco" >"$W/kws.train.txt" ;;
    cifar)
      [ -f "$W/cifar/test_batch.bin" ] || /usr/bin/python3 tests/lib/draw_cifar_set.py "$W/cifar" 5000 1000 1
      [ -f "$W/cifar.mco" ] || "$CLI" train --arch resnet8 --data "$W/cifar" --epochs "${CIFAR_EPOCHS:-10}" --val 0 \
        --seed 1 --quiet -o "$W/cifar.mco" >"$W/cifar.train.txt" ;;
    *) echo "search_tasks: unknown task $t (kws, cifar)" >&2; exit 2 ;;
  esac
  [ -f "$W/$t.mcq" ] || "$CLI" quantize "$W/$t.mco" --data "$W/$t" -o "$W/$t.mcq" >"$W/$t.quantize.txt"
  [ -s "$W/$t.int8.eval.json" ] || "$CLI" eval "$W/$t.mcq" --data "$W/$t" --json >"$W/$t.int8.eval.json"
  [ -s "$W/$t.int8.measure.json" ] ||
    "$CLI" measure "$W/$t.mcq" --target "$TARGET" --data "$W/$t" --images 5 --json >"$W/$t.int8.measure.json"
}

for t in $TASKS; do
  prepare "$t"
  case $t in kws) floor=${KWS_FLOOR:-92} ;; cifar) floor=${CIFAR_FLOOR:-95} ;; esac
  read -r -a search_opts <<<"${SEARCH_OPTS:---eta 2}"
  if [ ! -s "$W/$t.search.json" ]; then
    echo "== search $t: floor $floor %, $TRIALS trials on $TARGET" >&2
    rm -rf "$W/$t-search"
    # exit 1 (nothing feasible) still writes the JSON
    "$CLI" search "$W/$t.mco" --target "$TARGET" --min-accuracy "$floor" --max-trials "$TRIALS" --budget 24h \
      --val-images "$VAL" --data "$W/$t" --seed 1 "${search_opts[@]}" --quiet --json -o "$W/$t-search" \
      >"$W/$t.search.tmp" || true
    mv "$W/$t.search.tmp" "$W/$t.search.json"
  fi
done

python3 - "$W" "$TARGET" $TASKS <<'PY'
import json, sys
w, target, tasks = sys.argv[1], sys.argv[2], sys.argv[3:]
arch = {"kws": "ds-cnn", "cifar": "resnet8"}
print(f"| task (model) | model | test accuracy | Flash B | RAM B | instructions per inference | latency ms | bit-exact on {target} |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
verdicts = []
for t in tasks:
    ev = json.load(open(f"{w}/{t}.int8.eval.json"))
    m = json.load(open(f"{w}/{t}.int8.measure.json"))
    s = json.load(open(f"{w}/{t}.search.json"))
    acc = ev.get("accuracy")
    acc = acc * 100 if acc is not None and acc <= 1 else acc
    print(f"| {t} ({arch[t]}) | int8 alone | {acc:.2f} % | {m['flash_bytes']:,} | {m['ram_bytes']:,} | "
          f"{m['instructions']:,.0f} | {m['latency_ms_estimate']:.3f} | {m['images'] - m['mismatches']} of {m['images']} |")
    if not s.get("found"):
        print(f"| {t} ({arch[t]}) | search: nothing feasible in {s.get('trials')} trials | - | - | - | - | - | - |")
        verdicts.append(f"{t}: no model met the floor")
        continue
    sm, best = s["measured"], s["best"]
    flash, ram = sm["flash_bytes"], sm["ram_bytes"]
    floor = s["min_accuracy"] * (100 if s["min_accuracy"] <= 1 else 1)
    print(f"| {t} ({arch[t]}) | search, {s['trials']} trials: `{best['config']}` | {best['test_accuracy'] * 100:.2f} % "
          f"(validation {best['val_accuracy'] * 100:.2f} %, floor {floor:.4g} %) | {flash:,.0f} | {ram:,.0f} | "
          f"{sm['instructions']:,.0f} | {sm['latency_ms_estimate']:.3f} | {sm['images'] - sm['mismatches']} of {sm['images']} |")
    smaller = flash < m["flash_bytes"]
    faster = sm["instructions"] < m["instructions"]
    verdicts.append(f"{t}: {'smaller' if smaller else 'NOT smaller'} ({flash:,.0f} vs {m['flash_bytes']:,} B) and "
                    f"{'faster' if faster else 'NOT faster'} ({sm['instructions']:,.0f} vs {m['instructions']:,.0f} "
                    f"instructions) than int8 alone")
print()
for v in verdicts:
    print("- " + v)
PY
