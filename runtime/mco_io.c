/*
 * mco_io.c - the input and output conversions of mco_io.h. The float ->
 * int8 one is the host's own (mco_deploy_prepare_input calls
 * mco_input_value_s8), so a float sample gives the same int8 input on the
 * host and on the chip: IEEE double arithmetic (in hardware or libgcc's
 * software routines) rounds every step the same everywhere.
 *
 * mco_input_f32_s8_steps gives the same results from a table of the 255
 * values where the conversion steps up (see mco_io.h), which the emitted
 * code uses when the table is finite.
 *
 * What it leaves out: a table for float -> float (one float division per
 * value, in hardware on an FPU core).
 */
#include "mco_io.h"

#include <string.h>

int8_t mco_input_value_s8(const mco_input_params *p, float v)
{
    double x = ((double)v * (double)p->norm_scale - (double)p->norm_mean) / (double)p->norm_std;
    double t = x / (double)p->scale + 0.5;
    int32_t q;
    if (t != t) t = 0.5;   /* NaN: the zero point */
    /* floor(t) + zero_point, clamped; beyond +-1000 the clamp decides alone
     * (|zero_point| <= 128), so the conversion to int32 is always defined */
    if (t < -1000.0) return -128;
    if (t > 1000.0) return 127;
    q = (int32_t)t;   /* truncation toward zero */
    if ((double)q > t) q--;
    q += p->zero_point;
    return (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
}

void mco_input_f32_s8(const mco_input_params *p, const float *in, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = mco_input_value_s8(p, in[i]);
}

int32_t mco_float_order(float v)
{
    uint32_t bits;
    uint32_t magnitude;
    memcpy(&bits, &v, sizeof bits);
    magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return MCO_FLOAT_ORDER_NAN;
    return bits == magnitude ? (int32_t)magnitude : -(int32_t)magnitude;
}

void mco_input_f32_s8_steps(const mco_input_steps *t, const float *in, int8_t *out, int32_t n)
{
    const int32_t *s = t->steps;
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v = mco_float_order(in[i]);
        /* Binary search for the number of steps <= v, one step size per
         * line (unrolled: a loop costs more than the compares). b is a sum
         * of the larger step sizes, at most 256 - 2 * size, so every index
         * below is < 255. */
        int32_t b = 0;
        if (v == MCO_FLOAT_ORDER_NAN) {
            out[i] = t->nan_value;
            continue;
        }
        b += s[b + 127] <= v ? 128 : 0;
        b += s[b + 63] <= v ? 64 : 0;
        b += s[b + 31] <= v ? 32 : 0;
        b += s[b + 15] <= v ? 16 : 0;
        b += s[b + 7] <= v ? 8 : 0;
        b += s[b + 3] <= v ? 4 : 0;
        b += s[b + 1] <= v ? 2 : 0;
        b += s[b] <= v ? 1 : 0;
        out[i] = (int8_t)(b - 128);
    }
}

void mco_input_f32_f32(const mco_input_params *p, const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = (in[i] * p->norm_scale - p->norm_mean) / p->norm_std;
}

void mco_input_u8_s8(const int8_t *table, const uint8_t *in, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = table[in[i]];
}

void mco_input_u8_f32(const float *table, const uint8_t *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = table[in[i]];
}

void mco_output_s8_f32(float scale, int32_t zero_point, const int8_t *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) out[i] = (float)((int32_t)in[i] - zero_point) * scale;
}
