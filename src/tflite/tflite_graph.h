/*
 * tflite_graph.h - a TFLite model's main subgraph as plain C data, read
 * from the flatbuffer by tflite_reader.cc (the area's one C++ file, behind
 * mco_tfl_read) and mapped onto mcuopt's models by tflite_import.c.
 *
 * Everything here has been checked by the reader: the flatbuffer passed
 * flatbuffers' Verifier (every offset, vector and string inside the file,
 * depth and table count bounded), and on top of it every tensor index an
 * operator names is a tensor of the subgraph (or -1, an optional input
 * left out), every opcode and buffer index exists, shapes have at most
 * MCO_TFL_MAX_DIMS non-negative dimensions, and a constant tensor's data
 * holds exactly shape x element size bytes. Constant data points into the
 * caller's file image, which must outlive the graph.
 *
 * What it leaves out: subgraphs other than the first, sparse tensors,
 * external buffers, custom operator options, signature defs and metadata
 * (the reader refuses the first four where the main subgraph uses them).
 */
#ifndef MCO_TFLITE_GRAPH_H
#define MCO_TFLITE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_TFL_MAX_DIMS 6
#define MCO_TFL_MAX_TENSORS 100000
#define MCO_TFL_MAX_OPS 10000
#define MCO_TFL_MAX_OP_INPUTS 16
#define MCO_TFL_MAX_NEW_SHAPE 8

/* TensorType values (schema.fbs). */
enum {
    MCO_TFL_FLOAT32 = 0,
    MCO_TFL_FLOAT16 = 1,
    MCO_TFL_INT32 = 2,
    MCO_TFL_UINT8 = 3,
    MCO_TFL_INT64 = 4,
    MCO_TFL_INT16 = 7,
    MCO_TFL_INT8 = 9
};

/* BuiltinOperator values mcuopt knows by name. */
enum {
    MCO_TFL_OP_ADD = 0,
    MCO_TFL_OP_AVERAGE_POOL_2D = 1,
    MCO_TFL_OP_CONCATENATION = 2,
    MCO_TFL_OP_CONV_2D = 3,
    MCO_TFL_OP_DEPTHWISE_CONV_2D = 4,
    MCO_TFL_OP_DEQUANTIZE = 6,
    MCO_TFL_OP_FULLY_CONNECTED = 9,
    MCO_TFL_OP_LOGISTIC = 14,
    MCO_TFL_OP_MAX_POOL_2D = 17,
    MCO_TFL_OP_MUL = 18,
    MCO_TFL_OP_RELU = 19,
    MCO_TFL_OP_RELU6 = 21,
    MCO_TFL_OP_RESHAPE = 22,
    MCO_TFL_OP_SOFTMAX = 25,
    MCO_TFL_OP_PAD = 34,
    MCO_TFL_OP_MEAN = 40,
    MCO_TFL_OP_SQUEEZE = 43,
    MCO_TFL_OP_STRIDED_SLICE = 45,
    MCO_TFL_OP_SHAPE = 77,
    MCO_TFL_OP_PACK = 83,
    MCO_TFL_OP_QUANTIZE = 114
};

/* Padding and ActivationFunctionType values. */
enum { MCO_TFL_PAD_SAME = 0, MCO_TFL_PAD_VALID = 1 };
enum { MCO_TFL_ACT_NONE = 0, MCO_TFL_ACT_RELU = 1, MCO_TFL_ACT_RELU_N1_TO_1 = 2, MCO_TFL_ACT_RELU6 = 3 };

typedef struct {
    int ndim;
    int32_t dims[MCO_TFL_MAX_DIMS];
    int type;                  /* TensorType */
    const uint8_t *data;       /* constant data inside the file image, NULL for activations */
    size_t data_size;          /* bytes (= element count x element size when data != NULL) */
    int n_quant;               /* quantization entries: 0 (none), 1 (per tensor) or per channel */
    float *scales;             /* [n_quant], malloc'd */
    int64_t *zero_points;      /* [n_quant] (0 where the file gives none) */
    int quant_dim;             /* the dimension the entries run along when n_quant > 1 */
    char name[64];             /* the file's name, cut to fit */
} mco_tfl_tensor;

/* One operator with the options mcuopt reads (zero / 1 where absent, as the schema's defaults). */
typedef struct {
    int code;                  /* BuiltinOperator, or -1 for a custom operator */
    char custom[40];           /* the custom operator's name */
    int n_inputs, n_outputs;
    int32_t inputs[MCO_TFL_MAX_OP_INPUTS];   /* tensor indices, -1: optional input left out */
    int32_t outputs[MCO_TFL_MAX_OP_INPUTS];
    int options_type;          /* the BuiltinOptions member present (0: none) */
    int padding, stride_w, stride_h, filter_w, filter_h, activation;
    int dilation_w, dilation_h, depth_multiplier;
    int weights_format, keep_num_dims;        /* FullyConnected */
    float beta;                                /* Softmax */
    int axis;                                  /* Concatenation, Pack */
    int keep_dims;                             /* Mean */
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset;   /* StridedSlice */
} mco_tfl_op;

typedef struct {
    uint32_t version;          /* schema version (3) */
    int n_tensors, n_ops, n_inputs, n_outputs;
    mco_tfl_tensor *tensors;
    mco_tfl_op *ops;
    int32_t inputs[4], outputs[4];   /* the subgraph's input / output tensors (at most 4 read) */
} mco_tfl_graph;

/* Verifies `bytes` as a TFLite flatbuffer and reads its first subgraph.
 * Errors: MCO_ERR_FORMAT (not TFLite, corrupt, inconsistent),
 * MCO_ERR_UNSUPPORTED (sparse tensors, external buffers, several inputs
 * ...), MCO_ERR_NOMEM; one line starting with `origin`. */
mco_status mco_tfl_read(const uint8_t *bytes, size_t size, const char *origin, mco_tfl_graph *graph);
void mco_tfl_graph_free(mco_tfl_graph *graph);

/* 1 if the bytes carry TFLite's file identifier "TFL3". */
int mco_tfl_is_tflite(const uint8_t *bytes, size_t size);

/* Bytes per element of a TensorType mcuopt reads (0 for others). */
size_t mco_tfl_type_size(int type);
const char *mco_tfl_type_name(int type);
/* "CONV_2D", ... or NULL for codes mcuopt has no name for. */
const char *mco_tfl_op_name(int code);

#ifdef __cplusplus
}
#endif
#endif
