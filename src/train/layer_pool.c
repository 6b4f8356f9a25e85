/*
 * layer_pool.c - MaxPool2D, AvgPool2D and GlobalAvgPool, forward and
 * backward, float NHWC.
 *
 * Max pooling routes the gradient to the first maximum in scan order,
 * found again in backward (see below); a ReLU before it can be fused in. Average pooling with "same" padding divides by the number
 * of window taps inside the input, as TensorFlow does.
 *
 * What it leaves out: pooling with padding values (-inf/0) counted in.
 */
#include <string.h>

#include "layer_ops.h"
#include "vec.h"
#include "window_taps.h"

/* ---- MaxPool2D ---- */

/* Forward keeps no arg-max: it is a plain running maximum per channel (the
 * select below is one vector max instruction, no branch and no index
 * bookkeeping), and backward finds the winner again as the first tap equal
 * to the output (a value only ever moves into the maximum by being strictly
 * greater, so no earlier tap can equal it; this is the first maximum in
 * scan order, as before). With a ReLU fused in (ctx->fused_relu: the ReLU
 * before the pool is skipped and the pool reads its input), the maximum is
 * clamped at 0 afterwards, which is max-pool of the ReLU's output (the two
 * commute), and backward passes the gradient only where that output is
 * positive, which is the ReLU's mask. */

static void maxpool_forward(const mco_layer_ctx *ctx)
{
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c;

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * c;
        size_t out_base = (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                float *restrict best = ctx->out + out_base + ((size_t)oy * g.out_w + ox) * c;
                /* the first tap starts the maxima; the others fold in */
                const float *restrict first = in + ((t.iy + t.ky0) * g.in_w + t.ix + t.kx0) * c;
                for (int ch = 0; ch < c; ch++)
                    best[ch] = first[ch];
                for (int ky = t.ky0; ky < t.ky1; ky++)
                    for (int kx = ky == t.ky0 ? t.kx0 + 1 : t.kx0; kx < t.kx1; kx++) {
                        const float *restrict v = in + ((t.iy + ky) * g.in_w + t.ix + kx) * c;
                        for (int ch = 0; ch < c; ch++)
                            best[ch] = v[ch] > best[ch] ? v[ch] : best[ch];
                    }
                if (ctx->fused_relu)
                    for (int ch = 0; ch < c; ch++)
                        best[ch] = best[ch] > 0.0f ? best[ch] : 0.0f;
            }
    }
}

#define MAXPOOL_CHUNK 64   /* channels routed at a time (the size of `left` below) */

/* Routes the gradient of output pixel (oy, ox), channels [c0, c0 + nc),
 * to the first tap equal to the output: left[ch] holds the gradient not yet
 * routed and is cleared where a tap takes it (no branch: which tap wins is
 * a coin flip on training data). */
static void maxpool_route(const mco_layer_ctx *ctx, const mco_train_window *g, const float *in, float *din,
                          const float *y, const float *dy, int oy, int ox, int c0, int nc)
{
    const mco_train_taps t = mco_train_window_taps(g, oy, ox);
    const int c = g->in_c;
    float left[MAXPOOL_CHUNK];
    for (int ch = 0; ch < nc; ch++)
        left[ch] = ctx->fused_relu && !(y[ch] > 0.0f) ? 0.0f : dy[ch];
    for (int ky = t.ky0; ky < t.ky1; ky++)
        for (int kx = t.kx0; kx < t.kx1; kx++) {
            size_t at = (size_t)((t.iy + ky) * g->in_w + t.ix + kx) * c + c0;
            const float *restrict v = in + at;
            float *restrict d = din + at;
            for (int ch = 0; ch < nc; ch++) {
                int hit = v[ch] == y[ch];
                d[ch] += hit ? left[ch] : 0.0f;
                left[ch] = hit ? 0.0f : left[ch];
            }
        }
}

static void maxpool_backward(const mco_layer_ctx *ctx)
{
    if (!ctx->grad_in[0])
        return;
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c;
    const size_t in_size = mco_shape_size(ctx->layer->in_shape), out_size = mco_shape_size(ctx->layer->out_shape);
    if (ctx->overwrite_grad_in)
        memset(ctx->grad_in[0], 0, (size_t)ctx->batch * in_size * sizeof(float));
    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * in_size;
        float *din = ctx->grad_in[0] + (size_t)n * in_size;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                size_t o = (size_t)n * out_size + ((size_t)oy * g.out_w + ox) * c;
                for (int c0 = 0; c0 < c; c0 += MAXPOOL_CHUNK)
                    maxpool_route(ctx, &g, in, din, ctx->out + o + c0, ctx->grad_out + o + c0, oy, ox, c0,
                                  c - c0 < MAXPOOL_CHUNK ? c - c0 : MAXPOOL_CHUNK);
            }
    }
}

const mco_layer_ops mco_maxpool2d_ops = {NULL, maxpool_forward, maxpool_backward, 0, 1};

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
                float scale = 1.0f / (float)((t.ky1 - t.ky0) * (t.kx1 - t.kx0));
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
