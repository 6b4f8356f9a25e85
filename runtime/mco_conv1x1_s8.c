/*
 * mco_conv1x1_s8.c - int8 Conv2D with a 1x1 kernel and any stride (no
 * padding: a 1x1 window never leaves the input) as a matrix multiply: the
 * NHWC input row of an output pixel is its column, widened into the
 * scratch four pixels at a time and multiplied by the blocked weights four
 * pixels x two channels at a time (mco_conv_block_s8.c). The pointwise
 * convolutions of depthwise-separable networks (stride 1) and the strided
 * projection shortcuts of residual networks (stride 2) run here.
 * Bit-identical to mco_conv2d_s8. See mco_conv_blocked.h for the layouts.
 *
 * In place: a block's input rows are all widened before any of its outputs
 * is written, and output pixel n (n * out_c bytes in) never reaches the
 * input row of a later pixel (at least n * in_c in), so with
 * out_c <= in_c the output may be the input buffer.
 *
 * What it leaves out: padding (mco_conv2d_im2col_s8 takes any window).
 */
#include <string.h>

#include "mco_conv_blocked.h"
#include "mco_kernel_util.h"

int32_t mco_conv1x1_s8_get_buffer_size(const mco_window *win)
{
    /* the int8 column only when a row's last word would run past it */
    return win->in_c % 4 == 0 ? 8 * win->in_c : MCO_BLOCK_SCRATCH_BYTES(win->in_c);
}

mco_rt_status mco_conv1x1_s8(const mco_conv_s8_params *p, const int8_t *input, const int8_t *weights,
                             const int32_t *bias, int8_t *output, void *scratch)
{
    const mco_window *w;
    int32_t k_steps, n_pix, n0, oy = 0, ox = 0;
    int8_t *tmp;
    if (!p || !input || !weights || !bias || !output || !scratch || !mco_window_valid(&p->win, 0) ||
        p->win.kernel_h != 1 || p->win.kernel_w != 1 || p->win.pad_top != 0 || p->win.pad_left != 0 ||
        (p->win.out_h - 1) * p->win.stride_h >= p->win.in_h || (p->win.out_w - 1) * p->win.stride_w >= p->win.in_w ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    k_steps = MCO_BLOCK_K_PAD(w->in_c) / 4;
    tmp = (int8_t *)scratch + 32 * k_steps;
    if (w->in_c % 4 != 0) memset(tmp, (int8_t)-p->input_offset, (size_t)(4 * k_steps));   /* widens to 0 */
    n_pix = w->out_h * w->out_w;
    for (n0 = 0; n0 < n_pix; n0 += 4) {
        int32_t n_valid = n_pix - n0 < 4 ? n_pix - n0 : 4, i;
        for (i = 0; i < 4; i++) {
            const int8_t *src =
                input + ((size_t)(oy * w->stride_h) * (size_t)w->in_w + (size_t)(ox * w->stride_w)) * (size_t)w->in_c;
            if (w->in_c % 4 != 0) {   /* the row's last word would run past it */
                memcpy(tmp, src, (size_t)w->in_c);
                src = tmp;
            }
            mco_conv_block_s8_widen(scratch, i, src, 1, k_steps, 0, p->input_offset);
            /* a short last block repeats its last pixel (computed, not stored) */
            if (i + 1 < n_valid) mco_conv_block_next_pixel(&oy, &ox, w->out_w);
        }
        mco_conv_block_next_pixel(&oy, &ox, w->out_w);
        mco_conv_block_s8_run(p, k_steps, weights, bias, scratch, output + (size_t)n0 * (size_t)w->out_c,
                              n_valid, 0);
    }
    return MCO_RT_OK;
}
