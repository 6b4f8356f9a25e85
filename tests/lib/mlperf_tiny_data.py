#!/usr/bin/env python3
"""mlperf_tiny_data.py - small data sets in the shapes of three MLPerf Tiny
tasks, written as .npy splits (x_train.npy, y_train.npy, x_test.npy,
y_test.npy) that `mcuopt --data DIR` reads. Drawn here because the real sets
(COCO-derived visual wake words, ToyADMOS) cannot be downloaded on the test
machines; they are there to exercise the pipeline, not to rank models.

  vww DIR [N]  96x96x3 uint8 images, 2 classes: 1 = a bright filled disc
               (a "person") on a noisy background, 0 = background only.
  kws DIR [N]  49x10x1 float32 MFCC-like maps, 12 classes: class k is a
               ridge along MFCC row (k mod 10) rising or falling in time
               (k // 10 picks a third pattern for classes 10, 11), plus noise.
  ad DIR [N]   640 float32 values = 5 frames x 128 log-mel-like bands of a
               "machine": a fixed spectral envelope with harmonics plus
               noise. Training split: normal frames only (label 0). Test
               split: half normal (0), half anomalous (1): an extra band of
               energy and a shifted harmonic, as a worn bearing would add.
  ad-mixed DIR [N]  the same, with a fifth of the training split anomalous
               (labelled 1): what a search needs, whose validation images
               come from the training split (an autoencoder does not train
               on samples labelled 1).

Deterministic (fixed seed). What it leaves out: audio; any claim that these
sets resemble the real ones beyond their shapes.
"""
import os
import sys

import numpy as np


def vww(out, n):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, n).astype(np.uint8)
    x = rng.integers(0, 96, (n, 96, 96, 3)).astype(np.int32)
    yy, xx = np.mgrid[0:96, 0:96]
    for i in range(n):
        if y[i]:
            cy, cx, r = rng.integers(25, 71), rng.integers(25, 71), rng.integers(12, 24)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            x[i][disc] = 160 + rng.integers(0, 96, 3)
    return np.clip(x, 0, 255).astype(np.uint8), y


def kws(out, n):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 12, n).astype(np.uint8)
    t = np.arange(49)[:, None]
    c = np.arange(10)[None, :]
    x = 0.3 * rng.standard_normal((n, 49, 10)).astype(np.float32)
    for i in range(n):
        k = int(y[i])
        slope = (1.0 if k % 2 else -1.0) * (1.0 + k // 10)
        x[i] += np.exp(-((c - (k % 10)) ** 2) / 2.0) * (1.0 + slope * (t - 24) / 24.0)
    return x.reshape(n, 49, 10, 1), y


def ad_frames(rng, n, anomalous):
    bands = np.arange(128)
    envelope = -1.0 + 1.5 * np.exp(-bands / 40.0)
    frames = np.empty((n, 5, 128), np.float32)
    for i in range(n):
        f0 = 9 + rng.integers(0, 2)
        spec = envelope.copy()
        spec[f0::f0] += 0.8
        if anomalous:
            start = rng.integers(50, 100)
            spec[start:start + 12] += 0.5
            spec[f0 + 4::f0 + 4] += 0.3
        frames[i] = spec + 0.15 * rng.standard_normal((5, 128))
    return frames.reshape(n, 640)


def ad(out, n, mixed=False):
    rng = np.random.default_rng(11)
    train = ad_frames(rng, n, False)
    train_labels = np.zeros(n, np.uint8)
    if mixed:
        train_labels[::5] = 1
        train[::5] = ad_frames(rng, len(train[::5]), True)
    half = max(n // 4, 2)
    test = np.concatenate([ad_frames(rng, half, False), ad_frames(rng, half, True)])
    labels = np.concatenate([np.zeros(half, np.uint8), np.ones(half, np.uint8)])
    return train, train_labels, test, labels


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("vww", "kws", "ad", "ad-mixed"):
        sys.exit("usage: mlperf_tiny_data.py vww|kws|ad|ad-mixed DIR [N]")
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    os.makedirs(out, exist_ok=True)
    if kind in ("vww", "kws"):
        x, y = (vww if kind == "vww" else kws)(out, n + n // 4)
        x_train, y_train, x_test, y_test = x[:n], y[:n], x[n:], y[n:]
    else:
        x_train, y_train, x_test, y_test = ad(out, n, kind == "ad-mixed")
    for name, a in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
        np.save(os.path.join(out, name + ".npy"), a)


if __name__ == "__main__":
    main()
