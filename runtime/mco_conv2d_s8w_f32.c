/*
 * mco_conv2d_s8w_f32.c - float Conv2D with int8 weights [out_c][kh][kw][in_c]
 * and per-channel float scales (see mco_hybrid.h), fused clamp. Each kernel
 * row of a window is contiguous in the input and the weights (NHWC / OHWI);
 * padding is clipped away, not read.
 */
#include "mco_hybrid.h"
#include "mco_kernel_util.h"

mco_rt_status mco_conv2d_s8w_f32(const mco_conv_s8w_f32_params *p, const float *input,
                                 const int8_t *weights, const float *bias, float *output)
{
    const mco_window *w;
    int32_t oy, ox, oc, ky, i;
    size_t channel_size;
    if (!p || !input || !weights || !bias || !output || !p->weight_scales ||
        !mco_window_valid(&p->win, 0))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    channel_size = (size_t)(w->kernel_h * w->kernel_w * w->in_c);
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip c = mco_clip_window(w, oy, ox);
            int32_t row_len = (c.kx_hi - c.kx_lo) * w->in_c;
            for (oc = 0; oc < w->out_c; oc++) {
                float sum = 0.0f;
                for (ky = c.ky_lo; ky < c.ky_hi; ky++) {
                    const float *in = input + ((size_t)(c.y0 + ky) * (size_t)w->in_w + (size_t)(c.x0 + c.kx_lo)) * (size_t)w->in_c;
                    const int8_t *wr = weights + (size_t)oc * channel_size +
                                       (size_t)((ky * w->kernel_w + c.kx_lo) * w->in_c);
                    for (i = 0; i < row_len; i++) sum += in[i] * (float)wr[i];
                }
                *output++ = mco_clamp_f(bias[oc] + p->weight_scales[oc] * sum, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
