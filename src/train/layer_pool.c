/*
 * layer_pool.c - MaxPool2D, AvgPool2D and GlobalAvgPool, forward and
 * backward, float NHWC.
 *
 * Max pooling records, for every output value, the offset of the input
 * value that won (first maximum in scan order), and backward routes the
 * gradient there. Average pooling with "same" padding divides by the number
 * of window taps inside the input, as TensorFlow does, or (count_pad) by
 * the whole window, the padding counting as zeros, as PyTorch's default.
 *
 * What it leaves out: max pooling with padding values (-inf) counted in.
 */
#include <stdint.h>
#include <string.h>

#include "layer_ops.h"
#include "vec.h"
#include "window_taps.h"

/* ---- MaxPool2D ---- */

static size_t maxpool_scratch_bytes(const mco_layer *layer, int batch)
{
    return (size_t)batch * mco_shape_size(layer->out_shape) * sizeof(int32_t);
}

/* Folds one window tap (the c values at in + at) into the running maxima:
 * branch-free (selects the compiler vectorises), since which tap wins is a
 * coin flip on training data and a branch per value was mispredicted about
 * half the time. A tie keeps the earlier tap (first maximum in scan order). */
static inline void maxpool_tap(const float *restrict in, int32_t at, float *restrict best,
                               int32_t *restrict where, int c)
{
    for (int ch = 0; ch < c; ch++) {
        float v = in[at + ch];
        int32_t greater = -(int32_t)(v > best[ch]);
        where[ch] = (where[ch] & ~greater) | ((at + ch) & greater);
        best[ch] = v > best[ch] ? v : best[ch];
    }
}

static void maxpool_forward(const mco_layer_ctx *ctx)
{
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c;
    int32_t *argmax = ctx->scratch;

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * c;
        size_t out_base = (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                size_t o = out_base + ((size_t)oy * g.out_w + ox) * c;
                float *restrict best = ctx->out + o;
                int32_t *restrict where = argmax + o;
                /* the first tap starts the maxima; the others fold in */
                int32_t first = ((t.iy + t.ky0) * g.in_w + t.ix + t.kx0) * c;
                for (int ch = 0; ch < c; ch++) {
                    best[ch] = in[first + ch];
                    where[ch] = first + ch;
                }
                for (int ky = t.ky0; ky < t.ky1; ky++)
                    for (int kx = ky == t.ky0 ? t.kx0 + 1 : t.kx0; kx < t.kx1; kx++)
                        maxpool_tap(in, ((t.iy + ky) * g.in_w + t.ix + kx) * c, best, where, c);
            }
    }
}

static void maxpool_backward(const mco_layer_ctx *ctx)
{
    if (!ctx->grad_in[0])
        return;
    const mco_layer *layer = ctx->layer;
    const size_t in_size = mco_shape_size(layer->in_shape), out_size = mco_shape_size(layer->out_shape);
    const int32_t *argmax = ctx->scratch;
    for (int n = 0; n < ctx->batch; n++) {
        float *din = ctx->grad_in[0] + (size_t)n * in_size;
        const float *go = ctx->grad_out + (size_t)n * out_size;
        const int32_t *where = argmax + (size_t)n * out_size;
        for (size_t i = 0; i < out_size; i++)
            din[where[i]] += go[i];
    }
}

const mco_layer_ops mco_maxpool2d_ops = {maxpool_scratch_bytes, maxpool_forward, maxpool_backward, 0, 0};

/* ---- AvgPool2D ---- */

/* Forward (backward == 0) or backward (backward == 1) of average pooling:
 * the two share the window walk and differ only in the direction of the
 * copy, so one function does both. */
static void avgpool_walk(const mco_layer_ctx *ctx, int backward)
{
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c;

    for (int n = 0; n < ctx->batch; n++) {
        size_t in_base = (size_t)n * g.in_h * g.in_w * c;
        size_t out_base = (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                size_t o = out_base + ((size_t)oy * g.out_w + ox) * c;
                int taps = ctx->layer->count_pad ? g.kernel_h * g.kernel_w : (t.ky1 - t.ky0) * (t.kx1 - t.kx0);
                float scale = 1.0f / (float)taps;
                if (!backward)
                    memset(ctx->out + o, 0, (size_t)c * sizeof(float));
                for (int ky = t.ky0; ky < t.ky1; ky++)
                    for (int kx = t.kx0; kx < t.kx1; kx++) {
                        size_t at = in_base + ((size_t)(t.iy + ky) * g.in_w + t.ix + kx) * c;
                        if (backward)
                            mco_axpy(ctx->grad_in[0] + at, scale, ctx->grad_out + o, c);
                        else
                            mco_vadd(ctx->out + o, ctx->in[0] + at, c);
                    }
                if (!backward)
                    for (int ch = 0; ch < c; ch++)
                        ctx->out[o + ch] *= scale;
            }
    }
}

static void avgpool_forward(const mco_layer_ctx *ctx)
{
    avgpool_walk(ctx, 0);
}

static void avgpool_backward(const mco_layer_ctx *ctx)
{
    if (ctx->grad_in[0])
        avgpool_walk(ctx, 1);
}

const mco_layer_ops mco_avgpool2d_ops = {NULL, avgpool_forward, avgpool_backward, 0, 0};

/* ---- GlobalAvgPool: (h, w, c) -> (1, 1, c) ---- */

static void global_avgpool_forward(const mco_layer_ctx *ctx)
{
    const mco_shape s = ctx->layer->in_shape;
    const int pixels = s.h * s.w, c = s.c;
    const float scale = 1.0f / (float)pixels;
    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * pixels * c;
        float *out = ctx->out + (size_t)n * c;
        memset(out, 0, (size_t)c * sizeof(float));
        for (int p = 0; p < pixels; p++)
            mco_vadd(out, in + (size_t)p * c, c);
        for (int ch = 0; ch < c; ch++)
            out[ch] *= scale;
    }
}

static void global_avgpool_backward(const mco_layer_ctx *ctx)
{
    if (!ctx->grad_in[0])
        return;
    const mco_shape s = ctx->layer->in_shape;
    const int pixels = s.h * s.w, c = s.c;
    const float scale = 1.0f / (float)pixels;
    for (int n = 0; n < ctx->batch; n++) {
        float *din = ctx->grad_in[0] + (size_t)n * pixels * c;
        const float *go = ctx->grad_out + (size_t)n * c;
        for (int p = 0; p < pixels; p++)
            mco_axpy(din + (size_t)p * c, scale, go, c);
    }
}

const mco_layer_ops mco_global_avgpool_ops = {NULL, global_avgpool_forward, global_avgpool_backward, 0, 0};
