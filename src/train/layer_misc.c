/*
 * layer_misc.c - the layers that only move or mask values: Add (two
 * inputs), Flatten (the same memory, seen as (1, 1, n)) and Dropout
 * (inverted dropout: kept values are scaled by 1/(1-rate) in training, so
 * inference is the identity).
 *
 * What it leaves out: broadcasting Add, spatial dropout.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "train/layer_ops.h"

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

const mco_layer_ops mco_add_ops = {NULL, add_forward, add_backward, 0, 0};

/* ---- Flatten: output and its gradient alias the input's (see net.c) ---- */

static void flatten_forward(const mco_layer_ctx *ctx)
{
    (void)ctx;
}

const mco_layer_ops mco_flatten_ops = {NULL, flatten_forward, NULL, 1, 0};

/* ---- Dropout ---- */

static size_t dropout_scratch_bytes(const mco_layer *layer, int batch)
{
    return (size_t)batch * mco_shape_size(layer->out_shape) * sizeof(float);
}

/* One 64-bit draw decides two values: each 32-bit half is dropped when it
 * is below rate * 2^32. Without a float conversion or a branch per value,
 * the masks cost a fraction of what one uniform float per value did. */
static void dropout_forward(const mco_layer_ctx *ctx)
{
    size_t count = elements(ctx);
    float rate = ctx->layer->rate;
    if (!ctx->training || rate <= 0.0f) {
        memcpy(ctx->out, ctx->in[0], count * sizeof(float));
        return;
    }
    float *restrict mask = ctx->scratch;
    const float *restrict x = ctx->in[0];
    float *restrict y = ctx->out;
    const float keep_scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    const double scaled = ceil((double)rate * 4294967296.0);
    const uint64_t threshold = scaled >= 4294967296.0 ? (uint64_t)1 << 32 : (uint64_t)scaled;
    for (size_t i = 0; i < count; i += 2) {
        uint64_t bits = mco_rng_next_u64(ctx->rng);
        mask[i] = keep_scale * (float)((bits & 0xffffffffu) >= threshold);
        if (i + 1 < count)
            mask[i + 1] = keep_scale * (float)((bits >> 32) >= threshold);
    }
    for (size_t i = 0; i < count; i++)
        y[i] = x[i] * mask[i];
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

const mco_layer_ops mco_dropout_ops = {dropout_scratch_bytes, dropout_forward, dropout_backward, 0, 0};
