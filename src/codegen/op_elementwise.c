/*
 * op_elementwise.c - the op descriptors of the element-wise layers: a ReLU /
 * ReLU6 that no producer absorbed (a clamp in place), Add (with a fused
 * ReLU; int8 as TFLite: both inputs rescaled to a common scale after a left
 * shift of 20), Softmax, and the other activations (sigmoid, tanh,
 * LeakyReLU, HardSigmoid, HardSwish: one float kernel, and in int8 one
 * 256-entry lookup table kernel for all of them), Concat along the channels
 * (int8: each input copied or requantized to the output through a table
 * holding TFLite's reference rule), float and int8.
 * See op_desc.h.
 *
 * What it leaves out: float softmax over more than one row, broadcasting.
 */
#include <math.h>

#include "mcuopt/quant_multiplier.h"
#include "mcuopt/quant_rules.h"
#include "op_desc.h"

/* ---- supports --------------------------------------------------------------------- */

static int is_relu(const mco_op_site *s)
{
    return s->L->type == MCO_LAYER_RELU || s->L->type == MCO_LAYER_RELU6;
}

static int supports_clamp_f32(const mco_op_site *s) { return is_relu(s) && !s->s8; }

static int supports_clamp_s8(const mco_op_site *s) { return is_relu(s) && s->s8; }

static int supports_add_f32(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_ADD, 0, 0); }

static int supports_add_s8(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_ADD, 1, 0); }

static int supports_concat_f32(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_CONCAT, 0, 0); }

static int supports_concat_s8(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_CONCAT, 1, 0); }

static int supports_softmax_f32(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_SOFTMAX, 0, 0); }

static int supports_softmax_s8(const mco_op_site *s) { return mco_site_is(s, MCO_LAYER_SOFTMAX, 1, 0); }

static int supports_activation_f32(const mco_op_site *s) { return mco_layer_is_activation(s->L->type) && !s->s8; }

static int supports_lut_s8(const mco_op_site *s) { return mco_layer_is_activation(s->L->type) && s->s8; }

/* ---- prepare ---------------------------------------------------------------------- */

/* Clamp and float Add: the output's size and clamp. */
static mco_status prepare_clamp_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_clamp_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_clamp_f32_params){s->out_size, s->f_min, s->f_max};
    op->params = p;
    info->params_type = MCO_PARAMS_CLAMP_F32;
    return MCO_OK;
}

static mco_status prepare_clamp_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_clamp_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_clamp_s8_params){s->out_size, s->q_min, s->q_max};
    op->params = p;
    info->params_type = MCO_PARAMS_CLAMP_S8;
    return MCO_OK;
}

static mco_status quantize_multiplier(const mco_layer *L, double real, int32_t *mult, int32_t *shift)
{
    mco_status st = mco_quantize_multiplier(real, mult, shift);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", L->name, mco_last_error());
    return MCO_OK;
}

/* TFLite's int8 Add: x_i' = (x_i + offset_i) << 20 rescaled by
 * scale_i / (2 max scale), summed, then rescaled to the output scale. */
static mco_status prepare_add_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_qparams q1 = s->in_q, q2 = s->in2_q, out_q = s->out_q;
    if (!(q1.scale > 0.0f) || !(q2.scale > 0.0f) || !(out_q.scale > 0.0f))
        return mco_error(MCO_ERR_FORMAT, "layer %s: missing quantization scales", s->L->name);
    mco_add_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    double twice_max = 2.0 * fmax((double)q1.scale, (double)q2.scale);
    p->size = s->out_size;
    p->input1_offset = -q1.zero_point;
    p->input2_offset = -q2.zero_point;
    p->left_shift = 20;
    p->output_offset = out_q.zero_point;
    p->act_min = s->q_min;
    p->act_max = s->q_max;
    mco_status st;
    if ((st = quantize_multiplier(s->L, (double)q1.scale / twice_max, &p->input1_multiplier, &p->input1_shift)) !=
            MCO_OK ||
        (st = quantize_multiplier(s->L, (double)q2.scale / twice_max, &p->input2_multiplier, &p->input2_shift)) !=
            MCO_OK ||
        (st = quantize_multiplier(s->L, twice_max / ((double)(1 << 20) * (double)out_q.scale), &p->output_multiplier,
                                  &p->output_shift)) != MCO_OK)
        return st;
    op->params = p;
    info->params_type = MCO_PARAMS_ADD_S8;
    return MCO_OK;
}

/* Concat: pixels and the two inputs' channels. */
static void concat_shape(const mco_layer *L, int32_t *pixels, int32_t *c1, int32_t *c2)
{
    *pixels = L->out_shape.h * L->out_shape.w;
    *c1 = L->in_shape.c;
    *c2 = L->out_shape.c - L->in_shape.c;
}

static mco_status prepare_concat_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_concat_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    concat_shape(s->L, &p->pixels, &p->channels1, &p->channels2);
    op->params = p;
    info->params_type = MCO_PARAMS_CONCAT_F32;
    return MCO_OK;
}

/* The two inputs' tables (TFLite's reference rule, mco_quant_concat_table)
 * as the op's 512 int8 "weights"; an input with the output's quantization
 * is copied (its identity table unused). */
static mco_status prepare_concat_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_qparams in[2] = {s->in_q, s->in2_q};
    for (int k = 0; k < 2; k++)
        if (!(in[k].scale > 0.0f && isfinite(in[k].scale)) || !(s->out_q.scale > 0.0f && isfinite(s->out_q.scale)))
            return mco_error(MCO_ERR_FORMAT, "layer %s: missing quantization scales", s->L->name);
    mco_concat_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    int8_t *tables = mco_plan_alloc(plan, 512);
    if (!p || !tables) return mco_plan_nomem();
    concat_shape(s->L, &p->pixels, &p->channels1, &p->channels2);
    p->requantize1 = !mco_quant_concat_table(in[0], s->out_q, tables);
    p->requantize2 = !mco_quant_concat_table(in[1], s->out_q, tables + 256);
    op->params = p;
    op->weights = tables;
    info->params_type = MCO_PARAMS_CONCAT_S8;
    info->weights_type = MCO_DATA_S8;
    info->weights_count = 512;
    plan->param_bytes += 512;
    return MCO_OK;
}

/* One row of n_out values (the site's in_size / n_out rows). */
static mco_status prepare_softmax_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    if (s->in_size != s->n_out)
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: float softmax over more than one row", s->L->name);
    mco_clamp_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_clamp_f32_params){s->n_out, 0.0f, 0.0f};
    op->params = p;
    info->params_type = MCO_PARAMS_CLAMP_F32;
    return MCO_OK;
}

/* The output quantization is fixed by the kernel: scale 1/256, zero point -128. */
static mco_status prepare_softmax_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_softmax_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    p->n_rows = s->in_size / s->n_out;
    p->row_size = s->n_out;
    mco_status st = mco_quant_softmax_params((double)s->in_q.scale, &p->input_multiplier, &p->input_left_shift,
                                             &p->diff_min);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", s->L->name, mco_last_error());
    op->params = p;
    info->params_type = MCO_PARAMS_SOFTMAX_S8;
    return MCO_OK;
}

/* The runtime's MCO_ACTIVATION_* number of an activation layer type. */
static int32_t activation_function(mco_layer_type t)
{
    switch (t) {
    case MCO_LAYER_SIGMOID: return MCO_ACTIVATION_SIGMOID;
    case MCO_LAYER_TANH: return MCO_ACTIVATION_TANH;
    case MCO_LAYER_LEAKY_RELU: return MCO_ACTIVATION_LEAKY_RELU;
    case MCO_LAYER_HARD_SIGMOID: return MCO_ACTIVATION_HARD_SIGMOID;
    default: return MCO_ACTIVATION_HARD_SWISH;
    }
}

static mco_status prepare_activation_f32(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_activation_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_activation_f32_params){s->out_size, activation_function(s->L->type), s->L->alpha, s->L->beta};
    op->params = p;
    info->params_type = MCO_PARAMS_ACTIVATION_F32;
    info->may_run_in_place = 1;
    return MCO_OK;
}

/* The table from the input's quantization to the layer's own output
 * quantization, as the op's 256 int8 "weights". */
static mco_status prepare_lut_s8(mco_plan *plan, const mco_op_site *s, mco_op *op, mco_plan_op_info *info)
{
    mco_lut_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    int8_t *table = mco_plan_alloc(plan, 256);
    if (!p || !table) return mco_plan_nomem();
    mco_status st = mco_quant_activation_lut(s->L, s->in_q, s->out_q, table);
    if (st != MCO_OK) return st;
    p->size = s->out_size;
    op->params = p;
    op->weights = table;
    info->params_type = MCO_PARAMS_LUT_S8;
    info->weights_type = MCO_DATA_S8;
    info->weights_count = 256;
    info->may_run_in_place = 1;
    plan->param_bytes += 256;
    return MCO_OK;
}

/* ---- eval ---------------------------------------------------------------------------- */

static mco_rt_status eval_clamp_f32(const mco_op *op, uint8_t *arena)
{
    const mco_clamp_f32_params *c = op->params;
    return mco_clamp_f32(MCO_F32_AT(arena, op->output), c->size, c->act_min, c->act_max);
}

static mco_rt_status eval_clamp_s8(const mco_op *op, uint8_t *arena)
{
    const mco_clamp_s8_params *c = op->params;
    return mco_clamp_s8(MCO_S8_AT(arena, op->output), c->size, c->act_min, c->act_max);
}

static mco_rt_status eval_add_f32(const mco_op *op, uint8_t *arena)
{
    const mco_clamp_f32_params *c = op->params;
    return mco_add_f32(MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->input2), MCO_F32_AT(arena, op->output),
                       c->size, c->act_min, c->act_max);
}

static mco_rt_status eval_add_s8(const mco_op *op, uint8_t *arena)
{
    return mco_add_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->input2),
                      MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_concat_f32(const mco_op *op, uint8_t *arena)
{
    return mco_concat_f32(op->params, MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->input2),
                          MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_concat_s8(const mco_op *op, uint8_t *arena)
{
    return mco_concat_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->input2), op->weights,
                         MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_softmax_f32(const mco_op *op, uint8_t *arena)
{
    const mco_clamp_f32_params *c = op->params;
    return mco_softmax_f32(MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->output), 1, c->size);
}

static mco_rt_status eval_softmax_s8(const mco_op *op, uint8_t *arena)
{
    return mco_softmax_s8(op->params, MCO_S8_AT(arena, op->input), MCO_S8_AT(arena, op->output));
}

static mco_rt_status eval_activation_f32(const mco_op *op, uint8_t *arena)
{
    return mco_activation_f32(op->params, MCO_F32_AT(arena, op->input), MCO_F32_AT(arena, op->output));
}

static mco_rt_status eval_lut_s8(const mco_op *op, uint8_t *arena)
{
    return mco_lut_s8(op->params, MCO_S8_AT(arena, op->input), op->weights, MCO_S8_AT(arena, op->output));
}

/* ---- features ------------------------------------------------------------------------ */

/* One unit of work per element: every parameter struct here but the int8
 * softmax's starts with the element count. (The float activations cost
 * more per element for sigmoid and tanh than for the others: their
 * coefficients are an average over the calibration models.) */
static void features_elements(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    f[MCO_COST_MACS] = *(const int32_t *)op->params;
}

/* Concat: one unit per output element, one loop per pixel (both parameter
 * structs start with pixels, channels1, channels2). */
static void features_concat(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_concat_f32_params *p = op->params;
    f[MCO_COST_MACS] = (double)p->pixels * (p->channels1 + p->channels2);
    f[MCO_COST_LOOPS] = p->pixels;
}

static void features_softmax_s8(const mco_op *op, const mco_plan_op_info *info, double *f)
{
    (void)info;
    const mco_softmax_s8_params *p = op->params;
    f[MCO_COST_MACS] = (double)p->n_rows * p->row_size;
    f[MCO_COST_LOOPS] = p->n_rows;
}

/* ---- the descriptors ------------------------------------------------------------------- */

const mco_op_desc mco_op_clamp_f32 = {
    MCO_OP_CLAMP_F32, "CLAMP_F32", "mco_clamp_f32", "mco_runtime.h", "OUT, P.size, P.act_min, P.act_max",
    supports_clamp_f32, prepare_clamp_f32, eval_clamp_f32, features_elements, NULL, -1};

const mco_op_desc mco_op_add_f32 = {
    MCO_OP_ADD_F32, "ADD_F32", "mco_add_f32", "mco_runtime.h", "IN, IN2, OUT, P.size, P.act_min, P.act_max",
    supports_add_f32, prepare_clamp_f32, eval_add_f32, features_elements, NULL, -1};

const mco_op_desc mco_op_concat_f32 = {
    MCO_OP_CONCAT_F32, "CONCAT_F32", "mco_concat_f32", "mco_runtime.h", "&P, IN, IN2, OUT",
    supports_concat_f32, prepare_concat_f32, eval_concat_f32, features_concat, NULL, MCO_OP_ADD_F32};

const mco_op_desc mco_op_concat_s8 = {
    MCO_OP_CONCAT_S8, "CONCAT_S8", "mco_concat_s8", "mco_runtime.h", "&P, IN, IN2, W, OUT",
    supports_concat_s8, prepare_concat_s8, eval_concat_s8, features_concat, NULL, MCO_OP_ADD_S8};

const mco_op_desc mco_op_softmax_f32 = {
    MCO_OP_SOFTMAX_F32, "SOFTMAX_F32", "mco_softmax_f32", "mco_runtime.h", "IN, OUT, 1, P.size",
    supports_softmax_f32, prepare_softmax_f32, eval_softmax_f32, features_elements, NULL, -1};

const mco_op_desc mco_op_clamp_s8 = {
    MCO_OP_CLAMP_S8, "CLAMP_S8", "mco_clamp_s8", "mco_runtime.h", "OUT, P.size, P.act_min, P.act_max",
    supports_clamp_s8, prepare_clamp_s8, eval_clamp_s8, features_elements, NULL, -1};

const mco_op_desc mco_op_add_s8 = {
    MCO_OP_ADD_S8, "ADD_S8", "mco_add_s8", "mco_runtime.h", "&P, IN, IN2, OUT",
    supports_add_s8, prepare_add_s8, eval_add_s8, features_elements, NULL, -1};

const mco_op_desc mco_op_softmax_s8 = {
    MCO_OP_SOFTMAX_S8, "SOFTMAX_S8", "mco_softmax_s8", "mco_runtime.h", "&P, IN, OUT",
    supports_softmax_s8, prepare_softmax_s8, eval_softmax_s8, features_softmax_s8, NULL, -1};

const mco_op_desc mco_op_activation_f32 = {
    MCO_OP_ACTIVATION_F32, "ACTIVATION_F32", "mco_activation_f32", "mco_runtime.h", "&P, IN, OUT",
    supports_activation_f32, prepare_activation_f32, eval_activation_f32, features_elements, NULL, -1};

const mco_op_desc mco_op_lut_s8 = {
    MCO_OP_LUT_S8, "LUT_S8", "mco_lut_s8", "mco_runtime.h", "&P, IN, W, OUT",
    supports_lut_s8, prepare_lut_s8, eval_lut_s8, features_elements, NULL, -1};
