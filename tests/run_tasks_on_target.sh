#!/usr/bin/env bash
# run_tasks_on_target.sh - `mcuopt run --task vww|ic|ad` from data to
# measured C (issue 15, item 6; kws, with its WAV front-end, is
# run_task_kws.sh): on small sets drawn here (the real ones cannot be
# downloaded on these machines)
#   - vww: tests/lib/mlperf_tiny_data.py's 96x96x3 .npy set, the task's
#     mobilenet-v1-0.25 (2 classes) on the STM32H743 (Cortex-M7);
#   - ic: a CIFAR-10 binary set written here (data_batch_1..5.bin,
#     test_batch.bin of 32x32x3 records: class k a colour), the task's
#     resnet8 on the STM32F405;
#   - ad: mlperf_tiny_data.py's 640-value log-mel-like frames (.npy; test
#     labels 0 normal, 1 anomalous), the task's ad-autoencoder (loss mse)
#     on the STM32F405, judged by its AUC against the task's 0.85 floor;
# each trained briefly (--epochs overrides the task's default), quantized,
# emitted and run on the emulated target with every output bit-identical
# to the host runtime, the task and its floor in summary.json.
# Usage: run_tasks_on_target.sh PATH/TO/mcuopt. Skipped (77) without the Arm
# toolchain or /usr/bin/python3 with numpy.
set -euo pipefail
cli=$1
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_arm_tools
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null ||
  skip "/usr/bin/python3 lacks numpy (Debian package python3-numpy)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 tests/lib/mlperf_tiny_data.py vww "$tmp/vww" 120
/usr/bin/python3 tests/lib/mlperf_tiny_data.py ad "$tmp/ad" 400
# CIFAR-10 binary batches: a label byte, then 3072 bytes (R, G, B planes); class k is colour k plus noise.
/usr/bin/python3 - "$tmp/cifar" <<'PY'
import os, sys
import numpy as np
out = sys.argv[1]
os.makedirs(out)
rng = np.random.default_rng(7)
colours = rng.integers(0, 256, size=(10, 3))
def batch(path, n):
    labels = rng.integers(0, 10, size=n)
    with open(path, "wb") as f:
        for k in labels:
            planes = np.clip(colours[k][:, None, None] + rng.normal(0, 30, size=(3, 32, 32)), 0, 255)
            f.write(bytes([int(k)]) + planes.astype(np.uint8).tobytes())
for i in range(1, 6):
    batch(os.path.join(out, "data_batch_%d.bin" % i), 40)
batch(os.path.join(out, "test_batch.bin"), 40)
PY

# run_task NAME TARGET IMAGES [options...]: the whole job, then its checks.
run_task() {
  local task=$1 data=$2 target=$3 images=$4 out=$tmp/out-$1; shift 4
  "$cli" run --task "$task" --data "$data" --target "$target" --images "$images" --threads 2 -o "$out" "$@" \
    >"$tmp/$task.log" 2>"$tmp/$task.err" || { cat "$tmp/$task.log" "$tmp/$task.err" >&2; fail "run --task $task"; }
  grep -q "(qemu [a-z0-9-]*): $images of $images outputs bit-identical to the host$" "$tmp/$task.log" ||
    { cat "$tmp/$task.log" >&2; fail "$task: not $images of $images bit-exact on $target"; }
  /usr/bin/python3 - "$out/summary.json" "$task" <<'PY' || fail "$task: summary.json"
import json, sys
s = json.load(open(sys.argv[1]))
floors = {"vww": ("accuracy", 80), "ic": ("accuracy", 85), "ad": ("auc", 0.85)}
t = s["task"]
assert t["name"] == sys.argv[2] and (t["floor_on"], t["floor"]) == floors[sys.argv[2]], t
assert s["target"]["mismatches"] == 0 and "from_pcm" not in s, s["target"]
PY
  echo "$task on $target: $(grep -E '^(int8 test accuracy|int8 AUC)' "$tmp/$task.log"); $images of $images bit-exact," \
       "$(awk '/instructions per inference/ { print $1; exit }' "$tmp/$task.log") instructions per inference"
}

run_task vww "$tmp/vww" stm32h743 2 --epochs 1
grep -q "^mobilenet-v1-0.25 on vww: " "$tmp/vww.log" || fail "vww: not the task's mobilenet-v1-0.25"
run_task ic "$tmp/cifar" stm32f405 2 --epochs 2
grep -q "^resnet8 on cifar10: " "$tmp/ic.log" || { cat "$tmp/ic.log" >&2; fail "ic: not the task's resnet8 on CIFAR-10"; }
run_task ad "$tmp/ad" stm32f405 3 --epochs 6
grep -q "^ad-autoencoder on ad: " "$tmp/ad.log" || fail "ad: not the task's ad-autoencoder"
grep -Eq "^int8 AUC [0-9.]+ (meets|is below) the floor of 0.8500" "$tmp/ad.log" || fail "ad: no AUC floor line"
echo "run_tasks_on_target: all checks passed"
