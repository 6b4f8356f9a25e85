/*
 * mco_conv3x3_maxpool2x2_s8.c - the specialised int8 Conv2D 3x3, one input
 * channel, stride 1, "valid" padding, + fused clamp (ReLU) + MaxPool 2x2
 * stride 2: the first layer of mnist-paper-like models. The planner picks it
 * (MCO_OP_CONV3X3_MAXPOOL_S8) only when the shape fits and every channel has
 * multiplier >= 0 and shift <= -1; otherwise the general fused kernel
 * (mco_conv2d_maxpool2x2_s8.c) runs. Bit-identical to mco_conv2d_s8 followed
 * by mco_max_pool_s8 (the max of four accumulators is requantized once:
 * requantization is monotonic for multiplier >= 0).
 *
 * Per output channel the 9 weights are held in registers and the input
 * offset is folded into the bias (bias + offset * sum(w)). One pooled row is
 * done in two passes: the raw maxima of the 2x2 windows into a row buffer,
 * then their requantization.
 *
 * DSP path, pass 1: the 4x4 input patch of a pooled output is read one row
 * word at a time and unpacked with SXTB16 into (x0, x2) and (x1, x3); one
 * SMLAD with the kernel row's (k0, k2) and one SMLAxy with its k1 give a
 * kernel row for the left and the right conv output, so each patch row
 * feeds every conv output it belongs to while it is in registers. On the
 * target the loop is written out in assembly (the compiler spills in it);
 * the C beside it does the same arithmetic and runs on the host tests.
 *
 * Pass 2, fast case (act_min = -128, act_max = 127, which covers ReLU with
 * the usual zero point -128; |acc| < 2^30; shift >= -22): TFLite's
 *   srdhm(acc, m) = floor((acc*m + 2^30) / 2^31) = SMMULR(2 acc, m),
 *   rdbpot(y, e) + zp = (y + 2^(e-1) - [y < 0] + zp * 2^e) >> e,
 * then one saturation to int8: exact, and short. Other cases take the exact
 * 64-bit mco_fp_requant_right() and the clamp.
 *
 * What it leaves out: padding, strides, other kernel sizes, several input
 * channels (all handled by the general kernel).
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

#define MAX_POOLED_W 64   /* pooled row buffer: input width up to 129 */

/* The window sums' bound: 9 * 127 * 128 (int8 weights and inputs). */
#define MAX_WINDOW_SUM 146304

/* A 3x3 kernel k[row][col]. Generic: the 9 weights. DSP: per row r the
 * dual16 word (k[r][0], k[r][2]); the middle column as (k[0][1], k[1][1])
 * and k[2][1]. */
typedef struct {
#if MCO_HAVE_DSP
    int32_t k02[3], k01_k11, k21;
#else
    int32_t k[9];
#endif
} kernel3x3;

static inline int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

#if MCO_HAVE_DSP && MCO_DSP_NATIVE
/* Pass 1: row_max[i] = the largest of the four window sums (no bias, no
 * offset) of the 2x2 conv outputs whose 4x4 patch starts at in + 2i,
 * i < n (n >= 1). Fourteen registers; `end` is read from the stack. */
static MCO_NOINLINE void row_maxima(const int8_t *in, int32_t in_w, int32_t n, const kernel3x3 *K,
                                    int32_t *row_max)
{
    const int8_t *end = in + 2 * n;
    int32_t k0 = K->k02[0], k1 = K->k02[1], k2 = K->k02[2], km = K->k01_k11, k21 = K->k21;
    int32_t c00, c01, c10, c11, a, b;
    __asm__ volatile(
        "1:\n\t"
        /* patch row 0: c00, c01 with kernel row 0 */
        "ldr %[a], [%[in]]\n\t"
        "sxtb16 %[b], %[a], ror #8\n\t"
        "sxtb16 %[a], %[a]\n\t"
        "smuad %[c00], %[a], %[k0]\n\t"
        "smlabb %[c00], %[b], %[km], %[c00]\n\t"
        "smuad %[c01], %[b], %[k0]\n\t"
        "smlatb %[c01], %[a], %[km], %[c01]\n\t"
        /* row 1: c00, c01 with kernel row 1; c10, c11 with row 0 */
        "ldr %[a], [%[in], %[w]]\n\t"
        "sxtb16 %[b], %[a], ror #8\n\t"
        "sxtb16 %[a], %[a]\n\t"
        "smlad %[c00], %[a], %[k1], %[c00]\n\t"
        "smlabt %[c00], %[b], %[km], %[c00]\n\t"
        "smlad %[c01], %[b], %[k1], %[c01]\n\t"
        "smlatt %[c01], %[a], %[km], %[c01]\n\t"
        "smuad %[c10], %[a], %[k0]\n\t"
        "smlabb %[c10], %[b], %[km], %[c10]\n\t"
        "smuad %[c11], %[b], %[k0]\n\t"
        "smlatb %[c11], %[a], %[km], %[c11]\n\t"
        /* row 2: c00, c01 with kernel row 2; c10, c11 with row 1 */
        "ldr %[a], [%[in], %[w], lsl #1]\n\t"
        "sxtb16 %[b], %[a], ror #8\n\t"
        "sxtb16 %[a], %[a]\n\t"
        "smlad %[c00], %[a], %[k2], %[c00]\n\t"
        "smlabb %[c00], %[b], %[k21], %[c00]\n\t"
        "smlad %[c01], %[b], %[k2], %[c01]\n\t"
        "smlatb %[c01], %[a], %[k21], %[c01]\n\t"
        "smlad %[c10], %[a], %[k1], %[c10]\n\t"
        "smlabt %[c10], %[b], %[km], %[c10]\n\t"
        "smlad %[c11], %[b], %[k1], %[c11]\n\t"
        "smlatt %[c11], %[a], %[km], %[c11]\n\t"
        "cmp %[c00], %[c01]\n\t"
        "it lt\n\t"
        "movlt %[c00], %[c01]\n\t"
        /* row 3: c10, c11 with kernel row 2 */
        "add %[a], %[in], %[w], lsl #1\n\t"
        "ldr %[a], [%[a], %[w]]\n\t"
        "sxtb16 %[b], %[a], ror #8\n\t"
        "sxtb16 %[a], %[a]\n\t"
        "smlad %[c10], %[a], %[k2], %[c10]\n\t"
        "smlabb %[c10], %[b], %[k21], %[c10]\n\t"
        "smlad %[c11], %[b], %[k2], %[c11]\n\t"
        "smlatb %[c11], %[a], %[k21], %[c11]\n\t"
        "cmp %[c10], %[c11]\n\t"
        "it lt\n\t"
        "movlt %[c10], %[c11]\n\t"
        "cmp %[c00], %[c10]\n\t"
        "it lt\n\t"
        "movlt %[c00], %[c10]\n\t"
        "str %[c00], [%[m]], #4\n\t"
        "ldr %[a], %[end]\n\t"
        "adds %[in], %[in], #2\n\t"
        "cmp %[in], %[a]\n\t"
        "bne 1b"
        : [in] "+r"(in), [m] "+r"(row_max), [c00] "=&r"(c00), [c01] "=&r"(c01), [c10] "=&r"(c10),
          [c11] "=&r"(c11), [a] "=&r"(a), [b] "=&r"(b)
        : [w] "r"(in_w), [k0] "r"(k0), [k1] "r"(k1), [k2] "r"(k2), [km] "r"(km), [k21] "r"(k21),
          [end] "m"(end)
        : "cc", "memory");
}
#else
#if MCO_HAVE_DSP
/* Kernel row r (k02 = (k[r][0], k[r][2]), k1 = k[r][1] in the low half)
 * applied to the 4 input bytes at x: *left (x0..x2), *right (x1..x3). */
static inline void add_row(int32_t *left, int32_t *right, int32_t k02, int32_t k1, const int8_t *x)
{
    int32_t word = mco_peek_s8x4(x);
    int32_t x02 = mco_sxtb16(word), x13 = mco_sxtb16_ror8(word);
    *left = mco_smlabb(x13, k1, mco_smlad(x02, k02, *left));
    *right = mco_smlatb(x02, k1, mco_smlad(x13, k02, *right));
}
#else
static inline void add_row(int32_t *left, int32_t *right, const int32_t *kr, const int8_t *x)
{
    int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    *left += kr[0] * x0 + kr[1] * x1 + kr[2] * x2;
    *right += kr[0] * x1 + kr[1] * x2 + kr[2] * x3;
}
#endif

/* Pass 1 (see the assembly above), in C. */
static void row_maxima(const int8_t *in, int32_t in_w, int32_t n, const kernel3x3 *K, int32_t *row_max)
{
    const int8_t *end = in + 2 * n;
    for (; in < end; in += 2) {
        int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;
        const int8_t *r1 = in + in_w, *r2 = r1 + in_w, *r3 = r2 + in_w;
#if MCO_HAVE_DSP
        int32_t k11 = (int32_t)((uint32_t)K->k01_k11 >> 16);   /* low half used: sign irrelevant */
        add_row(&c00, &c01, K->k02[0], K->k01_k11, in);
        add_row(&c00, &c01, K->k02[1], k11, r1);
        add_row(&c10, &c11, K->k02[0], K->k01_k11, r1);
        add_row(&c00, &c01, K->k02[2], K->k21, r2);
        add_row(&c10, &c11, K->k02[1], k11, r2);
        add_row(&c10, &c11, K->k02[2], K->k21, r3);
#else
        add_row(&c00, &c01, K->k, in);
        add_row(&c00, &c01, K->k + 3, r1);
        add_row(&c10, &c11, K->k, r1);
        add_row(&c00, &c01, K->k + 6, r2);
        add_row(&c10, &c11, K->k + 3, r2);
        add_row(&c10, &c11, K->k + 6, r3);
#endif
        *row_max++ = max2(max2(c00, c01), max2(c10, c11));
    }
}
#endif

/* Pass 2, fast case: out[i * stride] for the raw maxima row_max[0..n);
 * base2 = 2 * base, e = -shift, h = 2^(e-1) + output_offset * 2^e. */
static MCO_NOINLINE void requant_row_fast(const int32_t *row_max, int32_t n, int8_t *out, size_t stride,
                                          int32_t base2, int32_t multiplier, int32_t e, int32_t h)
{
    const int32_t *end = row_max + n;
    for (; row_max < end; row_max++, out += stride) {
        int32_t y = mco_smmulr(2 * *row_max + base2, multiplier);   /* srdhm(acc, m) */
        out[0] = (int8_t)mco_ssat8((y + h + (y >> 31)) >> e);
    }
}

static int shape_ok(const mco_window *w)
{
    return w->in_c == 1 && w->kernel_h == 3 && w->kernel_w == 3 && w->stride_h == 1 && w->stride_w == 1 &&
           w->pad_top == 0 && w->pad_left == 0 && w->out_c > 0 && w->out_h == w->in_h - 2 &&
           w->out_w == w->in_w - 2 && w->out_h >= 2 && w->out_w >= 2 && w->out_w / 2 <= MAX_POOLED_W;
}

mco_rt_status mco_conv3x3_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *bias,
                                        int8_t *output)
{
    int32_t row_max[MAX_POOLED_W];
    int32_t pooled_h, pooled_w, out_c, in_w, oc, py, px, i, out_offset, act_min, act_max;
    if (!p || !input || !weights || !bias || !output || !shape_ok(&p->win) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                         p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    out_c = p->win.out_c;
    for (oc = 0; oc < out_c; oc++)
        if (p->multiplier[oc] < 0 || p->shift[oc] > -1 || p->shift[oc] < -31)
            return MCO_RT_NO_IMPL;
    pooled_h = p->win.out_h / 2;
    pooled_w = p->win.out_w / 2;
    in_w = p->win.in_w;
    out_offset = p->output_offset;   /* locals: the int8 stores below could alias *p */
    act_min = p->act_min;
    act_max = p->act_max;

    for (oc = 0; oc < out_c; oc++) {
        const int8_t *wc = weights + 9 * oc;
        int32_t base = bias[oc], m = p->multiplier[oc], e = -p->shift[oc], fast;
        kernel3x3 K;
        mco_requant_right rq = mco_fp_requant_right_init(m, -e);
        for (i = 0; i < 9; i++) {
#if !MCO_HAVE_DSP
            K.k[i] = wc[i];
#endif
            base += p->input_offset * (int32_t)wc[i];
        }
#if MCO_HAVE_DSP
        for (i = 0; i < 3; i++) K.k02[i] = mco_pack16(wc[3 * i], wc[3 * i + 2]);
        K.k01_k11 = mco_pack16(wc[1], wc[4]);
        K.k21 = wc[7];
#endif
        fast = act_min == -128 && act_max == 127 && e <= 22 && base < (1 << 29) - MAX_WINDOW_SUM &&
               base > MAX_WINDOW_SUM - (1 << 29);
        for (py = 0; py < pooled_h; py++) {
            int8_t *out = output + (size_t)py * (size_t)pooled_w * (size_t)out_c + (size_t)oc;
            row_maxima(input + (size_t)(2 * py) * (size_t)in_w, in_w, pooled_w, &K, row_max);
            if (fast) {
                requant_row_fast(row_max, pooled_w, out, (size_t)out_c, 2 * base, m, e,
                                 (int32_t)(((uint32_t)1 << (e - 1)) + ((uint32_t)out_offset << e)));
                continue;
            }
            for (px = 0; px < pooled_w; px++) {
                int32_t v = mco_fp_requant_right(&rq, row_max[px] + base) + out_offset;
                out[(size_t)px * (size_t)out_c] = (int8_t)mco_fp_clamp(v, act_min, act_max);
            }
        }
    }
    return MCO_RT_OK;
}
