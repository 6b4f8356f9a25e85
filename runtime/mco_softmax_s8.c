/*
 * mco_softmax_s8.c - TFLite's int8 softmax (reference_integer_ops::Softmax,
 * the same arithmetic as CMSIS-NN arm_softmax_s8), in gemmlowp fixed point:
 *
 *   diff   = x - row max, scaled by input_multiplier << input_left_shift to
 *            Q5.26 (5 integer bits)
 *   e      = exp(diff) in Q0.31 (exp_on_negative_values: a Taylor series on
 *            [-1/4, 0) and a barrel of constants exp(-2^k))
 *   sum    = sum of e, in Q12.19
 *   out    = e / sum, via a Newton-Raphson reciprocal, to 8 bits, - 128
 *
 * Output scale 1/256, zero point -128. Inputs more than diff_min below the
 * row max contribute nothing and output -128. Rows are at most 4095 wide
 * (the Q12.19 sum must not overflow).
 */
#include "mco_fixed_point.h"
#include "mco_runtime.h"

#define ACCUM_BITS 12   /* integer bits of the sum of exponentials */

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static int32_t mul_pow2_sat(int32_t x, int32_t exponent)
{
    return mco_fp_shift_left_sat(x, exponent);
}

/* gemmlowp exp_on_negative_values for a Q5.26 input <= 0; result Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t barrel[7] = { 1672461947, 1302514674, 790015084, 290630308,
                                       39332535,   720401,     242 };
    const int32_t quarter = 1 << 24;   /* 1/4 in Q5.26 */
    int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    int32_t remainder = a_mod_quarter_minus_quarter - a;
    /* exp on [-1/4, 0): Taylor series around -1/8, x = a' + 1/8 in Q0.31 */
    int32_t x = a_mod_quarter_minus_quarter * 32 + (1 << 28);
    int32_t x2 = mco_fp_srdhm(x, x);
    int32_t x3 = mco_fp_srdhm(x2, x);
    int32_t x4 = mco_fp_srdhm(x2, x2);
    int32_t x4_over_4 = mco_fp_rdbpot(x4, 2);
    int32_t poly = mco_fp_rdbpot(mco_fp_srdhm(x4_over_4 + x3, 715827883 /* 1/3 */) + x2, 1);
    const int32_t exp_minus_one_eighth = 1895147668;
    int32_t result = exp_minus_one_eighth + mco_fp_srdhm(exp_minus_one_eighth, x + poly);
    int32_t k;
    /* times exp(-2^(k-2)) for each bit k-2 set in the multiple of 1/4 */
    for (k = 0; k < 7; k++) {
        if (remainder & (1 << (24 + k))) result = mco_fp_srdhm(result, barrel[k]);
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in, Q0.31 out. */
static int32_t one_over_one_plus_x(int32_t a)
{
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    /* Newton-Raphson in Q2.29, starting at 48/17 - 32/17 * d */
    int32_t x = 1515870810 + mco_fp_srdhm(half_denominator, -1010580540);
    int i;
    for (i = 0; i < 3; i++) {
        int32_t one_minus_dx = (1 << 29) - mco_fp_srdhm(half_denominator, x);
        x += mul_pow2_sat(mco_fp_srdhm(x, one_minus_dx), 2);
    }
    return mul_pow2_sat(x, 1);
}

static int32_t count_leading_zeros(uint32_t v)
{
    int32_t n = 0;
    if (v == 0) return 32;
    while (!(v & 0x80000000u)) {
        v <<= 1;
        n++;
    }
    return n;
}

mco_rt_status mco_softmax_s8(const mco_softmax_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t r, i;
    if (!p || !input || !output || p->n_rows <= 0 || p->row_size <= 0 || p->row_size > 4095 ||
        p->input_left_shift < 0 || p->input_left_shift > 31 || p->diff_min > 0)
        return MCO_RT_ARG_ERROR;
    for (r = 0; r < p->n_rows; r++) {
        const int8_t *in = input + (size_t)r * (size_t)p->row_size;
        int8_t *out = output + (size_t)r * (size_t)p->row_size;
        int32_t max = in[0], sum = 0, headroom, shifted_scale, bits_over_unit;
        for (i = 1; i < p->row_size; i++) max = in[i] > max ? in[i] : max;
        for (i = 0; i < p->row_size; i++) {
            int32_t diff = (int32_t)in[i] - max;
            if (diff >= p->diff_min) {
                int32_t scaled = mco_fp_srdhm(mco_fp_shift_left_sat(diff, p->input_left_shift),
                                              p->input_multiplier);
                sum += mco_fp_rdbpot(exp_on_negative_values(scaled), ACCUM_BITS);
            }
        }
        /* 1 / sum: sum = 2^(bits) * (1 + f), f in [0, 1) */
        headroom = count_leading_zeros((uint32_t)sum);
        shifted_scale = one_over_one_plus_x(
            (int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        bits_over_unit = ACCUM_BITS - headroom + 31 - 8;
        if (bits_over_unit > 31) bits_over_unit = 31;   /* rows > 512 wide; TFLite is undefined there */
        for (i = 0; i < p->row_size; i++) {
            int32_t diff = (int32_t)in[i] - max;
            int32_t v = -128;
            if (diff >= p->diff_min) {
                int32_t scaled = mco_fp_srdhm(mco_fp_shift_left_sat(diff, p->input_left_shift),
                                              p->input_multiplier);
                int32_t e = exp_on_negative_values(scaled);
                v = mco_fp_rdbpot(mco_fp_srdhm(shifted_scale, e), bits_over_unit) - 128;
            }
            out[i] = (int8_t)mco_fp_clamp(v, -128, 127);
        }
    }
    return MCO_RT_OK;
}
