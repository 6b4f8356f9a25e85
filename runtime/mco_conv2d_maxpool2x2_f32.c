/*
 * mco_conv2d_maxpool2x2_f32.c - float Conv2D + clamp + MaxPool 2x2 stride 2
 * computed one pooled pixel at a time, so the conv output is never stored.
 * Each conv value comes from the same helper as mco_conv2d_f32, and the
 * clamp is monotonic, so max-then-clamp equals clamp-then-max: the result is
 * identical to mco_conv2d_f32 followed by mco_max_pool_f32.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_conv2d_maxpool2x2_f32(const mco_conv_f32_params *p, const float *input,
                                        const float *weights, const float *bias, float *output)
{
    const mco_window *w;
    mco_float_weights fw;
    int32_t py, px, oc, dy, dx;
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 0) ||
        p->win.out_h < 2 || p->win.out_w < 2)
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    fw.f32 = weights;
    fw.f16 = NULL;
    for (py = 0; py < w->out_h / 2; py++) {
        for (px = 0; px < w->out_w / 2; px++) {
            for (oc = 0; oc < w->out_c; oc++) {
                float best = 0.0f;
                for (dy = 0; dy < 2; dy++) {
                    for (dx = 0; dx < 2; dx++) {
                        float v = mco_conv_window_f32(w, input, fw, bias[oc], oc, 2 * py + dy, 2 * px + dx);
                        best = (dy == 0 && dx == 0) || v > best ? v : best;
                    }
                }
                *output++ = mco_clamp_f(best, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
