/*
 * mco_conv_transpose2d_f32.c - float ConvTranspose2D (a transposed
 * convolution: ONNX ConvTranspose, PyTorch nn.ConvTranspose2d) with float
 * weights and a fused clamp. The geometry and weight layout are those of
 * mco_conv_transpose2d_s8.c: each output value is the bias plus the taps
 * that reach it, gathered (no scratch).
 *
 * What it leaves out: groups, dilation, half-precision weights.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_conv_transpose2d_f32(const mco_conv_f32_params *p, const float *input, const float *weights,
                                       const float *bias, float *output)
{
    const mco_window *w;
    int32_t oy, ox, oc, taps;
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 0)) return MCO_RT_ARG_ERROR;
    w = &p->win;
    taps = w->kernel_h * w->kernel_w * w->in_c;
    for (oy = 0; oy < w->out_h; oy++) {
        int32_t iy0, ky0 = mco_transposed_first_tap(oy, w->pad_top, w->stride_h, w->kernel_h, w->in_h, &iy0);
        for (ox = 0; ox < w->out_w; ox++) {
            int32_t ix0, kx0 = mco_transposed_first_tap(ox, w->pad_left, w->stride_w, w->kernel_w, w->in_w, &ix0);
            for (oc = 0; oc < w->out_c; oc++) {
                float acc = bias[oc];
                int32_t ky, kx, iy, ix, c;
                for (ky = ky0, iy = iy0; ky < w->kernel_h && iy >= 0; ky += w->stride_h, iy--) {
                    for (kx = kx0, ix = ix0; kx < w->kernel_w && ix >= 0; kx += w->stride_w, ix--) {
                        const float *x = input + ((size_t)iy * (size_t)w->in_w + (size_t)ix) * (size_t)w->in_c;
                        const float *k = weights + (size_t)oc * (size_t)taps +
                                         ((size_t)ky * (size_t)w->kernel_w + (size_t)kx) * (size_t)w->in_c;
                        for (c = 0; c < w->in_c; c++) acc += x[c] * k[c];
                    }
                }
                *output++ = mco_clamp_f(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
