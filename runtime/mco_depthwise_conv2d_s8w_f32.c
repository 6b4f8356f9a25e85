/*
 * mco_depthwise_conv2d_s8w_f32.c - float DepthwiseConv2D (depth multiplier
 * 1) with int8 weights [kh][kw][c] and per-channel float scales (see
 * mco_hybrid.h), fused clamp.
 */
#include "mco_hybrid.h"
#include "mco_kernel_util.h"

mco_rt_status mco_depthwise_conv2d_s8w_f32(const mco_conv_s8w_f32_params *p, const float *input,
                                           const int8_t *weights, const float *bias,
                                           float *output)
{
    const mco_window *w;
    int32_t oy, ox, c, ky, kx;
    if (!p || !input || !weights || !bias || !output || !p->weight_scales ||
        !mco_window_valid(&p->win, 1))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            for (c = 0; c < w->in_c; c++) {
                float sum = 0.0f;
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    for (kx = clip.kx_lo; kx < clip.kx_hi; kx++) {
                        size_t in = ((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + kx)) * (size_t)w->in_c + (size_t)c;
                        size_t wi = (size_t)(ky * w->kernel_w + kx) * (size_t)w->in_c + (size_t)c;
                        sum += input[in] * (float)weights[wi];
                    }
                }
                *output++ = mco_clamp_f(bias[c] + p->weight_scales[c] * sum, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
