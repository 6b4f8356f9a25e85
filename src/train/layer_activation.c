/*
 * layer_activation.c - ReLU, ReLU6 and Softmax, forward and backward.
 *
 * ReLU and ReLU6 take their backward mask from the output (the gradient
 * passes where 0 < y (< 6)). Softmax works along channels at every pixel.
 * A final Softmax in training is not differentiated here: the trainer takes
 * the cross-entropy gradient with respect to its input directly.
 *
 * What it leaves out: leaky/parametric ReLU, other activations.
 */
#include <math.h>

#include "layer_ops.h"

static size_t elements(const mco_layer_ctx *ctx)
{
    return (size_t)ctx->batch * mco_shape_size(ctx->layer->out_shape);
}

/* y = min(max(x, 0), cap) with cap = +inf for ReLU. Written without
 * branches (each comparison picks one of two values, which GCC turns into
 * max/min instructions): on training data the sign of x is a coin flip, and
 * a branch per value was mispredicted half the time. */
static void clamp_forward(const mco_layer_ctx *ctx, float cap)
{
    const float *restrict x = ctx->in[0];
    float *restrict y = ctx->out;
    size_t count = elements(ctx);
    for (size_t i = 0; i < count; i++) {
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        y[i] = v < cap ? v : cap;
    }
}

/* The gradient passes where 0 < y < cap: dy times a 0/1 mask made from
 * the comparisons (no branch, see above; a NaN or infinite dy where the
 * mask is 0 is the only case this differs from a select). */
static void clamp_backward(const mco_layer_ctx *ctx, float cap)
{
    float *restrict dx = ctx->grad_in[0];
    if (!dx)
        return;
    const float *restrict y = ctx->out;
    const float *restrict dy = ctx->grad_out;
    size_t count = elements(ctx);
    if (ctx->overwrite_grad_in)
        for (size_t i = 0; i < count; i++)
            dx[i] = dy[i] * (float)((y[i] > 0.0f) & (y[i] < cap));
    else
        for (size_t i = 0; i < count; i++)
            dx[i] += dy[i] * (float)((y[i] > 0.0f) & (y[i] < cap));
}

static void relu_forward(const mco_layer_ctx *ctx) { clamp_forward(ctx, INFINITY); }
static void relu_backward(const mco_layer_ctx *ctx) { clamp_backward(ctx, INFINITY); }
static void relu6_forward(const mco_layer_ctx *ctx) { clamp_forward(ctx, 6.0f); }
static void relu6_backward(const mco_layer_ctx *ctx) { clamp_backward(ctx, 6.0f); }

const mco_layer_ops mco_relu_ops = {NULL, relu_forward, relu_backward, 0, 1};
const mco_layer_ops mco_relu6_ops = {NULL, relu6_forward, relu6_backward, 0, 1};

/* ---- Softmax along channels ---- */

static void softmax_forward(const mco_layer_ctx *ctx)
{
    const int c = ctx->layer->out_shape.c;
    size_t rows = elements(ctx) / (size_t)c;
    for (size_t r = 0; r < rows; r++) {
        const float *x = ctx->in[0] + r * c;
        float *y = ctx->out + r * c;
        float max = x[0];
        for (int i = 1; i < c; i++)
            if (x[i] > max)
                max = x[i];
        float sum = 0.0f;
        for (int i = 0; i < c; i++) {
            y[i] = expf(x[i] - max);
            sum += y[i];
        }
        float inv = 1.0f / sum;
        for (int i = 0; i < c; i++)
            y[i] *= inv;
    }
}

/* dx = y * (dy - sum(dy * y)) */
static void softmax_backward(const mco_layer_ctx *ctx)
{
    if (!ctx->grad_in[0])
        return;
    const int c = ctx->layer->out_shape.c;
    size_t rows = elements(ctx) / (size_t)c;
    for (size_t r = 0; r < rows; r++) {
        const float *y = ctx->out + r * c, *dy = ctx->grad_out + r * c;
        float *dx = ctx->grad_in[0] + r * c;
        float dot = 0.0f;
        for (int i = 0; i < c; i++)
            dot += dy[i] * y[i];
        for (int i = 0; i < c; i++)
            dx[i] += y[i] * (dy[i] - dot);
    }
}

const mco_layer_ops mco_softmax_ops = {NULL, softmax_forward, softmax_backward, 0, 0};
