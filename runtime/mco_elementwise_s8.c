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

/* One input's term of the sum: TFLite's requantization of
 * (x + offset) << left_shift. With `half` (multiplier 2^30, shift 0: the
 * input of the larger scale, whose real multiplier is exactly 1/2, and
 * left_shift >= 1) that is exactly (x + offset) << (left_shift - 1): the
 * doubling high multiply halves an even number without rounding. */
static inline int32_t add_term(int32_t x, int32_t offset, int32_t left_shift, const mco_requant_small *rq,
                               int half)
{
    if (half) return (x + offset) * (1 << (left_shift - 1));
    return mco_fp_requant_small(rq, (x + offset) * (1 << left_shift));
}

/* The loop, specialised by the callers on half1 / half2 (constants). The
 * parameters come as values: an int8 store may alias *p, so reading them
 * through p would reload them for every value. */
static inline void add_loop(const int8_t *input1, const int8_t *input2, int8_t *output, int32_t size,
                            int32_t offset1, int32_t offset2, int32_t left_shift, mco_requant_small rq1,
                            mco_requant_small rq2, int half1, int half2, int32_t out_multiplier, int32_t out_shift,
                            int32_t out_offset, int32_t act_min, int32_t act_max)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        int32_t sum = add_term(input1[i], offset1, left_shift, &rq1, half1) +
                      add_term(input2[i], offset2, left_shift, &rq2, half2);
        output[i] = mco_fp_output_s8(sum, out_multiplier, out_shift, out_offset, act_min, act_max);
    }
}

static int is_half(const mco_requant_small *rq, int32_t left_shift)
{
    return rq->multiplier == (1 << 30) && rq->shift == 0 && left_shift >= 1;
}

mco_rt_status mco_add_s8(const mco_add_s8_params *p, const int8_t *input1, const int8_t *input2,
                         int8_t *output)
{
    mco_requant_small rq1, rq2;
    if (!p || !input1 || !input2 || !output || p->size <= 0 || p->left_shift < 0 ||
        p->left_shift > 20 || p->input1_shift > 0 || p->input2_shift > 0 ||
        p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max ||
        p->input1_offset < -127 || p->input1_offset > 128 || p->input2_offset < -127 ||
        p->input2_offset > 128)
        return MCO_RT_ARG_ERROR;
    /* the shifted inputs are below 255 * 2^20 < 2^30 in magnitude and the
     * input shifts <= 0: the 32-bit form of their requantization is exact */
    rq1 = mco_fp_requant_small_init(p->input1_multiplier, p->input1_shift);
    rq2 = mco_fp_requant_small_init(p->input2_multiplier, p->input2_shift);
    if (is_half(&rq1, p->left_shift))
        add_loop(input1, input2, output, p->size, p->input1_offset, p->input2_offset, p->left_shift, rq1, rq2, 1,
                 0, p->output_multiplier, p->output_shift, p->output_offset, p->act_min, p->act_max);
    else if (is_half(&rq2, p->left_shift))
        add_loop(input1, input2, output, p->size, p->input1_offset, p->input2_offset, p->left_shift, rq1, rq2, 0,
                 1, p->output_multiplier, p->output_shift, p->output_offset, p->act_min, p->act_max);
    else
        add_loop(input1, input2, output, p->size, p->input1_offset, p->input2_offset, p->left_shift, rq1, rq2, 0,
                 0, p->output_multiplier, p->output_shift, p->output_offset, p->act_min, p->act_max);
    return MCO_RT_OK;
}
