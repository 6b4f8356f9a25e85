/*
 * mco_mean_s8.c - TFLite's int8 MEAN over height and width (Keras'
 * GlobalAveragePooling2D as TFLite converts it), bit for bit as TFLite
 * Micro's reference kernel (reference_ops::QuantizedMeanOrSum):
 *
 *   acc = sum of the h*w inputs of a channel - h*w * input zero point
 *   out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift)
 *               + output zero point, act_min, act_max)
 *
 * where multiplier and shift are input_scale / output_scale with the
 * 1 / (h*w) folded in (the host computes them: mco_quant_mean_params). The
 * output may have its own scale and zero point; that is why it is not the
 * average pool (mco_global_avg_pool_s8, which keeps the input's and rounds
 * a division instead).
 *
 * What it leaves out: means over other axes; more than 2^23 values per
 * channel (the int32 sum could overflow: MCO_RT_ARG_ERROR).
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_mean_s8(const mco_mean_s8_params *p, const int8_t *input, int8_t *output)
{
    const mco_window *w;
    int32_t count, c, i;
    if (!p || !input || !output || !mco_window_valid(&p->win, 1) || p->act_min < -128 || p->act_max > 127 ||
        p->act_min > p->act_max || p->input_offset < -127 || p->input_offset > 128 || p->output_offset < -128 ||
        p->output_offset > 127 || p->multiplier < 0 || p->shift < -31 || p->shift > 30)
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    if (w->in_h > (1 << 23) / w->in_w) return MCO_RT_ARG_ERROR;
    count = w->in_h * w->in_w;
    for (c = 0; c < w->in_c; c++) {
        int32_t acc = count * p->input_offset;
        for (i = 0; i < count; i++) acc += input[(size_t)i * (size_t)w->in_c + (size_t)c];
        acc = mco_fp_clamp(mco_fp_requantize(acc, p->multiplier, p->shift), -256, 255) + p->output_offset;
        output[c] = (int8_t)mco_fp_clamp(acc, p->act_min, p->act_max);
    }
    return MCO_RT_OK;
}
