/*
 * test_runtime_dsp_emulation.c - the DSP (SXTB16/SXTAB16/SMLAD) path of the
 * int8 dot products, run on the host through the C emulations of
 * mco_arch.h (MCO_EMULATE_DSP), must equal the plain scalar sum: random
 * lengths (so the 4-wide body and the scalar tail both run), offsets at the
 * ends of their range, unaligned pointers, and the intrinsics on known words.
 * On a DSP core the same code runs with the real instructions (the lead's
 * on-target check compares MCO_FORCE_GENERIC against it).
 */
#define MCO_EMULATE_DSP 1
#include "mco_kernel_util.h"

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
    TEST_MAIN_END();
}
