"""onnx_numpy.py - a small ONNX evaluator in numpy, written from the ONNX
operator specification, independent of mcuopt: the reference the ONNX tests
compare mcuopt against (onnx 1.12 has no onnx.reference).

evaluate(model, x, dtype) runs the graph on one NCHW input and returns the
first output. Arithmetic is in `dtype`: float64 for float references,
float32 to behave like an ONNX runtime on QDQ graphs (QuantizeLinear rounds
half to even, as the spec says).

What it leaves out: every operator and attribute the mcuopt tests do not use,
batching beyond what numpy broadcasting gives, and speed.
"""
import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.FLOATS:
            out[a.name] = list(a.floats)
        elif a.type == a.STRING:
            out[a.name] = a.s.decode()
        elif a.type == a.TENSOR:
            out[a.name] = numpy_helper.to_array(a.t)
    return out


def _window(in_hw, kernel, strides, pads, auto_pad, ceil_mode):
    """Per spatial axis: (pad_begin, out)."""
    result = []
    for axis in range(2):
        n, k, s = in_hw[axis], kernel[axis], strides[axis]
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            begin = total // 2 if auto_pad == "SAME_UPPER" else (total + 1) // 2
        elif auto_pad == "VALID":
            begin, out = 0, (n - k) // s + 1
        else:
            begin, end = pads[axis], pads[axis + 2]
            span = n + begin + end - k
            out = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (out - 1) * s >= n + begin:
                out -= 1
        result.append((begin, out))
    return result


def _conv(x, w, b, a, dtype):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    group = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])   # taps dh rows, dw columns apart: a span of (k - 1) * d + 1
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    (pt, oh), (pl, ow) = _window((h, wd), (eh, ew), (sh, sw), a.get("pads", [0, 0, 0, 0]), a.get("auto_pad", "NOTSET"), 0)
    padded = np.zeros((n, c, max(h + pt, (oh - 1) * sh + eh), max(wd + pl, (ow - 1) * sw + ew)), dtype)
    padded[:, :, pt:pt + h, pl:pl + wd] = x
    y = np.zeros((n, m, oh, ow), dtype)
    per_group = m // group
    for g in range(group):
        xs, ws = padded[:, g * cg:(g + 1) * cg], w[g * per_group:(g + 1) * per_group].astype(dtype)
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dh, kx * dw
                patch = xs[:, :, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw]
                y[:, g * per_group:(g + 1) * per_group] += np.einsum("nchw,mc->nmhw", patch, ws[:, :, ky, kx])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _conv_transpose(x, w, b, a, dtype):
    """ConvTranspose, group 1, dilation 1, explicit pads: every input pixel
    scatters x * w into the full output, then the pads are cropped (the
    spec's output size (in - 1) * stride + kernel - pads + output_padding)."""
    n, c, h, wd = x.shape
    _, m, kh, kw = w.shape
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    oph, opw = a.get("output_padding", [0, 0])
    full = np.zeros((n, m, (h - 1) * sh + kh + oph, (wd - 1) * sw + kw + opw), dtype)
    wt = w.astype(dtype)
    for iy in range(h):
        for ix in range(wd):
            full[:, :, iy * sh:iy * sh + kh, ix * sw:ix * sw + kw] += np.einsum("nc,cmyx->nmyx", x[:, :, iy, ix], wt)
    y = full[:, :, pt:full.shape[2] - pb, pl:full.shape[3] - pr]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def _pool(x, a, op):
    n, c, h, wd = x.shape
    kh, kw = a["kernel_shape"]
    strides = a.get("strides", [1, 1])
    (pt, oh), (pl, ow) = _window((h, wd), (kh, kw), strides, a.get("pads", [0, 0, 0, 0]), a.get("auto_pad", "NOTSET"),
                                 a.get("ceil_mode", 0))
    y = np.zeros((n, c, oh, ow), x.dtype)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * strides[0] - pt, ox * strides[1] - pl
            win = x[:, :, max(y0, 0):min(y0 + kh, h), max(x0, 0):min(x0 + kw, wd)]
            if op == "max":
                y[:, :, oy, ox] = win.max(axis=(2, 3))
            else:
                count = kh * kw if a.get("count_include_pad", 0) else win.shape[2] * win.shape[3]
                y[:, :, oy, ox] = win.sum(axis=(2, 3)) / x.dtype.type(count)
    return y


def _quantize(x, scale, zp):
    q = np.rint(x / scale) + zp.astype(x.dtype)
    info = np.iinfo(zp.dtype)
    return np.clip(q, info.min, info.max).astype(zp.dtype)


def _dequantize(q, scale, zp, axis, dtype):
    if scale.ndim == 1 and q.ndim > 1:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.int64) - zp.astype(np.int64)).astype(dtype) * scale.astype(dtype)).astype(dtype)


def evaluate(model, x, dtype=np.float64):
    g = model.graph
    env = {}
    for t in g.initializer:
        v = numpy_helper.to_array(t)
        env[t.name] = v.astype(dtype) if v.dtype.kind == "f" else v
    env[[i.name for i in g.input if i.name not in env][0]] = x.astype(dtype)
    for node in g.node:
        a = _attrs(node)
        ins = [env[name] if name else None for name in node.input]
        op = node.op_type
        if op == "Conv":
            y = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a, dtype)
        elif op == "ConvTranspose":
            y = _conv_transpose(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a, dtype)
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = dtype(a.get("alpha", 1.0)) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + dtype(a.get("beta", 1.0)) * ins[2]
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
            y = np.clip(ins[0], lo, hi)
        elif op == "MaxPool":
            y = _pool(ins[0], a, "max")
        elif op == "AveragePool":
            y = _pool(ins[0], a, "avg")
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "ReduceMean":
            y = ins[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "BatchNormalization":
            shape = (1, -1) + (1,) * (ins[0].ndim - 2)
            s, b, m, v = (t.reshape(shape) for t in ins[1:5])
            y = (ins[0] - m) / np.sqrt(v + dtype(a.get("epsilon", 1e-5))) * s + b
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Reshape":
            shape = [ins[0].shape[i] if d == 0 else d for i, d in enumerate(ins[1].astype(np.int64))]
            y = ins[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(ins[0], a.get("perm"))
        elif op == "Softmax":
            axis = a.get("axis", -1 if model.opset_import[0].version >= 13 else 1)
            e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
            y = e / e.sum(axis=axis, keepdims=True)
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-ins[0]))
        elif op == "Tanh":
            y = np.tanh(ins[0])
        elif op == "LeakyRelu":
            y = np.where(ins[0] >= 0, ins[0], dtype(a.get("alpha", 0.01)) * ins[0])
        elif op == "HardSigmoid":
            y = np.clip(dtype(a.get("alpha", 0.2)) * ins[0] + dtype(a.get("beta", 0.5)), 0, 1)
        elif op == "HardSwish":
            y = ins[0] * np.clip(ins[0] / 6.0 + 0.5, 0, 1)
        elif op == "Sign":
            y = np.sign(ins[0])
        elif op == "Mul":
            y = ins[0] * ins[1]
        elif op in ("Identity", "Dropout"):
            y = ins[0]
        elif op == "Shape":
            y = np.array(ins[0].shape, np.int64)
        elif op == "Gather":
            y = np.take(ins[0], ins[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = a["axes"] if "axes" in a else list(ins[1])
            y = ins[0]
            for ax in sorted(axes):
                y = np.expand_dims(y, ax)
        elif op == "Squeeze":
            axes = a["axes"] if "axes" in a else list(ins[1])
            y = np.squeeze(ins[0], axis=tuple(int(ax) for ax in axes))
        elif op == "Concat":
            y = np.concatenate(ins, axis=a["axis"])
        elif op == "Constant":
            y = a["value"]
        elif op == "QuantizeLinear":
            y = _quantize(ins[0], ins[1].astype(dtype), ins[2])
        elif op == "DequantizeLinear":
            y = _dequantize(ins[0], ins[1], ins[2], a.get("axis", 1), dtype)
        else:
            raise ValueError("onnx_numpy: operator %s is not implemented" % op)
        env[node.output[0]] = np.asarray(y)
    return env[g.output[0].name]
