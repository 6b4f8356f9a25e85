#!/usr/bin/env bash
# onnx_layers_on_target.sh - every PyTorch model of tests/onnx/torch_models.py
# (the twelve of tests/onnx_from_torch.sh, issue 16) run on the emulated
# STM32F405 (Cortex-M4F): each (opset 13) is imported, quantized to int8 on
# its own data set (NAME.data, random inputs), and the int8 and float models
# run in QEMU with every output bit-identical to the host runtime, through
# the kernel of the construct it covers:
#   act_cnn           LeakyReLU, Hardswish, Sigmoid, view(-1, F), Tanh,
#                     Hardsigmoid: five LUT_S8 / ACTIVATION_F32
#   act_mlp           flatten, LeakyReLU's default slope, Hardswish on a
#                     linear layer, Sigmoid: three LUT_S8 / ACTIVATION_F32
#   log_softmax       log_softmax at the output: SOFTMAX_S8 / _F32
#   zero_pad          ZeroPad2d folded into the next convs: two CONV2D_IM2COL_S8 /
#                     CONV2D_F32
#   input_norm        normalisation nodes folded into the recorded input
#                     normalisation (pixel-like data in [0, 1]), x.mean((2, 3)) as
#                     a global average pool: CONV2D_IM2COL_S8 / CONV2D_F32
#   avgpool_pad       AvgPool2d(3, 2, padding=1): AVG_POOL_PAD_S8 / _F32
#   zero_pad_avgpool  ZeroPad2d + AvgPool2d(2), AvgPool2d(4, 1, padding=2):
#                     two AVG_POOL_PAD_S8 / _F32
#   concat            torch.cat of three tensors along the channels: two
#                     CONCAT_S8 / _F32 (int8: inputs of other scales requantized)
#   conv_transpose    a conv autoencoder with three ConvTranspose2d (stride 2
#                     with padding and output_padding, kernel 3 padding 1, a
#                     2x3 kernel): three CONV_TRANSPOSE2D_S8 / _F32 (imported
#                     with --loss mse: an autoencoder, its 128 outputs its input's size)
#   dw_multiplier     depthwise Conv2d with 2 filters per channel: CONV_GENERAL_S8 / _F32
#   dilated           a dilated conv and a dilated depthwise conv: two CONV_GENERAL
#   grouped           convs with groups 2 and 4: two CONV_GENERAL (the model's
#                     plain convs, like dw_multiplier's 1x1, keep their fast kernels)
# Usage: onnx_layers_on_target.sh PATH/TO/mcuopt (from the repository root).
# Skipped (exit 77) without /usr/bin/python3's torch, onnx, numpy or the Arm tools.
set -euo pipefail
. "$(dirname "$0")/lib/skip.sh"
. "$(dirname "$0")/lib/on_target.sh"
cli=$1
py=/usr/bin/python3
require_python_onnx
"$py" -c "import torch" 2>/dev/null || skip "/usr/bin/python3 lacks torch (Debian package python3-torch)"
require_arm_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" tests/onnx/torch_models.py "$tmp" 2>/dev/null
# name, kind (without _S8 / _F32), ops of that kind, import options
while read -r name s8 f32 count opts; do
    m=$tmp/${name}_13
    # shellcheck disable=SC2086  # the options are words
    "$cli" import "$m.onnx" -o "$m.mco" $opts >/dev/null
    "$cli" quantize "$m.mco" --mode int8 --data "$tmp/$name.data" -o "$m.mcq" >/dev/null
    # all of the test split (about a fifth of the 128 samples; at least 16)
    measure_bit_exact "$cli" "$m.mcq" stm32f405 "$tmp/$name.data" 128 "$s8" "$count" "$m.mcq.json" 16
    measure_bit_exact "$cli" "$m.mco" stm32f405 "$tmp/$name.data" 128 "$f32" "$count" "$m.mco.json" 16
done <<'MODELS'
act_cnn LUT_S8 ACTIVATION_F32 5
act_mlp LUT_S8 ACTIVATION_F32 3
log_softmax SOFTMAX_S8 SOFTMAX_F32 1
zero_pad CONV2D_IM2COL_S8 CONV2D_F32 2
input_norm CONV2D_IM2COL_S8 CONV2D_F32 1
avgpool_pad AVG_POOL_PAD_S8 AVG_POOL_PAD_F32 1
zero_pad_avgpool AVG_POOL_PAD_S8 AVG_POOL_PAD_F32 2
concat CONCAT_S8 CONCAT_F32 2
conv_transpose CONV_TRANSPOSE2D_S8 CONV_TRANSPOSE2D_F32 3 --loss mse
dw_multiplier CONV_GENERAL_S8 CONV_GENERAL_F32 1
dilated CONV_GENERAL_S8 CONV_GENERAL_F32 2
grouped CONV_GENERAL_S8 CONV_GENERAL_F32 2
MODELS
echo "onnx_layers_on_target: all checks passed"
