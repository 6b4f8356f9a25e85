"""check.py - the comparisons of the ONNX shell tests.

Usage: /usr/bin/python3 tests/onnx/check.py COMMAND ...
  close OUT.f32 REF.f32 TOL
      every value of OUT within TOL x max(1, |ref|) of REF (float32 files).
  eval MODEL.onnx IN.f32 REF.f32 TOL
      evaluates MODEL (onnx_numpy, float64) on the NCHW samples of IN and
      compares with REF as `close` does (checks an exported float model).
  qdq MODEL.onnx IN.f32 MCUOPT.f32 [MAX_STEPS MIN_IDENTICAL]
      evaluates the QDQ MODEL as an ONNX runtime would (float32, rounding
      half to even) and compares with mcuopt's dequantized int8 outputs:
      every value within MAX_STEPS (default 1) steps of the output scale
      (read from the model's last DequantizeLinear), and at least the
      fraction MIN_IDENTICAL (default 0.90) equal.
  mnist IDX_IMAGES COUNT OUT.f32
      the first COUNT images of an (uncompressed) IDX file as NCHW float32
      network inputs with mcuopt's MNIST normalisation.
Prints one line with what it found; exits 1 on a mismatch.

What it leaves out: anything but these four checks.
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402


def load(path):
    return np.fromfile(path, "<f4")


def evaluate_all(model_path, inputs_path, dtype):
    model = onnx.load(model_path)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = load(inputs_path).reshape([-1] + shape[1:])
    return np.concatenate([onnx_numpy.evaluate(model, x[i:i + 1], dtype).reshape(-1) for i in range(len(x))])


def output_scale(model_path):
    model = onnx.load(model_path)
    producer = {n.output[0]: n for n in model.graph.node}
    node = producer[model.graph.output[0].name]
    while node.op_type == "Identity":
        node = producer[node.input[0]]
    scale = [t for t in model.graph.initializer if t.name == node.input[1]][0]
    return float(onnx.numpy_helper.to_array(scale))


def close(out, ref, tol, what):
    if out.shape != ref.shape:
        print("%s: %d values, expected %d" % (what, out.size, ref.size))
        return 1
    err = np.abs(out.astype(np.float64) - ref) / np.maximum(1.0, np.abs(ref))
    print("%s: %d values, largest relative difference %.3g (tolerance %g)" % (what, out.size, err.max(), tol))
    return 0 if err.max() <= tol else 1


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "close":
        return close(load(args[0]), load(args[1]).astype(np.float64), float(args[2]), os.path.basename(args[0]))
    if cmd == "eval":
        out = evaluate_all(args[0], args[1], np.float64)
        return close(out, load(args[2]).astype(np.float64), float(args[3]), os.path.basename(args[0]))
    if cmd == "qdq":
        ref = evaluate_all(args[0], args[1], np.float32)
        ours, step = load(args[2]), output_scale(args[0])
        if ours.shape != ref.shape:
            print("qdq: %d values, expected %d" % (ours.size, ref.size))
            return 1
        steps = np.rint(np.abs(ours.astype(np.float64) - ref) / step)
        equal = float(np.mean(steps == 0))
        print("qdq: %d outputs, %.1f %% identical, largest difference %d step(s) of %g" %
              (ours.size, 100 * equal, int(steps.max()), step))
        max_steps = int(args[3]) if len(args) > 3 else 1
        min_identical = float(args[4]) if len(args) > 4 else 0.90
        return 0 if steps.max() <= max_steps and equal >= min_identical else 1
    if cmd == "mnist":
        count = int(args[1])
        raw = np.fromfile(args[0], np.uint8, offset=16)[:count * 784].astype(np.float32)
        x = (raw * np.float32(1 / 255) - np.float32(0.1307)) / np.float32(0.3081)
        x.astype("<f4").tofile(args[2])
        return 0
    print("check.py: unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
