/*
 * mco_depthwise_conv2d_s8.c - int8 DepthwiseConv2D (depth multiplier 1),
 * per-channel weights [kh][kw][c], TFLite arithmetic. Scalar code only:
 * depthwise layers hold few MACs next to the pointwise convolutions.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_depthwise_conv2d_s8(const mco_conv_s8_params *p, const int8_t *input,
                                      const int8_t *weights, const int32_t *bias,
                                      int8_t *output)
{
    const mco_window *w;
    int32_t oy, ox, c, ky, kx;
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 1) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                         p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            for (c = 0; c < w->in_c; c++) {
                int32_t acc = bias[c];
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    /* the row's first in-bounds tap (x0 + kx_lo >= 0): no
                     * pointer is ever formed outside the arrays */
                    const int8_t *in = input + ((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + clip.kx_lo)) * (size_t)w->in_c + (size_t)c;
                    const int8_t *wt = weights + (size_t)(ky * w->kernel_w + clip.kx_lo) * (size_t)w->in_c + (size_t)c;
                    for (kx = 0; kx < clip.kx_hi - clip.kx_lo; kx++) {
                        size_t step = (size_t)kx * (size_t)w->in_c;
                        acc += ((int32_t)in[step] + p->input_offset) * (int32_t)wt[step];
                    }
                }
                *output++ = mco_fp_output_s8(acc, p->multiplier[c], p->shift[c], p->output_offset,
                                             p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
