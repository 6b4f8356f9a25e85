/*
 * activation_lut.c - the int8 lookup table of an element-wise activation
 * (sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish) for the runtime's
 * mco_lut_s8, the output quantization those layers get, and the table
 * requantizing one input of an int8 concat (mco_concat_s8).
 *
 * The table is TFLite's LUTPopulate computed in double instead of float:
 * for every int8 input q, x = in.scale * (q - in.zero_point), y = the exact
 * activation (mco_activation_value), and the entry is
 * clamp(round(y / out.scale) + out.zero_point, -128, 127), rounding half
 * away from zero. The planner builds it when it plans the layer, so the host
 * evaluator and the emitted code read the same 256 bytes.
 *
 * What it leaves out: int16 tables.
 */
#include <math.h>

#include "mcuopt/quant_rules.h"

mco_status mco_quant_activation_lut(const mco_layer *l, mco_qparams in, mco_qparams out, int8_t table[256])
{
    if (!mco_layer_is_activation(l->type))
        return mco_error(MCO_ERR_ARG, "layer %s: a %s has no lookup table", l->name, mco_layer_type_name(l->type));
    if (!(in.scale > 0.0f && isfinite(in.scale) && out.scale > 0.0f && isfinite(out.scale)))
        return mco_error(MCO_ERR_FORMAT, "layer %s: missing quantization scales", l->name);
    for (int q = -128; q < 128; q++) {
        double x = (double)in.scale * (double)(q - in.zero_point);
        double y = round(mco_activation_value(l, x) / (double)out.scale) + (double)out.zero_point;
        table[q + 128] = (int8_t)(y < -128.0 ? -128 : y > 127.0 ? 127 : y);   /* NaN: 127 */
    }
    return MCO_OK;
}

int mco_quant_activation_fixed_output(mco_layer_type type, mco_qparams *out)
{
    switch (type) {
    case MCO_LAYER_SIGMOID:
    case MCO_LAYER_HARD_SIGMOID: *out = (mco_qparams){1.0f / 256.0f, -128}; return 1;
    case MCO_LAYER_TANH: *out = (mco_qparams){1.0f / 128.0f, 0}; return 1;
    default: return 0;
    }
}

int mco_quant_concat_table(mco_qparams in, mco_qparams out, int8_t table[256])
{
    int copy = in.scale == out.scale && in.zero_point == out.zero_point;
    /* TFLite's reference_ops::ConcatenationWithScaling, step by step in
     * float (the build has no fused multiply-add: -ffp-contract=off) */
    float inverse_output_scale = copy ? 0.0f : 1.0f / out.scale;
    float scale = in.scale * inverse_output_scale;
    float bias = (float)-in.zero_point * scale;
    for (int q = -128; q < 128; q++) {
        float product = (float)q * scale;
        float value = product + bias;
        /* TfLiteRound is round(), half away from zero; a value past the int8
         * range saturates whatever it is (and never reaches an out-of-range
         * conversion to int32) */
        float r = roundf(value);
        int32_t v = !(r > -1000.0f) ? -1000 : r > 1000.0f ? 1000 : (int32_t)r;
        v += out.zero_point;
        table[q + 128] = copy ? (int8_t)q : (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    return copy;
}
