/*
 * mco_conv_general_f32.c - float general convolution (mco_runtime.h): a
 * Conv2D with groups or a dilation, a DepthwiseConv2D with a depth
 * multiplier or a dilation, float weights, fused clamp. One plain C loop:
 * each output pixel and channel sums the in_c / groups input channels of
 * its group at every tap of its dilated window that lies inside the input.
 *
 * What it leaves out: half-precision weights, speed (the common shapes run
 * mco_conv2d_f32 and mco_depthwise_conv2d_f32).
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_conv_general_f32(const mco_conv_general_f32_params *p, const float *input,
                                   const float *weights, const float *bias, float *output)
{
    const mco_window *w;
    int32_t oy, ox, oc, ky, kx, i;
    mco_conv_general_layout l;
    if (!p || !input || !weights || !bias || !output || !mco_conv_general_valid(&p->conv))
        return MCO_RT_ARG_ERROR;
    w = &p->conv.win;
    mco_conv_general_layout_of(&p->conv, &l);
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            for (oc = 0; oc < w->out_c; oc++) {
                float acc = bias[oc];
                size_t first = (size_t)(oc / l.group_out) * (size_t)l.group_in;
                for (ky = 0; ky < w->kernel_h; ky++) {
                    int32_t iy = oy * w->stride_h - w->pad_top + ky * p->conv.dilation_h;
                    if (iy < 0 || iy >= w->in_h) continue;
                    for (kx = 0; kx < w->kernel_w; kx++) {
                        int32_t ix = ox * w->stride_w - w->pad_left + kx * p->conv.dilation_w;
                        const float *x, *wk;
                        if (ix < 0 || ix >= w->in_w) continue;
                        x = input + ((size_t)iy * (size_t)w->in_w + (size_t)ix) * (size_t)w->in_c + first;
                        wk = weights + (size_t)oc * l.w_out + (size_t)(ky * w->kernel_w + kx) * l.w_tap;
                        for (i = 0; i < l.group_in; i++) acc += x[i] * wk[(size_t)i * l.w_in];
                    }
                }
                *output++ = mco_clamp_f(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
