"""make_models.py - the TFLite models of tests/tflite_import.sh, written
without TensorFlow (tfl_write.py, tfl_models.py), with seeded weights and
the expected outputs of the independent evaluator (tfl_ref.py).

Usage: /usr/bin/python3 tests/tflite/make_models.py OUTDIR [IMAGES]
(IMAGES: an uncompressed MNIST IDX image file; its first 16 images are the
inputs of mnist_int8, which `mcuopt measure` then runs on the same images.)
Writes, per model NAME: NAME.tflite, NAME.in.f32 (the network inputs, NHWC
float32: for int8 models the real values of the int8 input,
scale x (q - zero point)), NAME.ref.f32 (float models: the float64
reference as float32; int8 models: the int8 output values q as float32)
and for int8 models NAME.q.txt (the output tensor's "scale zero_point").

The models: cnn (PAD folded into a conv, depthwise, residual ADD, max and
average pools, Keras' flatten prologue, FULLY_CONNECTED, SOFTMAX, fused
RELU / RELU6) as float32, float16 weights, dynamic-range int8 weights and
full int8 with uint8 input and output (per-channel convolutions, per-tensor
dense); gap (conv, MEAN, dense) as float32 and full int8 with int8 input
and a DEQUANTIZE to float output; rescaled (gap behind Keras' Rescaling
layer, MUL and ADD by constants on the float input, which mcuopt folds
into the input normalisation) in the float forms: its inputs are raw
values 0..255, its NAME.in.f32 the network input raw / 127.5 - 1 computed
here, its raw inputs NAME.raw.f32; logistic (conv, LOGISTIC, dense,
LOGISTIC) in the float forms and as full int8; and the refused models of the error tests (bad_*.tflite).

What it leaves out: anything random at run time (all seeds fixed).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl_models  # noqa: E402
import tfl_ref  # noqa: E402
import tfl_write as tw  # noqa: E402

rng = np.random.default_rng(20261201)


def w(*shape, fan_in=None):
    fan_in = fan_in or int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def b(n):
    return (rng.standard_normal(n) * 0.1).astype(np.float32)


CNN = [
    ("pad", 1, 1, 1, 1),
    ("conv", w(6, 3, 3, 2), b(6), 1, tw.VALID, tw.ACT_RELU),
    ("save", "a"),
    ("dw", w(1, 3, 3, 6, fan_in=9), b(6), 1, tw.SAME, tw.ACT_RELU6),
    ("add", "a", tw.ACT_RELU),
    ("maxpool", 2, 2, tw.VALID),
    ("avgpool", 3, 1, tw.SAME),
    ("conv", w(8, 3, 3, 6), b(8), 2, tw.SAME, tw.ACT_RELU),
    ("flatten",),
    ("fc", w(10, 72), b(10), tw.ACT_NONE),
    ("softmax",),
]
GAP = [
    ("conv", w(8, 3, 3, 3), b(8), 2, tw.VALID, tw.ACT_RELU6),
    ("mean",),
    ("fc", w(5, 8), b(5), tw.ACT_NONE),
]

# MNIST-shaped (28x28x1), for `mcuopt measure` on the emulated Cortex-M4:
# every int8 kernel an imported model uses.
MNIST = [
    ("pad", 1, 1, 1, 1),
    ("conv", w(8, 3, 3, 1), b(8), 1, tw.VALID, tw.ACT_RELU),
    ("maxpool", 2, 2, tw.VALID),
    ("save", "a"),
    ("dw", w(1, 3, 3, 8, fan_in=9), b(8), 1, tw.SAME, tw.ACT_RELU6),
    ("add", "a", tw.ACT_NONE),
    ("avgpool", 2, 2, tw.VALID),
    ("conv", w(16, 3, 3, 8), b(16), 2, tw.SAME, tw.ACT_RELU),
    ("mean",),
    ("fc", w(10, 16), b(10), tw.ACT_NONE),
    ("softmax",),
]

# LOGISTIC (sigmoid) on a conv's output and at the end.
LOGI = [
    ("conv", w(6, 3, 3, 2), b(6), 1, tw.VALID, tw.ACT_NONE),
    ("logistic",),
    ("flatten",),
    ("fc", w(4, 600), b(4), tw.ACT_NONE),
    ("logistic",),
]


def general_layers():
    """The general convolution (conv16): a DEPTHWISE_CONV_2D with depth
    multiplier 2 and dilation 2 ("same"), a CONV_2D with dilation 2
    ("valid"); weights from a generator of their own, so that the other
    models' random values stay what they were."""
    r = np.random.default_rng(16)

    def wr(*shape, fan_in):
        return (r.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    return [
        ("dw", wr(1, 3, 3, 4, fan_in=9), (r.standard_normal(4) * 0.1).astype(np.float32), 1, tw.SAME, tw.ACT_RELU, 2),
        ("conv", wr(5, 3, 3, 4, fan_in=36), (r.standard_normal(5) * 0.1).astype(np.float32), 1, tw.VALID,
         tw.ACT_RELU, 2),
        ("flatten",),
        ("fc", wr(4, 180, fan_in=180), (r.standard_normal(4) * 0.1).astype(np.float32), tw.ACT_NONE),
    ]


def write(out, name, g, x_in, y_out, x, ref, q=None):
    g.write(os.path.join(out, name + ".tflite"), [x_in], [y_out])
    np.asarray(x, dtype="<f4").tofile(os.path.join(out, name + ".in.f32"))
    np.asarray(ref, dtype="<f4").tofile(os.path.join(out, name + ".ref.f32"))
    if q is not None:
        with open(os.path.join(out, name + ".q.txt"), "w") as f:
            f.write("%.9g %d\n" % q)


def float_models(out, name, layers, shape, n, raw=False):
    """raw: the model takes raw values 0..255 (integers) and the network input
    (NAME.in.f32, what `mcuopt predict` takes) is raw / 127.5 - 1."""
    if raw:
        x = rng.integers(0, 256, size=[n] + shape[1:]).astype(np.float32)
        net_in = (x / np.float32(127.5) - np.float32(1.0)).astype(np.float32)
    else:
        x = net_in = rng.uniform(0.0, 1.0, size=[n] + shape[1:]).astype(np.float32)
    for form in ("float32", "float16", "hybrid"):
        g, x_in, y_out = tfl_models.build(layers, shape, form)
        ref = tfl_ref.evaluate(g, [x_in], [y_out], x.astype(np.float64))
        write(out, "%s_%s" % (name, form), g, x_in, y_out, net_in, ref)
        if raw:
            x.astype("<f4").tofile(os.path.join(out, "%s_%s.raw.f32" % (name, form)))


def read_idx_images(path, n):
    with open(path, "rb") as f:
        head = np.frombuffer(f.read(16), dtype=">u4")
        assert head[0] == 0x803, "not an IDX image file"
        return np.frombuffer(f.read(int(n * head[2] * head[3])), dtype=np.uint8).reshape(n, head[2], head[3], 1)


def int8_model(out, name, layers, shape, n, in_type, out_type, pixels=None):
    calib = rng.uniform(0.0, 1.0, size=[64] + shape[1:])
    g, x_in, y_out = tfl_models.build(layers, shape, "int8", in_type, out_type, calib)
    t_in = g.tensors[x_in]
    if pixels is None:
        pixels = rng.integers(0, 256, size=[n] + shape[1:])
    if in_type == tw.UINT8:
        x = pixels.astype(np.uint8)
    elif in_type == tw.INT8:
        x = (pixels - 128).astype(np.int8)
    else:
        x = (pixels / 255.0).astype(np.float32)
    vals = tfl_ref.evaluate(g, [x_in], [y_out], x, capture=True)
    # the last int8 tensor (before an output QUANTIZE / DEQUANTIZE) is what mcuopt's plan computes
    last = y_out if out_type == tw.INT8 else g.ops[-1]["inputs"][0]
    q_last = g.tensors[last]
    real_in = x.astype(np.float64) if in_type == tw.FLOAT32 else \
        (x.astype(np.float64) - float(t_in["zero_point"][0])) * float(t_in["scale"][0])
    write(out, name, g, x_in, y_out, real_in, vals[last],
          (float(q_last["scale"][0]), int(q_last["zero_point"][0])))
    if out_type == tw.UINT8:   # the model's own uint8 output is the int8 one + 128
        assert np.array_equal(vals[y_out], vals[last] + 128)


def bad_models(out):
    """Models the importer must refuse with one line naming the operator."""
    def simple(code, name, options=None, extra_inputs=(), **fields):
        g = tw.Graph()
        x = g.tensor([1, 4], tw.FLOAT32, "x")
        ins = [x] + [g.tensor([1, 4], tw.FLOAT32, "c%d" % i, np.ones(4)) for i in range(extra_inputs)] \
            if isinstance(extra_inputs, int) else [x, x]
        y = g.tensor([1, 4], tw.FLOAT32, "y")
        g.op(code, ins, [y], options, **fields)
        g.write(os.path.join(out, "bad_%s.tflite" % name), [x], [y])
    simple(tw.MUL, "mul", "MulOptions", extra_inputs=1)
    g = tw.Graph()
    x = g.tensor([1, 4], tw.FLOAT32, "x")
    y = g.tensor([1, 8], tw.FLOAT32, "y")
    g.op(tw.CONCATENATION, [x, x], [y], "ConcatenationOptions", axis=1)
    g.write(os.path.join(out, "bad_concat.tflite"), [x], [y])
    # Keras' Rescaling folded into the input normalisation, then the raw input
    # read again (a residual of it), and a rescaling by 0.
    g = tw.Graph()
    x = g.tensor([1, 4], tw.FLOAT32, "x")
    c = g.tensor([], tw.FLOAT32, "c", np.float32(0.5))
    s = g.tensor([1, 4], tw.FLOAT32, "s")
    y = g.tensor([1, 4], tw.FLOAT32, "y")
    g.op(tw.MUL, [x, c], [s], "MulOptions")
    g.op(tw.ADD, [x, s], [y], "AddOptions")
    g.write(os.path.join(out, "bad_rescale_branch.tflite"), [x], [y])
    g = tw.Graph()
    x = g.tensor([1, 4], tw.FLOAT32, "x")
    c = g.tensor([], tw.FLOAT32, "c", np.float32(0.0))
    y = g.tensor([1, 4], tw.FLOAT32, "y")
    g.op(tw.MUL, [x, c], [y], "MulOptions")
    g.write(os.path.join(out, "bad_rescale_zero.tflite"), [x], [y])
    # A NaN weight (refused as the constant is read, naming the tensor), and
    # an int8 dense layer whose int32 bias in real units (bias x input scale
    # x weight scale: 2e9 x 1e15 x 1e15) is not a float, while its output
    # multiplier (1e30 / 3e38) is fine (refused, naming the layer).
    w = np.ones((2, 4), np.float32)
    w[1, 2] = np.nan
    g, x_in, y_out = tfl_models.build([("fc", w, np.zeros(2, np.float32), 0)], [1, 4], "float32")
    g.write(os.path.join(out, "bad_nan_weight.tflite"), [x_in], [y_out])
    g = tw.Graph()
    x = g.tensor([1, 4], tw.INT8, "x", scale=1e15, zero_point=0)
    w = g.tensor([2, 4], tw.INT8, "w", np.ones((2, 4)), scale=1e15, zero_point=0)
    b = g.tensor([2], tw.INT32, "b", np.full(2, 2000000000), scale=1e30, zero_point=0)
    y = g.tensor([1, 2], tw.INT8, "y", scale=3e38, zero_point=0)
    g.op(tw.FULLY_CONNECTED, [x, w, b], [y], "FullyConnectedOptions")
    g.write(os.path.join(out, "bad_inf_bias.tflite"), [x], [y])
    # An int8 dense layer whose int32 accumulator can overflow (bias at the
    # int32 limit): refused on import, as the .mcq loader would refuse it.
    g = tw.Graph()
    x = g.tensor([1, 4], tw.INT8, "x", scale=0.5, zero_point=0)
    w = g.tensor([2, 4], tw.INT8, "w", np.ones((2, 4)), scale=0.5, zero_point=0)
    b = g.tensor([2], tw.INT32, "b", np.full(2, 2**31 - 1), scale=0.25, zero_point=0)
    y = g.tensor([1, 2], tw.INT8, "y", scale=1.0, zero_point=0)
    g.op(tw.FULLY_CONNECTED, [x, w, b], [y], "FullyConnectedOptions")
    g.write(os.path.join(out, "bad_acc_overflow.tflite"), [x], [y])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    float_models(out, "cnn", CNN, [1, 12, 12, 2], 8)
    float_models(out, "gap", GAP, [1, 9, 9, 3], 8)
    int8_model(out, "cnn_int8", CNN, [1, 12, 12, 2], 64, tw.UINT8, tw.UINT8)
    int8_model(out, "gap_int8", GAP, [1, 9, 9, 3], 64, tw.INT8, tw.FLOAT32)
    int8_model(out, "cnn_int8_float_io", CNN, [1, 12, 12, 2], 16, tw.FLOAT32, tw.INT8)
    images = read_idx_images(sys.argv[2], 16) if len(sys.argv) > 2 else None
    int8_model(out, "mnist_int8", MNIST, [1, 28, 28, 1], 16, tw.UINT8, tw.UINT8, images)
    float_models(out, "logistic", LOGI, [1, 12, 12, 2], 8)
    int8_model(out, "logistic_int8", LOGI, [1, 12, 12, 2], 64, tw.UINT8, tw.UINT8)
    float_models(out, "rescaled", [("scale", 1.0 / 127.5), ("shift", -1.0)] + GAP, [1, 9, 9, 3], 8, raw=True)
    bad_models(out)
    float_models(out, "general", general_layers(), [1, 10, 10, 2], 8)
    int8_model(out, "general_int8", general_layers(), [1, 10, 10, 2], 64, tw.UINT8, tw.UINT8)


if __name__ == "__main__":
    main()
