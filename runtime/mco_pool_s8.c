/*
 * mco_pool_s8.c - int8 MaxPool2D, AvgPool2D and GlobalAvgPool. The output
 * keeps the input's scale and zero point (as TFLite's pools), so no
 * requantization: max is exact, the mean is rounded half away from zero
 * over the in-bounds inputs.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

typedef enum { POOL_MAX, POOL_AVG } pool_kind;

static mco_rt_status pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output,
                             pool_kind kind)
{
    const mco_window *w;
    int32_t oy, ox, c, ky, kx;
    if (!p || !input || !output || !mco_window_valid(&p->win, 1) || p->act_min < -128 ||
        p->act_max > 127 || p->act_min > p->act_max)
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            int32_t count = (clip.ky_hi - clip.ky_lo) * (clip.kx_hi - clip.kx_lo);
            for (c = 0; c < w->in_c; c++) {
                int32_t acc = kind == POOL_MAX ? -128 : 0;
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    for (kx = clip.kx_lo; kx < clip.kx_hi; kx++) {
                        int32_t v = input[((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + kx)) * (size_t)w->in_c + (size_t)c];
                        if (kind == POOL_MAX)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                    }
                }
                if (kind == POOL_AVG && count > 0)
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                *output++ = (int8_t)mco_fp_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_max_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    return pool_s8(p, input, output, POOL_MAX);
}

mco_rt_status mco_avg_pool_s8(const mco_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    return pool_s8(p, input, output, POOL_AVG);
}

mco_rt_status mco_global_avg_pool_s8(int32_t h, int32_t w, int32_t c, int32_t act_min,
                                     int32_t act_max, const int8_t *input, int8_t *output)
{
    mco_pool_s8_params p;
    p.win = mco_global_window(h, w, c);   /* pool_*() validates it */
    p.act_min = act_min;
    p.act_max = act_max;
    return pool_s8(&p, input, output, POOL_AVG);
}
