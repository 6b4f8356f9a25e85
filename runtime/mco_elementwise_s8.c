/*
 * mco_elementwise_s8.c - int8 ReLU / ReLU6 as a clamp in the tensor's own
 * quantized domain (scale and zero point unchanged), and TFLite's int8 Add.
 *
 * Add (TFLite reference / CMSIS-NN arm_elementwise_add_s8): both inputs are
 * shifted left by left_shift (20) for headroom, scaled to a common scale by
 * their multipliers (shifts <= 0), summed, then requantized to the output.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_clamp_s8(int8_t *data, int32_t size, int32_t act_min, int32_t act_max)
{
    int32_t i;
    if (!data || size <= 0 || act_min < -128 || act_max > 127 || act_min > act_max)
        return MCO_RT_ARG_ERROR;
    for (i = 0; i < size; i++) data[i] = (int8_t)mco_fp_clamp(data[i], act_min, act_max);
    return MCO_RT_OK;
}

mco_rt_status mco_add_s8(const mco_add_s8_params *p, const int8_t *input1, const int8_t *input2,
                         int8_t *output)
{
    int32_t i;
    if (!p || !input1 || !input2 || !output || p->size <= 0 || p->left_shift < 0 ||
        p->left_shift > 20 || p->input1_shift > 0 || p->input2_shift > 0 ||
        p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max ||
        p->input1_offset < -127 || p->input1_offset > 128 || p->input2_offset < -127 ||
        p->input2_offset > 128)
        return MCO_RT_ARG_ERROR;
    for (i = 0; i < p->size; i++) {
        int32_t a = ((int32_t)input1[i] + p->input1_offset) * (1 << p->left_shift);
        int32_t b = ((int32_t)input2[i] + p->input2_offset) * (1 << p->left_shift);
        int32_t sum = mco_fp_requantize(a, p->input1_multiplier, p->input1_shift) +
                      mco_fp_requantize(b, p->input2_multiplier, p->input2_shift);
        output[i] = mco_fp_output_s8(sum, p->output_multiplier, p->output_shift, p->output_offset,
                                     p->act_min, p->act_max);
    }
    return MCO_RT_OK;
}
