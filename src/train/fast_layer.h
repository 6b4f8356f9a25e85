/*
 * fast_layer.h - the fast path of the weighted layers (Conv2D,
 * DepthwiseConv2D, Dense): forward, input gradient and weight gradient on
 * oneDNN (Debian's libdnnl, the library under PyTorch's CPU convolutions),
 * internal to src/train/.
 *
 * One mco_fast_layer belongs to one layer of one thread's workspace
 * (mco_net). It runs the same computation as the layer's reference kernel
 * in layer_conv.c / layer_dense.c, on the same NHWC tensors and the same
 * parameter layouts, and keeps the same contract (layer_ops.h): forward
 * writes the output; backward ADDS into the input gradient (unless the
 * caller says it may overwrite) and into the parameter gradients.
 *
 * BatchNorm (training mode) has a fast path too, optionally with the ReLU
 * after it fused in (fast_batchnorm.c). Pooling stays on the reference
 * kernels: oneDNN 2.6's pooling was measured slower on these channel counts
 * (6 to 16 channels: a mnist-paper epoch took 0.42 s of CPU time with it,
 * 0.32 s without; lenet5 0.83 s and 0.65 s).
 *
 * Determinism: every oneDNN call runs single-threaded on the calling thread
 * (OpenMP's thread count is set to 1 on it before each call), so results
 * depend only on the shapes and the machine's instruction set, never on
 * timing; mcuopt's own threads split the batch (train.c).
 *
 * The oneDNN primitives are built for one batch size. A layer builds them
 * for max_batch when it is created and, the first time it sees another
 * batch size (the last batch of an epoch, the tail of an evaluation), for
 * that size too, and keeps them: after that, a step allocates nothing.
 *
 * What it leaves out: other layer types (they run their reference
 * kernels), BatchNorm in inference mode, dilation, groups other than
 * depthwise, int8.
 */
#ifndef MCO_TRAIN_FAST_LAYER_H
#define MCO_TRAIN_FAST_LAYER_H

#include "mcuopt/graph.h"
#include "mcuopt/status.h"
#include "layer_ops.h"

typedef struct mco_fast_layer mco_fast_layer;

/* 1 if `layer`'s type has a fast path. */
int mco_fast_layer_supported(const mco_layer *layer);

/* Builds the fast path of `layer` (shapes inferred) for batches of up to
 * max_batch samples; `training` also builds the two backward passes.
 * BatchNorm has a fast path in training mode only (inference mode runs the
 * reference kernel, see fast_batchnorm.c). With fuse_relu the forward also
 * applies the ReLU that follows the layer and writes that ReLU's output
 * (the caller skips the ReLU's forward); a BatchNorm's backward then also
 * takes the gradient through the ReLU, from the ReLU's output gradient
 * (the caller skips the ReLU's backward too), while the other layers'
 * backward is unchanged (the ReLU's own backward feeds it).
 * Fails (MCO_ERR_UNSUPPORTED or MCO_ERR_NOMEM, with a message) if oneDNN
 * cannot run the layer; the caller then uses the reference kernel. */
mco_status mco_fast_layer_create(const mco_layer *layer, int max_batch, int training, int fuse_relu,
                                 mco_fast_layer **out);
void mco_fast_layer_free(mco_fast_layer *fast);

/* The layer_ops.h forward and backward on ctx (ctx->layer is the layer the
 * fast path was built for, or one of the same shapes: the parameters are
 * read from ctx->layer at every call; with the ReLU fused, forward's out is
 * the ReLU's, and so are a BatchNorm backward's out and grad_out). With overwrite_input_grad set,
 * backward WRITES ctx->grad_in[0] instead of adding to it (the caller knows
 * it holds zeros). Return 0 if they could not run (no memory for a new
 * batch size), and the caller runs the reference kernel instead. */
int mco_fast_layer_forward(mco_fast_layer *fast, const mco_layer_ctx *ctx);
int mco_fast_layer_backward(mco_fast_layer *fast, const mco_layer_ctx *ctx, int overwrite_input_grad);

#endif
