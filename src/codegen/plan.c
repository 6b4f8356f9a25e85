/*
 * plan.c - mco_plan_build(): a deploy model becomes a list of runtime
 * kernel calls (mco_op) over one arena, with the kernels' parameter
 * structs, the weights in the kernels' storage formats, and arena offsets
 * from the liveness-based memory planner (memory_plan.c). The fusions and
 * the planner are described in include/codegen/mcuopt/codegen.h.
 *
 * The walk goes through the layers in order. Each layer (with the ReLU and
 * max pool it may absorb) becomes a "site" (op_desc.h): its formats,
 * shapes, quantization and clamp. Every op kind whose descriptor supports
 * the site is a candidate; choose_kernel() takes the candidate the options
 * ask for (a preferred kind; else the fewest estimated cycles on the core
 * class, by the resource model's fitted coefficients applied to the op that
 * candidate's prepare() makes; or the least Flash; or the first in the op
 * table's order), and the chosen descriptor's prepare() fills the op. A
 * layer that was folded into an earlier op (fused
 * ReLU, the max pool of a fused conv + pool) is marked `done` and only
 * gets its output tensor recorded. Each op records which tensors it reads
 * and writes, which gives every tensor's lifetime.
 *
 * What it leaves out: BatchNorm (must be folded first), a ReLU whose input
 * is also read by another layer (the in-place clamp would change it),
 * choices that span layers (the choice is greedy, layer by layer, in model
 * order; a kind's code counts against the first op that links it; fusing
 * conv + pool is a memory decision, see plan_weighted).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_desc.h"

typedef struct {
    mco_plan *plan;
    const mco_deploy_model *dm;
    const mco_plan_options *opt;
    int *layer_tensor;   /* [n_layers] tensor holding each layer's output */
    char *done;          /* [n_layers] already folded into an earlier op */
    int cap_ops, cap_tensors;
    /* the resource model the choice reads: NULL without a table or with MCO_PLAN_LISTED */
    const mco_cost_class *cls;
    unsigned char linked[MCO_COST_MAX_SYMBOLS];   /* symbols the ops chosen so far link */
    unsigned char kind_used[MCO_OP_KIND_COUNT];   /* kinds the ops chosen so far use */
    /* a weighted int8 layer's requantization, as its site hands it to the kernels */
    int32_t *req_mult, *req_shift, *req_bias;
    size_t req_cap;
} builder;

void mco_plan_options_default(mco_plan_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->fuse_conv_pool = 1;
    opt->fuse_activations = 1;
    opt->sparse_weights = 1;
    opt->goal = MCO_PLAN_FASTEST;
}

/* ---- allocation ---------------------------------------------------------- */

void *mco_plan_alloc(mco_plan *plan, size_t size)
{
    if (plan->n_allocs == plan->cap_allocs) {
        int cap = plan->cap_allocs ? plan->cap_allocs * 2 : 64;
        void **grown = realloc(plan->allocs, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        plan->allocs = grown;
        plan->cap_allocs = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p) plan->allocs[plan->n_allocs++] = p;
    return p;
}

void *mco_plan_copy(mco_plan *plan, const void *src, size_t size)
{
    void *p = mco_plan_alloc(plan, size);
    if (p && src) memcpy(p, src, size);
    return p;
}

mco_status mco_plan_nomem(void) { return mco_error(MCO_ERR_NOMEM, "plan: out of memory"); }

/* Frees what the plan allocated after its first `mark` allocations. */
static void plan_rollback(mco_plan *plan, int mark)
{
    while (plan->n_allocs > mark) free(plan->allocs[--plan->n_allocs]);
}

void mco_plan_free(mco_plan *plan)
{
    if (!plan) return;
    for (int i = 0; i < plan->n_allocs; i++) free(plan->allocs[i]);
    free(plan->allocs);
    free(plan->ops);
    free(plan->info);
    free(plan->tensors);
    memset(plan, 0, sizeof *plan);
}

/* ---- tensors and ops ---------------------------------------------------- */

static uint32_t elem_bytes(mco_elem_type t) { return t == MCO_ELEM_S8 ? 1u : 4u; }

static int add_tensor(builder *b, mco_shape shape, mco_qparams q, int first_op)
{
    mco_plan *plan = b->plan;
    if (plan->n_tensors == b->cap_tensors) {
        int cap = b->cap_tensors ? b->cap_tensors * 2 : 32;
        mco_plan_tensor *grown = realloc(plan->tensors, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        plan->tensors = grown;
        b->cap_tensors = cap;
    }
    mco_plan_tensor *t = &plan->tensors[plan->n_tensors];
    memset(t, 0, sizeof *t);
    t->type = b->dm->activation_format == MCO_ACT_S8 ? MCO_ELEM_S8 : MCO_ELEM_F32;
    t->bytes = (uint32_t)mco_shape_size(shape) * elem_bytes(t->type);
    t->first_op = first_op;
    t->last_op = first_op;
    t->q = q;
    t->shape = shape;
    t->overlays = -1;
    return plan->n_tensors++;
}

static void use_tensor(builder *b, int tensor, int op)
{
    mco_plan_tensor *t = &b->plan->tensors[tensor];
    if (op > t->last_op) t->last_op = op;
}

/* Appends an op reading in / in2 (-1: none) and writing a new tensor of
 * `out_shape` (or the existing tensor `in_place` when >= 0). Returns the
 * op index, or -1 when out of memory. */
static int add_op(builder *b, mco_op_kind kind, int first_layer, int last_layer, int in, int in2,
                  mco_shape out_shape, mco_qparams out_q, int in_place)
{
    mco_plan *plan = b->plan;
    if (plan->n_ops == b->cap_ops) {
        int cap = b->cap_ops ? b->cap_ops * 2 : 16;
        mco_op *ops = realloc(plan->ops, (size_t)cap * sizeof *ops);
        if (!ops) return -1;
        plan->ops = ops;
        mco_plan_op_info *info = realloc(plan->info, (size_t)cap * sizeof *info);
        if (!info) return -1;
        plan->info = info;
        b->cap_ops = cap;
    }
    int index = plan->n_ops;
    int out = in_place >= 0 ? in_place : add_tensor(b, out_shape, out_q, index);
    if (out < 0) return -1;
    mco_op *op = &((mco_op *)plan->ops)[index];
    mco_plan_op_info *info = &plan->info[index];
    memset(op, 0, sizeof *op);
    memset(info, 0, sizeof *info);
    op->kind = kind;
    info->first_layer = first_layer;
    info->last_layer = last_layer;
    info->input_tensor = in;
    info->input2_tensor = in2;
    info->output_tensor = out;
    info->scratch_tensor = -1;
    use_tensor(b, in, index);
    if (in2 >= 0) use_tensor(b, in2, index);
    use_tensor(b, out, index);
    b->layer_tensor[first_layer] = out;
    plan->n_ops++;
    return index;
}

/* The scratch op `index`'s prepare asked for (op->scratch_bytes), as an
 * int8 tensor of the arena that lives during that op only, so the memory
 * planner puts it where no tensor alive then is (TFLite Micro's scratch
 * buffers). */
static mco_status add_scratch(builder *b, int index)
{
    const mco_op *op = &b->plan->ops[index];
    if (op->scratch_bytes == 0) return MCO_OK;
    int t = add_tensor(b, (mco_shape){1, 1, (int)op->scratch_bytes}, (mco_qparams){0.0f, 0}, index);
    if (t < 0) return mco_plan_nomem();
    b->plan->tensors[t].type = MCO_ELEM_S8;
    b->plan->tensors[t].bytes = op->scratch_bytes;
    b->plan->info[index].scratch_tensor = t;
    return MCO_OK;
}

/* ---- graph queries ------------------------------------------------------- */

static int consumer_count(const mco_model *m, int layer)
{
    int n = 0;
    for (int j = 0; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j].n_inputs; k++)
            n += m->layers[j].inputs[k] == layer;
    return n;
}

/* The one layer reading `layer`'s output, or -1 if there is not exactly one. */
static int sole_consumer(const mco_model *m, int layer)
{
    if (consumer_count(m, layer) != 1) return -1;
    for (int j = layer + 1; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j].n_inputs; k++)
            if (m->layers[j].inputs[k] == layer) return j;
    return -1;
}

static int is_alias_layer(mco_layer_type t) { return t == MCO_LAYER_FLATTEN || t == MCO_LAYER_DROPOUT; }

/* 1 if the tensor produced by `layer` (seen through Flatten / Dropout) is
 * read by exactly one layer, so it may be clamped in place. */
static int tensor_has_one_reader(const mco_model *m, int layer)
{
    while (layer >= 0 && is_alias_layer(m->layers[layer].type)) {
        if (consumer_count(m, layer) != 1) return 0;
        layer = m->layers[layer].inputs[0];
    }
    return consumer_count(m, layer) == 1;
}

static int input_tensor(const builder *b, int layer_input)
{
    return layer_input == MCO_INPUT ? b->plan->input_tensor : b->layer_tensor[layer_input];
}

/* The ReLU / ReLU6 to fuse into `layer`'s op (its only reader), or -1. */
static int fused_activation(const builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    int next = sole_consumer(m, layer);
    if (!b->opt->fuse_activations || next < 0) return -1;
    return m->layers[next].type == MCO_LAYER_RELU || m->layers[next].type == MCO_LAYER_RELU6 ? next : -1;
}

/* Records that `layer` (if >= 0) is computed by op `op_index`. */
static void mark_fused(builder *b, int layer, int op_index)
{
    if (layer < 0) return;
    b->done[layer] = 1;
    b->layer_tensor[layer] = b->plan->info[op_index].output_tensor;
}

/* Places op `index`'s output over its input when its kernel allows it, the
 * input is not the caller's model input (model_run's `in` is const) and no
 * other layer reads it. */
static void run_in_place(builder *b, const mco_op_site *s, int index)
{
    mco_plan *plan = b->plan;
    const mco_plan_op_info *info = &plan->info[index];
    int in = info->input_tensor;
    if (!info->may_run_in_place || in == plan->input_tensor || s->L->n_inputs != 1 ||
        s->L->inputs[0] == MCO_INPUT || !tensor_has_one_reader(&b->dm->model, s->L->inputs[0]))
        return;
    while (plan->tensors[in].overlays >= 0) in = plan->tensors[in].overlays;
    plan->tensors[info->output_tensor].overlays = in;
}

/* ---- activation clamps --------------------------------------------------- */

typedef struct {
    float f_min, f_max;
    int32_t q_min, q_max;
} act_range;

/* The clamp of a ReLU / ReLU6 layer (or none for act_type -1) for a tensor
 * with quantization q (int8) or float. */
static act_range activation_range(int act_type, mco_qparams q)
{
    act_range r = {-FLT_MAX, FLT_MAX, -128, 127};
    if (act_type == MCO_LAYER_RELU || act_type == MCO_LAYER_RELU6) {
        r.f_min = 0.0f;
        r.q_min = q.zero_point > -128 ? q.zero_point : -128;
    }
    if (act_type == MCO_LAYER_RELU6) {
        r.f_max = 6.0f;
        if (q.scale > 0.0f) {
            /* TFLite's CalculateActivationRangeQuantized: round(6 / scale) with the quotient in float */
            double top = (double)q.zero_point + floor((double)(6.0f / q.scale) + 0.5);
            r.q_max = top < 127.0 ? (int32_t)top : 127;
        }
    }
    return r;
}

/* Layers that do not change quantization (ReLU, pools) must carry their
 * input's parameters; a zero scale means "not set" and inherits. */
static mco_status check_same_q(const builder *b, int layer, mco_qparams in_q)
{
    if (b->dm->activation_format != MCO_ACT_S8) return MCO_OK;
    mco_qparams q = b->dm->layers[layer].output;
    if (q.scale == 0.0f) return MCO_OK;
    if (q.zero_point != in_q.zero_point || fabs((double)q.scale - (double)in_q.scale) > 1e-6 * (double)in_q.scale)
        return mco_error(MCO_ERR_FORMAT,
                         "layer %s: output quantization (scale %g, zero point %d) differs from its "
                         "input's (%g, %d); a %s must keep it",
                         b->dm->model.layers[layer].name, (double)q.scale, (int)q.zero_point,
                         (double)in_q.scale, (int)in_q.zero_point,
                         mco_layer_type_name(b->dm->model.layers[layer].type));
    return MCO_OK;
}

/* ---- sites ------------------------------------------------------------------ */

/* The kernel window of a conv / pool layer from its inferred shapes and its
 * padding before the data (mco_layer_pad_before: the runtime's
 * mco_window_init rule for "valid" / "same", the layer's own pads when
 * explicit). */
static mco_status window_for(const mco_layer *L, int32_t out_c, mco_window *win)
{
    int global = L->type == MCO_LAYER_GLOBAL_AVGPOOL;
    win->in_h = L->in_shape.h;
    win->in_w = L->in_shape.w;
    win->in_c = L->in_shape.c;
    win->out_h = L->out_shape.h;
    win->out_w = L->out_shape.w;
    win->out_c = out_c;
    win->kernel_h = global ? L->in_shape.h : L->kernel_h;
    win->kernel_w = global ? L->in_shape.w : L->kernel_w;
    win->stride_h = global ? 1 : L->stride_h;
    win->stride_w = global ? 1 : L->stride_w;
    int pad_top = 0, pad_left = 0;
    if (!global) mco_layer_pad_before(L, &pad_top, &pad_left);
    win->pad_top = pad_top;
    win->pad_left = pad_left;
    if (win->out_h <= 0 || win->out_w <= 0 || win->kernel_h <= 0 || win->kernel_w <= 0 || win->stride_h <= 0 ||
        win->stride_w <= 0 || win->pad_top >= (global ? win->kernel_h : mco_layer_window_extent(L, 0)) ||
        win->pad_left >= (global ? win->kernel_w : mco_layer_window_extent(L, 1)))
        return mco_error(MCO_ERR_SHAPE, "layer %s: invalid window geometry", L->name);
    return MCO_OK;
}

/* 1 if `pool` is a MaxPool2D 2x2 stride 2 "valid" the fused kernels implement. */
static int is_fusable_pool(const mco_layer *P)
{
    return P->type == MCO_LAYER_MAXPOOL2D && P->kernel_h == 2 && P->kernel_w == 2 && P->stride_h == 2 &&
           P->stride_w == 2 && P->padding == MCO_PADDING_VALID;
}

/* 1 if the core class has the DSP extension: every class but the
 * Cortex-M0+ and M3 ones (none given: the Cortex-M4F). */
static int class_has_dsp(const char *core_class)
{
    return !core_class || (strcmp(core_class, "m0plus") != 0 && strcmp(core_class, "m3") != 0);
}

/* A site for `layer` with no clamp, reading a tensor of quantization in_q. */
static void site_init(const builder *b, int layer, mco_qparams in_q, mco_op_site *s)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    memset(s, 0, sizeof *s);
    s->dm = b->dm;
    s->L = L;
    s->dl = &b->dm->layers[layer];
    s->layer = layer;
    s->act_layer = s->pool_layer = -1;
    s->s8 = b->dm->activation_format == MCO_ACT_S8;
    s->dsp = class_has_dsp(b->opt->core_class);
    s->sparse_allowed = b->opt->sparse_weights;
    s->in_q = s->out_q = in_q;
    s->out_size = (int32_t)mco_shape_size(L->out_shape);
    s->in_size = (int32_t)mco_shape_size(L->in_shape);
    act_range r = activation_range(-1, in_q);
    s->f_min = r.f_min;
    s->f_max = r.f_max;
    s->q_min = r.q_min;
    s->q_max = r.q_max;
}

/* Sets the site's clamp to the ReLU / ReLU6 layer `act_layer` (-1: none)
 * on its output quantization. */
static void site_clamp(const builder *b, int act_layer, mco_op_site *s)
{
    act_range r = activation_range(act_layer >= 0 ? (int)b->dm->model.layers[act_layer].type : -1, s->out_q);
    s->act_layer = act_layer;
    s->f_min = r.f_min;
    s->f_max = r.f_max;
    s->q_min = r.q_min;
    s->q_max = r.q_max;
    if (act_layer >= 0) s->out_size = (int32_t)mco_shape_size(b->dm->model.layers[act_layer].out_shape);
}

static mco_status requant_scratch(builder *b, size_t n)
{
    if (n <= b->req_cap) return MCO_OK;
    int32_t *m = realloc(b->req_mult, n * sizeof *m);
    if (m) b->req_mult = m;
    int32_t *s = m ? realloc(b->req_shift, n * sizeof *s) : NULL;
    if (s) b->req_shift = s;
    int32_t *bias = s ? realloc(b->req_bias, n * sizeof *bias) : NULL;
    if (bias) b->req_bias = bias;
    if (!bias) return mco_plan_nomem();
    b->req_cap = n;
    return MCO_OK;
}

/* A Conv2D / Dense output channel whose int8 weights are all zero (a
 * pruned-away filter) always outputs the requantized bias r. The quantizer
 * gives such a channel weight scale 1, so its shift can be >= 0, which the
 * specialised kernels refuse; this rewrites its multiplier and shift (the
 * site's copies) into 2^30 and -1 and its bias into 4 r: requantizing 4 r
 * by 1/4 is exact, and r is first limited to [-256, 255], beyond which the
 * output clamp gives the same int8. */
static void constant_channels(const mco_op_site *s, int32_t *mult, int32_t *shift, int32_t *bias)
{
    const mco_deploy_layer *dl = s->dl;
    size_t cols = s->L->params[MCO_PARAM_WEIGHTS].size / (size_t)s->n_out;
    for (int32_t c = 0; c < s->n_out; c++) {
        size_t j = 0;
        while (j < cols && dl->weights_q[(size_t)c * cols + j] == 0) j++;
        if (j < cols || (shift[c] <= -1 && mult[c] >= 0)) continue;
        int32_t r = mco_requantize(bias[c], mult[c], shift[c]);
        r = r < -256 ? -256 : (r > 255 ? 255 : r);
        bias[c] = 4 * r;
        mult[c] = 1 << 30;
        shift[c] = -1;
    }
}

/* The site of a Conv2D / DepthwiseConv2D / Dense with its fused ReLU
 * (act_layer, -1: none), without a pool. */
static mco_status weighted_site(builder *b, int layer, int act_layer, mco_op_site *s)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    site_init(b, layer, b->plan->tensors[input_tensor(b, L->inputs[0])].q, s);
    s->out_q = dl->output;
    int dense = L->type == MCO_LAYER_DENSE;
    s->n_out = dense ? (int32_t)L->units : (int32_t)L->out_shape.c;
    if (s->n_out < 1) return mco_error(MCO_ERR_SHAPE, "layer %s: no output channels", L->name);
    mco_status st;
    if (!dense && (st = window_for(L, s->n_out, &s->win)) != MCO_OK) return st;
    site_clamp(b, act_layer, s);
    if (!s->s8) return MCO_OK;
    if (dl->weight_format != MCO_WEIGHTS_S8 && dl->weight_format != MCO_WEIGHTS_S4)
        return mco_error(MCO_ERR_UNSUPPORTED,
                         "layer %s: float weights with int8 activations are not supported "
                         "(quantize the layer's weights to int8 or int4)", L->name);
    /* A Dense layer with one weight scale keeps one multiplier and shift. */
    s->per_tensor = dense && !dl->per_channel;
    size_t n_out = (size_t)s->n_out, n = s->per_tensor ? 1 : n_out;
    if ((st = requant_scratch(b, n_out)) != MCO_OK) return st;
    if (dl->multiplier && dl->shift) {
        memcpy(b->req_mult, dl->multiplier, n * sizeof *b->req_mult);
        memcpy(b->req_shift, dl->shift, n * sizeof *b->req_shift);
        s->multiplier = b->req_mult;
        s->shift = b->req_shift;
    }
    if (dl->bias_q) {
        memcpy(b->req_bias, dl->bias_q, n_out * sizeof *b->req_bias);
        s->bias = b->req_bias;
    }
    if (L->type != MCO_LAYER_DEPTHWISE_CONV2D && !s->per_tensor && s->multiplier && s->bias && dl->weights_q)
        constant_channels(s, b->req_mult, b->req_shift, b->req_bias);
    return MCO_OK;
}

/* The site of a pool layer reading a tensor of quantization in_q. */
static mco_status pool_site(const builder *b, int layer, mco_qparams in_q, mco_op_site *s)
{
    site_init(b, layer, in_q, s);
    s->n_out = s->L->in_shape.c;
    return window_for(s->L, s->L->in_shape.c, &s->win);
}

/* ---- choosing the kernel ------------------------------------------------------ */

typedef struct {
    int kind;          /* -1: no kernel runs the site */
    double cycles;     /* estimated, with the op's share of model_run; < 0: unknown */
    double flash;      /* parameter bytes + the code the kind would add */
} kernel_choice;

/* 1 if a is a better choice than b for the goal (ties: b, the earlier one). */
static int better(const kernel_choice *a, const kernel_choice *b, mco_plan_goal goal)
{
    int faster = a->cycles >= 0 && (b->cycles < 0 || a->cycles < b->cycles);
    int same_speed = a->cycles == b->cycles;
    if (goal == MCO_PLAN_SMALLEST) return a->flash < b->flash || (a->flash == b->flash && faster);
    return faster || (same_speed && a->flash < b->flash);
}

/* Prepares `kind` for the site into a scratch op, reads its cost, and takes
 * everything it allocated back. */
static mco_status cost_of(builder *b, const mco_op_site *s, int kind, kernel_choice *c)
{
    mco_plan *plan = b->plan;
    int mark = plan->n_allocs;
    size_t param_bytes = plan->param_bytes;
    mco_op op;
    mco_plan_op_info info;
    memset(&op, 0, sizeof op);
    memset(&info, 0, sizeof info);
    op.kind = (mco_op_kind)kind;
    info.input_tensor = info.input2_tensor = info.output_tensor = info.scratch_tensor = -1;
    mco_status st = mco_op_desc_of(kind)->prepare(plan, s, &op, &info);
    if (st == MCO_OK) {
        /* a kind without coefficients of its own (a stand-in's are no
         * evidence it is faster) counts as unknown: it wins only where no
         * calibrated kind can run the layer */
        int calibrated = 0;
        c->kind = kind;
        c->cycles = b->cls ? mco_cost_op_cycles(b->cls, &op, &info, &calibrated) : -1;
        if (!calibrated) c->cycles = -1;
        if (c->cycles >= 0) c->cycles += b->cls->overhead[1];
        c->flash = (double)mco_cost_op_param_bytes(b->cls, &op, &info);
        if (b->cls && !b->kind_used[kind]) /* its functions, and model_run's share per kind */
            c->flash += (double)mco_cost_kind_code_bytes(b->cls, kind, b->linked, 0) + b->cls->glue_bytes[1];
    }
    plan_rollback(plan, mark);
    plan->param_bytes = param_bytes;
    return st;
}

/* The kernel for a site (kind -1 if none supports it): a preferred kind
 * that supports it, else the only one, else by the goal. */
static mco_status choose_kernel(builder *b, const mco_op_site *s, kernel_choice *out)
{
    const mco_plan_options *opt = b->opt;
    int cand[MCO_OP_KIND_COUNT], n = 0;
    out->kind = -1;
    out->cycles = -1;
    out->flash = 0;
    for (int k = 0; k < MCO_OP_KIND_COUNT; k++)
        if (mco_op_desc_of(k)->supports(s)) cand[n++] = k;
    if (n == 0) return MCO_OK;
    int pick = -1;
    for (int p = 0; p < opt->n_prefer && pick < 0 && opt->prefer; p++)
        for (int i = 0; i < n && pick < 0; i++)
            if (cand[i] == (int)opt->prefer[p]) pick = cand[i];
    int compare = pick < 0 && n > 1 && opt->goal != MCO_PLAN_LISTED &&
                  (b->cls || opt->goal == MCO_PLAN_SMALLEST);
    if (!compare) {
        out->kind = pick >= 0 ? pick : cand[0];
        return MCO_OK;
    }
    for (int i = 0; i < n; i++) {
        kernel_choice c;
        mco_status st = cost_of(b, s, cand[i], &c);
        if (st != MCO_OK) return st;
        if (out->kind < 0 || better(&c, out, opt->goal)) *out = c;
    }
    return MCO_OK;
}

/* Appends the op of `kind` for the site: output tensor of out_shape (or the
 * input tensor itself with in_place), prepared by its descriptor. Returns
 * the op index in *index. */
static mco_status add_site_op(builder *b, const mco_op_site *s, int kind, int in, int in2, int last_layer,
                              mco_shape out_shape, int in_place, int *index)
{
    int op_index = add_op(b, (mco_op_kind)kind, s->layer, last_layer, in, in2, out_shape, s->out_q,
                          in_place ? in : -1);
    if (op_index < 0) return mco_plan_nomem();
    mco_op *op = &b->plan->ops[op_index];
    mco_status st = mco_op_desc_of(kind)->prepare(b->plan, s, op, &b->plan->info[op_index]);
    if (st != MCO_OK) return st;
    if ((st = add_scratch(b, op_index)) != MCO_OK) return st;
    if (!in_place) run_in_place(b, s, op_index);
    if (b->cls) mco_cost_kind_code_bytes(b->cls, kind, b->linked, 1);
    b->kind_used[kind] = 1;
    *index = op_index;
    return MCO_OK;
}

static mco_status no_kernel(const mco_op_site *s)
{
    return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: no kernel runs a %s with %s activations and these weights",
                     s->L->name, mco_layer_type_name(s->L->type), s->s8 ? "int8" : "float");
}

/* ---- weighted layers ------------------------------------------------------------ */

/* Conv2D, DepthwiseConv2D, Dense, with a fused ReLU and (conv) max pool. */
static mco_status plan_weighted(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    mco_status st;
    int act_layer = fused_activation(b, layer);
    if (act_layer >= 0 && (st = check_same_q(b, act_layer, b->dm->layers[layer].output)) != MCO_OK) return st;
    int last = act_layer >= 0 ? act_layer : layer;
    int pool_layer = b->opt->fuse_conv_pool && L->type == MCO_LAYER_CONV2D ? sole_consumer(m, last) : -1;
    if (pool_layer >= 0 && !is_fusable_pool(&m->layers[pool_layer])) pool_layer = -1;

    mco_op_site conv;
    if ((st = weighted_site(b, layer, act_layer, &conv)) != MCO_OK) return st;
    kernel_choice choice = {-1, -1, 0};
    const mco_op_site *site = &conv;
    mco_op_site fused;
    if (pool_layer >= 0) {
        /* Fused whenever a fused kernel can run it: the conv output is then
         * never stored (for the float mnist-paper 32 KB less RAM) for about
         * the cycles of the two ops (measured on the emulated M4F: 0.5 %
         * more for the float model), so fusing is a memory decision
         * (fuse_conv_pool) and the cost only picks the fused kernel. */
        if ((st = check_same_q(b, pool_layer, conv.out_q)) != MCO_OK) return st;
        fused = conv;
        fused.pool_layer = pool_layer;
        fused.out_size = (int32_t)mco_shape_size(m->layers[pool_layer].out_shape);
        if ((st = choose_kernel(b, &fused, &choice)) != MCO_OK) return st;
        if (choice.kind >= 0) {
            site = &fused;
            last = pool_layer;
        } else {
            pool_layer = -1;
        }
    }
    if (site == &conv && (st = choose_kernel(b, &conv, &choice)) != MCO_OK) return st;
    if (choice.kind < 0) return no_kernel(site);
    int op_index;
    st = add_site_op(b, site, choice.kind, input_tensor(b, L->inputs[0]), -1, last, m->layers[last].out_shape, 0,
                     &op_index);
    if (st != MCO_OK) return st;
    mark_fused(b, act_layer, op_index);
    mark_fused(b, pool_layer, op_index);
    return MCO_OK;
}

/* ---- other layers ---------------------------------------------------------------- */

/* Chooses the kernel of a one-layer site and appends its op. */
static mco_status plan_site(builder *b, const mco_op_site *s, int in, int in2, int last_layer, mco_shape out_shape,
                            int in_place, int *op_index)
{
    kernel_choice choice;
    mco_status st = choose_kernel(b, s, &choice);
    if (st != MCO_OK) return st;
    if (choice.kind < 0) return no_kernel(s);
    return add_site_op(b, s, choice.kind, in, in2, last_layer, out_shape, in_place, op_index);
}

static mco_status plan_pool(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int in = input_tensor(b, L->inputs[0]), op_index;
    mco_qparams q = b->plan->tensors[in].q;
    /* An int8 global average pool with a requantization of its own is
     * TFLite's MEAN (an imported model's): its output has its own quantization. */
    int mean = b->dm->activation_format == MCO_ACT_S8 && L->type == MCO_LAYER_GLOBAL_AVGPOOL &&
               b->dm->layers[layer].multiplier;
    mco_status st = mean ? MCO_OK : check_same_q(b, layer, q);
    if (st != MCO_OK) return st;
    mco_op_site s;
    if ((st = pool_site(b, layer, q, &s)) != MCO_OK) return st;
    if (mean) s.out_q = b->dm->layers[layer].output;
    return plan_site(b, &s, in, -1, layer, L->out_shape, 0, &op_index);
}

/* A ReLU / ReLU6 not fused into its producer: a clamp in place. */
static mco_status plan_clamp(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    int in = input_tensor(b, L->inputs[0]), op_index;
    mco_qparams q = b->plan->tensors[in].q;
    mco_status st = check_same_q(b, layer, q);
    if (st != MCO_OK) return st;
    if (!tensor_has_one_reader(m, L->inputs[0]))
        return mco_error(MCO_ERR_UNSUPPORTED,
                         "layer %s: a %s whose input is also read by other layers is not supported",
                         L->name, mco_layer_type_name(L->type));
    mco_op_site s;
    site_init(b, layer, q, &s);
    site_clamp(b, layer, &s);
    s.act_layer = -1;   /* the clamp is the layer itself, not a fused one */
    return plan_site(b, &s, in, -1, layer, L->out_shape, 1, &op_index);
}

/* Add with a fused ReLU. */
static mco_status plan_add(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    int in1 = input_tensor(b, L->inputs[0]), in2 = input_tensor(b, L->inputs[1]), op_index;
    mco_status st;
    int act_layer = fused_activation(b, layer);
    if (act_layer >= 0 && (st = check_same_q(b, act_layer, b->dm->layers[layer].output)) != MCO_OK) return st;
    mco_op_site s;
    site_init(b, layer, b->plan->tensors[in1].q, &s);
    s.in2_q = b->plan->tensors[in2].q;
    s.out_q = b->dm->layers[layer].output;
    s.out_size = (int32_t)mco_shape_size(L->out_shape);
    site_clamp(b, act_layer, &s);
    st = plan_site(b, &s, in1, in2, act_layer >= 0 ? act_layer : layer, L->out_shape, 0, &op_index);
    if (st == MCO_OK) mark_fused(b, act_layer, op_index);
    return st;
}

/* Concat: two inputs, each requantized (int8) to the layer's own output quantization. */
static mco_status plan_concat(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int in1 = input_tensor(b, L->inputs[0]), in2 = input_tensor(b, L->inputs[1]), op_index;
    mco_op_site s;
    site_init(b, layer, b->plan->tensors[in1].q, &s);
    s.in2_q = b->plan->tensors[in2].q;
    if (s.s8) s.out_q = b->dm->layers[layer].output;
    s.out_size = (int32_t)mco_shape_size(L->out_shape);
    return plan_site(b, &s, in1, in2, layer, L->out_shape, 0, &op_index);
}

static mco_status plan_softmax(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int in = input_tensor(b, L->inputs[0]), op_index;
    mco_op_site s;
    site_init(b, layer, b->plan->tensors[in].q, &s);
    s.out_q = (mco_qparams){1.0f / 256.0f, -128};   /* fixed by the int8 softmax kernel */
    s.n_out = (int32_t)L->in_shape.c;
    if (s.n_out < 1) return mco_error(MCO_ERR_SHAPE, "layer %s: empty softmax rows", L->name);
    return plan_site(b, &s, in, -1, layer, L->out_shape, 0, &op_index);
}

/* Sigmoid, tanh, LeakyReLU, HardSigmoid, HardSwish: element-wise, float
 * or (int8) a lookup table into the layer's own output quantization. */
static mco_status plan_activation(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int in = input_tensor(b, L->inputs[0]), op_index;
    mco_op_site s;
    site_init(b, layer, b->plan->tensors[in].q, &s);
    if (s.s8) s.out_q = b->dm->layers[layer].output;
    return plan_site(b, &s, in, -1, layer, L->out_shape, 0, &op_index);
}

/* ---- the walk --------------------------------------------------------------- */

static mco_status plan_layer(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    switch (L->type) {
    case MCO_LAYER_CONV2D:
    case MCO_LAYER_DEPTHWISE_CONV2D:
    case MCO_LAYER_DENSE:
    case MCO_LAYER_CONV_TRANSPOSE2D: return plan_weighted(b, layer);
    case MCO_LAYER_MAXPOOL2D:
    case MCO_LAYER_AVGPOOL2D:
    case MCO_LAYER_GLOBAL_AVGPOOL: return plan_pool(b, layer);
    case MCO_LAYER_RELU:
    case MCO_LAYER_RELU6: return plan_clamp(b, layer);
    case MCO_LAYER_ADD: return plan_add(b, layer);
    case MCO_LAYER_CONCAT: return plan_concat(b, layer);
    case MCO_LAYER_SOFTMAX: return plan_softmax(b, layer);
    case MCO_LAYER_SIGMOID:
    case MCO_LAYER_TANH:
    case MCO_LAYER_LEAKY_RELU:
    case MCO_LAYER_HARD_SIGMOID:
    case MCO_LAYER_HARD_SWISH: return plan_activation(b, layer);
    case MCO_LAYER_FLATTEN:
    case MCO_LAYER_DROPOUT:
        b->layer_tensor[layer] = input_tensor(b, L->inputs[0]);
        return MCO_OK;
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: %s cannot be deployed (fold it first)", L->name,
                         mco_layer_type_name(L->type));
    }
}

/* The resource model's class the choice reads (none with MCO_PLAN_LISTED,
 * or when the options give no table: then the first kernel in the table's
 * order, and MCO_PLAN_SMALLEST by parameter bytes alone). The planner reads
 * no file: a caller that wants the shipped table loads it from its context
 * (mco_cost_model_load_context). */
static void choose_class(builder *b)
{
    const mco_plan_options *opt = b->opt;
    b->cls = NULL;
    if (opt->goal == MCO_PLAN_LISTED) return;
    const mco_cost_model *cm = opt->cost_model;
    if (!cm) return;
    b->cls = mco_cost_class_named(cm, opt->core_class ? opt->core_class : MCO_COST_DEFAULT_CLASS);
    for (int s = 0; b->cls && s < b->cls->n_symbols; s++)   /* the code every model links */
        b->linked[s] = (unsigned char)b->cls->symbols[s].base;
}

/* Places the tensors in the arena and fills the plan's offsets. */
static mco_status place_tensors(mco_plan *plan)
{
    int n = plan->n_tensors;
    uint32_t *sizes = malloc((size_t)n * sizeof *sizes), *offsets = malloc((size_t)n * sizeof *offsets);
    int *first = malloc((size_t)n * sizeof *first), *last = malloc((size_t)n * sizeof *last);
    mco_status st = MCO_OK;
    if (!sizes || !offsets || !first || !last) st = mco_plan_nomem();
    for (int i = 0; st == MCO_OK && i < n; i++) {
        /* tensors no op touches (e.g. the input of a model that is only Flatten) still get space */
        sizes[i] = plan->tensors[i].bytes;
        first[i] = plan->tensors[i].first_op;
        last[i] = plan->tensors[i].last_op;
    }
    /* a tensor overlaying another (an op run in place) takes no place of its
     * own: the one it overlays lives over both lifetimes, as large as both */
    for (int i = 0; st == MCO_OK && i < n; i++) {
        int base = plan->tensors[i].overlays;
        if (base < 0) continue;
        if (sizes[i] > sizes[base]) sizes[base] = sizes[i];
        if (first[i] < first[base]) first[base] = first[i];
        if (last[i] > last[base]) last[base] = last[i];
        sizes[i] = 0;
        first[i] = last[i] = -2;   /* conflicts with nothing */
    }
    if (st == MCO_OK) st = mco_memory_plan(n, sizes, first, last, offsets, &plan->arena_size);
    for (int i = 0; st == MCO_OK && i < n; i++)
        plan->tensors[i].offset = offsets[plan->tensors[i].overlays >= 0 ? plan->tensors[i].overlays : i];
    free(sizes);
    free(offsets);
    free(first);
    free(last);
    if (st != MCO_OK) return st;
    mco_op *ops = plan->ops;
    for (int k = 0; k < plan->n_ops; k++) {
        const mco_plan_op_info *info = &plan->info[k];
        ops[k].input = plan->tensors[info->input_tensor].offset;
        ops[k].input2 = info->input2_tensor >= 0 ? plan->tensors[info->input2_tensor].offset : 0;
        ops[k].output = plan->tensors[info->output_tensor].offset;
        ops[k].scratch = info->scratch_tensor >= 0 ? plan->tensors[info->scratch_tensor].offset : 0;
    }
    return MCO_OK;
}

static mco_status build(builder *b)
{
    const mco_deploy_model *dm = b->dm;
    mco_plan *plan = b->plan;
    const mco_model *m = &dm->model;
    if (m->n_layers < 1) return mco_error(MCO_ERR_ARG, "plan: the model has no layers");
    if (!dm->layers) return mco_error(MCO_ERR_ARG, "plan: the deploy model has no layer formats");
    choose_class(b);
    b->layer_tensor = malloc((size_t)m->n_layers * sizeof *b->layer_tensor);
    b->done = calloc((size_t)m->n_layers, 1);
    if (!b->layer_tensor || !b->done) return mco_plan_nomem();
    plan->input_tensor = add_tensor(b, m->input_shape, dm->input, -1);
    if (plan->input_tensor < 0) return mco_plan_nomem();
    for (int i = 0; i < m->n_layers; i++) {
        if (b->done[i]) continue;
        mco_status st = plan_layer(b, i);
        if (st != MCO_OK) return st;
    }
    plan->output_tensor = b->layer_tensor[m->n_layers - 1];
    plan->tensors[plan->output_tensor].last_op = plan->n_ops;
    if (plan->n_ops == 0) return mco_error(MCO_ERR_UNSUPPORTED, "plan: the model has no operations to run");
    mco_status st = place_tensors(plan);
    if (st != MCO_OK) return st;
    const mco_plan_tensor *tin = &plan->tensors[plan->input_tensor], *tout = &plan->tensors[plan->output_tensor];
    plan->input_offset = tin->offset;
    plan->output_offset = tout->offset;
    plan->input_size = (int32_t)mco_shape_size(tin->shape);
    plan->output_size = (int32_t)mco_shape_size(tout->shape);
    plan->input_type = tin->type;
    plan->output_type = tout->type;
    plan->input_q = tin->q;
    plan->output_q = tout->q;
    plan->input_bytes = tin->bytes;
    plan->output_bytes = tout->bytes;
    return MCO_OK;
}

mco_status mco_plan_build(const mco_deploy_model *dm, const mco_plan_options *opt, mco_plan *plan)
{
    if (!plan) return mco_error(MCO_ERR_ARG, "plan: NULL plan");
    memset(plan, 0, sizeof *plan);
    if (!dm) return mco_error(MCO_ERR_ARG, "plan: NULL model");
    mco_plan_options defaults;
    if (!opt) {
        mco_plan_options_default(&defaults);
        opt = &defaults;
    }
    if (opt->goal != MCO_PLAN_FASTEST && opt->goal != MCO_PLAN_SMALLEST && opt->goal != MCO_PLAN_LISTED)
        return mco_error(MCO_ERR_ARG, "plan: unknown goal %d", (int)opt->goal);
    builder *b = calloc(1, sizeof *b);
    if (!b) return mco_plan_nomem();
    b->plan = plan;
    b->dm = dm;
    b->opt = opt;
    mco_status st = build(b);
    free(b->layer_tensor);
    free(b->done);
    free(b->req_mult);
    free(b->req_shift);
    free(b->req_bias);
    free(b);
    if (st != MCO_OK) mco_plan_free(plan);
    return st;
}
