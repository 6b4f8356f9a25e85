/*
 * mco_activation_f32.c - the float element-wise activations that are not a
 * clamp: sigmoid, tanh, LeakyReLU, HardSigmoid and HardSwish, one kernel
 * choosing the function by p->function (MCO_ACTIVATION_*):
 *
 *   sigmoid       1 / (1 + exp(-x))
 *   tanh          1 - 2 / (exp(2x) + 1)        (saturates to +-1 cleanly)
 *   leaky_relu    x >= 0 ? x : alpha x
 *   hard_sigmoid  min(max(alpha x + beta, 0), 1)
 *   hard_swish    x * min(max(x + 3, 0), 6) / 6
 *
 * exp is mco_exp_f32 (mco_softmax_f32.c, no libm), so sigmoid and tanh are
 * within a few float ulps of the exact functions, not bit-equal to libm's.
 * The output may be the input (in place).
 *
 * What it leaves out: the int8 forms (one lookup table kernel for all of
 * them: mco_lut_s8.c).
 */
#include "mco_runtime.h"

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

mco_rt_status mco_activation_f32(const mco_activation_f32_params *p, const float *input, float *output)
{
    int32_t i;
    if (!p || !input || !output || p->size < 0) return MCO_RT_ARG_ERROR;
    switch (p->function) {
    case MCO_ACTIVATION_SIGMOID:
        for (i = 0; i < p->size; i++) output[i] = 1.0f / (1.0f + mco_exp_f32(-input[i]));
        break;
    case MCO_ACTIVATION_TANH:
        for (i = 0; i < p->size; i++) output[i] = 1.0f - 2.0f / (mco_exp_f32(2.0f * input[i]) + 1.0f);
        break;
    case MCO_ACTIVATION_LEAKY_RELU:
        for (i = 0; i < p->size; i++) output[i] = input[i] >= 0.0f ? input[i] : p->alpha * input[i];
        break;
    case MCO_ACTIVATION_HARD_SIGMOID:
        for (i = 0; i < p->size; i++) output[i] = clamp01(p->alpha * input[i] + p->beta);
        break;
    case MCO_ACTIVATION_HARD_SWISH:
        for (i = 0; i < p->size; i++) {
            float x = input[i], r = x + 3.0f;
            r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
            output[i] = x * r / 6.0f;
        }
        break;
    default:
        return MCO_RT_ARG_ERROR;
    }
    return MCO_RT_OK;
}
