/*
 * quant_multiplier.h - host-side derivation of the integer parameters the
 * int8 runtime kernels take (runtime/mco_runtime.h): requantization
 * multiplier/shift pairs, and the int8 softmax parameters. Host only: it
 * uses <math.h>, which the MCU runtime must not.
 */
#ifndef MCO_QUANT_MULTIPLIER_H
#define MCO_QUANT_MULTIPLIER_H

#include <stdint.h>

#include "mcuopt/status.h"

/* TFLite's QuantizeMultiplier: real = multiplier * 2^shift / 2^31 with
 * multiplier in [2^30, 2^31) (or 0 for real 0), so that
 * mco_requantize(acc, multiplier, shift) ~= acc * real. Fails with
 * MCO_ERR_RANGE for a negative, non-finite or >= 2^30 real. Reals below
 * 2^-32 give (0, 0), as TFLite. */
mco_status mco_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

/* TFLite's int8 softmax preprocessing for beta 1 and an input scale:
 * multiplier and left shift of beta * scale in Q5.26, and diff_min. */
mco_status mco_quant_softmax_params(double input_scale, int32_t *multiplier, int32_t *left_shift,
                                    int32_t *diff_min);

/* TFLite's int8 MEAN (reference_ops::QuantizedMeanOrSum): the multiplier
 * and shift of input_scale / output_scale (from mco_quantize_multiplier)
 * with 1 / count folded in: s = min(floor(log2 count), 32, 31 + shift),
 * multiplier' = (multiplier << s) / count (int64, truncating),
 * shift' = shift - s. */
mco_status mco_quant_mean_params(int32_t multiplier, int32_t shift, int64_t count, int32_t *mean_multiplier,
                                 int32_t *mean_shift);

#endif
