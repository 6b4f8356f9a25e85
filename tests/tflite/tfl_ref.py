"""tfl_ref.py - an independent evaluator of the TFLite graphs the tests
build (tfl_write.Graph), written in numpy from TFLite's definitions and
sharing no code with mcuopt:

  float32 graphs: float64 arithmetic (conv, depthwise, dense, pools, mean,
  add, softmax, relu / relu6), weights dequantized where the file holds
  int8 or float16 ones (the float model mcuopt imports them as);

  int8 graphs: TFLite's reference integer kernels, as TFLite Micro runs
  them (tensorflow/lite/kernels/internal/reference/integer_ops/*.h,
  reference/{softmax,reduce,requantize}.h, kernel_util.cc and the
  micro/kernels/*_common.cc Prepare functions, gemmlowp's fixedpoint.h):
  QuantizeMultiplier, MultiplyByQuantizedMultiplier (double rounding),
  per-channel convolution, per-tensor fully connected (scale product in
  float32), average pool rounding half away from zero, MEAN with the
  1/count folded into the multiplier, ADD with left shift 20, softmax with
  gemmlowp's exp_on_negative_values and one_over_one_plus_x_for_x_in_0_1,
  fused activation bounds from round(f / scale) in float32.

evaluate(graph, inputs, outputs, x) runs a batch x (N first) and returns
the output as the model stores it (int8 / uint8 values, or floats).

What it leaves out: operators the tests do not use, batch handling beyond
a leading N, speed (it is vectorised over the batch, enough for MNIST).
"""
import math

import numpy as np

import tfl_write as tw

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

# ---- fixed-point arithmetic (int64 numpy arrays holding int32 values) ------


def round_half_away(x):
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def quantize_multiplier(d):
    """QuantizeMultiplier (quantization_util.cc): (int32 multiplier, shift)."""
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def cdiv(a, b):
    """C integer division (truncates toward zero)."""
    a = np.asarray(a, dtype=np.int64)
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (np.asarray(b) < 0), -q, q)


def srdhm(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r = cdiv(ab + nudge, 1 << 31)
    return np.where(overflow, INT32_MAX, r)


def rdbpot(x, exponent):
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def mbqm(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier (double rounding, TFLite's default)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.where(shift > 0, shift, 0)
    right = np.where(shift > 0, 0, -shift)
    return rdbpot(srdhm(np.asarray(x, dtype=np.int64) * (np.int64(1) << left), multiplier), right)


def act_bounds(act, scale, zp, qmin=-128, qmax=127):
    """CalculateActivationRangeQuantized: zp + round(f / scale) in float32."""
    def q(f):
        return zp + int(round_half_away(float(np.float32(f) / np.float32(scale))))
    if act == tw.ACT_RELU:
        return max(qmin, q(0.0)), qmax
    if act == tw.ACT_RELU6:
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    return qmin, qmax


# gemmlowp fixed point on int64 arrays holding int32 raw values

def fp_mul(a, b):
    return srdhm(a, b)


def sat_mul_pot(x, exponent):
    """SaturatingRoundingMultiplyByPOT<exponent>."""
    x = np.asarray(x, dtype=np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    r = x << exponent
    r = np.where(x > threshold, INT32_MAX, r)
    return np.where(x < -threshold, INT32_MIN, r)


def rounding_half_sum(a, b):
    s = np.asarray(a, dtype=np.int64) + b
    return cdiv(s + np.where(s >= 0, 1, -1), 2)


def exp_on_interval(a):
    """exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31."""
    constant_term, one_third = 1895147668, 715827883
    x = a + (1 << 28)
    x2 = fp_mul(x, x)
    x3 = fp_mul(x2, x)
    x4 = fp_mul(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    poly = sat_mul_pot(fp_mul(x4_over_4 + x3, one_third) + x2, -1)
    return constant_term + fp_mul(constant_term, x + poly)


def exp_on_negative_values(a, integer_bits):
    """exp of a (Q integer_bits) for a <= 0, result Q0.31."""
    a = np.asarray(a, dtype=np.int64)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod = (a & mask) - one_quarter
    result = exp_on_interval(sat_mul_pot(a_mod, integer_bits))   # Rescale<0> from integer_bits
    remainder = a_mod - a
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                           (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where((remainder & bit) != 0, fp_mul(result, mult), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x(a):
    """one_over_one_plus_x_for_x_in_0_1: Q0.31 in, Q0.31 out."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + fp_mul(half_denominator, -1010580540)
    one_f2 = 1 << 29
    for _ in range(3):
        hd_x = fp_mul(half_denominator, x)
        x = x + sat_mul_pot(fp_mul(x, one_f2 - hd_x), 2)
    return sat_mul_pot(x, 2 - 1)   # Rescale<0>(ExactMulByPot<-1>(x)): F1 -> F0


def clz32(v):
    v = np.asarray(v, dtype=np.int64) & 0xFFFFFFFF
    out = np.full(v.shape, 32, dtype=np.int64)
    for b in range(31, -1, -1):
        hit = ((v >> b) & 1) == 1
        out = np.where(hit & (out == 32), 31 - b, out)
    return out


def softmax_int8(x, input_scale, beta=1.0):
    """reference_ops::Softmax<int8, int8> over the last axis, output (1/256, -128)."""
    diff_bits, accum_bits = 5, 12
    real = min(beta * input_scale * (1 << (31 - diff_bits)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    radius = math.floor(((1 << diff_bits) - 1) * (1 << (31 - diff_bits)) / (1 << left_shift))
    diff_min = -radius
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    use = diff >= diff_min
    rescaled = srdhm(diff * (1 << left_shift), mult)   # MultiplyByQuantizedMultiplierGreaterThanOne
    exps = exp_on_negative_values(rescaled, diff_bits)
    sum_exps = np.where(use, sat_mul_pot(exps, -accum_bits), 0).sum(axis=-1, keepdims=True)
    headroom = clz32(sum_exps)
    bits_over_unit = accum_bits - headroom
    shifted = ((sum_exps << headroom) & 0xFFFFFFFF) - (1 << 31)
    shifted = np.where(shifted >= (1 << 31), shifted - (1 << 32), shifted)
    scale = one_over_one_plus_x(shifted)
    exponent = bits_over_unit + 31 - 8
    out = rdbpot(fp_mul(scale, exps), exponent) - 128
    out = np.clip(out, -128, 127)
    return np.where(use, out, -128)


# ---- the evaluator -----------------------------------------------------------


def same_pads(n, k, s):
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2, out


def windows(x, kh, kw, sh, sw, padding, pad_value, dh=1, dw=1):
    """x [N, H, W, C] -> patches [N, OH, OW, kh, kw, C] and an in-bounds mask [OH, OW, kh, kw];
    dh, dw: dilation factors (taps dh rows, dw columns apart; the padding is
    TFLite's for the dilated span (k - 1) * d + 1)."""
    n, h, w, c = x.shape
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == tw.SAME:
        t, b, oh = same_pads(h, eh, sh)
        l, r, ow = same_pads(w, ew, sw)
    else:
        t = b = l = r = 0
        oh, ow = (h - eh) // sh + 1, (w - ew) // sw + 1
    xp = np.full((n, h + t + b, w + l + r, c), pad_value, dtype=x.dtype)
    xp[:, t:t + h, l:l + w, :] = x
    inb = np.zeros((h + t + b, w + l + r), dtype=bool)
    inb[t:t + h, l:l + w] = True
    pat = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    msk = np.empty((oh, ow, kh, kw), dtype=bool)
    for i in range(oh):
        for j in range(ow):
            pat[:, i, j] = xp[:, i * sh:i * sh + eh:dh, j * sw:j * sw + ew:dw, :]
            msk[i, j] = inb[i * sh:i * sh + eh:dh, j * sw:j * sw + ew:dw]
    return pat, msk


class Tensors:
    def __init__(self, graph):
        self.g = graph
        self.values = {}
        for i, t in enumerate(graph.tensors):
            if t["buffer"]:
                raw = graph.buffers[t["buffer"]]
                self.values[i] = np.frombuffer(raw, dtype=tw.NUMPY_TYPES[t["type"]]).reshape(t["shape"])

    def q(self, i):
        t = self.g.tensors[i]
        return float(t["scale"][0]), int(t["zero_point"][0])

    def scales(self, i):
        return self.g.tensors[i]["scale"].astype(np.float32)

    def real(self, i):
        """A constant as float64 (dequantized int8, float16 widened)."""
        v = self.values[i]
        t = self.g.tensors[i]
        if t["type"] in (tw.INT8, tw.UINT8):
            s = t["scale"].astype(np.float64)
            zp = t["zero_point"].astype(np.float64)
            shape = [1] * v.ndim
            if s.size > 1:
                shape[t["quant_dim"]] = s.size
            return (v.astype(np.float64) - zp.reshape(shape)) * s.reshape(shape)
        return v.astype(np.float64)


def activation_f(y, act):
    if act == tw.ACT_RELU:
        return np.maximum(y, 0.0)
    if act == tw.ACT_RELU6:
        return np.clip(y, 0.0, 6.0)
    return y


def evaluate(graph, inputs, outputs, x, capture=False):
    """The output for a batch x; with capture, the dict of every tensor's value."""
    T = Tensors(graph)
    T.values[inputs[0]] = x
    for op in graph.ops:
        f = op["fields"]
        ins, outs = op["inputs"], op["outputs"]
        code = op["code"]
        if code == tw.SHAPE:
            T.values[outs[0]] = np.array([1] + list(T.values[ins[0]].shape[1:]), dtype=np.int32)
            continue
        if code == tw.STRIDED_SLICE:
            T.values[outs[0]] = np.array(T.values[ins[0]][T.values[ins[1]][0]], dtype=np.int32)
            continue
        if code == tw.PACK:
            T.values[outs[0]] = np.array([int(np.asarray(T.values[i]).reshape(-1)[0]) for i in ins], dtype=np.int32)
            continue
        if code == tw.DEQUANTIZE and graph.tensors[ins[0]]["buffer"]:
            T.values[outs[0]] = T.real(ins[0])
            continue
        int8 = graph.tensors[outs[0]]["type"] in (tw.INT8, tw.UINT8) and code not in (tw.DEQUANTIZE,)
        T.values[outs[0]] = (run_int8 if int8 else run_float)(T, graph, op, f, ins, outs)
    return T.values if capture else T.values[outputs[0]]


def conv_window(x, w, f, pad_value):
    """The conv / depthwise patches of x for weights w and the op's fields (strides, padding, dilation)."""
    return windows(x, w.shape[1], w.shape[2], f["stride_h"], f["stride_w"], f["padding"], pad_value,
                   f.get("dilation_h_factor", 1), f.get("dilation_w_factor", 1))[0]


def depthwise_sum(pat, w):
    """DEPTHWISE_CONV_2D's sums: weights [1, kh, kw, C * M], output c * M + m reads input channel c."""
    kh, kw, cm = w.shape[1:]
    c = pat.shape[-1]
    y = np.einsum("nijabc,abcm->nijcm", pat, w[0].reshape(kh, kw, c, cm // c))
    return y.reshape(y.shape[:3] + (cm,))


def weights_of(T, i):
    return T.values[i] if i in T.values and T.values[i].dtype == np.float64 else T.real(i)


def run_float(T, graph, op, f, ins, outs):
    code = op["code"]
    x = T.values[ins[0]].astype(np.float64)
    n = x.shape[0]
    if code in (tw.CONV_2D, tw.DEPTHWISE_CONV_2D):
        w = weights_of(T, ins[1])
        b = weights_of(T, ins[2]) if len(ins) > 2 and ins[2] >= 0 else 0.0
        pat = conv_window(x, w, f, 0.0)
        if code == tw.CONV_2D:
            y = np.einsum("nijabc,oabc->nijo", pat, w)
        else:
            y = depthwise_sum(pat, w)
        return activation_f(y + b, f.get("fused_activation_function", 0))
    if code == tw.FULLY_CONNECTED:
        w = weights_of(T, ins[1])
        b = weights_of(T, ins[2]) if len(ins) > 2 and ins[2] >= 0 else 0.0
        return activation_f(x.reshape(n, -1) @ w.T + b, f.get("fused_activation_function", 0))
    if code in (tw.MAX_POOL_2D, tw.AVERAGE_POOL_2D):
        pad = -np.inf if code == tw.MAX_POOL_2D else 0.0
        pat, msk = windows(x, f["filter_height"], f["filter_width"], f["stride_h"], f["stride_w"], f["padding"], pad)
        if code == tw.MAX_POOL_2D:
            y = pat.max(axis=(3, 4))
        else:
            y = pat.sum(axis=(3, 4)) / msk.sum(axis=(2, 3))[None, :, :, None]
        return activation_f(y, f.get("fused_activation_function", 0))
    if code == tw.MEAN:
        return x.mean(axis=(1, 2))
    if code == tw.ADD:
        return activation_f(x + T.values[ins[1]], f.get("fused_activation_function", 0))
    if code == tw.MUL:
        return activation_f(x * T.values[ins[1]], f.get("fused_activation_function", 0))
    if code == tw.RESHAPE:
        return x.reshape([n] + graph.tensors[outs[0]]["shape"][1:])
    if code == tw.PAD:
        p = T.values[ins[1]]
        return np.pad(x, [(0, 0)] + [tuple(p[d]) for d in range(1, 4)])
    if code == tw.SOFTMAX:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if code == tw.LOGISTIC:
        return 1.0 / (1.0 + np.exp(-x))
    if code == tw.RELU:
        return np.maximum(x, 0.0)
    if code == tw.RELU6:
        return np.clip(x, 0.0, 6.0)
    if code == tw.DEQUANTIZE:
        s, zp = T.q(ins[0])
        return (x - zp) * s
    raise ValueError("tfl_ref: float operator %d is not implemented" % code)


def run_int8(T, graph, op, f, ins, outs):
    code = op["code"]
    x = T.values[ins[0]]
    n = x.shape[0]
    if code == tw.QUANTIZE:
        out_s, out_zp = T.q(outs[0])
        qmin, qmax = (-128, 127) if graph.tensors[outs[0]]["type"] == tw.INT8 else (0, 255)
        if x.dtype.kind == "f":   # AffineQuantize: round(x / scale) in float32
            v = np.float32(x) / np.float32(out_s)
            v = np.where(v >= 0, np.floor(v + 0.5), -np.floor(-v + 0.5)).astype(np.int64) + out_zp
        else:                     # Requantize
            in_s, in_zp = T.q(ins[0])
            m, sh = quantize_multiplier(in_s / out_s)
            v = mbqm(x.astype(np.int64) - in_zp, m, sh) + out_zp
        return np.clip(v, qmin, qmax)
    in_s, in_zp = T.q(ins[0])
    out_s, out_zp = T.q(outs[0])
    act_min, act_max = act_bounds(f.get("fused_activation_function", 0), out_s, out_zp)
    xi = x.astype(np.int64)
    if code in (tw.CONV_2D, tw.DEPTHWISE_CONV_2D, tw.FULLY_CONNECTED):
        w = T.values[ins[1]].astype(np.int64)
        ws = T.scales(ins[1])
        b = T.values[ins[2]].astype(np.int64) if len(ins) > 2 and ins[2] >= 0 else 0
        if code == tw.FULLY_CONNECTED and ws.size == 1:
            real = [float(np.float32(np.float32(in_s) * ws[0])) / float(np.float32(out_s))]
        else:
            real = [float(np.float32(in_s)) * float(s) / float(np.float32(out_s)) for s in ws]
        ms = [quantize_multiplier(r) for r in real]
        mult = np.array([m for m, _ in ms], dtype=np.int64)
        shift = np.array([s for _, s in ms], dtype=np.int64)
        if code == tw.FULLY_CONNECTED:
            acc = (xi.reshape(n, -1) - in_zp) @ w.T + b
        else:
            pat = conv_window(xi, w, f, in_zp) - in_zp
            if code == tw.CONV_2D:
                acc = np.einsum("nijabc,oabc->nijo", pat, w) + b
            else:
                acc = depthwise_sum(pat, w) + b
        y = mbqm(acc, mult, shift) + out_zp
        return np.clip(y, act_min, act_max)
    if code == tw.MAX_POOL_2D:
        pat, _ = windows(xi, f["filter_height"], f["filter_width"], f["stride_h"], f["stride_w"], f["padding"], -128)
        return np.clip(pat.max(axis=(3, 4)), act_min, act_max)
    if code == tw.AVERAGE_POOL_2D:
        pat, msk = windows(xi, f["filter_height"], f["filter_width"], f["stride_h"], f["stride_w"], f["padding"], 0)
        acc = pat.sum(axis=(3, 4))
        cnt = msk.sum(axis=(2, 3))[None, :, :, None].astype(np.int64)
        y = np.where(acc > 0, cdiv(acc + cnt // 2, cnt), cdiv(acc - cnt // 2, cnt))
        return np.clip(y, act_min, act_max)
    if code == tw.MEAN:   # reference_ops::QuantizedMeanOrSum, as TFLite Micro calls it
        count = x.shape[1] * x.shape[2]
        m, sh = quantize_multiplier(float(np.float32(in_s)) / float(np.float32(out_s)))
        s = min(count.bit_length() - 1, 32, 31 + sh)
        m = (m << s) // count
        sh = sh - s
        y = mbqm(xi.sum(axis=(1, 2)) - in_zp * count, m, sh) + out_zp
        return np.clip(y, -128, 127)
    if code == tw.ADD:
        s2, zp2 = T.q(ins[1])
        x2 = T.values[ins[1]].astype(np.int64)
        twice_max = 2.0 * float(max(np.float32(in_s), np.float32(s2)))
        m1, sh1 = quantize_multiplier(float(np.float32(in_s)) / twice_max)
        m2, sh2 = quantize_multiplier(float(np.float32(s2)) / twice_max)
        mo, sho = quantize_multiplier(twice_max / ((1 << 20) * float(np.float32(out_s))))
        a = mbqm((xi - in_zp) * (1 << 20), m1, sh1)
        c = mbqm((x2 - zp2) * (1 << 20), m2, sh2)
        return np.clip(mbqm(a + c, mo, sho) + out_zp, act_min, act_max)
    if code == tw.RESHAPE:
        return xi.reshape([n] + graph.tensors[outs[0]]["shape"][1:])
    if code == tw.PAD:
        p = T.values[ins[1]]
        return np.pad(xi, [(0, 0)] + [tuple(p[d]) for d in range(1, 4)], constant_values=out_zp)
    if code == tw.SOFTMAX:
        return softmax_int8(xi, float(np.float32(in_s)), f.get("beta", 1.0))
    if code == tw.LOGISTIC:   # TFLite's int8 LOGISTIC: LUTPopulate, in float32, rounding half away
        q = np.arange(-128, 128, dtype=np.int64)
        deq = np.float32(in_s) * (q - in_zp).astype(np.float32)
        t = (np.float32(1.0) / (np.float32(1.0) + np.exp(-deq))).astype(np.float32)
        r = t * (np.float32(1.0) / np.float32(out_s))
        lut = np.clip(np.where(r >= 0, np.floor(r + 0.5), -np.floor(-r + 0.5)).astype(np.int64) + out_zp, -128, 127)
        return lut[xi + 128]
    if code in (tw.RELU, tw.RELU6):
        lo, hi = act_bounds(tw.ACT_RELU if code == tw.RELU else tw.ACT_RELU6, out_s, out_zp)
        m, sh = quantize_multiplier(float(np.float32(in_s)) / float(np.float32(out_s)))
        return np.clip(mbqm(xi - in_zp, m, sh) + out_zp, lo, hi)
    raise ValueError("tfl_ref: int8 operator %d is not implemented" % code)
