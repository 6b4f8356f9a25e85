/*
 * op_depthwise.c - the op descriptor of the int8 DepthwiseConv2D (depth
 * multiplier 1, a fused ReLU included; int8 weights, and int4 ones stored
 * one per byte). Its kernel (runtime/mco_depthwise_conv2d_s8.c) has a DSP
 * path that widens the input line by line into arena scratch: on a core
 * class with the DSP extension the op asks for the scratch that path needs
 * (mco_depthwise_conv2d_s8_get_buffer_size_dsp), elsewhere for none, and
 * the kernel runs its plain path. See op_desc.h.
 *
 * What it leaves out: the float and hybrid depthwise kinds (op_conv.c,
 * which they share their preparation with).
 */
#include <math.h>

#include "op_desc.h"

static int supports_dw_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_DEPTHWISE_CONV2D, 1, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S4);
}

/* mco_conv_s8_params, the weights as int8 [kh][kw][c], and the DSP path's scratch. */
static mco_status prepare_dw_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    if (st != MCO_OK) return st;
    op->scratch_bytes = s->dsp ? (uint32_t)mco_depthwise_conv2d_s8_get_buffer_size_dsp(&s->win) : 0;
    return mco_prepare_weights(plan, s, MCO_STORE_S8, op, info);
}

static mco_rt_status eval_dw_s8(const mco_op *op, uint8_t *arena)
{
    return mco_depthwise_conv2d_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                   MCO_S8_AT(arena, op->output), MCO_SCRATCH_AT(arena, op));
}

/* The plain and channels paths: per output pixel and channel, the clipped
 * window. The lines path (the op has scratch: a DSP class and a 3x3
 * window) computes whole blocks of 4 outputs of a channel over the
 * zero-padded buffered lines, so its MACs are the full 3x3 windows of
 * those blocks (FAST_MACS, a cost of their own), its loops the (line,
 * channel) runs, and its TAIL_MACS the input values widened into the
 * scratch (each input line once per channel). */
static void features_dw_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_conv_s8_params *p = op->params;
    const mco_window *w = &p->win;
    mco_features_window(w, 1, f);
    if (op->scratch_bytes == 0) return;
    int transposed = w->out_h > w->out_w;   /* as the kernel: lines run along the longer side */
    double lines = transposed ? w->out_w : w->out_h, len = transposed ? w->out_h : w->out_w;
    double in_values = (double)w->in_h * w->in_w * w->in_c;
    f[MCO_COST_FAST_MACS] = lines * 4.0 * ceil(len / 4.0) * 9.0 * w->out_c;
    f[MCO_COST_MACS] = 0.0;
    f[MCO_COST_TAIL_MACS] = in_values;
    f[MCO_COST_LOOPS] = lines * w->out_c;
}

const mco_op_desc mco_op_depthwise_conv2d_s8 = {
    MCO_OP_DEPTHWISE_CONV2D_S8, "DEPTHWISE_CONV2D_S8", "mco_depthwise_conv2d_s8", "mco_runtime.h",
    "&P, IN, W, B, OUT, SCRATCH", supports_dw_s8, prepare_dw_s8, eval_dw_s8, features_dw_s8, NULL, -1};
