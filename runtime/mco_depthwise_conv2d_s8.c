/*
 * mco_depthwise_conv2d_s8.c - int8 DepthwiseConv2D (depth multiplier 1),
 * per-channel weights [kh][kw][c], TFLite arithmetic. Three paths, bit for
 * bit the same:
 *
 *   plain C (cores without the DSP extension): each output pixel and
 *     channel sums its kernel window clipped to the input;
 *   channels (Armv7E-M DSP, any kernel and stride): each output pixel, four
 *     channels at a time, one word of input and one of weights per tap,
 *     widened by SXTAB16 / SXTB16 and multiplied halfword by halfword;
 *   lines (Armv7E-M DSP, 3x3 kernels with a stride of 1 or 2 along lines of
 *     at least DW_LINES_MIN outputs, when the caller passes the scratch that
 *     mco_depthwise_conv2d_s8_get_buffer_size() asks for): the input is read
 *     line by line, two channels at a time, widened to int16 with the input
 *     offset added, into a buffer per channel that holds the last three
 *     lines (zeros where the window reaches past the input). A line is a
 *     row, or a column when the output has more rows than columns, so that
 *     lines are long. In a buffered line one channel's positions are
 *     adjacent, so one 32-bit load gives two taps of one channel and SMLAD
 *     adds two products at once: four outputs of a channel take, per kernel
 *     row, three loads (five at stride 2), two weight words (the row's
 *     weights as int16 pairs (w0, w1) and (w1, w2)) and eight multiplies.
 *     With MCO_REQUANT_FAST the weights and bias are doubled, which gives
 *     the 2 * acc the SMMULR requantization takes with no extra step, and
 *     where the compiler can give an assembly block 13 registers
 *     (MCO_ASM_REGS) the blocks of four outputs run in assembly.
 *
 * What it leaves out: depth multipliers other than 1.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

/* ---- the plain C path ------------------------------------------------------------ */

#if !MCO_HAVE_DSP

static MCO_NOINLINE void dw_plain(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                     const int32_t *bias, int8_t *output)
{
    const mco_window *w = &p->win;
    int32_t oy, ox, c, ky, kx;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            for (c = 0; c < w->in_c; c++) {
                int32_t acc = bias[c];
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    /* the row's first in-bounds tap (x0 + kx_lo >= 0): no
                     * pointer is ever formed outside the arrays */
                    const int8_t *in = input + ((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + clip.kx_lo)) * (size_t)w->in_c + (size_t)c;
                    const int8_t *wt = weights + (size_t)(ky * w->kernel_w + clip.kx_lo) * (size_t)w->in_c + (size_t)c;
                    for (kx = 0; kx < clip.kx_hi - clip.kx_lo; kx++) {
                        size_t step = (size_t)kx * (size_t)w->in_c;
                        acc += ((int32_t)in[step] + p->input_offset) * (int32_t)wt[step];
                    }
                }
                *output++ = mco_fp_output_s8(acc, p->multiplier[c], p->shift[c], p->output_offset,
                                             p->act_min, p->act_max);
            }
        }
    }
}

#endif

/* ---- the lines path: geometry (also for the host planner's buffer size) ----------------- */

#define DW_SLOTS 3   /* buffered lines per channel: the kernel's height */
#define DW_GROUP 2   /* channels widened together */
#define DW_BLOCK 4   /* outputs of one channel per step */
#define DW_LINES_MIN 1   /* shorter lines run the channels path (less work per line there) */

/* A line runs along "pos" (x, or y when transposed); lines follow each
 * other along "line". Steps in bytes of the NHWC tensors, and in elements
 * (times the channel count) of the [kh][kw][c] weights. */
typedef struct {
    int32_t lines, len;               /* output lines, outputs per line */
    int32_t in_lines, in_len;
    int32_t stride_line, stride_pos, pad_line, pad_pos;
    size_t in_line, in_pos, out_line, out_pos;
    int32_t w_line, w_pos;
    int32_t buf_len;                  /* int16 per buffered line, even */
} dw_geom;

/* 1 if the lines path runs this window (g filled), else 0. */
static int dw_lines_geom(const mco_window *w, dw_geom *g)
{
    int t = w->out_h > w->out_w;   /* transposed: lines are columns */
    size_t c = (size_t)w->in_c;
    int32_t blocks;
    if (!mco_window_valid(w, 1) || w->kernel_h != 3 || w->kernel_w != 3) return 0;
    g->lines = t ? w->out_w : w->out_h;
    g->len = t ? w->out_h : w->out_w;
    g->in_lines = t ? w->in_w : w->in_h;
    g->in_len = t ? w->in_h : w->in_w;
    g->stride_line = t ? w->stride_w : w->stride_h;
    g->stride_pos = t ? w->stride_h : w->stride_w;
    g->pad_line = t ? w->pad_left : w->pad_top;
    g->pad_pos = t ? w->pad_top : w->pad_left;
    g->in_line = t ? c : (size_t)w->in_w * c;
    g->in_pos = t ? (size_t)w->in_w * c : c;
    g->out_line = t ? c : (size_t)w->out_w * c;
    g->out_pos = t ? (size_t)w->out_w * c : c;
    g->w_line = t ? 1 : 3;
    g->w_pos = t ? 3 : 1;
    if (g->stride_pos > 2 || g->len < DW_LINES_MIN || g->len > (1 << 20) || g->in_len > (1 << 20)) return 0;
    /* the last block reads positions up to (4 * blocks - 1) * stride + 3,
     * one more at stride 1 (its third word) */
    blocks = (g->len + DW_BLOCK - 1) / DW_BLOCK;
    g->buf_len = ((DW_BLOCK * blocks - 1) * g->stride_pos + 3 + 1) & ~1;
    if (g->buf_len < g->pad_pos + g->in_len) g->buf_len = (g->pad_pos + g->in_len + 1) & ~1;
    return 1;
}

int32_t mco_depthwise_conv2d_s8_get_buffer_size_dsp(const mco_window *w)
{
    dw_geom g;
    if (!w || !dw_lines_geom(w, &g)) return 0;
    return DW_GROUP * DW_SLOTS * g.buf_len * (int32_t)sizeof(int16_t);
}

int32_t mco_depthwise_conv2d_s8_get_buffer_size(const mco_window *w)
{
#if MCO_HAVE_DSP
    return mco_depthwise_conv2d_s8_get_buffer_size_dsp(w);
#else
    (void)w;
    return 0;
#endif
}

#if MCO_HAVE_DSP
/* ---- the channels path ---------------------------------------------------------------- */

/* The four accumulators of a quad of channels. */
typedef struct {
    int32_t a0, a1, a2, a3;
} dw_quad;

#if !(MCO_DSP_NATIVE && MCO_ASM_REGS >= 13)
/* q += the tap of four channels: input word x, weight word v (channels 0
 * and 2 in one dual16 word, 1 and 3 in the other). */
static inline dw_quad dw_tap4(dw_quad q, int32_t x, int32_t v, int32_t offset2)
{
    int32_t x02 = mco_sxtab16(offset2, x), x13 = mco_sxtab16_ror8(offset2, x);
    int32_t v02 = mco_sxtb16(v), v13 = mco_sxtb16_ror8(v);
    q.a0 = mco_smlabb(x02, v02, q.a0);
    q.a2 = mco_smlatt(x02, v02, q.a2);
    q.a1 = mco_smlabb(x13, v13, q.a1);
    q.a3 = mco_smlatt(x13, v13, q.a3);
    return q;
}
#endif

#if MCO_DSP_NATIVE && MCO_ASM_REGS >= 13
/* The assembly of dw_tap4, the two word loads back to back. */
#define DW_TAP4_ASM(in_addr, wt_addr)                                           \
    "ldr %[x], " in_addr "\n\t"                                              \
    "ldr %[v], " wt_addr "\n\t"                                              \
    "sxtab16 %[t], %[off2], %[x]\n\t"                                        \
    "sxtab16 %[x], %[off2], %[x], ror #8\n\t"                                \
    "sxtb16 %[u], %[v]\n\t"                                                  \
    "sxtb16 %[v], %[v], ror #8\n\t"                                          \
    "smlabb %[a0], %[t], %[u], %[a0]\n\t"                                    \
    "smlatt %[a2], %[t], %[u], %[a2]\n\t"                                    \
    "smlabb %[a1], %[x], %[v], %[a1]\n\t"                                    \
    "smlatt %[a3], %[x], %[v], %[a3]\n\t"
#define DW_TAP4_0 DW_TAP4_ASM("[%[in]]", "[%[wt]]")
#define DW_TAP4_1 DW_TAP4_ASM("[%[in], %[step]]", "[%[wt], %[step]]")
#define DW_TAP4_2 DW_TAP4_ASM("[%[in], %[step], lsl #1]", "[%[wt], %[step], lsl #1]")
#define DW_TAP4_OPERANDS                                                                                    \
    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "=&r"(x), [v] "=&r"(v), [t] "=&r"(t), \
      [u] "=&r"(u)                                                                                          \
    : [in] "r"(in), [wt] "r"(wt), [step] "r"(step), [off2] "r"(offset2)                                     \
    : "memory"
#endif

/* The window of four channels: `rows` kernel rows of `cols` taps, input
 * rows `row` bytes apart, weight rows wrow bytes apart, taps and weights
 * `step` bytes apart; in assembly where the compiler can give it 12
 * registers (a row of one, two or three taps at a time). */
static MCO_NOINLINE void dw_window4(dw_quad *acc, const int8_t *in, const int8_t *wt, int32_t rows, int32_t cols,
                                    size_t step, size_t row, size_t wrow, int32_t offset2)
{
#if MCO_DSP_NATIVE && MCO_ASM_REGS >= 13
    int32_t a0 = acc->a0, a1 = acc->a1, a2 = acc->a2, a3 = acc->a3, x, v, t, u, ky, kx;
    if (rows == 3 && cols == 3 && wrow == 3 * step) {   /* a whole 3x3 window: nine taps in one block */
        __asm__ volatile(DW_TAP4_0 DW_TAP4_1 DW_TAP4_2
                         "ldr %[t], %[row]\n\t"
                         "add %[in], %[in], %[t]\n\t"
                         "add %[wt], %[wt], %[step], lsl #1\n\t"
                         "add %[wt], %[wt], %[step]\n\t"
                         DW_TAP4_0 DW_TAP4_1 DW_TAP4_2
                         "ldr %[t], %[row]\n\t"
                         "add %[in], %[in], %[t]\n\t"
                         "add %[wt], %[wt], %[step], lsl #1\n\t"
                         "add %[wt], %[wt], %[step]\n\t"
                         DW_TAP4_0 DW_TAP4_1 DW_TAP4_2
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "=&r"(x), [v] "=&r"(v),
                           [t] "=&r"(t), [u] "=&r"(u), [in] "+r"(in), [wt] "+r"(wt)
                         : [step] "r"(step), [off2] "r"(offset2), [row] "m"(row)
                         : "memory");
        rows = 0;
    }
    for (ky = 0; ky < rows; ky++, in += row, wt += wrow) {
        for (kx = cols; kx >= 3; kx -= 3, in += 3 * step, wt += 3 * step)
            __asm__ volatile(DW_TAP4_0 DW_TAP4_1 DW_TAP4_2 DW_TAP4_OPERANDS);
        if (kx == 2) __asm__ volatile(DW_TAP4_0 DW_TAP4_1 DW_TAP4_OPERANDS);
        else if (kx == 1) __asm__ volatile(DW_TAP4_0 DW_TAP4_OPERANDS);
        in -= (size_t)(cols - kx) * step;   /* back to the row's first tap */
        wt -= (size_t)(cols - kx) * step;
    }
    acc->a0 = a0;
    acc->a1 = a1;
    acc->a2 = a2;
    acc->a3 = a3;
#else
    dw_quad q = *acc;
    int32_t ky, kx;
    for (ky = 0; ky < rows; ky++, in += row, wt += wrow)
        for (kx = 0; kx < cols; kx++)
            q = dw_tap4(q, mco_peek_s8x4(in + (size_t)kx * step), mco_peek_s8x4(wt + (size_t)kx * step), offset2);
    *acc = q;
#endif
}

/* One channel's output stage, prepared once: with MCO_REQUANT_FAST the
 * rounding of mco_fp_requant_fast with the output zero point added below
 * the shift, which is exact, as off << e is a multiple of 2^e (|v| < 2^30,
 * |off << e| <= 2^29: no overflow). */
typedef struct {
    int32_t multiplier, round, shift;
} dw_stage;

static inline dw_stage dw_stage_of(const mco_conv_s8_params *p, int32_t c)
{
    dw_stage st;
    st.multiplier = p->multiplier[c];
#if MCO_REQUANT_FAST
    st.shift = -p->shift[c];
    st.round = (int32_t)((uint32_t)1 << (st.shift - 1)) + (int32_t)((uint32_t)p->output_offset << st.shift);
#else
    st.shift = p->shift[c];
    st.round = 0;
#endif
    return st;
}

/* The int8 output of an accumulator, doubled (acc2 = 2 * acc) with
 * MCO_REQUANT_FAST (multiplier, round and shift prepared as dw_stage_of
 * does: the output offset is in round), the plain one otherwise. */
static inline int8_t dw_requant(int32_t acc2, int32_t multiplier, int32_t round, int32_t shift,
                                int32_t output_offset, int32_t act_min, int32_t act_max)
{
#if MCO_REQUANT_FAST
    int32_t v = mco_smmulr(acc2, multiplier);
    (void)output_offset;
    v = (v + round + (v >> 31)) >> shift;
    return (int8_t)mco_fp_clamp(v, act_min, act_max);
#else
    (void)round;
    return mco_fp_output_s8(acc2, multiplier, shift, output_offset, act_min, act_max);
#endif
}

static inline int8_t dw_stage_out(const mco_conv_s8_params *p, const dw_stage *st, int32_t acc2)
{
    return dw_requant(acc2, st->multiplier, st->round, st->shift, p->output_offset, p->act_min, p->act_max);
}

#if MCO_REQUANT_FAST
#define DW_SCALE 2   /* the accumulator the output stage takes is 2 * acc */
#else
#define DW_SCALE 1
#endif

/* Four channels at a time, all output pixels (the quad's output stages
 * prepared once): per kernel tap one word of input (the offset added by
 * SXTAB16) and one of weights (SXTB16), and four halfword multiplies; the
 * channels left over take the plain sum. Any kernel and stride. */
static MCO_NOINLINE void dw_channels(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output)
{
    const mco_window *w = &p->win;
    const size_t channels = (size_t)w->in_c, row = (size_t)w->in_w * channels;
    const size_t wrow = (size_t)w->kernel_w * channels;
    const int32_t offset2 = mco_dup16(p->input_offset);
    int32_t oy, ox, c, ky, kx;
    for (c = 0; c < w->in_c; c += 4) {
        const int quad = w->in_c - c >= 4;
        dw_stage st[4];
        int8_t *out = output + c;
        int32_t i;
        for (i = 0; i < 4 && c + i < w->in_c; i++) st[i] = dw_stage_of(p, c + i);
        for (oy = 0; oy < w->out_h; oy++) {
            for (ox = 0; ox < w->out_w; ox++, out += channels) {
                mco_clip clip = mco_clip_window(w, oy, ox);
                /* the window's first in-bounds tap */
                const int8_t *in0 = input + (size_t)(clip.y0 + clip.ky_lo) * row +
                                    (size_t)(clip.x0 + clip.kx_lo) * channels + (size_t)c;
                const int8_t *wt0 = weights + (size_t)(clip.ky_lo * w->kernel_w + clip.kx_lo) * channels + (size_t)c;
                const int32_t rows = clip.ky_hi - clip.ky_lo, cols = clip.kx_hi - clip.kx_lo;
                if (quad) {
                    dw_quad q;
                    q.a0 = bias[c];
                    q.a1 = bias[c + 1];
                    q.a2 = bias[c + 2];
                    q.a3 = bias[c + 3];
                    dw_window4(&q, in0, wt0, rows, cols, channels, row, wrow, offset2);
                    out[0] = dw_stage_out(p, &st[0], DW_SCALE * q.a0);
                    out[1] = dw_stage_out(p, &st[1], DW_SCALE * q.a1);
                    out[2] = dw_stage_out(p, &st[2], DW_SCALE * q.a2);
                    out[3] = dw_stage_out(p, &st[3], DW_SCALE * q.a3);
                    continue;
                }
                for (i = 0; c + i < w->in_c; i++) {   /* the last one to three channels */
                    int32_t acc = bias[c + i];
                    for (ky = 0; ky < rows; ky++)
                        for (kx = 0; kx < cols; kx++) {
                            size_t at = (size_t)ky * row + (size_t)kx * channels + (size_t)i;
                            acc += ((int32_t)in0[at] + p->input_offset) *
                                   (int32_t)wt0[(size_t)ky * wrow + (size_t)kx * channels + (size_t)i];
                        }
                    out[i] = dw_stage_out(p, &st[i], DW_SCALE * acc);
                }
            }
        }
    }
}

/* ---- the lines path ------------------------------------------------------------------- */


/* The full blocks run in assembly where the compiler can give it 13
 * registers and the output stage is the 32-bit one. */
#if MCO_REQUANT_FAST && MCO_ASM_REGS >= 13
#define DW_ASM 1
#else
#define DW_ASM 0
#endif

/* What the loop over one output line of one channel reads: the weights of
 * the kernel row over each slot, w[2j] = (w0, w1), w[2j + 1] = (w1, w2)
 * (zero for a line outside the input), the bias, the output stage, and the
 * output step. The assembly loop reads the members at fixed offsets. */
typedef struct {
    int32_t w[6];            /* bytes 0..23 */
    int32_t bias;            /* 24 */
    int32_t multiplier;      /* 28 */
    int32_t round;           /* 32: MCO_REQUANT_FAST: 2^(e-1) + (output offset << e) */
    int32_t shift;           /* 36: MCO_REQUANT_FAST: e = -shift */
    int32_t step;            /* 40: output bytes between positions */
    int32_t act_min;         /* 44 */
    int32_t act_max;         /* 48 */
    int32_t output_offset;
} dw_ctx;

/* The int8 output of an accumulator (doubled with MCO_REQUANT_FAST). */
static inline int8_t dw_output(const dw_ctx *x, int32_t acc)
{
    return dw_requant(acc, x->multiplier, x->round, x->shift, x->output_offset, x->act_min, x->act_max);
}

/* Word k (positions 2k, 2k + 1) of slot j of a channel's buffered lines:
 * the three slots are interleaved word by word, so that one pointer and
 * fixed offsets reach all three lines. */
#define DW_WORD(k, j) (3 * (k) + (j))

static inline int32_t dw_word(const int32_t *p, int32_t k, int32_t j) { return p[DW_WORD(k, j)]; }

#if !DW_ASM
/* acc[0..3] += the kernel row over slot j (weights wa = (w0, w1),
 * wb = (w1, w2)), for four outputs at stride 1 (words 0..2) or 2 (0..4). */
static inline void dw_row(const int32_t *p, int32_t j, int32_t wa, int32_t wb, int stride2, int32_t acc[4])
{
    int32_t a = dw_word(p, 0, j), b = dw_word(p, 1, j), c = dw_word(p, 2, j);
    if (!stride2) {
        acc[0] = mco_smlabt(b, wb, mco_smlad(a, wa, acc[0]));   /* w0 v0 + w1 v1 + w2 v2 */
        acc[1] = mco_smlad(b, wb, mco_smlatb(a, wa, acc[1]));   /* w0 v1 + w1 v2 + w2 v3 */
        acc[2] = mco_smlabt(c, wb, mco_smlad(b, wa, acc[2]));
        acc[3] = mco_smlad(c, wb, mco_smlatb(b, wa, acc[3]));
    } else {
        int32_t d = dw_word(p, 3, j), e = dw_word(p, 4, j);
        acc[0] = mco_smlabt(b, wb, mco_smlad(a, wa, acc[0]));   /* w0 v0 + w1 v1 + w2 v2 */
        acc[1] = mco_smlabt(c, wb, mco_smlad(b, wa, acc[1]));   /* w0 v2 + w1 v3 + w2 v4 */
        acc[2] = mco_smlabt(d, wb, mco_smlad(c, wa, acc[2]));
        acc[3] = mco_smlabt(e, wb, mco_smlad(d, wa, acc[3]));
    }
}

/* The four accumulators of the block at p. */
static inline void dw_block(const int32_t *p, const dw_ctx *x, int stride2, int32_t acc[4])
{
    acc[0] = acc[1] = acc[2] = acc[3] = x->bias;
    dw_row(p, 0, x->w[0], x->w[1], stride2, acc);
    dw_row(p, 1, x->w[2], x->w[3], stride2, acc);
    dw_row(p, 2, x->w[4], x->w[5], stride2, acc);
}
#endif

#if DW_ASM
/* The assembly loop over `blocks` full blocks (13 register operands): per
 * kernel row, the three (five) words of the block and the row's two
 * weight words are loaded back to back, then eight multiplies; the output
 * stage as dw_output, then four byte stores. Same arithmetic as the C. */
#define DW_ROW_S1(j, wa_off, wb_off)                                            \
    "ldr %[x], [%[p], #" #j "*4]\n\t"                                        \
    "ldr %[y], [%[p], #(3+" #j ")*4]\n\t"                                    \
    "ldr %[z], [%[p], #(6+" #j ")*4]\n\t"                                    \
    "ldr %[wa], [%[ctx], #" #wa_off "]\n\t"                                  \
    "ldr %[wb], [%[ctx], #" #wb_off "]\n\t"                                  \
    "smlad %[a0], %[x], %[wa], %[a0]\n\t"                                    \
    "smlatb %[a1], %[x], %[wa], %[a1]\n\t"                                   \
    "smlad %[a2], %[y], %[wa], %[a2]\n\t"                                    \
    "smlatb %[a3], %[y], %[wa], %[a3]\n\t"                                   \
    "smlabt %[a0], %[y], %[wb], %[a0]\n\t"                                   \
    "smlad %[a1], %[y], %[wb], %[a1]\n\t"                                    \
    "smlabt %[a2], %[z], %[wb], %[a2]\n\t"                                   \
    "smlad %[a3], %[z], %[wb], %[a3]\n\t"
#define DW_ROW_S2(j, wa_off, wb_off)                                            \
    "ldr %[x], [%[p], #" #j "*4]\n\t"                                        \
    "ldr %[y], [%[p], #(3+" #j ")*4]\n\t"                                    \
    "ldr %[z], [%[p], #(6+" #j ")*4]\n\t"                                    \
    "ldr %[wa], [%[ctx], #" #wa_off "]\n\t"                                  \
    "ldr %[wb], [%[ctx], #" #wb_off "]\n\t"                                  \
    "smlad %[a0], %[x], %[wa], %[a0]\n\t"                                    \
    "smlabt %[a0], %[y], %[wb], %[a0]\n\t"                                   \
    "smlad %[a1], %[y], %[wa], %[a1]\n\t"                                    \
    "smlabt %[a1], %[z], %[wb], %[a1]\n\t"                                   \
    "ldr %[x], [%[p], #(9+" #j ")*4]\n\t"                                    \
    "ldr %[y], [%[p], #(12+" #j ")*4]\n\t"                                   \
    "smlad %[a2], %[z], %[wa], %[a2]\n\t"                                    \
    "smlabt %[a2], %[x], %[wb], %[a2]\n\t"                                   \
    "smlad %[a3], %[x], %[wa], %[a3]\n\t"                                    \
    "smlabt %[a3], %[y], %[wb], %[a3]\n\t"
#define DW_REQUANT(a)                                                           \
    "smmulr %[" a "], %[" a "], %[wa]\n\t"                                   \
    "add %[" a "], %[" a "], %[" a "], asr #31\n\t"                          \
    "add %[" a "], %[" a "], %[wb]\n\t"                                      \
    "asr %[" a "], %[" a "], %[x]\n\t"                                       \
    "ssat %[" a "], #8, %[" a "]\n\t"
#define DW_CLAMP(a)                                                             \
    "cmp %[" a "], %[wa]\n\t"                                                \
    "it lt\n\t"                                                              \
    "movlt %[" a "], %[wa]\n\t"                                              \
    "cmp %[" a "], %[wb]\n\t"                                                \
    "it gt\n\t"                                                              \
    "movgt %[" a "], %[wb]\n\t"
#define DW_ASM_LOOP(ROW, advance, CLAMP)                                                                   \
    __asm__ volatile("1:\n\t"                                                                               \
                     "ldr %[a0], [%[ctx], #24]\n\t"                                                         \
                     "mov %[a1], %[a0]\n\t"                                                                 \
                     "mov %[a2], %[a0]\n\t"                                                                 \
                     "mov %[a3], %[a0]\n\t"                                                                 \
                     ROW(0, 0, 4) ROW(1, 8, 12) ROW(2, 16, 20)                                              \
                     "ldr %[wa], [%[ctx], #28]\n\t"                                                         \
                     "ldr %[wb], [%[ctx], #32]\n\t"                                                         \
                     "ldr %[x], [%[ctx], #36]\n\t"                                                          \
                     "ldr %[y], [%[ctx], #40]\n\t"                                                          \
                     DW_REQUANT("a0") DW_REQUANT("a1") DW_REQUANT("a2") DW_REQUANT("a3")                    \
                     CLAMP                                                                                  \
                     "strb %[a0], [%[o]]\n\t"                                                               \
                     "strb %[a1], [%[o], %[y]]\n\t"                                                         \
                     "add %[o], %[o], %[y], lsl #1\n\t"                                                     \
                     "strb %[a2], [%[o]]\n\t"                                                               \
                     "strb %[a3], [%[o], %[y]]\n\t"                                                         \
                     "add %[o], %[o], %[y], lsl #1\n\t"                                                     \
                     "add %[p], %[p], #" #advance "\n\t"                                                   \
                     "subs %[n], %[n], #1\n\t"                                                              \
                     "bne 1b"                                                                               \
                     : [p] "+r"(p), [o] "+r"(out), [n] "+r"(blocks), [a0] "=&r"(a0), [a1] "=&r"(a1),       \
                       [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(t0), [y] "=&r"(t1), [z] "=&r"(t2),        \
                       [wa] "=&r"(t3), [wb] "=&r"(t4)                                                       \
                     : [ctx] "r"(ctx)                                                                       \
                     : "cc", "memory")
#define DW_CLAMP_ALL                                                            \
    "ldr %[wa], [%[ctx], #44]\n\t"                                           \
    "ldr %[wb], [%[ctx], #48]\n\t"                                           \
    DW_CLAMP("a0") DW_CLAMP("a1") DW_CLAMP("a2") DW_CLAMP("a3")

/* The layout the assembly reads (a negative array size if it moved). */
typedef char dw_ctx_layout[offsetof(dw_ctx, bias) == 24 && offsetof(dw_ctx, act_max) == 48 ? 1 : -1];

static const int32_t *dw_blocks_asm(const int32_t *p, const dw_ctx *ctx, int32_t blocks, int8_t **outp,
                                    int stride2, int clamp)
{
    int8_t *out = *outp;
    int32_t a0, a1, a2, a3, t0, t1, t2, t3, t4;
    if (!stride2 && !clamp) DW_ASM_LOOP(DW_ROW_S1, 24, "");
    else if (!stride2) DW_ASM_LOOP(DW_ROW_S1, 24, DW_CLAMP_ALL);
    else if (!clamp) DW_ASM_LOOP(DW_ROW_S2, 48, "");
    else DW_ASM_LOOP(DW_ROW_S2, 48, DW_CLAMP_ALL);
    *outp = out;
    return p;
}
#endif

/* Output o (0..2) of the block at p alone: the last, short block. */
static int32_t dw_single(const int32_t *p, const dw_ctx *ctx, int stride2, int32_t o)
{
    int32_t acc = ctx->bias, j, k = stride2 ? o : o / 2;
    for (j = 0; j < DW_SLOTS; j++) {
        int32_t a = dw_word(p, k, j), b = dw_word(p, k + 1, j), wa = ctx->w[2 * j], wb = ctx->w[2 * j + 1];
        if (stride2 || o % 2 == 0) acc = mco_smlabt(b, wb, mco_smlad(a, wa, acc));   /* v0 w0 + v1 w1 + v2 w2 */
        else acc = mco_smlad(b, wb, mco_smlatb(a, wa, acc));                         /* v1 w0 + v2 w1 + v3 w2 */
    }
    return acc;
}

/* One output line of one channel: len outputs written at out, out + step,
 * ..., from the block at p on. */
static MCO_NOINLINE void dw_line(const int32_t *p, const dw_ctx *ctx, int32_t len, int8_t *out, int stride2)
{
    const size_t step = (size_t)ctx->step;
    int32_t blocks = len / DW_BLOCK, o;
#if DW_ASM
    if (blocks > 0)
        p = dw_blocks_asm(p, ctx, blocks, &out, stride2, ctx->act_min > -128 || ctx->act_max < 127);
#else
    for (; blocks > 0; blocks--, p += stride2 ? 12 : 6) {
        int32_t acc[4];
        dw_block(p, ctx, stride2, acc);
        out[0] = dw_output(ctx, acc[0]);
        out[step] = dw_output(ctx, acc[1]);
        out[2 * step] = dw_output(ctx, acc[2]);
        out[3 * step] = dw_output(ctx, acc[3]);
        out += DW_BLOCK * step;
    }
#endif
    for (o = 0; o < len % DW_BLOCK; o++) out[(size_t)o * step] = dw_output(ctx, dw_single(p, ctx, stride2, o));
}

/* Widens input line `line` of channel c (and c + 1 when two) into slot
 * `slot` of the buffered lines b0 (and b1): position i of a slot is input
 * position i - pad_pos, plus the input offset. */
static MCO_NOINLINE void dw_widen(const dw_geom *g, const int8_t *input, int32_t line, int32_t c, int two, int32_t offset,
                     int32_t slot, int32_t *b0, int32_t *b1)
{
    const int8_t *src = input + (size_t)line * g->in_line + (size_t)c;
    const int32_t offset2 = mco_dup16(offset);
    int16_t *h0 = (int16_t *)(void *)b0, *h1 = (int16_t *)(void *)b1;
    int32_t i = g->pad_pos, end = g->pad_pos + g->in_len;
#define DW_HALF(i) (2 * DW_WORD((i) / 2, slot) + (i) % 2)   /* int16 index of position i */
    if (!two) {
        for (; i < end; i++, src += g->in_pos) h0[DW_HALF(i)] = (int16_t)(*src + offset);
        return;
    }
    if (i & 1) {   /* from here on, pairs at even positions: whole words */
        h0[DW_HALF(i)] = (int16_t)(src[0] + offset);
        h1[DW_HALF(i)] = (int16_t)(src[1] + offset);
        i++;
        src += g->in_pos;
    }
    for (; i + 1 < end; i += 2, src += 2 * g->in_pos) {
        uint16_t x0, x1;
        int32_t v;
        memcpy(&x0, src, 2);
        memcpy(&x1, src + g->in_pos, 2);
        v = (int32_t)((uint32_t)x0 | ((uint32_t)x1 << 16));   /* c@i, c+1@i, c@i+1, c+1@i+1 */
        b0[DW_WORD(i / 2, slot)] = mco_sxtab16(offset2, v);
        b1[DW_WORD(i / 2, slot)] = mco_sxtab16_ror8(offset2, v);
    }
    if (i < end) {
        h0[DW_HALF(i)] = (int16_t)(src[0] + offset);
        h1[DW_HALF(i)] = (int16_t)(src[1] + offset);
    }
#undef DW_HALF
}

/* A channel's buffered lines: DW_SLOTS slots of buf_len / 2 words,
 * interleaved (DW_WORD); input line i lives in slot i % 3. The three lines
 * under an output line's kernel are consecutive, so each slot holds one of
 * them: slot j gets the weights of kernel row (j - first) mod 3, and the
 * loop reads the slots in their fixed order. */
static MCO_NOINLINE void dw_lines(const mco_conv_s8_params *p, const dw_geom *g, const int8_t *input, const int8_t *weights,
                     const int32_t *bias, int8_t *output, int32_t *buf)
{
    const int32_t channels = p->win.in_c;
    const size_t words = (size_t)DW_SLOTS * (size_t)(g->buf_len / 2);   /* one channel's */
    int32_t c, n, i, oy, k, j;
    dw_ctx ctx[DW_GROUP];
    int32_t rows[DW_GROUP][6];   /* per channel, per kernel row: (w0, w1), (w1, w2) */
    /* the padding of every slot stays zero: widening writes only the
     * positions inside the input */
    for (i = 0; i < (int32_t)(DW_GROUP * words); i++) buf[i] = 0;
    for (c = 0; c < channels; c += n) {
        int32_t next = 0;      /* the next input line to widen */
        int32_t rot = 0;       /* slot of the line under kernel row 0: first mod 3 */
        n = channels - c >= DW_GROUP ? DW_GROUP : 1;
        for (k = 0; k < n; k++) {
            int32_t ch = c + k, kl;
            dw_ctx *x = &ctx[k];
            for (kl = 0; kl < 3; kl++) {
                const int8_t *wk = weights + (size_t)(kl * g->w_line) * (size_t)channels + (size_t)ch;
                int32_t w0 = DW_SCALE * wk[0], w1 = DW_SCALE * wk[(size_t)g->w_pos * (size_t)channels],
                        w2 = DW_SCALE * wk[(size_t)(2 * g->w_pos) * (size_t)channels];
                rows[k][2 * kl] = mco_pack16(w0, w1);
                rows[k][2 * kl + 1] = mco_pack16(w1, w2);
            }
            x->bias = DW_SCALE * bias[ch];
            x->multiplier = p->multiplier[ch];
#if MCO_REQUANT_FAST
            x->shift = -p->shift[ch];
            x->round = (int32_t)((uint32_t)1 << (x->shift - 1)) + (int32_t)((uint32_t)p->output_offset << x->shift);
#else
            x->shift = p->shift[ch];
            x->round = 0;
#endif
            x->step = (int32_t)g->out_pos;
            x->act_min = p->act_min;
            x->act_max = p->act_max;
            x->output_offset = p->output_offset;
        }
        if (g->pad_line > 0) rot = DW_SLOTS - g->pad_line;   /* first = -pad_line, pad_line < 3 */
        for (oy = 0; oy < g->lines; oy++) {
            int32_t first = oy * g->stride_line - g->pad_line;   /* input line under kernel row 0 */
            int32_t lo = first < 0 ? 0 : first;
            int32_t hi = first + 3 < g->in_lines ? first + 3 : g->in_lines;
            if (next < lo) next = lo;
            for (; next < hi; next++)
                dw_widen(g, input, next, c, n == 2, p->input_offset, next % DW_SLOTS, buf, buf + words);
            for (k = 0; k < n; k++) {
                /* slot j holds the line under kernel row (j - rot) mod 3 */
                int32_t *wv = ctx[k].w;
                memcpy(wv + 2 * rot, rows[k], 8);
                memcpy(wv + 2 * (rot < 2 ? rot + 1 : 0), rows[k] + 2, 8);
                memcpy(wv + 2 * (rot > 0 ? rot - 1 : 2), rows[k] + 4, 8);
                if (first < lo || first + 3 > hi) {   /* kernel rows outside the input: zero weights */
                    for (j = 0; j < 3; j++) {
                        int32_t slot = (rot + j) % DW_SLOTS;
                        if (first + j < lo || first + j >= hi) wv[2 * slot] = wv[2 * slot + 1] = 0;
                    }
                }
            }
            for (k = 0; k < n; k++)
                dw_line(buf + (size_t)k * words, &ctx[k], g->len, output + (size_t)oy * g->out_line + (size_t)(c + k),
                        g->stride_pos == 2);
            rot = (rot + g->stride_line) % DW_SLOTS;
        }
    }
}
#endif

mco_rt_status mco_depthwise_conv2d_s8(const mco_conv_s8_params *p, const int8_t *input,
                                      const int8_t *weights, const int32_t *bias,
                                      int8_t *output, void *scratch)
{
#if MCO_HAVE_DSP
    dw_geom g;
#endif
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 1) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                         p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
#if MCO_HAVE_DSP
    if (scratch && dw_lines_geom(&p->win, &g)) dw_lines(p, &g, input, weights, bias, output, (int32_t *)scratch);
    else dw_channels(p, input, weights, bias, output);
    return MCO_RT_OK;
#else
    (void)scratch;
    dw_plain(p, input, weights, bias, output);
    return MCO_RT_OK;
#endif
}
