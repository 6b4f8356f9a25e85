"""make_bad_models.py - ONNX files mcuopt must refuse with one clear line, for
tests/onnx_errors.sh. Each is otherwise well-formed, so the refusal is about
the one thing named in its file name.

Usage: /usr/bin/python3 tests/onnx/make_bad_models.py OUTDIR
What it leaves out: byte-level corruption (the shell test makes that).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(out, name, nodes, inits, opset=13, in_shape=(1, 1, 8, 8), out_shape=(1, 4, 8, 8)):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.save(model, os.path.join(out, name + ".onnx"))


def main():
    out = sys.argv[1]
    w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", pads=[1, 1, 1, 1])
    save(out, "unsupported_op", [conv, helper.make_node("Selu", ["c"], ["y"], name="gate")], [w])
    save(out, "opset_too_new", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", pads=[1, 1, 1, 1])], [w],
         opset=18)
    save(out, "opset_too_old", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", pads=[1, 1, 1, 1])], [w],
         opset=6)
    save(out, "missing_initializer", [helper.make_node("Conv", ["x", "w_missing"], ["y"], name="conv1")], [w])
    giant = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1, 3, 3], raw_data=b"")
    save(out, "giant_dims", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")], [giant])
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 1, 3, 3], raw_data=b"\0" * 20)
    save(out, "short_raw_data", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")], [short])
    # A dilated MaxPool (a Conv's dilations import: the general convolution).
    save(out, "unsupported_attribute",
         [helper.make_node("MaxPool", ["x"], ["y"], name="pool1", kernel_shape=[2, 2], dilations=[2, 2])], [],
         out_shape=(1, 1, 6, 6))
    # Padding as large as the window (explicit pads must be 0..kernel-1).
    save(out, "pads_too_large",
         [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_pad3", pads=[3, 0, 0, 0])], [w],
         out_shape=(1, 4, 9, 6))
    # An average counting the padded zeros whose ceil_mode window passes
    # the padding (8 + 1 + 1 -> 5 windows, the last reaching row 11 of 10).
    save(out, "count_include_pad_ceil",
         [helper.make_node("AveragePool", ["x"], ["y"], name="avg", kernel_shape=[3, 3], strides=[2, 2],
                           pads=[1, 1, 1, 1], count_include_pad=1, ceil_mode=1)], [], out_shape=(1, 1, 5, 5))
    # A group that does not divide the 4 input channels (every ONNX-valid group imports).
    wg = numpy_helper.from_array(np.ones((6, 1, 3, 3), np.float32), "w")
    save(out, "grouped_conv", [helper.make_node("Conv", ["x", "w"], ["y"], name="grouped", group=3, pads=[1, 1, 1, 1])],
         [wg], in_shape=(1, 4, 8, 8), out_shape=(1, 6, 8, 8))
    # Concat along the height; of two flattened conv outputs (their NCHW order).
    save(out, "concat_height", [helper.make_node("Concat", ["x", "x"], ["y"], name="cat_h", axis=2)], [],
         out_shape=(1, 1, 16, 8))
    save(out, "concat_flattened",
         [helper.make_node("Flatten", ["x"], ["f"], name="flat"),
          helper.make_node("Concat", ["f", "f"], ["y"], name="cat_f", axis=1)], [], out_shape=(1, 128))
    # A mean over the channels (only the spatial mean is a global pool).
    save(out, "mean_over_channels", [helper.make_node("ReduceMean", ["x"], ["y"], name="mean_c", axes=[1, 2])], [],
         out_shape=(1, 1, 1, 8))
    # x.view(-1, 32) of a 64-feature input: -1 would be a batch of 2 per sample.
    save(out, "view_splits_sample",
         [helper.make_node("Reshape", ["x", "view"], ["y"], name="view")],
         [numpy_helper.from_array(np.array([-1, 32], np.int64), "view")], out_shape=(2, 32))

    # Mul: only x * HardSigmoid(x) (PyTorch's Hardswish before opset 14) is a layer.
    save(out, "mul_squares", [conv, helper.make_node("Mul", ["c", "c"], ["y"], name="square")], [w])
    scale = numpy_helper.from_array(np.full((1,), 2.0, np.float32), "two")
    save(out, "mul_by_constant", [conv, helper.make_node("Mul", ["c", "two"], ["y"], name="times2")], [w, scale])
    save(out, "hard_sigmoid_other_alpha",
         [conv, helper.make_node("HardSigmoid", ["c"], ["h"], name="hsig", alpha=0.2),
          helper.make_node("Mul", ["c", "h"], ["y"], name="swish")], [w])
    save(out, "hard_sigmoid_alpha_zero",
         [conv, helper.make_node("HardSigmoid", ["c"], ["y"], name="flat", alpha=0.0)], [w])
    # LogSoftmax is imported as Softmax only as the model's output.
    save(out, "log_softmax_inside",
         [conv, helper.make_node("LogSoftmax", ["c"], ["l"], name="logp", axis=1),
          helper.make_node("Relu", ["l"], ["y"], name="after")], [w])
    # Pad: zeros before a Conv only (opset 13: pads as an input).
    pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")
    pad = helper.make_node("Pad", ["x", "pads"], ["p"], name="pad")
    save(out, "pad_before_maxpool",
         [pad, helper.make_node("MaxPool", ["p"], ["y"], name="maxp", kernel_shape=[3, 3])], [pads],
         out_shape=(1, 1, 8, 8))
    # the Pad's zeros counted, the pool's own padding not: two divisors
    save(out, "pad_before_avgpool_own_pads",
         [pad, helper.make_node("AveragePool", ["p"], ["y"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
         [pads], out_shape=(1, 1, 10, 10))
    save(out, "pad_before_relu", [pad, helper.make_node("Relu", ["p"], ["y"], name="relu")], [pads],
         out_shape=(1, 1, 10, 10))
    save(out, "pad_reflect",
         [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="reflect"),
          helper.make_node("Conv", ["p", "w"], ["y"], name="conv1")], [pads, w])
    ones = numpy_helper.from_array(np.array([1.0], np.float32), "one")
    save(out, "pad_with_ones",
         [helper.make_node("Pad", ["x", "pads", "one"], ["p"], name="pad"),
          helper.make_node("Conv", ["p", "w"], ["y"], name="conv1")], [pads, w, ones])
    # Normalisation nodes: on the model input only, one value for every channel, no division by 0.
    mean3 = numpy_helper.from_array(np.array([0.1, 0.2, 0.3], np.float32).reshape(1, 3, 1, 1), "mean3")
    save(out, "norm_per_channel",
         [helper.make_node("Sub", ["x", "mean3"], ["n"], name="sub_mean"),
          helper.make_node("Conv", ["n", "w3"], ["y"], name="conv1")],
         [mean3, numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w3")], in_shape=(1, 3, 8, 8),
         out_shape=(1, 4, 6, 6))
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    save(out, "norm_div_zero",
         [helper.make_node("Div", ["x", "zero"], ["n"], name="div0"),
          helper.make_node("Conv", ["n", "w"], ["y"], name="conv1")], [zero, w], out_shape=(1, 4, 6, 6))
    save(out, "sub_after_conv", [conv, helper.make_node("Sub", ["c", "two"], ["y"], name="minus")], [w, scale])
    # ConvTranspose: group > 1, dilation > 1, auto_pad, output_shape, pads / output_padding out of range.
    wt = numpy_helper.from_array(np.ones((1, 4, 3, 3), np.float32), "wt")
    wt2 = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "wt2")
    save(out, "conv_transpose_group", [helper.make_node("ConvTranspose", ["x", "wt2"], ["y"], name="up_g", group=2)],
         [wt2], in_shape=(1, 2, 8, 8))
    save(out, "conv_transpose_dilation",
         [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], name="up_d", dilations=[2, 2])], [wt])
    save(out, "conv_transpose_auto_pad",
         [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], name="up_a", auto_pad="SAME_UPPER", strides=[2, 2])],
         [wt])
    save(out, "conv_transpose_output_shape",
         [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], name="up_s", strides=[2, 2], output_shape=[16, 16])],
         [wt])
    save(out, "conv_transpose_output_padding",
         [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], name="up_o", strides=[2, 2], output_padding=[2, 0])],
         [wt])
    save(out, "conv_transpose_pads",
         [helper.make_node("ConvTranspose", ["x", "wt"], ["y"], name="up_p", pads=[3, 0, 0, 0])], [wt])

if __name__ == "__main__":
    main()
