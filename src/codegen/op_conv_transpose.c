/*
 * op_conv_transpose.c - the op descriptors of ConvTranspose2D (a
 * transposed convolution, a fused ReLU included): float weights with float
 * activations, int8 weights with int8 activations (runtime/
 * mco_conv_transpose2d_f32.c, mco_conv_transpose2d_s8.c). Both take the
 * conv parameter structs (mco_conv_f32_params, mco_conv_s8_params) with
 * the window read as a transposed one (mco_runtime.h). See op_desc.h.
 *
 * Cost: no calibration has run these kernels yet, so each borrows the
 * coefficients of the plain convolution of its format (CONV2D_F32,
 * CONV2D_S8) per multiply-accumulate, inner loop and output, through its
 * fallback; its features count the taps that reach the outputs, the way
 * the kernel runs them.
 *
 * What it leaves out: float16, int4 and hybrid (int8 weights, float
 * activations) weights: the planner says no kernel runs such a layer.
 */
#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int supports_f32(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_CONV_TRANSPOSE2D, 0, 0) && mco_site_weights(s, MCO_WEIGHTS_F32, MCO_WEIGHTS_F32);
}

static int supports_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_CONV_TRANSPOSE2D, 1, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8);
}

/* ---- prepare ---------------------------------------------------------------------- */

static mco_status prepare_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_f32_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, MCO_STORE_F32, op, info);
}

static mco_status prepare_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, MCO_STORE_S8, op, info);
}

/* ---- eval (the same calls as args) ----------------------------------------------------- */

static mco_rt_status eval_f32(const mco_op *op, uint8_t *arena)
{
    return mco_conv_transpose2d_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                    MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_s8(const mco_op *op, uint8_t *arena)
{
    return mco_conv_transpose2d_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                   MCO_S8_AT(arena, op->output));
}

/* ---- features -------------------------------------------------------------------------- */

/* Taps of one axis that reach output position o. */
static double axis_taps(int32_t o, int32_t pad, int32_t stride, int32_t kernel, int32_t in)
{
    int idx, n = 0;
    for (int k = mco_conv_transpose_first_tap(o, pad, stride, kernel, in, &idx); k < kernel && idx >= 0; k += stride, idx--)
        n++;
    return n;
}

/* Per output value, in_c MACs for each (ky, kx) tap that reaches it; one
 * inner loop per such tap; every output written. */
static void features(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_window *w = op->params;   /* both parameter structs start with their window */
    double rows = 0.0, cols = 0.0;
    for (int32_t oy = 0; oy < w->out_h; oy++) rows += axis_taps(oy, w->pad_top, w->stride_h, w->kernel_h, w->in_h);
    for (int32_t ox = 0; ox < w->out_w; ox++) cols += axis_taps(ox, w->pad_left, w->stride_w, w->kernel_w, w->in_w);
    f[MCO_COST_MACS] = rows * cols * w->out_c * w->in_c;
    f[MCO_COST_LOOPS] = rows * cols * w->out_c;
    f[MCO_COST_OUTPUTS] = (double)w->out_h * w->out_w * w->out_c;
}

/* ---- the descriptors ------------------------------------------------------------------- */

const mco_op_desc mco_op_conv_transpose2d_f32 = {
    MCO_OP_CONV_TRANSPOSE2D_F32, "CONV_TRANSPOSE2D_F32", "mco_conv_transpose2d_f32", "mco_runtime.h",
    "&P, IN, W, B, OUT", supports_f32, prepare_f32, eval_f32, features, NULL, MCO_OP_CONV2D_F32};

const mco_op_desc mco_op_conv_transpose2d_s8 = {
    MCO_OP_CONV_TRANSPOSE2D_S8, "CONV_TRANSPOSE2D_S8", "mco_conv_transpose2d_s8", "mco_runtime.h",
    "&P, IN, W, B, OUT", supports_s8, prepare_s8, eval_s8, features, NULL, MCO_OP_CONV2D_S8};
