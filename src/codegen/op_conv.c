/*
 * op_conv.c - the op descriptors of Conv2D and DepthwiseConv2D on their own
 * (a fused ReLU included; with a fused max pool see op_conv_pool.c), in
 * every deploy format: float weights, float16 weights, int8 and packed int4
 * weights with int8 activations, and int8 weights with float activations
 * (the hybrid kernels of runtime/mco_hybrid.h). See op_desc.h.
 *
 * What it leaves out: the int8 DepthwiseConv2D (op_depthwise.c: its kernel
 * takes arena scratch).
 */
#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int conv(const mco_op_site *s, int s8) { return mco_site_is(s, MCO_LAYER_CONV2D, s8, 0); }
static int dw(const mco_op_site *s, int s8) { return mco_site_is(s, MCO_LAYER_DEPTHWISE_CONV2D, s8, 0); }

static int supports_conv2d_f32(const mco_op_site *s)
{
    return conv(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F32, MCO_WEIGHTS_F32);
}

static int supports_conv2d_f16w(const mco_op_site *s)
{
    return conv(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F16, MCO_WEIGHTS_F16);
}

static int supports_conv2d_s8w_f32(const mco_op_site *s)
{
    return conv(s, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S4);
}

static int supports_conv2d_s8(const mco_op_site *s)
{
    return conv(s, 1) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8);
}

static int supports_conv2d_s4(const mco_op_site *s)
{
    return conv(s, 1) && mco_site_weights(s, MCO_WEIGHTS_S4, MCO_WEIGHTS_S4);
}

static int supports_dw_f32(const mco_op_site *s)
{
    return dw(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F32, MCO_WEIGHTS_F32);
}

static int supports_dw_f16w(const mco_op_site *s)
{
    return dw(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F16, MCO_WEIGHTS_F16);
}

static int supports_dw_s8w_f32(const mco_op_site *s)
{
    return dw(s, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S4);
}

/* ---- prepare ---------------------------------------------------------------------- */

/* Float activations: mco_conv_f32_params and the weights as `store`. */
static mco_status prepare_f32(mco_plan *plan, const mco_op_site *s, mco_weight_store store, mco_op *op,
                              mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_f32_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, store, op, info);
}

static mco_status prepare_conv_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_f32(plan, s, MCO_STORE_F32, op, info);
}

static mco_status prepare_conv_f16w(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_f32(plan, s, MCO_STORE_F16, op, info);
}

/* int8 activations: mco_conv_s8_params and the weights as `store`. */
static mco_status prepare_s8(mco_plan *plan, const mco_op_site *s, mco_weight_store store, mco_op *op,
                             mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, store, op, info);
}

static mco_status prepare_conv_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_s8(plan, s, MCO_STORE_S8, op, info);
}

static mco_status prepare_conv_s4(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_s8(plan, s, MCO_STORE_S4, op, info);
}

/* Float activations, int8 (or unpacked int4) weights with float scales. */
static mco_status prepare_s8w_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_conv_s8w_f32_params *p = NULL;
    mco_status st = mco_prepare_conv_s8w_f32_params(plan, s, &p);
    if (st != MCO_OK) return st;
    op->params = p;
    info->params_type = MCO_PARAMS_CONV_S8W_F32;
    return mco_prepare_weights(plan, s, MCO_STORE_S8, op, info);
}

/* ---- eval (the same calls as args) ----------------------------------------------------- */

static mco_rt_status eval_conv2d_f32(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                          MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_conv2d_f16w(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_f16w(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                           MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_conv2d_s8(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                         MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_conv2d_s4(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_s4(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                         MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_conv2d_s8w_f32(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_s8w_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                              MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_dw_f32(const mco_op *op, uint8_t *arena)
{
    return mco_depthwise_conv2d_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                    MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_dw_f16w(const mco_op *op, uint8_t *arena)
{
    return mco_depthwise_conv2d_f16w(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                     MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_dw_s8w_f32(const mco_op *op, uint8_t *arena)
{
    return mco_depthwise_conv2d_s8w_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                        MCO_F32_AT(arena, op->output));
}

/* ---- features -------------------------------------------------------------------------- */

/* Every window-based parameter struct starts with its mco_window. */
static void features_conv(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    mco_features_conv(op->params, 0, f);
}

/* mco_conv2d_s8 sums 4 int8 products per step; the rest of each kernel row goes to a scalar tail. */
static void features_conv_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    mco_features_conv(op->params, 1, f);
}

static void features_dw(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    mco_features_window(op->params, 1, f);
}

/* ---- the descriptors ------------------------------------------------------------------- */

#define WEIGHTED_ARGS "&P, IN, W, B, OUT"

const mco_op_desc mco_op_conv2d_f32 = {
    MCO_OP_CONV2D_F32, "CONV2D_F32", "mco_conv2d_f32", "mco_runtime.h", WEIGHTED_ARGS,
    supports_conv2d_f32, prepare_conv_f32, eval_conv2d_f32, features_conv, NULL, -1};

const mco_op_desc mco_op_conv2d_f16w = {
    MCO_OP_CONV2D_F16W, "CONV2D_F16W", "mco_conv2d_f16w", "mco_runtime.h", WEIGHTED_ARGS,
    supports_conv2d_f16w, prepare_conv_f16w, eval_conv2d_f16w, features_conv, NULL, MCO_OP_CONV2D_F32};

const mco_op_desc mco_op_conv2d_s8 = {
    MCO_OP_CONV2D_S8, "CONV2D_S8", "mco_conv2d_s8", "mco_runtime.h", WEIGHTED_ARGS,
    supports_conv2d_s8, prepare_conv_s8, eval_conv2d_s8, features_conv_s8, NULL, -1};

const mco_op_desc mco_op_conv2d_s4 = {
    MCO_OP_CONV2D_S4, "CONV2D_S4", "mco_conv2d_s4", "mco_runtime.h", WEIGHTED_ARGS,
    supports_conv2d_s4, prepare_conv_s4, eval_conv2d_s4, features_conv, NULL, MCO_OP_CONV2D_S8};

const mco_op_desc mco_op_conv2d_s8w_f32 = {
    MCO_OP_CONV2D_S8W_F32, "CONV2D_S8W_F32", "mco_conv2d_s8w_f32", "mco_hybrid.h", WEIGHTED_ARGS,
    supports_conv2d_s8w_f32, prepare_s8w_f32, eval_conv2d_s8w_f32, features_conv, NULL, MCO_OP_CONV2D_F32};

const mco_op_desc mco_op_depthwise_conv2d_f32 = {
    MCO_OP_DEPTHWISE_CONV2D_F32, "DEPTHWISE_CONV2D_F32", "mco_depthwise_conv2d_f32", "mco_runtime.h",
    WEIGHTED_ARGS, supports_dw_f32, prepare_conv_f32, eval_dw_f32, features_dw, NULL, -1};

const mco_op_desc mco_op_depthwise_conv2d_f16w = {
    MCO_OP_DEPTHWISE_CONV2D_F16W, "DEPTHWISE_CONV2D_F16W", "mco_depthwise_conv2d_f16w", "mco_runtime.h",
    WEIGHTED_ARGS, supports_dw_f16w, prepare_conv_f16w, eval_dw_f16w, features_dw, NULL,
    MCO_OP_DEPTHWISE_CONV2D_F32};

const mco_op_desc mco_op_depthwise_conv2d_s8w_f32 = {
    MCO_OP_DEPTHWISE_CONV2D_S8W_F32, "DEPTHWISE_CONV2D_S8W_F32", "mco_depthwise_conv2d_s8w_f32", "mco_hybrid.h",
    WEIGHTED_ARGS, supports_dw_s8w_f32, prepare_s8w_f32, eval_dw_s8w_f32, features_dw, NULL,
    MCO_OP_DEPTHWISE_CONV2D_F32};
