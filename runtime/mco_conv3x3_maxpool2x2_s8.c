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
 * done in two passes: the raw maxima of the 2x2 windows into a 13-word
 * buffer, then their requantization, so neither loop runs out of registers.
 * DSP path: each 4-byte input row segment is loaded once and unpacked with
 * SXTB16 into (x0, x2) and (x1, x3); one SMLAD plus one SMLABB / SMLATB gives
 * a kernel row for the left and the right conv output.
 *
 * What it leaves out: padding, strides, other kernel sizes, several input
 * channels (all handled by the general kernel).
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

#define MAX_POOLED_W 64   /* pooled row buffer: input width up to 129 */

/* A 3x3 kernel. Generic: the 9 weights. DSP: per row r, the dual16 word
 * (k[r][0], k[r][2]) and k[r][1]. */
typedef struct {
#if MCO_HAVE_DSP
    int32_t k02[3], k1[3];
#else
    int32_t k[9];
#endif
} kernel3x3;

/* Adds kernel row r applied to the 4 input bytes at x to the two
 * horizontally adjacent conv outputs *left (x0..x2) and *right (x1..x3). */
static inline void add_row(int32_t *left, int32_t *right, const kernel3x3 *K, int r,
                           const int8_t *x)
{
#if MCO_HAVE_DSP
    int32_t word = mco_peek_s8x4(x);
    int32_t x02 = mco_sxtb16(word), x13 = mco_sxtb16_ror8(word);
    *left = mco_smlabb(x13, K->k1[r], mco_smlad(x02, K->k02[r], *left));
    *right = mco_smlatb(x02, K->k1[r], mco_smlad(x13, K->k02[r], *right));
#else
    const int32_t *kr = K->k + 3 * r;
    int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    *left += kr[0] * x0 + kr[1] * x1 + kr[2] * x2;
    *right += kr[0] * x1 + kr[1] * x2 + kr[2] * x3;
#endif
}

static inline int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

/* The largest of the four 3x3 window sums (no bias, no offset) of the 2x2
 * conv outputs whose 4x4 input patch starts at `in`. */
static inline int32_t max_of_2x2(const int8_t *in, int32_t in_w, const kernel3x3 *K)
{
    int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;
    const int8_t *r1 = in + in_w, *r2 = r1 + in_w, *r3 = r2 + in_w;
    add_row(&c00, &c01, K, 0, in);
    add_row(&c00, &c01, K, 1, r1);
    add_row(&c10, &c11, K, 0, r1);
    add_row(&c00, &c01, K, 2, r2);
    add_row(&c10, &c11, K, 1, r2);
    add_row(&c10, &c11, K, 2, r3);
    return max2(max2(c00, c01), max2(c10, c11));
}

static int shape_ok(const mco_conv_s8_params *p)
{
    const mco_window *w = &p->win;
    return mco_window_valid(w, 0) && w->in_c == 1 && w->kernel_h == 3 && w->kernel_w == 3 &&
           w->stride_h == 1 && w->stride_w == 1 && w->pad_top == 0 && w->pad_left == 0 &&
           w->out_h == w->in_h - 2 && w->out_w == w->in_w - 2 && w->out_h >= 2 && w->out_w >= 2 &&
           w->out_w / 2 <= MAX_POOLED_W;
}

mco_rt_status mco_conv3x3_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *bias,
                                        int8_t *output)
{
    int32_t row_max[MAX_POOLED_W];
    int32_t pooled_h, pooled_w, out_c, in_w, oc, py, px, i, out_offset, act_min, act_max;
    if (!p || !input || !weights || !bias || !output || !shape_ok(p) ||
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
        int32_t base = bias[oc];
        kernel3x3 K;
        mco_requant_right rq;
        for (i = 0; i < 3; i++) {
#if MCO_HAVE_DSP
            K.k02[i] = mco_pack16(wc[3 * i], wc[3 * i + 2]);
            K.k1[i] = wc[3 * i + 1];
#else
            K.k[3 * i] = wc[3 * i];
            K.k[3 * i + 1] = wc[3 * i + 1];
            K.k[3 * i + 2] = wc[3 * i + 2];
#endif
        }
        for (i = 0; i < 9; i++) base += p->input_offset * (int32_t)wc[i];
        rq = mco_fp_requant_right_init(p->multiplier[oc], p->shift[oc]);
        for (py = 0; py < pooled_h; py++) {
            const int8_t *in = input + (size_t)(2 * py) * (size_t)in_w;
            int8_t *out = output + (size_t)py * (size_t)pooled_w * (size_t)out_c + (size_t)oc;
            const int8_t *in_end = in + 2 * pooled_w;
            int32_t *m = row_max;
            for (; in < in_end; in += 2) *m++ = max_of_2x2(in, in_w, &K);
            for (px = 0; px < pooled_w; px++) {
                int32_t v = mco_fp_requant_right(&rq, row_max[px] + base) + out_offset;
                out[(size_t)px * (size_t)out_c] = (int8_t)mco_fp_clamp(v, act_min, act_max);
            }
        }
    }
    return MCO_RT_OK;
}
