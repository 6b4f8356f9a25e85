/*
 * op_dense.c - the op descriptors of Dense (fully connected) layers, a
 * fused ReLU included: float, float16, int8, packed int4 and hybrid (int8
 * weights, float activations) weights, and int8 on sparse weights (the
 * group stream of runtime/mco_sparse.h). The int8 dense and sparse kernels
 * can both run a pruned layer; the planner takes the one the resource
 * model estimates faster (a 50 % pruned layer is slower on the sparse
 * kernel on a Cortex-M4: its table jumps refill the pipeline), or smaller.
 * See op_desc.h.
 *
 * What it leaves out: sparse int4 and sparse hybrid weights.
 */
#include <math.h>

#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int dense(const mco_op_site *s, int s8) { return mco_site_is(s, MCO_LAYER_DENSE, s8, 0); }

static int supports_f32(const mco_op_site *s)
{
    return dense(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F32, MCO_WEIGHTS_F32);
}

static int supports_f16w(const mco_op_site *s)
{
    return dense(s, 0) && mco_site_weights(s, MCO_WEIGHTS_F16, MCO_WEIGHTS_F16);
}

static int supports_s8w_f32(const mco_op_site *s)
{
    return dense(s, 0) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S4);
}

static int supports_s8(const mco_op_site *s)
{
    return dense(s, 1) && mco_site_weights(s, MCO_WEIGHTS_S8, MCO_WEIGHTS_S8);
}

static int supports_s4(const mco_op_site *s)
{
    return dense(s, 1) && mco_site_weights(s, MCO_WEIGHTS_S4, MCO_WEIGHTS_S4);
}

/* The sparse kernel widens its input on the stack: at most MCO_SPARSE_FC_MAX_IN inputs. */
static int supports_sparse(const mco_op_site *s)
{
    return supports_s8(s) && s->sparse_allowed && s->dl->weights_q && s->in_size <= MCO_SPARSE_FC_MAX_IN &&
           s->L->params[MCO_PARAM_WEIGHTS].size == (size_t)s->in_size * (size_t)s->n_out;
}

/* ---- prepare ---------------------------------------------------------------------- */

static mco_status prepare_float(mco_plan *plan, const mco_op_site *s, mco_weight_store store, mco_op *op,
                                mco_plan_op_info *info)
{
    mco_fc_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_fc_f32_params){s->in_size, s->n_out, s->f_min, s->f_max};
    op->params = p;
    info->params_type = MCO_PARAMS_FC_F32;
    return mco_prepare_weights(plan, s, store, op, info);
}

static mco_status prepare_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_float(plan, s, MCO_STORE_F32, op, info);
}

static mco_status prepare_f16w(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_float(plan, s, MCO_STORE_F16, op, info);
}

static mco_status prepare_int8(mco_plan *plan, const mco_op_site *s, mco_weight_store store, mco_op *op,
                               mco_plan_op_info *info)
{
    mco_fc_s8_params *p = NULL;
    mco_status st = mco_prepare_fc_s8_params(plan, s, &p);
    if (st != MCO_OK) return st;
    op->params = p;
    info->params_type = MCO_PARAMS_FC_S8;
    return mco_prepare_weights(plan, s, store, op, info);
}

/* On a core with the DSP extension, a layer of five units or more takes
 * the kernel's interleaved weight layout (mco_fc_s8_interleave: its
 * five-unit pass then reads the rows from one pointer, fewer instructions
 * per word; the last pass's rows are stored again when the units are not a
 * multiple of five). Without DSP (Thumb-1's LDRSB has no immediate offset)
 * the rows stay [units][in]. */
static mco_status prepare_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_status st = prepare_int8(plan, s, MCO_STORE_S8, op, info);
    if (st != MCO_OK || !s->dsp || s->n_out < MCO_FC_S8_ROWS) return st;
    mco_fc_s8_params *p = (mco_fc_s8_params *)op->params;
    size_t bytes = mco_fc_s8_interleaved_size(p->in_size, p->out_size);
    int8_t *interleaved = mco_plan_alloc(plan, bytes);
    if (!interleaved) return mco_plan_nomem();
    mco_fc_s8_interleave(p->in_size, p->out_size, op->weights, interleaved);
    plan->param_bytes = plan->param_bytes - info->weights_count + bytes;
    op->weights = interleaved;
    info->weights_count = bytes;
    p->interleaved = 1;
    return MCO_OK;
}

static mco_status prepare_s4(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_int8(plan, s, MCO_STORE_S4, op, info);
}

static mco_status prepare_sparse(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    return prepare_int8(plan, s, MCO_STORE_SPARSE_PAIRS, op, info);
}

static mco_status prepare_s8w_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_fc_s8w_f32_params *p = NULL;
    mco_status st = mco_prepare_fc_s8w_f32_params(plan, s, &p);
    if (st != MCO_OK) return st;
    op->params = p;
    info->params_type = MCO_PARAMS_FC_S8W_F32;
    return mco_prepare_weights(plan, s, MCO_STORE_S8, op, info);
}

/* ---- eval ---------------------------------------------------------------------------- */

static mco_rt_status eval_f32(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                   MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_f16w(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_f16w(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                    MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_s8(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                  MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_s4(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_s4(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                  MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_sparse(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_sparse_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, op->bias,
                                         MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_s8w_f32(const mco_op *op, uint8_t *arena)
{
    return mco_fully_connected_s8w_f32(op->params, MCO_F32_AT(arena, op->input), op->weights, op->bias,
                                       MCO_F32_AT(arena, op->output));
}

/* ---- features -------------------------------------------------------------------------- */

/* MCO_FC_S8_ROWS units per pass over the input (fewer units: two per pass,
 * one unit computed twice); the last pass is moved back to end at the
 * last unit, so every pass does a whole pass's rows of work. Every dense
 * parameter struct starts with in_size, out_size. */
static void features_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const int32_t *sizes = op->params;
    int rows = sizes[1] < MCO_FC_S8_ROWS ? 2 : MCO_FC_S8_ROWS;
    double passes = ceil((double)sizes[1] / rows);
    f[MCO_COST_MACS] = (double)sizes[0] * rows * passes;
    f[MCO_COST_TAIL_MACS] = (double)(sizes[0] % 4) * rows * passes;
    f[MCO_COST_LOOPS] = passes;
    f[MCO_COST_OUTPUTS] = sizes[1];
}

static void features_plain(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const int32_t *sizes = op->params;
    f[MCO_COST_MACS] = (double)sizes[0] * sizes[1];
    f[MCO_COST_OUTPUTS] = sizes[1];
}

/* From the packed weights (mco_sparse_fc_s8_profile): only the non-zero
 * weights cost MACs; each non-empty group of 4 inputs of a row pair is one
 * dispatch through the kernel's jump tables (two table jumps), each run of
 * empty groups one more (the escape). */
static void features_sparse(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    const mco_fc_s8_params *p = op->params;
    mco_sparse_fc_profile pr;
    if (mco_sparse_fc_s8_profile(op->weights, info->weights_count, p->out_size, p->in_size, &pr) != 0) return;
    f[MCO_COST_MACS] = (double)pr.nonzeros;
    f[MCO_COST_LOOPS] = (double)pr.groups + (double)pr.skips;
    f[MCO_COST_OUTPUTS] = p->out_size;
}

/* The widened input on the stack. */
static size_t stack_sparse(const mco_plan *plan, int k, int dsp)
{
    (void)dsp;
    const mco_fc_s8_params *p = plan->ops[k].params;
    return 4 * (size_t)MCO_SPARSE_FC_WIDE_WORDS(p->in_size);
}

/* ---- the descriptors ------------------------------------------------------------------- */

#define WEIGHTED_ARGS "&P, IN, W, B, OUT"

const mco_op_desc mco_op_fully_connected_f32 = {
    MCO_OP_FULLY_CONNECTED_F32, "FULLY_CONNECTED_F32", "mco_fully_connected_f32", "mco_runtime.h", WEIGHTED_ARGS,
    supports_f32, prepare_f32, eval_f32, features_plain, NULL, -1};

const mco_op_desc mco_op_fully_connected_f16w = {
    MCO_OP_FULLY_CONNECTED_F16W, "FULLY_CONNECTED_F16W", "mco_fully_connected_f16w", "mco_runtime.h", WEIGHTED_ARGS,
    supports_f16w, prepare_f16w, eval_f16w, features_plain, NULL, MCO_OP_FULLY_CONNECTED_F32};

const mco_op_desc mco_op_fully_connected_s8 = {
    MCO_OP_FULLY_CONNECTED_S8, "FULLY_CONNECTED_S8", "mco_fully_connected_s8", "mco_runtime.h", WEIGHTED_ARGS,
    supports_s8, prepare_s8, eval_s8, features_s8, NULL, -1};

const mco_op_desc mco_op_fully_connected_s4 = {
    MCO_OP_FULLY_CONNECTED_S4, "FULLY_CONNECTED_S4", "mco_fully_connected_s4", "mco_runtime.h", WEIGHTED_ARGS,
    supports_s4, prepare_s4, eval_s4, features_plain, NULL, MCO_OP_FULLY_CONNECTED_S8};

const mco_op_desc mco_op_fully_connected_s8w_f32 = {
    MCO_OP_FULLY_CONNECTED_S8W_F32, "FULLY_CONNECTED_S8W_F32", "mco_fully_connected_s8w_f32", "mco_hybrid.h",
    WEIGHTED_ARGS, supports_s8w_f32, prepare_s8w_f32, eval_s8w_f32, features_plain, NULL,
    MCO_OP_FULLY_CONNECTED_F32};

const mco_op_desc mco_op_fully_connected_sparse_s8 = {
    MCO_OP_FULLY_CONNECTED_SPARSE_S8, "FULLY_CONNECTED_SPARSE_S8", "mco_fully_connected_sparse_s8", "mco_sparse.h",
    WEIGHTED_ARGS, supports_sparse, prepare_sparse, eval_sparse, features_sparse, stack_sparse,
    MCO_OP_FULLY_CONNECTED_S8};
