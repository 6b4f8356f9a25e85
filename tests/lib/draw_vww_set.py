#!/usr/bin/env python3
"""draw_vww_set.py - a small two-class visual-wake-words set drawn here (the
COCO-derived VWW set cannot be downloaded on these machines), written as PNG
files in Keras' image_dataset_from_directory layout that `mcuopt --data DIR`
reads as an image folder:

  DIR/person/NNNN.png     a "person-like" figure: a head (ellipse), a torso
                          (rounded box), two arms and two legs (thick
                          lines), in a random colour, at a random position
                          and size (a third to nine tenths of the height),
                          sometimes cut by the image border;
  DIR/no_person/NNNN.png  no figure.
Both classes share the backgrounds: a two-colour gradient, 2-6 distractor
shapes (boxes, ellipses, lines, discs of random colours and sizes, so that
"a round blob" or "a bright box" does not tell the classes apart), then
Gaussian pixel noise of a random strength. 96x96 RGB, 8 bits per channel.
Half the images are of each class, in random order of drawing.

The split is mcuopt's: without train/ and test/ sub-folders, a CRC-32 of
each file's path puts about a fifth of the files in the test split.

Usage: draw_vww_set.py DIR [N (default 200)] [SEED (default 1)]
Deterministic for a seed (numpy's PCG64 and PIL's drawing).
What it leaves out: people, photographs, any claim that accuracy on this set
says what a model reaches on real VWW images.
"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

SIZE = 96


def colour(rng, lo=0, hi=256):
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def background(rng):
    a, b = np.array(colour(rng), float), np.array(colour(rng), float)
    t = np.linspace(0.0, 1.0, SIZE)[:, None, None]
    if rng.integers(0, 2):
        t = t.transpose(1, 0, 2)
    img = Image.fromarray((a + (b - a) * t * np.ones((SIZE, SIZE, 1))).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 7))):
        x0, y0 = (int(v) for v in rng.integers(-10, SIZE, 2))
        w, h = (int(v) for v in rng.integers(6, 40, 2))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            d.rectangle([x0, y0, x0 + w, y0 + h], fill=colour(rng))
        elif kind == 1:
            d.ellipse([x0, y0, x0 + w, y0 + h], fill=colour(rng))
        elif kind == 2:
            d.line([x0, y0, x0 + w, y0 + h], fill=colour(rng), width=int(rng.integers(1, 6)))
        else:
            r = int(rng.integers(4, 14))
            d.ellipse([x0, y0, x0 + 2 * r, y0 + 2 * r], fill=colour(rng))
    return img


def person(rng, img):
    d = ImageDraw.Draw(img)
    h = float(rng.uniform(0.33, 0.9)) * SIZE          # the figure's height
    cx = float(rng.uniform(0.1, 0.9)) * SIZE
    top = float(rng.uniform(-0.1, 1.0 - h / SIZE + 0.1)) * SIZE
    body, limbs = colour(rng), colour(rng)
    head_r = h * 0.09
    head_cy = top + head_r
    d.ellipse([cx - head_r, top, cx + head_r, top + 2 * head_r], fill=colour(rng))
    sh = head_cy + head_r * 1.2                         # shoulders
    hip = top + h * 0.58
    half_w = h * float(rng.uniform(0.09, 0.14))
    d.rounded_rectangle([cx - half_w, sh, cx + half_w, hip], radius=max(1.0, half_w * 0.4), fill=body)
    width = max(2, int(h * 0.06))
    for side in (-1, 1):
        swing = float(rng.uniform(-0.25, 0.25)) * h
        d.line([cx + side * half_w, sh + 2, cx + side * (half_w + h * 0.12), sh + h * 0.28 + swing * 0.3],
               fill=limbs, width=width)
        d.line([cx + side * half_w * 0.5, hip, cx + side * half_w * 0.5 + swing * 0.4, top + h],
               fill=limbs, width=width + 1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    labels = np.array([i % 2 for i in range(n)])
    rng.shuffle(labels)
    for name in ("no_person", "person"):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i, y in enumerate(labels):
        img = background(rng)
        if y:
            person(rng, img)
        noisy = np.asarray(img, float) + rng.normal(0.0, float(rng.uniform(2.0, 20.0)), (SIZE, SIZE, 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB").save(
            os.path.join(out, "person" if y else "no_person", "%04d.png" % i))


if __name__ == "__main__":
    main()
