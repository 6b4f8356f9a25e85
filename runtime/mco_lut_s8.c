/*
 * mco_lut_s8.c - any int8 element-wise function as a 256-entry lookup
 * table: output[i] = table[input[i] + 128]. TFLite's approach for its int8
 * LOGISTIC, TANH, HARD_SWISH and LEAKY_RELU (LUTPopulate): an int8 input has
 * only 256 values, so the host evaluates the exact real function once per
 * value, requantizes it to the output's scale and zero point, and the chip
 * only looks it up. mcuopt runs sigmoid, tanh, LeakyReLU, HardSigmoid and
 * HardSwish this way (the host builds the table: mco_quant_activation_lut,
 * src/quant/activation_lut.c). The output may be the input (in place).
 *
 * What it leaves out: int16 tables; nothing here knows which function the
 * table holds.
 */
#include "mco_runtime.h"

mco_rt_status mco_lut_s8(const mco_lut_s8_params *p, const int8_t *input, const int8_t *table, int8_t *output)
{
    int32_t i;
    if (!p || !input || !table || !output || p->size < 0) return MCO_RT_ARG_ERROR;
    for (i = 0; i < p->size; i++) output[i] = table[(int32_t)input[i] + 128];
    return MCO_RT_OK;
}
