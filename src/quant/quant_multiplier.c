/*
 * quant_multiplier.c - real multipliers to the (int32 multiplier, shift)
 * pairs of the int8 runtime, exactly as TFLite's quantization_util.cc
 * (QuantizeMultiplier, PreprocessSoftmaxScaling, CalculateInputRadius),
 * and reference/reduce.h for the mean.
 */
#include "mcuopt/quant_multiplier.h"

#include <math.h>

mco_status mco_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    int exponent = 0;
    double fraction;
    int64_t fixed;
    if (!multiplier || !shift) return mco_error(MCO_ERR_ARG, "quantize multiplier: NULL output");
    if (!isfinite(real) || real < 0.0 || real >= 1073741824.0)
        return mco_error(MCO_ERR_RANGE, "quantize multiplier: %g is not in [0, 2^30)", real);
    *multiplier = 0;
    *shift = 0;
    if (real == 0.0) return MCO_OK;
    fraction = frexp(real, &exponent);   /* real = fraction * 2^exponent, fraction in [0.5, 1) */
    fixed = (int64_t)round(fraction * 2147483648.0);
    if (fixed == ((int64_t)1 << 31)) {
        fixed /= 2;
        exponent++;
    }
    if (exponent < -31) return MCO_OK;   /* too small: flushes to 0, as TFLite */
    if (exponent > 30) return mco_error(MCO_ERR_RANGE, "quantize multiplier: %g is too large", real);
    *multiplier = (int32_t)fixed;
    *shift = exponent;
    return MCO_OK;
}

mco_status mco_quant_softmax_params(double input_scale, int32_t *multiplier, int32_t *left_shift,
                                    int32_t *diff_min)
{
    const int scaled_diff_integer_bits = 5;
    double real, max_input_rescaled;
    mco_status st;
    if (!diff_min) return mco_error(MCO_ERR_ARG, "softmax params: NULL output");
    if (!(input_scale > 0.0) || !isfinite(input_scale))
        return mco_error(MCO_ERR_RANGE, "softmax params: bad input scale %g", input_scale);
    real = input_scale * (double)(1 << (31 - scaled_diff_integer_bits));
    if (real > 2147483647.0) real = 2147483647.0;
    if (real >= 1073741824.0) real = 1073741823.0;   /* keeps the shift <= 30 */
    st = mco_quantize_multiplier(real, multiplier, left_shift);
    if (st != MCO_OK) return st;
    if (*left_shift < 0)
        return mco_error(MCO_ERR_RANGE, "softmax params: input scale %g is too small", input_scale);
    max_input_rescaled = (double)((1 << scaled_diff_integer_bits) - 1) *
                         (double)((int64_t)1 << (31 - scaled_diff_integer_bits)) /
                         (double)((int64_t)1 << *left_shift);
    *diff_min = -(int32_t)floor(max_input_rescaled);
    return MCO_OK;
}

mco_status mco_quant_mean_params(int32_t multiplier, int32_t shift, int64_t count, int32_t *mean_multiplier,
                                 int32_t *mean_shift)
{
    if (!mean_multiplier || !mean_shift) return mco_error(MCO_ERR_ARG, "mean params: NULL output");
    if (count < 1 || count > ((int64_t)1 << 40) || multiplier < 0 || shift < -31 || shift > 30)
        return mco_error(MCO_ERR_RANGE, "mean params: count %lld, multiplier %d, shift %d out of range",
                         (long long)count, (int)multiplier, (int)shift);
    int32_t s = 0;
    while (((int64_t)1 << (s + 1)) <= count) s++;   /* floor(log2 count) */
    if (s > 32) s = 32;
    if (s > 31 + shift) s = 31 + shift;
    *mean_multiplier = (int32_t)(((int64_t)multiplier << s) / count);
    *mean_shift = shift - s;
    return MCO_OK;
}
