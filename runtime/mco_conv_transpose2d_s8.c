/*
 * mco_conv_transpose2d_s8.c - int8 ConvTranspose2D (a transposed
 * convolution: ONNX ConvTranspose, PyTorch nn.ConvTranspose2d, TFLite
 * TRANSPOSE_CONV) with per-channel int8 weights, TFLite arithmetic.
 *
 * The window (mco_window) reads as for a transposed convolution: input
 * in_h x in_w x in_c, output out_h x out_w x out_c, and pad_top / pad_left
 * the rows and columns cropped before the output; input pixel (iy, ix)
 * reaches output pixel (oy, ox) through tap (ky, kx) when oy + pad_top =
 * iy * stride_h + ky and ox + pad_left = ix * stride_w + kx. Weights are
 * OHWI ([out_c][kernel_h][kernel_w][in_c], the equivalent convolution's,
 * not flipped). Each output value gathers the taps that reach it:
 *   acc = bias[c] + sum((x + input_offset) * w)
 *   y = clamp(requantize(acc, multiplier[c], shift[c]) + output_offset)
 * the same int32 sums as TFLite's reference kernel, which scatters into an
 * int32 buffer first, so no scratch is needed. Output rows and columns
 * that no tap reaches (output padding, a stride above the kernel) are the
 * requantized bias.
 *
 * What it leaves out: groups, dilation, int4 weights, a DSP path.
 */
#include "mco_fixed_point.h"
#include "mco_kernel_util.h"
#include "mco_runtime.h"

mco_rt_status mco_conv_transpose2d_s8(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                                      const int32_t *bias, int8_t *output)
{
    const mco_window *w;
    int32_t oy, ox, oc, taps;
    if (!p || !input || !weights || !bias || !output || !mco_window_valid(&p->win, 0) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    taps = w->kernel_h * w->kernel_w * w->in_c;
    for (oy = 0; oy < w->out_h; oy++) {
        int32_t iy0, ky0 = mco_transposed_first_tap(oy, w->pad_top, w->stride_h, w->kernel_h, w->in_h, &iy0);
        for (ox = 0; ox < w->out_w; ox++) {
            int32_t ix0, kx0 = mco_transposed_first_tap(ox, w->pad_left, w->stride_w, w->kernel_w, w->in_w, &ix0);
            for (oc = 0; oc < w->out_c; oc++) {
                int32_t acc = bias[oc], ky, kx, iy, ix, c;
                for (ky = ky0, iy = iy0; ky < w->kernel_h && iy >= 0; ky += w->stride_h, iy--) {
                    for (kx = kx0, ix = ix0; kx < w->kernel_w && ix >= 0; kx += w->stride_w, ix--) {
                        const int8_t *x = input + ((size_t)iy * (size_t)w->in_w + (size_t)ix) * (size_t)w->in_c;
                        const int8_t *k = weights + (size_t)oc * (size_t)taps +
                                          ((size_t)ky * (size_t)w->kernel_w + (size_t)kx) * (size_t)w->in_c;
                        for (c = 0; c < w->in_c; c++) acc += ((int32_t)x[c] + p->input_offset) * (int32_t)k[c];
                    }
                }
                *output++ = mco_fp_output_s8(acc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act_min,
                                             p->act_max);
            }
        }
    }
    return MCO_RT_OK;
}
