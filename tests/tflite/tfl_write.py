"""tfl_write.py - writes TFLite model files without TensorFlow, with the
flatbuffers Python library (Debian's python3-flatbuffers) and the accessors
flatc generates from mcuopt's schema subset (src/tflite/tflite_subset.fbs,
compiled here into a temporary directory), laid out as TensorFlow's
converter lays them out: buffer 0 empty, one buffer per constant, the
operator codes in both the deprecated byte field and the int field, tensor
names, per-channel quantization on the output-channel dimension.

Usage (from a test script):
    g = Graph()
    x = g.tensor([1, 28, 28, 1], UINT8, "input", scale=1/255, zero_point=0)
    ...
    g.op(CONV_2D, [x, w, b], [y], "Conv2DOptions", padding=VALID, stride_w=1, ...)
    g.write(path, inputs=[x], outputs=[y])

What it leaves out: everything the schema subset leaves out (signature
defs, metadata, sparsity), several subgraphs.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

# TensorType
FLOAT32, FLOAT16, INT32, UINT8, INT64, INT8 = 0, 1, 2, 3, 4, 9
# BuiltinOperator
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
DEQUANTIZE, FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, MUL = 6, 9, 14, 17, 18
RELU, RELU6, RESHAPE, SOFTMAX, PAD, MEAN = 19, 21, 22, 25, 34, 40
STRIDED_SLICE, SHAPE, PACK, QUANTIZE = 45, 77, 83, 114
# Padding, ActivationFunctionType
SAME, VALID = 0, 1
ACT_NONE, ACT_RELU, ACT_RELU6 = 0, 1, 3

NUMPY_TYPES = {FLOAT32: np.float32, FLOAT16: np.float16, INT32: np.int32, UINT8: np.uint8,
               INT64: np.int64, INT8: np.int8}

_schema = None


def schema():
    """The flatc-generated Python package of the schema subset (compiled once)."""
    global _schema
    if _schema is None:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        fbs = os.path.join(root, "src", "tflite", "tflite_subset.fbs")
        out = tempfile.mkdtemp(prefix="tfl_schema_")
        subprocess.run(["flatc", "--python", "-o", out, fbs], check=True)
        sys.path.insert(0, out)
        import tflite  # noqa: F401  (the generated package)
        import importlib
        _schema = {name: importlib.import_module("tflite." + name) for name in (
            "Model", "SubGraph", "Tensor", "Operator", "OperatorCode", "Buffer", "QuantizationParameters",
            "BuiltinOptions", "Conv2DOptions", "DepthwiseConv2DOptions", "Pool2DOptions", "FullyConnectedOptions",
            "SoftmaxOptions", "AddOptions", "ReshapeOptions", "ReducerOptions", "StridedSliceOptions",
            "PackOptions", "ConcatenationOptions", "MulOptions", "Unread")}
    return _schema


class Graph:
    def __init__(self):
        self.tensors = []   # dicts
        self.ops = []       # dicts
        self.buffers = [b""]

    def tensor(self, shape, ttype, name, data=None, scale=None, zero_point=None, quant_dim=0):
        """Adds a tensor; `data` (numpy, converted to the type) makes it a constant."""
        buf = 0
        if data is not None:
            arr = np.ascontiguousarray(np.asarray(data).astype(NUMPY_TYPES[ttype]).reshape(shape))
            self.buffers.append(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
            buf = len(self.buffers) - 1
        if scale is not None:
            scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
            zero_point = np.atleast_1d(np.asarray(0 if zero_point is None else zero_point, dtype=np.int64))
            if zero_point.size == 1 and scale.size > 1:
                zero_point = np.repeat(zero_point, scale.size)
        self.tensors.append(dict(shape=list(shape), type=ttype, name=name, buffer=buf, scale=scale,
                                 zero_point=zero_point, quant_dim=quant_dim))
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, options=None, **fields):
        self.ops.append(dict(code=code, inputs=list(inputs), outputs=list(outputs), options=options, fields=fields))

    def write(self, path, inputs, outputs):
        with open(path, "wb") as f:
            f.write(self.serialize(inputs, outputs))

    # ---- serialization -------------------------------------------------------

    def serialize(self, inputs, outputs):
        import flatbuffers
        s = schema()
        b = flatbuffers.Builder(1024)

        def int_vector(values, dtype=np.int32):
            return b.CreateNumpyVector(np.asarray(values, dtype=dtype))

        def table_vector(offsets):
            b.StartVector(4, len(offsets), 4)
            for o in reversed(offsets):
                b.PrependUOffsetTRelative(o)
            return b.EndVector()

        buffer_offsets = []
        for data in self.buffers:
            data_off = None
            if data:
                b.StartVector(1, len(data), 16)   # force_align: 16, as the converter
                b.head = b.head - len(data)
                b.Bytes[b.head:b.head + len(data)] = data
                data_off = b.EndVector()
            s["Buffer"].BufferStart(b)
            if data_off is not None:
                s["Buffer"].BufferAddData(b, data_off)
            buffer_offsets.append(s["Buffer"].BufferEnd(b))

        tensor_offsets = []
        for t in self.tensors:
            name = b.CreateString(t["name"])
            shape = int_vector(t["shape"])
            q = None
            if t["scale"] is not None:
                sc = b.CreateNumpyVector(t["scale"])
                zp = b.CreateNumpyVector(t["zero_point"])
                Q = s["QuantizationParameters"]
                Q.QuantizationParametersStart(b)
                Q.QuantizationParametersAddScale(b, sc)
                Q.QuantizationParametersAddZeroPoint(b, zp)
                Q.QuantizationParametersAddQuantizedDimension(b, t["quant_dim"])
                q = Q.QuantizationParametersEnd(b)
            T = s["Tensor"]
            T.TensorStart(b)
            T.TensorAddShape(b, shape)
            T.TensorAddType(b, t["type"])
            T.TensorAddBuffer(b, t["buffer"])
            T.TensorAddName(b, name)
            if q is not None:
                T.TensorAddQuantization(b, q)
            tensor_offsets.append(T.TensorEnd(b))

        codes = sorted({op["code"] for op in self.ops})
        op_offsets = []
        for op in self.ops:
            opts = None
            if op["options"]:
                mod = s[op["options"]]
                name = op["options"]
                vectors = {k: int_vector(v) for k, v in op["fields"].items() if isinstance(v, (list, tuple))}
                getattr(mod, name + "Start")(b)
                for k, v in op["fields"].items():
                    camel = "".join(p[:1].upper() + p[1:] for p in k.split("_"))
                    getattr(mod, name + "Add" + camel)(b, vectors.get(k, v))
                opts = getattr(mod, name + "End")(b)
            ins, outs = int_vector(op["inputs"]), int_vector(op["outputs"])
            O = s["Operator"]
            O.OperatorStart(b)
            O.OperatorAddOpcodeIndex(b, codes.index(op["code"]))
            O.OperatorAddInputs(b, ins)
            O.OperatorAddOutputs(b, outs)
            if opts is not None:
                O.OperatorAddBuiltinOptionsType(b, getattr(s["BuiltinOptions"].BuiltinOptions, op["options"]))
                O.OperatorAddBuiltinOptions(b, opts)
            op_offsets.append(O.OperatorEnd(b))

        code_offsets = []
        for c in codes:
            C = s["OperatorCode"]
            C.OperatorCodeStart(b)
            C.OperatorCodeAddDeprecatedBuiltinCode(b, min(c, 127))
            C.OperatorCodeAddVersion(b, 1)
            C.OperatorCodeAddBuiltinCode(b, c)
            code_offsets.append(C.OperatorCodeEnd(b))

        tensors = table_vector(tensor_offsets)
        operators = table_vector(op_offsets)
        sg_in, sg_out = int_vector(inputs), int_vector(outputs)
        sg_name = b.CreateString("main")
        S = s["SubGraph"]
        S.SubGraphStart(b)
        S.SubGraphAddTensors(b, tensors)
        S.SubGraphAddInputs(b, sg_in)
        S.SubGraphAddOutputs(b, sg_out)
        S.SubGraphAddOperators(b, operators)
        S.SubGraphAddName(b, sg_name)
        subgraph = S.SubGraphEnd(b)

        subgraphs = table_vector([subgraph])
        opcodes = table_vector(code_offsets)
        buffers = table_vector(buffer_offsets)
        desc = b.CreateString("mcuopt test model")
        M = s["Model"]
        M.ModelStart(b)
        M.ModelAddVersion(b, 3)
        M.ModelAddOperatorCodes(b, opcodes)
        M.ModelAddSubgraphs(b, subgraphs)
        M.ModelAddDescription(b, desc)
        M.ModelAddBuffers(b, buffers)
        b.Finish(M.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())
