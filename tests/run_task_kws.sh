#!/usr/bin/env bash
# run_task_kws.sh - `mcuopt run --task kws` from a WAV folder to measured C
# (issue 15, item 6): on a small synthesised keyword set
# (scripts/make_kws_set.sh: 12 labels, 144 clips, 47 test clips of 2 voices
# not used in training; small enough for CI)
#   1. `mcuopt run --task kws --data SET --target stm32f405 --epochs 2`
#      trains ds-cnn on 49x10 MFCCs (the task's model and features; its
#      10 % validation share: 9 of the 97 training clips), quantizes to
#      int8, emits and measures: all 47 test inputs bit-exact on the
#      emulated STM32F405, and then 16 test clips from their PCM (the MFCC
#      front-end computed on the chip by the emitted model_run_pcm) bit-exact
#      too; the task's floor (90 %) is reported and in summary.json with
#      the PCM run's figures; code/model.h has model_run_pcm;
#   2. `--model OUT/model.mco` skips training: the same float accuracy, and
#      the same bit-exact ends;
#   3. the task's defaults give way to options: --arch ds-cnn-s replaces
#      the task's model (checked through the summary, with --epochs 1).
# The error lines (unknown task, no --data, another kind of data, the AD
# task on WAV files, shapes) are in cli_errors.sh.
# Usage: run_task_kws.sh PATH/TO/mcuopt. Skipped (77) without espeak-ng,
# sox, arm-none-eabi-gcc or qemu-system-arm.
set -euo pipefail
cli=$1
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
. tests/lib/kws_set.sh
require_kws_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
set_dir=$tmp/kws
make_small_kws_set "$set_dir"

check_run() {   # NAME LOG OUT
  local name=$1 log=$2 out=$3
  grep -q "^on stm32f405 (qemu netduinoplus2): 47 of 47 outputs bit-identical to the host$" "$log" ||
    { cat "$log" >&2; fail "$name: not 47 of 47 bit-exact"; }
  grep -q "^from PCM on stm32f405: 16 of 16 clips' outputs bit-identical to the host" "$log" ||
    { cat "$log" >&2; fail "$name: not 16 of 16 bit-exact from PCM"; }
  grep -Eq "^int8 test accuracy [0-9.]+ % (meets|is below) the floor of 90.00 %" "$log" || { cat "$log" >&2; fail "$name: no floor line"; }
  python3 - "$out/summary.json" <<'PY' || fail "$name: summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["task"]["name"] == "kws" and s["task"]["floor_on"] == "accuracy" and s["task"]["floor"] == 90, s["task"]
assert s["target"]["mismatches"] == 0 and s["target"]["images"] == 47, s["target"]
p = s["from_pcm"]
assert p["clips"] == 16 and p["mismatches"] == 0 and p["instructions"] > s["target"]["instructions"], p
PY
  grep -q "^int model_run_pcm(const int16_t \*pcm, model_output_t \*out);$" "$out/code/model.h" ||
    fail "$name: code/model.h has no model_run_pcm"
}

# ---- 1. train, quantize, emit, measure ----------------------------------------
"$cli" run --task kws --data "$set_dir" --target stm32f405 --epochs 2 -o "$tmp/out" >"$tmp/run.log" 2>"$tmp/run.err" ||
  { cat "$tmp/run.log" "$tmp/run.err" >&2; fail "run --task kws"; }
cat "$tmp/run.log"
grep -q "^ds-cnn on kws: " "$tmp/run.log" || fail "not the task's model (ds-cnn)"
grep -q "training ds-cnn on kws: 88 images (9 held out), 2 epochs" "$tmp/run.err" ||
  { cat "$tmp/run.err" >&2; fail "not the task's 10 % validation share of the 97 training clips"; }
check_run "run --task kws" "$tmp/run.log" "$tmp/out"
float_acc=$(awk '/^test accuracy/ { print $3; exit }' "$tmp/run.log")

# ---- 2. a given model ----------------------------------------------------------
"$cli" run --task kws --model "$tmp/out/model.mco" --data "$set_dir" --target stm32f405 -o "$tmp/out2" --quiet \
  >"$tmp/run2.log" 2>&1 || { cat "$tmp/run2.log" >&2; fail "run --task kws --model"; }
grep -q "model.mco on kws: test accuracy $float_acc % (47 images)" "$tmp/run2.log" ||
  { cat "$tmp/run2.log" >&2; fail "--model: not the trained model's $float_acc %"; }
check_run "run --task kws --model" "$tmp/run2.log" "$tmp/out2"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); assert "train" not in s and s["model"]["path"].endswith("model.mco")' \
  "$tmp/out2/summary.json" || fail "--model: summary.json"

# ---- 3. an option overrides the task's default ---------------------------------
"$cli" run --task kws --arch ds-cnn-s --epochs 1 --data "$set_dir" --target stm32f405 --images 4 -o "$tmp/out3" --quiet \
  >"$tmp/run3.log" 2>&1 || { cat "$tmp/run3.log" >&2; fail "run --task kws --arch ds-cnn-s"; }
grep -q "^ds-cnn-s on kws: " "$tmp/run3.log" || { cat "$tmp/run3.log" >&2; fail "--arch did not override the task's model"; }
echo "run_task_kws: all checks passed"
