#!/usr/bin/env bash
# ad_machine_sounds.sh - anomaly detection from WAV files to measured C code:
# scripts/make_machine_set.sh synthesises machine sounds with sox in the
# DCASE 2020 task 2 layout (train/normal_id_XX_*.wav; test/normal_* and
# test/anomaly_*: 40 training clips, 20 + 20 test clips of 10 s), then
#   - `mcuopt train --arch ad-autoencoder --data DIR` detects the layout
#     (format "machine"), reads each clip as 128-band log-mel frames (1024-
#     sample frames every 512, the MLPerf Tiny AD setting, by the runtime's
#     front-end) cut into windows of 5 frames (640 values): 307 windows per
#     clip, 12,280 training samples, and trains 6 epochs with MSE;
#   - `mcuopt eval` scores each test clip by the mean reconstruction error of
#     its windows: the AUC over the 40 test clips (a multiple of 1/400) must
#     reach 0.85 for the float and the int8 model;
#   - the int8 model runs on the emulated STM32F405 (Cortex-M4F) with every
#     output bit-identical to the host runtime;
#   - `mcuopt search --min-auc 0.85` judges its floor on a validation set of
#     its own (--val-data: the test split of a second synthetic set, seed 2,
#     6 normal + 6 anomalous clips): 3 trials reach a model whose
#     validation AUC, per clip over those 12 clips (a multiple of 1/36),
#     meets the floor; without --val-data (train/ holds normal clips only)
#     the search stops at once with one line saying what to give;
#   - bad clips (stereo, 8-bit, truncated, a name that is neither normal_*
#     nor anomaly_*) each stop training with one line naming the file.
# Usage: ad_machine_sounds.sh PATH/TO/mcuopt (from the repo root). Skipped
# (77) without sox, the Arm toolchain or QEMU.
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_cmd sox sox
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# json_number FILE KEY: the number after "KEY": in cJSON's output.
json_number() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([-0-9.e+]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

set_dir=$tmp/machine
bash scripts/make_machine_set.sh "$set_dir" --train 40 --test-normal 20 --test-anomaly 20 2>"$tmp/make.log" ||
  { cat "$tmp/make.log" >&2; fail "make_machine_set.sh"; }
[ "$(find "$set_dir/train" -name 'normal_id_0[01]_*.wav' | wc -l)" = 40 ] || fail "not 40 normal training clips"
[ "$(find "$set_dir/test" -name 'anomaly_id_*.wav' | wc -l)" = 20 ] || fail "not 20 anomalous test clips"

"$cli" train --arch ad-autoencoder --data "$set_dir" --epochs 6 --val 0 --seed 1 --threads 2 \
  -o "$tmp/ad.mco" >"$tmp/train.txt" 2>&1 || { cat "$tmp/train.txt"; fail "train"; }
cat "$tmp/train.txt"
grep -q "training ad-autoencoder on machine: 12280 images" "$tmp/train.txt" ||
  fail "not the 40 clips x 307 windows of the training split"

"$cli" quantize "$tmp/ad.mco" -o "$tmp/ad.mcq" --data "$set_dir" --calibration-samples 4000 >"$tmp/quantize.txt" ||
  { cat "$tmp/quantize.txt"; fail "quantize"; }
for model in ad.mco ad.mcq; do
  "$cli" eval "$tmp/$model" --data "$set_dir" --json >"$tmp/eval.json" || { cat "$tmp/eval.json"; fail "eval $model"; }
  grep -q '"loss_kind":	"mse"' "$tmp/eval.json" || { cat "$tmp/eval.json"; fail "$model: not evaluated as a reconstruction model"; }
  auc=$(json_number "$tmp/eval.json" auc)
  error=$(json_number "$tmp/eval.json" reconstruction_error)
  [ -n "$auc" ] && [ -n "$error" ] || { cat "$tmp/eval.json"; fail "$model: no AUC or error"; }
  awk -v a="$auc" 'BEGIN { exit !(a >= 0.85 && a <= 1) }' || fail "$model: per-clip AUC $auc below 0.85"
  # per clip: 20 normal x 20 anomalous clips make 400 pairs, so the AUC is k / 400 (per window it would be
  # k / 6140^2, almost never such a fraction)
  awk -v a="$auc" 'BEGIN { k = a * 400; exit !(k - int(k + 0.5) < 1e-6 && int(k + 0.5) - k < 1e-6) }' ||
    fail "$model: AUC $auc is not a fraction of the 400 clip pairs: not scored per clip"
  echo "ad-autoencoder $model on the synthetic machine sounds: mean reconstruction error $error, AUC $auc (40 test clips)"
done

"$cli" measure "$tmp/ad.mcq" --target stm32f405 --data "$set_dir" --images 5 --json >"$tmp/m.json" ||
  { cat "$tmp/m.json"; fail "measure on stm32f405"; }
grep -q '"mismatches":	0' "$tmp/m.json" || { cat "$tmp/m.json"; fail "outputs differ on the Cortex-M4F"; }
grep -q '"images":	5' "$tmp/m.json" || { cat "$tmp/m.json"; fail "not 5 windows measured"; }
flash=$(json_number "$tmp/m.json" flash_bytes) ram=$(json_number "$tmp/m.json" ram_bytes)
insns=$(json_number "$tmp/m.json" instructions)
echo "ad-autoencoder int8 on stm32f405: 5 of 5 outputs bit-identical; Flash $flash B, RAM $ram B, $insns instructions per inference"

expect_error() {   # TEXT command...: one line, no model written
  local text=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "$* succeeded"; fi
  [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^mcuopt: " "$tmp/err" && grep -qF "$text" "$tmp/err" ||
    { cat "$tmp/err" >&2; fail "$* did not give the one line '$text'"; }
  [ ! -e "$tmp/bad.mco" ] || fail "a model was written after an error"
}

# The AUC search: its validation set is the test split of another set (--val-data)
val_dir=$tmp/machine-val
bash scripts/make_machine_set.sh "$val_dir" --train 0 --test-normal 6 --test-anomaly 6 --seed 2 2>"$tmp/make-val.log" ||
  { cat "$tmp/make-val.log" >&2; fail "make_machine_set.sh (validation set)"; }
expect_error "hold no anomalous samples, and the AUC floor needs normal (label 0) and anomalous (1) ones: give a labelled validation set with --val-data DIR" \
  "$cli" search "$tmp/ad.mco" --target stm32f405 --min-auc 0.85 --data "$set_dir" --max-trials 1 --quiet -o "$tmp/s0"
[ ! -e "$tmp/s0" ] || fail "the refused search left its output directory"
"$cli" search "$tmp/ad.mco" --target stm32f405 --min-auc 0.85 --data "$set_dir" --val-data "$val_dir" \
  --max-trials 3 --budget 900s --threads 2 --seed 1 --quiet --json -o "$tmp/search" >"$tmp/search.json" ||
  { cat "$tmp/search.json"; fail "search --min-auc 0.85 --val-data"; }
grep -q '"floor_on":	"auc"' "$tmp/search.json" || { cat "$tmp/search.json"; fail "the search floor is not on the AUC"; }
sed -n '/"val_data":/,/}/p' "$tmp/search.json" >"$tmp/val-part.json"
[ "$(json_number "$tmp/val-part.json" samples)" = 3684 ] ||
  { cat "$tmp/search.json"; fail "the validation set is not the 12 clips x 307 windows of --val-data"; }
sed -n '/"best":/,/}/p' "$tmp/search.json" >"$tmp/best-part.json"
val_auc=$(json_number "$tmp/best-part.json" val_accuracy) test_auc=$(json_number "$tmp/best-part.json" test_accuracy)
[ -n "$val_auc" ] && [ -n "$test_auc" ] || { cat "$tmp/search.json"; fail "no validation or test AUC for the best trial"; }
awk -v a="$val_auc" 'BEGIN { exit !(a >= 0.85 && a <= 1) }' || fail "the chosen model's validation AUC $val_auc < 0.85"
awk -v a="$val_auc" 'BEGIN { k = a * 36; exit !(k - int(k + 0.5) < 1e-6 && int(k + 0.5) - k < 1e-6) }' ||
  fail "validation AUC $val_auc is not a fraction of the 36 clip pairs of --val-data"
[ -s "$tmp/search/best.mcq" ] || fail "no best.mcq"
config=$(sed -n 's/^[[:space:]]*"config":[[:space:]]*"\(.*\)",$/\1/p' "$tmp/best-part.json")
echo "search --min-auc 0.85 --val-data (3 trials): $config; validation AUC $val_auc (12 clips), test AUC $test_auc (40 clips)"

# bad clips: one line naming the file, no model written
good=$set_dir/train/normal_id_00_00000000.wav
bad_clip() {   # NAME TEXT SOX-OUTPUT-OPTIONS...: one bad clip in train/, then removed
  local name=$1 text=$2; shift 2
  sox -V1 "$good" "$@" "$set_dir/train/$name"
  expect_error "train/$name: $text" "$cli" train --arch ad-autoencoder --data "$set_dir" --epochs 1 --quiet -o "$tmp/bad.mco"
  rm -f "$set_dir/train/$name"
}
bad_clip normal_id_00_90000000.wav "2 channels; mcuopt reads mono" -c 2
bad_clip normal_id_00_90000001.wav "8-bit samples" -b 8 -e unsigned-integer
head -c 20000 "$good" >"$set_dir/train/normal_id_00_90000002.wav"
expect_error "train/normal_id_00_90000002.wav: truncated" \
  "$cli" train --arch ad-autoencoder --data "$set_dir" --epochs 1 --quiet -o "$tmp/bad.mco"
rm -f "$set_dir/train/normal_id_00_90000002.wav"
cp "$good" "$set_dir/train/fan_00.wav"
expect_error "train/fan_00.wav: a machine-sound clip's name starts with normal_ or anomaly_" \
  "$cli" train --arch ad-autoencoder --data "$set_dir" --epochs 1 --quiet -o "$tmp/bad.mco"
echo "ad_machine_sounds: all checks passed"
