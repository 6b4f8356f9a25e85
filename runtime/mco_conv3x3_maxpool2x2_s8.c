/*
 * mco_conv3x3_maxpool2x2_s8.c - the specialised int8 Conv2D 3x3, one input
 * channel, stride 1, "valid" padding, + ReLU + MaxPool 2x2 stride 2: the
 * first layer of mnist-paper-like models, in few instructions and few bytes.
 *
 * It runs only the common case. The planner calls
 * mco_conv3x3_maxpool2x2_s8_prepare() before it picks the kernel
 * (MCO_OP_CONV3X3_MAXPOOL_S8): that checks the case and turns bias,
 * multipliers and shifts into the three words per channel the kernel reads
 * (MCO_CONV3X3_REQUANT_WORDS), as TFLite Micro's Prepare step precomputes
 * per-channel data for Eval; anything else runs the general fused kernel
 * (mco_conv2d_maxpool2x2_s8.c). The case:
 *   - the shape above;
 *   - activation range [-128, 127] (ReLU with the usual output zero point
 *     -128 is folded into the requantization's saturation);
 *   - per channel: multiplier >= 0, shift in [-22, -1], and
 *     |bias + input_offset * sum(w)| small enough that twice any window sum
 *     plus it stays below 2^30.
 * Bit-identical to mco_conv2d_s8 followed by mco_max_pool_s8: the max of the
 * four window sums is requantized once (requantization is monotonic for
 * multiplier >= 0), and in that case TFLite's
 *   srdhm(acc, m) = floor((acc*m + 2^30) / 2^31) = SMMULR(2 acc, m),
 *   rdbpot(y, e) + zp = (y + 2^(e-1) - [y < 0] + zp * 2^e) >> e
 * exactly, followed by one saturation to int8.
 *
 * Per output channel the 9 weights are held in registers; the input offset
 * is folded into the bias (bias + offset * sum(w)) by the prepare step.
 * DSP path: the 4x4 input patch of a pooled output is read one row word at a
 * time and unpacked with SXTB16 into (x0, x2) and (x1, x3); one SMLAD with
 * the kernel row's (k0, k2) and one SMLAxy with its k1 give a kernel row for
 * the left and the right conv output, so each patch row feeds every conv
 * output it belongs to while it is in registers; the max and the
 * requantization follow in the same loop. On the target the loop is written
 * out in assembly (the compiler spills in it); the C beside it does the same
 * arithmetic and runs in the host build and the DSP-emulation test.
 *
 * What it leaves out: padding, strides, other kernel sizes, several input
 * channels, other activation ranges, left shifts (the general kernel).
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

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

/* One output channel: its kernel and its requantization
 *   out = ssat8((y + round + (y >> 31)) >> e), y = SMMULR(2 max + base2, m)
 * with base2 = 2 (bias + input_offset * sum(w)) and
 * round = 2^(e-1) + output_offset * 2^e. Prepared words: base2, m, e. */
typedef struct {
    kernel3x3 K;
    int32_t base2, multiplier, round, e;
    int32_t stride;          /* output channels: the distance between pooled outputs */
} channel3x3;

/* (No padding follows from out = in - 2 with a 3x3 kernel and stride 1.) */
static int shape_ok(const mco_window *w)
{
    return w->in_c == 1 && w->kernel_h == 3 && w->kernel_w == 3 && w->stride_h == 1 && w->stride_w == 1 &&
           w->out_c > 0 && w->out_h == w->in_h - 2 && w->out_w == w->in_w - 2 && w->out_h >= 2 && w->out_w >= 2;
}

int mco_conv3x3_maxpool2x2_s8_prepare(const mco_conv_s8_params *p, const int8_t *weights, const int32_t *bias,
                                      int32_t *requant)
{
    int32_t oc, i;
    if (!p || !weights || !bias || !shape_ok(&p->win) || p->act_min != -128 || p->act_max != 127 ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return 0;
    for (oc = 0; oc < p->win.out_c; oc++) {
        int32_t base = bias[oc], m = p->multiplier[oc], e = -p->shift[oc];
        for (i = 0; i < 9; i++) base += p->input_offset * (int32_t)weights[9 * oc + i];
        if (m < 0 || e < 1 || e > 22 || base >= (1 << 29) - MAX_WINDOW_SUM || base <= MAX_WINDOW_SUM - (1 << 29))
            return 0;
        if (requant) {
            int32_t *q = requant + MCO_CONV3X3_REQUANT_WORDS * oc;
            q[0] = 2 * base;
            q[1] = m;
            q[2] = e;
        }
    }
    return 1;
}

/* The kernel of channel oc in registers' form, and its requantization. */
static void channel_load(channel3x3 *ch, const int8_t *wc, const int32_t *q, int32_t output_offset, int32_t out_c)
{
    int32_t i;
#if MCO_HAVE_DSP
    for (i = 0; i < 3; i++) ch->K.k02[i] = mco_pack16(wc[3 * i], wc[3 * i + 2]);
    ch->K.k01_k11 = mco_pack16(wc[1], wc[4]);
    ch->K.k21 = wc[7];
#else
    for (i = 0; i < 9; i++) ch->K.k[i] = wc[i];
#endif
    ch->base2 = q[0];
    ch->multiplier = q[1];
    ch->e = q[2];
    ch->round = (int32_t)(((uint32_t)1 << (ch->e - 1)) + ((uint32_t)output_offset << ch->e));
    ch->stride = out_c;
}

#if MCO_HAVE_DSP && MCO_DSP_NATIVE
/* One channel: out[(py * pooled_w + px) * stride] for the 2x2 windows whose
 * 4x4 patch starts at input + 2 py in_w + 2 px. Per pooled row, fourteen
 * registers: the requantization constants and the row's end are read from
 * the stack once the four sums are folded into one. */
static MCO_NOINLINE void channel_pooled(const int8_t *input, int32_t in_w, int32_t pooled_h, int32_t pooled_w,
                                        const channel3x3 *ch, int8_t *out)
{
    int32_t k0 = ch->K.k02[0], k1 = ch->K.k02[1], k2 = ch->K.k02[2], km = ch->K.k01_k11, k21 = ch->K.k21;
    int32_t base2 = ch->base2, m = ch->multiplier, round = ch->round, e = ch->e, stride = ch->stride;
    int32_t py;
    for (py = 0; py < pooled_h; py++) {
      const int8_t *in = input + (size_t)(2 * py) * (size_t)in_w, *end = in + 2 * pooled_w;
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
        /* requantize the max (the constants are read from the stack) */
        "ldr %[a], %[base2]\n\t"
        "ldr %[b], %[m]\n\t"
        "ldr %[c01], %[round]\n\t"
        "ldr %[c10], %[e]\n\t"
        "ldr %[c11], %[stride]\n\t"
        "add %[a], %[a], %[c00], lsl #1\n\t"
        "smmulr %[a], %[a], %[b]\n\t"
        "add %[b], %[c01], %[a]\n\t"
        "add %[b], %[b], %[a], asr #31\n\t"
        "asr %[b], %[b], %[c10]\n\t"
        "ssat %[b], #8, %[b]\n\t"
        "strb %[b], [%[out]]\n\t"
        "add %[out], %[out], %[c11]\n\t"
        "ldr %[a], %[end]\n\t"
        "adds %[in], %[in], #2\n\t"
        "cmp %[in], %[a]\n\t"
        "bne 1b"
        : [in] "+r"(in), [out] "+r"(out), [c00] "=&r"(c00), [c01] "=&r"(c01), [c10] "=&r"(c10),
          [c11] "=&r"(c11), [a] "=&r"(a), [b] "=&r"(b)
        : [w] "r"(in_w), [k0] "r"(k0), [k1] "r"(k1), [k2] "r"(k2), [km] "r"(km), [k21] "r"(k21),
          [end] "m"(end), [base2] "m"(base2), [m] "m"(m), [round] "m"(round), [e] "m"(e), [stride] "m"(stride)
        : "cc", "memory");
    }
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

static inline int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

/* The assembly above, in C. */
static void channel_pooled(const int8_t *input, int32_t in_w, int32_t pooled_h, int32_t pooled_w,
                           const channel3x3 *ch, int8_t *out)
{
    int32_t py, px;
    for (py = 0; py < pooled_h; py++) {
      const int8_t *in = input + (size_t)(2 * py) * (size_t)in_w;
      for (px = 0; px < pooled_w; px++, in += 2, out += ch->stride) {
        int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0, y;
        const int8_t *r1 = in + in_w, *r2 = r1 + in_w, *r3 = r2 + in_w;
#if MCO_HAVE_DSP
        const kernel3x3 *K = &ch->K;
        int32_t k11 = (int32_t)((uint32_t)K->k01_k11 >> 16);   /* low half used: sign irrelevant */
        add_row(&c00, &c01, K->k02[0], K->k01_k11, in);
        add_row(&c00, &c01, K->k02[1], k11, r1);
        add_row(&c10, &c11, K->k02[0], K->k01_k11, r1);
        add_row(&c00, &c01, K->k02[2], K->k21, r2);
        add_row(&c10, &c11, K->k02[1], k11, r2);
        add_row(&c10, &c11, K->k02[2], K->k21, r3);
#else
        const int32_t *k = ch->K.k;
        add_row(&c00, &c01, k, in);
        add_row(&c00, &c01, k + 3, r1);
        add_row(&c10, &c11, k, r1);
        add_row(&c00, &c01, k + 6, r2);
        add_row(&c10, &c11, k + 3, r2);
        add_row(&c10, &c11, k + 6, r3);
#endif
        y = mco_smmulr(2 * max2(max2(c00, c01), max2(c10, c11)) + ch->base2, ch->multiplier);
        out[0] = (int8_t)mco_ssat8((y + ch->round + (y >> 31)) >> ch->e);
      }
    }
}
#endif

mco_rt_status mco_conv3x3_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *requant,
                                        int8_t *output)
{
    int32_t pooled_h, pooled_w, in_w, out_c, oc;
    if (!p || !input || !weights || !requant || !output || !shape_ok(&p->win)) return MCO_RT_ARG_ERROR;
    pooled_h = p->win.out_h / 2;
    pooled_w = p->win.out_w / 2;
    in_w = p->win.in_w;
    out_c = p->win.out_c;
    for (oc = 0; oc < out_c; oc++) {
        channel3x3 ch;
        channel_load(&ch, weights + 9 * oc, requant + MCO_CONV3X3_REQUANT_WORDS * oc, p->output_offset, out_c);
        channel_pooled(input, in_w, pooled_h, pooled_w, &ch, output + oc);
    }
    return MCO_RT_OK;
}
