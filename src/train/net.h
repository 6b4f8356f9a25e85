/*
 * net.h - one thread's working memory for running a model forward and
 * backward on up to `max_batch` samples (internal to src/train/).
 *
 * All buffers (input, every layer's output and output gradient, kernel
 * scratch, parameter gradients) are carved from one 64-byte-aligned block
 * allocated once, so training does no per-batch allocation and two threads'
 * workspaces never share a cache line.
 *
 * A tensor gets a gradient buffer only if some parameter upstream of it (or
 * the model input, with MCO_NET_INPUT_GRAD) needs a gradient; kernels are
 * handed NULL for the others and skip that work. Flatten's output and
 * gradient are its input's memory.
 *
 * Parameter gradients are one flat array in "model order": layer 0 params
 * 0..n_params-1, then layer 1, ... (BN moving statistics included, always 0),
 * the order mco_model_param_floats() counts and the optimizer follows.
 *
 * Conv2D, DepthwiseConv2D and Dense run on their fast path (fast_layer.h,
 * oneDNN) unless MCO_NET_REFERENCE is given or oneDNN cannot run the layer;
 * every other layer, and those in that case, run mcuopt's own kernels.
 * So does BatchNorm in training. When a ReLU is the only reader of one of
 * these layers (and there is no fake quantization), the layer's fast path
 * applies the ReLU and writes the ReLU's output, whose own forward is
 * skipped, and the layer's own output buffer is left unused; a BatchNorm's
 * fast path also takes the gradient through the ReLU. A ReLU whose only
 * reader is a max pool right after it (and that does not follow a
 * BatchNorm) runs inside that pool instead, forward and backward (the two
 * commute; layer_pool.c): the ReLU's own output and gradient buffers are
 * left unused, and the layer before it does not fuse it. MCO_NET_ALL_OUTPUTS
 * turns all of these fusions off, so that every layer writes its own output.
 *
 * With `fake_quant` set (quantization-aware training), the input goes
 * through mco_fq_input before the first layer, every layer output
 * through mco_fq_forward right after the layer's forward, and every
 * output gradient through mco_fq_backward right before the layer's backward.
 */
#ifndef MCO_TRAIN_NET_H
#define MCO_TRAIN_NET_H

#include "mcuopt/rng.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"

enum {
    MCO_NET_GRADIENTS = 1,   /* allocate gradients (training); else inference only */
    MCO_NET_INPUT_GRAD = 2,  /* also compute dLoss/dinput (gradient checks) */
    MCO_NET_REFERENCE = 4,   /* only mcuopt's own kernels (layer_ops.h), no fast path
                                (tests compare the two) */
    MCO_NET_ALL_OUTPUTS = 8  /* no ReLU fusion: every layer's output is written (calibration
                                reads them all) */
};

typedef struct {
    const mco_model *model;
    int max_batch;
    int flags;
    float *input;             /* max_batch x input size; the caller fills it */
    float *input_grad;        /* with MCO_NET_INPUT_GRAD, else NULL */
    float **act;              /* [n_layers] outputs */
    float **grad;             /* [n_layers] output gradients or NULL */
    unsigned char *owns_grad; /* [n_layers] 1 if grad[l] is not an alias */
    void **scratch;           /* [n_layers] */
    float **param_grad;       /* [n_layers * MCO_MAX_PARAMS] into param_grads */
    struct mco_fast_layer **fast; /* [n_layers] the layer's fast path, or NULL */
    unsigned char *sole_writer; /* [n_layers] 1 if no other layer's backward writes the
                                   gradient of this layer's input (it may overwrite it) */
    unsigned char *fuses_relu;  /* [n_layers] 1: a layer whose fast path also runs the ReLU at
                                   l + 1 (its only reader): a BatchNorm in training (forward and
                                   backward), a Conv2D, DepthwiseConv2D or Dense (forward only:
                                   the ReLU's backward runs as usual) */
    unsigned char *fused_ran;   /* [n_layers] 1 if the last forward ran it fused (backward
                                   then does the same) */
    unsigned char *pool_takes_relu; /* [n_layers] 1: a max pool that runs the ReLU at l - 1 (its
                                   only reader) inside, forward and backward */
    unsigned char *skip_zero;   /* [n_layers] 1: mco_net_zero_grads leaves grad[l] alone, as
                                   its only writer overwrites it (a fast layer, or a kernel
                                   whose ops say overwrites_grad) or is a fused ReLU */
    unsigned char *clear_first; /* [n_layers] 1: that only writer; if it runs its reference
                                   kernel, which adds, it clears its input gradient first */
    float *param_grads;       /* mco_model_param_floats() floats */
    mco_rng rng;              /* dropout masks; the caller seeds it */
    struct mco_fq_thread *fake_quant; /* NULL: float; else QAT fake quantization after each
                                 layer's forward (train/fake_quant.h), set by the caller */
    void *block;
} mco_net;

/* Total floats in all parameter tensors (the length of the gradient and
 * optimizer-state arrays). */
size_t mco_model_param_floats(const mco_model *model);

mco_status mco_net_init(mco_net *net, const mco_model *model, int max_batch, int flags);
void mco_net_free(mco_net *net);

/* The tensor a layer input index refers to (MCO_INPUT = the model input). */
float *mco_net_tensor(const mco_net *net, int index);

/* Runs layers 0..n_layers-1 on net->input (batch <= max_batch). */
void mco_net_forward(mco_net *net, int batch, int training);

/* Zeroes the activation and parameter gradients; then the caller writes
 * dLoss/d(output of layer `from`) into net->grad[from] and calls
 * mco_net_backward, which back-propagates through layers from..0. */
void mco_net_zero_grads(mco_net *net, int batch);
void mco_net_backward(mco_net *net, int batch, int from, int training);

#endif
