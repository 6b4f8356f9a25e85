#!/usr/bin/env bash
# data_readers_cli.sh - the data readers from the command line (issue 15,
# item 1): small sets in real formats, made here, go through train, eval,
# quantize and eval of the quantized model:
#   - an image folder (Keras' image_dataset_from_directory layout): red
#     discs and blue squares on noise, drawn by Pillow as PNG, JPEG and BMP
#     files of several sizes, RGB and grey, resized to a 16x16x3 model;
#   - x.npy / y.npy written by numpy (float32 features, uint8 labels);
#   - the same features as a CSV file with a header and class names;
# each found by detection (--data PATH alone) and by --dataset FORMAT, each
# trained to a real accuracy (a floor the task clears by far), and a model
# given data of another shape fails with one line naming both shapes.
# Usage: data_readers_cli.sh PATH/TO/mcuopt   (run from the repository root).
# Skipped (exit 77) where /usr/bin/python3 lacks numpy or Pillow (Debian
# python3-numpy, python3-pil; scripts/setup.sh installs them).
set -u
. "$(dirname "$0")/lib/skip.sh"
cli=$1
py=/usr/bin/python3
[ -x "$py" ] && "$py" -c "import numpy, PIL" 2>/dev/null ||
  skip "/usr/bin/python3 lacks numpy or PIL (Debian packages python3-numpy python3-pil)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

"$py" - "$tmp" <<'EOF' || { echo "FAIL: could not make the data sets" >&2; exit 1; }
import os, sys
import numpy as np
from PIL import Image, ImageDraw
root = sys.argv[1]
rng = np.random.default_rng(7)

# Images: 80 per class, sizes 12..40, formats and modes in turn.
for cls in ("disc", "square"):
    os.makedirs(f"{root}/shapes/{cls}/more", exist_ok=True)
    for i in range(80):
        w, h = int(rng.integers(12, 41)), int(rng.integers(12, 41))
        noise = rng.integers(0, 90, (h, w, 3), dtype=np.uint8)
        im = Image.fromarray(noise, "RGB")
        d = ImageDraw.Draw(im)
        x0, y0 = int(rng.integers(0, w // 3)), int(rng.integers(0, h // 3))
        x1, y1 = x0 + w // 2 + 2, y0 + h // 2 + 2
        if cls == "disc":
            d.ellipse([x0, y0, x1, y1], fill=(230, 40, 30))
        else:
            d.rectangle([x0, y0, x1, y1], fill=(30, 60, 230))
        ext = ("png", "jpg", "bmp", "JPEG")[i % 4]
        if i % 5 == 0:
            im = im.convert("L")
        sub = "more/" if i % 7 == 0 else ""
        im.save(f"{root}/shapes/{cls}/{sub}{i:03d}.{ext}", "JPEG" if ext.lower().startswith("j") else None)
with open(f"{root}/shapes/README.txt", "w") as f:
    f.write("not an image, ignored\n")

# Features: class 1 when the first four features outweigh the last four.
n = 600
x = rng.normal(size=(n, 8)).astype(np.float32)
y = (x[:, :4].sum(axis=1) > x[:, 4:].sum(axis=1)).astype(np.uint8)
os.makedirs(f"{root}/arrays")
np.save(f"{root}/arrays/x.npy", x)
np.save(f"{root}/arrays/y.npy", y)
with open(f"{root}/sensors.csv", "w") as f:
    f.write(",".join(f"f{k}" for k in range(8)) + ",label\n")
    for row, label in zip(x, y):
        f.write(",".join(f"{v:.7g}" for v in row) + ("," + ("high" if label else "low")) + "\n")

# A set of another shape: 28x28 grey images as an array.
os.makedirs(f"{root}/other")
np.save(f"{root}/other/x.npy", rng.integers(0, 255, (20, 28, 28), dtype=np.uint8))
np.save(f"{root}/other/y.npy", (np.arange(20) % 2).astype(np.int64))
EOF

cat >"$tmp/small_cnn.arch" <<'EOF'
input 16 16 3
conv2d filters=8 kernel=3 padding=same
relu
maxpool2d pool=2
conv2d filters=8 kernel=3 padding=same
relu
maxpool2d pool=2
flatten
dense units=classes
EOF
cat >"$tmp/mlp.arch" <<'EOF'
flatten
dense units=16
relu
dense units=classes
EOF

# accuracy FILE: the test accuracy a --json run printed, in percent.
accuracy() {
  "$py" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(round(100 * d.get("test_accuracy", d.get("accuracy", d.get("quantized_accuracy", -1))), 2))' "$1"
}
# at_least FILE FLOOR WHAT
at_least() {
  local got
  got=$(accuracy "$1" 2>/dev/null) || { fail "$3: no accuracy in $(cat "$1")"; return; }
  "$py" -c "import sys; sys.exit(0 if $got >= $2 else 1)" || fail "$3: accuracy $got % < $2 %"
  echo "$3: $got %"
}

# Image folder, by detection, then --dataset images.
if "$cli" train --arch "$tmp/small_cnn.arch" --data "$tmp/shapes" --epochs 6 --batch 16 --lr 0.01 --val 16 \
     --quiet --json -o "$tmp/shapes.mco" >"$tmp/train_img.json" 2>"$tmp/err"; then
  at_least "$tmp/train_img.json" 90 "train on an image folder"
  grep -q '"dataset":[[:space:]]*"shapes"' "$tmp/train_img.json" || fail "train: the set is not named after its folder"
else
  fail "train on an image folder: $(cat "$tmp/err")"
fi
"$cli" eval "$tmp/shapes.mco" --dataset images --data "$tmp/shapes" --json >"$tmp/eval_img.json" 2>"$tmp/err" &&
  at_least "$tmp/eval_img.json" 90 "eval --dataset images" || fail "eval --dataset images: $(cat "$tmp/err")"
if "$cli" quantize "$tmp/shapes.mco" --data "$tmp/shapes" --json -o "$tmp/shapes.mcq" >"$tmp/q_img.json" 2>"$tmp/err"; then
  at_least "$tmp/q_img.json" 90 "quantize (int8) on an image folder"
  "$cli" eval "$tmp/shapes.mcq" --data "$tmp/shapes" --json >"$tmp/evalq_img.json" 2>"$tmp/err" &&
    at_least "$tmp/evalq_img.json" 90 "eval of the int8 model" || fail "eval shapes.mcq: $(cat "$tmp/err")"
else
  fail "quantize on an image folder: $(cat "$tmp/err")"
fi

# npy and CSV: the same task, by detection and by format name.
for spec in "--data $tmp/arrays" "--dataset npy --data $tmp/arrays" "--data $tmp/sensors.csv" \
            "--dataset csv --data $tmp/sensors.csv --label-column label"; do
  # shellcheck disable=SC2086
  if "$cli" train --arch "$tmp/mlp.arch" $spec --epochs 20 --batch 16 --lr 0.01 --val 40 --quiet --json \
       -o "$tmp/f.mco" >"$tmp/train_f.json" 2>"$tmp/err"; then
    at_least "$tmp/train_f.json" 85 "train $spec"
    # shellcheck disable=SC2086
    "$cli" eval "$tmp/f.mco" $spec --json >"$tmp/eval_f.json" 2>"$tmp/err" &&
      at_least "$tmp/eval_f.json" 85 "eval $spec" || fail "eval $spec: $(cat "$tmp/err")"
  else
    fail "train $spec: $(cat "$tmp/err")"
  fi
done

# The model's input against the data's: one line with both shapes.
expect_shapes() {
  local what=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then
    fail "$what: succeeded"
  else
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '16x16x3' "$tmp/err" && grep -q '28x28x1' "$tmp/err" ||
      fail "$what: not one line with both shapes: $(cat "$tmp/err")"
  fi
}
expect_shapes "eval on data of another shape" "$cli" eval "$tmp/shapes.mco" --data "$tmp/other"
expect_shapes "train on data of another shape" "$cli" train --arch "$tmp/small_cnn.arch" --data "$tmp/other" \
  --epochs 1 --val 2 --quiet -o "$tmp/x.mco"
[ ! -e "$tmp/x.mco" ] || fail "a failed train left its output"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "data readers from the command line: all checks passed"
