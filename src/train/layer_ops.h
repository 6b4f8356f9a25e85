/*
 * layer_ops.h - float forward and backward kernels of every layer type
 * (internal to src/train/), batched NHWC, and the table that dispatches them.
 *
 * A kernel gets one mco_layer_ctx describing a batch of `batch` samples:
 * the input tensor(s), the output tensor, and in backward the gradient of
 * the output. Backward ADDS into the input gradients (a tensor read by two
 * layers receives both contributions) and into the parameter gradients;
 * the caller zeroes them first. A NULL input gradient means nobody needs
 * it (e.g. the model input) and the kernel skips that work.
 *
 * Per-thread state that backward needs from forward (BatchNorm
 * normalised values, the dropout mask, transposed conv weights) lives in
 * `scratch`, sized by the op's scratch_bytes().
 *
 * What it leaves out: the loss (train.c) and the optimizer (optimizer.c).
 */
#ifndef MCO_TRAIN_LAYER_OPS_H
#define MCO_TRAIN_LAYER_OPS_H

#include <stddef.h>

#include "mcuopt/rng.h"
#include "mcuopt/graph.h"

typedef struct {
    const mco_layer *layer;
    int batch;                          /* samples in this call */
    int training;                       /* 1: BN batch statistics, dropout active */
    const float *in[2];                 /* inputs (in[1] only for Add and Concat) */
    float *out;                         /* forward writes it; backward reads it */
    const float *grad_out;              /* backward: dLoss/dout */
    float *grad_in[2];                  /* backward: += dLoss/din, NULL = not needed */
    float *param_grad[MCO_MAX_PARAMS];  /* backward: += dLoss/dparam */
    void *scratch;                      /* scratch_bytes(layer, batch) bytes, 64-aligned */
    mco_rng *rng;                       /* dropout masks */
    int overwrite_grad_in;              /* backward: grad_in[0] holds no other layer's
                                         * contribution and was not cleared; kernels whose
                                         * ops say overwrites_grad write it instead of adding */
    int fused_relu;                     /* MaxPool only: in[0] and grad_in[0] are the input of
                                         * the ReLU before it, which is skipped: the pool
                                         * applies it (forward and backward) */
} mco_layer_ctx;

typedef struct {
    /* Bytes of per-thread scratch for `batch` samples; NULL means none. */
    size_t (*scratch_bytes)(const mco_layer *layer, int batch);
    void (*forward)(const mco_layer_ctx *ctx);
    /* NULL for layers with nothing to propagate (Flatten). */
    void (*backward)(const mco_layer_ctx *ctx);
    /* 1 if the output is the input's memory (Flatten): no buffer of its own. */
    int aliases_input;
    /* 1 if backward honours ctx->overwrite_grad_in (saves clearing that gradient). */
    int overwrites_grad;
} mco_layer_ops;

/* The ops of a layer type (types are checked by mco_model_infer_shapes). */
const mco_layer_ops *mco_layer_ops_get(mco_layer_type type);

/* Whether parameter `p` of `layer` is trained (BN moving statistics are not)
 * and whether it takes L2 weight decay (conv and dense weights only). */
int mco_param_is_trainable(const mco_layer *layer, int p);
int mco_param_takes_decay(const mco_layer *layer, int p);

/* BatchNorm in training mode leaves the statistics of its last forward at the
 * start of its scratch: mean[c] then (biased) variance[c]. */
const float *mco_batchnorm_batch_mean(const mco_layer *layer, const void *scratch);
const float *mco_batchnorm_batch_var(const mco_layer *layer, const void *scratch);

/* The per-type ops tables, defined in the layer_*.c files. */
extern const mco_layer_ops mco_conv2d_ops, mco_depthwise_conv2d_ops, mco_dense_ops;
extern const mco_layer_ops mco_maxpool2d_ops, mco_avgpool2d_ops, mco_global_avgpool_ops;
extern const mco_layer_ops mco_relu_ops, mco_relu6_ops, mco_softmax_ops, mco_activation_ops;
extern const mco_layer_ops mco_batchnorm_ops, mco_add_ops, mco_flatten_ops, mco_dropout_ops, mco_concat_ops;
extern const mco_layer_ops mco_conv_transpose2d_ops;

/* The general convolution (mco_layer_is_general_conv: dilation, groups, a
 * depth multiplier), reference loops (layer_conv_general.c); the conv and
 * depthwise ops send such layers there. */
void mco_conv_general_forward(const mco_layer_ctx *ctx);
void mco_conv_general_backward(const mco_layer_ctx *ctx);

/* The geometry of a sliding-window layer (conv, depthwise, pooling). */
typedef struct {
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_top, pad_left;   /* padding before the data (mco_layer_pad_before); the padding
                              * after is implied by the output size */
} mco_train_window;

void mco_train_window_init(const mco_layer *layer, mco_train_window *win);

/* Scratch layout helper: rounds a byte count up to a multiple of 64. */
static inline size_t mco_align64(size_t bytes)
{
    return (bytes + 63) & ~(size_t)63;
}

#endif
