/*
 * mco_conv2d_maxpool2x2_sparse_s8.c - int8 Conv2D ("valid") + clamp + max
 * pool 2x2 stride 2 on bitmap + values sparse weights (MCO_SPARSE_ROWS,
 * see mco_sparse.h), bit-identical to mco_conv2d_maxpool2x2_s8: the pooled
 * output is the requantized largest of the four accumulators (monotonic
 * requantization, multiplier >= 0), and each accumulator is the dense sum
 * without its zero products.
 *
 * Per filter the bitmap is decoded once into taps (offset of the input
 * byte from the window's top-left, weight) and the input offset is folded
 * into the bias: acc = bias + offset * sum(w) + sum(x * w).
 * Generic path: each conv output sums its taps (LDRSB + MLA each).
 * DSP path (one input channel, stride 1): taps go in pairs (an odd last
 * one with a zero partner) holding both weights as one dual16 word. A pass
 * does 4 adjacent conv outputs of one row: per pair, the 4-byte words at
 * both taps' offsets, PKHBT / PKHTB to pair their bytes per output, SXTB16
 * to widen, and one SMLAD per output (2 MACs each). Pooled rows go conv row
 * by conv row through a buffer of row maxima, then are requantized.
 *
 * What it leaves out: padding (the planner uses the dense kernel then),
 * filters with more than MCO_SPARSE_MAX_TAPS non-zeros.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_sparse.h"

#define MAX_POOLED_W 64   /* row maxima buffer: conv output width up to 129 */

#if MCO_HAVE_DSP
typedef struct {
    int32_t offset1, offset2;
    int32_t weights;     /* dual16 (w1, w2) */
} tap_pair;
#endif

/* One filter's non-zero weights. */
typedef struct {
    int32_t n;                               /* taps */
    int32_t offset[MCO_SPARSE_MAX_TAPS + 1]; /* + 1: the zero partner of an odd last tap */
    int32_t weight[MCO_SPARSE_MAX_TAPS + 1];
#if MCO_HAVE_DSP
    int32_t n_pairs;
    tap_pair pairs[(MCO_SPARSE_MAX_TAPS + 1) / 2];
#endif
} tap_list;

static inline int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

/* Decodes one filter's bitmap row; returns sum(w), or sets t->n = -1 if
 * the filter has too many taps. */
static int32_t decode_taps(const mco_window *w, const uint8_t *bits, const int8_t **values, tap_list *t)
{
    int32_t ky, kx, ci, j = 0, sum = 0;
    const int8_t *v = *values;
    t->n = 0;
    for (ky = 0; ky < w->kernel_h; ky++)
        for (kx = 0; kx < w->kernel_w; kx++)
            for (ci = 0; ci < w->in_c; ci++, j++) {
                if (!((bits[j / 8] >> (j % 8)) & 1)) continue;
                if (t->n == MCO_SPARSE_MAX_TAPS) {
                    t->n = -1;
                    return 0;
                }
                t->offset[t->n] = (ky * w->in_w + kx) * w->in_c + ci;
                t->weight[t->n] = *v;
                sum += *v++;
                t->n++;
            }
    t->offset[t->n] = 0;   /* the zero partner */
    t->weight[t->n] = 0;
#if MCO_HAVE_DSP
    for (j = 0, t->n_pairs = 0; j < t->n; j += 2, t->n_pairs++) {
        t->pairs[t->n_pairs].offset1 = t->offset[j];
        t->pairs[t->n_pairs].offset2 = t->offset[j + 1];
        t->pairs[t->n_pairs].weights = mco_pack16(t->weight[j], t->weight[j + 1]);
    }
#endif
    *values = v;
    return sum;
}

/* sum(x * w) over the taps for the window whose top-left input byte is at `in`. */
static inline int32_t taps_dot(const tap_list *t, const int8_t *in)
{
    int32_t acc = 0, i;
    for (i = 0; i < t->n; i++) acc += (int32_t)in[t->offset[i]] * t->weight[i];
    return acc;
}

#if MCO_HAVE_DSP
/* PKHBT / PKHTB with a 16-bit shift: (a.lo, b.lo) and (a.hi, b.hi) as
 * dual16. GCC does not emit them from C, so inline assembly on Arm and the
 * plain C meaning elsewhere (kept here, not in mco_arch.h, while this is
 * their only user). */
static inline int32_t pack_lo16(int32_t a, int32_t b)
{
#if MCO_DSP_NATIVE
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
#endif
}

static inline int32_t pack_hi16(int32_t a, int32_t b)
{
#if MCO_DSP_NATIVE
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
#else
    return (int32_t)(((uint32_t)b & 0xFFFF0000u) | ((uint32_t)a >> 16));
#endif
}

/* The four conv sums (no bias) of one conv row whose windows' top-left
 * input bytes are in[0..3]: *left = max of the first two, *right = max of
 * the last two (the row's part of two pooled pixels). */
static inline void pairs_dot4(const tap_pair *tp, const tap_pair *end, const int8_t *in, int32_t *left,
                              int32_t *right)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; tp < end; tp++) {
        int32_t a = mco_peek_s8x4(in + tp->offset1), b = mco_peek_s8x4(in + tp->offset2);
        int32_t lo = pack_lo16(a, b), hi = pack_hi16(a, b);   /* bytes a0 a1 b0 b1, a2 a3 b2 b3 */
        s0 = mco_smlad(mco_sxtb16(lo), tp->weights, s0);
        s1 = mco_smlad(mco_sxtb16_ror8(lo), tp->weights, s1);
        s2 = mco_smlad(mco_sxtb16(hi), tp->weights, s2);
        s3 = mco_smlad(mco_sxtb16_ror8(hi), tp->weights, s3);
    }
    *left = max2(s0, s1);
    *right = max2(s2, s3);
}
#endif

/* The largest window sum (no bias) of the 2x2 conv outputs of pooled pixel (py, px). */
static int32_t pooled_max(const mco_window *w, const tap_list *t, const int8_t *input, int32_t py, int32_t px)
{
    int32_t best = 0, dy, dx;
    for (dy = 0; dy < 2; dy++)
        for (dx = 0; dx < 2; dx++) {
            size_t y = (size_t)((2 * py + dy) * w->stride_h), x = (size_t)((2 * px + dx) * w->stride_w);
            int32_t s = taps_dot(t, input + (y * (size_t)w->in_w + x) * (size_t)w->in_c);
            best = (dy == 0 && dx == 0) ? s : max2(best, s);
        }
    return best;
}

/* Row maxima (no bias) of pooled row py into row_max[pooled_w]. */
static void pooled_row(const mco_window *w, const tap_list *t, const int8_t *input, int32_t py,
                       int32_t pooled_w, int32_t *row_max)
{
    int32_t px = 0;
#if MCO_HAVE_DSP
    if (w->in_c == 1 && w->stride_h == 1 && w->stride_w == 1 && pooled_w >= 2) {
        const int8_t *in = input + (size_t)(2 * py) * (size_t)w->in_w;
        const tap_pair *end = t->pairs + t->n_pairs;
        for (px = 0; px < pooled_w; px += 2) {
            /* an odd last pooled pixel: the block one pixel to the left (recomputes px - 1) */
            int32_t x = px + 2 <= pooled_w ? px : px - 1, left0, right0, left1, right1;
            pairs_dot4(t->pairs, end, in + 2 * x, &left0, &right0);
            pairs_dot4(t->pairs, end, in + 2 * x + w->in_w, &left1, &right1);
            row_max[x] = max2(left0, left1);
            row_max[x + 1] = max2(right0, right1);
        }
        return;
    }
#endif
    for (; px < pooled_w; px++) row_max[px] = pooled_max(w, t, input, py, px);
}

/* Output quantization of one channel, loaded once. */
typedef struct {
    int fast;                 /* shift in [-31, -1]: mco_fp_requant_right applies */
    mco_requant_right rq;
    int32_t multiplier, shift, out_offset, act_min, act_max;
} channel_requant;

static channel_requant channel_requant_init(const mco_conv_s8_params *p, int32_t oc)
{
    channel_requant c;
    c.multiplier = p->multiplier[oc];
    c.shift = p->shift[oc];
    c.fast = c.shift >= -31 && c.shift <= -1;
    c.rq = mco_fp_requant_right_init(c.multiplier, c.fast ? c.shift : -1);
    c.out_offset = p->output_offset;
    c.act_min = p->act_min;
    c.act_max = p->act_max;
    return c;
}

/* out[i * stride] = the requantized acc[i] + base, i < n (indexed: out + n * stride
 * would point past the output array). */
static void requant_row(const channel_requant *c, const int32_t *acc, int32_t n, int32_t base, int8_t *out,
                        size_t stride)
{
    const int32_t out_offset = c->out_offset, act_min = c->act_min, act_max = c->act_max;
    int32_t i;
    size_t o = 0;
    if (c->fast) {
        const mco_requant_right rq = c->rq;
        for (i = 0; i < n; i++, o += stride)
            out[o] = (int8_t)mco_fp_clamp(mco_fp_requant_right(&rq, acc[i] + base) + out_offset, act_min, act_max);
    } else {
        for (i = 0; i < n; i++, o += stride)
            out[o] = mco_fp_output_s8(acc[i] + base, c->multiplier, c->shift, out_offset, act_min, act_max);
    }
}

mco_rt_status mco_conv2d_maxpool2x2_sparse_s8(const mco_conv_s8_params *p, const int8_t *input,
                                              const uint8_t *sparse_weights, const int32_t *bias,
                                              int8_t *output)
{
    int32_t row_max[MAX_POOLED_W];
    tap_list taps;
    const mco_window *w;
    const int8_t *values;
    size_t row_bytes, out_c;
    int32_t pooled_h, pooled_w, oc, py;
    if (!p || !input || !sparse_weights || !bias || !output || !mco_window_valid(&p->win, 0) ||
        p->win.pad_top != 0 || p->win.pad_left != 0 || p->win.out_h < 2 || p->win.out_w < 2 ||
        (p->win.out_h - 1) * p->win.stride_h + p->win.kernel_h > p->win.in_h ||
        (p->win.out_w - 1) * p->win.stride_w + p->win.kernel_w > p->win.in_w ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier,
                         p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oc = 0; oc < w->out_c; oc++)
        if (p->multiplier[oc] < 0) return MCO_RT_ARG_ERROR;   /* would break monotonicity */
    pooled_h = w->out_h / 2;
    pooled_w = w->out_w / 2;
    if (pooled_w > MAX_POOLED_W) return MCO_RT_NO_IMPL;
    out_c = (size_t)w->out_c;
    row_bytes = (size_t)((w->kernel_h * w->kernel_w * w->in_c + 7) / 8);
    values = (const int8_t *)(const void *)(sparse_weights + row_bytes * out_c);

    for (oc = 0; oc < w->out_c; oc++) {
        int32_t base = bias[oc] + p->input_offset * decode_taps(w, sparse_weights + (size_t)oc * row_bytes,
                                                                 &values, &taps);
        channel_requant c = channel_requant_init(p, oc);
        if (taps.n < 0) return MCO_RT_NO_IMPL;
        if (taps.n == 0) {   /* a fully pruned filter: every output is the requantized bias */
            int8_t y;
            int32_t zero = 0, i;
            requant_row(&c, &zero, 1, base, &y, 1);
            for (i = 0; i < pooled_h * pooled_w; i++) output[(size_t)i * out_c + (size_t)oc] = y;
            continue;
        }
        for (py = 0; py < pooled_h; py++) {
            pooled_row(w, &taps, input, py, pooled_w, row_max);
            requant_row(&c, row_max, pooled_w, base, output + (size_t)py * (size_t)pooled_w * out_c + (size_t)oc,
                        out_c);
        }
    }
    return MCO_RT_OK;
}
