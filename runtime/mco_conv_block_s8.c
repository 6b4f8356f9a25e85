/*
 * mco_conv_block_s8.c - the block product shared by the register-blocked
 * int8 convolutions (mco_conv_blocked.h): the weights' blocked order, the
 * widening of input values into the columns of a block, and all output
 * channels of a block of four columns (4 pixels x 2 channels of
 * accumulators per pass, requantized as TFLite).
 *
 * Three paths, the same arithmetic bit for bit:
 *   - DSP cores with GCC optimising (MCO_BLOCK_ASM): the K loop in
 *     assembly, two steps of four k per turn, fourteen registers (the eight
 *     accumulators, the two pointers, two input words, a weight word and its
 *     sign-extended half); the loop's end pointer is read from the stack;
 *   - other DSP builds (Clang, GCC -O0, the host's MCO_EMULATE_DSP): the
 *     same loop in C with the intrinsics of mco_arch.h;
 *   - no DSP (Cortex-M0/M0+/M3, MCO_FORCE_GENERIC): plain C on the int16
 *     columns, one k at a time.
 *
 * What it leaves out: blocks other than 4 x 2 (a shape with fewer pixels or
 * an odd channel count computes the missing ones on zero weights or on a
 * copied column and does not store them).
 */
#include <string.h>

#include "mco_arch.h"
#include "mco_conv_blocked.h"
#include "mco_fixed_point.h"

/* Whether the assembly K loop is built: it takes fourteen core registers as
 * operands, which GCC gives when it optimises (the frame pointer omitted).
 * MCO_ASM_REGS (mco_arch.h, where defined) says how many the compiler can
 * give; without it, GCC optimising and not Clang. */
#if MCO_HAVE_DSP && MCO_DSP_NATIVE
#if defined(MCO_ASM_REGS)
#define MCO_BLOCK_ASM (MCO_ASM_REGS >= 14)
#elif defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define MCO_BLOCK_ASM 1
#endif
#endif
#ifndef MCO_BLOCK_ASM
#define MCO_BLOCK_ASM 0
#endif

size_t mco_conv_blocked_s8_weights_size(int32_t out_c, int32_t k)
{
    return (size_t)((out_c + 1) & ~1) * (size_t)MCO_BLOCK_K_PAD(k);
}

void mco_conv_blocked_s8_reorder(int32_t out_c, int32_t k, const int8_t *weights, int8_t *dst)
{
    int32_t k_pad = MCO_BLOCK_K_PAD(k), pair, s, j, c;
    for (pair = 0; 2 * pair < out_c; pair++) {
        for (s = 0; s < k_pad / 4; s++) {
            int8_t *d = dst + ((size_t)pair * (size_t)k_pad + (size_t)s * 4u) * 2u;
            for (j = 0; j < 4; j++) {       /* k = 4s + j: word j & 1, half j >> 1 */
                for (c = 0; c < 2; c++) {
                    int32_t ch = 2 * pair + c, kk = 4 * s + j;
                    d[4 * (j & 1) + 2 * (j >> 1) + c] =
                        ch < out_c && kk < k ? weights[(size_t)ch * (size_t)k + (size_t)kk] : 0;
                }
            }
        }
    }
}

void mco_conv_block_s8_widen(void *cols, int32_t pixel, const int8_t *src, int32_t steps,
                             int32_t input_offset)
{
#if MCO_HAVE_DSP
    int32_t *d = (int32_t *)cols + pixel;
    const int32_t offset2 = mco_dup16(input_offset);
    for (; steps > 0; steps--, d += 8) {
        int32_t x = mco_read_s8x4(&src);
        d[0] = mco_sxtab16(offset2, x);
        d[4] = mco_sxtab16_ror8(offset2, x);
    }
#else
    int16_t *d = (int16_t *)cols + 2 * pixel;
    for (; steps > 0; steps--, d += 16, src += 4) {
        d[0] = (int16_t)(src[0] + input_offset);
        d[1] = (int16_t)(src[2] + input_offset);
        d[8] = (int16_t)(src[1] + input_offset);
        d[9] = (int16_t)(src[3] + input_offset);
    }
#endif
}

/* acc[2p + c] (pixel p, channel c of the pair) += column p . weights of
 * channel c, over `steps` steps of four k. */
static void block_pair(int32_t acc[8], const void *cols, const int8_t *w, int32_t steps)
{
#if MCO_BLOCK_ASM
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    const int32_t *cp = (const int32_t *)cols;
    const int32_t *end = cp + 8 * steps;
    int32_t x0, x1, v, t = steps & 1;
    /* One half step: the weight word v (c0 and c1 at two k), the two
     * halves sign-extended (t: c0, v: c1), against the input words of the
     * four pixels for the same two k. The loads of each group are back to
     * back, so all but the first pipeline. */
#define MCO_BLOCK_HALF_STEP                               \
    "ldr %[v], [%[wp]], #4\n\t"                          \
    "ldr %[x0], [%[cp]], #4\n\t"                         \
    "ldr %[x1], [%[cp]], #4\n\t"                         \
    "sxtb16 %[t], %[v]\n\t"                              \
    "sxtb16 %[v], %[v], ror #8\n\t"                      \
    "smlad %[a0], %[x0], %[t], %[a0]\n\t"                \
    "smlad %[a1], %[x0], %[v], %[a1]\n\t"                \
    "smlad %[a2], %[x1], %[t], %[a2]\n\t"                \
    "smlad %[a3], %[x1], %[v], %[a3]\n\t"                \
    "ldr %[x0], [%[cp]], #4\n\t"                         \
    "ldr %[x1], [%[cp]], #4\n\t"                         \
    "smlad %[a4], %[x0], %[t], %[a4]\n\t"                \
    "smlad %[a5], %[x0], %[v], %[a5]\n\t"                \
    "smlad %[a6], %[x1], %[t], %[a6]\n\t"                \
    "smlad %[a7], %[x1], %[v], %[a7]\n\t"
    /* an odd number of steps enters at the second step of the turn */
    __asm__ volatile(
        "cmp %[t], #0\n\t"
        "bne 2f\n"
        "1:\n\t"
        MCO_BLOCK_HALF_STEP MCO_BLOCK_HALF_STEP
        "2:\n\t"
        MCO_BLOCK_HALF_STEP MCO_BLOCK_HALF_STEP
        "ldr %[t], %[end]\n\t"
        "cmp %[cp], %[t]\n\t"
        "bne 1b"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5),
          [a6] "+r"(a6), [a7] "+r"(a7), [cp] "+r"(cp), [wp] "+r"(w), [t] "+r"(t), [x0] "=&r"(x0),
          [x1] "=&r"(x1), [v] "=&r"(v)
        : [end] "m"(end)
        : "cc", "memory");
#undef MCO_BLOCK_HALF_STEP
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
    acc[6] = a6;
    acc[7] = a7;
#elif MCO_HAVE_DSP
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    const int32_t *cp = (const int32_t *)cols;
    int32_t half;
    for (; steps > 0; steps--) {
        for (half = 0; half < 2; half++, cp += 4) {
            int32_t v = mco_read_s8x4(&w);
            int32_t t = mco_sxtb16(v);
            v = mco_sxtb16_ror8(v);
            a0 = mco_smlad(cp[0], t, a0);
            a1 = mco_smlad(cp[0], v, a1);
            a2 = mco_smlad(cp[1], t, a2);
            a3 = mco_smlad(cp[1], v, a3);
            a4 = mco_smlad(cp[2], t, a4);
            a5 = mco_smlad(cp[2], v, a5);
            a6 = mco_smlad(cp[3], t, a6);
            a7 = mco_smlad(cp[3], v, a7);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
    acc[6] = a6;
    acc[7] = a7;
#else
    const int16_t *x = (const int16_t *)cols;
    int32_t half, h, p;
    for (; steps > 0; steps--) {
        for (half = 0; half < 2; half++, x += 8, w += 4) {
            for (h = 0; h < 2; h++) {
                int32_t w0 = w[2 * h], w1 = w[2 * h + 1];
                for (p = 0; p < 4; p++) {
                    int32_t xv = x[2 * p + h];
                    acc[2 * p] += xv * w0;
                    acc[2 * p + 1] += xv * w1;
                }
            }
        }
    }
#endif
}

void mco_conv_block_s8_run(const mco_conv_s8_params *p, int32_t k_steps, const int8_t *weights,
                           const int32_t *bias, const void *cols, int8_t *out, int32_t n_valid)
{
    const int32_t out_c = p->win.out_c;
    const size_t pair_bytes = (size_t)k_steps * 8u;
    int32_t c, i;
    for (c = 0; c < out_c; c += 2, weights += pair_bytes) {
        const int two = c + 1 < out_c;
        int32_t acc[8];
        const int32_t b0 = bias[c], b1 = two ? bias[c + 1] : 0;
        for (i = 0; i < 4; i++) {
            acc[2 * i] = b0;
            acc[2 * i + 1] = b1;
        }
        block_pair(acc, cols, weights, k_steps);
        for (i = 0; i < n_valid; i++) {
            int8_t *o = out + (size_t)i * (size_t)out_c + (size_t)c;
            o[0] = mco_fp_output_s8(acc[2 * i], p->multiplier[c], p->shift[c], p->output_offset, p->act_min,
                                    p->act_max);
            if (two)
                o[1] = mco_fp_output_s8(acc[2 * i + 1], p->multiplier[c + 1], p->shift[c + 1], p->output_offset,
                                        p->act_min, p->act_max);
        }
    }
}
