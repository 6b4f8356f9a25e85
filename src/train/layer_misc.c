/*
 * layer_misc.c - the layers that only move or mask values: Add (two
 * inputs), Flatten (the same memory, seen as (1, 1, n)) and Dropout
 * (inverted dropout: kept values are scaled by 1/(1-rate) in training, so
 * inference is the identity).
 *
 * What it leaves out: broadcasting Add, spatial dropout.
 */
#include <string.h>

#include "layer_ops.h"

static size_t elements(const mco_layer_ctx *ctx)
{
    return (size_t)ctx->batch * mco_shape_size(ctx->layer->out_shape);
}

/* ---- Add ---- */

static void add_forward(const mco_layer_ctx *ctx)
{
    const float *restrict a = ctx->in[0], *restrict b = ctx->in[1];
    float *restrict y = ctx->out;
    size_t count = elements(ctx);
    for (size_t i = 0; i < count; i++)
        y[i] = a[i] + b[i];
}

static void add_backward(const mco_layer_ctx *ctx)
{
    size_t count = elements(ctx);
    for (int k = 0; k < 2; k++) {
        float *dx = ctx->grad_in[k];
        if (!dx)
            continue;
        for (size_t i = 0; i < count; i++)
            dx[i] += ctx->grad_out[i];
    }
}

const mco_layer_ops mco_add_ops = {NULL, add_forward, add_backward, 0};

/* ---- Flatten: output and its gradient alias the input's (see net.c) ---- */

static void flatten_forward(const mco_layer_ctx *ctx)
{
    (void)ctx;
}

const mco_layer_ops mco_flatten_ops = {NULL, flatten_forward, NULL, 1};

/* ---- Dropout ---- */

static size_t dropout_scratch_bytes(const mco_layer *layer, int batch)
{
    return (size_t)batch * mco_shape_size(layer->out_shape) * sizeof(float);
}

static void dropout_forward(const mco_layer_ctx *ctx)
{
    size_t count = elements(ctx);
    float rate = ctx->layer->rate;
    if (!ctx->training || rate <= 0.0f) {
        memcpy(ctx->out, ctx->in[0], count * sizeof(float));
        return;
    }
    float *mask = ctx->scratch;
    float keep_scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    for (size_t i = 0; i < count; i++) {
        mask[i] = mco_rng_uniform(ctx->rng) < rate ? 0.0f : keep_scale;
        ctx->out[i] = ctx->in[0][i] * mask[i];
    }
}

static void dropout_backward(const mco_layer_ctx *ctx)
{
    float *dx = ctx->grad_in[0];
    if (!dx)
        return;
    size_t count = elements(ctx);
    int masked = ctx->training && ctx->layer->rate > 0.0f;
    const float *mask = ctx->scratch;
    for (size_t i = 0; i < count; i++)
        dx[i] += masked ? ctx->grad_out[i] * mask[i] : ctx->grad_out[i];
}

const mco_layer_ops mco_dropout_ops = {dropout_scratch_bytes, dropout_forward, dropout_backward, 0};
