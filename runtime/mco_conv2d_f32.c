/*
 * mco_conv2d_f32.c - float Conv2D with float32 weights or half-precision
 * stored weights (converted while they are used), fused clamp.
 * The reference the int8 kernels are checked against.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static mco_rt_status conv2d_float(const mco_conv_f32_params *p, const float *input,
                                  mco_float_weights weights, const float *bias, float *output)
{
    const mco_window *w;
    int32_t oy, ox, oc;
    if (!p || !input || (!weights.f32 && !weights.f16) || !bias || !output ||
        !mco_window_valid(&p->win, 0))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            for (oc = 0; oc < w->out_c; oc++) {
                float acc = mco_conv_window_f32(w, input, weights, bias[oc], oc, oy, ox);
                *output++ = mco_clamp_f(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_conv2d_f32(const mco_conv_f32_params *p, const float *input,
                             const float *weights, const float *bias, float *output)
{
    return conv2d_float(p, input, mco_float_weights_f32(weights), bias, output);
}

mco_rt_status mco_conv2d_f16w(const mco_conv_f32_params *p, const float *input,
                              const uint16_t *weights, const float *bias, float *output)
{
    return conv2d_float(p, input, mco_float_weights_f16(weights), bias, output);
}
