/*
 * mco_pool_f32.c - float MaxPool2D, AvgPool2D and GlobalAvgPool (the mean
 * counts only in-bounds inputs, as TensorFlow's "same" average pool, or,
 * mco_avg_pool_pad_f32, the whole window with the padding as zeros, as
 * PyTorch's and ONNX's count_include_pad).
 *
 * What it leaves out: a max pool counting its padding (-inf never wins).
 */
#include "mco_kernel_util.h"
#include "mco_runtime.h"

typedef enum { POOL_MAX, POOL_AVG, POOL_AVG_PAD } pool_kind;

static mco_rt_status pool_f32(const mco_conv_f32_params *p, const float *input, float *output,
                              pool_kind kind)
{
    const mco_window *w;
    int32_t oy, ox, c, ky, kx;
    if (!p || !input || !output || !mco_window_valid(&p->win, 1)) return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oy = 0; oy < w->out_h; oy++) {
        for (ox = 0; ox < w->out_w; ox++) {
            mco_clip clip = mco_clip_window(w, oy, ox);
            int32_t count = kind == POOL_AVG_PAD ? w->kernel_h * w->kernel_w
                                                 : (clip.ky_hi - clip.ky_lo) * (clip.kx_hi - clip.kx_lo);
            for (c = 0; c < w->in_c; c++) {
                float acc = kind == POOL_MAX ? -3.402823466e+38f : 0.0f;
                for (ky = clip.ky_lo; ky < clip.ky_hi; ky++) {
                    for (kx = clip.kx_lo; kx < clip.kx_hi; kx++) {
                        float v = input[((size_t)(clip.y0 + ky) * (size_t)w->in_w + (size_t)(clip.x0 + kx)) * (size_t)w->in_c + (size_t)c];
                        if (kind == POOL_MAX)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                    }
                }
                if (kind != POOL_MAX && count > 0) acc /= (float)count;
                *output++ = mco_clamp_f(acc, p->act_min, p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}

mco_rt_status mco_max_pool_f32(const mco_conv_f32_params *p, const float *input, float *output)
{
    return pool_f32(p, input, output, POOL_MAX);
}

mco_rt_status mco_avg_pool_f32(const mco_conv_f32_params *p, const float *input, float *output)
{
    return pool_f32(p, input, output, POOL_AVG);
}

mco_rt_status mco_avg_pool_pad_f32(const mco_conv_f32_params *p, const float *input, float *output)
{
    if (p && p->win.kernel_w > 0 && p->win.kernel_h > MCO_AVG_POOL_PAD_MAX_TAPS / p->win.kernel_w)
        return MCO_RT_ARG_ERROR;
    return pool_f32(p, input, output, POOL_AVG_PAD);
}

mco_rt_status mco_global_avg_pool_f32(int32_t h, int32_t w, int32_t c, const float *input,
                                      float *output)
{
    mco_conv_f32_params p;
    p.win = mco_global_window(h, w, c);   /* pool_*() validates it */
    p.act_min = -3.402823466e+38f;
    p.act_max = 3.402823466e+38f;
    return pool_f32(&p, input, output, POOL_AVG);
}
