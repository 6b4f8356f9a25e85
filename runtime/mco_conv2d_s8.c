/*
 * mco_conv2d_s8.c - int8 Conv2D with int8 (mco_conv2d_s8) or packed int4
 * (mco_conv2d_s4) per-channel weights, TFLite arithmetic.
 *
 * Two output channels are computed together so every input word is loaded
 * and widened once for both (on DSP cores: SXTAB16 + SMLAD, four MACs per
 * two instructions per channel). Each kernel row of a window is contiguous
 * in the input and in the weights (NHWC / OHWI), so the inner loop is one
 * dot product of kernel_w * in_c values; padding is clipped away, not read.
 * int4 weights take the scalar path.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static mco_rt_status conv2d_int(const mco_conv_s8_params *p, const int8_t *input,
                                mco_int_weights weights, const int32_t *bias, int8_t *output)
{
    const mco_window *w;
    int32_t oy, ox, oc;
    if (!p || !input || !bias || !output || !mco_window_valid(&p->win, 0) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                         p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            for (oc = 0; oc < w->out_c; oc += 2) {
                int two = oc + 1 < w->out_c;
                int32_t acc[2];
                acc[0] = bias[oc];
                acc[1] = two ? bias[oc + 1] : 0;
                mco_conv_window_s8(p, input, weights, oc, two, oy, ox, acc);
                output[oc] = mco_fp_output_s8(acc[0], p->multiplier[oc], p->shift[oc],
                                              p->output_offset, p->act_min, p->act_max);
                if (two)
                    output[oc + 1] = mco_fp_output_s8(acc[1], p->multiplier[oc + 1], p->shift[oc + 1],
                                                      p->output_offset, p->act_min, p->act_max);
            }
            output += w->out_c;
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_conv2d_s8(const mco_conv_s8_params *p, const int8_t *input,
                            const int8_t *weights, const int32_t *bias, int8_t *output)
{
    mco_int_weights iw;
    iw.s8 = weights;
    iw.s4 = NULL;
    if (!weights) return MCO_RT_ARG_ERROR;
    return conv2d_int(p, input, iw, bias, output);
}

mco_rt_status mco_conv2d_s4(const mco_conv_s8_params *p, const int8_t *input,
                            const uint8_t *packed_weights, const int32_t *bias, int8_t *output)
{
    mco_int_weights iw;
    iw.s8 = NULL;
    iw.s4 = packed_weights;
    if (!packed_weights) return MCO_RT_ARG_ERROR;
    return conv2d_int(p, input, iw, bias, output);
}
