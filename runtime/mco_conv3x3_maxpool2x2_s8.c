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
 *   - activation range [-128, 127] and output zero point -128 (the usual
 *     ReLU output, folded into the requantization's saturation);
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
 * DSP path: each row of the 4x4 input patch of a pooled output is taken as
 * the int16 pairs (x0, x2) and (x1, x3); one SMLAD with the kernel row's
 * (k0, k2) and one SMLAxy with its k1 give a kernel row for the left and
 * the right conv output, so each patch row feeds every conv output it
 * belongs to while it is in registers; the max and the requantization
 * follow in the same loop. On the target (DSP core, `mcuopt emit` wrote
 * the layer's shape into mco_config.h, and a compiler that gives the block
 * fourteen registers: MCO_ASM_REGS) the loop is assembly: the input is
 * widened once into a stack buffer of in_h * in_w int16 (1,568 bytes for
 * 28x28) laid out so each patch row is two word loads, and the whole
 * channel runs in fourteen registers (see channel_pooled). Elsewhere the C
 * path unpacks each patch row with SXTB16 (host build, DSP-emulation test,
 * Clang, GCC -O0) or multiplies bytes (no DSP); all compute the same
 * outputs.
 *
 * What it leaves out: padding, strides, other kernel sizes, several input
 * channels, other activation ranges or zero points, left shifts (the
 * general kernel); the assembly path's unaligned word loads (half of the
 * patch rows start at an odd int16) cost an extra bus cycle on hardware.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

/* The assembly path needs the input shape and the channel count as
 * immediates (`mcuopt emit` writes them into the model's mco_config.h) and
 * fourteen registers (MCO_ASM_REGS, mco_arch.h: GCC with optimisation);
 * otherwise (Clang, GCC -O0) the C path runs, with the same results. */
#if MCO_ASM_REGS >= 14 && MCO_CONV3X3_IN_W > 0 && MCO_CONV3X3_IN_W % 4 == 0 && MCO_CONV3X3_IN_H > 2
#define MCO_CONV3X3_ASM 1
#else
#define MCO_CONV3X3_ASM 0
#endif

/* The window sums' bound: 9 * 127 * 128 (int8 weights and inputs). */
#define MAX_WINDOW_SUM 146304

/* A 3x3 kernel k[row][col]. Generic: the 9 weights. DSP: per row r the
 * dual16 word (k[r][0], k[r][2]); the middle column as (k[0][1], k[1][1])
 * and k[2][1] (the assembly path: all doubled, and k21 as
 * (2 k[2][1]) << 16 | e). */
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
        p->output_offset != -128 ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return 0;
    for (oc = 0; oc < p->win.out_c; oc++) {
        int64_t base = bias[oc];   /* 64 bits: any int32 bias is declined, never overflows */
        int32_t m = p->multiplier[oc], e = -p->shift[oc];
        for (i = 0; i < 9; i++) base += p->input_offset * (int32_t)weights[9 * oc + i];
        if (m < 0 || e < 1 || e > 22 || base >= (1 << 29) - MAX_WINDOW_SUM || base <= MAX_WINDOW_SUM - (1 << 29))
            return 0;
        if (requant) {
            int32_t *q = requant + MCO_CONV3X3_REQUANT_WORDS * oc;
            q[0] = (int32_t)(2 * base);
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
    ch->base2 = q[0];
    ch->multiplier = q[1];
    ch->e = q[2];
    ch->round = (int32_t)(((uint32_t)1 << (ch->e - 1)) + ((uint32_t)output_offset << ch->e));
    ch->stride = out_c;
#if MCO_CONV3X3_ASM
    /* the assembly takes the weights doubled, and k21 on top of e */
    for (i = 0; i < 3; i++) ch->K.k02[i] = mco_pack16(2 * wc[3 * i], 2 * wc[3 * i + 2]);
    ch->K.k01_k11 = mco_pack16(2 * wc[1], 2 * wc[4]);
    ch->K.k21 = (int32_t)(((uint32_t)(2 * wc[7]) << 16) | (uint32_t)ch->e);
#elif MCO_HAVE_DSP
    for (i = 0; i < 3; i++) ch->K.k02[i] = mco_pack16(wc[3 * i], wc[3 * i + 2]);
    ch->K.k01_k11 = mco_pack16(wc[1], wc[4]);
    ch->K.k21 = wc[7];
#else
    for (i = 0; i < 9; i++) ch->K.k[i] = wc[i];
#endif
}

#if MCO_CONV3X3_ASM
/* The target's path. The input is first widened once (for all channels)
 * into `wide`: per input row r, its even pixels as int16 (E_r) followed by
 * its odd pixels (O_r), in_w / 2 of each, so the 4x4 patch of pooled output
 * (py, px) reads per patch row k the words (x0, x2) at
 * p + 2 k in_w and (x1, x3) at p + 2 k in_w + in_w, p = 4 py in_w + 2 px
 * bytes: eight word loads, no unpacking. */
#define ROW_BYTES (2 * MCO_CONV3X3_IN_W)              /* one widened input row */
#define POOLED_W ((MCO_CONV3X3_IN_W - 2) / 2)
#define POOLED_H ((MCO_CONV3X3_IN_H - 2) / 2)
#define WIDE_WORDS (MCO_CONV3X3_WIDE_BYTES(MCO_CONV3X3_IN_H, MCO_CONV3X3_IN_W) / 4)
/* byte offsets from p of patch row k's (x0, x2) and (x1, x3) words */
#define O_ROW0 MCO_CONV3X3_IN_W
#define E_ROW1 ROW_BYTES
#define O_ROW1 (ROW_BYTES + MCO_CONV3X3_IN_W)
#define E_ROW2 (2 * ROW_BYTES)
#define O_ROW2 (2 * ROW_BYTES + MCO_CONV3X3_IN_W)
#define E_ROW3 (3 * ROW_BYTES)
#define O_ROW3 (3 * ROW_BYTES + MCO_CONV3X3_IN_W)
#define ROW_STEP (2 * ROW_BYTES)              /* next pooled row */
#define ROW_SKIP (ROW_STEP - 2 * POOLED_W)    /* from the end of a pooled row to the next */
/* an assembler immediate from a C constant expression */
#define IMM(x) IMM_(x)
#define IMM_(x) "#" #x

static void widen_input(const int8_t *input, int32_t *wide)
{
    int32_t r, j;
    for (r = 0; r < MCO_CONV3X3_IN_H; r++, wide += MCO_CONV3X3_IN_W / 2) {
        for (j = 0; j < MCO_CONV3X3_IN_W / 4; j++) {
            int32_t word = mco_read_s8x4(&input);
            wide[j] = mco_sxtb16(word);                             /* (x0, x2) */
            wide[MCO_CONV3X3_IN_W / 4 + j] = mco_sxtb16_ror8(word); /* (x1, x3) */
        }
    }
}

/* One channel, all pooled outputs, out[(py * POOLED_W + px) * OUT_C]. The
 * kernel's weights are doubled (2 k fits int16) and every sum starts at
 * base2, so the max of the four sums is the 2 max + base2 the
 * requantization multiplies; then, with output zero point -128,
 *   out = ssat8((SMMLAR(v, m, round)) >> e), round = 2^(e-1) - 128 * 2^e,
 * equals the TFLite form above (the negative-y correction only moves values
 * that saturate to -128 anyway). Fourteen registers: the patch pointer, the
 * output, four sums, two temporaries, the kernel in five words (the last
 * one k21 in its top half, e in its low byte, which ASR reads), base2. */
static MCO_NOINLINE void channel_pooled(const int32_t *wide, const channel3x3 *ch, int8_t *out)
{
    int32_t k0 = ch->K.k02[0], k1 = ch->K.k02[1], k2 = ch->K.k02[2], km = ch->K.k01_k11, k21e = ch->K.k21;
    int32_t base2 = ch->base2;
    int32_t m = ch->multiplier, round = ch->round;
    const uint8_t *p = (const uint8_t *)wide;
    const uint8_t *row_end = p + 2 * POOLED_W, *last_end = row_end + (POOLED_H - 1) * 2 * ROW_BYTES;
    int32_t c00, c01, c10, c11, a, b;
    __asm__ volatile(
        "1:\n\t"
        /* patch rows 0 and 1; row 0 feeds c00, c01 with kernel row 0 */
        "ldr %[c10], [%[p]]\n\t"
        "ldr %[c11], [%[p], " IMM(O_ROW0) "]\n\t"
        "ldr %[a], [%[p], " IMM(E_ROW1) "]\n\t"
        "ldr %[b], [%[p], " IMM(O_ROW1) "]\n\t"
        "smlad %[c00], %[c10], %[k0], %[base2]\n\t"
        "smlabb %[c00], %[c11], %[km], %[c00]\n\t"
        "smlad %[c01], %[c11], %[k0], %[base2]\n\t"
        "smlatb %[c01], %[c10], %[km], %[c01]\n\t"
        /* row 1: c00, c01 with kernel row 1; c10, c11 with row 0 */
        "smlad %[c00], %[a], %[k1], %[c00]\n\t"
        "smlabt %[c00], %[b], %[km], %[c00]\n\t"
        "smlad %[c01], %[b], %[k1], %[c01]\n\t"
        "smlatt %[c01], %[a], %[km], %[c01]\n\t"
        "smlad %[c10], %[a], %[k0], %[base2]\n\t"
        "smlabb %[c10], %[b], %[km], %[c10]\n\t"
        "smlad %[c11], %[b], %[k0], %[base2]\n\t"
        "smlatb %[c11], %[a], %[km], %[c11]\n\t"
        /* row 2: c00, c01 with kernel row 2; c10, c11 with row 1 */
        "ldr %[a], [%[p], " IMM(E_ROW2) "]\n\t"
        "ldr %[b], [%[p], " IMM(O_ROW2) "]\n\t"
        "smlad %[c00], %[a], %[k2], %[c00]\n\t"
        "smlabt %[c00], %[b], %[k21e], %[c00]\n\t"
        "smlad %[c01], %[b], %[k2], %[c01]\n\t"
        "smlatt %[c01], %[a], %[k21e], %[c01]\n\t"
        "smlad %[c10], %[a], %[k1], %[c10]\n\t"
        "smlabt %[c10], %[b], %[km], %[c10]\n\t"
        "smlad %[c11], %[b], %[k1], %[c11]\n\t"
        "smlatt %[c11], %[a], %[km], %[c11]\n\t"
        "cmp %[c00], %[c01]\n\t"
        "it lt\n\t"
        "movlt %[c00], %[c01]\n\t"
        /* row 3: c10, c11 with kernel row 2 (and the multiplier) */
        "ldr %[a], [%[p], " IMM(E_ROW3) "]\n\t"
        "ldr %[b], [%[p], " IMM(O_ROW3) "]\n\t"
        "ldr %[c01], %[m]\n\t"
        "smlad %[c10], %[a], %[k2], %[c10]\n\t"
        "smlabt %[c10], %[b], %[k21e], %[c10]\n\t"
        "smlad %[c11], %[b], %[k2], %[c11]\n\t"
        "smlatt %[c11], %[a], %[k21e], %[c11]\n\t"
        "cmp %[c10], %[c11]\n\t"
        "it lt\n\t"
        "movlt %[c10], %[c11]\n\t"
        "cmp %[c00], %[c10]\n\t"
        "it lt\n\t"
        "movlt %[c00], %[c10]\n\t"
        /* requantize the max, store, next pooled output of the row */
        "ldr %[a], %[round]\n\t"
        "ldr %[b], %[row_end]\n\t"
        "smmlar %[c00], %[c00], %[c01], %[a]\n\t"
        "asr %[c00], %[c00], %[k21e]\n\t"
        "ssat %[c00], #8, %[c00]\n\t"
        "strb %[c00], [%[out]], " IMM(MCO_CONV3X3_OUT_C) "\n\t"
        "adds %[p], %[p], #2\n\t"
        "cmp %[p], %[b]\n\t"
        "bne 1b\n\t"
        /* next pooled row, if any */
        "ldr %[a], %[last_end]\n\t"
        "cmp %[b], %[a]\n\t"
        "beq 2f\n\t"
        "add %[p], %[p], " IMM(ROW_SKIP) "\n\t"
        "add %[b], %[b], " IMM(ROW_STEP) "\n\t"
        "str %[b], %[row_end]\n\t"
        "b 1b\n"
        "2:"
        : [p] "+r"(p), [out] "+r"(out), [c00] "=&r"(c00), [c01] "=&r"(c01), [c10] "=&r"(c10), [c11] "=&r"(c11),
          [a] "=&r"(a), [b] "=&r"(b), [row_end] "+m"(row_end)
        : [k0] "r"(k0), [k1] "r"(k1), [k2] "r"(k2), [km] "r"(km), [k21e] "r"(k21e), [base2] "r"(base2),
          [m] "m"(m), [round] "m"(round), [last_end] "m"(last_end)
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

static inline int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

/* The assembly above, in C. */
static void channel_pooled(const int8_t *input, int32_t in_w, int32_t pooled_h, int32_t pooled_w,
                           const channel3x3 *ch, int8_t *out)
{
    int32_t py, px;
    size_t o = 0;   /* out[o], the next output: an index, as out + o after the last one would leave the array */
    for (py = 0; py < pooled_h; py++) {
      const int8_t *in = input + (size_t)(2 * py) * (size_t)in_w;
      for (px = 0; px < pooled_w; px++, in += 2, o += (size_t)ch->stride) {
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
        out[o] = (int8_t)mco_ssat8((y + ch->round + (y >> 31)) >> ch->e);
      }
    }
}
#endif

mco_rt_status mco_conv3x3_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *requant,
                                        int8_t *output)
{
    int32_t out_c, oc;
#if MCO_CONV3X3_ASM
    int32_t wide[WIDE_WORDS];
#endif
    if (!p || !input || !weights || !requant || !output || !shape_ok(&p->win)) return MCO_RT_ARG_ERROR;
    out_c = p->win.out_c;
#if MCO_CONV3X3_ASM
    if (p->win.in_h != MCO_CONV3X3_IN_H || p->win.in_w != MCO_CONV3X3_IN_W || out_c != MCO_CONV3X3_OUT_C)
        return MCO_RT_NO_IMPL;   /* not the shape this build was configured for */
    widen_input(input, wide);
#endif
    for (oc = 0; oc < out_c; oc++) {
        channel3x3 ch;
        channel_load(&ch, weights + 9 * oc, requant + MCO_CONV3X3_REQUANT_WORDS * oc, p->output_offset, out_c);
#if MCO_CONV3X3_ASM
        channel_pooled(wide, &ch, output + oc);
#else
        channel_pooled(input, p->win.in_w, p->win.out_h / 2, p->win.out_w / 2, &ch, output + oc);
#endif
    }
    return MCO_RT_OK;
}
