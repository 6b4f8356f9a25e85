/*
 * mco_pool_s8.c - int8 MaxPool2D, AvgPool2D and GlobalAvgPool. The output
 * keeps the input's scale and zero point (as TFLite's pools), so no
 * requantization: max is exact, the mean is rounded half away from zero
 * over the in-bounds inputs, or (mco_avg_pool_pad_s8, PyTorch's and ONNX's
 * count_include_pad) over the whole window, each padded position holding
 * the input zero point (a real 0), as a Pad of zeros then a valid average
 * pool would compute it.
 *
 * What it leaves out: a window of more than MCO_AVG_POOL_PAD_MAX_TAPS taps
 * counted with its padding (refused: its sum could overflow).
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

typedef enum { POOL_MAX, POOL_AVG, POOL_AVG_PAD } pool_kind;

/* The pooled value of n (1..4) channels from channel c on of one output
 * pixel's clipped window, into acc[0..n): the max, or the sum. The window
 * is walked pixel by pixel with the n channels side by side, so each pixel
 * costs n neighbouring loads (and four sums run in registers). An index, not a pointer, steps along a row:
 * it may pass the input's end after the last tap. */
static void pool_channels(const mco_window *w, const mco_clip *clip, const int8_t *input, int32_t c, int32_t n,
                          pool_kind kind, int32_t acc[4])
{
    int32_t ky, kx, i;
    size_t row = (size_t)w->in_w * (size_t)w->in_c, first = ((size_t)(clip->y0 + clip->ky_lo) * (size_t)w->in_w +
                                                             (size_t)(clip->x0 + clip->kx_lo)) * (size_t)w->in_c +
                                                            (size_t)c;
    if (n == 4 && kind == POOL_AVG) {   /* the common case: four running sums in registers */
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (ky = clip->ky_lo; ky < clip->ky_hi; ky++, first += row) {
            size_t at = first;
            for (kx = clip->kx_lo; kx < clip->kx_hi; kx++, at += (size_t)w->in_c) {
                a0 += input[at];
                a1 += input[at + 1];
                a2 += input[at + 2];
                a3 += input[at + 3];
            }
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
        return;
    }
    for (i = 0; i < 4; i++) acc[i] = kind == POOL_MAX ? -128 : 0;
    for (ky = clip->ky_lo; ky < clip->ky_hi; ky++, first += row) {
        size_t at = first;
        for (kx = clip->kx_lo; kx < clip->kx_hi; kx++, at += (size_t)w->in_c)
            for (i = 0; i < n; i++) {
                int32_t v = input[at + (size_t)i];
                if (kind == POOL_MAX)
                    acc[i] = v > acc[i] ? v : acc[i];
                else
                    acc[i] += v;
            }
    }
}

/* The pool of window w over input, clamped to [act_min, act_max]; an
 * average pool counting its padding (POOL_AVG_PAD) adds pad_value for each
 * padded tap and divides by kernel_h x kernel_w. */
static mco_rt_status pool_s8(const mco_window *w, int32_t act_min, int32_t act_max, int32_t pad_value,
                             const int8_t *input, int8_t *output, pool_kind kind)
{
    int32_t oy, ox, c, i;
    if (!w || !input || !output || !mco_window_valid(w, 1) || act_min < -128 || act_max > 127 ||
        act_min > act_max || pad_value < -128 || pad_value > 127)
        return MCO_RT_ARG_ERROR;
    if (kind == POOL_AVG_PAD && (w->kernel_h > MCO_AVG_POOL_PAD_MAX_TAPS / w->kernel_w))
        return MCO_RT_ARG_ERROR;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            int32_t count = (clip.ky_hi - clip.ky_lo) * (clip.kx_hi - clip.kx_lo), padded = 0;
            if (kind == POOL_AVG_PAD) {
                padded = w->kernel_h * w->kernel_w - count;
                count += padded;
            }
            for (c = 0; c < w->in_c; c += 4) {
                int32_t acc[4], n = w->in_c - c < 4 ? w->in_c - c : 4;
                pool_channels(w, &clip, input, c, n, kind == POOL_MAX ? POOL_MAX : POOL_AVG, acc);
                for (i = 0; i < n; i++) {
                    int32_t a = acc[i] + padded * pad_value;
                    if (kind != POOL_MAX && count > 0)
                        a = a > 0 ? (a + count / 2) / count : (a - count / 2) / count;
                    *output++ = (int8_t)mco_fp_clamp(a, act_min, act_max);
                }
            }
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_max_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!p) return MCO_RT_ARG_ERROR;
    return pool_s8(&p->win, p->act_min, p->act_max, 0, input, output, POOL_MAX);
}

mco_rt_status mco_avg_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!p) return MCO_RT_ARG_ERROR;
    return pool_s8(&p->win, p->act_min, p->act_max, 0, input, output, POOL_AVG);
}

mco_rt_status mco_avg_pool_pad_s8(const mco_avg_pool_pad_s8_params *p, const int8_t *input, int8_t *output)
{
    if (!p) return MCO_RT_ARG_ERROR;
    return pool_s8(&p->win, p->act_min, p->act_max, p->pad_value, input, output, POOL_AVG_PAD);
}

mco_rt_status mco_global_avg_pool_s8(int32_t h, int32_t w, int32_t c, int32_t act_min,
                                     int32_t act_max, const int8_t *input, int8_t *output)
{
    mco_window win = mco_global_window(h, w, c);   /* pool_s8() validates it */
    return pool_s8(&win, act_min, act_max, 0, input, output, POOL_AVG);
}
