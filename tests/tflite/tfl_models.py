"""tfl_models.py - TFLite graphs from a layer list with float weights, in
the forms TensorFlow's converter writes them (without TensorFlow):

  float32      float weights and activations, Keras' flatten prologue
               (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE)
  float16      weights stored as float16 behind DEQUANTIZE operators
  hybrid       dynamic-range quantization: int8 weights (per channel for
               convolutions, per tensor for FULLY_CONNECTED), float
               activations
  int8         full-integer quantization as the converter does it with a
               representative data set: activation ranges from the float
               model's min / max over calibration inputs (widened to hold
               0; the model input's too, so a model trained on normalised
               images gets the uint8 input quantization that makes raw
               pixels its input), int8 asymmetric activations, symmetric int8 weights
               (per channel for CONV_2D / DEPTHWISE_CONV_2D, per tensor for
               FULLY_CONNECTED), int32 biases of scale input x weight,
               pools / PAD / RESHAPE keeping their input's quantization,
               SOFTMAX and LOGISTIC output (1/256, -128), and uint8 (or int8 / float)
               model input and output through QUANTIZE / DEQUANTIZE

Layers (tuples): ("pad", t, b, l, r); ("conv", w[O,KH,KW,I], bias, stride,
padding, act); ("dw", w[1,KH,KW,C], bias, stride, padding, act); ("maxpool",
k, stride, padding); ("avgpool", k, stride, padding); ("mean",);
("flatten",); ("fc", w[U,N], bias, act); ("softmax",); ("relu",); ("logistic",);
("save", name); ("add", name, act); ("scale", c) and ("shift", c): the
float input multiplied by / added to a scalar constant (Keras' Rescaling
layer; float forms only).

What it leaves out: batch norm (folded before), layers the importer does
not map.
"""
import numpy as np

import tfl_ref
import tfl_write as tw


def _quant_from_range(lo, hi):
    """The converter's asymmetric int8 quantization of [lo, hi] (0 included, zero point nudged)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(round(-128 - lo / float(scale)), -128, 127))
    return float(scale), zp


def build(layers, in_shape, form, in_type=None, out_type=None, calib=None):
    """A tfl_write.Graph plus its input and output tensor indices.
    form: "float32", "float16", "hybrid" or "int8"; in_type / out_type for
    int8: tw.UINT8 (default), tw.INT8 or tw.FLOAT32; calib: float inputs
    [N, ...] for the int8 ranges."""
    ranges = None
    if form == "int8":
        fg, fin, fout = build(layers, in_shape, "float32")
        vals = tfl_ref.evaluate(fg, [fin], [fout], calib.astype(np.float64), capture=True)
        ranges = {fg.tensors[i]["name"]: (float(np.min(v)), float(np.max(v))) for i, v in vals.items()
                  if fg.tensors[i]["buffer"] == 0 and fg.tensors[i]["type"] == tw.FLOAT32}
    g = tw.Graph()
    int8 = form == "int8"
    in_type = in_type if in_type is not None else tw.UINT8
    out_type = out_type if out_type is not None else tw.UINT8
    act_t = tw.INT8 if int8 else tw.FLOAT32
    qp = {}   # tensor index -> (scale, zp) for int8

    def act(shape, name, q=None):
        if not int8:
            return g.tensor(shape, tw.FLOAT32, name)
        if q is None:
            q = _quant_from_range(*ranges[name])
        t = g.tensor(shape, tw.INT8, name, scale=q[0], zero_point=q[1])
        qp[t] = q
        return t

    # the input
    if int8 and in_type != tw.INT8:
        lo, hi = ranges["input"]
        if in_type == tw.UINT8:   # the calibrated input range, as uint8: zero point + 128
            q_in = _quant_from_range(lo, hi)
            x0 = g.tensor(in_shape, tw.UINT8, "input", scale=q_in[0], zero_point=q_in[1] + 128)
            x = act(in_shape, "input_int8", q_in)
        else:
            x0 = g.tensor(in_shape, tw.FLOAT32, "input")
            x = act(in_shape, "input_int8", _quant_from_range(lo, hi))
        g.op(tw.QUANTIZE, [x0], [x])
    elif int8:
        x0 = x = act(in_shape, "input", _quant_from_range(*ranges["input"]))
    else:
        x0 = x = act(in_shape, "input")
    shape = list(in_shape)
    saved = {}
    n = 0

    def weights(w, name, per_channel_dim):
        """The weight tensor (and its index) in the graph's form."""
        if form in ("int8", "hybrid"):
            axes = tuple(d for d in range(w.ndim) if d != per_channel_dim) if per_channel_dim is not None else None
            m = np.max(np.abs(w), axis=axes) if axes is not None else np.max(np.abs(w))
            s = np.where(m > 0, m / 127.0, 1.0).astype(np.float32)
            bshape = [1] * w.ndim
            if per_channel_dim is not None:
                bshape[per_channel_dim] = -1
            q = np.clip(np.round(w / s.reshape(bshape)), -127, 127)
            return g.tensor(list(w.shape), tw.INT8, name, q, scale=np.atleast_1d(s), zero_point=0,
                            quant_dim=per_channel_dim or 0), np.atleast_1d(s)
        if form == "float16":
            h = g.tensor(list(w.shape), tw.FLOAT16, name + "_f16", w.astype(np.float16))
            t = g.tensor(list(w.shape), tw.FLOAT32, name)
            g.op(tw.DEQUANTIZE, [h], [t])
            return t, None
        return g.tensor(list(w.shape), tw.FLOAT32, name, w), None

    def bias(b, name, in_t, w_scales):
        if int8:
            s_in = qp[in_t][0]
            bq = np.round(b / (np.float64(s_in) * w_scales.astype(np.float64)))
            return g.tensor([len(b)], tw.INT32, name, bq.astype(np.int64),
                            scale=(np.float32(s_in) * w_scales).astype(np.float32), zero_point=0)
        if form == "float16":
            return weights(b, name, None)[0]
        return g.tensor([len(b)], tw.FLOAT32, name, b)

    for layer in layers:
        kind = layer[0]
        n += 1
        name = "t%d_%s" % (n, kind)
        if kind == "pad":
            _, t, b, l, r = layer
            p = g.tensor([4, 2], tw.INT32, name + "_paddings", np.array([[0, 0], [t, b], [l, r], [0, 0]]))
            shape = [1, shape[1] + t + b, shape[2] + l + r, shape[3]]
            y = act(shape, name, qp.get(x))
            g.op(tw.PAD, [x, p], [y])
        elif kind in ("conv", "dw"):
            _, w, b, stride, padding, a = layer[:6]
            dil = layer[6] if len(layer) > 6 else 1   # dilation factor (both axes)
            x_channels = shape[3]
            kh, kw = (w.shape[1] - 1) * dil + 1, (w.shape[2] - 1) * dil + 1
            if padding == tw.SAME:
                oh, ow = -(-shape[1] // stride), -(-shape[2] // stride)
            else:
                oh, ow = (shape[1] - kh) // stride + 1, (shape[2] - kw) // stride + 1
            wt, ws = weights(w, name + "_w", 0 if kind == "conv" else 3)
            bt = bias(b, name + "_b", x, ws)
            shape = [1, oh, ow, w.shape[0] if kind == "conv" else w.shape[3]]
            y = act(shape, name)
            opts = "Conv2DOptions" if kind == "conv" else "DepthwiseConv2DOptions"
            extra = {} if kind == "conv" else {"depth_multiplier": w.shape[3] // x_channels}
            if dil != 1:
                extra.update(dilation_h_factor=dil, dilation_w_factor=dil)
            g.op(tw.CONV_2D if kind == "conv" else tw.DEPTHWISE_CONV_2D, [x, wt, bt], [y], opts, padding=padding,
                 stride_w=stride, stride_h=stride, fused_activation_function=a, **extra)
        elif kind in ("maxpool", "avgpool"):
            _, k, stride, padding = layer
            if padding == tw.SAME:
                oh, ow = -(-shape[1] // stride), -(-shape[2] // stride)
            else:
                oh, ow = (shape[1] - k) // stride + 1, (shape[2] - k) // stride + 1
            shape = [1, oh, ow, shape[3]]
            y = act(shape, name, qp.get(x))
            g.op(tw.MAX_POOL_2D if kind == "maxpool" else tw.AVERAGE_POOL_2D, [x], [y], "Pool2DOptions",
                 padding=padding, stride_w=stride, stride_h=stride, filter_width=k, filter_height=k)
        elif kind == "mean":
            axes = g.tensor([2], tw.INT32, name + "_axes", np.array([1, 2]))
            shape = [1, shape[3]]
            y = act(shape, name)
            g.op(tw.MEAN, [x, axes], [y], "ReducerOptions", keep_dims=False)
        elif kind == "flatten":   # Keras: shape -> strided_slice -> pack -> reshape
            sh = g.tensor([4], tw.INT32, name + "_shape")
            g.op(tw.SHAPE, [x], [sh])
            begin = g.tensor([1], tw.INT32, name + "_begin", np.array([0]))
            end = g.tensor([1], tw.INT32, name + "_end", np.array([1]))
            strides = g.tensor([1], tw.INT32, name + "_strides", np.array([1]))
            batch = g.tensor([], tw.INT32, name + "_batch")
            g.op(tw.STRIDED_SLICE, [sh, begin, end, strides], [batch], "StridedSliceOptions", shrink_axis_mask=1)
            minus1 = g.tensor([], tw.INT32, name + "_minus1", np.array(-1))
            new_shape = g.tensor([2], tw.INT32, name + "_new_shape")
            g.op(tw.PACK, [batch, minus1], [new_shape], "PackOptions", values_count=2, axis=0)
            shape = [1, int(np.prod(shape[1:]))]
            y = act(shape, name, qp.get(x))
            g.op(tw.RESHAPE, [x, new_shape], [y])
        elif kind == "fc":
            _, w, b, a = layer
            wt, ws = weights(w, name + "_w", None)
            bt = bias(b, name + "_b", x, ws)
            shape = [1, w.shape[0]]
            y = act(shape, name)
            g.op(tw.FULLY_CONNECTED, [x, wt, bt], [y], "FullyConnectedOptions", fused_activation_function=a)
        elif kind == "softmax":
            y = act(shape, name, (float(np.float32(1.0 / 256.0)), -128))
            g.op(tw.SOFTMAX, [x], [y], "SoftmaxOptions", beta=1.0)
        elif kind == "logistic":   # the converter's int8 LOGISTIC output: (1/256, -128)
            y = act(shape, name, (float(np.float32(1.0 / 256.0)), -128))
            g.op(tw.LOGISTIC, [x], [y])
        elif kind == "relu":
            y = act(shape, name, qp.get(x))
            g.op(tw.RELU, [x], [y])
        elif kind in ("scale", "shift"):
            assert not int8, "the converter quantizes a rescaling inside an int8 model"
            c = g.tensor([] if kind == "scale" else [1], tw.FLOAT32, name + "_c", np.float32(layer[1]))
            y = act(shape, name)
            g.op(tw.MUL if kind == "scale" else tw.ADD, [x, c], [y], "MulOptions" if kind == "scale" else "AddOptions")
        elif kind == "save":
            saved[layer[1]] = (x, list(shape))
            continue
        elif kind == "add":
            other, _ = saved[layer[1]]
            y = act(shape, name)
            g.op(tw.ADD, [x, other], [y], "AddOptions", fused_activation_function=layer[2])
        else:
            raise ValueError(kind)
        x = y
    out = x
    if int8 and out_type == tw.UINT8:
        s, zp = qp[x]
        out = g.tensor(shape, tw.UINT8, "output", scale=s, zero_point=zp + 128)
        g.op(tw.QUANTIZE, [x], [out])
    elif int8 and out_type == tw.FLOAT32:
        out = g.tensor(shape, tw.FLOAT32, "output")
        g.op(tw.DEQUANTIZE, [x], [out])
    return g, x0, out
