/*
 * test_runtime_dsp_emulation.c - the DSP (SXTB16/SXTAB16/SMLAD) path of the
 * int8 dot products, run on the host through the C emulations of
 * mco_arch.h (MCO_EMULATE_DSP), must equal the plain scalar sum: random
 * lengths (so the 4-wide body and the scalar tail both run), offsets at the
 * ends of their range, unaligned pointers, and the intrinsics on known words;
 * the conv3x3 + pool and the Dense kernels against scalar references.
 * On a DSP core the same code runs with the real instructions
 * (tests/mnist_paper_on_target.sh compares them with the host's generic
 * path); tests/runtime_random.sh runs every kernel built with
 * MCO_FORCE_GENERIC and with MCO_EMULATE_DSP over random shapes and
 * requires the two to agree bit for bit.
 */
#define MCO_EMULATE_DSP 1
#include "mco_kernel_util.h"
/* The specialised conv3x3 + max pool kernel compiled here with the emulated
 * DSP path; the library's (generic) conv2d_s8 + max_pool_s8 are the reference. */
#include "mco_conv3x3_maxpool2x2_s8.c"
/* The int8 Dense (five rows per pass) with the emulated DSP path. */
#include "mco_fully_connected_s8.c"

#include <stdint.h>

#include "test_util.h"

#if !MCO_HAVE_DSP
#error "MCO_EMULATE_DSP should enable the DSP path"
#endif

static uint64_t rng_state = 0x853C49E6748FEA9Bull;
static uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

static int32_t scalar_dot(const int8_t *x, const int8_t *w, int n, int32_t offset)
{
    int32_t acc = 0;
    int i;
    for (i = 0; i < n; i++) acc += ((int32_t)x[i] + offset) * w[i];
    return acc;
}

/* The fast right-shift requantization equals TFLite's two-step one. */
static void test_requant_right(void)
{
    static const int32_t accs[] = { 0, 1, -1, INT32_MAX, INT32_MIN, INT32_MIN + 1, 1 << 20, -(1 << 20) };
    int trial;
    for (trial = 0; trial < 200000; trial++) {
        int32_t m = trial % 7 == 0 ? (int32_t)(rng_u32() >> 1) : (int32_t)((rng_u32() >> 2) | 0x40000000u);
        int32_t shift = -1 - (int32_t)(rng_u32() % 31);
        int32_t acc = trial < 8 * 31 ? accs[trial % 8] : (int32_t)rng_u32() >> (rng_u32() % 31);
        mco_requant_right rq;
        if (trial < 8 * 31) shift = -1 - trial / 8;
        rq = mco_fp_requant_right_init(m, shift);
        if (mco_fp_requant_right(&rq, acc) != mco_fp_requantize(acc, m, shift)) {
            CHECK(mco_fp_requant_right(&rq, acc) == mco_fp_requantize(acc, m, shift));
            return;
        }
    }
}

/* conv3x3 + ReLU/clamp + max pool 2x2 on one channel (DSP-emulated) ==
 * mco_conv2d_s8 then mco_max_pool_s8 (generic), for random shapes and
 * quantization, wherever mco_conv3x3_maxpool2x2_s8_prepare() accepts the
 * layer (others: activation ranges, large shifts or biases, padding). */
static void test_conv3x3_pool(void)
{
    static int8_t x[30 * 31], w[16 * 9], conv[28 * 29 * 16], ref[14 * 14 * 16], got[14 * 14 * 16];
    static int32_t bias[16], mult[16], shift[16], requant[16 * MCO_CONV3X3_REQUANT_WORDS];
    int trial, i, supported = 0;
    for (trial = 0; trial < 300; trial++) {
        mco_conv_s8_params p;
        mco_pool_s8_params pp;
        int32_t in_h = 4 + (int32_t)(rng_u32() % 27), in_w = 4 + (int32_t)(rng_u32() % 28);
        int32_t out_c = 1 + (int32_t)(rng_u32() % 16), n;
        CHECK(mco_window_init(&p.win, in_h, in_w, 1, out_c, 3, 3, 1, 1, 0) == MCO_RT_OK);
        p.input_offset = (int32_t)(rng_u32() % 256) - 127;
        /* the kernel's case: [-128, 127] with zero point -128 (ReLU folded) */
        p.output_offset = trial % 3 == 0 ? -128 : (int32_t)(rng_u32() % 256) - 128;
        p.act_min = trial % 3 == 0 ? -128 : p.output_offset + (trial % 3 == 2 ? (int32_t)(rng_u32() % 20) : 0);
        if (p.act_min > 127) p.act_min = 127;
        p.act_max = trial % 3 == 0 || trial % 2 ? 127 : 127 - (int32_t)(rng_u32() % 20);
        if (p.act_max < p.act_min) p.act_max = p.act_min;
        for (i = 0; i < in_h * in_w; i++) x[i] = (int8_t)(rng_u32() & 0xFF);
        for (i = 0; i < 9 * out_c; i++) w[i] = (int8_t)((int32_t)(rng_u32() % 255) - 127);
        for (i = 0; i < out_c; i++) {
            bias[i] = (int32_t)(rng_u32() % 200001) - 100000;
            mult[i] = (int32_t)((rng_u32() >> 2) | 0x40000000u);
            shift[i] = -1 - (int32_t)(rng_u32() % 12);
            /* now and then the cases the fast requantization leaves out */
            if (rng_u32() % 8 == 0) bias[i] = (int32_t)(rng_u32() >> 2) - (1 << 29);
            if (rng_u32() % 8 == 0) shift[i] = -20 - (int32_t)(rng_u32() % 12);
        }
        p.multiplier = mult;
        p.shift = shift;
        CHECK(mco_conv2d_s8(&p, x, w, bias, conv) == MCO_RT_OK);
        CHECK(mco_window_init(&pp.win, p.win.out_h, p.win.out_w, out_c, out_c, 2, 2, 2, 2, 0) == MCO_RT_OK);
        pp.act_min = -128;
        pp.act_max = 127;
        CHECK(mco_max_pool_s8(&pp, conv, ref) == MCO_RT_OK);
        n = pp.win.out_h * pp.win.out_w * out_c;
        memset(got, 0x55, sizeof got);
        if (mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, requant)) {
            supported++;
            CHECK(mco_conv3x3_maxpool2x2_s8(&p, x, w, requant, got) == MCO_RT_OK);
            CHECK(memcmp(ref, got, (size_t)n) == 0);
        }
        if (test_failures > 10) return;
    }
    CHECK(supported >= 40);   /* the fast case was really exercised */
    /* declines what it does not implement */
    shift[0] = 0;
    {
        mco_conv_s8_params p;
        CHECK(mco_window_init(&p.win, 8, 8, 1, 1, 3, 3, 1, 1, 0) == MCO_RT_OK);
        p.input_offset = 0;
        p.output_offset = -128;
        p.act_min = -128;
        p.act_max = 127;
        p.multiplier = mult;
        p.shift = shift;
        CHECK(!mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, requant));   /* a left shift */
        shift[0] = -3;
        CHECK(mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, requant));
        p.output_offset = 0;   /* no ReLU folded into the saturation */
        CHECK(!mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, requant));
        p.output_offset = -128;
        CHECK(mco_window_init(&p.win, 8, 8, 1, 1, 3, 3, 1, 1, 1) == MCO_RT_OK);   /* same padding */
        CHECK(!mco_conv3x3_maxpool2x2_s8_prepare(&p, w, bias, NULL));
        CHECK(mco_conv3x3_maxpool2x2_s8(&p, x, w, requant, got) == MCO_RT_ARG_ERROR);
    }
}

/* mco_fully_connected_s8 (DSP-emulated) == the scalar sum requantized by
 * mco_fp_output_s8, for 1..13 units (fewer than five, several passes, an
 * overlapping last pass) and every input-length remainder, with the weights
 * row-major and (five units or more, every other trial) interleaved. */
static void test_dense(void)
{
    static int8_t x[64], w[13 * 64], wi[15 * 64], got[13];
    static int32_t bias[13], mult[13], shift[13];
    int trial, u;
    for (trial = 0; trial < 3000; trial++) {
        mco_fc_s8_params p;
        p.in_size = 1 + (int32_t)(rng_u32() % 64);
        p.out_size = 1 + (int32_t)(rng_u32() % 13);
        p.input_offset = (int32_t)(rng_u32() % 256) - 127;
        /* the kernel's case: [-128, 127] with zero point -128 (ReLU folded) */
        p.output_offset = trial % 3 == 0 ? -128 : (int32_t)(rng_u32() % 256) - 128;
        p.act_min = trial % 2 ? -128 : p.output_offset;
        p.act_max = 127 - (int32_t)(rng_u32() % 3);
        if (p.act_max < p.act_min) p.act_max = p.act_min;
        p.multiplier = mult;
        p.shift = shift;
        p.per_tensor = trial % 4 == 0;
        for (u = 0; u < p.in_size; u++) x[u] = (int8_t)(rng_u32() & 0xFF);
        for (u = 0; u < p.in_size * p.out_size; u++) w[u] = (int8_t)((int32_t)(rng_u32() % 255) - 127);
        for (u = 0; u < p.out_size; u++) {
            bias[u] = (int32_t)(rng_u32() % 20001) - 10000;
            mult[u] = (int32_t)((rng_u32() >> 2) | 0x40000000u);
            shift[u] = 2 - (int32_t)(rng_u32() % 14);
        }
        p.interleaved = p.out_size >= MCO_FC_S8_ROWS && trial % 2;
        if (p.interleaved) mco_fc_s8_interleave(p.in_size, p.out_size, w, wi);
        memset(got, 0x55, sizeof got);
        CHECK(mco_fully_connected_s8(&p, x, p.interleaved ? wi : w, bias, got) == MCO_RT_OK);
        for (u = 0; u < p.out_size; u++) {
            int32_t acc = bias[u] + scalar_dot(x, w + u * p.in_size, p.in_size, p.input_offset);
            int32_t s = p.per_tensor ? 0 : u;
            CHECK(got[u] == mco_fp_output_s8(acc, mult[s], shift[s], p.output_offset, p.act_min, p.act_max));
        }
        if (test_failures > 10) return;
    }
}

int main(void)
{
    static int8_t x[300], w0[300], w1[300];
    static const int32_t offsets[] = { -127, -1, 0, 5, 128 };
    int trial, i;
    /* intrinsics on known words: bytes 0x80 (-128), 0x7F, 0x01, 0xFF (-1) */
    int32_t word = (int32_t)0xFF017F80u;
    CHECK(mco_sxtb16(word) == (int32_t)0x0001FF80u);          /* (-128, 1) */
    CHECK(mco_sxtb16_ror8(word) == (int32_t)0xFFFF007Fu);     /* (127, -1) */
    CHECK(mco_sxtab16(mco_dup16(128), word) == (int32_t)0x00810000u);   /* (0, 129) */
    CHECK(mco_smlad((int32_t)0x0002FFFDu, (int32_t)0x00070005u, 100) == 100 - 15 + 14);
    CHECK(mco_smlad((int32_t)0x80008000u, (int32_t)0x80008000u, 0) == INT32_MIN);   /* wraps */

    for (trial = 0; trial < 2000; trial++) {
        int n = (int)(rng_u32() % 260);
        int skew = (int)(rng_u32() % 4);   /* unaligned starts */
        int32_t offset = offsets[rng_u32() % 5];
        int32_t acc[2], bias = (int32_t)(rng_u32() % 2001) - 1000;
        for (i = 0; i < n + 4; i++) {
            x[i] = (int8_t)(rng_u32() & 0xFF);
            w0[i] = (int8_t)((int32_t)(rng_u32() % 255) - 127);
            w1[i] = (int8_t)((int32_t)(rng_u32() % 255) - 127);
        }
        if (trial < 4) {   /* extremes */
            memset(x, trial & 1 ? 127 : -128, sizeof x);
            memset(w0, trial & 2 ? 127 : -127, sizeof w0);
        }
        CHECK(mco_dot_s8(bias, x + skew, w0 + 3 - skew % 4, n, offset) ==
              bias + scalar_dot(x + skew, w0 + 3 - skew % 4, n, offset));
        acc[0] = bias;
        acc[1] = -bias;
        mco_dot2_s8(acc, x + skew, w0 + 1, w1, n, offset);
        CHECK(acc[0] == bias + scalar_dot(x + skew, w0 + 1, n, offset));
        CHECK(acc[1] == -bias + scalar_dot(x + skew, w1, n, offset));
        if (test_failures > 10) break;
    }
    test_requant_right();
    test_conv3x3_pool();
    test_dense();
    TEST_MAIN_END();
}
