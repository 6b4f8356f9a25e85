/*
 * layer_misc.c - the layers that only move or mask values: Add (two
 * inputs), Concat (two inputs side by side along the channels; backward
 * hands each input its channels of the gradient), Flatten (the same memory, seen as (1, 1, n)) and Dropout
 * (inverted dropout: kept values are scaled by 1/(1-rate) in training, so
 * inference is the identity).
 *
 * What it leaves out: broadcasting Add, spatial dropout.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "layer_ops.h"
#include "vec.h"

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

/* ---- Concat ---- */

/* Forward (backward == 0): each output pixel is input 0's c0 channels then
 * input 1's c1; backward adds the same slices of the output gradient into
 * the input gradients. */
static void concat_walk(const mco_layer_ctx *ctx, int backward)
{
    const mco_layer *l = ctx->layer;
    size_t pixels = (size_t)ctx->batch * (size_t)l->out_shape.h * (size_t)l->out_shape.w;
    int c_out = l->out_shape.c, c[2] = {l->in_shape.c, l->out_shape.c - l->in_shape.c};
    for (size_t p = 0; p < pixels; p++) {
        int at = 0;
        for (int k = 0; k < 2; at += c[k], k++) {
            size_t in = p * (size_t)c[k], out = p * (size_t)c_out + (size_t)at;
            if (!backward)
                memcpy(ctx->out + out, ctx->in[k] + in, (size_t)c[k] * sizeof(float));
            else if (ctx->grad_in[k])
                mco_vadd(ctx->grad_in[k] + in, ctx->grad_out + out, c[k]);
        }
    }
}

static void concat_forward(const mco_layer_ctx *ctx)
{
    concat_walk(ctx, 0);
}

static void concat_backward(const mco_layer_ctx *ctx)
{
    concat_walk(ctx, 1);
}

const mco_layer_ops mco_concat_ops = {NULL, concat_forward, concat_backward, 0, 0};

/* ---- Flatten: output and its gradient alias the input's (see net.c) ---- */

static void flatten_forward(const mco_layer_ctx *ctx)
{
    (void)ctx;
}

const mco_layer_ops mco_flatten_ops = {NULL, flatten_forward, NULL, 1, 0};

/* ---- Dropout ---- */

/* Scratch: the mask of the last training forward (0 or 1 / (1 - rate)). */
static size_t dropout_scratch_bytes(const mco_layer *layer, int batch)
{
    return (size_t)batch * mco_shape_size(layer->out_shape) * sizeof(float);
}

/* splitmix64: the stream of 64-bit draws one dropout call uses, seeded
 * from the workspace's generator (so masks still follow the seed), and
 * inlined, unlike mco_rng_next_u64, which is called across files. */
static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One 64-bit draw decides four values: each 16-bit quarter drops its value
 * when it is below ceil(rate * 65536), so the rate is kept to within
 * 1/65536. Without a float conversion, a call or a branch per value this
 * costs a fraction of what one uniform float per value did (dropout was a
 * sixth of a ds-cnn-s step). */
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
    const uint64_t threshold = (uint64_t)ceil((double)rate * 65536.0); /* 65536: all dropped */
    uint64_t state = mco_rng_next_u64(ctx->rng);
    for (size_t i = 0; i < count; i += 4) {
        uint64_t bits = splitmix64(&state);
        for (size_t k = 0; k < 4 && i + k < count; k++)
            mask[i + k] = keep_scale * (float)(((bits >> (16 * k)) & 0xffffu) >= threshold);
    }
    for (size_t i = 0; i < count; i++)
        y[i] = x[i] * mask[i];
}

static void dropout_backward(const mco_layer_ctx *ctx)
{
    float *restrict dx = ctx->grad_in[0];
    if (!dx)
        return;
    size_t count = elements(ctx);
    const float *restrict dy = ctx->grad_out;
    if (!ctx->training || ctx->layer->rate <= 0.0f) {
        mco_vadd(dx, dy, (int)count);
        return;
    }
    const float *restrict mask = ctx->scratch;
    for (size_t i = 0; i < count; i++)
        dx[i] += dy[i] * mask[i];
}

const mco_layer_ops mco_dropout_ops = {dropout_scratch_bytes, dropout_forward, dropout_backward, 0, 0};
