#!/usr/bin/env bash
# mlperf_tiny_on_target.sh - the MLPerf Tiny built-in architectures from data
# to measured C code: on small sets drawn by tests/lib/mlperf_tiny_data.py
# (.npy splits; the real data sets cannot be downloaded here) each of
# ds-cnn (49x10x1, 12 classes), mobilenet-v1-0.25 (96x96x3, 2 classes) and
# ad-autoencoder (640 values, loss mse) trains for a few epochs, quantizes to
# int8, is emitted as a C package and runs on an emulated target, where
# every output must be bit-identical to the host runtime: ds-cnn and
# ad-autoencoder on the STM32F405 (Cortex-M4F), mobilenet-v1-0.25 on the
# STM32H743 (Cortex-M7). The autoencoder is judged as anomaly detection:
# `mcuopt eval` gives its mean reconstruction error and the AUC of that error
# on the test split (normal 0, anomalous 1), which must reach 0.85 for the
# float and the int8 model; then `mcuopt search --min-auc 0.85` (4 trials)
# on a set whose training split holds labelled anomalies (the validation
# images come from it) must return a model that meets that AUC floor on its
# validation images and is smaller than the int8 autoencoder, bit-exact on the
# target. Skipped (exit 77) without the Arm toolchain or
# /usr/bin/python3 with numpy.
# Usage: mlperf_tiny_on_target.sh PATH/TO/mcuopt (from the repo root)
set -euo pipefail
cli=$1
. tests/lib/skip.sh
require_arm_tools
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null ||
  skip "/usr/bin/python3 lacks numpy (Debian package python3-numpy)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 tests/lib/mlperf_tiny_data.py kws "$tmp/kws" 240
/usr/bin/python3 tests/lib/mlperf_tiny_data.py vww "$tmp/vww" 160
/usr/bin/python3 tests/lib/mlperf_tiny_data.py ad "$tmp/ad" 400
/usr/bin/python3 tests/lib/mlperf_tiny_data.py ad-mixed "$tmp/ad-mixed" 600

# json_number FILE KEY: the number after "KEY": in cJSON's output.
json_number() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([-0-9.e+]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

# pipeline ARCH DATA TARGET IMAGES EPOCHS: train, quantize, emit, measure.
pipeline() {
  local arch=$1 data=$2 target=$3 images=$4 epochs=$5 dir="$tmp/$1"
  mkdir -p "$dir"
  "$cli" train --arch "$arch" --data "$data" --epochs "$epochs" --val 0 --threads 2 --quiet \
    -o "$dir/model.mco" >"$dir/train.txt" || { cat "$dir/train.txt"; fail "$arch: train"; }
  "$cli" quantize "$dir/model.mco" -o "$dir/model.mcq" --data "$data" --calibration-samples 64 \
    >"$dir/quantize.txt" || fail "$arch: quantize"
  "$cli" emit "$dir/model.mcq" -o "$dir/pkg" --name "${arch//[-.]/_}" >"$dir/emit.txt" || fail "$arch: emit"
  [ -f "$dir/pkg/${arch//[-.]/_}.c" ] || fail "$arch: emit wrote no ${arch//[-.]/_}.c"
  "$cli" measure "$dir/model.mcq" --target "$target" --data "$data" --images "$images" --json >"$dir/m.json" ||
    fail "$arch: measure on $target"
  grep -q '"mismatches":	0' "$dir/m.json" || { cat "$dir/m.json"; fail "$arch: outputs differ on $target"; }
  grep -q "\"images\":	$images" "$dir/m.json" || { cat "$dir/m.json"; fail "$arch: not $images images"; }
  local instructions
  instructions=$(json_number "$dir/m.json" instructions)
  [ -n "$instructions" ] || { cat "$dir/m.json"; fail "$arch: no instruction count"; }
  echo "$arch on $target: $images of $images outputs bit-identical, $instructions instructions per inference"
}

pipeline ds-cnn "$tmp/kws" stm32f405 3 2
grep -q "ds-cnn on kws: 24908 parameters" "$tmp/ds-cnn/train.txt" || { cat "$tmp/ds-cnn/train.txt"; fail "ds-cnn size"; }
pipeline mobilenet-v1-0.25 "$tmp/vww" stm32h743 2 2
grep -q "cortex-m7" "$tmp/mobilenet-v1-0.25/m.json" || fail "mobilenet-v1-0.25 did not run on a Cortex-M7"
pipeline ad-autoencoder "$tmp/ad" stm32f405 3 6

# The autoencoder's evaluation: reconstruction error and AUC, float and int8.
for model in model.mco model.mcq; do
  "$cli" eval "$tmp/ad-autoencoder/$model" --data "$tmp/ad" --json >"$tmp/eval.json"
  grep -q '"loss_kind":	"mse"' "$tmp/eval.json" || { cat "$tmp/eval.json"; fail "$model: not evaluated as a reconstruction model"; }
  auc=$(json_number "$tmp/eval.json" auc)
  error=$(json_number "$tmp/eval.json" reconstruction_error)
  [ -n "$auc" ] && [ -n "$error" ] || { cat "$tmp/eval.json"; fail "$model: no AUC or error"; }
  awk -v a="$auc" 'BEGIN { exit !(a >= 0.85 && a <= 1) }' || fail "$model: AUC $auc below 0.85"
  echo "ad-autoencoder $model: reconstruction error $error, AUC $auc"
done
"$cli" eval "$tmp/ad-autoencoder/model.mcq" --data "$tmp/ad" | grep -q "mean reconstruction error .* AUC" ||
  fail "eval text output lacks the reconstruction error and AUC"
grep -q "reconstruction error on ad test: float .*; AUC: float" "$tmp/ad-autoencoder/quantize.txt" ||
  { cat "$tmp/ad-autoencoder/quantize.txt"; fail "quantize does not report the reconstruction error and AUC"; }

# The search holds an AUC floor for the autoencoder.
"$cli" train --arch ad-autoencoder --data "$tmp/ad-mixed" --epochs 6 --val 0 --threads 2 --quiet \
  -o "$tmp/aem.mco" >/dev/null
"$cli" search "$tmp/aem.mco" --target stm32f405 --min-auc 0.85 --data "$tmp/ad-mixed" --val-images 150 \
  --max-trials 4 --budget 300s --threads 2 --quiet --json -o "$tmp/search" >"$tmp/search.json" ||
  { cat "$tmp/search.json"; fail "search --min-auc"; }
grep -q '"floor_on":	"auc"' "$tmp/search.json" || { cat "$tmp/search.json"; fail "the search floor is not on the AUC"; }
val_auc=$(sed -n '/"best":/,/}/p' "$tmp/search.json" >"$tmp/best-part.json"; json_number "$tmp/best-part.json" val_accuracy)
awk -v a="$val_auc" 'BEGIN { exit !(a >= 0.85 && a <= 1) }' || fail "the chosen model's validation AUC $val_auc < 0.85"
"$cli" eval "$tmp/search/best.mcq" --data "$tmp/ad-mixed" --json >"$tmp/best.json"
best_auc=$(json_number "$tmp/best.json" auc)
echo "search --min-auc 0.85: validation AUC $val_auc, test AUC $best_auc"
q_bytes=$(stat -c %s "$tmp/ad-autoencoder/model.mcq") b_bytes=$(stat -c %s "$tmp/search/best.mcq")
[ "$b_bytes" -lt "$q_bytes" ] || fail "the search's model ($b_bytes B) is not smaller than int8 alone ($q_bytes B)"
"$cli" measure "$tmp/search/best.mcq" --target stm32f405 --data "$tmp/ad-mixed" --images 3 --json >"$tmp/bm.json"
grep -q '"mismatches":	0' "$tmp/bm.json" || { cat "$tmp/bm.json"; fail "the search's model differs on the target"; }
echo "mlperf_tiny_on_target: all checks passed"
