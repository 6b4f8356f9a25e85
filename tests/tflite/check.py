"""check.py - comparisons for tests/tflite_import.sh.

  close OUT.f32 REF.f32 TOL     float outputs within TOL (absolute) of the reference
  int8 OUT.f32 REF.f32 Q.txt    mcuopt's dequantized int8 outputs, turned back into
                                int8 values with the output's scale and zero point,
                                equal to the reference's int8 values, every one
  norm IMPORT.json RAW.f32 IN.f32
                                the input normalisation `mcuopt import --json` recorded,
                                (raw * scale - mean) / std in float32 as mcuopt computes it,
                                maps the raw inputs onto the network inputs (within 1e-6)

Exits non-zero with one line saying what differs.
"""
import json
import sys

import numpy as np


def load(path):
    return np.fromfile(path, dtype="<f4").astype(np.float64)


def main():
    cmd = sys.argv[1]
    if cmd == "close":
        out, ref, tol = load(sys.argv[2]), load(sys.argv[3]), float(sys.argv[4])
        if out.shape != ref.shape:
            sys.exit("check: %d outputs, %d expected" % (out.size, ref.size))
        err = np.max(np.abs(out - ref))
        if not err <= tol:
            sys.exit("check: %s: largest difference %.3g > %g" % (sys.argv[2], err, tol))
    elif cmd == "int8":
        out, ref = load(sys.argv[2]), load(sys.argv[3])
        scale, zp = open(sys.argv[4]).read().split()
        q = np.round(out / np.float64(np.float32(scale))) + int(zp)
        if q.shape != ref.shape:
            sys.exit("check: %d outputs, %d expected" % (q.size, ref.size))
        bad = np.count_nonzero(q != ref)
        if bad:
            sys.exit("check: %s: %d of %d int8 outputs differ from the TFLite reference arithmetic"
                     % (sys.argv[2], bad, q.size))
        print("check: %s: all %d int8 outputs equal the reference" % (sys.argv[2], q.size))
    elif cmd == "norm":
        scale, mean, std = (np.float32(v) for v in json.load(open(sys.argv[2]))["normalization"])
        raw = np.fromfile(sys.argv[3], dtype="<f4")
        net = np.fromfile(sys.argv[4], dtype="<f4")
        if raw.shape != net.shape:
            sys.exit("check: %d raw inputs, %d network inputs" % (raw.size, net.size))
        got = (raw * scale - mean) / std
        err = np.max(np.abs(got.astype(np.float64) - net))
        if not err <= 1e-6:
            sys.exit("check: the recorded normalisation (%g, %g, %g) maps the raw inputs %.3g away from the "
                     "network inputs" % (scale, mean, std, err))
    else:
        sys.exit("check: unknown command " + cmd)


if __name__ == "__main__":
    main()
