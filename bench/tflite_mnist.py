"""tflite_mnist.py - an int8 TFLite MNIST model as TensorFlow's converter
makes one, and TFLite's reference integer arithmetic on the whole MNIST test
set, without TensorFlow (bench/tflite_mnist.sh drives it).

  convert MODEL.mco MNIST_DIR OUT.tflite
      Reads a trained mcuopt float model (.mco, layout in
      src/core/model_file.c: conv2d / dense / relu / maxpool2d / flatten /
      softmax layers) and writes it as a full-integer int8 TFLite model with
      uint8 input and output (tests/tflite/tfl_models.py: per-channel
      convolutions, per-tensor dense layers, activation ranges calibrated on
      the first 1000 training images normalised as the model was trained;
      so the uint8 input quantization makes raw pixels the model's input).

  reference OUT.tflite.graph MNIST_DIR OUT.u8
      Runs TFLite's reference integer arithmetic (tests/tflite/tfl_ref.py)
      on the 10,000 test images (raw pixels as the uint8 input), writes the
      int8 outputs (before the output QUANTIZE) and prints the accuracy.

  compare MCUOPT_OUT.f32 REF.s8 SCALE ZERO_POINT
      mcuopt's dequantized outputs back to int8, against the reference.

What it leaves out: layers other than those listed (the script refuses
them), training (mcuopt trains the float model).
"""
import gzip
import os
import pickle
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tflite"))
import tfl_models  # noqa: E402
import tfl_ref  # noqa: E402
import tfl_write as tw  # noqa: E402

LAYER_TYPES = ["conv2d", "depthwise_conv2d", "dense", "maxpool2d", "avgpool2d", "global_avgpool", "relu", "relu6",
               "batchnorm", "add", "flatten", "softmax", "dropout"]


def read_mco(path):
    """(input shape, normalisation, layers as dicts with their float parameters)."""
    data = open(path, "rb").read()
    assert data[:4] == b"MCOM", "not an .mco file"
    pos, end = 20, len(data) - 4
    arch, layers, tens = None, [], None
    while pos < end:
        tag, length = data[pos:pos + 4].decode(), struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + length]
        pos += 8 + length
        if tag == "ARCH":
            n = struct.unpack_from("<I", body, 0)[0]
            h, w, c, classes = struct.unpack_from("<4i", body, 4 + n)
            scale, mean, std = struct.unpack_from("<3f", body, 20 + n)
            arch = dict(shape=(h, w, c), norm=(scale, mean, std))
        elif tag == "LAYR":
            t, n = struct.unpack_from("<II", body, 0)
            name = body[8:8 + n].decode()
            p = 8 + n
            n_inputs = struct.unpack_from("<I", body, p)[0]
            p += 4 + 4 * n_inputs
            units, kh, kw, sh, sw, padding = struct.unpack_from("<5iI", body, p)
            p += 24 + 12
            n_params = struct.unpack_from("<I", body, p)[0]
            p += 4
            dims = []
            for _ in range(n_params):
                nd = struct.unpack_from("<I", body, p)[0]
                dims.append(list(struct.unpack_from("<%dI" % nd, body, p + 4)))
                p += 4 + 4 * nd
            layers.append(dict(type=LAYER_TYPES[t], name=name, kernel=(kh, kw), stride=(sh, sw), padding=padding,
                               dims=dims, units=units))
        elif tag == "PADS":
            raise SystemExit("tflite_mnist: explicit padding is not converted")
        elif tag == "TENS":
            tens = np.frombuffer(body, dtype="<f4")
    off = 0
    for layer in layers:
        layer["params"] = []
        for d in layer["dims"]:
            size = int(np.prod(d))
            layer["params"].append(tens[off:off + size].reshape(d).astype(np.float32))
            off += size
    return arch, layers


def to_tfl_layers(layers):
    """mcuopt layers -> tfl_models layer tuples (ReLU fused into its producer)."""
    out = []
    i = 0
    while i < len(layers):
        L = layers[i]
        act = tw.ACT_NONE
        if i + 1 < len(layers) and layers[i + 1]["type"] in ("relu", "relu6") and L["type"] in ("conv2d", "dense"):
            act = tw.ACT_RELU if layers[i + 1]["type"] == "relu" else tw.ACT_RELU6
        pad = tw.SAME if L["padding"] == 1 else tw.VALID
        if L["type"] == "conv2d":
            assert L["stride"][0] == L["stride"][1]
            out.append(("conv", L["params"][0], L["params"][1], L["stride"][0], pad, act))
        elif L["type"] == "dense":
            out.append(("fc", L["params"][0], L["params"][1], act))
        elif L["type"] == "maxpool2d":
            assert L["kernel"][0] == L["kernel"][1] and L["stride"][0] == L["stride"][1]
            out.append(("maxpool", L["kernel"][0], L["stride"][0], pad))
        elif L["type"] == "flatten":
            out.append(("flatten",))
        elif L["type"] == "softmax":
            out.append(("softmax",))
        elif L["type"] == "dropout":
            pass
        else:
            raise SystemExit("tflite_mnist: layer %s (%s) is not converted" % (L["name"], L["type"]))
        i += 2 if act != tw.ACT_NONE else 1
    return out


def read_images(mnist_dir, split, n=None):
    with gzip.open(os.path.join(mnist_dir, "%s-images-idx3-ubyte.gz" % split), "rb") as f:
        head = struct.unpack(">4I", f.read(16))
        count = head[1] if n is None else n
        return np.frombuffer(f.read(count * 784), dtype=np.uint8).reshape(count, 28, 28, 1)


def read_labels(mnist_dir, split):
    with gzip.open(os.path.join(mnist_dir, "%s-labels-idx1-ubyte.gz" % split), "rb") as f:
        f.read(8)
        return np.frombuffer(f.read(), dtype=np.uint8)


def convert(mco, mnist_dir, out):
    arch, layers = read_mco(mco)
    scale, mean, std = arch["norm"]
    calib = (read_images(mnist_dir, "train", 1000).astype(np.float64) * scale - mean) / std
    g, x_in, y_out = tfl_models.build(to_tfl_layers(layers), [1] + list(arch["shape"]), "int8", tw.UINT8, tw.UINT8,
                                      calib)
    g.write(out, [x_in], [y_out])
    with open(out + ".graph", "wb") as f:
        pickle.dump((g, x_in, y_out), f)
    last = g.ops[-1]["inputs"][0]
    print("wrote %s: %d operators, input uint8 scale %.9g zero point %d; int8 output scale %.9g zero point %d"
          % (out, len(g.ops), g.tensors[x_in]["scale"][0], g.tensors[x_in]["zero_point"][0],
             g.tensors[last]["scale"][0], g.tensors[last]["zero_point"][0]))


def reference(graph_path, mnist_dir, out):
    with open(graph_path, "rb") as f:
        g, x_in, y_out = pickle.load(f)
    last = g.ops[-1]["inputs"][0]   # the int8 output, before the output QUANTIZE
    images, labels = read_images(mnist_dir, "t10k"), read_labels(mnist_dir, "t10k")
    outs = []
    for s in range(0, len(images), 500):
        vals = tfl_ref.evaluate(g, [x_in], [y_out], images[s:s + 500], capture=True)
        assert np.array_equal(vals[y_out], vals[last] + 128)
        outs.append(vals[last].reshape(len(images[s:s + 500]), -1))
    q = np.concatenate(outs).astype(np.int8)
    q.tofile(out)
    acc = np.mean(np.argmax(q, axis=1) == labels)
    print("reference: %d test images, accuracy %.2f %%" % (len(labels), 100.0 * acc))


def compare(mcuopt_out, ref, scale, zp):
    r = np.fromfile(ref, dtype=np.int8).astype(np.int64)
    y = np.fromfile(mcuopt_out, dtype="<f4").astype(np.float64)
    q = np.round(y / np.float64(np.float32(scale))).astype(np.int64) + int(zp)
    if q.shape != r.shape:
        raise SystemExit("compare: %d outputs, %d expected" % (q.size, r.size))
    bad = np.count_nonzero(q != r)
    print("compare: %d of %d int8 outputs equal the reference (%d differ)" % (q.size - bad, q.size, bad))
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "convert":
        convert(*sys.argv[2:5])
    elif cmd == "reference":
        reference(*sys.argv[2:5])
    elif cmd == "compare":
        compare(*sys.argv[2:6])
    else:
        raise SystemExit("usage: tflite_mnist.py convert|reference|compare ...")
