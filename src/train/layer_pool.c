/*
 * layer_pool.c - MaxPool2D, AvgPool2D and GlobalAvgPool, forward and
 * backward, float NHWC.
 *
 * Max pooling routes the gradient to the first maximum in scan order,
 * found again in backward (see below); a ReLU before it can be fused in.
 * Average pooling with "same" padding divides by the number of window taps
 * inside the input, as TensorFlow does, or (count_pad) by the whole window,
 * the padding counting as zeros, as PyTorch's default.
 *
 * What it leaves out: max pooling with padding values (-inf) counted in.
 */
#include <stdint.h>
#include <string.h>

#include "layer_ops.h"
#include "vec.h"
#include "window_taps.h"

/* ---- MaxPool2D ---- */

/* Forward keeps no arg-max: it is a plain running maximum per channel (no
 * branch and no index bookkeeping), and backward finds the winner again as the first tap equal
 * to the output (a value only ever moves into the maximum by being strictly
 * greater, so no earlier tap can equal it; this is the first maximum in
 * scan order, as before). With a ReLU fused in (ctx->fused_relu: the ReLU
 * before the pool is skipped and the pool reads its input), the maximum is
 * clamped at 0 afterwards, which is max-pool of the ReLU's output (the two
 * commute), and backward passes the gradient only where that output is
 * positive, which is the ReLU's mask. */

/* Both directions work on four channels at a time in a 4-float vector
 * (GCC's vector extension: plain C loops over 6-16 channels per tap were
 * mostly loop overhead, and GCC would not keep a block's maxima in a
 * register across the taps), walking the window's taps through a table of
 * offsets; the last block ends at the last channel and so may redo some.
 * Windows that reach into the padding, and layers of fewer than 4
 * channels, go one channel at a time. A comparison of two vectors gives a mask of all-ones / all-zeros lanes,
 * and select() picks lanes by it: the same choices as the scalar code. */
typedef float f4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

static inline f4 load4(const float *p)
{
    f4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, f4 v)
{
    memcpy(p, &v, sizeof v);
}

/* mask ? a : b, lane by lane. */
static inline f4 select4(i4 mask, f4 a, f4 b)
{
    return (f4)((mask & (i4)a) | (~mask & (i4)b));
}

/* The maximum over the window's taps of channel ch (fused ReLU: clamped at 0). */
static inline float window_max(const mco_train_window *g, const mco_train_taps *t, const float *in, int ch, int relu)
{
    float m = in[((t->iy + t->ky0) * g->in_w + t->ix + t->kx0) * g->in_c + ch];
    for (int ky = t->ky0; ky < t->ky1; ky++)
        for (int kx = ky == t->ky0 ? t->kx0 + 1 : t->kx0; kx < t->kx1; kx++) {
            float v = in[((t->iy + ky) * g->in_w + t->ix + kx) * g->in_c + ch];
            m = v > m ? v : m;
        }
    return relu && !(m > 0.0f) ? 0.0f : m;
}

#define MAX_TAPS 64   /* windows up to this many taps use the offset table below */

/* Whether the whole window of (oy, ox) lies inside the input, and then the
 * offsets of its taps from the first one (fills off[], which must hold
 * kernel_h * kernel_w entries). */
static int full_window(const mco_train_window *g, const mco_train_taps *t)
{
    return t->ky0 == 0 && t->kx0 == 0 && t->ky1 == g->kernel_h && t->kx1 == g->kernel_w &&
           g->kernel_h * g->kernel_w <= MAX_TAPS;
}

static void tap_offsets(const mco_train_window *g, int *off)
{
    for (int ky = 0; ky < g->kernel_h; ky++)
        for (int kx = 0; kx < g->kernel_w; kx++)
            off[ky * g->kernel_w + kx] = (ky * g->in_w + kx) * g->in_c;
}

static void maxpool_forward(const mco_layer_ctx *ctx)
{
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c, relu = ctx->fused_relu, taps = g.kernel_h * g.kernel_w;
    const f4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    int off[MAX_TAPS];
    if (taps <= MAX_TAPS)
        tap_offsets(&g, off);

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * c;
        float *out = ctx->out + (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                float *o = out + ((size_t)oy * g.out_w + ox) * c;
                int ch = 0;
                if (full_window(&g, &t) && c >= 4) {
                    const float *w = in + (t.iy * g.in_w + t.ix) * c;
                    /* blocks of 4, the last one ending at c (it may redo channels: same values) */
                    for (int next = 0; ch < c; ch = next) {
                        ch = next + 4 <= c ? next : c - 4;
                        next = ch + 4;
                        f4 m = load4(w + ch);
                        for (int k = 1; k < taps; k++) {
                            f4 v = load4(w + off[k] + ch);
                            m = select4(v > m, v, m);
                        }
                        store4(o + ch, relu ? select4(m > zero, m, zero) : m);
                    }
                }
                for (; ch < c; ch++)
                    o[ch] = window_max(&g, &t, in, ch, relu);
            }
    }
}

/* Backward routes dy to the first tap whose value equals the output y (with
 * a fused ReLU only where y > 0): `left` holds what is not routed yet and is
 * cleared where a tap takes it, with no branch, as which tap wins is a coin
 * flip on training data. With `write`, each tap's share is stored instead
 * of added (the windows tile the input: every input value is in exactly one
 * window). */
static inline void route_channel(const mco_train_window *g, const mco_train_taps *t, const float *in, float *din,
                                 float y, float dy, int ch, int relu, int write)
{
    float left = relu && !(y > 0.0f) ? 0.0f : dy;
    for (int ky = t->ky0; ky < t->ky1; ky++)
        for (int kx = t->kx0; kx < t->kx1; kx++) {
            size_t at = (size_t)((t->iy + ky) * g->in_w + t->ix + kx) * g->in_c + ch;
            float share = in[at] == y ? left : 0.0f;
            din[at] = write ? share : din[at] + share;
            left = in[at] == y ? 0.0f : left;
        }
}

static inline void route_pixel(const mco_train_window *g, const mco_train_taps *t, const int *off, const float *in,
                               float *din, const float *y, const float *dy, int relu, int write)
{
    const int c = g->in_c, taps = g->kernel_h * g->kernel_w;
    const f4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    int ch = 0;
    if (full_window(g, t) && c >= 4) {
        const size_t w = (size_t)(t->iy * g->in_w + t->ix) * c;
        /* blocks of 4, the last one ending at c: where it redoes channels it
         * stores the same values again, or adds nothing there */
        for (int next = 0; ch < c; ch = next) {
            ch = next + 4 <= c ? next : c - 4;
            const i4 lanes = {ch + 0 >= next, ch + 1 >= next, ch + 2 >= next, ch + 3 >= next};
            const i4 fresh = write ? ~(i4){0, 0, 0, 0} : -lanes;
            next = ch + 4;
            const f4 top = load4(y + ch);
            f4 left = select4(fresh, relu ? select4(top > zero, load4(dy + ch), zero) : load4(dy + ch), zero);
            for (int k = 0; k < taps; k++) {
                const size_t at = w + (size_t)off[k] + (size_t)ch;
                const i4 hit = load4(in + at) == top;
                const f4 share = select4(hit, left, zero);
                store4(din + at, write ? share : load4(din + at) + share);
                left = select4(hit, zero, left);
            }
        }
    }
    for (; ch < c; ch++)
        route_channel(g, t, in, din, y[ch], dy[ch], ch, relu, write);
}

static void maxpool_backward(const mco_layer_ctx *ctx)
{
    if (!ctx->grad_in[0])
        return;
    mco_train_window g;
    mco_train_window_init(ctx->layer, &g);
    const int c = g.in_c, relu = ctx->fused_relu;
    const size_t in_size = mco_shape_size(ctx->layer->in_shape), out_size = mco_shape_size(ctx->layer->out_shape);
    /* windows that tile the input exactly let backward store instead of clearing and adding */
    const int tiles = g.kernel_h == g.stride_h && g.kernel_w == g.stride_w && g.pad_top == 0 && g.pad_left == 0 &&
                      g.out_h * g.stride_h == g.in_h && g.out_w * g.stride_w == g.in_w;
    const int write = ctx->overwrite_grad_in && tiles;
    int off[MAX_TAPS];
    if (g.kernel_h * g.kernel_w <= MAX_TAPS)
        tap_offsets(&g, off);
    if (ctx->overwrite_grad_in && !tiles)
        memset(ctx->grad_in[0], 0, (size_t)ctx->batch * in_size * sizeof(float));
    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * in_size;
        float *din = ctx->grad_in[0] + (size_t)n * in_size;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                const size_t o = (size_t)n * out_size + ((size_t)oy * g.out_w + ox) * c;
                const float *y = ctx->out + o, *dy = ctx->grad_out + o;
                if (write)
                    route_pixel(&g, &t, off, in, din, y, dy, relu, 1);
                else
                    route_pixel(&g, &t, off, in, din, y, dy, relu, 0);
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
