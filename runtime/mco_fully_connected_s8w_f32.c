/*
 * mco_fully_connected_s8w_f32.c - float Dense with int8 weights [units][in]
 * and per-unit float scales (see mco_hybrid.h), fused clamp.
 */
#include "mco_hybrid.h"
#include "mco_kernel_util.h"

mco_rt_status mco_fully_connected_s8w_f32(const mco_fc_s8w_f32_params *p, const float *input,
                                          const int8_t *weights, const float *bias, float *output)
{
    int32_t u, i;
    if (!p || !input || !weights || !bias || !output || !p->weight_scales || p->in_size <= 0 ||
        p->out_size <= 0)
        return MCO_RT_ARG_ERROR;
    for (u = 0; u < p->out_size; u++) {
        const int8_t *row = weights + (size_t)u * (size_t)p->in_size;
        float sum = 0.0f;
        for (i = 0; i < p->in_size; i++) sum += input[i] * (float)row[i];
        output[u] = mco_clamp_f(bias[u] + p->weight_scales[u] * sum, p->act_min, p->act_max);
    }
    return MCO_RT_OK;
}
