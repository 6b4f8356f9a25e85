/*
 * tflite_import.c - mco_tflite_import(): a TFLite graph (read and checked
 * by tflite_reader.cc) mapped onto mcuopt's layers (graph.h), as a float
 * model or, for a full-integer model, a deploy model with the file's own
 * quantization (see include/tflite/mcuopt/tflite.h for what is mapped).
 *
 * The walk goes through the operators in the file's order (TFLite's
 * execution order). Each activation tensor records the layer that
 * produces it (`src`), or MCO_INPUT; constants and the operators folded on
 * them (tflite_fold.c) make no layer. A PAD makes no layer either: its
 * output records the padding, which the convolution reading it takes as
 * explicit padding (an int8 PAD pads with the zero point, which adds
 * nothing to a convolution: the same result). A fused RELU / RELU6 becomes
 * a ReLU layer after its operator, which the planner fuses back.
 *
 * int8 arithmetic parameters are computed as TFLite Micro's kernels
 * compute them in Prepare (tensorflow/lite/kernels/kernel_util.cc,
 * micro/kernels/ *_common.cc): per channel of a convolution and of a
 * per-channel FULLY_CONNECTED, the multiplier of
 * double(input scale) * double(filter scale) / double(output scale); of a
 * per-tensor FULLY_CONNECTED, of double(float(input scale * filter scale))
 * / double(output scale); of MEAN, of double(input scale) / double(output
 * scale) (the planner folds in the 1 / count as TFLite does); ADD's and
 * SOFTMAX's come from the tensors' scales in the planner; fused activation
 * bounds from the output quantization (the planner rounds 6 / scale in
 * float, as TFLite).
 *
 * What it leaves out: see tflite.h; and shapes other than [1, H, W, C]
 * and [1, N] (batch 1) for activations.
 */
#include "mcuopt/tflite.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/deploy_int8.h"
#include "mcuopt/deploy_util.h"
#include "mcuopt/file_io.h"
#include "mcuopt/model_file.h"
#include "mcuopt/quant_multiplier.h"
#include "tflite_fold.h"
#include "tflite_graph.h"

#define NO_SRC (-2)   /* a tensor no operator has produced yet */

typedef struct {
    int layer;               /* producing layer, MCO_INPUT, or NO_SRC */
    int padded;              /* output of a PAD: `pad` still to be applied */
    int before_norm;         /* the float input before a MUL / ADD folded into the normalisation */
    int pad[4];              /* top, bottom, left, right */
} tensor_src;

/* What each layer came from. */
typedef struct {
    int op;                  /* TFLite operator index */
    int in_tensor;           /* activation tensor read (first input) */
    int out_tensor;          /* activation tensor written */
    int weights, bias;       /* constant tensors of a weighted layer (-1: none) */
} layer_src;

typedef struct {
    const mco_tfl_graph *g;
    mco_tfl_consts consts;
    const char *origin;
    int mode;                /* -1 undecided, 0 float activations, 1 int8 activations */
    int float16, hybrid;     /* float16 weights (a DEQUANTIZE folded), int8 weights with float activations */
    tensor_src *src;         /* [n_tensors] */
    mco_layer *layers;       /* [MCO_MAX_LAYERS] */
    layer_src *from;         /* [MCO_MAX_LAYERS] */
    int n_layers;
    int graph_in, graph_out; /* the subgraph's input and output tensors */
    int input_tensor;        /* the activation tensor the first layer reads (after an input QUANTIZE) */
    double norm_a, norm_b;   /* input MUL / ADD by constants folded: network input = a * raw + b */
    mco_tflite_model *out;
    int op;                  /* operator being mapped, for messages */
} importer;

/* ---- names and messages ---------------------------------------------------- */

static const struct {
    int code;
    const char *name;
} op_names[] = {
    {MCO_TFL_OP_ADD, "ADD"}, {MCO_TFL_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D"},
    {MCO_TFL_OP_CONCATENATION, "CONCATENATION"}, {MCO_TFL_OP_CONV_2D, "CONV_2D"},
    {MCO_TFL_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D"}, {MCO_TFL_OP_DEQUANTIZE, "DEQUANTIZE"},
    {MCO_TFL_OP_FULLY_CONNECTED, "FULLY_CONNECTED"}, {MCO_TFL_OP_LOGISTIC, "LOGISTIC"},
    {MCO_TFL_OP_MAX_POOL_2D, "MAX_POOL_2D"}, {MCO_TFL_OP_MUL, "MUL"}, {MCO_TFL_OP_RELU, "RELU"},
    {MCO_TFL_OP_RELU6, "RELU6"}, {MCO_TFL_OP_RESHAPE, "RESHAPE"}, {MCO_TFL_OP_SOFTMAX, "SOFTMAX"},
    {MCO_TFL_OP_PAD, "PAD"}, {MCO_TFL_OP_MEAN, "MEAN"}, {MCO_TFL_OP_SQUEEZE, "SQUEEZE"},
    {MCO_TFL_OP_STRIDED_SLICE, "STRIDED_SLICE"}, {MCO_TFL_OP_SHAPE, "SHAPE"}, {MCO_TFL_OP_PACK, "PACK"},
    {MCO_TFL_OP_QUANTIZE, "QUANTIZE"},
    /* others a user is likely to meet, so that the error names them */
    {5, "DEPTH_TO_SPACE"}, {8, "FLOOR"}, {11, "L2_NORMALIZATION"}, {12, "L2_POOL_2D"},
    {13, "LOCAL_RESPONSE_NORMALIZATION"}, {16, "LSTM"}, {20, "RELU_N1_TO_1"}, {23, "RESIZE_BILINEAR"},
    {28, "TANH"}, {36, "GATHER"}, {39, "TRANSPOSE"}, {41, "SUB"}, {42, "DIV"}, {44, "UNIDIRECTIONAL_SEQUENCE_LSTM"},
    {47, "EXP"}, {49, "SPLIT"}, {50, "LOG_SOFTMAX"}, {53, "CAST"}, {54, "PRELU"}, {55, "MAXIMUM"},
    {56, "ARG_MAX"}, {57, "MINIMUM"}, {60, "PADV2"}, {65, "SLICE"}, {67, "TRANSPOSE_CONV"}, {69, "TILE"},
    {70, "EXPAND_DIMS"}, {74, "SUM"}, {82, "REDUCE_MAX"}, {88, "UNPACK"}, {97, "RESIZE_NEAREST_NEIGHBOR"},
    {98, "LEAKY_RELU"}, {102, "SPLIT_V"}, {117, "HARD_SWISH"}, {127, "BATCH_MATMUL"},
};

const char *mco_tfl_op_name(int code)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].code == code) return op_names[i].name;
    return NULL;
}

/* "CONV_2D", "CUSTOM(name)" or "builtin 123". */
static const char *op_label(const importer *imp, int k, char *buf, size_t size)
{
    const mco_tfl_op *op = &imp->g->ops[k];
    const char *name = mco_tfl_op_name(op->code);
    if (op->code < 0) snprintf(buf, size, "CUSTOM %s", op->custom);
    else if (name) snprintf(buf, size, "%s", name);
    else snprintf(buf, size, "builtin operator %d", op->code);
    return buf;
}

/* One line: "<origin>: operator <k> (<NAME>): <why>". */
static mco_status op_error(const importer *imp, mco_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static mco_status op_error(const importer *imp, mco_status st, const char *fmt, ...)
{
    char why[320], label[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return mco_error(st, "%s: operator %d (%s): %s", imp->origin, imp->op, op_label(imp, imp->op, label, sizeof label),
                     why);
}

const char *mco_tflite_kind_name(mco_tflite_kind kind)
{
    switch (kind) {
    case MCO_TFLITE_FLOAT32: return "float32";
    case MCO_TFLITE_FLOAT16: return "float16 weights";
    case MCO_TFLITE_HYBRID: return "dynamic-range int8 weights";
    case MCO_TFLITE_INT8: return "full integer int8";
    }
    return "?";
}

const char *mco_tflite_io_name(mco_tflite_io io)
{
    return io == MCO_TFLITE_IO_INT8 ? "int8" : io == MCO_TFLITE_IO_UINT8 ? "uint8" : "float32";
}

int mco_tflite_is_tflite(const uint8_t *bytes, size_t size) { return mco_tfl_is_tflite(bytes, size); }

int mco_tflite_file_is_tflite(const char *path)
{
    uint8_t *bytes;
    size_t size;
    if (!path || mco_read_file(path, MCO_TFLITE_MAX_FILE_BYTES, &bytes, &size) != MCO_OK) {
        mco_clear_error();
        return 0;
    }
    int yes = mco_tfl_is_tflite(bytes, size);
    free(bytes);
    return yes;
}

/* ---- tensors --------------------------------------------------------------- */

static const mco_tfl_tensor *tensor(const importer *imp, int t) { return &imp->g->tensors[t]; }

/* The NHWC shape of an activation tensor: [1, H, W, C] or [1, N] / [N]. */
static mco_status act_shape(const importer *imp, int t, mco_shape *s)
{
    const mco_tfl_tensor *x = tensor(imp, t);
    if (x->ndim == 4 && x->dims[0] == 1) *s = (mco_shape){x->dims[1], x->dims[2], x->dims[3]};
    else if (x->ndim == 2 && x->dims[0] == 1) *s = (mco_shape){1, 1, x->dims[1]};
    else if (x->ndim == 1) *s = (mco_shape){1, 1, x->dims[0]};
    else {
        char dims[80] = "";
        for (int d = 0; d < x->ndim; d++)
            snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%d", d ? ", " : "", (int)x->dims[d]);
        return op_error(imp, MCO_ERR_UNSUPPORTED, "tensor %d (%s) has shape [%s]; only [1, H, W, C] and [1, N] "
                        "(batch 1) are supported", t, x->name, dims);
    }
    if (s->h <= 0 || s->w <= 0 || s->c <= 0 || s->h > MCO_MAX_DIM || s->w > MCO_MAX_DIM || s->c > MCO_MAX_DIM)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "tensor %d (%s) has an empty or too large dimension", t, x->name);
    return MCO_OK;
}

static int same_shape(mco_shape a, mco_shape b) { return a.h == b.h && a.w == b.w && a.c == b.c; }

static int per_tensor_q(const mco_tfl_tensor *x, mco_qparams *q)
{
    if (x->n_quant != 1) return 0;
    q->scale = x->scales[0];
    q->zero_point = (int32_t)x->zero_points[0];
    return 1;
}

static int equal_q(const mco_tfl_tensor *a, const mco_tfl_tensor *b)
{
    mco_qparams qa, qb;
    return per_tensor_q(a, &qa) && per_tensor_q(b, &qb) && qa.scale == qb.scale && qa.zero_point == qb.zero_point;
}

/* Checks an activation tensor's element type against the model's kind
 * (decided by the first operator that computes: int8 or float32). */
static mco_status check_act_type(importer *imp, int t)
{
    const mco_tfl_tensor *x = tensor(imp, t);
    if (imp->mode < 0) {
        if (x->type == MCO_TFL_INT8) imp->mode = 1;
        else if (x->type == MCO_TFL_FLOAT32) imp->mode = 0;
    }
    int want = imp->mode == 1 ? MCO_TFL_INT8 : MCO_TFL_FLOAT32;
    if (x->type != want)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "tensor %d (%s) is %s in a model whose activations are %s%s", t,
                        x->name, mco_tfl_type_name(x->type), mco_tfl_type_name(want),
                        x->type == MCO_TFL_INT16 ? " (int16 activations are not supported)" : "");
    if (imp->mode == 1) {
        mco_qparams q;
        if (!per_tensor_q(x, &q) || q.zero_point < -128 || q.zero_point > 127)
            return op_error(imp, MCO_ERR_UNSUPPORTED, "int8 tensor %d (%s) needs one scale and a zero point in "
                            "[-128, 127]", t, x->name);
    }
    return MCO_OK;
}

/* The layer producing activation tensor t (which must not be a pending PAD
 * unless `pad_ok`). */
static mco_status input_layer(importer *imp, int t, int pad_ok, int *layer)
{
    if (t < 0 || imp->src[t].layer == NO_SRC) {
        if (t >= 0 && mco_tfl_is_const(&imp->consts, t))
            return op_error(imp, MCO_ERR_UNSUPPORTED, "a constant input (tensor %d, %s) where mcuopt expects the "
                            "activations", t, tensor(imp, t)->name);
        return op_error(imp, MCO_ERR_FORMAT, "input tensor %d is not computed before it is read", t);
    }
    if (imp->src[t].before_norm)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "it reads the model input before the MUL / ADD that mcuopt "
                        "folds into the input normalisation");
    if (imp->src[t].padded && !pad_ok)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "a PAD before it cannot be folded (only a convolution takes "
                        "padding: a pool counts padded values differently)");
    mco_status st = check_act_type(imp, t);
    *layer = imp->src[t].layer;
    return st;
}

/* ---- layers ------------------------------------------------------------------ */

static mco_status add_layer(importer *imp, mco_layer_type type, int in_layer, int in_tensor, int out_tensor,
                            mco_layer **out)
{
    if (imp->n_layers >= MCO_MAX_LAYERS)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "the model needs more than %d layers", MCO_MAX_LAYERS);
    int index = imp->n_layers++;
    mco_layer *l = &imp->layers[index];
    memset(l, 0, sizeof *l);
    l->type = type;
    snprintf(l->name, sizeof l->name, "%s_%d", mco_layer_type_name(type), imp->op);
    l->n_inputs = 1;
    l->inputs[0] = in_layer;
    imp->from[index] = (layer_src){imp->op, in_tensor, out_tensor, -1, -1};
    if (out_tensor >= 0) {
        mco_status st = check_act_type(imp, out_tensor);
        if (st != MCO_OK) return st;
        imp->src[out_tensor].layer = index;
        imp->src[out_tensor].padded = 0;
    }
    if (out) *out = l;
    return MCO_OK;
}

/* A fused RELU / RELU6 after the layer just added. */
static mco_status add_activation(importer *imp, int activation, int out_tensor)
{
    if (activation == MCO_TFL_ACT_NONE) return MCO_OK;
    if (activation != MCO_TFL_ACT_RELU && activation != MCO_TFL_ACT_RELU6)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "fused activation %d is not supported (only RELU and RELU6)",
                        activation);
    int producer = imp->n_layers - 1;
    return add_layer(imp, activation == MCO_TFL_ACT_RELU ? MCO_LAYER_RELU : MCO_LAYER_RELU6, producer,
                     imp->from[producer].out_tensor, out_tensor, NULL);
}

/* TensorFlow "same" padding of one axis: (before, after). */
static void same_pads(int in, int kernel, int stride, int *before, int *after)
{
    int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + kernel - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - *before;
}

/* The padding of a conv / pool layer: the operator's own plus a folded PAD. */
static mco_status set_padding(importer *imp, mco_layer *l, const mco_tfl_op *op, int in_tensor, mco_shape padded_in)
{
    const tensor_src *s = &imp->src[in_tensor];
    if (op->padding != MCO_TFL_PAD_SAME && op->padding != MCO_TFL_PAD_VALID)
        return op_error(imp, MCO_ERR_FORMAT, "unknown padding %d", op->padding);
    l->padding = op->padding == MCO_TFL_PAD_SAME ? MCO_PADDING_SAME : MCO_PADDING_VALID;
    if (!s->padded) return MCO_OK;
    int top = s->pad[0], bottom = s->pad[1], left = s->pad[2], right = s->pad[3];
    int kh = mco_layer_window_extent(l, 0), kw = mco_layer_window_extent(l, 1);   /* dilated: the span */
    if (op->padding == MCO_TFL_PAD_SAME) {
        int b, a;
        same_pads(padded_in.h, kh, l->stride_h, &b, &a);
        top += b;
        bottom += a;
        same_pads(padded_in.w, kw, l->stride_w, &b, &a);
        left += b;
        right += a;
    }
    if (top >= kh || bottom >= kh || left >= kw || right >= kw)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "padding (%d, %d, %d, %d) as large as the %dx%d kernel is not "
                        "supported", top, bottom, left, right, kh, kw);
    l->padding = MCO_PADDING_EXPLICIT;
    l->pad_top = top;
    l->pad_bottom = bottom;
    l->pad_left = left;
    l->pad_right = right;
    return MCO_OK;
}

static mco_status check_strides(const importer *imp, int sh, int sw)
{
    if (sh < 1 || sw < 1 || sh > MCO_MAX_DIM || sw > MCO_MAX_DIM)
        return op_error(imp, MCO_ERR_FORMAT, "strides %dx%d", sh, sw);
    return MCO_OK;
}

/* The weight (and bias) tensors of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED. */
static mco_status weight_inputs(importer *imp, const mco_tfl_op *op, int *w, int *b)
{
    if (op->n_inputs < 2) return op_error(imp, MCO_ERR_FORMAT, "missing weights");
    *w = op->inputs[1];
    *b = op->n_inputs > 2 ? op->inputs[2] : -1;
    if (*w < 0 || !mco_tfl_is_const(&imp->consts, *w))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "weights computed at run time are not supported");
    if (*b >= 0 && !mco_tfl_is_const(&imp->consts, *b))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "a bias computed at run time is not supported");
    const mco_tfl_tensor *wt = tensor(imp, *w);
    if (imp->mode == 1 && wt->type != MCO_TFL_INT8)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "%s weights with int8 activations (only int8 weights)",
                        mco_tfl_type_name(wt->type));
    if (imp->mode == 0 && wt->type == MCO_TFL_INT8 && !imp->consts.floats[*w]) imp->hybrid = 1;
    if (imp->mode == 0 && wt->type != MCO_TFL_FLOAT32 && wt->type != MCO_TFL_INT8)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "%s weights with float activations are not supported",
                        mco_tfl_type_name(wt->type));
    if (imp->mode == 1 && *b >= 0 && tensor(imp, *b)->type != MCO_TFL_INT32)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "a %s bias with int8 activations (only int32)",
                        mco_tfl_type_name(tensor(imp, *b)->type));
    return MCO_OK;
}

static mco_status map_conv(importer *imp, const mco_tfl_op *op, int depthwise)
{
    int in_layer = MCO_INPUT, w = -1, b = -1;
    int x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 1, &in_layer);
    if (st == MCO_OK) st = weight_inputs(imp, op, &w, &b);
    if (st != MCO_OK) return st;
    const mco_tfl_tensor *wt = tensor(imp, w);
    mco_shape in, out;
    if ((st = act_shape(imp, x, &in)) != MCO_OK || (st = act_shape(imp, y, &out)) != MCO_OK) return st;
    if (wt->ndim != 4) return op_error(imp, MCO_ERR_FORMAT, "weights of %d dimensions (4 expected)", wt->ndim);
    /* dilation_h/w_factor: the general convolution (graph.h) */
    if (op->dilation_w < 1 || op->dilation_h < 1 || op->dilation_w > MCO_MAX_DIM || op->dilation_h > MCO_MAX_DIM)
        return op_error(imp, MCO_ERR_FORMAT, "dilation %dx%d", op->dilation_h, op->dilation_w);
    if ((st = check_strides(imp, op->stride_h, op->stride_w)) != MCO_OK) return st;
    mco_layer *l;
    int multiplier = 1;
    if (depthwise) {
        /* [1, kh, kw, C x depth multiplier]: output o reads channel o / multiplier */
        if (wt->dims[0] != 1 || wt->dims[3] < in.c || wt->dims[3] % in.c != 0)
            return op_error(imp, MCO_ERR_UNSUPPORTED, "depthwise weights [%d, %d, %d, %d] on %d channels (expected "
                            "[1, kh, kw, a multiple of the channels])", (int)wt->dims[0], (int)wt->dims[1],
                            (int)wt->dims[2], (int)wt->dims[3], in.c);
        multiplier = wt->dims[3] / in.c;
        if (op->depth_multiplier != 0 && op->depth_multiplier != multiplier)   /* as TFLite's own check */
            return op_error(imp, MCO_ERR_FORMAT, "depth_multiplier %d, but weights for %d per channel",
                            op->depth_multiplier, multiplier);
    } else if (wt->dims[3] != in.c) {
        return op_error(imp, MCO_ERR_UNSUPPORTED, "weights for %d input channels on %d (grouped convolutions are "
                        "not supported)", (int)wt->dims[3], in.c);
    }
    if ((st = add_layer(imp, depthwise ? MCO_LAYER_DEPTHWISE_CONV2D : MCO_LAYER_CONV2D, in_layer, x, y, &l)) != MCO_OK)
        return st;
    l->units = depthwise ? 0 : wt->dims[0];
    l->depth_multiplier = multiplier;
    l->dilation_h = op->dilation_h;
    l->dilation_w = op->dilation_w;
    l->kernel_h = wt->dims[1];
    l->kernel_w = wt->dims[2];
    l->stride_h = op->stride_h;
    l->stride_w = op->stride_w;
    imp->from[imp->n_layers - 1].weights = w;
    imp->from[imp->n_layers - 1].bias = b;
    if ((st = set_padding(imp, l, op, x, in)) != MCO_OK) return st;
    return add_activation(imp, op->activation, y);
}

static mco_status map_fully_connected(importer *imp, const mco_tfl_op *op)
{
    int in_layer = MCO_INPUT, w = -1, b = -1;
    int x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    if (st == MCO_OK) st = weight_inputs(imp, op, &w, &b);
    if (st != MCO_OK) return st;
    const mco_tfl_tensor *wt = tensor(imp, w);
    if (wt->ndim != 2) return op_error(imp, MCO_ERR_FORMAT, "weights of %d dimensions (2 expected)", wt->ndim);
    if (op->weights_format != 0)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "shuffled weights (format %d) are not supported", op->weights_format);
    size_t n_in = mco_tfl_count(imp->g, x);
    if (n_in != (size_t)wt->dims[1])
        return op_error(imp, MCO_ERR_UNSUPPORTED, "%zu inputs for weights [%d, %d] (a batch above 1 is not "
                        "supported)", n_in, (int)wt->dims[0], (int)wt->dims[1]);
    mco_shape in;
    if ((st = act_shape(imp, x, &in)) != MCO_OK) return st;
    if (in.h != 1 || in.w != 1) {   /* FULLY_CONNECTED flattens its input: a Flatten layer */
        if ((st = add_layer(imp, MCO_LAYER_FLATTEN, in_layer, x, -1, NULL)) != MCO_OK) return st;
        in_layer = imp->n_layers - 1;
        imp->from[in_layer].out_tensor = x;   /* same bytes, same quantization */
    }
    mco_layer *l;
    if ((st = add_layer(imp, MCO_LAYER_DENSE, in_layer, x, y, &l)) != MCO_OK) return st;
    l->units = wt->dims[0];
    imp->from[imp->n_layers - 1].weights = w;
    imp->from[imp->n_layers - 1].bias = b;
    return add_activation(imp, op->activation, y);
}

static mco_status map_pool(importer *imp, const mco_tfl_op *op, mco_layer_type type)
{
    int in_layer = MCO_INPUT, x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    if (st != MCO_OK) return st;
    if (op->filter_h < 1 || op->filter_w < 1 || op->filter_h > MCO_MAX_DIM || op->filter_w > MCO_MAX_DIM)
        return op_error(imp, MCO_ERR_FORMAT, "pool window %dx%d", op->filter_h, op->filter_w);
    if ((st = check_strides(imp, op->stride_h, op->stride_w)) != MCO_OK) return st;
    mco_layer *l;
    if ((st = add_layer(imp, type, in_layer, x, y, &l)) != MCO_OK) return st;
    l->kernel_h = op->filter_h;
    l->kernel_w = op->filter_w;
    l->stride_h = op->stride_h;
    l->stride_w = op->stride_w;
    mco_shape in;
    if ((st = act_shape(imp, x, &in)) != MCO_OK || (st = set_padding(imp, l, op, x, in)) != MCO_OK) return st;
    return add_activation(imp, op->activation, y);
}

/* MEAN over height and width of [1, H, W, C]: a global average pool. */
static mco_status map_mean(importer *imp, const mco_tfl_op *op)
{
    int in_layer = MCO_INPUT, x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    if (st != MCO_OK) return st;
    int64_t axes[8];
    size_t n = 0;
    if (op->n_inputs < 2 || op->inputs[1] < 0 || !mco_tfl_is_const(&imp->consts, op->inputs[1]) ||
        mco_tfl_const_ints(&imp->consts, op->inputs[1], axes, 8, &n) != MCO_OK)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "the axes must be constant integers");
    int h = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        if (axes[i] == 1 || axes[i] == -3) h++;
        else if (axes[i] == 2 || axes[i] == -2) w++;
        else h = 9;
    }
    if (tensor(imp, x)->ndim != 4 || h != 1 || w != 1)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "only the mean over height and width of [1, H, W, C] "
                        "(global average pooling) is supported");
    return add_layer(imp, MCO_LAYER_GLOBAL_AVGPOOL, in_layer, x, y, NULL);
}

static mco_status map_add(importer *imp, const mco_tfl_op *op)
{
    int a_layer = MCO_INPUT, b_layer = MCO_INPUT;
    if (op->n_inputs != 2) return op_error(imp, MCO_ERR_FORMAT, "%d inputs (2 expected)", op->n_inputs);
    int a = op->inputs[0], b = op->inputs[1], y = op->outputs[0];
    if (mco_tfl_is_const(&imp->consts, a) || mco_tfl_is_const(&imp->consts, b))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "adding a constant is not supported (only the sum of two "
                        "computed tensors, e.g. a residual connection, or a constant added to the float input, "
                        "folded into the input normalisation)");
    mco_status st = input_layer(imp, a, 0, &a_layer);
    if (st == MCO_OK) st = input_layer(imp, b, 0, &b_layer);
    mco_shape sa, sb;
    if (st == MCO_OK) st = act_shape(imp, a, &sa);
    if (st == MCO_OK) st = act_shape(imp, b, &sb);
    if (st != MCO_OK) return st;
    if (!same_shape(sa, sb))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "inputs of shapes %dx%dx%d and %dx%dx%d (broadcasting is not "
                        "supported)", sa.h, sa.w, sa.c, sb.h, sb.w, sb.c);
    mco_layer *l;
    if ((st = add_layer(imp, MCO_LAYER_ADD, a_layer, a, y, &l)) != MCO_OK) return st;
    l->n_inputs = 2;
    l->inputs[1] = b_layer;
    return add_activation(imp, op->activation, y);
}

/* RESHAPE / SQUEEZE: a flatten, or nothing when the NHWC shape stays. */
static mco_status map_reshape(importer *imp, const mco_tfl_op *op)
{
    int in_layer = MCO_INPUT, x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    mco_shape in, out;
    if (st == MCO_OK) st = act_shape(imp, x, &in);
    if (st == MCO_OK) st = act_shape(imp, y, &out);
    if (st != MCO_OK) return st;
    if (mco_shape_size(in) != mco_shape_size(out))
        return op_error(imp, MCO_ERR_FORMAT, "%zu values reshaped to %zu", mco_shape_size(in), mco_shape_size(out));
    if (op->code == MCO_TFL_OP_RESHAPE && op->n_inputs > 1 && op->inputs[1] >= 0 &&
        mco_tfl_is_const(&imp->consts, op->inputs[1])) {
        /* The shape input (often folded from SHAPE / STRIDED_SLICE / PACK) must agree with the output. */
        int64_t dims[8];
        size_t n;
        if ((st = mco_tfl_const_ints(&imp->consts, op->inputs[1], dims, 8, &n)) != MCO_OK) return st;
        int64_t known = 1;
        int unknown = 0;
        for (size_t i = 0; i < n; i++) {
            if (dims[i] == -1) unknown++;
            else known = dims[i] > 0 && known <= INT64_MAX / dims[i] ? known * dims[i] : 0;   /* 0: no fit */
        }
        size_t total = mco_shape_size(out);
        if (unknown > 1 || known <= 0 || (unknown ? total % (size_t)known != 0 : (size_t)known != total))
            return op_error(imp, MCO_ERR_FORMAT, "the shape input does not fit the output tensor's shape");
    }
    if (imp->mode == 1 && !equal_q(tensor(imp, x), tensor(imp, y)))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "input and output quantization differ");
    if (same_shape(in, out)) {
        imp->src[y] = imp->src[x];
        return MCO_OK;
    }
    if (out.h != 1 || out.w != 1)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "a reshape to %dx%dx%d from %dx%dx%d is not supported (only "
                        "flattening)", out.h, out.w, out.c, in.h, in.w, in.c);
    return add_layer(imp, MCO_LAYER_FLATTEN, in_layer, x, y, NULL);
}

static mco_status map_simple(importer *imp, const mco_tfl_op *op, mco_layer_type type)
{
    int in_layer = MCO_INPUT, x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    if (st != MCO_OK) return st;
    if (type == MCO_LAYER_SOFTMAX && op->beta != 1.0f)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "beta %g is not supported (only 1)", (double)op->beta);
    /* Softmax and sigmoid have an output quantization of their own (int8: a
     * 256-entry table from the input's to the output's for the sigmoid). */
    int own_q = type == MCO_LAYER_SOFTMAX || mco_layer_is_activation(type);
    if (imp->mode == 1 && !own_q && !equal_q(tensor(imp, x), tensor(imp, y)))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "input and output quantization differ (a requantizing %s is not "
                        "supported)", mco_layer_type_name(type));
    return add_layer(imp, type, in_layer, x, y, NULL);
}

/* PAD with constant paddings [[0, 0], [top, bottom], [left, right], [0, 0]]. */
static mco_status map_pad(importer *imp, const mco_tfl_op *op)
{
    int in_layer = MCO_INPUT, x = op->inputs[0], y = op->outputs[0];
    mco_status st = input_layer(imp, x, 0, &in_layer);
    if (st != MCO_OK) return st;
    int64_t p[8];
    size_t n = 0;
    if (op->n_inputs < 2 || op->inputs[1] < 0 || !mco_tfl_is_const(&imp->consts, op->inputs[1]) ||
        mco_tfl_const_ints(&imp->consts, op->inputs[1], p, 8, &n) != MCO_OK || n != 8 || tensor(imp, x)->ndim != 4)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "only constant paddings of a [1, H, W, C] tensor are supported");
    if (p[0] || p[1] || p[6] || p[7])
        return op_error(imp, MCO_ERR_UNSUPPORTED, "padding the batch or channel dimension is not supported");
    for (int i = 2; i < 6; i++)
        if (p[i] < 0 || p[i] > MCO_MAX_DIM) return op_error(imp, MCO_ERR_FORMAT, "padding %lld", (long long)p[i]);
    if (imp->mode == 1 && !equal_q(tensor(imp, x), tensor(imp, y)))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "input and output quantization differ");
    tensor_src *s = &imp->src[y];
    s->layer = in_layer;
    s->padded = 1;
    s->pad[0] = (int)p[2];
    s->pad[1] = (int)p[3];
    s->pad[2] = (int)p[4];
    s->pad[3] = (int)p[5];
    return MCO_OK;
}

/* QUANTIZE at the model's input (uint8 or float32 to int8) or output (int8
 * to uint8 / int8 with the same scale). A uint8 -> int8 one must keep the
 * scale, so that it is an exact shift of the zero point. */
static mco_status map_quantize(importer *imp, const mco_tfl_op *op)
{
    int x = op->inputs[0], y = op->outputs[0];
    const mco_tfl_tensor *tx = tensor(imp, x), *ty = tensor(imp, y);
    mco_qparams qx = {0, 0}, qy;
    if (!per_tensor_q(ty, &qy) || (tx->type != MCO_TFL_FLOAT32 && !per_tensor_q(tx, &qx)))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "only per-tensor quantization is supported");
    if (x == imp->input_tensor && imp->src[x].layer == MCO_INPUT && imp->n_layers == 0 && ty->type == MCO_TFL_INT8) {
        if (tx->type == MCO_TFL_UINT8 && qx.scale != qy.scale)
            return op_error(imp, MCO_ERR_UNSUPPORTED, "the input QUANTIZE changes the scale (%g to %g); only a "
                            "change of zero point is supported", (double)qx.scale, (double)qy.scale);
        if (tx->type != MCO_TFL_UINT8 && tx->type != MCO_TFL_FLOAT32)
            return op_error(imp, MCO_ERR_UNSUPPORTED, "a %s model input", mco_tfl_type_name(tx->type));
        imp->src[y].layer = MCO_INPUT;
        imp->input_tensor = y;
        return MCO_OK;
    }
    if (y == imp->graph_out && tx->type == MCO_TFL_INT8 &&
        (ty->type == MCO_TFL_UINT8 || ty->type == MCO_TFL_INT8) && qx.scale == qy.scale) {
        int layer = MCO_INPUT;
        mco_status st = input_layer(imp, x, 0, &layer);
        if (st != MCO_OK) return st;
        imp->src[y] = imp->src[x];
        imp->out->output_type = ty->type == MCO_TFL_UINT8 ? MCO_TFLITE_IO_UINT8 : MCO_TFLITE_IO_INT8;
        imp->out->output_q = qy;
        return MCO_OK;
    }
    return op_error(imp, MCO_ERR_UNSUPPORTED, "only a QUANTIZE of the model input to int8, or of the output to "
                    "uint8 with the same scale, is supported (a requantization inside the model is not)");
}

/* DEQUANTIZE of the model's int8 output (constants are folded before). */
static mco_status map_dequantize(importer *imp, const mco_tfl_op *op)
{
    int x = op->inputs[0], y = op->outputs[0], layer = MCO_INPUT;
    if (y != imp->graph_out || tensor(imp, x)->type != MCO_TFL_INT8)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "only a DEQUANTIZE of constants or of the model's int8 output is "
                        "supported");
    mco_status st = input_layer(imp, x, 0, &layer);
    if (st != MCO_OK) return st;
    imp->src[y] = imp->src[x];
    imp->out->output_type = MCO_TFLITE_IO_FLOAT32;
    imp->out->output_q = (mco_qparams){0.0f, 0};
    return MCO_OK;
}

/* A float model's input scaled or shifted by a constant before any layer
 * (Keras' Rescaling layer: MUL, then ADD): folded into the model's input
 * normalisation, network input = a * raw + b, so that eval, search and
 * emitted code feed raw values as the TFLite model takes them. *handled
 * is 0 when the operator is not such a prefix (it is then mapped, or
 * refused, as any other). */
static mco_status fold_input_affine(importer *imp, const mco_tfl_op *op, int *handled)
{
    *handled = 0;
    if ((op->code != MCO_TFL_OP_MUL && op->code != MCO_TFL_OP_ADD) || op->n_inputs != 2 || imp->n_layers > 0)
        return MCO_OK;
    int in = imp->input_tensor, y = op->outputs[0];
    int k = op->inputs[0] == in ? 1 : op->inputs[1] == in ? 0 : -1;
    if (k < 0 || imp->src[in].layer != MCO_INPUT || imp->src[in].padded || tensor(imp, in)->type != MCO_TFL_FLOAT32)
        return MCO_OK;
    int c = op->inputs[k];
    if (c < 0 || !mco_tfl_is_const(&imp->consts, c) || mco_tfl_count(imp->g, c) != 1) return MCO_OK;
    *handled = 1;
    float v;
    mco_shape s_in, s_out;
    mco_status st = mco_tfl_const_floats(&imp->consts, c, &v, 1);
    if (st == MCO_OK) st = act_shape(imp, in, &s_in);
    if (st == MCO_OK) st = act_shape(imp, y, &s_out);
    if (st != MCO_OK) return st;
    if (tensor(imp, y)->type != MCO_TFL_FLOAT32 || !same_shape(s_in, s_out))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "the output is not the float input's shape and type");
    if (op->activation != MCO_TFL_ACT_NONE)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "a fused activation on the input scaling is not supported");
    double a = op->code == MCO_TFL_OP_MUL ? imp->norm_a * (double)v : imp->norm_a;
    double b = op->code == MCO_TFL_OP_MUL ? imp->norm_b * (double)v : imp->norm_b + (double)v;
    if (!isfinite(a) || !isfinite(b) || a == 0.0 || fabs(a) > 1e30 || fabs(b) > 1e30)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "the input normalisation it makes (x * %g + %g) is degenerate", a, b);
    imp->norm_a = a;
    imp->norm_b = b;
    imp->out->norm_ops++;
    imp->src[in].before_norm = 1;
    imp->src[y].layer = MCO_INPUT;
    imp->input_tensor = y;
    return MCO_OK;
}

static mco_status map_op(importer *imp, int k)
{
    const mco_tfl_op *op = &imp->g->ops[k];
    imp->op = k;
    int folded = 0;
    mco_status st = mco_tfl_fold(&imp->consts, k, &folded);
    if (st != MCO_OK || folded) {
        if (folded && op->code == MCO_TFL_OP_DEQUANTIZE && tensor(imp, op->inputs[0])->type == MCO_TFL_FLOAT16)
            imp->float16 = 1;
        return st;
    }
    if (op->n_outputs != 1 || op->n_inputs < 1 || op->inputs[0] < 0)
        return op_error(imp, MCO_ERR_UNSUPPORTED, "%d inputs and %d outputs are not supported", op->n_inputs,
                        op->n_outputs);
    int handled = 0;
    if ((st = fold_input_affine(imp, op, &handled)) != MCO_OK || handled) return st;
    switch (op->code) {
    case MCO_TFL_OP_CONV_2D: return map_conv(imp, op, 0);
    case MCO_TFL_OP_DEPTHWISE_CONV_2D: return map_conv(imp, op, 1);
    case MCO_TFL_OP_FULLY_CONNECTED: return map_fully_connected(imp, op);
    case MCO_TFL_OP_MAX_POOL_2D: return map_pool(imp, op, MCO_LAYER_MAXPOOL2D);
    case MCO_TFL_OP_AVERAGE_POOL_2D: return map_pool(imp, op, MCO_LAYER_AVGPOOL2D);
    case MCO_TFL_OP_MEAN: return map_mean(imp, op);
    case MCO_TFL_OP_ADD: return map_add(imp, op);
    case MCO_TFL_OP_RESHAPE:
    case MCO_TFL_OP_SQUEEZE: return map_reshape(imp, op);
    case MCO_TFL_OP_SOFTMAX: return map_simple(imp, op, MCO_LAYER_SOFTMAX);
    case MCO_TFL_OP_RELU: return map_simple(imp, op, MCO_LAYER_RELU);
    case MCO_TFL_OP_RELU6: return map_simple(imp, op, MCO_LAYER_RELU6);
    case MCO_TFL_OP_PAD: return map_pad(imp, op);
    case MCO_TFL_OP_QUANTIZE: return map_quantize(imp, op);
    case MCO_TFL_OP_DEQUANTIZE: return map_dequantize(imp, op);
    case MCO_TFL_OP_LOGISTIC: return map_simple(imp, op, MCO_LAYER_SIGMOID);
    case MCO_TFL_OP_MUL:
        return op_error(imp, MCO_ERR_UNSUPPORTED, "mcuopt has no element-wise multiplication layer (only a float "
                        "input scaled by a constant, folded into the input normalisation)");
    case MCO_TFL_OP_CONCATENATION:
        return op_error(imp, MCO_ERR_UNSUPPORTED, "mcuopt has no concatenation layer yet (only constants are "
                        "concatenated, when folding)");
    default:
        return op_error(imp, MCO_ERR_UNSUPPORTED, "not supported");
    }
}

/* ---- the model ------------------------------------------------------------------ */

/* Each layer's inferred output shape must be its tensor's TFLite shape. */
static mco_status check_shapes(importer *imp, const mco_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        int t = imp->from[i].out_tensor;
        mco_shape want;
        imp->op = imp->from[i].op;
        if (t < 0) continue;
        mco_status st = act_shape(imp, t, &want);
        if (st != MCO_OK) return st;
        mco_shape got = m->layers[i].out_shape;
        int flat = m->layers[i].type == MCO_LAYER_FLATTEN;
        if (flat ? mco_shape_size(got) != mco_shape_size(want) : !same_shape(got, want))
            return op_error(imp, MCO_ERR_SHAPE, "mcuopt computes an output of %dx%dx%d, the file says %dx%dx%d "
                            "(tensor %d)", got.h, got.w, got.c, want.h, want.w, want.c, t);
    }
    return MCO_OK;
}

/* Float parameters: weights (file layout = mcuopt's: OHWI, 1HWC, [units][in])
 * and bias; int32 biases of int8 models in real units. */
static mco_status fill_params(importer *imp, mco_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        const layer_src *f = &imp->from[i];
        if (!mco_deploy_is_weighted(l)) continue;
        imp->op = f->op;
        mco_param *w = &l->params[MCO_PARAM_WEIGHTS], *b = &l->params[MCO_PARAM_BIAS];
        mco_status st = mco_tfl_const_floats(&imp->consts, f->weights, w->data, w->size);
        if (st != MCO_OK) return st;
        if (f->bias < 0) continue;   /* zeros */
        const mco_tfl_tensor *bt = tensor(imp, f->bias);
        if (mco_tfl_count(imp->g, f->bias) != b->size)
            return op_error(imp, MCO_ERR_SHAPE, "%zu bias values for %zu channels", mco_tfl_count(imp->g, f->bias),
                            b->size);
        if (bt->type == MCO_TFL_INT32) {
            const mco_tfl_tensor *x = tensor(imp, f->in_tensor), *wt = tensor(imp, f->weights);
            if (!bt->data)   /* an int32 bias computed by other operators: not folded here */
                return op_error(imp, MCO_ERR_UNSUPPORTED, "its int32 bias is not stored in the file");
            if (x->n_quant < 1 || wt->n_quant < 1 || (wt->n_quant > 1 && (size_t)wt->n_quant != b->size))
                return op_error(imp, MCO_ERR_FORMAT, "an int32 bias needs a quantized input and weights (scales)");
            for (size_t c = 0; c < b->size; c++) {
                int32_t q;
                memcpy(&q, bt->data + 4 * c, 4);
                float ws = wt->scales[wt->n_quant > 1 ? c : 0];
                /* a value past float's range becomes an infinity (refused below,
                 * naming the layer), never an out-of-range conversion (UB) */
                double v = (double)q * (double)x->scales[0] * (double)ws;
                b->data[c] = v > FLT_MAX ? INFINITY : v < -FLT_MAX ? -INFINITY : (float)v;
            }
        } else if ((st = mco_tfl_const_floats(&imp->consts, f->bias, b->data, b->size)) != MCO_OK) {
            return st;
        }
    }
    return MCO_OK;
}

static mco_status build_model(importer *imp, mco_model *m)
{
    mco_shape in;
    imp->op = 0;
    mco_status st = act_shape(imp, imp->input_tensor, &in);
    if (st != MCO_OK) return st;
    mco_model_init(m, in);
    snprintf(m->arch_name, sizeof m->arch_name, "tflite");
    for (int i = 0; st == MCO_OK && i < imp->n_layers; i++) st = mco_model_add_layer(m, &imp->layers[i], NULL);
    if (st == MCO_OK) st = mco_model_infer_shapes(m);
    if (st == MCO_OK) st = check_shapes(imp, m);
    if (st == MCO_OK) st = mco_model_alloc_params(m);
    if (st == MCO_OK) st = fill_params(imp, m);
    return st;
}

/* ---- int8: the deploy model ------------------------------------------------------ */

static mco_status int_array(importer *imp, void **p, size_t n, size_t size)
{
    *p = calloc(n ? n : 1, size);
    return *p ? MCO_OK : op_error(imp, MCO_ERR_NOMEM, "out of memory");
}

/* Weights, scales, biases, multipliers and shifts of weighted layer i: the
 * file's tensors checked here, the rest shared with the ONNX QDQ importer
 * (mco_deploy_int8_weighted). */
static mco_status deploy_weighted(importer *imp, mco_deploy_model *dm, int i)
{
    const mco_layer *l = &dm->model.layers[i];
    const layer_src *f = &imp->from[i];
    const mco_tfl_tensor *wt = tensor(imp, f->weights);
    int channels = dm->layers[i].n_channels;
    int channel_dim = l->type == MCO_LAYER_DEPTHWISE_CONV2D ? 3 : 0;
    if (wt->n_quant != 1 && !(wt->n_quant == channels && wt->quant_dim == channel_dim))
        return op_error(imp, MCO_ERR_UNSUPPORTED, "%d weight scales along dimension %d for %d output channels",
                        wt->n_quant, wt->quant_dim, channels);
    for (int q = 0; q < wt->n_quant; q++)
        if (wt->zero_points[q] != 0)
            return op_error(imp, MCO_ERR_UNSUPPORTED, "weight zero point %lld (int8 weights must be symmetric)",
                            (long long)wt->zero_points[q]);
    mco_int8_weights w = {(const int8_t *)wt->data, wt->scales, wt->n_quant,
                          f->bias >= 0 ? (const int32_t *)(const void *)tensor(imp, f->bias)->data : NULL, 1};
    int32_t *bias = NULL;
    if (w.bias) {   /* the file's bytes may not be aligned for int32 */
        if (int_array(imp, (void **)&bias, (size_t)channels, sizeof *bias) != MCO_OK) return MCO_ERR_NOMEM;
        memcpy(bias, tensor(imp, f->bias)->data, (size_t)channels * sizeof *bias);
        w.bias = bias;
    }
    mco_status st = mco_deploy_int8_weighted(dm, i, &w);
    free(bias);
    if (st != MCO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", mco_last_error());
        return op_error(imp, st, "%s", why);
    }
    return MCO_OK;
}

static mco_status build_deploy(importer *imp, mco_model *m, mco_deploy_model *dm)
{
    mco_status st = mco_deploy_init_from_folded(dm, m);   /* takes m */
    if (st != MCO_OK) return st;
    dm->activation_format = MCO_ACT_S8;
    per_tensor_q(tensor(imp, imp->input_tensor), &dm->input);
    for (int i = 0; st == MCO_OK && i < dm->model.n_layers; i++) {
        const mco_layer *l = &dm->model.layers[i];
        const layer_src *f = &imp->from[i];
        mco_deploy_layer *d = &dm->layers[i];
        imp->op = f->op;
        per_tensor_q(tensor(imp, f->out_tensor), &d->output);
        if (mco_deploy_is_weighted(l)) {
            st = deploy_weighted(imp, dm, i);
        } else if (l->type == MCO_LAYER_GLOBAL_AVGPOOL) {
            /* TFLite's MEAN: one requantization, input scale / output scale. */
            if ((st = int_array(imp, (void **)&d->multiplier, 1, sizeof *d->multiplier)) == MCO_OK &&
                (st = int_array(imp, (void **)&d->shift, 1, sizeof *d->shift)) == MCO_OK) {
                double real = (double)tensor(imp, f->in_tensor)->scales[0] / (double)d->output.scale;
                if ((st = mco_quantize_multiplier(real, d->multiplier, d->shift)) != MCO_OK)
                    st = op_error(imp, st, "%s", mco_last_error());
            }
        }
    }
    /* softmax output quantization, pools that keep theirs: checked once all are set */
    for (int i = 0; st == MCO_OK && i < dm->model.n_layers; i++) {
        imp->op = imp->from[i].op;
        if (mco_deploy_int8_check_layer(dm, i) != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            st = op_error(imp, MCO_ERR_UNSUPPORTED, "%s", why);
        }
    }
    return st;
}

/* ---- entry points ------------------------------------------------------------------ */

/* The subgraph's input: [1, H, W, C] or [1, N] float32, uint8 or int8. */
static mco_status read_io(importer *imp)
{
    const mco_tfl_graph *g = imp->g;
    if (g->n_inputs != 1 || g->n_outputs != 1)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: %d inputs and %d outputs; only one of each is supported",
                         imp->origin, g->n_inputs, g->n_outputs);
    imp->graph_in = g->inputs[0];
    imp->graph_out = g->outputs[0];
    imp->input_tensor = imp->graph_in;
    imp->src[imp->graph_in].layer = MCO_INPUT;
    const mco_tfl_tensor *in = tensor(imp, imp->graph_in), *out = tensor(imp, imp->graph_out);
    mco_tflite_model *r = imp->out;
    mco_tflite_io *types[2] = {&r->input_type, &r->output_type};
    mco_qparams *qs[2] = {&r->input_q, &r->output_q};
    const mco_tfl_tensor *ts[2] = {in, out};
    for (int i = 0; i < 2; i++) {
        if (ts[i]->type == MCO_TFL_FLOAT32) *types[i] = MCO_TFLITE_IO_FLOAT32;
        else if (ts[i]->type == MCO_TFL_INT8) *types[i] = MCO_TFLITE_IO_INT8;
        else if (ts[i]->type == MCO_TFL_UINT8) *types[i] = MCO_TFLITE_IO_UINT8;
        else
            return mco_error(MCO_ERR_UNSUPPORTED, "%s: the model %s is %s (float32, int8 or uint8 are supported)",
                             imp->origin, i ? "output" : "input", mco_tfl_type_name(ts[i]->type));
        if (*types[i] != MCO_TFLITE_IO_FLOAT32 && !per_tensor_q(ts[i], qs[i]))
            return mco_error(MCO_ERR_UNSUPPORTED, "%s: the model %s needs one scale and zero point", imp->origin,
                             i ? "output" : "input");
    }
    return MCO_OK;
}

/* real = scale * (raw - zero point of the raw value): raw uint8 is the uint8
 * input itself, or the int8 input + 128. */
static void model_normalization(const importer *imp, const mco_tflite_model *r, mco_normalization *norm)
{
    if (r->input_type == MCO_TFLITE_IO_FLOAT32) {   /* raw values, or a * raw + b with folded MUL / ADD */
        *norm = (mco_normalization){(float)imp->norm_a, (float)-imp->norm_b, 1.0f};
        return;
    }
    double raw_zero = (double)r->input_q.zero_point + (r->input_type == MCO_TFLITE_IO_INT8 ? 128.0 : 0.0);
    *norm = (mco_normalization){r->input_q.scale, (float)((double)r->input_q.scale * raw_zero), 1.0f};
}

static mco_status import(importer *imp)
{
    mco_status st = read_io(imp);
    for (int k = 0; st == MCO_OK && k < imp->g->n_ops; k++) st = map_op(imp, k);
    if (st != MCO_OK) return st;
    if (imp->n_layers == 0) return mco_error(MCO_ERR_UNSUPPORTED, "%s: the model computes nothing mcuopt maps", imp->origin);
    int last = imp->src[imp->graph_out].layer;
    if (last != imp->n_layers - 1 || imp->src[imp->graph_out].padded)
        return mco_error(MCO_ERR_UNSUPPORTED, "%s: the model output (tensor %d) is not the result of its last "
                         "operator", imp->origin, imp->graph_out);
    mco_tflite_model *r = imp->out;
    if (imp->mode == 1 && r->output_type == MCO_TFLITE_IO_INT8) per_tensor_q(tensor(imp, imp->graph_out), &r->output_q);
    if (imp->mode == 1 && tensor(imp, imp->input_tensor)->type != MCO_TFL_INT8)
        return mco_error(MCO_ERR_FORMAT, "%s: int8 operators read the float input without a QUANTIZE", imp->origin);
    mco_model m;
    memset(&m, 0, sizeof m);
    if ((st = build_model(imp, &m)) != MCO_OK) {
        mco_model_free(&m);
        return st;
    }
    /* Constants are checked as they are read (mco_tfl_const_floats); what
     * is computed from finite ones can still overflow (an int32 bias in real
     * units, bias x input scale x weight scale). A NaN or infinity in the
     * model is refused here, naming the layer, as ONNX import does, rather
     * than when the model is saved or emitted. */
    if ((st = mco_model_check_finite(&m)) != MCO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", mco_last_error());
        mco_model_free(&m);
        return mco_error(st, "%s: %s", imp->origin, why);
    }
    model_normalization(imp, r, &m.norm);
    r->n_ops = imp->g->n_ops;
    if (imp->mode == 1) {
        r->kind = MCO_TFLITE_INT8;
        /* What the .mcq loader proves (e.g. no int32 accumulator overflows:
         * a bias near the int32 limits), checked before anything is written. */
        if ((st = build_deploy(imp, &m, &r->deploy)) == MCO_OK && (st = mco_deploy_check(&r->deploy)) != MCO_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", mco_last_error());
            return mco_error(st, "%s: %s", imp->origin, why);
        }
        return st;
    }
    r->kind = imp->hybrid ? MCO_TFLITE_HYBRID : imp->float16 ? MCO_TFLITE_FLOAT16 : MCO_TFLITE_FLOAT32;
    r->model = m;
    return MCO_OK;
}

mco_status mco_tflite_import_bytes(const uint8_t *bytes, size_t size, const char *origin, mco_tflite_model *out)
{
    if (!out) return mco_error(MCO_ERR_ARG, "tflite import: NULL output");
    memset(out, 0, sizeof *out);
    if (!origin) origin = "model";
    mco_tfl_graph g;
    mco_status st = mco_tfl_read(bytes, size, origin, &g);
    if (st != MCO_OK) return st;
    importer imp;
    memset(&imp, 0, sizeof imp);
    imp.g = &g;
    imp.origin = origin;
    imp.mode = -1;
    imp.norm_a = 1.0;
    imp.out = out;
    imp.src = malloc((size_t)(g.n_tensors > 0 ? g.n_tensors : 1) * sizeof *imp.src);
    imp.layers = malloc(MCO_MAX_LAYERS * sizeof *imp.layers);
    imp.from = malloc(MCO_MAX_LAYERS * sizeof *imp.from);
    if (!imp.src || !imp.layers || !imp.from) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory", origin);
    for (int t = 0; imp.src && t < g.n_tensors; t++) imp.src[t] = (tensor_src){NO_SRC, 0, 0, {0, 0, 0, 0}};
    if (st == MCO_OK) st = mco_tfl_consts_init(&imp.consts, &g, origin);
    if (st == MCO_OK) {
        st = import(&imp);
        mco_tfl_consts_free(&imp.consts);
    }
    free(imp.src);
    free(imp.layers);
    free(imp.from);
    mco_tfl_graph_free(&g);
    if (st != MCO_OK) mco_tflite_free(out);
    return st;
}

mco_status mco_tflite_import(const char *path, mco_tflite_model *out)
{
    uint8_t *bytes;
    size_t size;
    if (!out) return mco_error(MCO_ERR_ARG, "tflite import: NULL output");
    memset(out, 0, sizeof *out);
    mco_status st = mco_read_file(path, MCO_TFLITE_MAX_FILE_BYTES, &bytes, &size);
    if (st == MCO_ERR_RANGE) return MCO_ERR_FORMAT;   /* the message names the path and the cap */
    if (st != MCO_OK) return st;
    st = mco_tflite_import_bytes(bytes, size, path, out);
    free(bytes);
    return st;
}

void mco_tflite_free(mco_tflite_model *m)
{
    if (!m) return;
    if (m->kind == MCO_TFLITE_INT8) mco_deploy_free(&m->deploy);
    else mco_model_free(&m->model);
    memset(m, 0, sizeof *m);
}
