/*
 * op_conv_pool.c - the op descriptors of a Conv2D fused with its ReLU and a
 * MaxPool 2x2 stride 2 "valid" after it (the conv output is never stored):
 * float, int8 general, int8 3x3 on one input channel (register-blocked,
 * prepared requantization words) and int8 on sparse weights. Where several
 * can run a layer the planner takes the fastest by the resource model (or
 * the smallest); whether to fuse at all is the planner's choice too
 * (plan.c). See op_desc.h.
 *
 * What it leaves out: float16, int4 and hybrid weights (they run the conv
 * and the pool as two ops), other pool sizes.
 */
#include <math.h>

#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int conv_pool(const mco_op_site *s, int s8, mco_weight_format wf)
{
    return mco_site_is(s, MCO_LAYER_CONV2D, s8, 1) && mco_site_weights(s, wf, wf);
}

static int supports_f32(const mco_op_site *s) { return conv_pool(s, 0, MCO_WEIGHTS_F32); }

static int supports_s8(const mco_op_site *s) { return conv_pool(s, 1, MCO_WEIGHTS_S8); }

/* The kernel's case (mco_conv3x3_maxpool2x2_s8_prepare): 3x3, one input
 * channel, stride 1, "valid", ReLU output range, requantization in range. */
static int supports_3x3(const mco_op_site *s)
{
    if (!supports_s8(s) || !s->dl->weights_q || !s->bias || !s->multiplier ||
        s->L->params[MCO_PARAM_WEIGHTS].size != 9 * (size_t)s->n_out)
        return 0;
    mco_conv_s8_params p = {s->win, -s->in_q.zero_point, s->out_q.zero_point, s->q_min, s->q_max,
                            s->multiplier, s->shift};
    return mco_conv3x3_maxpool2x2_s8_prepare(&p, s->dl->weights_q, s->bias, NULL);
}

/* The sparse kernel's case: "valid", pooled width <= 64, at most
 * MCO_SPARSE_MAX_TAPS non-zeros per filter, multipliers >= 0. */
static int supports_sparse(const mco_op_site *s)
{
    const mco_window *w = &s->win;
    if (!supports_s8(s) || !s->sparse_allowed || !s->dl->weights_q || !s->multiplier || w->pad_top != 0 ||
        w->pad_left != 0 || w->out_w / 2 > 64)
        return 0;
    size_t cols = (size_t)w->kernel_h * (size_t)w->kernel_w * (size_t)w->in_c;
    if (s->L->params[MCO_PARAM_WEIGHTS].size != cols * (size_t)s->n_out) return 0;
    for (int32_t r = 0; r < s->n_out; r++) {
        size_t taps = 0;
        for (size_t c = 0; c < cols; c++) taps += s->dl->weights_q[(size_t)r * cols + c] != 0;
        if (taps > MCO_SPARSE_MAX_TAPS || s->multiplier[r] < 0) return 0;
    }
    return 1;
}

/* ---- prepare ---------------------------------------------------------------------- */

static mco_status prepare_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_f32_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, MCO_STORE_F32, op, info);
}

static mco_status prepare_s8_as(mco_plan *plan, const mco_op_site *s, mco_weight_store store, mco_op *op,
                                mco_plan_op_info *info)
{
    mco_status st = mco_prepare_conv_s8_op(plan, s, op, info);
    return st != MCO_OK ? st : mco_prepare_weights(plan, s, store, op, info);
}

static mco_status prepare_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_s8_as(plan, s, MCO_STORE_S8, op, info);
}

static mco_status prepare_sparse(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_s8_as(plan, s, MCO_STORE_SPARSE_ROWS, op, info);
}

/* The 3x3 kernel reads prepared words per channel (bias, input offset,
 * multiplier and shift folded) in place of the bias, and no multiplier or
 * shift arrays (TFLite Micro's Prepare, precomputing per-channel data). */
static mco_status prepare_3x3(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = prepare_s8_as(plan, s, MCO_STORE_S8, op, info);
    if (st != MCO_OK) return st;
    mco_conv_s8_params *p = (mco_conv_s8_params *)op->params;
    size_t n = (size_t)info->n_channels, words = n * MCO_CONV3X3_REQUANT_WORDS;
    int32_t *requant = mco_plan_alloc(plan, words * sizeof *requant);
    if (!requant) return mco_plan_nomem();
    if (!mco_conv3x3_maxpool2x2_s8_prepare(p, op->weights, op->bias, requant))
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: the 3x3 conv kernel declined a layer it had accepted",
                         s->L->name);
    op->bias = requant;
    info->bias_count = words;
    plan->param_bytes = plan->param_bytes + words * sizeof *requant - 3 * n * sizeof(int32_t);
    p->multiplier = NULL;
    p->shift = NULL;
    return MCO_OK;
}

/* ---- eval ---------------------------------------------------------------------------- */

static mco_rt_status eval_f32(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_maxpool2x2_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                     MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_s8(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_maxpool2x2_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                    MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_3x3(const mco_op *op, uint8_t *arena)
{
    return mco_conv3x3_maxpool2x2_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                     MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_sparse(const mco_op *op, uint8_t *arena)
{
    return mco_conv2d_maxpool2x2_sparse_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                           MCO_S8_AT(arena, op->output));
}

/* ---- features -------------------------------------------------------------------------- */

/* The conv outputs of every pooled pixel; the int8 general kernel takes a
 * register-held 3x3 path for one-channel windows inside the input (its
 * MACs go to FAST_MACS) and has the 4-wide loop's scalar tail. */
static void conv_pool_features(const mco_window *w, int s8, double *f)
{
    int32_t ph = w->out_h / 2, pw = w->out_w / 2;
    int fast_shape = s8 && w->in_c == 1 && w->kernel_h == 3 && w->kernel_w == 3 && w->stride_h == 1 &&
                     w->stride_w == 1;
    for (int32_t py = 0; py < ph; py++) {
        for (int32_t px = 0; px < pw; px++) {
            int32_t y0 = 2 * py - w->pad_top, x0 = 2 * px - w->pad_left;
            if (fast_shape && y0 >= 0 && x0 >= 0 && y0 + 4 <= w->in_h && x0 + 4 <= w->in_w) {
                f[MCO_COST_FAST_MACS] += 36.0 * w->out_c;
                continue;
            }
            for (int d = 0; d < 4; d++) {
                int32_t r = mco_window_inside(2 * py + d / 2, w->in_h, w->kernel_h, w->stride_h, w->pad_top);
                int32_t c = mco_window_inside(2 * px + d % 2, w->in_w, w->kernel_w, w->stride_w, w->pad_left);
                f[MCO_COST_MACS] += (double)r * c * w->in_c * w->out_c;
                f[MCO_COST_LOOPS] += (double)r * w->out_c;
                if (s8) f[MCO_COST_TAIL_MACS] += (double)r * ((c * w->in_c) % 4) * w->out_c;
            }
        }
    }
    f[MCO_COST_OUTPUTS] = (double)ph * pw * w->out_c;
}

static void features_f32(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    conv_pool_features(op->params, 0, f);
}

static void features_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    conv_pool_features(op->params, 1, f);
}

/* 36 MACs per pooled output and channel; on its assembly path (DSP cores:
 * an input width that is a multiple of 4, the shape in mco_config.h, see
 * mco_plan_conv3x3_asm_shape) they go to FAST_MACS, on its C path to MACS. */
static void features_3x3(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_window *w = op->params;
    double ph = w->out_h / 2, pw = w->out_w / 2;
    int asm_shape = w->in_w % 4 == 0 && w->in_h > 2 && w->out_c <= 255 &&
                    (int64_t)w->in_h * w->in_w <= MCO_CONV3X3_ASM_MAX_PIXELS;
    f[asm_shape ? MCO_COST_FAST_MACS : MCO_COST_MACS] = 36.0 * ph * pw * w->out_c;
    f[MCO_COST_LOOPS] = ph * w->out_c;
    f[MCO_COST_OUTPUTS] = ph * pw * w->out_c;
}

/* Per filter the bitmap is decoded into taps, then each pooled pixel sums
 * the taps of its 4 conv outputs. On one input channel at stride 1 the DSP
 * path pairs the taps and does 4 conv outputs per pair (its work goes to
 * FAST_MACS, 8 MACs per pair step; cores without DSP run the general path
 * on it, and their fit gives that column the general rate). */
static void features_sparse(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    const mco_window *w = op->params;
    const uint8_t *packed = op->weights;
    int32_t filters = info->n_channels;
    int32_t cols = w->kernel_h * w->kernel_w * w->in_c, row_bytes = (cols + 7) / 8;
    double ph = w->out_h / 2, pw = w->out_w / 2;
    int paired = w->in_c == 1 && w->stride_h == 1 && w->stride_w == 1 && pw >= 2;
    for (int32_t r = 0; r < filters; r++) {
        int32_t taps = 0;
        for (int32_t b = 0; b < row_bytes; b++) {
            unsigned v = packed[(size_t)r * (size_t)row_bytes + (size_t)b];
            for (; v; v &= v - 1u) taps++;
        }
        if (paired) f[MCO_COST_FAST_MACS] += 8.0 * ((taps + 1) / 2) * 2 * ceil(pw / 2) * ph;
        else f[MCO_COST_MACS] += 4.0 * taps * ph * pw;
    }
    f[MCO_COST_LOOPS] = (double)filters * cols;   /* bitmap decoding */
    f[MCO_COST_OUTPUTS] = ph * pw * filters;
}

/* The assembly path of the 3x3 kernel keeps the widened input on the
 * stack on DSP cores. */
static size_t stack_3x3(const mco_plan *plan, int k, int dsp)
{
    (void)k;
    int32_t shape[3];
    return dsp && mco_plan_conv3x3_asm_shape(plan, shape) ? (size_t)MCO_CONV3X3_WIDE_BYTES(shape[0], shape[1]) : 0;
}

/* ---- the descriptors ------------------------------------------------------------------- */

#define WEIGHTED_ARGS "&P, IN, W, B, OUT"

const mco_op_desc mco_op_conv2d_maxpool_f32 = {
    MCO_OP_CONV2D_MAXPOOL_F32, "CONV2D_MAXPOOL_F32", "mco_conv2d_maxpool2x2_f32", "mco_runtime.h", WEIGHTED_ARGS,
    supports_f32, prepare_f32, eval_f32, features_f32, NULL, MCO_OP_CONV2D_F32};

const mco_op_desc mco_op_conv3x3_maxpool_s8 = {
    MCO_OP_CONV3X3_MAXPOOL_S8, "CONV3X3_MAXPOOL_S8", "mco_conv3x3_maxpool2x2_s8", "mco_runtime.h", WEIGHTED_ARGS,
    supports_3x3, prepare_3x3, eval_3x3, features_3x3, stack_3x3, MCO_OP_CONV2D_MAXPOOL_S8};

const mco_op_desc mco_op_conv2d_maxpool_s8 = {
    MCO_OP_CONV2D_MAXPOOL_S8, "CONV2D_MAXPOOL_S8", "mco_conv2d_maxpool2x2_s8", "mco_runtime.h", WEIGHTED_ARGS,
    supports_s8, prepare_s8, eval_s8, features_s8, NULL, MCO_OP_CONV2D_S8};

const mco_op_desc mco_op_conv2d_maxpool_sparse_s8 = {
    MCO_OP_CONV2D_MAXPOOL_SPARSE_S8, "CONV2D_MAXPOOL_SPARSE_S8", "mco_conv2d_maxpool2x2_sparse_s8", "mco_sparse.h",
    WEIGHTED_ARGS, supports_sparse, prepare_sparse, eval_sparse, features_sparse, NULL, MCO_OP_CONV2D_MAXPOOL_S8};
