#!/usr/bin/env bash
# tests/fuzz/make_seeds.sh - rewrites the committed seed corpus
# tests/fuzz/corpus/<harness>/ from the library's own writers
# (fuzz_make_seeds, built by tests/fuzz/build.sh), the MCU profiles of
# targets/ and small TFLite models written by tests/tflite/make_models.py
# (Python with numpy and flatbuffers: Debian's python3-numpy and
# python3-flatbuffers). Regression inputs (regress-*) are kept; everything
# else is replaced. Usage: bash tests/fuzz/make_seeds.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
[ -x "$build/tests/fuzz/fuzz_make_seeds" ] || bash tests/fuzz/build.sh "$build"
corpus=tests/fuzz/corpus
find "$corpus" -type f ! -name 'regress-*' -delete 2>/dev/null || true
mkdir -p "$corpus/target_profile"
"$build/tests/fuzz/fuzz_make_seeds" "$corpus" targets/calibration/resource-model.json
cp targets/*.json "$corpus/target_profile/"
# TFLite: one model of each kind (float32, float16 and dynamic-range weights,
# int8 with uint8, int8 and float input / output, a float input rescaled by
# MUL and ADD), an unsupported operator, refused rescalings, non-finite
# parameters, an int32 accumulator that can overflow, and CONCATENATION
# (int8, with copied and requantized inputs; along an unsupported axis).
tfl=$(mktemp -d)
trap 'rm -rf "$tfl"' EXIT
/usr/bin/python3 tests/tflite/make_models.py "$tfl" >/dev/null
mkdir -p "$corpus/tflite"
for m in cnn_float32 cnn_float16 cnn_hybrid cnn_int8 gap_int8 cnn_int8_float_io rescaled_float32 logistic_int8 bad_mul \
         bad_rescale_branch bad_rescale_zero bad_nan_weight bad_inf_bias bad_acc_overflow concat_int8 concat_table_int8 \
         bad_concat_axis; do
  cp "$tfl/$m.tflite" "$corpus/tflite/"
done
# ONNX as PyTorch writes it (python3-torch): the activations with Hardswish
# as x * HardSigmoid(x), ZeroPad2d's ConstantOfShape / Slice / Pad, a
# normalisation inside the model, a final log_softmax, AvgPool2d with padding
# (a Pad before an AveragePool), torch.cat of three tensors.
/usr/bin/python3 tests/onnx/torch_models.py "$tfl" 2>/dev/null
cp "$tfl/act_cnn_11.onnx" "$corpus/onnx/torch-activations.onnx"
cp "$tfl/zero_pad_11.onnx" "$corpus/onnx/torch-zero-pad.onnx"
cp "$tfl/input_norm_13.onnx" "$corpus/onnx/torch-input-norm.onnx"
cp "$tfl/log_softmax_13.onnx" "$corpus/onnx/torch-log-softmax.onnx"
# ONNX in QDQ form as onnxruntime's quantizer writes it (python3-onnx): int8
# and uint8 activations, and one unsupported QDQ pattern each (qdq-bad-*).
/usr/bin/python3 tests/onnx/make_qdq_models.py "$tfl/qdq"
cp "$tfl/qdq/qdq_cnn_s8.onnx" "$corpus/onnx/qdq-cnn-s8.onnx"
cp "$tfl/qdq/qdq_cnn_u8.onnx" "$corpus/onnx/qdq-cnn-u8.onnx"
for b in qlinear quantize_const u8_weights no_output_q bias_scale pool_requant per_axis_act; do
  cp "$tfl/qdq/bad_qdq_$b.onnx" "$corpus/onnx/qdq-bad-${b//_/-}.onnx"
done
cp "$tfl/avgpool_pad_13.onnx" "$corpus/onnx/torch-avgpool-pad.onnx"
cp "$tfl/concat_13.onnx" "$corpus/onnx/torch-concat.onnx"
cp "$tfl/conv_transpose_13.onnx" "$corpus/onnx/torch-conv-transpose.onnx"   # ConvTranspose (wip/convt16)
# the general convolution: a dilated conv and dilated depthwise conv, grouped convs
cp "$tfl/dilated_13.onnx" "$corpus/onnx/torch-dilated.onnx"
cp "$tfl/grouped_13.onnx" "$corpus/onnx/torch-grouped.onnx"
du -sh "$corpus"/* | sed 's|tests/fuzz/corpus/||'
