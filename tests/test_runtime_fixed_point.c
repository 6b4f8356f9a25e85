/*
 * test_runtime_fixed_point.c - the runtime's scalar building blocks:
 * TFLite requantization (hand-computed cases, saturation, negative rounding,
 * left and right shifts, random cases against double arithmetic), the
 * 32-bit form emitted code uses where the emitter allows it (equal to
 * TFLite's in its whole domain: |acc| < 2^30, shift -22..-1), the host
 * multiplier derivation, IEEE half conversion (every half value round trips,
 * rounding to nearest even), int4 packing, TF padding, and mco_exp_f32.
 */
#include <stdint.h>
#include <string.h>

#include "mcuopt/quant_multiplier.h"
#include "mco_fixed_point.h"
#include "mco_runtime.h"
#include "mcuopt/status.h"
#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

static void test_srdhm(void)
{
    CHECK(mco_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX);
    CHECK(mco_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX) == -INT32_MAX);
    CHECK(mco_saturating_rounding_doubling_high_mul(INT32_MAX, INT32_MAX) == 2147483646);
    CHECK(mco_saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == 1 << 29);
    /* ties: +0.5 -> 1, -0.5 -> 0, -1.5 -> -1 (TFLite's nudge, then truncation) */
    CHECK(mco_saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);
    CHECK(mco_saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);
    CHECK(mco_saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);
    CHECK(mco_saturating_rounding_doubling_high_mul(3, 1 << 30) == 2);
}

static void test_rdbpot(void)
{
    /* ties away from zero */
    CHECK(mco_rounding_divide_by_pot(5, 1) == 3);
    CHECK(mco_rounding_divide_by_pot(-5, 1) == -3);
    CHECK(mco_rounding_divide_by_pot(-3, 1) == -2);
    CHECK(mco_rounding_divide_by_pot(-1, 1) == -1);
    CHECK(mco_rounding_divide_by_pot(-4, 1) == -2);
    CHECK(mco_rounding_divide_by_pot(-6, 2) == -2);   /* -1.5 */
    CHECK(mco_rounding_divide_by_pot(-7, 2) == -2);   /* -1.75 */
    CHECK(mco_rounding_divide_by_pot(-5, 2) == -1);   /* -1.25 */
    CHECK(mco_rounding_divide_by_pot(6, 2) == 2);     /* 1.5 */
    CHECK(mco_rounding_divide_by_pot(5, 2) == 1);
    CHECK(mco_rounding_divide_by_pot(12345, 0) == 12345);
    CHECK(mco_rounding_divide_by_pot(INT32_MIN, 31) == -1);
    CHECK(mco_rounding_divide_by_pot(INT32_MAX, 31) == 1);
}

static void test_requantize(void)
{
    int i;
    CHECK(mco_requantize(100, 1 << 30, 0) == 50);
    CHECK(mco_requantize(100, 1 << 30, -1) == 25);
    CHECK(mco_requantize(101, 1 << 30, -1) == 26);    /* 50.5 -> 51, 25.5 -> 26 (double rounding, as TFLite) */
    CHECK(mco_requantize(-100, 1 << 30, -1) == -25);
    CHECK(mco_requantize(-101, 1 << 30, -1) == -25);  /* -50.5 -> -50 -> -25 */
    CHECK(mco_requantize(-102, 1 << 30, -2) == -13);  /* -51 / 4 = -12.75 */
    CHECK(mco_requantize(100, 1 << 30, 2) == 200);    /* left shift */
    CHECK(mco_requantize(INT32_MAX, 1 << 30, 1) == 1 << 30);      /* left shift saturates first */
    CHECK(mco_requantize(INT32_MIN, 1 << 30, 3) == -(1 << 30));
    CHECK(mco_requantize(INT32_MIN, INT32_MIN, 0) == INT32_MAX);
    CHECK(mco_requantize(7, 0, 0) == 0);
    for (i = 0; i < 20000; i++) {
        int32_t acc = (int32_t)(rng_u32() >> 8) - (1 << 23);
        int32_t mult = (int32_t)((rng_u32() >> 1) | 0x40000000u);
        int32_t shift = (int32_t)(rng_u32() % 20) - 14;
        double exact = (double)acc * (double)mult / 2147483648.0 * ldexp(1.0, shift);
        CHECK_NEAR(mco_requantize(acc, mult, shift), exact, 1.0);
        if (test_failures > 10) break;
    }
}

/* mco_fp_requant_fast == TFLite's requantization wherever MCO_REQUANT_FAST
 * may be set: the domain's edges, then random points of it. */
static void test_requant_fast(void)
{
    static const int32_t accs[] = {0, 1, -1, (1 << 30) - 1, -(1 << 30) + 1, 12345, -12345, 1 << 29, -(1 << 29)};
    static const int32_t mults[] = {0, 1, 1 << 30, INT32_MAX, 0x5A5A5A5A};
    int i;
    for (size_t a = 0; a < sizeof accs / sizeof accs[0]; a++)
        for (size_t m = 0; m < sizeof mults / sizeof mults[0]; m++)
            for (int32_t shift = -22; shift <= -1; shift++)
                CHECK(mco_fp_requant_fast(accs[a], mults[m], shift) == mco_fp_requantize(accs[a], mults[m], shift));
    for (i = 0; i < 200000; i++) {
        int32_t acc = (int32_t)(rng_u32() >> 1) - (1 << 30) + 1;   /* (-2^30, 2^30) */
        int32_t mult = (int32_t)(rng_u32() >> 1);
        int32_t shift = -1 - (int32_t)(rng_u32() % 22);
        if (acc == 1 << 30) continue;
        if (mco_fp_requant_fast(acc, mult, shift) != mco_fp_requantize(acc, mult, shift)) {
            CHECK(mco_fp_requant_fast(acc, mult, shift) == mco_fp_requantize(acc, mult, shift));
            if (test_failures > 10) break;
        }
    }
}

/* mco_fp_requant_small == TFLite's requantization for |acc| < 2^30 and
 * shifts in [-31, 0], any multiplier: the edges, then random points. */
static void test_requant_small(void)
{
    static const int32_t accs[] = {0, 1, -1, (1 << 30) - 1, -(1 << 30) + 1, 255 << 20, -(255 << 20), 12345, -12345};
    static const int32_t mults[] = {0, 1, -1, 1 << 30, INT32_MAX, INT32_MIN, 0x5A5A5A5A, -0x5A5A5A5A};
    int i;
    for (size_t a = 0; a < sizeof accs / sizeof accs[0]; a++)
        for (size_t m = 0; m < sizeof mults / sizeof mults[0]; m++)
            for (int32_t shift = -31; shift <= 0; shift++) {
                mco_requant_small rq = mco_fp_requant_small_init(mults[m], shift);
                CHECK(mco_fp_requant_small(&rq, accs[a]) == mco_fp_requantize(accs[a], mults[m], shift));
            }
    for (i = 0; i < 200000; i++) {
        int32_t acc = (int32_t)(rng_u32() >> 1) - (1 << 30) + 1;   /* (-2^30, 2^30) */
        int32_t mult = (int32_t)rng_u32();
        int32_t shift = -(int32_t)(rng_u32() % 32);
        mco_requant_small rq = mco_fp_requant_small_init(mult, shift);
        if (acc == 1 << 30) continue;
        if (mco_fp_requant_small(&rq, acc) != mco_fp_requantize(acc, mult, shift)) {
            CHECK(mco_fp_requant_small(&rq, acc) == mco_fp_requantize(acc, mult, shift));
            if (test_failures > 10) break;
        }
    }
}

static void test_quantize_multiplier(void)
{
    int32_t m, s;
    CHECK_OK(mco_quantize_multiplier(0.5, &m, &s));
    CHECK(m == 1 << 30 && s == 0);
    CHECK_OK(mco_quantize_multiplier(1.0, &m, &s));
    CHECK(m == 1 << 30 && s == 1);
    CHECK_OK(mco_quantize_multiplier(0.25, &m, &s));
    CHECK(m == 1 << 30 && s == -1);
    CHECK_OK(mco_quantize_multiplier(0.0, &m, &s));
    CHECK(m == 0 && s == 0);
    CHECK_OK(mco_quantize_multiplier(0.0123, &m, &s));
    CHECK(mco_requantize(1000, m, s) == 12);
    CHECK(mco_requantize(-1000, m, s) == -12);
    CHECK_OK(mco_quantize_multiplier(3.7, &m, &s));
    CHECK(mco_requantize(1000, m, s) == 3700);
    CHECK_OK(mco_quantize_multiplier(0.99999999999, &m, &s));   /* rounds up to 2^31: halves */
    CHECK(m == 1 << 30 && s == 1);
    CHECK(mco_quantize_multiplier(-1.0, &m, &s) == MCO_ERR_RANGE);
    CHECK(mco_quantize_multiplier(NAN, &m, &s) == MCO_ERR_RANGE);
}

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void test_f16(void)
{
    uint32_t h;
    for (h = 0; h < 65536; h++) {
        float f = mco_f16_to_f32((uint16_t)h);
        int is_nan = (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu);
        if (is_nan) {
            CHECK(f != f);
            CHECK((mco_f32_to_f16(f) & 0x7C00u) == 0x7C00u && (mco_f32_to_f16(f) & 0x3FFu));
        } else {
            /* exact against the value the bits denote */
            int e = (int)((h >> 10) & 0x1F);
            double mant = (double)(h & 0x3FF);
            double v = e == 0 ? ldexp(mant, -24) : (e == 31 ? INFINITY : ldexp(1024.0 + mant, e - 25));
            if (h & 0x8000u) v = -v;
            CHECK(f == (float)v);
            CHECK(mco_f32_to_f16(f) == h);
        }
        if (test_failures > 10) return;
    }
    CHECK(mco_f32_to_f16(1.0f) == 0x3C00);
    CHECK(mco_f32_to_f16(-2.0f) == 0xC000);
    CHECK(mco_f32_to_f16(65504.0f) == 0x7BFF);
    CHECK(mco_f32_to_f16(65519.0f) == 0x7BFF);
    CHECK(mco_f32_to_f16(65520.0f) == 0x7C00);            /* tie to even = 65536: overflow */
    CHECK(mco_f32_to_f16(1e10f) == 0x7C00);
    CHECK(mco_f32_to_f16(-1e10f) == 0xFC00);
    CHECK(mco_f32_to_f16(ldexpf(1.0f, -24)) == 0x0001);   /* smallest subnormal */
    CHECK(mco_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000);   /* tie to even: 0 */
    CHECK(mco_f32_to_f16(ldexpf(1.5f, -25)) == 0x0001);
    CHECK(mco_f32_to_f16(ldexpf(3.0f, -25)) == 0x0002);   /* 1.5 ulp: tie to even = 2 */
    CHECK(mco_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3C00);          /* tie to even */
    CHECK(mco_f32_to_f16(1.0f + 3.0f * ldexpf(1.0f, -11)) == 0x3C02);   /* tie to even (up) */
    CHECK(mco_f32_to_f16(1.0f + ldexpf(1.0f, -11) + ldexpf(1.0f, -20)) == 0x3C01);
    CHECK(mco_f32_to_f16(ldexpf(1.0f, -14) * (1.0f - ldexpf(1.0f, -12))) == 0x0400);   /* rounds up to the smallest normal */
    CHECK(mco_f32_to_f16(-0.0f) == 0x8000);
    CHECK(float_bits(mco_f16_to_f32(0x8000)) == 0x80000000u);
}

static void test_s4(void)
{
    uint8_t packed[8];
    int32_t v;
    size_t i;
    memset(packed, 0, sizeof packed);
    for (i = 0; i < 16; i++) mco_s4_set(packed, i, (int32_t)i - 8);
    for (i = 0; i < 16; i++) CHECK(mco_s4_get(packed, i) == (int32_t)i - 8);
    CHECK(packed[0] == 0x98);   /* -8 low nibble (0x8), -7 high nibble (0x9) */
    mco_s4_set(packed, 3, 7);
    CHECK(mco_s4_get(packed, 2) == -6 && mco_s4_get(packed, 3) == 7 && mco_s4_get(packed, 4) == -4);
    for (v = -8; v <= 7; v++) {
        mco_s4_set(packed, 5, v);
        CHECK(mco_s4_get(packed, 5) == v && mco_s4_get(packed, 4) == -4);
    }
}

static void test_window(void)
{
    mco_window w;
    CHECK(mco_window_init(&w, 28, 28, 1, 12, 3, 3, 1, 1, 0) == MCO_RT_OK);
    CHECK(w.out_h == 26 && w.out_w == 26 && w.pad_top == 0 && w.pad_left == 0);
    CHECK(mco_window_init(&w, 28, 28, 1, 12, 3, 3, 1, 1, 1) == MCO_RT_OK);
    CHECK(w.out_h == 28 && w.pad_top == 1 && w.pad_left == 1);
    CHECK(mco_window_init(&w, 28, 27, 1, 12, 3, 3, 2, 2, 1) == MCO_RT_OK);
    CHECK(w.out_h == 14 && w.pad_top == 0 && w.out_w == 14 && w.pad_left == 1);
    CHECK(mco_window_init(&w, 49, 10, 1, 64, 10, 4, 2, 2, 1) == MCO_RT_OK);
    CHECK(w.out_h == 25 && w.out_w == 5 && w.pad_top == 4 && w.pad_left == 1);
    CHECK(mco_window_init(&w, 2, 2, 1, 1, 3, 3, 1, 1, 0) == MCO_RT_ARG_ERROR);
}

static void test_exp(void)
{
    float x;
    double worst = 0.0;
    for (x = -87.0f; x < 88.5f; x += 0.0137f) {
        double ref = exp((double)x);
        double rel = fabs((double)mco_exp_f32(x) - ref) / ref;
        worst = rel > worst ? rel : worst;
    }
    CHECK(worst < 5e-7);
    CHECK(mco_exp_f32(0.0f) == 1.0f);
    CHECK(mco_exp_f32(-100.0f) == 0.0f);
    CHECK(isinf(mco_exp_f32(100.0f)));
    CHECK(mco_exp_f32(88.72f) > 3.3e38f);
    printf("mco_exp_f32: worst relative error %.3g\n", worst);
}

int main(void)
{
    test_srdhm();
    test_rdbpot();
    test_requantize();
    test_requant_fast();
    test_requant_small();
    test_quantize_multiplier();
    test_f16();
    test_s4();
    test_window();
    test_exp();
    TEST_MAIN_END();
}
