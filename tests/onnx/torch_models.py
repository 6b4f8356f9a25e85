"""torch_models.py - PyTorch models with the constructs mcuopt maps from
what torch.onnx writes: the element-wise activations (Sigmoid, Tanh,
LeakyReLU, Hardsigmoid, Hardswish), a final log_softmax, and ZeroPad2d /
F.pad before a convolution, and an input normalisation inside the model
((x - mean) / std * 2); exported at opsets 11, 13 and 17, with inputs and
PyTorch's outputs (for log_softmax, exp() of them: mcuopt imports a final
LogSoftmax as Softmax; for input_norm the inputs are the network inputs
after the normalisation, which mcuopt records instead of computing).

Usage: /usr/bin/python3 tests/onnx/torch_models.py OUT_DIR
Writes, for each model NAME and opset O: NAME_O.onnx, NAME_O.in.f32 (NCHW
float32 samples) and NAME_O.ref.f32 (PyTorch's outputs, float32); and for
the models of the new layers (ON_TARGET) a data set NAME.data/ (x.npy:
DATA_SAMPLES NHWC float32 inputs; y.npy: labels i mod classes, there only so
that quantize and measure load it: the untrained nets give one class to
every input, and the test asks for identical outputs, not accuracy). Before
opset 14 PyTorch writes Hardswish as x * HardSigmoid(x) (a Mul), from 14 as
HardSwish; its Hardsigmoid is HardSigmoid with alpha 1/6.

What it leaves out: training (the weights are PyTorch's random init, seeded).
"""
import os
import sys

import numpy as np
import torch

SAMPLES = 8
DATA_SAMPLES = 128
ON_TARGET = ("act_cnn", "act_mlp", "log_softmax", "zero_pad", "input_norm", "avgpool_pad", "zero_pad_avgpool", "concat",
             "conv_transpose")


class ConvNet(torch.nn.Module):
    """conv -> LeakyReLU(0.2) -> Hardswish -> sigmoid -> view(-1, F) -> linear -> tanh -> Hardsigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3)
        self.leaky = torch.nn.LeakyReLU(0.2)
        self.hswish = torch.nn.Hardswish()
        self.fc = torch.nn.Linear(4 * 6 * 6, 8)
        self.hsig = torch.nn.Hardsigmoid()

    def forward(self, x):
        x = torch.sigmoid(self.hswish(self.leaky(self.conv(x))))
        x = x.view(-1, 4 * 6 * 6)
        return self.hsig(torch.tanh(self.fc(x)))


class Mlp(torch.nn.Module):
    """The default LeakyReLU slope (0.01) and Hardswish right on a linear layer."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(12, 16)
        self.b = torch.nn.Linear(16, 6)

    def forward(self, x):
        x = torch.nn.functional.leaky_relu(self.a(x.flatten(1)))
        return torch.sigmoid(torch.nn.functional.hardswish(self.b(x)))



class LogSoftmaxNet(torch.nn.Module):
    """Ends in log_softmax, as pytorch/examples' MNIST net: mcuopt imports it
    as Softmax, so the reference written is exp() of PyTorch's output."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3)
        self.fc = torch.nn.Linear(3 * 4 * 4, 5)

    def forward(self, x):
        x = torch.relu(self.conv(x)).flatten(1)
        return torch.nn.functional.log_softmax(self.fc(x), dim=1)



class ZeroPadNet(torch.nn.Module):
    """nn.ZeroPad2d (ConstantOfShape / Slice / Pad in the export) and F.pad
    before convolutions: the zeros fold into the convs' padding."""

    def __init__(self):
        super().__init__()
        self.pad = torch.nn.ZeroPad2d((1, 2, 1, 0))
        self.conv = torch.nn.Conv2d(1, 4, 3)
        self.conv2 = torch.nn.Conv2d(4, 3, 3, stride=2)
        self.fc = torch.nn.Linear(60, 5)

    def forward(self, x):
        x = torch.relu(self.conv(self.pad(x)))
        x = self.conv2(torch.nn.functional.pad(x, (1, 1, 1, 1)))
        return self.fc(x.flatten(1))



class InputNormNet(torch.nn.Module):
    """Normalisation inside the model, as (x - mean) / std and a scale at the
    start of forward(): folded into mcuopt's recorded normalisation; the
    network input written (NAME.in.f32) is (x - 0.5) / 0.25 * 2. It ends in
    x.mean((2, 3)) (ReduceMean over H and W: a global average pool)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3)
        self.fc = torch.nn.Linear(3, 4)

    def forward(self, x):
        x = (x - 0.5) / 0.25 * 2.0
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


class AvgPoolPadNet(torch.nn.Module):
    """nn.AvgPool2d with padding and its default count_include_pad=True
    (PyTorch writes a Pad of zeros before the AveragePool, or the pool's own
    pads with count_include_pad=1): an average pool dividing by the whole
    window (count_pad); then one with count_include_pad=False (divides by
    the in-bounds inputs)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.pool = torch.nn.AvgPool2d(3, stride=2, padding=1)
        self.pool2 = torch.nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.fc = torch.nn.Linear(4 * 5 * 5, 6)

    def forward(self, x):
        x = self.pool2(self.pool(torch.relu(self.conv(x))))
        return self.fc(x.flatten(1))


class ZeroPadAvgPoolNet(torch.nn.Module):
    """nn.ZeroPad2d then nn.AvgPool2d (a Pad before the pool: its zeros are
    the pool's inputs, counted in every window's divisor), and a 4x4
    AvgPool2d with padding 2 (the padding as large as half the window)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3)
        self.pad = torch.nn.ZeroPad2d((1, 0, 1, 0))
        self.pool = torch.nn.AvgPool2d(2)
        self.pool2 = torch.nn.AvgPool2d(4, stride=1, padding=2)
        self.fc = torch.nn.Linear(3 * 5 * 5, 5)

    def forward(self, x):
        x = self.pool2(self.pool(self.pad(torch.relu(self.conv(x)))))
        return self.fc(x.flatten(1))


class ConcatNet(torch.nn.Module):
    """torch.cat along the channels of two conv branches (an Inception-like
    block), then of the block's output and its input; the int8 model
    requantizes each input to the concat's own scale."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.b = torch.nn.Conv2d(2, 2, 1)
        self.c = torch.nn.Conv2d(7, 4, 3, stride=2)
        self.fc = torch.nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        y = torch.cat([torch.relu(self.a(x)), torch.sigmoid(self.b(x))], dim=1)
        y = torch.cat((y, x), 1)
        return self.fc(torch.relu(self.c(y)).flatten(1))


class ConvTransposeNet(torch.nn.Module):
    """A small conv autoencoder: Conv stride 2 -> ReLU -> ConvTranspose
    stride 2 with padding 1 and output_padding 1 (4x4 back to 8x8) -> ReLU
    -> ConvTranspose kernel 3, padding 1, stride 1; plus a side branch from
    the code, a ConvTranspose of a 2x3 kernel, stride 2, padding (0, 1) and
    output_padding (0, 1), added in; -> Sigmoid."""

    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1)
        self.up = torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        self.out = torch.nn.ConvTranspose2d(3, 2, 3, padding=1)
        self.side = torch.nn.ConvTranspose2d(4, 2, (2, 3), stride=2, padding=(0, 1), output_padding=(0, 1))

    def forward(self, x):
        h = torch.relu(self.enc(x))
        return torch.sigmoid(self.out(torch.relu(self.up(h))) + self.side(h))
# ---- the general convolution (issue 16: groups, dilation, depth multiplier) ----

class DepthMultiplierNet(torch.nn.Module):
    """A depthwise conv with a channel multiplier of 2 (Conv2d groups = C_in,
    C_out = 2 C_in: ONNX Conv group 3, 6 filters), then a 1x1 conv."""

    def __init__(self):
        super().__init__()
        self.dw = torch.nn.Conv2d(3, 6, 3, padding=1, groups=3)
        self.pw = torch.nn.Conv2d(6, 4, 1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        x = torch.relu(self.pw(torch.relu(self.dw(x))))
        return self.fc(x.flatten(1))


class DilatedNet(torch.nn.Module):
    """A dilated conv (dilation 2, padding 2) and a dilated depthwise conv
    (dilation (2, 1), stride 2, padding (2, 1))."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, dilation=2, padding=2)
        self.dw = torch.nn.Conv2d(4, 4, 3, dilation=(2, 1), stride=2, padding=(2, 1), groups=4)
        self.fc = torch.nn.Linear(4 * 5 * 5, 5)

    def forward(self, x):
        x = torch.relu(self.dw(torch.relu(self.conv(x))))
        return self.fc(x.flatten(1))


class GroupedNet(torch.nn.Module):
    """Grouped convs: groups=2 (4 -> 8 channels, 3x3) and groups=4 (8 -> 8, 1x1)."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(4, 8, 3, padding=1, groups=2)
        self.b = torch.nn.Conv2d(8, 8, 1, groups=4)
        self.fc = torch.nn.Linear(8 * 6 * 6, 5)

    def forward(self, x):
        x = torch.relu(self.b(torch.relu(self.a(x))))
        return self.fc(x.flatten(1))


def general_conv_models():
    """name -> (model, input CHW) of the general convolution's models."""
    return {"dw_multiplier": (DepthMultiplierNet(), (3, 8, 8)), "dilated": (DilatedNet(), (2, 9, 9)),
            "grouped": (GroupedNet(), (4, 6, 6))}


ON_TARGET = ON_TARGET + ("dw_multiplier", "dilated", "grouped")


def main():
    out = sys.argv[1]
    torch.manual_seed(3)
    models = {"act_cnn": (ConvNet(), (2, 8, 8)), "act_mlp": (Mlp(), (1, 3, 4)),
              "log_softmax": (LogSoftmaxNet(), (1, 6, 6)), "zero_pad": (ZeroPadNet(), (1, 8, 8)),
              "input_norm": (InputNormNet(), (1, 6, 6)), "avgpool_pad": (AvgPoolPadNet(), (2, 8, 8)),
              "zero_pad_avgpool": (ZeroPadAvgPoolNet(), (1, 9, 9)), "concat": (ConcatNet(), (2, 7, 7)),
              "conv_transpose": (ConvTransposeNet(), (2, 8, 8))}
    models.update(general_conv_models())
    for name, (model, shape) in models.items():
        model.eval()
        x = torch.randn(SAMPLES, *shape) * 3.0
        with torch.no_grad():
            ref = model(x)
        if name == "log_softmax":
            ref = torch.exp(ref)
        for opset in (11, 13, 17):
            base = os.path.join(out, "%s_%d" % (name, opset))
            torch.onnx.export(model, x[:1], base + ".onnx", opset_version=opset)
            net_in = (x - 0.5) / 0.25 * 2.0 if name == "input_norm" else x
            net_in.numpy().astype("<f4").tofile(base + ".in.f32")
            ref.numpy().astype("<f4").tofile(base + ".ref.f32")
        if name in ON_TARGET:
            data = os.path.join(out, name + ".data")
            os.makedirs(data, exist_ok=True)
            # input_norm normalises inside the model: pixel-like values in [0, 1]
            raw = torch.rand(DATA_SAMPLES, *shape) if name == "input_norm" else torch.randn(DATA_SAMPLES, *shape) * 3.0
            xs = raw.permute(0, 2, 3, 1)
            np.save(os.path.join(data, "x.npy"), np.ascontiguousarray(xs.numpy().astype("<f4")))
            np.save(os.path.join(data, "y.npy"), (np.arange(DATA_SAMPLES) % ref.shape[1]).astype(np.uint8))


if __name__ == "__main__":
    main()
