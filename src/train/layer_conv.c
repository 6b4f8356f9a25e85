/*
 * layer_conv.c - Conv2D and DepthwiseConv2D, forward and backward, float NHWC.
 *
 * Conv2D stores its weights OHWI (graph.h). The inner loops want the output
 * channels contiguous, so forward first transposes the weights to HWIO in
 * scratch; then every output pixel is a sum of axpy's over output channels
 * (one per input value of the receptive field). The weight gradient is
 * accumulated in HWIO in scratch too and transposed back at the end. Inside
 * one kernel row the (kx, ic) taps are contiguous in both the input and the
 * HWIO weights, so a row is one flat loop whatever the channel count.
 *
 * What it leaves out: dilation, groups, depth multipliers other than 1
 * (those layers go to layer_conv_general.c).
 */
#include <string.h>

#include "layer_ops.h"
#include "vec.h"
#include "window_taps.h"

/* ---- Conv2D ---- */

static size_t conv2d_scratch_bytes(const mco_layer *layer, int batch)
{
    (void)batch;
    /* transposed weights + transposed weight gradient */
    return 2 * mco_align64(layer->params[MCO_PARAM_WEIGHTS].size * sizeof(float));
}

static float *conv2d_weight_grad_hwio(const mco_layer *layer, void *scratch)
{
    return (float *)((char *)scratch + mco_align64(layer->params[MCO_PARAM_WEIGHTS].size * sizeof(float)));
}

static void conv2d_forward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    if (mco_layer_is_general_conv(layer)) {
        mco_conv_general_forward(ctx);
        return;
    }
    mco_train_window g;
    mco_train_window_init(layer, &g);
    const int oc_n = g.out_c, taps = g.kernel_h * g.kernel_w * g.in_c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    const float *bias = layer->params[MCO_PARAM_BIAS].data;
    float *wt = ctx->scratch;

    for (int oc = 0; oc < oc_n; oc++)
        for (int j = 0; j < taps; j++)
            wt[j * oc_n + oc] = w[oc * taps + j];

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * g.in_c;
        float *out = ctx->out + (size_t)n * g.out_h * g.out_w * oc_n;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                float *restrict o = out + ((size_t)oy * g.out_w + ox) * oc_n;
                memcpy(o, bias, (size_t)oc_n * sizeof(float));
                int row_len = (t.kx1 - t.kx0) * g.in_c;
                for (int ky = t.ky0; ky < t.ky1; ky++) {
                    const float *x = in + ((size_t)(t.iy + ky) * g.in_w + t.ix + t.kx0) * g.in_c;
                    const float *wrow = wt + (size_t)(ky * g.kernel_w + t.kx0) * g.in_c * oc_n;
                    for (int j = 0; j < row_len; j++)
                        mco_axpy(o, x[j], wrow + (size_t)j * oc_n, oc_n);
                }
            }
    }
}

static void conv2d_backward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    if (mco_layer_is_general_conv(layer)) {
        mco_conv_general_backward(ctx);
        return;
    }
    mco_train_window g;
    mco_train_window_init(layer, &g);
    const int oc_n = g.out_c, taps = g.kernel_h * g.kernel_w * g.in_c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    float *dw_t = conv2d_weight_grad_hwio(layer, ctx->scratch);
    float *dbias = ctx->param_grad[MCO_PARAM_BIAS];
    memset(dw_t, 0, (size_t)taps * oc_n * sizeof(float));

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * g.in_c;
        float *din = ctx->grad_in[0] ? ctx->grad_in[0] + (size_t)n * g.in_h * g.in_w * g.in_c : NULL;
        const float *gout = ctx->grad_out + (size_t)n * g.out_h * g.out_w * oc_n;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                const float *restrict go = gout + ((size_t)oy * g.out_w + ox) * oc_n;
                mco_vadd(dbias, go, oc_n);
                int row_len = (t.kx1 - t.kx0) * g.in_c;
                for (int ky = t.ky0; ky < t.ky1; ky++) {
                    size_t in_offset = ((size_t)(t.iy + ky) * g.in_w + t.ix + t.kx0) * g.in_c;
                    const float *x = in + in_offset;
                    float *dwrow = dw_t + (size_t)(ky * g.kernel_w + t.kx0) * g.in_c * oc_n;
                    for (int j = 0; j < row_len; j++)
                        mco_axpy(dwrow + (size_t)j * oc_n, x[j], go, oc_n);
                    if (din) {
                        const float *wrow = w + (size_t)(ky * g.kernel_w + t.kx0) * g.in_c;
                        for (int oc = 0; oc < oc_n; oc++)
                            mco_axpy(din + in_offset, go[oc], wrow + (size_t)oc * taps, row_len);
                    }
                }
            }
    }

    float *dw = ctx->param_grad[MCO_PARAM_WEIGHTS];
    for (int oc = 0; oc < oc_n; oc++)
        for (int j = 0; j < taps; j++)
            dw[oc * taps + j] += dw_t[j * oc_n + oc];
}

const mco_layer_ops mco_conv2d_ops = {conv2d_scratch_bytes, conv2d_forward, conv2d_backward, 0, 0};

/* ---- DepthwiseConv2D (multiplier 1): weights [kh][kw][c] ---- */

static void depthwise_forward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    if (mco_layer_is_general_conv(layer)) {
        mco_conv_general_forward(ctx);
        return;
    }
    mco_train_window g;
    mco_train_window_init(layer, &g);
    const int c = g.in_c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    const float *bias = layer->params[MCO_PARAM_BIAS].data;

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * c;
        float *out = ctx->out + (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                float *o = out + ((size_t)oy * g.out_w + ox) * c;
                memcpy(o, bias, (size_t)c * sizeof(float));
                for (int ky = t.ky0; ky < t.ky1; ky++)
                    for (int kx = t.kx0; kx < t.kx1; kx++)
                        mco_vmuladd(o, in + ((size_t)(t.iy + ky) * g.in_w + t.ix + kx) * c,
                                    w + (size_t)(ky * g.kernel_w + kx) * c, c);
            }
    }
}

static void depthwise_backward(const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    if (mco_layer_is_general_conv(layer)) {
        mco_conv_general_backward(ctx);
        return;
    }
    mco_train_window g;
    mco_train_window_init(layer, &g);
    const int c = g.in_c;
    const float *w = layer->params[MCO_PARAM_WEIGHTS].data;
    float *dw = ctx->param_grad[MCO_PARAM_WEIGHTS];
    float *dbias = ctx->param_grad[MCO_PARAM_BIAS];

    for (int n = 0; n < ctx->batch; n++) {
        const float *in = ctx->in[0] + (size_t)n * g.in_h * g.in_w * c;
        float *din = ctx->grad_in[0] ? ctx->grad_in[0] + (size_t)n * g.in_h * g.in_w * c : NULL;
        const float *gout = ctx->grad_out + (size_t)n * g.out_h * g.out_w * c;
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                const mco_train_taps t = mco_train_window_taps(&g, oy, ox);
                const float *go = gout + ((size_t)oy * g.out_w + ox) * c;
                mco_vadd(dbias, go, c);
                for (int ky = t.ky0; ky < t.ky1; ky++)
                    for (int kx = t.kx0; kx < t.kx1; kx++) {
                        size_t in_offset = ((size_t)(t.iy + ky) * g.in_w + t.ix + kx) * c;
                        size_t tap = (size_t)(ky * g.kernel_w + kx) * c;
                        mco_vmuladd(dw + tap, in + in_offset, go, c);
                        if (din)
                            mco_vmuladd(din + in_offset, w + tap, go, c);
                    }
            }
    }
}

const mco_layer_ops mco_depthwise_conv2d_ops = {NULL, depthwise_forward, depthwise_backward, 0, 0};
