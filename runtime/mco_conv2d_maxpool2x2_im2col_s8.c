/*
 * mco_conv2d_maxpool2x2_im2col_s8.c - int8 Conv2D + clamp + max pool 2x2
 * stride 2, register-blocked: the block's four pixels are one pooling
 * window, (2py, 2px), (2py, 2px + 1), (2py + 1, 2px), (2py + 1, 2px + 1),
 * so the four accumulators of a channel leave the registers as their max,
 * requantized once (mco_conv_block_s8.c); the conv output never exists.
 * Bit-identical to mco_conv2d_s8 then mco_max_pool_s8, because the
 * requantization with a multiplier >= 0, the zero point and the clamp are
 * non-decreasing (see mco_conv2d_maxpool2x2_s8.c). The windows are widened
 * as mco_conv2d_im2col_s8 widens them; see mco_conv_blocked.h.
 *
 * What it leaves out: pools other than 2x2 stride 2 "valid", dilation.
 */
#include "mco_conv_blocked.h"
#include "mco_kernel_util.h"

mco_rt_status mco_conv2d_maxpool2x2_im2col_s8(const mco_conv_s8_params *p, const int8_t *input,
                                              const int8_t *weights, const int32_t *bias, int8_t *output,
                                              void *scratch)
{
    const mco_window *w;
    int32_t k_steps, py, px, oc;
    if (!p || !input || !weights || !bias || !output || !scratch || !mco_window_valid(&p->win, 0) ||
        p->win.out_h < 2 || p->win.out_w < 2 ||
        !mco_quant_valid(p->input_offset, p->output_offset, p->act_min, p->act_max, p->multiplier, p->shift))
        return MCO_RT_ARG_ERROR;
    w = &p->win;
    for (oc = 0; oc < w->out_c; oc++)
        if (p->multiplier[oc] < 0) return MCO_RT_ARG_ERROR;   /* would break monotonicity */
    k_steps = MCO_BLOCK_K_PAD(w->kernel_h * w->kernel_w * w->in_c) / 4;
    for (py = 0; py < w->out_h / 2; py++) {
        for (px = 0; px < w->out_w / 2; px++, output += w->out_c) {
            mco_conv_block_s8_im2col(p, input, scratch, 0, 2 * py, 2 * px);
            mco_conv_block_s8_im2col(p, input, scratch, 1, 2 * py, 2 * px + 1);
            mco_conv_block_s8_im2col(p, input, scratch, 2, 2 * py + 1, 2 * px);
            mco_conv_block_s8_im2col(p, input, scratch, 3, 2 * py + 1, 2 * px + 1);
            mco_conv_block_s8_run(p, k_steps, weights, bias, scratch, output, 4, 1);
        }
    }
    return MCO_RT_OK;
}
