#!/usr/bin/env bash
# onnx_from_torch.sh - what PyTorch exports imports: the activations (Sigmoid,
# Tanh, LeakyRelu, HardSigmoid, HardSwish, and x * HardSigmoid(x) for
# Hardswish before opset 14) as mcuopt layers, a final LogSoftmax as Softmax
# (compared with exp() of PyTorch's outputs), ZeroPad2d / F.pad before a conv
# (Pad, with ConstantOfShape and Slice folded) as the conv's padding, and
# Sub / Div / Mul by constants on the input folded into the recorded input
# normalisation (checked in the export's metadata), nn.AvgPool2d with
# padding and its default count_include_pad=True and ZeroPad2d before an
# AvgPool2d (a Pad before the AveragePool: an avgpool2d dividing by the
# whole window, count_pad), torch.cat along the channels (a three-input
# Concat: two concat layers), ConvTranspose (a small conv autoencoder:
# stride 2 with padding and output_padding, kernel 3 padding 1, a 2x3
# kernel; conv_transpose2d layers): for nine PyTorch models
# at opsets 11, 13 and 17 (tests/onnx/torch_models.py),
# `mcuopt import` +
# `predict` is within 1e-5 of PyTorch's outputs; `mcuopt export` of the
# imported model, evaluated by numpy (tests/onnx/onnx_numpy.py), is within
# 1e-5 too; export -> import gives the same .mco byte for byte.
# Skipped (exit 77) without /usr/bin/python3's torch, onnx or numpy.
# Usage: onnx_from_torch.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
py=/usr/bin/python3
. tests/lib/skip.sh
require_python_onnx
"$py" -c "import torch" 2>/dev/null || skip "/usr/bin/python3 lacks torch (Debian package python3-torch)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { "$py" tests/onnx/check.py "$@"; }

"$py" tests/onnx/torch_models.py "$tmp" 2>/dev/null
for name in act_cnn act_mlp log_softmax zero_pad input_norm avgpool_pad zero_pad_avgpool concat conv_transpose; do
    for opset in 11 13 17; do
        m=$tmp/${name}_$opset
        "$cli" import "$m.onnx" -o "$m.mco" >/dev/null
        "$cli" predict "$m.mco" --input "$m.in.f32" --layout nchw -o "$m.out.f32" 2>/dev/null
        check close "$m.out.f32" "$m.ref.f32" 1e-5
        "$cli" export "$m.mco" -o "$m.exported.onnx" >/dev/null
        check eval "$m.exported.onnx" "$m.in.f32" "$m.ref.f32" 1e-5
        "$cli" import "$m.exported.onnx" -o "$m.again.mco" >/dev/null
        cmp "$m.mco" "$m.again.mco"
    done
done
# The layers they became: Hardswish is one layer at every opset.
info=$("$cli" info "$tmp/act_cnn_11.mco")
for t in "leaky_relu a=0.2 " hard_swish sigmoid tanh "hard_sigmoid a=0.1667 b=0.5"; do
    echo "$info" | grep -q "$t" || { echo "$info"; echo "FAIL: act_cnn_11 has no $t layer" >&2; exit 1; }
done
[ "$(echo "$info" | grep -c hard_swish)" = 1 ] || { echo "FAIL: act_cnn_11: not one hard_swish" >&2; exit 1; }
"$cli" info "$tmp/act_mlp_13.mco" | grep -q "leaky_relu a=0.01 " || { echo "FAIL: act_mlp: default alpha" >&2; exit 1; }
"$cli" info "$tmp/log_softmax_13.mco" | grep -q " softmax " || { echo "FAIL: log_softmax: no softmax layer" >&2; exit 1; }
# the pads joined the convs: ZeroPad2d's (1, 2, 1, 0) on 8x8 and a 3x3 conv give 7x9
"$cli" info "$tmp/zero_pad_11.mco" | grep -Eq 'conv2d +7x9x4' || { echo "FAIL: zero_pad: no 7x9 conv" >&2; exit 1; }
[ "$("$cli" info "$tmp/zero_pad_17.mco" | grep -c conv2d)" = 2 ] || { echo "FAIL: zero_pad: not two convs" >&2; exit 1; }
# (x - 0.5) / 0.25 * 2 = (x - 0.5) / 0.125: scale 1, mean 0.5, std 0.125
for opset in 11 13 17; do
    norm=$("$py" -c "import onnx, sys; print([p.value for p in onnx.load(sys.argv[1]).metadata_props if p.key == 'mcuopt.normalization'][0])" \
        "$tmp/input_norm_$opset.exported.onnx")
    [ "$norm" = "1,0.5,0.125" ] || { echo "FAIL: input_norm_$opset: normalisation $norm, expected 1,0.5,0.125" >&2; exit 1; }
done
# AvgPool2d(3, 2, padding=1) counts its padding, AvgPool2d(count_include_pad=False) does not;
# ZeroPad2d((1, 0, 1, 0)) + AvgPool2d(2) and AvgPool2d(4, 1, padding=2) both count it.
for opset in 11 13 17; do
    info=$("$cli" info "$tmp/avgpool_pad_$opset.mco")
    echo "$info" | grep -Eq 'avgpool2d count_pad +4x4x4' || { echo "$info"; echo "FAIL: avgpool_pad_$opset: no count_pad pool" >&2; exit 1; }
    echo "$info" | grep -Eq 'avgpool2d +5x5x4' || { echo "$info"; echo "FAIL: avgpool_pad_$opset: count_include_pad=False pool" >&2; exit 1; }
    [ "$("$cli" info "$tmp/zero_pad_avgpool_$opset.mco" | grep -c 'avgpool2d count_pad')" = 2 ] ||
        { echo "FAIL: zero_pad_avgpool_$opset: not two count_pad pools" >&2; exit 1; }
done
# torch.cat of three tensors: 3 + 2 channels, then + the input's 2
for opset in 11 13 17; do
    info=$("$cli" info "$tmp/concat_$opset.mco")
    echo "$info" | grep -Eq 'concat +7x7x5' && echo "$info" | grep -Eq 'concat +7x7x7' ||
        { echo "$info"; echo "FAIL: concat_$opset: not a chain of two concats" >&2; exit 1; }
done
# the autoencoder: three ConvTranspose nodes, three conv_transpose2d layers of 8x8 outputs
for opset in 11 13 17; do
    info=$("$cli" info "$tmp/conv_transpose_$opset.mco")
    [ "$(echo "$info" | grep -Ec 'conv_transpose2d +8x8x')" = 3 ] ||
        { echo "$info"; echo "FAIL: conv_transpose_$opset: not three 8x8 conv_transpose2d layers" >&2; exit 1; }
done
# ... and its int8 model (per-channel weights; an autoencoder: --loss mse) exported as QDQ
# (ConvTranspose weights dequantized along axis 1, their output channels) gives, evaluated as
# an ONNX runtime would, every one of mcuopt's int8 outputs
m=$tmp/conv_transpose_13
"$cli" import "$m.onnx" -o "$m.ae.mco" --loss mse >/dev/null
"$cli" quantize "$m.ae.mco" --mode int8 --data "$tmp/conv_transpose.data" --no-eval -o "$m.mcq" >/dev/null
"$cli" export "$m.mcq" -o "$m.qdq.onnx" >/dev/null
"$cli" predict "$m.mcq" --input "$m.in.f32" --layout nchw -o "$m.q.out.f32" 2>/dev/null
check qdq "$m.qdq.onnx" "$m.in.f32" "$m.q.out.f32" 0 1.0
# The general convolution (issue 16): a depthwise Conv2d with 2 filters per
# channel (depth multiplier 2), dilated convs (a conv, and a depthwise conv
# with dilation (2, 1) and stride 2), grouped convs (groups 2 and 4): within
# 1e-4 of PyTorch, exported (group, dilations) and evaluated by numpy within
# 1e-4, export -> import byte for byte; the layers carry the fields; the int8
# models round-trip through QDQ export and import with the same outputs.
for name in dw_multiplier dilated grouped; do
    for opset in 11 13 17; do
        m=$tmp/${name}_$opset
        "$cli" import "$m.onnx" -o "$m.mco" >/dev/null
        "$cli" predict "$m.mco" --input "$m.in.f32" --layout nchw -o "$m.out.f32" 2>/dev/null
        check close "$m.out.f32" "$m.ref.f32" 1e-4
        "$cli" export "$m.mco" -o "$m.exported.onnx" >/dev/null
        check eval "$m.exported.onnx" "$m.in.f32" "$m.ref.f32" 1e-4
        "$cli" import "$m.exported.onnx" -o "$m.again.mco" >/dev/null
        cmp "$m.mco" "$m.again.mco"
    done
done
expect_layer() {   # expect_layer MODEL REGEX
    "$cli" info "$tmp/$1.mco" | grep -Eq "$2" || { "$cli" info "$tmp/$1.mco"; echo "FAIL: $1: no layer matching '$2'" >&2; exit 1; }
}
for opset in 11 13 17; do
    expect_layer "dw_multiplier_$opset" 'depthwise_conv2d multiplier=2 +8x8x6 '
    expect_layer "dilated_$opset" 'conv2d dilation=2 +9x9x4 '
    expect_layer "dilated_$opset" 'depthwise_conv2d dilation=2x1 +5x5x4 '
    expect_layer "grouped_$opset" 'conv2d groups=2 +6x6x8 '
    expect_layer "grouped_$opset" 'conv2d groups=4 +6x6x8 '
    expect_layer "input_norm_$opset" 'ReduceMean +global_avgpool +1x1x3 '   # x.mean((2, 3))
done
# their int8 models survive the QDQ export -> import round trip: the same outputs, byte for byte
for name in dw_multiplier dilated grouped; do
    m=$tmp/${name}_13
    "$cli" quantize "$m.mco" --mode int8 --data "$tmp/$name.data" -o "$m.mcq" >/dev/null
    "$cli" export "$m.mcq" -o "$m.qdq.onnx" >/dev/null
    "$cli" import "$m.qdq.onnx" -o "$m.qdq.mcq" >/dev/null
    "$cli" predict "$m.mcq" --input "$m.in.f32" --layout nchw -o "$m.q.f32" 2>/dev/null
    "$cli" predict "$m.qdq.mcq" --input "$m.in.f32" --layout nchw -o "$m.qdq.f32" 2>/dev/null
    cmp "$m.q.f32" "$m.qdq.f32" || { echo "FAIL: $name: the QDQ round trip changed the int8 outputs" >&2; exit 1; }
done
echo "onnx_from_torch: 36 PyTorch exports import (27 within 1e-5, 9 general convolutions within 1e-4) and round-trip"
