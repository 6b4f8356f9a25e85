/*
 * layer_dense.c - Dense (fully connected), forward and backward, float.
 *
 * Weights are [units][in] (graph.h), so a unit's output is one contiguous
 * dot product with the flattened input sample, and both backward products
 * are axpy's over `in`.
 *
 * What it leaves out: a fused activation (activations are their own layers).
 */
#include "layer_ops.h"
#include "vec.h"

static void dense_forward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    const int in_n = (int)mco_shape_size(layer->in_shape), units = layer->out_shape.c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    const float *bias = layer->params[MCO_PARAM_BIAS].data;

    for (int n = 0; n < ctx->batch; n++) {
        const float *x = ctx->in[0] + (size_t)n * in_n;
        float *out = ctx->out + (size_t)n * units;
        for (int u = 0; u < units; u++)
            out[u] = bias[u] + mco_dot(x, w + (size_t)u * in_n, in_n);
    }
}

static void dense_backward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    const int in_n = (int)mco_shape_size(layer->in_shape), units = layer->out_shape.c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    float *dw = ctx->param_grad[MCO_PARAM_WEIGHTS];
    float *dbias = ctx->param_grad[MCO_PARAM_BIAS];

    for (int n = 0; n < ctx->batch; n++) {
        const float *x = ctx->in[0] + (size_t)n * in_n;
        const float *go = ctx->grad_out + (size_t)n * units;
        float *dx = ctx->grad_in[0] ? ctx->grad_in[0] + (size_t)n * in_n : NULL;
        mco_vadd(dbias, go, units);
        for (int u = 0; u < units; u++) {
            mco_axpy(dw + (size_t)u * in_n, go[u], x, in_n);
            if (dx)
                mco_axpy(dx, go[u], w + (size_t)u * in_n, in_n);
        }
    }
}

const mco_layer_ops mco_dense_ops = {NULL, dense_forward, dense_backward, 0, 0};
