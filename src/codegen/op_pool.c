/*
 * op_pool.c - the op descriptors of the pools on their own: max, average
 * (dividing by the in-bounds inputs, or by the whole window for a layer
 * with count_pad) and global average, float and int8 (a max pool fused
 * into the conv before it is op_conv_pool.c). Pools keep their input's quantization,
 * except TFLite's MEAN (an imported model's global average pool that carries
 * its own requantization: mco_mean_s8). See op_desc.h.
 *
 * What it leaves out: a fused ReLU (a ReLU after a pool runs as a clamp).
 */
#include "mcuopt/quant_multiplier.h"
#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int supports_max_f32(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_MAXPOOL2D, 0, 0); }

static int supports_avg_f32(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_AVGPOOL2D, 0, 0) && !s->L->count_pad;
}

/* A window the count_pad kernels take (their sum must not overflow). */
static int pad_window_fits(const mco_op_site *s)
{
    return s->L->count_pad && s->win.kernel_h <= MCO_AVG_POOL_PAD_MAX_TAPS / s->win.kernel_w;
}

static int supports_avg_pad_f32(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_AVGPOOL2D, 0, 0) && pad_window_fits(s);
}

static int supports_global_f32(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_GLOBAL_AVGPOOL, 0, 0);
}

static int supports_max_s8(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_MAXPOOL2D, 1, 0); }

static int supports_avg_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_AVGPOOL2D, 1, 0) && !s->L->count_pad;
}

static int supports_avg_pad_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_AVGPOOL2D, 1, 0) && pad_window_fits(s);
}

static int supports_global_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_GLOBAL_AVGPOOL, 1, 0) && !s->dl->multiplier;
}

static int supports_mean_s8(const mco_op_site *s)
{
    return mco_site_is(s, MCO_LAYER_GLOBAL_AVGPOOL, 1, 0) && s->dl->multiplier && s->dl->shift;
}

/* ---- prepare ---------------------------------------------------------------------- */

static mco_status prepare_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return mco_prepare_conv_f32_op(plan, s, op, info);
}

/* The float global average pool takes the window's sizes only. */
static mco_status prepare_global_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    op->params = mco_plan_copy(plan, &s->win, sizeof s->win);
    if (!op->params) return mco_plan_nomem();
    info->params_type = MCO_PARAMS_WINDOW;
    return MCO_OK;
}

static mco_status prepare_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_pool_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_pool_s8_params){s->win, s->q_min, s->q_max};
    op->params = p;
    info->params_type = MCO_PARAMS_POOL_S8;
    return MCO_OK;
}

/* A padded position holds the input zero point: a real 0. */
static mco_status prepare_avg_pad_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_avg_pool_pad_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_avg_pool_pad_s8_params){s->win, s->in_q.zero_point, s->q_min, s->q_max};
    op->params = p;
    info->params_type = MCO_PARAMS_AVG_POOL_PAD_S8;
    return MCO_OK;
}

/* TFLite's MEAN: the layer's multiplier (input scale / output scale) with
 * 1 / (h * w) folded in as TFLite folds it. */
static mco_status prepare_mean_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_mean_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_mean_s8_params){s->win, -s->in_q.zero_point, s->out_q.zero_point, 0, 0, s->q_min, s->q_max};
    mco_status st = mco_quant_mean_params(s->dl->multiplier[0], s->dl->shift[0], (int64_t)s->win.in_h * s->win.in_w,
                                          &p->multiplier, &p->shift);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", s->L->name, mco_last_error());
    op->params = p;
    info->params_type = MCO_PARAMS_MEAN_S8;
    return MCO_OK;
}

/* ---- eval ---------------------------------------------------------------------------- */

static mco_rt_status eval_max_f32(const mco_op *op, uint8_t *arena)
{
    return mco_max_pool_f32(op->params, MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_avg_f32(const mco_op *op, uint8_t *arena)
{
    return mco_avg_pool_f32(op->params, MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_avg_pad_f32(const mco_op *op, uint8_t *arena)
{
    return mco_avg_pool_pad_f32(op->params, MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_global_f32(const mco_op *op, uint8_t *arena)
{
    const mco_window *w = op->params;
    return mco_global_avg_pool_f32(w->in_h, w->in_w, w->in_c, MCO_F32_AT(arena, op->input),
                                   MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_max_s8(const mco_op *op, uint8_t *arena)
{
    return mco_max_pool_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_avg_s8(const mco_op *op, uint8_t *arena)
{
    return mco_avg_pool_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_avg_pad_s8(const mco_op *op, uint8_t *arena)
{
    return mco_avg_pool_pad_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_global_s8(const mco_op *op, uint8_t *arena)
{
    const mco_pool_s8_params *p = op->params;
    return mco_global_avg_pool_s8(p->win.in_h, p->win.in_w, p->win.in_c, p->act_min, p->act_max,
                                  MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_mean_s8(const mco_op *op, uint8_t *arena)
{
    return mco_mean_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

/* ---- features: the clipped window per output (every parameter struct here starts with it) ---- */

static void features_window(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    mco_features_window(op->params, 0, f);
}

static void features_global(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_window *w = op->params;
    f[MCO_COST_MACS] = (double)w->in_h * w->in_w * w->in_c;
    f[MCO_COST_OUTPUTS] = w->in_c;
}

/* ---- the descriptors ------------------------------------------------------------------- */

const mco_op_desc mco_op_max_pool_f32 = {
    MCO_OP_MAX_POOL_F32, "MAX_POOL_F32", "mco_max_pool_f32", "mco_runtime.h", "&P, IN, OUT",
    supports_max_f32, prepare_f32, eval_max_f32, features_window, NULL, -1};

const mco_op_desc mco_op_avg_pool_f32 = {
    MCO_OP_AVG_POOL_F32, "AVG_POOL_F32", "mco_avg_pool_f32", "mco_runtime.h", "&P, IN, OUT",
    supports_avg_f32, prepare_f32, eval_avg_f32, features_window, NULL, MCO_OP_MAX_POOL_F32};

const mco_op_desc mco_op_avg_pool_pad_f32 = {
    MCO_OP_AVG_POOL_PAD_F32, "AVG_POOL_PAD_F32", "mco_avg_pool_pad_f32", "mco_runtime.h", "&P, IN, OUT",
    supports_avg_pad_f32, prepare_f32, eval_avg_pad_f32, features_window, NULL, MCO_OP_AVG_POOL_F32};

const mco_op_desc mco_op_global_avg_pool_f32 = {
    MCO_OP_GLOBAL_AVG_POOL_F32, "GLOBAL_AVG_POOL_F32", "mco_global_avg_pool_f32", "mco_runtime.h",
    "P.in_h, P.in_w, P.in_c, IN, OUT", supports_global_f32, prepare_global_f32, eval_global_f32, features_global,
    NULL, -1};

const mco_op_desc mco_op_max_pool_s8 = {
    MCO_OP_MAX_POOL_S8, "MAX_POOL_S8", "mco_max_pool_s8", "mco_runtime.h", "&P, IN, OUT",
    supports_max_s8, prepare_s8, eval_max_s8, features_window, NULL, -1};

const mco_op_desc mco_op_avg_pool_s8 = {
    MCO_OP_AVG_POOL_S8, "AVG_POOL_S8", "mco_avg_pool_s8", "mco_runtime.h", "&P, IN, OUT",
    supports_avg_s8, prepare_s8, eval_avg_s8, features_window, NULL, MCO_OP_MAX_POOL_S8};

const mco_op_desc mco_op_avg_pool_pad_s8 = {
    MCO_OP_AVG_POOL_PAD_S8, "AVG_POOL_PAD_S8", "mco_avg_pool_pad_s8", "mco_runtime.h", "&P, IN, OUT",
    supports_avg_pad_s8, prepare_avg_pad_s8, eval_avg_pad_s8, features_window, NULL, MCO_OP_AVG_POOL_S8};

const mco_op_desc mco_op_global_avg_pool_s8 = {
    MCO_OP_GLOBAL_AVG_POOL_S8, "GLOBAL_AVG_POOL_S8", "mco_global_avg_pool_s8", "mco_runtime.h",
    "P.win.in_h, P.win.in_w, P.win.in_c, P.act_min, P.act_max, IN, OUT", supports_global_s8, prepare_s8,
    eval_global_s8, features_global, NULL, -1};

const mco_op_desc mco_op_mean_s8 = {
    MCO_OP_MEAN_S8, "MEAN_S8", "mco_mean_s8", "mco_runtime.h", "&P, IN, OUT", supports_mean_s8, prepare_mean_s8,
    eval_mean_s8, features_global, NULL, MCO_OP_GLOBAL_AVG_POOL_S8};
