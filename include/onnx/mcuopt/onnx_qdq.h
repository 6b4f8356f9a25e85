/*
 * onnx_qdq.h - ONNX graphs in QDQ form (QuantizeLinear / DequantizeLinear
 * around the weights and activations of a float graph: what `mcuopt
 * export` writes for an int8 deploy model, and what onnxruntime's
 * quantizer writes with quant_format=QDQ) imported as int8 deploy models
 * with the file's own scales, zero points, int8 weights and int32 biases
 * (src/onnx/onnx_qdq_import.c).
 *
 * The graph is read as:
 *   - DequantizeLinear of an int8 initializer (zero point 0; one scale, or
 *     one per output channel on the output-channel axis): a weight; of an
 *     int32 initializer (zero point 0, scale input scale x weight scale): a
 *     bias;
 *   - QuantizeLinear -> DequantizeLinear (same scale and zero point, int8
 *     or uint8: uint8 becomes int8 with the zero point minus 128, the same
 *     real values) on an activation: that tensor's quantization;
 *   - the nudges mcuopt's export puts before the QuantizeLinear of an
 *     average pool (Add, Sign, Mul, Add) or a Conv / Gemm (Sign, Mul, Add;
 *     see onnx_export.c) as nothing, that rounding being the kernels' own;
 *   - every other node as the float import (onnx.h) maps it.
 * A layer whose output has no QuantizeLinear takes its input's
 * quantization when it cannot requantize (ReLU, ReLU6, MaxPool, Flatten),
 * the quantization after the ReLU / ReLU6 that alone reads it (fused, as
 * onnxruntime's quantizer removes that ReLU), or (1/256, -128) for a
 * softmax; any other gets an error naming its node. Requantization uses
 * TFLite's integer multipliers (the deploy model's arithmetic), which an
 * ONNX runtime evaluating the QDQ graph in float matches up to ties and
 * near-ties of the rounding (docs/onnx.md, "QDQ").
 *
 * What it leaves out: integer operators (QLinearConv, ConvInteger ...),
 * QuantizeLinear of a constant, uint8 or asymmetric weights, per-axis
 * activation quantization, int16 activations, and BatchNormalization in a
 * QDQ graph (quantize after folding it).
 */
#ifndef MCUOPT_ONNX_QDQ_H
#define MCUOPT_ONNX_QDQ_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the bytes parse as an ONNX model with at least one QuantizeLinear or
 * DequantizeLinear node of the default domain; 0 otherwise (no error
 * recorded). */
int mco_onnx_is_qdq(const uint8_t *bytes, size_t size);
/* The same for a file (0 when it cannot be read). */
int mco_onnx_file_is_qdq(const char *path);

/* Imports a QDQ graph as an int8 deploy model (checked as mco_deploy_load
 * checks one). Errors as mco_onnx_import's: one line starting with the
 * path, naming the node. */
mco_status mco_onnx_import_qdq(const char *path, mco_deploy_model *dm);
mco_status mco_onnx_import_qdq_bytes(const uint8_t *bytes, size_t size, const char *origin,
                                     mco_deploy_model *dm);

#ifdef __cplusplus
}
#endif
#endif
