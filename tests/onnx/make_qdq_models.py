"""make_qdq_models.py OUT_DIR - ONNX graphs in QDQ form as onnxruntime's
quantizer writes them (quantize_static with quant_format=QDQ), built with
Debian's python3-onnx and numpy alone, for tests/onnx_qdq.sh, the fuzz
corpus and tests/cli_errors.sh:

  qdq_cnn_s8.onnx   int8 activations: Conv with per-channel int8 weights
                    and an int32 bias whose ReLU was removed (its range
                    kept: zero point -128), AveragePool and a depthwise Conv
                    added together, GlobalAveragePool, Flatten, Gemm with
                    per-tensor weights, every tensor between
                    QuantizeLinear / DequantizeLinear;
  qdq_cnn_u8.onnx   the same with uint8 activations (onnxruntime's default);
  qdq_conv_s8.onnx  qdq_cnn_s8 up to its first Conv (its output the model's);
  bad_qdq_*.onnx    one unsupported pattern each: an integer operator
                    reading a quantized tensor (qlinear), a QuantizeLinear of
                    a weight (quantize_const), uint8 weights (u8_weights), an
                    Add without a QuantizeLinear after it (no_output_q), a
                    bias whose scale is not input x weight scale
                    (bias_scale), an AveragePool that requantizes
                    (pool_requant), a per-channel activation scale
                    (per_axis_act).
Each good model also gets NAME.in.f32 (64 random inputs, NCHW).

What it leaves out: running onnxruntime (bench/qdq_fidelity.sh does).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper



class Graph:
    def __init__(self, act_type):
        self.nodes, self.inits = [], []
        self.act_type = act_type   # np.int8 or np.uint8

    def init(self, name, value):
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op, inputs, output, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def qdq(self, x, scale, zp, per_axis=None):
        """x -> QuantizeLinear -> DequantizeLinear with one scale and zero point."""
        s = self.init(x + "_scale", np.array(scale if per_axis is None else per_axis, np.float32))
        z = self.init(x + "_zero_point", np.array(zp if per_axis is None else [zp] * len(per_axis),
                                                  self.act_type))
        q = self.node("QuantizeLinear", [x, s, z], x + "_quantized", x + "_QuantizeLinear")
        return self.node("DequantizeLinear", [q, s, z], x + "_dequantized", x + "_DequantizeLinear")

    def weight(self, name, q, scales, axis=0, dtype=np.int8, zero=0):
        s = self.init(name + "_scale", np.array(scales, np.float32))
        z = self.init(name + "_zero_point", np.full(np.shape(scales), zero, dtype))
        w = self.init(name + "_quantized", np.asarray(q, dtype))
        return self.node("DequantizeLinear", [w, s, z], name, name + "_DequantizeLinear", axis=axis)

    def bias(self, name, values, scales):
        s = self.init(name + "_scale", np.array(scales, np.float32))
        z = self.init(name + "_zero_point", np.zeros(np.shape(scales), np.int32))
        b = self.init(name + "_quantized", np.asarray(values, np.int32))
        return self.node("DequantizeLinear", [b, s, z], name, name + "_DequantizeLinear", axis=0)


def zp(act_type, signed_zp):
    """A zero point given as int8, in the activation type (uint8: + 128)."""
    return signed_zp + (128 if act_type == np.uint8 else 0)


def finish(g, out, out_dims, c_in):
    g.node("Identity", [out], "output", "output_Identity")
    graph = helper.make_graph(g.nodes, "qdq_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                               [1, c_in, 12, 12])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_dims)], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnxruntime.quant")
    model.ir_version = 7
    return model


def cnn(act_type, bad=None, stop=None):
    RNG = np.random.default_rng(16)   # the same weights in every variant
    g = Graph(act_type)
    c_in, c, classes = 3, 8, 5
    s_in, s_conv, s_dw, s_add, s_gap, s_fc = 0.0157, 0.0421, 0.0333, 0.0512, 0.0387, 0.0912
    x = g.qdq("input", s_in, zp(act_type, -3))
    # Conv 3x3 same, per-channel weights, int32 bias; its ReLU removed (range [0, max]: zero point -128)
    wq = RNG.integers(-127, 128, (c, c_in, 3, 3))
    ws = (RNG.uniform(0.002, 0.01, c)).astype(np.float32)
    if bad == "u8_weights":
        w = g.weight("conv.weight", wq + 128, ws, dtype=np.uint8, zero=128)
    elif bad == "quantize_const":
        wf = g.init("conv.weight_float", (wq * ws[:, None, None, None]).astype(np.float32))
        sc = g.init("conv.weight_q_scale", np.array(ws.max(), np.float32))
        zc = g.init("conv.weight_q_zero_point", np.array(0, np.int8))
        qw = g.node("QuantizeLinear", [wf, sc, zc], "conv.weight_q", "conv.weight_QuantizeLinear")
        w = g.node("DequantizeLinear", [qw, sc, zc], "conv.weight", "conv.weight_DequantizeLinear")
    else:
        w = g.weight("conv.weight", wq, ws)
    bias_scale = (np.float32(s_in) * ws).astype(np.float32)
    if bad == "bias_scale":
        bias_scale = bias_scale * np.float32(1.5)
    b = g.bias("conv.bias", RNG.integers(-2000, 2000, c), bias_scale)
    y = g.node("Conv", [x, w, b], "conv_out", "/conv/Conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    y = g.qdq(y, s_conv, zp(act_type, -128))
    if stop == "conv":
        return finish(g, y, [1, c, 12, 12], c_in)
    # AveragePool 2x2 (onnxruntime keeps its input's quantization)
    p = g.node("AveragePool", [y], "pool_out", "/pool/AveragePool", kernel_shape=[2, 2], strides=[2, 2])
    s_pool = s_conv * (1.25 if bad == "pool_requant" else 1.0)
    p = g.qdq(p, s_pool, zp(act_type, -128))
    # depthwise 3x3 on the pooled tensor, then Add of both branches
    dq = RNG.integers(-127, 128, (c, 1, 3, 3))
    dsc = (RNG.uniform(0.01, 0.03, c)).astype(np.float32)
    dw = g.weight("dw.weight", dq, dsc)
    db = g.bias("dw.bias", RNG.integers(-500, 500, c), (np.float32(s_pool) * dsc).astype(np.float32))
    d = g.node("Conv", [p, dw, db], "dw_out", "/dw/Conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3], group=c)
    if bad == "per_axis_act":
        d = g.qdq(d, None, zp(act_type, 5), per_axis=[s_dw] * c)
    else:
        d = g.qdq(d, s_dw, zp(act_type, 5))
    if bad == "qlinear":   # an integer operator reading the quantized tensor
        g.nodes.append(helper.make_node("Relu", ["dw_out_quantized"], ["dw_int8_relu"], name="/dw/IntegerRelu"))
    a = g.node("Add", [p, d], "add_out", "/add/Add")
    if bad != "no_output_q":
        a = g.qdq(a, s_add, zp(act_type, -20))
    # GlobalAveragePool (requantizing), Flatten, Gemm with per-tensor weights
    gp = g.node("GlobalAveragePool", [a], "gap_out", "/gap/GlobalAveragePool")
    gp = g.qdq(gp, s_gap, zp(act_type, -30))
    f = g.node("Flatten", [gp], "flat_out", "/flatten/Flatten", axis=1)
    f = g.qdq(f, s_gap, zp(act_type, -30))
    fq = RNG.integers(-127, 128, (classes, c))
    fs = np.float32(0.0123)
    fw = g.weight("fc.weight", fq, fs)
    fb = g.bias("fc.bias", RNG.integers(-3000, 3000, classes), np.float32(s_gap) * fs)
    o = g.node("Gemm", [f, fw, fb], "fc_out", "/fc/Gemm", transB=1)
    o = g.qdq(o, s_fc, zp(act_type, 10))
    return finish(g, o, [1, classes], c_in)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, act, stop in (("qdq_cnn_s8", np.int8, None), ("qdq_cnn_u8", np.uint8, None),
                            ("qdq_conv_s8", np.int8, "conv")):
        m = cnn(act, stop=stop)
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))
        inputs = np.random.default_rng(7).uniform(-1.0, 1.0, (64, 3, 12, 12)).astype(np.float32)
        inputs.tofile(os.path.join(out, name + ".in.f32"))
    for bad in ("qlinear", "quantize_const", "u8_weights", "no_output_q", "bias_scale", "pool_requant",
                "per_axis_act"):
        onnx.save(cnn(np.int8, bad), os.path.join(out, "bad_qdq_%s.onnx" % bad))


if __name__ == "__main__":
    main()
