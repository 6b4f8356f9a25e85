/*
 * mco_depthwise_conv2d_f32.c - float DepthwiseConv2D (depth multiplier 1)
 * with float32 or half-precision stored weights [kh][kw][c], fused clamp.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static float weight_at(mco_float_weights w, size_t i)
{
    return w.f32 ? w.f32[i] : mco_half_to_float(w.f16[i]);
}

static mco_rt_status depthwise_float(const mco_conv_f32_params *p, const float *input,
                                     mco_float_weights weights, const float *bias, float *output)
{
    const mco_window *w;
    int32_t oy, ox, c, ky, kx;
    if (!p || !input || (!weights.f32 && !weights.f16) || !bias || !output ||
        !mco_window_valid(&p->win, 1))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            for (c = 0; c < w->in_c; c++) {
                float acc = bias[c];
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    for (kx = clip.kx_lo; kx < clip.kx_hi; kx++) {
                        size_t in = ((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + kx)) * (size_t)w->in_c + (size_t)c;
                        size_t wi = (size_t)(ky * w->kernel_w + kx) * (size_t)w->in_c + (size_t)c;
                        acc += input[in] * weight_at(weights, wi);
                    }
                }
                *output++ = mco_clamp_f(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_depthwise_conv2d_f32(const mco_conv_f32_params *p, const float *input,
                                       const float *weights, const float *bias, float *output)
{
    return depthwise_float(p, input, mco_float_weights_f32(weights), bias, output);
}

mco_rt_status mco_depthwise_conv2d_f16w(const mco_conv_f32_params *p, const float *input,
                                        const uint16_t *weights, const float *bias,
                                        float *output)
{
    return depthwise_float(p, input, mco_float_weights_f16(weights), bias, output);
}
