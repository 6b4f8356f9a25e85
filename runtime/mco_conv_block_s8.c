/*
 * mco_conv_block_s8.c - the block product shared by the register-blocked
 * int8 convolutions (mco_conv_blocked.h): the weights' blocked order, the
 * widening of input values into the columns of a block, and all output
 * channels of a block of four columns (4 pixels x 2 channels of
 * accumulators per pass, requantized as TFLite).
 *
 * Four paths, the same arithmetic bit for bit:
 *   - DSP cores where the compiler gives fourteen registers to inline
 *     assembly (MCO_ASM_REGS >= 14: GCC optimising): the K loop in
 *     assembly, four steps of four k per turn, fourteen registers (the eight
 *     accumulators, the two pointers, two input words, a weight word and its
 *     sign-extended half); the loop's end pointer is read from the stack;
 *   - other DSP builds (Clang, GCC -O0, the host's MCO_EMULATE_DSP): the
 *     same loop in C with the intrinsics of mco_arch.h;
 *   - Armv6-M (MCO_ASM_V6M: Cortex-M0/M0+ with GCC or Clang): the K loop
 *     as a naked assembly function (no operands);
 *   - no DSP otherwise (Cortex-M3, MCO_FORCE_GENERIC, -DMCO_ASM_REGS=0 on
 *     Armv6-M, the host): plain C on the int16 columns, one k at a time.
 *
 * What it leaves out: blocks other than 4 x 2 (a shape with fewer pixels or
 * an odd channel count computes the missing ones on zero weights or on a
 * copied column and does not store them).
 */
#include <string.h>

#include "mco_arch.h"
#include "mco_conv_blocked.h"
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"

/* Whether the assembly loops are built (the compiler contract, mco_arch.h
 * and docs/design.md): the K loop takes fourteen core registers as
 * operands, the widening loop twelve; each is compiled only where
 * MCO_ASM_REGS says the compiler gives that many (GCC optimising: 14,
 * Clang: 13, GCC -O0: 0), else the C path beside it runs, the same
 * arithmetic with the intrinsics of mco_arch.h. */
#define MCO_BLOCK_ASM (MCO_ASM_REGS >= 14)
#define MCO_WIDEN_ASM (MCO_ASM_REGS >= 12)

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

void mco_conv_block_s8_widen(void *cols, int32_t pixel, const int8_t *src, int32_t runs, int32_t run_steps,
                             size_t run_stride, int32_t input_offset)
{
    int32_t r, n;
#if MCO_HAVE_DSP
    int32_t *d = (int32_t *)cols + pixel;
    const int32_t offset2 = mco_dup16(input_offset);
    for (r = 0; r < runs; r++, src += run_stride) {
        const int8_t *s = src;
        n = run_steps;
#if MCO_WIDEN_ASM
        if (n >= 4) {   /* four words a turn: four loads, then eight stores, back to back */
            int32_t turns = n >> 2, x0, x1, x2, x3, y0, y1, y2, y3;
            __asm__ volatile(
                "1:\n\t"
                "ldr %[x0], [%[s]], #4\n\t"
                "ldr %[x1], [%[s]], #4\n\t"
                "ldr %[x2], [%[s]], #4\n\t"
                "ldr %[x3], [%[s]], #4\n\t"
                "sxtab16 %[y0], %[off], %[x0]\n\t"
                "sxtab16 %[x0], %[off], %[x0], ror #8\n\t"
                "sxtab16 %[y1], %[off], %[x1]\n\t"
                "sxtab16 %[x1], %[off], %[x1], ror #8\n\t"
                "sxtab16 %[y2], %[off], %[x2]\n\t"
                "sxtab16 %[x2], %[off], %[x2], ror #8\n\t"
                "sxtab16 %[y3], %[off], %[x3]\n\t"
                "sxtab16 %[x3], %[off], %[x3], ror #8\n\t"
                "str %[y0], [%[d]]\n\t"
                "str %[x0], [%[d], #16]\n\t"
                "str %[y1], [%[d], #32]\n\t"
                "str %[x1], [%[d], #48]\n\t"
                "str %[y2], [%[d], #64]\n\t"
                "str %[x2], [%[d], #80]\n\t"
                "str %[y3], [%[d], #96]\n\t"
                "str %[x3], [%[d], #112]\n\t"
                "adds %[d], %[d], #128\n\t"
                "subs %[n], %[n], #1\n\t"
                "bne 1b"
                : [s] "+r"(s), [d] "+r"(d), [n] "+r"(turns), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                  [x3] "=&r"(x3), [y0] "=&r"(y0), [y1] "=&r"(y1), [y2] "=&r"(y2), [y3] "=&r"(y3)
                : [off] "r"(offset2)
                : "cc", "memory");
            n &= 3;
        }
#endif
        for (; n >= 2; n -= 2, d += 16) {   /* two words: loads and stores back to back */
            int32_t x = mco_read_s8x4(&s), y = mco_read_s8x4(&s);
            d[0] = mco_sxtab16(offset2, x);
            d[4] = mco_sxtab16_ror8(offset2, x);
            d[8] = mco_sxtab16(offset2, y);
            d[12] = mco_sxtab16_ror8(offset2, y);
        }
        if (n > 0) {
            int32_t x = mco_read_s8x4(&s);
            d[0] = mco_sxtab16(offset2, x);
            d[4] = mco_sxtab16_ror8(offset2, x);
            d += 8;
        }
    }
#else
    int16_t *d = (int16_t *)cols + 2 * pixel;
    for (r = 0; r < runs; r++, src += run_stride) {
        const int8_t *s = src;
        for (n = run_steps; n > 0; n--, d += 16, s += 4) {
            d[0] = (int16_t)(s[0] + input_offset);
            d[1] = (int16_t)(s[2] + input_offset);
            d[8] = (int16_t)(s[1] + input_offset);
            d[9] = (int16_t)(s[3] + input_offset);
        }
    }
#endif
}

void mco_conv_block_s8_im2col(const mco_conv_s8_params *p, const int8_t *input, void *cols, int32_t pixel,
                              int32_t oy, int32_t ox)
{
    const mco_window *w = &p->win;
    const mco_clip c = mco_clip_window(w, oy, ox);
    const int32_t row = w->kernel_w * w->in_c, k = w->kernel_h * row, k_pad = MCO_BLOCK_K_PAD(k);
    const size_t in_row = (size_t)w->in_w * (size_t)w->in_c;
    int8_t *tmp = (int8_t *)cols + 8 * k_pad;
    int32_t ky;
    if (c.ky_lo == 0 && c.kx_lo == 0 && c.ky_hi == w->kernel_h && c.kx_hi == w->kernel_w) {
        const int8_t *src = input + (size_t)c.y0 * in_row + (size_t)c.x0 * (size_t)w->in_c;
        if (row % 4 == 0) {   /* every kernel row is whole words: widened in place */
            mco_conv_block_s8_widen(cols, pixel, src, w->kernel_h, row / 4, in_row, p->input_offset);
            return;
        }
        for (ky = 0; ky < w->kernel_h; ky++, src += in_row) memcpy(tmp + (size_t)(ky * row), src, (size_t)row);
        if (k_pad > k) memset(tmp + k, (int8_t)-p->input_offset, (size_t)(k_pad - k));   /* widens to 0 */
    } else {
        memset(tmp, (int8_t)-p->input_offset, (size_t)k_pad);
        for (ky = c.ky_lo; ky < c.ky_hi; ky++)
            memcpy(tmp + (size_t)((ky * w->kernel_w + c.kx_lo) * w->in_c),
                   input + (size_t)(c.y0 + ky) * in_row + (size_t)(c.x0 + c.kx_lo) * (size_t)w->in_c,
                   (size_t)((c.kx_hi - c.kx_lo) * w->in_c));
    }
    mco_conv_block_s8_widen(cols, pixel, tmp, 1, k_pad / 4, 0, p->input_offset);
}

#if MCO_BLOCK_ASM
/* One step of four k: for each half (k0, k2) then (k1, k3), the weight word
 * v (c0 and c1 at those two k) and its halves sign-extended (t: c0,
 * v: c1), against the widened words of the four pixels for the same two k.
 * The loads of each group are back to back, so all but the first
 * pipeline. */
#define MCO_BLOCK_HALF_STEP                         \
    "ldr %[v], [%[wp]], #4\n\t"                    \
    "ldr %[x0], [%[cp]], #4\n\t"                   \
    "ldr %[x1], [%[cp]], #4\n\t"                   \
    "sxtb16 %[t], %[v]\n\t"                        \
    "sxtb16 %[v], %[v], ror #8\n\t"                \
    "smlad %[a0], %[x0], %[t], %[a0]\n\t"          \
    "smlad %[a1], %[x0], %[v], %[a1]\n\t"          \
    "smlad %[a2], %[x1], %[t], %[a2]\n\t"          \
    "smlad %[a3], %[x1], %[v], %[a3]\n\t"          \
    "ldr %[x0], [%[cp]], #4\n\t"                   \
    "ldr %[x1], [%[cp]], #4\n\t"                   \
    "smlad %[a4], %[x0], %[t], %[a4]\n\t"          \
    "smlad %[a5], %[x0], %[v], %[a5]\n\t"          \
    "smlad %[a6], %[x1], %[t], %[a6]\n\t"          \
    "smlad %[a7], %[x1], %[v], %[a7]\n\t"
#define MCO_BLOCK_STEP MCO_BLOCK_HALF_STEP MCO_BLOCK_HALF_STEP
/* The K loop, four steps per turn; t = steps % 4 on entry picks where the
 * first turn starts (the end test costs a stack load, a compare and a
 * taken branch: once per four steps). */
#define MCO_BLOCK_LOOP                              \
    "cmp %[t], #2\n\t"                             \
    "blt 5f\n\t"                                   \
    "beq 3f\n\t"                                   \
    "b 2f\n"                                       \
    "5:\n\t"                                       \
    "cmp %[t], #0\n\t"                             \
    "bne 4f\n"                                     \
    "1:\n\t" MCO_BLOCK_STEP                        \
    "2:\n\t" MCO_BLOCK_STEP                        \
    "3:\n\t" MCO_BLOCK_STEP                        \
    "4:\n\t" MCO_BLOCK_STEP                        \
    "ldr %[t], %[end]\n\t"                         \
    "cmp %[cp], %[t]\n\t"                          \
    "bne 1b\n\t"
#define MCO_BLOCK_OPERANDS                                                                                      \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5), [a6] "+r"(a6),    \
        [a7] "+r"(a7), [cp] "+r"(cp), [wp] "+r"(w), [t] "+r"(t), [x0] "=&r"(x0), [x1] "=&r"(x1), [v] "=&r"(v)
#endif

/* Armv6-M (Cortex-M0/M0+: no DSP, loads of 2 cycles, no load pipelining,
 * MULS on low registers only): the block's K loop as one function written
 * in assembly (a naked function: no operands for the compiler to find
 * registers for, so any compiler and level builds it). Per half step the
 * weight word is read twice: c0's two weights, then c1's, each pass
 * reading the four pixels' input words again (LDR, SXTH, ASRS: two k per
 * load) and summing two products into its accumulator: 8 cycles for 2 MACs
 * a pixel. Accumulators: pixels 0..2 in r8..r12 and lr (ADD reaches the
 * high registers), pixel 3 in r6, r7; the loop end is on the stack. */
#if MCO_ASM_V6M
#define MCO_BLOCK_V6M_ASM 1
/* c0's pass (weights in bytes 0 and 2 of the word at r1 + h) over the four
 * pixels' words at r0 + x (accumulators r8, r10, r12, r6) */
#define MCO_V6M_PIXEL(x, add)                       \
    "ldr r4, [r0, #" x "]\n\t"                     \
    "asrs r5, r4, #16\n\t"                         \
    "sxth r4, r4\n\t"                              \
    "muls r4, r2, r4\n\t"                          \
    "muls r5, r3, r5\n\t"                          \
    "adds r4, r4, r5\n\t" add "\n\t"
#define MCO_V6M_HALF(h, x0, x1, x2, x3)            \
    "ldr r2, [r1, #" h "]\n\t"                     \
    "lsls r3, r2, #8\n\t"                          \
    "asrs r3, r3, #24\n\t"                         \
    "sxtb r2, r2\n\t"                              \
    MCO_V6M_PIXEL(x0, "add r8, r4") MCO_V6M_PIXEL(x1, "add r10, r4")   \
    MCO_V6M_PIXEL(x2, "add r12, r4") MCO_V6M_PIXEL(x3, "adds r6, r6, r4") \
    "ldr r2, [r1, #" h "]\n\t"                     \
    "asrs r3, r2, #24\n\t"                         \
    "lsls r2, r2, #16\n\t"                         \
    "asrs r2, r2, #24\n\t"                         \
    MCO_V6M_PIXEL(x0, "add r9, r4") MCO_V6M_PIXEL(x1, "add r11, r4")   \
    MCO_V6M_PIXEL(x2, "add lr, r4") MCO_V6M_PIXEL(x3, "adds r7, r7, r4")

/* block_pair(acc, cols, w, steps), steps >= 1: r0 acc, r1 cols, r2 w, r3 steps. */
#define MCO_V6M_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void block_pair_v6m(MCO_V6M_ARG int32_t *acc, MCO_V6M_ARG const void *cols,
                                                            MCO_V6M_ARG const int8_t *w, MCO_V6M_ARG int32_t steps)
{
    __asm__ volatile(
        ".syntax unified\n\t"
        "push {r4, r5, r6, r7, lr}\n\t"
        "mov r4, r8\n\t"
        "mov r5, r9\n\t"
        "mov r6, r10\n\t"
        "mov r7, r11\n\t"
        "push {r4, r5, r6, r7}\n\t"
        "lsls r3, r3, #3\n\t"
        "adds r3, r2, r3\n\t"              /* the end of the weights */
        "push {r0, r3}\n\t"                /* [sp]: acc, [sp, #4]: end */
        "ldr r4, [r0, #0]\n\t"
        "mov r8, r4\n\t"
        "ldr r4, [r0, #4]\n\t"
        "mov r9, r4\n\t"
        "ldr r4, [r0, #8]\n\t"
        "mov r10, r4\n\t"
        "ldr r4, [r0, #12]\n\t"
        "mov r11, r4\n\t"
        "ldr r4, [r0, #16]\n\t"
        "mov r12, r4\n\t"
        "ldr r4, [r0, #20]\n\t"
        "mov lr, r4\n\t"
        "ldr r6, [r0, #24]\n\t"
        "ldr r7, [r0, #28]\n\t"
        "mov r0, r1\n\t"                   /* r0: the columns, r1: the weights */
        "mov r1, r2\n"
        "1:\n\t"
        MCO_V6M_HALF("0", "0", "4", "8", "12")
        MCO_V6M_HALF("4", "16", "20", "24", "28")
        "adds r0, #32\n\t"
        "adds r1, #8\n\t"
        "ldr r2, [sp, #4]\n\t"
        "cmp r1, r2\n\t"
        "beq 2f\n\t"                     /* the loop is longer than a conditional branch reaches */
        "b 1b\n"
        "2:\n\t"
        "pop {r0, r3}\n\t"
        "mov r4, r8\n\t"
        "str r4, [r0, #0]\n\t"
        "mov r4, r9\n\t"
        "str r4, [r0, #4]\n\t"
        "mov r4, r10\n\t"
        "str r4, [r0, #8]\n\t"
        "mov r4, r11\n\t"
        "str r4, [r0, #12]\n\t"
        "mov r4, r12\n\t"
        "str r4, [r0, #16]\n\t"
        "mov r4, lr\n\t"
        "str r4, [r0, #20]\n\t"
        "str r6, [r0, #24]\n\t"
        "str r7, [r0, #28]\n\t"
        "pop {r4, r5, r6, r7}\n\t"
        "mov r8, r4\n\t"
        "mov r9, r5\n\t"
        "mov r10, r6\n\t"
        "mov r11, r7\n\t"
        "pop {r4, r5, r6, r7, pc}\n\t");
}
#undef MCO_V6M_HALF
#undef MCO_V6M_PIXEL
#undef MCO_V6M_ARG
#else
#define MCO_BLOCK_V6M_ASM 0
#endif

/* acc[2p + c] (pixel p, channel c of the pair) += column p . weights of
 * channel c, over `steps` steps of four k. */
static void block_pair(int32_t acc[8], const void *cols, const int8_t *w, int32_t steps)
{
#if MCO_BLOCK_ASM
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    const int32_t *cp = (const int32_t *)cols;
    const int32_t *end = cp + 8 * steps;
    int32_t x0, x1, v, t = steps & 3;
    __asm__ volatile(MCO_BLOCK_LOOP : MCO_BLOCK_OPERANDS : [end] "m"(end) : "cc", "memory");
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
#elif MCO_BLOCK_V6M_ASM
    block_pair_v6m(acc, cols, w, steps);
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

/* Without a 32 x 32 -> 64 bit multiply (Armv6-M: the compiler would call
 * __aeabi_lmul, about 40 cycles) SMMULR's round(a * m / 2^32) for m >= 0
 * from 16-bit halves, a = ah 2^16 + al, m = mh 2^16 + ml (al, ml
 * unsigned): a m + 2^31 = ah mh 2^32 + (ah ml + al mh) 2^16 + al ml + 2^31,
 * so y = ah mh + floor((ah ml + u) / 2^16) with
 * u = al mh + floor(al ml / 2^16) + 2^15 (< 2^32; |ah ml| < 2^31), and the
 * floor of that sum is (ah ml >> 16) + (u >> 16) + the carry of their low
 * halves. Used on the host's generic build too, so the tests run it. */
#if MCO_REQUANT_FAST && !MCO_HAVE_DSP && (defined(__ARM_ARCH_6M__) || !defined(__arm__))
#define MCO_BLOCK_SMMULR_16 1
static inline int32_t smmulr_16(int32_t a, uint32_t m_lo, int32_t m_hi)
{
    const int32_t ah = a >> 16;
    const uint32_t al = (uint32_t)a & 0xFFFFu;
    const int32_t hm = ah * (int32_t)m_lo;
    const uint32_t u = al * (uint32_t)m_hi + ((al * m_lo) >> 16) + 0x8000u;
    return ah * m_hi + (hm >> 16) + (int32_t)(u >> 16) + (int32_t)((((uint32_t)hm & 0xFFFFu) + (u & 0xFFFFu)) >> 16);
}
#else
#define MCO_BLOCK_SMMULR_16 0
#endif

/* Requantizes and stores one output channel of a block: acc[2i] is pixel
 * i's accumulator, written at out + i * out_c (i < n_valid); the same
 * arithmetic as mco_fp_output_s8 under the same options, the channel's
 * constants prepared once (with MCO_REQUANT_FAST the output offset is
 * folded into the rounding term: (y + r) >> e + off = (y + r + (off << e)) >> e
 * exactly, and |y + r + (off << e)| < 2^30 + 2^21 + 2^29 fits int32). */
static void store_channel(const int32_t *acc, int8_t *out, int32_t out_c, int32_t n_valid, int32_t multiplier,
                          int32_t shift, int32_t offset, int32_t lo, int32_t hi)
{
    int32_t i;
#if MCO_REQUANT_FAST
    const int32_t e = -shift;
    const int32_t round = (int32_t)((uint32_t)1 << (e - 1)) + (int32_t)((uint32_t)offset << e);
#if MCO_BLOCK_SMMULR_16
    const uint32_t m_lo = (uint32_t)multiplier & 0xFFFFu;
    const int32_t m_hi = multiplier >> 16;
#endif
    for (i = 0; i < n_valid; i++, acc += 2, out += out_c) {
#if MCO_BLOCK_SMMULR_16
        int32_t y = smmulr_16(2 * acc[0], m_lo, m_hi);
#else
        int32_t y = mco_smmulr(2 * acc[0], multiplier);
#endif
        out[0] = (int8_t)mco_fp_clamp((y + (y >> 31) + round) >> e, lo, hi);
    }
#elif MCO_REQUANT_RIGHT_ONLY
    const mco_requant_right rq = mco_fp_requant_right_init(multiplier, shift);
    for (i = 0; i < n_valid; i++, acc += 2, out += out_c)
        out[0] = (int8_t)mco_fp_clamp(mco_fp_clamp(mco_fp_requant_right(&rq, acc[0]), -256, 255) + offset, lo, hi);
#else
    for (i = 0; i < n_valid; i++, acc += 2, out += out_c)
        out[0] = mco_fp_output_s8(acc[0], multiplier, shift, offset, lo, hi);
#endif
}

#if MCO_BLOCK_ASM && MCO_REQUANT_FAST
#define MCO_BLOCK_STORE_ASM 1
/* What the assembly output stage reads (offsets fixed below), per pair
 * of channels c0, c1: multiplier, rounding term with the output offset
 * folded in, and right shift of each (store_channel's arithmetic), the
 * clamp, where pixel 0's c0 goes and the pixel stride. */
typedef struct {
    int32_t m0, r0, e0, m1, r1, e1;   /* 0, 4, 8, 12, 16, 20 */
    int32_t lo, hi;                   /* 24, 28 */
    int8_t *out;                      /* 32 */
    int32_t stride;                   /* 36 */
} block_store;

/* Requantizes accumulator a in place: 2a * m rounded to the high word
 * (SMMULR), plus its sign (y + (y >> 31)) and the rounding term, shifted. */
#define MCO_BLOCK_REQUANT(a)                        \
    "lsl %[" a "], %[" a "], #1\n\t"               \
    "smmulr %[" a "], %[" a "], %[x0]\n\t"         \
    "add %[" a "], %[" a "], %[" a "], asr #31\n\t" \
    "add %[" a "], %[" a "], %[x1]\n\t"            \
    "asr %[" a "], %[" a "], %[t]\n\t"
/* Clamps a to [x0, x1]. */
#define MCO_BLOCK_CLAMP(a)                          \
    "cmp %[" a "], %[x0]\n\t"                      \
    "it lt\n\t"                                    \
    "movlt %[" a "], %[x0]\n\t"                    \
    "cmp %[" a "], %[x1]\n\t"                      \
    "it gt\n\t"                                    \
    "movgt %[" a "], %[x1]\n\t"
/* Pixel p's two outputs (accumulators a, b) at v, then v to the next pixel. */
#define MCO_BLOCK_PIXEL(a, b)                       \
    MCO_BLOCK_CLAMP(a) MCO_BLOCK_CLAMP(b)           \
    "strb %[" a "], [%[v]]\n\t"                    \
    "strb %[" b "], [%[v], #1]\n\t"                \
    "add %[v], %[v], %[wp]\n\t"

/* block_pair for two channels and four pixels, the outputs requantized and
 * stored by the same assembly (MCO_REQUANT_FAST): no accumulator goes
 * through memory, and the output stage costs about 11 cycles an output. */
static void block_pair_store(int32_t b0, int32_t b1, const void *cols, const int8_t *w, int32_t steps,
                             const block_store *st)
{
    int32_t a0 = b0, a1 = b1, a2 = b0, a3 = b1, a4 = b0, a5 = b1, a6 = b0, a7 = b1;
    const int32_t *cp = (const int32_t *)cols;
    const int32_t *end = cp + 8 * steps;
    int32_t x0, x1, v, t = steps & 3;
    __asm__ volatile(MCO_BLOCK_LOOP
                     "ldr %[cp], %[st]\n\t"
                     "ldr %[x0], [%[cp], #0]\n\t"
                     "ldr %[x1], [%[cp], #4]\n\t"
                     "ldr %[t], [%[cp], #8]\n\t"
                     MCO_BLOCK_REQUANT("a0") MCO_BLOCK_REQUANT("a2") MCO_BLOCK_REQUANT("a4") MCO_BLOCK_REQUANT("a6")
                     "ldr %[x0], [%[cp], #12]\n\t"
                     "ldr %[x1], [%[cp], #16]\n\t"
                     "ldr %[t], [%[cp], #20]\n\t"
                     MCO_BLOCK_REQUANT("a1") MCO_BLOCK_REQUANT("a3") MCO_BLOCK_REQUANT("a5") MCO_BLOCK_REQUANT("a7")
                     "ldr %[x0], [%[cp], #24]\n\t"
                     "ldr %[x1], [%[cp], #28]\n\t"
                     "ldr %[v], [%[cp], #32]\n\t"
                     "ldr %[wp], [%[cp], #36]\n\t"
                     MCO_BLOCK_PIXEL("a0", "a1") MCO_BLOCK_PIXEL("a2", "a3") MCO_BLOCK_PIXEL("a4", "a5")
                     MCO_BLOCK_CLAMP("a6") MCO_BLOCK_CLAMP("a7")
                     "strb %[a6], [%[v]]\n\t"
                     "strb %[a7], [%[v], #1]"
                     : MCO_BLOCK_OPERANDS
                     : [end] "m"(end), [st] "m"(st)
                     : "cc", "memory");
}
/* Leaves in a the largest of a, b (signed). */
#define MCO_BLOCK_MAX(a, b)                         \
    "cmp %[" a "], %[" b "]\n\t"                   \
    "it lt\n\t"                                    \
    "movlt %[" a "], %[" b "]\n\t"

/* The same for a conv fused with a max pool 2x2 whose window is the
 * block's four pixels: per channel the largest accumulator, requantized
 * once (requantization with a multiplier >= 0 is non-decreasing, so this
 * is the max of the four outputs), stored at the pooled pixel. */
static void block_pair_pool_store(int32_t b0, int32_t b1, const void *cols, const int8_t *w, int32_t steps,
                                  const block_store *st)
{
    int32_t a0 = b0, a1 = b1, a2 = b0, a3 = b1, a4 = b0, a5 = b1, a6 = b0, a7 = b1;
    const int32_t *cp = (const int32_t *)cols;
    const int32_t *end = cp + 8 * steps;
    int32_t x0, x1, v, t = steps & 3;
    __asm__ volatile(MCO_BLOCK_LOOP
                     MCO_BLOCK_MAX("a0", "a2") MCO_BLOCK_MAX("a0", "a4") MCO_BLOCK_MAX("a0", "a6")
                     MCO_BLOCK_MAX("a1", "a3") MCO_BLOCK_MAX("a1", "a5") MCO_BLOCK_MAX("a1", "a7")
                     "ldr %[cp], %[st]\n\t"
                     "ldr %[x0], [%[cp], #0]\n\t"
                     "ldr %[x1], [%[cp], #4]\n\t"
                     "ldr %[t], [%[cp], #8]\n\t"
                     MCO_BLOCK_REQUANT("a0")
                     "ldr %[x0], [%[cp], #12]\n\t"
                     "ldr %[x1], [%[cp], #16]\n\t"
                     "ldr %[t], [%[cp], #20]\n\t"
                     MCO_BLOCK_REQUANT("a1")
                     "ldr %[x0], [%[cp], #24]\n\t"
                     "ldr %[x1], [%[cp], #28]\n\t"
                     "ldr %[v], [%[cp], #32]\n\t"
                     MCO_BLOCK_CLAMP("a0") MCO_BLOCK_CLAMP("a1")
                     "strb %[a0], [%[v]]\n\t"
                     "strb %[a1], [%[v], #1]"
                     : MCO_BLOCK_OPERANDS
                     : [end] "m"(end), [st] "m"(st)
                     : "cc", "memory");
}
#else
#define MCO_BLOCK_STORE_ASM 0
#endif

static int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

void mco_conv_block_s8_run(const mco_conv_s8_params *p, int32_t k_steps, const int8_t *weights,
                           const int32_t *bias, const void *cols, int8_t *out, int32_t n_valid, int pool)
{
    const int32_t out_c = p->win.out_c;
    const size_t pair_bytes = (size_t)k_steps * 8u;
    int32_t c, i;
#if MCO_BLOCK_STORE_ASM
    block_store st;
    st.lo = p->act_min;
    st.hi = p->act_max;
    st.stride = out_c;
#endif
    for (c = 0; c < out_c; c += 2, weights += pair_bytes) {
        const int32_t b0 = bias[c], b1 = c + 1 < out_c ? bias[c + 1] : 0;
        int32_t acc[8];
#if MCO_BLOCK_STORE_ASM
        if (n_valid == 4 && c + 1 < out_c) {
            const int32_t offset = p->output_offset, e0 = -p->shift[c], e1 = -p->shift[c + 1];
            st.m0 = p->multiplier[c];
            st.e0 = e0;
            st.r0 = (int32_t)((uint32_t)1 << (e0 - 1)) + (int32_t)((uint32_t)offset << e0);
            st.m1 = p->multiplier[c + 1];
            st.e1 = e1;
            st.r1 = (int32_t)((uint32_t)1 << (e1 - 1)) + (int32_t)((uint32_t)offset << e1);
            st.out = out + c;
            if (pool)
                block_pair_pool_store(b0, b1, cols, weights, k_steps, &st);
            else
                block_pair_store(b0, b1, cols, weights, k_steps, &st);
            continue;
        }
#endif
        for (i = 0; i < 4; i++) {
            acc[2 * i] = b0;
            acc[2 * i + 1] = b1;
        }
        block_pair(acc, cols, weights, k_steps);
        if (pool) {   /* the window's largest accumulator per channel, as pixel 0 */
            acc[0] = max2(max2(acc[0], acc[2]), max2(acc[4], acc[6]));
            acc[1] = max2(max2(acc[1], acc[3]), max2(acc[5], acc[7]));
            n_valid = 1;
        }
        store_channel(acc, out + c, out_c, n_valid, p->multiplier[c], p->shift[c], p->output_offset, p->act_min,
                      p->act_max);
        if (c + 1 < out_c)
            store_channel(acc + 1, out + c + 1, out_c, n_valid, p->multiplier[c + 1], p->shift[c + 1],
                          p->output_offset, p->act_min, p->act_max);
    }
}
