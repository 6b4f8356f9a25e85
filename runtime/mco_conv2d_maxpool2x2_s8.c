/*
 * mco_conv2d_maxpool2x2_s8.c - int8 Conv2D + fused clamp (ReLU) + MaxPool
 * 2x2 stride 2, one pooled pixel at a time: the conv output (26x26x12 for
 * mnist-paper) never exists in RAM, only the pooled 13x13x12.
 *
 * Bit-identical to mco_conv2d_s8 then mco_max_pool_s8 because requantization
 * with a multiplier >= 0, the zero point and the clamp are all monotonic
 * (non-decreasing): the max of four requantized values is the requantized
 * max of the four accumulators, so each pooled output is requantized once.
 *
 * Fast path (stride 1, 3x3 kernel, one input channel, window fully inside
 * the input): per output channel the 9 weights live in locals, the input
 * offset is folded into a per-channel constant (bias + offset * sum(w)), and
 * each pooled pixel reads its 4x4 input patch once for all 36 MACs. Other
 * shapes and border pixels use the general window sum of mco_conv2d_s8.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

static int32_t max2(int32_t a, int32_t b) { return a > b ? a : b; }

/* A 3x3 kernel held in registers. Generic: the 9 weights. DSP: per kernel
 * row r, the dual16 word (k[r][0], k[r][2]) and k[r][1], so one SMLAD plus
 * one SMLABB / SMLATB computes a row for an output (6 words, not 9). */
typedef struct {
#if MCO_HAVE_DSP
    int32_t k02[3], k1[3];
#else
    int32_t k[9];
#endif
} kernel3x3;

static inline kernel3x3 load_kernel3x3(const int8_t *w)
{
    kernel3x3 K;
    int r;
    for (r = 0; r < 3; r++) {
#if MCO_HAVE_DSP
        K.k02[r] = mco_pack16(w[3 * r], w[3 * r + 2]);
        K.k1[r] = w[3 * r + 1];
#else
        K.k[3 * r] = w[3 * r];
        K.k[3 * r + 1] = w[3 * r + 1];
        K.k[3 * r + 2] = w[3 * r + 2];
#endif
    }
    return K;
}

/* Adds kernel row r applied to the 4 input bytes at x to the two
 * horizontally adjacent conv outputs *left (x0..x2) and *right (x1..x3). */
static inline void add_kernel_row(int32_t *left, int32_t *right, const kernel3x3 *K, int r,
                                  const int8_t *x)
{
#if MCO_HAVE_DSP
    int32_t word = mco_peek_s8x4(x);
    int32_t x02 = mco_sxtb16(word), x13 = mco_sxtb16_ror8(word);
    *left = mco_smlabb(x13, K->k1[r], mco_smlad(x02, K->k02[r], *left));     /* + k1 * x1 */
    *right = mco_smlatb(x02, K->k1[r], mco_smlad(x13, K->k02[r], *right));   /* + k1 * x2 */
#else
    const int32_t *kr = K->k + 3 * r;
    int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    *left += kr[0] * x0 + kr[1] * x1 + kr[2] * x2;
    *right += kr[0] * x1 + kr[1] * x2 + kr[2] * x3;
#endif
}

/* The largest of the four 3x3 window sums (without offset) of the 2x2 conv
 * outputs whose 4x4 input patch starts at `in`; written out row by row so
 * the compiler keeps everything in registers. */
static inline int32_t max_of_2x2_windows_3x3(const int8_t *in, int32_t in_w, const kernel3x3 *K)
{
    int32_t c00 = 0, c01 = 0, c10 = 0, c11 = 0;
    const int8_t *r1 = in + in_w, *r2 = r1 + in_w, *r3 = r2 + in_w;
    add_kernel_row(&c00, &c01, K, 0, in);
    add_kernel_row(&c00, &c01, K, 1, r1);
    add_kernel_row(&c10, &c11, K, 0, r1);
    add_kernel_row(&c00, &c01, K, 2, r2);
    add_kernel_row(&c10, &c11, K, 1, r2);
    add_kernel_row(&c10, &c11, K, 2, r3);
    return max2(max2(c00, c01), max2(c10, c11));
}

/* The largest accumulator (bias included) of the 2x2 conv outputs of pooled
 * pixel (py, px), channel oc, via the general window sum. */
static int32_t max_of_2x2_windows(const mco_conv_s8_params *p, const int8_t *input,
                                  const int8_t *weights, const int32_t *bias, int32_t oc,
                                  int32_t py, int32_t px)
{
    mco_int_weights iw;
    int32_t best = 0, dy, dx;
    iw.s8 = weights;
    iw.s4 = NULL;
    for (dy = 0; dy < 2; dy++) {
        for (dx = 0; dx < 2; dx++) {
            int32_t acc[2];
            acc[0] = bias[oc];
            acc[1] = 0;
            mco_conv_window_s8(p, input, iw, oc, 0, 2 * py + dy, 2 * px + dx, acc);
            best = (dy == 0 && dx == 0) ? acc[0] : max2(best, acc[0]);
        }
    }
    return best;
}

mco_rt_status mco_conv2d_maxpool2x2_s8(const mco_conv_s8_params *p, const int8_t *input,
                                       const int8_t *weights, const int32_t *bias,
                                       int8_t *output)
{
    const mco_window *w;
    int32_t pooled_h, pooled_w, oc, py, px, i;
    int fast_shape;
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 0) ||
        p->win.out_h < 2 || p->win.out_w < 2 ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max,
                         p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oc = 0; oc < w->out_c; oc++)
        if (p->multiplier[oc] < 0) return MCO_RT_ARG_ERROR;   /* would break monotonicity */
    pooled_h = w->out_h / 2;
    pooled_w = w->out_w / 2;
    fast_shape = w->in_c == 1 && w->kernel_h == 3 && w->kernel_w == 3 && w->stride_h == 1 &&
                 w->stride_w == 1;

    for (oc = 0; oc < w->out_c; oc++) {
        const int8_t *wc = weights + (size_t)oc * (size_t)(w->kernel_h * w->kernel_w * w->in_c);
        int32_t base = bias[oc];   /* fast path: bias + input_offset * sum(w) */
        kernel3x3 K;
        if (fast_shape) {
            K = load_kernel3x3(wc);
            for (i = 0; i < 9; i++) base += p->input_offset * (int32_t)wc[i];
        } else {
            memset(&K, 0, sizeof K);
        }
        for (py = 0; py < pooled_h; py++) {
            int32_t y0 = 2 * py - w->pad_top;
            for (px = 0; px < pooled_w; px++) {
                int32_t x0 = 2 * px - w->pad_left, acc;
                if (fast_shape && y0 >= 0 && x0 >= 0 && y0 + 4 <= w->in_h && x0 + 4 <= w->in_w)
                    acc = base + max_of_2x2_windows_3x3(input + (size_t)y0 * (size_t)w->in_w + (size_t)x0, w->in_w, &K);
                else
                    acc = max_of_2x2_windows(p, input, weights, bias, oc, py, px);
                output[((size_t)py * (size_t)pooled_w + (size_t)px) * (size_t)w->out_c + (size_t)oc] =
                    mco_fp_output_s8(acc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                     p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
