/*
 * op_conv_general.c - the op descriptors of the general convolution: a
 * Conv2D with groups or a dilation, a DepthwiseConv2D with a depth
 * multiplier or a dilation (graph.h, mco_layer_is_general_conv), with
 * float weights and activations, or int8 weights and activations (a fused
 * ReLU included). Their kernels (runtime/mco_conv_general_f32.c, _s8.c)
 * are plain reference loops; these kinds run only such layers, and no
 * other kind runs them (mco_site_is), so the common shapes keep their fast
 * kernels. The resource model has no calibration of its own for them:
 * they borrow CONV2D_F32's and CONV2D_S8's coefficients (fallback), with
 * the MACs counted as the kernels do them. See op_desc.h.
 *
 * What it leaves out: float16, int4 and hybrid weights (the planner then
 * finds no kernel and says so, naming the layer), a fused max pool.
 */
#include "op_desc.h"

static int supports_general(const mco_op_site *s, int s8)
{
    const mco_layer *L = s->L;
    return (L->type == MCO_LAYER_CONV2D || L->type == MCO_LAYER_DEPTHWISE_CONV2D) &&
           mco_layer_is_general_conv(L) && s->s8 == s8 && s->pool_layer < 0;
}

static int supports_general_f32(const mco_op_site *s)
{
    return supports_general(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F32, MCO_WEIGHTS_F32);
}

static int supports_general_s8(const mco_op_site *s)
{
    return supports_general(s, 1) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8);
}

/* The geometry the kernels take, from the site's window and the layer. */
static mco_conv_general general_of(const mco_op_site *s)
{
    const mco_layer *L = s->L;
    int dw = L->type == MCO_LAYER_DEPTHWISE_CONV2D;
    mco_conv_general g;
    g.win = s->win;
    g.dilation_h = L->dilation_h;
    g.dilation_w = L->dilation_w;
    g.groups = dw ? L->in_shape.c : L->groups;
    g.depthwise = dw;
    return g;
}

static mco_status prepare_general_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_conv_general_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    p->conv = general_of(s);
    p->act_min = s->f_min;
    p->act_max = s->f_max;
    op->params = p;
    info->params_type = MCO_PARAMS_CONV_GENERAL_F32;
    return mco_prepare_weights(plan, s, MCO_STORE_F32, op, info);
}

/* The per-channel multipliers and shifts as mco_prepare_conv_s8_op copies
 * them, moved into the general parameter struct. */
static mco_status prepare_general_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    if (st != MCO_OK) return st;
    const mco_conv_s8_params *c = op->params;
    mco_conv_general_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    p->conv = general_of(s);
    p->input_offset = c->input_offset;
    p->output_offset = c->output_offset;
    p->act_min = c->act_min;
    p->act_max = c->act_max;
    p->multiplier = c->multiplier;
    p->shift = c->shift;
    op->params = p;
    info->params_type = MCO_PARAMS_CONV_GENERAL_S8;
    return mco_prepare_weights(plan, s, MCO_STORE_S8, op, info);
}

static mco_rt_status eval_general_f32(const mco_op *op, uint8_t *arena)
{
    return mco_conv_general_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_general_s8(const mco_op *op, uint8_t *arena)
{
    return mco_conv_general_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                               MCO_S8_AT(arena, op->output));
}

/* Per output pixel and channel, every tap of the dilated window is visited
 * (a loop run each) and the in-bounds ones add in_c / groups MACs. */
static void features_general(const mco_conv_general *g, double *f)
{
    const mco_window *w = &g->win;
    double rows = 0.0, cols = 0.0;
    for (int32_t oy = 0; oy < w->out_h; oy++)
        for (int32_t ky = 0; ky < w->kernel_h; ky++) {
            int32_t iy = oy * w->stride_h - w->pad_top + ky * g->dilation_h;
            rows += iy >= 0 && iy < w->in_h;
        }
    for (int32_t ox = 0; ox < w->out_w; ox++)
        for (int32_t kx = 0; kx < w->kernel_w; kx++) {
            int32_t ix = ox * w->stride_w - w->pad_left + kx * g->dilation_w;
            cols += ix >= 0 && ix < w->in_w;
        }
    double outputs = (double)w->out_h * w->out_w * w->out_c;
    f[MCO_COST_MACS] = rows * cols * w->out_c * (double)(w->in_c / g->groups);
    f[MCO_COST_LOOPS] = outputs * w->kernel_h * w->kernel_w;
    f[MCO_COST_OUTPUTS] = outputs;
}

static void features_general_f32(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    features_general(&((const mco_conv_general_f32_params *)op->params)->conv, f);
}

static void features_general_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    features_general(&((const mco_conv_general_s8_params *)op->params)->conv, f);
}

const mco_op_desc mco_op_conv_general_f32 = {
    MCO_OP_CONV_GENERAL_F32, "CONV_GENERAL_F32", "mco_conv_general_f32", "mco_runtime.h", "&P, IN, W, B, OUT",
    supports_general_f32, prepare_general_f32, eval_general_f32, features_general_f32, NULL, MCO_OP_CONV2D_F32};

const mco_op_desc mco_op_conv_general_s8 = {
    MCO_OP_CONV_GENERAL_S8, "CONV_GENERAL_S8", "mco_conv_general_s8", "mco_runtime.h", "&P, IN, W, B, OUT",
    supports_general_s8, prepare_general_s8, eval_general_s8, features_general_s8, NULL, MCO_OP_CONV2D_S8};
