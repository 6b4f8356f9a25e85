/*
 * layer_conv_transpose.c - ConvTranspose2D (a transposed convolution:
 * ONNX ConvTranspose, PyTorch nn.ConvTranspose2d), forward and backward,
 * float NHWC, weights OHWI (graph.h).
 *
 * A transposed convolution is the backward-data pass of a convolution: an
 * input pixel (iy, ix) reaches output pixel (oy, ox) through tap (ky, kx)
 * when oy + pad_top = iy * stride_h + ky (and likewise for columns). Both
 * passes walk the output pixels and gather the (tap, input pixel) pairs
 * that reach each one, so forward writes every output value once and no
 * scratch is needed: forward is out[o] = bias[o] + sum of
 * dot(in[iy][ix][:], w[o][ky][kx][:]); backward, the forward pass of the
 * matching convolution, gives each input pixel the sum over its taps of
 * grad_out[o] * w[o][ky][kx][:], and each weight grad_out[o] * in.
 *
 * What it leaves out: groups, dilation (ONNX import refuses both), a fast
 * (oneDNN) path: this reference loop is the only one.
 */
#include <string.h>

#include "layer_ops.h"
#include "vec.h"

/* Forward (backward == 0) or backward over one sample: for each output
 * pixel, every (ky, kx) tap and the input pixel it reads
 * (mco_conv_transpose_first_tap, graph.h). */
static void conv_transpose_walk(const mco_layer_ctx *ctx, int n, int backward)
{
    const mco_layer *l = ctx->layer;
    const int in_h = l->in_shape.h, in_w = l->in_shape.w, ic_n = l->in_shape.c;
    const int out_h = l->out_shape.h, out_w = l->out_shape.w, oc_n = l->out_shape.c;
    const int kh = l->kernel_h, kw = l->kernel_w, sh = l->stride_h, sw = l->stride_w;
    const size_t taps = (size_t)kh * kw * ic_n;
    const float *w = l->params[MCO_PARAM_WEIGHTS].data;
    const float *in = ctx->in[0] + (size_t)n * in_h * in_w * ic_n;
    float *out = ctx->out + (size_t)n * out_h * out_w * oc_n;
    const float *gout = backward ? ctx->grad_out + (size_t)n * out_h * out_w * oc_n : NULL;
    float *din = backward && ctx->grad_in[0] ? ctx->grad_in[0] + (size_t)n * in_h * in_w * ic_n : NULL;
    float *dw = backward ? ctx->param_grad[MCO_PARAM_WEIGHTS] : NULL;

    for (int oy = 0; oy < out_h; oy++)
        for (int ox = 0; ox < out_w; ox++) {
            size_t at = ((size_t)oy * out_w + ox) * oc_n;
            if (!backward) memcpy(out + at, l->params[MCO_PARAM_BIAS].data, (size_t)oc_n * sizeof(float));
            else mco_vadd(ctx->param_grad[MCO_PARAM_BIAS], gout + at, oc_n);
            int iy0, ix0;
            int ky0 = mco_conv_transpose_first_tap(oy, l->pad_top, sh, kh, in_h, &iy0);
            int kx0 = mco_conv_transpose_first_tap(ox, l->pad_left, sw, kw, in_w, &ix0);
            for (int ky = ky0, iy = iy0; ky < kh && iy >= 0; ky += sh, iy--)
                for (int kx = kx0, ix = ix0; kx < kw && ix >= 0; kx += sw, ix--) {
                    size_t in_at = ((size_t)iy * in_w + ix) * ic_n;
                    size_t tap = ((size_t)ky * kw + kx) * ic_n;
                    for (int o = 0; o < oc_n; o++) {
                        const float *wo = w + (size_t)o * taps + tap;
                        if (!backward) {
                            out[at + (size_t)o] += mco_dot(in + in_at, wo, ic_n);
                            continue;
                        }
                        float g = gout[at + (size_t)o];
                        mco_axpy(dw + (size_t)o * taps + tap, g, in + in_at, ic_n);
                        if (din) mco_axpy(din + in_at, g, wo, ic_n);
                    }
                }
        }
}

static void conv_transpose_forward(const mco_layer_ctx *ctx)
{
    for (int n = 0; n < ctx->batch; n++) conv_transpose_walk(ctx, n, 0);
}

static void conv_transpose_backward(const mco_layer_ctx *ctx)
{
    for (int n = 0; n < ctx->batch; n++) conv_transpose_walk(ctx, n, 1);
}

const mco_layer_ops mco_conv_transpose2d_ops = {NULL, conv_transpose_forward, conv_transpose_backward, 0, 0};
