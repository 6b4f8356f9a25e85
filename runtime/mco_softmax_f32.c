/*
 * mco_softmax_f32.c - float softmax, and the exp it needs without libm.
 *
 * exp(x): n = round(x / ln 2), r = x - n ln 2 (ln 2 split in a high part
 * exact in float and a low part, Cody & Waite), exp(r) by its degree-7
 * Taylor polynomial (|r| <= 0.35, truncation error < 6e-9), then times 2^n
 * built from exponent bits. Below -87.3 it returns 0, above 88.7 +inf.
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

float mco_exp_f32(float x)
{
    const float ln2_hi = 0.693145751953125f;     /* 12 significant bits: n * ln2_hi is exact */
    const float ln2_lo = 1.428606765330187e-06f;
    float t, r, poly, scale;
    int32_t n;
    if (x != x) return x;   /* NaN */
    if (x > 88.72283f) return mco_bits_to_float(0x7F800000u);
    if (x < -87.33654f) return 0.0f;
    t = x * 1.44269504088896341f;
    n = (int32_t)(t + (t >= 0.0f ? 0.5f : -0.5f));
    r = (x - (float)n * ln2_hi) - (float)n * ln2_lo;
    poly = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6.0f + r * (1.0f / 24.0f +
           r * (1.0f / 120.0f + r * (1.0f / 720.0f + r * (1.0f / 5040.0f)))))));
    if (n > 127) {   /* 2^128 is not a float: take one factor 2 into the polynomial */
        poly *= 2.0f;
        n--;
    }
    scale = mco_bits_to_float((uint32_t)(n + 127) << 23);
    return poly * scale;
}

mco_rt_status mco_softmax_f32(const float *input, float *output, int32_t n_rows,
                              int32_t row_size)
{
    int32_t r, i;
    if (!input || !output || n_rows <= 0 || row_size <= 0) return MCO_RT_ARG_ERROR;
    for (r = 0; r < n_rows; r++) {
        const float *in = input + (size_t)r * (size_t)row_size;
        float *out = output + (size_t)r * (size_t)row_size;
        float max = in[0], sum = 0.0f;
        for (i = 1; i < row_size; i++) max = in[i] > max ? in[i] : max;
        for (i = 0; i < row_size; i++) {
            out[i] = mco_exp_f32(in[i] - max);
            sum += out[i];
        }
        for (i = 0; i < row_size; i++) out[i] /= sum;
    }
    return MCO_RT_OK;
}
