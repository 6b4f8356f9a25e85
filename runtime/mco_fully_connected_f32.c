/*
 * mco_fully_connected_f32.c - float Dense with float32 or half-precision
 * stored weights [units][in], fused clamp.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static mco_rt_status fully_connected_float(const mco_fc_f32_params *p, const float *input,
                                           mco_float_weights weights, const float *bias,
                                           float *output)
{
    int32_t u;
    if (!p || !input || (!weights.f32 && !weights.f16) || !bias || !output || p->in_size <= 0 ||
        p->out_size <= 0)
        return MCO_RT_ARG_ERROR;
    for (u = 0; u < p->out_size; u++) {
        float acc = mco_dot_fw(bias[u], input, weights, (size_t)u * (size_t)p->in_size, p->in_size);
        output[u] = mco_clamp_f(acc, p->act_min, p->act_max);
    }
    return MCO_RT_OK;
}

mco_rt_status mco_fully_connected_f32(const mco_fc_f32_params *p, const float *input,
                                      const float *weights, const float *bias, float *output)
{
    return fully_connected_float(p, input, mco_float_weights_f32(weights), bias, output);
}

mco_rt_status mco_fully_connected_f16w(const mco_fc_f32_params *p, const float *input,
                                       const uint16_t *weights, const float *bias,
                                       float *output)
{
    return fully_connected_float(p, input, mco_float_weights_f16(weights), bias, output);
}
