/*
 * mco_elementwise_f32.c - float ReLU / ReLU6 (a clamp) and Add.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_clamp_f32(float *data, int32_t size, float act_min, float act_max)
{
    int32_t i;
    if (!data || size <= 0) return MCO_RT_ARG_ERROR;
    for (i = 0; i < size; i++) data[i] = mco_clamp_f(data[i], act_min, act_max);
    return MCO_RT_OK;
}

mco_rt_status mco_add_f32(const float *a, const float *b, float *output, int32_t size,
                          float act_min, float act_max)
{
    int32_t i;
    if (!a || !b || !output || size <= 0) return MCO_RT_ARG_ERROR;
    for (i = 0; i < size; i++) output[i] = mco_clamp_f(a[i] + b[i], act_min, act_max);
    return MCO_RT_OK;
}
