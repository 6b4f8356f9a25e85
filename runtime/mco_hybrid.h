/*
 * mco_hybrid.h - "int8 weights only" kernels: float activations, weights
 * stored as int8 with one float scale per output channel (per tensor = the
 * same scale everywhere), dequantized inside the kernel. This is TFLite's
 * dynamic-range idea cut down for an MCU: the weights take a quarter of the
 * Flash of float32, the arithmetic stays float, and nothing is quantized at
 * run time. Each output is
 *
 *   y[c] = clamp(bias[c] + weight_scale[c] * sum(x * (float)w_q[c]), act_min, act_max)
 *
 * (the int8 weights are multiplied as floats; the scale is applied once per
 * output, not once per weight).
 *
 * Layouts, padding and clamps are those of the float kernels in
 * mco_runtime.h. Plain C99, no malloc. What it leaves out: packed int4
 * weights (the host stores int4 values unpacked, one per byte, for these
 * kernels) and DSP-specific paths.
 */
#ifndef MCO_HYBRID_H
#define MCO_HYBRID_H

#include <stdint.h>

#include "mco_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    mco_window win;
    float act_min, act_max;
    const float *weight_scales;   /* [out_c] */
} mco_conv_s8w_f32_params;        /* Conv2D and DepthwiseConv2D */

typedef struct {
    int32_t in_size, out_size;
    float act_min, act_max;
    const float *weight_scales;   /* [out_size] */
} mco_fc_s8w_f32_params;

mco_rt_status mco_conv2d_s8w_f32(const mco_conv_s8w_f32_params *p, const float *input,
                                 const int8_t *weights, const float *bias, float *output);
mco_rt_status mco_depthwise_conv2d_s8w_f32(const mco_conv_s8w_f32_params *p, const float *input,
                                           const int8_t *weights, const float *bias,
                                           float *output);
mco_rt_status mco_fully_connected_s8w_f32(const mco_fc_s8w_f32_params *p, const float *input,
                                          const int8_t *weights, const float *bias, float *output);

#ifdef __cplusplus
}
#endif
#endif
