"""make_models.py - builds the small ONNX models of tests/onnx_import.sh with
known (seeded) weights, one input each, and the expected output computed by
onnx_numpy.py in float64.

Usage: /usr/bin/python3 tests/onnx/make_models.py OUTDIR
Writes, per model NAME: NAME.onnx, NAME.in.f32 (the NCHW input, float32
little-endian) and NAME.ref.f32 (the expected output).

The models cover what the importer maps: conv + pool + gemm (explicit,
SAME_UPPER and asymmetric pads, ceil_mode, a bias as a separate broadcast
Add, a Transposed weight initializer, MatMul + Add, Clip as ReLU6, Softmax),
depthwise + batchnorm (opset 9: Clip and Dropout attributes, a
Shape -> Gather -> Unsqueeze -> Concat -> Reshape flatten), a residual Add
(opset 17, typed float_data initializers, a Reshaped weight, PyTorch's
x.view(-1, 96) as a Reshape that infers the batch dimension), ReduceMean
over the spatial axes as global pooling (reduce_mean), and an
MNIST-shaped model for the int8 QDQ test (mnist_qdq: no average pool, whose
int8 rounding differs from ONNX at ties, see docs/onnx.md), and an
MNIST-shaped model whose every window needs explicit padding (explicit_pads,
opset 11: PyTorch's stride-2 padding-1 conv on an even input, a SAME_LOWER
depthwise conv, asymmetric pads, ceil_mode max and average pools; and
explicit_pads_maxpool, the same with a max pool last).

What it leaves out: anything random at run time (all seeds fixed).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402

rng = np.random.default_rng(20240601)


def weights(*shape, scale=None):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return (rng.standard_normal(shape) * (scale or np.sqrt(2.0 / fan_in))).astype(np.float32)


def init(name, array, typed=False):
    """An initializer as raw_data (numpy_helper) or in the typed float_data field."""
    if typed:
        return helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.flatten().tolist())
    return numpy_helper.from_array(array, name)


def graph_model(name, nodes, inits, in_shape, out_shape, opset):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="mcuopt-test")
    model.ir_version = 7 if opset <= 15 else 8
    onnx.checker.check_model(model)
    return model


def conv_pool_gemm():
    w1, b1, w2, b2 = weights(8, 3, 3, 3), weights(8, scale=0.1), weights(6, 8, 3, 3), weights(1, 6, 1, 1, scale=0.1)
    w3t, c3 = weights(24, 16), weights(16, scale=0.1)
    w4, b4 = weights(16, 5), weights(5, scale=0.1)
    inits = [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2), init("w3t", w3t), init("c3", c3),
             init("w4", w4, typed=True), init("b4", b4), init("lo", np.array(0, np.float32)),
             init("hi", np.array(6, np.float32))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Add", ["c2", "b2"], ["c2b"], name="conv2_bias"),
        helper.make_node("Clip", ["c2b", "lo", "hi"], ["r2"], name="relu6"),
        helper.make_node("AveragePool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2],
                         ceil_mode=1),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
        helper.make_node("Transpose", ["w3t"], ["w3"], name="w3_transpose", perm=[1, 0]),
        helper.make_node("Gemm", ["f", "w3", "c3"], ["g3"], name="fc1", transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["g3"], ["r3"], name="relu3"),
        helper.make_node("MatMul", ["r3", "w4"], ["m4"], name="fc2"),
        helper.make_node("Add", ["m4", "b4"], ["a4"], name="fc2_bias"),
        helper.make_node("Softmax", ["a4"], ["y"], name="softmax", axis=-1),
    ]
    return graph_model("conv_pool_gemm", nodes, inits, [1, 3, 12, 10], [1, 5], 13)


def depthwise_bn():
    def bn(prefix, c):
        return [init(prefix + "_s", (1 + 0.2 * rng.standard_normal(c)).astype(np.float32)),
                init(prefix + "_b", (0.1 * rng.standard_normal(c)).astype(np.float32)),
                init(prefix + "_m", (0.1 * rng.standard_normal(c)).astype(np.float32)),
                init(prefix + "_v", (0.5 + rng.random(c)).astype(np.float32))]
    inits = [init("w1", weights(8, 4, 1, 1)), init("wd", weights(8, 1, 3, 3)), init("bd", weights(8, scale=0.1)),
             init("w3", weights(8, 3)), init("c3", weights(3, scale=0.1)),
             init("zero", np.array([0], np.int64)), init("minus1", np.array([-1], np.int64))]
    inits += bn("bn1", 8) + bn("bn2", 8)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="expand"),
        helper.make_node("BatchNormalization", ["c1", "bn1_s", "bn1_b", "bn1_m", "bn1_v"], ["n1"], name="bn1",
                         epsilon=1e-3, momentum=0.9),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "wd", "bd"], ["d"], name="depthwise", group=8, pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["d", "bn2_s", "bn2_b", "bn2_m", "bn2_v"], ["n2"], name="bn2"),
        helper.make_node("Clip", ["n2"], ["r2"], name="relu6", min=0.0, max=6.0),
        helper.make_node("Dropout", ["r2"], ["dr"], name="dropout", ratio=0.25),
        helper.make_node("AveragePool", ["dr"], ["ap"], name="avgpool", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["ap"], ["gap"], name="gap"),
        helper.make_node("Shape", ["gap"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="gather", axis=0),
        helper.make_node("Concat", ["batch", "minus1"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["gap", "target"], ["flat"], name="reshape"),
        helper.make_node("Gemm", ["flat", "w3", "c3"], ["y"], name="fc"),
    ]
    return graph_model("depthwise_bn", nodes, inits, [1, 4, 9, 9], [1, 3], 9)


def residual():
    w4 = weights(10, 96)
    inits = [init("w1", weights(4, 2, 3, 3)), init("b1", weights(4, scale=0.1)),
             init("w2", weights(4, 4, 3, 3), typed=True), init("b2", weights(4, scale=0.1), typed=True),
             init("w3", weights(6, 4, 1, 1)), init("w4flat", w4.reshape(-1)),
             init("w4shape", np.array([10, 96], np.int64)), init("b4", weights(10, scale=0.1)),
             init("view", np.array([-1, 96], np.int64))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["r1", "c2"], ["s"], name="residual"),
        helper.make_node("Relu", ["s"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[0, 0, 1, 1]),
        helper.make_node("Conv", ["p", "w3"], ["c3"], name="conv3"),
        helper.make_node("Reshape", ["c3", "view"], ["f"], name="view"),
        helper.make_node("Reshape", ["w4flat", "w4shape"], ["w4"], name="w4_reshape"),
        helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], name="fc", transB=1),
    ]
    return graph_model("residual", nodes, inits, [1, 2, 8, 8], [1, 10], 17)


def reduce_mean():
    """PyTorch's x.mean((2, 3)) as global pooling: ReduceMean over axes
    [-1, -2] keeping the dims, then over [2, 3] without (opset 13)."""
    inits = [init("w1", weights(4, 2, 3, 3)), init("b1", weights(4, scale=0.1)),
             init("w2", weights(3, 4)), init("b2", weights(3, scale=0.1))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("ReduceMean", ["r1"], ["m1"], name="mean_keep", axes=[-1, -2]),
        helper.make_node("ReduceMean", ["m1"], ["m2"], name="mean_flat", axes=[2, 3], keepdims=0),
        helper.make_node("Gemm", ["m2", "w2", "b2"], ["y"], name="fc", transB=1),
    ]
    return graph_model("reduce_mean", nodes, inits, [1, 2, 6, 6], [1, 3], 13)


def mnist_qdq():
    inits = [init("w1", weights(6, 1, 3, 3)), init("b1", weights(6, scale=0.05)),
             init("w2", weights(8, 6, 3, 3)), init("b2", weights(8, scale=0.05)),
             init("w3", weights(8, 8, 3, 3, scale=0.1)), init("b3", weights(8, scale=0.05)),
             init("w4", weights(10, 128)), init("b4", weights(10, scale=0.05))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv3", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["r2", "c3"], ["s"], name="residual"),
        helper.make_node("Relu", ["s"], ["r3"], name="relu3"),
        helper.make_node("MaxPool", ["r3"], ["p3"], name="pool3", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("Flatten", ["p3"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], name="fc", transB=1),
    ]
    return graph_model("mnist_qdq", nodes, inits, [1, 1, 28, 28], [1, 10], 13)


def explicit_pads(last_pool="AveragePool", name="explicit_pads"):
    """MNIST-shaped, every window needing mcuopt's explicit padding."""
    inits = [init("w1", weights(6, 1, 3, 3)), init("b1", weights(6, scale=0.05)),
             init("wd", weights(6, 1, 2, 2)), init("bd", weights(6, scale=0.05)),
             init("w3", weights(5, 6, 3, 3)), init("b3", weights(5, scale=0.05)),
             init("w4", weights(10, 125)), init("b4", weights(10, scale=0.05))]
    nodes = [
        # PyTorch's Conv2d(k=3, stride=2, padding=1) on an even input: 28 -> 14, pad on top.
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv_s2", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        # SAME_LOWER: the one row / column of padding goes at the top / left.
        helper.make_node("Conv", ["r1", "wd", "bd"], ["d"], name="dw_lower", group=6, auto_pad="SAME_LOWER"),
        # PyTorch's MaxPool2d(3, 2, padding=1, ceil_mode=True): 14 -> 8 (7 with floor).
        helper.make_node("MaxPool", ["d"], ["p1"], name="pool_ceil", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("Conv", ["p1", "w3", "b3"], ["c3"], name="conv_asym", pads=[2, 0, 1, 2]),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        # ceil_mode on the width only (9x8 -> 5x5); an average divides by the real inputs.
        helper.make_node(last_pool, ["r3"], ["p3"], name="pool2_ceil", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("Flatten", ["p3"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w4", "b4"], ["y"], name="fc", transB=1),
    ]
    return graph_model(name, nodes, inits, [1, 1, 28, 28], [1, 10], 11)


def explicit_pads_maxpool():
    """explicit_pads with a max pool last, for the int8 test's one-step bound
    (average pools round ties differently from ONNX, see docs/onnx.md)."""
    return explicit_pads("MaxPool", "explicit_pads_maxpool")


def avgpool_count_pad():
    """AveragePool counting its padding (count_include_pad=1): with its own
    pads, as PyTorch's AvgPool2d(3, 2, padding=1) may be written, and with
    auto_pad=SAME_UPPER; mcuopt's avgpool2d count_pad=1 divides by the
    whole window."""
    inits = [init("w1", weights(4, 1, 3, 3)), init("b1", weights(4, scale=0.05)),
             init("w2", weights(6, 4 * 4 * 4)), init("b2", weights(6, scale=0.05))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("AveragePool", ["c1"], ["p1"], name="avg_pads", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("AveragePool", ["p1"], ["p2"], name="avg_same", kernel_shape=[2, 2], strides=[2, 2],
                         auto_pad="SAME_UPPER", count_include_pad=1),
        helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], name="fc", transB=1),
    ]
    return graph_model("avgpool_count_pad", nodes, inits, [1, 1, 14, 14], [1, 6], 11)


def main():
    out = sys.argv[1]
    for build in (conv_pool_gemm, depthwise_bn, residual, reduce_mean, mnist_qdq, explicit_pads,
                  explicit_pads_maxpool, avgpool_count_pad):
        model = build()
        name = model.graph.name
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        x = rng.standard_normal([3] + shape[1:]).astype(np.float32)   # three samples
        y = np.concatenate([onnx_numpy.evaluate(model, x[i:i + 1]) for i in range(3)])
        onnx.save(model, os.path.join(out, name + ".onnx"))
        x.astype("<f4").tofile(os.path.join(out, name + ".in.f32"))
        y.astype("<f4").tofile(os.path.join(out, name + ".ref.f32"))


if __name__ == "__main__":
    main()
