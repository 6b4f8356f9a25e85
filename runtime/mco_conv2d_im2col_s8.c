/*
 * mco_conv2d_im2col_s8.c - int8 Conv2D of any kernel, stride and padding,
 * four output pixels at a time: their windows are widened into the
 * scratch's columns (im2col) and multiplied by the blocked weights four
 * pixels x two channels at a time (mco_conv_block_s8.c). Bit-identical to
 * mco_conv2d_s8. See mco_conv_blocked.h for the data layouts.
 *
 * A window that lies inside the input and whose kernel rows are whole
 * words (kernel_w * in_c a multiple of 4) is widened straight from the
 * input, row by row; any other (at a border, or with 1-3 input channels)
 * is first assembled in the scratch's int8 column, padding as the input
 * zero point, then widened.
 *
 * What it leaves out: dilation, groups (see mco_conv_blocked.h).
 */
#include "mco_conv_blocked.h"
#include "mco_kernel_util.h"

int32_t mco_conv2d_im2col_s8_get_buffer_size(const mco_window *win)
{
    return MCO_BLOCK_SCRATCH_BYTES(win->kernel_h * win->kernel_w * win->in_c);
}

mco_rt_status mco_conv2d_im2col_s8(const mco_conv_s8_params *p, const int8_t *input,
                                   const int8_t *weights, const int32_t *bias, int8_t *output,
                                   void *scratch)
{
    const mco_window *w;
    int32_t k_steps, n_pix, n0, oy = 0, ox = 0;
    if (!p || !input || !weights || !bias || !output || !scratch || !mco_window_valid(&p->win, 0) ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    k_steps = MCO_BLOCK_K_PAD(w->kernel_h * w->kernel_w * w->in_c) / 4;
    n_pix = w->out_h * w->out_w;
    for (n0 = 0; n0 < n_pix; n0 += 4) {
        int32_t n_valid = n_pix - n0 < 4 ? n_pix - n0 : 4, i;
        for (i = 0; i < 4; i++) {
            /* a short last block repeats its last pixel (computed, not stored) */
            mco_conv_block_s8_im2col(p, input, scratch, i, oy, ox);
            if (i + 1 < n_valid) mco_conv_block_next_pixel(&oy, &ox, w->out_w);
        }
        mco_conv_block_next_pixel(&oy, &ox, w->out_w);
        mco_conv_block_s8_run(p, k_steps, weights, bias, scratch, output + (size_t)n0 * (size_t)w->out_c,
                              n_valid, 0);
    }
    return MCO_RT_OK;
}
