/*
 * tflite.h - TensorFlow Lite import: a .tflite model (schema version 3, as
 * TensorFlow's converter, TFLite Micro, ST Edge AI and Edge Impulse use it)
 * becomes an mcuopt model.
 *
 *   float32 model          -> mco_model (.mco): every stage applies (train
 *                             further, prune, quantize, search ...)
 *   float16 weights        -> mco_model, weights converted to float32
 *   dynamic-range (hybrid) -> mco_model, int8 weights dequantized
 *   full-integer int8      -> mco_deploy_model (.mcq) directly, keeping the
 *                             model's own scales, zero points, int8 weights
 *                             and int32 biases; multipliers and shifts are
 *                             computed as TFLite (Micro) computes them, so the
 *                             runtime's outputs are TFLite's reference
 *                             kernels' outputs bit for bit
 *
 * Operators: CONV_2D, DEPTHWISE_CONV_2D (depth multiplier 1),
 * FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over height and width
 * (global average pool), ADD of two tensors of one shape, RESHAPE / SQUEEZE
 * (flatten), SOFTMAX (beta 1), LOGISTIC (a sigmoid layer; int8: a 256-entry
 * table into its own output quantization, built as TFLite's LUTPopulate
 * but in double: an entry may differ by one step where TFLite's float32
 * computation lands on the other side of a rounding tie), RELU, RELU6,
 * fused RELU / RELU6, CONCATENATION of two or more tensors along the
 * channels (a chain of two-input concat layers; fused RELU / RELU6; int8:
 * an input with the output's quantization copied, another requantized
 * with TFLite's reference rule, ConcatenationWithScaling's float
 * arithmetic, bit for bit), PAD before
 * a convolution (folded into its padding), QUANTIZE of the model input
 * (uint8 or float to int8) and of its output (int8 to uint8), DEQUANTIZE of
 * constants (float16 weights) and of the model output, and the constant
 * prologue Keras models start with (SHAPE, STRIDED_SLICE, PACK,
 * CONCATENATION of constants: folded), MUL / ADD of the float model input
 * by scalar constants (folded into the input normalisation, below). Any other operator, option or
 * quantization fails with one line naming the operator and its index.
 *
 * Input normalisation: a model with a uint8 or int8 input records how raw
 * values map to it: the int8 input is raw - 128 (raw uint8 pixels; a uint8
 * input is raw itself), so the model's normalisation is
 * real = input_scale * (raw - 128 - input_zero_point) (int8 zero point).
 * A float input's is the identity (raw values as they are), or, when the
 * model starts by multiplying and adding constants to its float input
 * (Keras' Rescaling layer: MUL, ADD by scalars), those operators folded:
 * real = a * raw + b (norm = {a, -b, 1}). The caller may set model->norm
 * afterwards.
 *
 * A model whose weights hold a NaN or an infinity is refused, naming the
 * layer (mco_model_check_finite), as ONNX import refuses it.
 *
 * What it leaves out: MUL and ADD with constants other than on
 * the float input, CONCATENATION along other axes than the channels,
 * dilated convolutions, depth multipliers above 1, PAD
 * before a pool, requantizing RELU / QUANTIZE inside the graph, int16
 * activations, several inputs or outputs, subgraphs other than the first.
 */
#ifndef MCUOPT_TFLITE_H
#define MCUOPT_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_TFLITE_MAX_FILE_BYTES ((size_t)256 << 20)   /* import cap: 256 MiB */

typedef enum {
    MCO_TFLITE_FLOAT32 = 0,   /* float weights and activations */
    MCO_TFLITE_FLOAT16,       /* float16 weights behind DEQUANTIZE */
    MCO_TFLITE_HYBRID,        /* int8 weights, float activations (dynamic-range quantization) */
    MCO_TFLITE_INT8           /* full integer: int8 weights and activations */
} mco_tflite_kind;

/* The element type of the model's own input or output tensor. */
typedef enum { MCO_TFLITE_IO_FLOAT32 = 0, MCO_TFLITE_IO_INT8, MCO_TFLITE_IO_UINT8 } mco_tflite_io;

typedef struct {
    mco_tflite_kind kind;
    mco_model model;              /* the float model (kinds other than INT8) */
    mco_deploy_model deploy;      /* the deploy model (MCO_TFLITE_INT8) */
    mco_tflite_io input_type, output_type;
    mco_qparams input_q, output_q;/* their quantization (scale 0 for float32) */
    int n_ops;                    /* TFLite operators read (folded ones included) */
    int norm_ops;                 /* MUL / ADD on the float input folded into the normalisation */
} mco_tflite_model;

/* 1 if the bytes start like a TFLite flatbuffer (identifier "TFL3"). */
int mco_tflite_is_tflite(const uint8_t *bytes, size_t size);
/* 1 if the file at `path` starts like one (0 if not, or if it cannot be
 * read: the error is cleared, the importer that runs next reports it). */
int mco_tflite_file_is_tflite(const char *path);

/* Reads a .tflite file. Errors: MCO_ERR_IO (cannot read), MCO_ERR_FORMAT
 * (not TFLite, corrupt or inconsistent, larger than the cap),
 * MCO_ERR_UNSUPPORTED (an operator, option, type or shape mcuopt cannot
 * map), each with one line starting with the path. */
mco_status mco_tflite_import(const char *path, mco_tflite_model *out);
/* Same from bytes in memory; messages start with `origin`. */
mco_status mco_tflite_import_bytes(const uint8_t *bytes, size_t size, const char *origin, mco_tflite_model *out);
void mco_tflite_free(mco_tflite_model *m);

/* "float32", "float16 weights", "dynamic-range int8 weights", "full integer int8". */
const char *mco_tflite_kind_name(mco_tflite_kind kind);
/* "float32", "int8", "uint8". */
const char *mco_tflite_io_name(mco_tflite_io io);

#ifdef __cplusplus
}
#endif
#endif
