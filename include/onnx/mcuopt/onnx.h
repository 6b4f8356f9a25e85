/*
 * onnx.h - ONNX import and export: bring a model trained elsewhere into
 * mcuopt, and hand float or int8 models back to other tools.
 *
 * Import maps an ONNX graph (opsets 7 to 17) onto mcuopt's graph
 * (graph.h): Conv (group 1, or depthwise with group = channels), Gemm,
 * MatMul (+ Add as bias), Relu, Clip(0, 6) as ReLU6, MaxPool, AveragePool,
 * GlobalAveragePool, BatchNormalization, Add, Flatten, Reshape to 2-D,
 * Softmax, Dropout; Identity disappears. NCHW weights become mcuopt's NHWC
 * layouts, including the permutation of a dense layer's weights that read a
 * flattened conv output. Subgraphs made only of initializers and constants
 * (a Reshape or Transpose of a weight, Shape -> Gather -> Concat chains on
 * static shapes) are folded to constants. Padding becomes "valid" or
 * TensorFlow "same" where it equals one of them, otherwise explicit pads
 * (auto_pad SAME_LOWER, PyTorch's padding=1 at stride 2, asymmetric pads,
 * ceil_mode as extra padding at the bottom / right), each smaller than the
 * window; any other operator, attribute, padding or shape fails with one
 * line naming the node and why.
 * The imported model's input normalisation is the one an mcuopt export
 * recorded (metadata "mcuopt.normalization"), else the identity (scale 1,
 * mean 0, std 1), followed by what Sub / Div / Mul / Add nodes by one
 * constant on the model input (before any layer) compute, folded in;
 * callers may set model->norm afterwards.
 *
 * Export writes float models as plain ONNX (opset 13, NCHW input
 * [1, C, H, W], float weights) and int8 deploy models (int8 activations)
 * in QDQ form: every activation tensor goes through QuantizeLinear /
 * DequantizeLinear with mcuopt's scale and zero point, weights are int8
 * initializers behind DequantizeLinear (per-channel on axis 0), biases int32
 * with scale input_scale x weight_scale. An ONNX runtime evaluating the QDQ
 * graph in float reproduces mcuopt's integer outputs up to the rounding of
 * the requantization (one step of the output scale, rarely).
 *
 * Export writes explicit padding as ONNX pads.
 *
 * What it leaves out: dilated and grouped (other than depthwise)
 * convolutions, padding as large as the window, AveragePool with
 * count_include_pad=1 where a window reaches the padding, NHWC inputs (a Transpose of the model input), external-data
 * tensors, several model inputs or outputs, and exporting float16, int4 or
 * weights-only int8 deploy models.
 */
#ifndef MCUOPT_ONNX_H
#define MCUOPT_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_ONNX_MAX_FILE_BYTES ((size_t)256 << 20)   /* import cap: 256 MiB */
#define MCO_ONNX_MIN_OPSET 7
#define MCO_ONNX_MAX_OPSET 17

/* Reads an ONNX file into a float model (shapes inferred, parameters set).
 * Errors: MCO_ERR_IO (cannot read), MCO_ERR_FORMAT (not a valid or
 * consistent ONNX file, or larger than the cap), MCO_ERR_UNSUPPORTED (an
 * operator, attribute, opset or shape mcuopt cannot map), each with one line
 * starting with the path. */
mco_status mco_onnx_import(const char *path, mco_model *model);
/* Same from bytes in memory; messages start with `origin`. */
mco_status mco_onnx_import_bytes(const uint8_t *bytes, size_t size, const char *origin,
                                 mco_model *model);

/* Writes a float model (BatchNorm and Dropout kept as ONNX nodes). */
mco_status mco_onnx_export_model(const mco_model *model, const char *path);
/* Writes a deploy model: float32 ones as plain ONNX, int8 ones (int8
 * weights and activations) in QDQ form; other formats give
 * MCO_ERR_UNSUPPORTED. */
mco_status mco_onnx_export_deploy(const mco_deploy_model *dm, const char *path);

/* In-memory forms of the two exports (*bytes malloc'd, freed by the caller). */
mco_status mco_onnx_serialize_model(const mco_model *model, uint8_t **bytes, size_t *size);
mco_status mco_onnx_serialize_deploy(const mco_deploy_model *dm, uint8_t **bytes, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
