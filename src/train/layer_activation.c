/*
 * layer_activation.c - ReLU, ReLU6, Softmax and the smooth / leaky
 * activations (sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish), forward
 * and backward.
 *
 * ReLU and ReLU6 take their backward mask from the output (the gradient
 * passes where 0 < y (< 6)). Softmax works along channels at every pixel.
 * A final Softmax in training is not differentiated here: the trainer takes
 * the cross-entropy gradient with respect to its input directly.
 *
 * The other activations compute mco_activation_value (the exact function
 * the int8 lookup tables are built from) and take their derivative from
 * the input x: sigmoid y (1 - y), tanh 1 - y^2, LeakyReLU 1 or alpha,
 * HardSigmoid alpha inside (0, 1) else 0, HardSwish relu6(x + 3) / 6 +
 * x / 6 for -3 < x < 3 (0 below, 1 above). At the kinks (x = 0, x = +-3)
 * the derivative is the one from the right.
 *
 * What it leaves out: parametric ReLU (a trained alpha), other activations.
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

/* ---- Sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish ---- */

static void activation_forward(const mco_layer_ctx *ctx)
{
    const float *x = ctx->in[0];
    float *y = ctx->out;
    size_t count = elements(ctx);
    for (size_t i = 0; i < count; i++) y[i] = (float)mco_activation_value(ctx->layer, (double)x[i]);
}

/* dy/dx at input x with output y. */
static float activation_derivative(const mco_layer *l, float x, float y)
{
    switch (l->type) {
    case MCO_LAYER_SIGMOID: return y * (1.0f - y);
    case MCO_LAYER_TANH: return 1.0f - y * y;
    case MCO_LAYER_LEAKY_RELU: return x >= 0.0f ? 1.0f : l->alpha;
    case MCO_LAYER_HARD_SIGMOID: {
        float t = l->alpha * x + l->beta;
        return t >= 0.0f && t < 1.0f ? l->alpha : 0.0f;
    }
    case MCO_LAYER_HARD_SWISH: return x < -3.0f ? 0.0f : x >= 3.0f ? 1.0f : (2.0f * x + 3.0f) / 6.0f;
    default: return 1.0f;
    }
}

static void activation_backward(const mco_layer_ctx *ctx)
{
    float *dx = ctx->grad_in[0];
    if (!dx)
        return;
    const float *x = ctx->in[0], *y = ctx->out, *dy = ctx->grad_out;
    size_t count = elements(ctx);
    for (size_t i = 0; i < count; i++) {
        float g = dy[i] * activation_derivative(ctx->layer, x[i], y[i]);
        dx[i] = ctx->overwrite_grad_in ? g : dx[i] + g;
    }
}

const mco_layer_ops mco_activation_ops = {NULL, activation_forward, activation_backward, 0, 1};
