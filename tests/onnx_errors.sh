#!/usr/bin/env bash
# onnx_errors.sh - `mcuopt import` on bad input: a missing, empty, truncated
# or random-bytes file, and (with python3-onnx) well-formed models with one
# thing mcuopt cannot take (tests/onnx/make_bad_models.py). Each must fail
# with exit code 1 and one line naming the file and the reason (the node,
# where there is one) - never a crash. The sanitizer build runs this too.
# Ends as skipped (exit 77) where MNIST or python3-onnx is missing: the
# checks before the part that needs them have run, but a partial run is not
# a pass.
# Usage: onnx_errors.sh PATH/TO/mcuopt   (run from the repository root)
set -euo pipefail
cli=$1
. tests/lib/skip.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_error FILE PATTERN: import fails with status 1 and one stderr line matching PATTERN.
expect_error() {
    local status=0
    "$cli" import "$1" -o "$tmp/out.mco" 2>"$tmp/err" >/dev/null || status=$?
    if [ "$status" -ne 1 ]; then echo "import $1: exit status $status, expected 1"; cat "$tmp/err"; exit 1; fi
    if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q -- "$2" "$tmp/err"; then
        echo "import $1: expected one line matching '$2', got:"; cat "$tmp/err"; exit 1
    fi
    [ ! -e "$tmp/out.mco" ] || { echo "import $1: wrote a model despite the error"; exit 1; }
}

expect_error "$tmp/absent.onnx" "absent.onnx"
: >"$tmp/empty.onnx"
expect_error "$tmp/empty.onnx" "empty.onnx: .*no opset"
head -c 4096 /dev/urandom >"$tmp/random.onnx"
expect_error "$tmp/random.onnx" "random.onnx: "

# A valid file to cut short and to flip bytes in: an exported model.
. tests/lib/mini_mnist.sh
make_mini_mnist "$tmp/mini"
"$cli" train --arch mnist-paper --epochs 1 --data "$tmp/mini" --val 50 --quiet -o "$tmp/m.mco" >/dev/null
"$cli" export "$tmp/m.mco" -o "$tmp/m.onnx" >/dev/null
size=$(stat -c %s "$tmp/m.onnx")
for cut in 10 100 1000 $((size / 2)) $((size - 3)); do
    head -c "$cut" "$tmp/m.onnx" >"$tmp/truncated.onnx"
    expect_error "$tmp/truncated.onnx" "truncated.onnx: "
done
for seed in 1 2 3 4 5 6 7 8; do   # a few corrupted bytes each: refused or imported, never a crash
    cp "$tmp/m.onnx" "$tmp/corrupt.onnx"
    for k in 1 2 3; do
        printf '\xff' | dd of="$tmp/corrupt.onnx" bs=1 seek=$(((seed * 7919 * k) % size)) conv=notrunc 2>/dev/null
    done
    status=0
    "$cli" import "$tmp/corrupt.onnx" -o "$tmp/corrupt.mco" 2>"$tmp/err" >/dev/null || status=$?
    [ "$status" -le 1 ] || { echo "corrupt import (seed $seed): exit status $status"; cat "$tmp/err"; exit 1; }
done

require_python_onnx
py=/usr/bin/python3
"$py" tests/onnx/make_bad_models.py "$tmp"
expect_error "$tmp/unsupported_op.onnx" "node 1 'gate' (Selu): operator 'Selu' is not supported"
# the activations' Mul (x * HardSigmoid(x) alone) and HardSigmoid's alpha
expect_error "$tmp/mul_squares.onnx" "node 1 'square' (Mul): Mul of two activations is supported only as x \\* HardSigmoid(x)"
expect_error "$tmp/mul_by_constant.onnx" "node 1 'times2' (Mul): multiplying by a constant is supported only on the model input"
expect_error "$tmp/hard_sigmoid_other_alpha.onnx" "node 2 'swish' (Mul): Mul of two activations is supported only"
expect_error "$tmp/hard_sigmoid_alpha_zero.onnx" "node 1 'flat' (HardSigmoid): alpha 0, beta 0.5"
expect_error "$tmp/log_softmax_inside.onnx" "node 1 'logp' (LogSoftmax): LogSoftmax is supported only as the model's output"
expect_error "$tmp/pad_before_maxpool.onnx" "node 1 'maxp' (MaxPool): a Pad before a MaxPool is not supported (only before a Conv or an AveragePool)"
expect_error "$tmp/pad_before_avgpool_own_pads.onnx" "node 1 'avg' (AveragePool): a Pad before an AveragePool with pads of its own and count_include_pad=0"
expect_error "$tmp/pad_before_relu.onnx" "node 1 'relu' (Relu): the Pad before it is supported only before a Conv"
expect_error "$tmp/pad_reflect.onnx" "node 0 'pad' (Pad): mode 'reflect' (only constant zeros)"
expect_error "$tmp/pad_with_ones.onnx" "node 0 'pad' (Pad): padding with 1 (only zeros)"
expect_error "$tmp/norm_per_channel.onnx" "node 0 'sub_mean' (Sub): a normalisation with a value per channel (0.1, 0.2, ...) is not supported"
expect_error "$tmp/norm_div_zero.onnx" "node 0 'div0' (Div): normalising the input with 0"
expect_error "$tmp/sub_after_conv.onnx" "node 1 'minus' (Sub): subtracting a constant is supported only on the model input"
expect_error "$tmp/opset_too_new.onnx" "opset 18 is not supported (7 to 17)"
expect_error "$tmp/opset_too_old.onnx" "opset 6 is not supported"
expect_error "$tmp/missing_initializer.onnx" "node 0 'conv1' (Conv): input 'w_missing' is neither an initializer"
expect_error "$tmp/giant_dims.onnx" "initializer 'w' has dimension 1099511627776"
expect_error "$tmp/short_raw_data.onnx" "raw_data holds 20 bytes, its dims need 144"
expect_error "$tmp/unsupported_attribute.onnx" "node 0 'pool1' (MaxPool): dilations 2x2 (only 1)"
expect_error "$tmp/pads_too_large.onnx" \
    "node 0 'conv_pad3' (Conv): padding (top 3, left 0, bottom 0, right 0) is not smaller than the 3x3 window"
expect_error "$tmp/count_include_pad_ceil.onnx" "node 0 'avg' (AveragePool): count_include_pad=1 with ceil_mode=1 where the last window passes the padding"
expect_error "$tmp/grouped_conv.onnx" \
    "node 0 'grouped' (Conv): group 3 with 4 input channels, 6 filters of 1 channels (group must divide"
expect_error "$tmp/concat_height.onnx" "node 0 'cat_h' (Concat): Concat along axis 2 (only the channels, axis 1)"
expect_error "$tmp/concat_flattened.onnx" "node 1 'cat_f' (Concat): Concat of flattened conv outputs (concatenate before flattening)"
expect_error "$tmp/mean_over_channels.onnx" \
    "node 0 'mean_c' (ReduceMean): a mean only over the spatial axes 2 and 3 (global average pooling)"
expect_error "$tmp/view_splits_sample.onnx" \
    "node 0 'view' (Reshape): reshape to (-1, ...) with 32 values per sample; the input has 64"
# ConvTranspose: what it refuses
expect_error "$tmp/conv_transpose_group.onnx" "node 0 'up_g' (ConvTranspose): group 2 (only 1)"
expect_error "$tmp/conv_transpose_dilation.onnx" "node 0 'up_d' (ConvTranspose): dilations 2x2 (only 1)"
expect_error "$tmp/conv_transpose_auto_pad.onnx" "node 0 'up_a' (ConvTranspose): attribute auto_pad='SAME_UPPER' is not supported"
expect_error "$tmp/conv_transpose_output_shape.onnx" "node 0 'up_s' (ConvTranspose): attribute 'output_shape' is not supported"
expect_error "$tmp/conv_transpose_output_padding.onnx" \
    "node 0 'up_o' (ConvTranspose): output_padding 2x0 not smaller than the stride 2x2"
expect_error "$tmp/conv_transpose_pads.onnx" \
    "node 0 'up_p' (ConvTranspose): pads (top 3, left 0, bottom 0, right 0) not smaller than the 3x3 kernel"
echo "onnx_errors: all checks passed"
