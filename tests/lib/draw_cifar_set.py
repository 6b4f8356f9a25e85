#!/usr/bin/env python3
"""draw_cifar_set.py - a small ten-class image set drawn here, written in the
CIFAR-10 binary format (data_batch_1.bin ... and test_batch.bin: records of
one label byte and a 32x32 RGB image as three 1024-byte planes, red, green,
blue) that `mcuopt --data DIR` reads as CIFAR-10; for the tests and benches
of resnet8 where the real CIFAR-10 cannot be downloaded.

The ten classes are drawn shapes, each at a random position, size and
colour on a random two-colour gradient background with Gaussian noise:
  0 disc, 1 square, 2 triangle, 3 cross, 4 horizontal stripes,
  5 vertical stripes, 6 ring, 7 diamond, 8 checkerboard patch, 9 dots.

Usage: draw_cifar_set.py DIR [TRAIN (default 5000)] [TEST (default 1000)] [SEED (default 1)]
The training records are spread evenly over the five data_batch_N.bin
files the reader expects (the real set has 10,000 in each). Deterministic for a seed.
What it leaves out: photographs; any claim that accuracy on this set says
what resnet8 reaches on CIFAR-10.
"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

SIDE = 32


def colour(rng):
    return tuple(int(v) for v in rng.integers(0, 256, 3))


def draw(rng, label):
    a, b = np.array(colour(rng), float), np.array(colour(rng), float)
    t = np.linspace(0.0, 1.0, SIDE)[:, None, None]
    if rng.integers(0, 2):
        t = t.transpose(1, 0, 2)
    img = Image.fromarray((a + (b - a) * t * np.ones((SIDE, SIDE, 1))).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    fg = colour(rng)
    r = int(rng.integers(6, 13))
    cx, cy = (int(v) for v in rng.integers(r, SIDE - r, 2))
    box = [cx - r, cy - r, cx + r, cy + r]
    if label == 0:
        d.ellipse(box, fill=fg)
    elif label == 1:
        d.rectangle(box, fill=fg)
    elif label == 2:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fg)
    elif label == 3:
        w = max(2, r // 3)
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fg)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fg)
    elif label in (4, 5):
        step = int(rng.integers(3, 6))
        for k in range(-r, r + 1, 2 * step):
            if label == 4:
                d.rectangle([cx - r, cy + k, cx + r, cy + k + step - 1], fill=fg)
            else:
                d.rectangle([cx + k, cy - r, cx + k + step - 1, cy + r], fill=fg)
    elif label == 6:
        d.ellipse(box, outline=fg, width=max(2, r // 3))
    elif label == 7:
        d.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fg)
    elif label == 8:
        step = max(2, r // 2)
        for i, y in enumerate(range(cy - r, cy + r, step)):
            for j, x in enumerate(range(cx - r, cx + r, step)):
                if (i + j) % 2 == 0:
                    d.rectangle([x, y, x + step - 1, y + step - 1], fill=fg)
    else:
        for _ in range(int(rng.integers(4, 8))):
            x, y = (int(v) for v in rng.integers(cx - r, cx + r, 2))
            d.ellipse([x - 1, y - 1, x + 2, y + 2], fill=fg)
    noisy = np.asarray(img, float) + rng.normal(0.0, float(rng.uniform(2.0, 15.0)), (SIDE, SIDE, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def records(rng, n):
    out = bytearray()
    for i in range(n):
        label = i % 10
        img = draw(rng, label)
        out.append(label)
        out += img.transpose(2, 0, 1).tobytes()   # HWC -> CHW planes
    return bytes(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    n_test = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    if not 5 <= n_train <= 50000 or not 1 <= n_test <= 10000:
        sys.exit("draw_cifar_set.py: TRAIN is 5..50000, TEST 1..10000")
    os.makedirs(out, exist_ok=True)
    for batch in range(5):
        n = n_train // 5 + (batch < n_train % 5)
        with open(os.path.join(out, "data_batch_%d.bin" % (batch + 1)), "wb") as f:
            f.write(records(rng, n))
    with open(os.path.join(out, "test_batch.bin"), "wb") as f:
        f.write(records(rng, n_test))


if __name__ == "__main__":
    main()
