/*
 * mco_fully_connected_s8.c - int8 Dense with int8 (mco_fully_connected_s8)
 * or packed int4 (mco_fully_connected_s4) weights [units][in], TFLite
 * arithmetic. The int8 version computes two units per pass over the input
 * (SXTAB16 widens 4 inputs once, SXTB16 + SMLAD consume them for both
 * weight rows); int4 is scalar.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static int fc_valid(const mco_fc_s8_params *p, const int8_t *input, const void *weights,
                    const int32_t *bias, const int8_t *output)
{
    return p && input && weights && bias && output && p->in_size > 0 && p->out_size > 0 &&
           mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                           p->multiplier, p->shift);
}

static int8_t fc_output(const mco_fc_s8_params *p, int32_t acc, int32_t unit)
{
    return mco_fp_output_s8(acc, p->multiplier[unit], p->shift[unit], p->output_offset,
                            p->act_min, p->act_max);
}

mco_rt_status mco_fully_connected_s8(const mco_fc_s8_params *p, const int8_t *input,
                                     const int8_t *weights, const int32_t *bias,
                                     int8_t *output)
{
    int32_t u;
    size_t row = 0;
    if (!fc_valid(p, input, weights, bias, output)) return MCO_RT_ARG_ERROR;
    row = (size_t)p->in_size;
    for (u = 0; u + 1 < p->out_size; u += 2) {
        int32_t acc[2];
        const int8_t *w0 = weights + (size_t)u * row;
        acc[0] = bias[u];
        acc[1] = bias[u + 1];
        mco_dot2_s8(acc, input, w0, w0 + row, p->in_size, p->input_offset);
        output[u] = fc_output(p, acc[0], u);
        output[u + 1] = fc_output(p, acc[1], u + 1);
    }
    if (u < p->out_size) {
        int32_t acc = mco_dot_s8(bias[u], input, weights + (size_t)u * row, p->in_size, p->input_offset);
        output[u] = fc_output(p, acc, u);
    }
    return MCO_RT_OK;
}

mco_rt_status mco_fully_connected_s4(const mco_fc_s8_params *p, const int8_t *input,
                                     const uint8_t *packed_weights, const int32_t *bias,
                                     int8_t *output)
{
    int32_t u;
    if (!fc_valid(p, input, packed_weights, bias, output)) return MCO_RT_ARG_ERROR;
    for (u = 0; u < p->out_size; u++) {
        int32_t acc = mco_dot_s4(bias[u], input, packed_weights, (size_t)u * (size_t)p->in_size,
                                 p->in_size, p->input_offset);
        output[u] = fc_output(p, acc, u);
    }
    return MCO_RT_OK;
}
