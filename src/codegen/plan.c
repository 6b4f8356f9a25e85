/*
 * plan.c - mco_plan_build(): a deploy model becomes a list of runtime
 * kernel calls (mco_op) over one arena, with the kernels' parameter
 * structs, the weights in the kernels' storage formats, and arena offsets
 * from the liveness-based memory planner (memory_plan.c). The fusions and
 * the planner are described in include/codegen/mcuopt/codegen.h.
 *
 * The walk goes through the layers in order. A layer that was folded into
 * an earlier op (fused ReLU, the max pool of a fused conv+pool) is marked
 * `done` and only gets its output tensor recorded. Each op records which
 * tensors it reads and writes, which gives every tensor's lifetime.
 *
 * Pruned int8 layers: see sparse_kind() (sparse where smaller and not slower).
 *
 * What it leaves out: BatchNorm (must be folded first), a ReLU whose input
 * is also read by another layer (the in-place clamp would change it), int4
 * depthwise weights in packed form (they run on the int8 kernel unpacked).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/quant_multiplier.h"
#include "mco_hybrid.h"
#include "mco_op.h"
#include "mcuopt/codegen.h"

typedef struct {
    mco_plan *plan;
    const mco_deploy_model *dm;
    const mco_plan_options *opt;
    int *layer_tensor;   /* [n_layers] tensor holding each layer's output */
    char *done;          /* [n_layers] already folded into an earlier op */
    int cap_ops, cap_tensors;
} builder;

void mco_plan_options_default(mco_plan_options *opt)
{
    opt->fuse_conv_pool = 1;
    opt->fuse_activations = 1;
    opt->sparse_weights = 1;
}

/* ---- allocation ---------------------------------------------------------- */

/* Zeroed memory owned by the plan (freed by mco_plan_free); NULL when out of memory. */
static void *plan_alloc(mco_plan *plan, size_t size)
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

static void *plan_copy(mco_plan *plan, const void *src, size_t size)
{
    void *p = plan_alloc(plan, size);
    if (p && src) memcpy(p, src, size);
    return p;
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
    use_tensor(b, in, index);
    if (in2 >= 0) use_tensor(b, in2, index);
    use_tensor(b, out, index);
    b->layer_tensor[first_layer] = out;
    plan->n_ops++;
    return index;
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

/* ---- weighted layers ------------------------------------------------------ */

static mco_status nomem(void) { return mco_error(MCO_ERR_NOMEM, "plan: out of memory"); }

/* The kernel window of a conv / pool layer from its inferred shapes and its
 * padding before the data (mco_layer_pad_before: the runtime's
 * mco_window_init rule for "valid" / "same", the layer's own pads when
 * explicit; the runtime function is not called here because src/train
 * defines a function of that name too). */
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
        win->stride_w <= 0 || win->pad_top >= win->kernel_h || win->pad_left >= win->kernel_w)
        return mco_error(MCO_ERR_SHAPE, "layer %s: invalid window geometry", L->name);
    return MCO_OK;
}

/* Chooses the op kind of a Conv2D / DepthwiseConv2D / Dense. */
static mco_status weighted_kind(const builder *b, const mco_layer *L, mco_weight_format wf, int fuse_pool,
                                mco_op_kind *kind)
{
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    int conv = L->type == MCO_LAYER_CONV2D, dw = L->type == MCO_LAYER_DEPTHWISE_CONV2D;
    if (s8_act) {
        if (wf == MCO_WEIGHTS_S8)
            *kind = conv ? (fuse_pool ? MCO_OP_CONV2D_MAXPOOL_S8 : MCO_OP_CONV2D_S8)
                         : dw ? MCO_OP_DEPTHWISE_CONV2D_S8 : MCO_OP_FULLY_CONNECTED_S8;
        else if (wf == MCO_WEIGHTS_S4)
            *kind = conv ? MCO_OP_CONV2D_S4 : dw ? MCO_OP_DEPTHWISE_CONV2D_S8 : MCO_OP_FULLY_CONNECTED_S4;
        else
            return mco_error(MCO_ERR_UNSUPPORTED,
                             "layer %s: float weights with int8 activations are not supported "
                             "(quantize the layer's weights to int8 or int4)", L->name);
        return MCO_OK;
    }
    switch (wf) {
    case MCO_WEIGHTS_F32:
        *kind = conv ? (fuse_pool ? MCO_OP_CONV2D_MAXPOOL_F32 : MCO_OP_CONV2D_F32)
                     : dw ? MCO_OP_DEPTHWISE_CONV2D_F32 : MCO_OP_FULLY_CONNECTED_F32;
        break;
    case MCO_WEIGHTS_F16:
        *kind = conv ? MCO_OP_CONV2D_F16W : dw ? MCO_OP_DEPTHWISE_CONV2D_F16W : MCO_OP_FULLY_CONNECTED_F16W;
        break;
    default:   /* int8 or int4 weights, float activations: the hybrid kernels */
        *kind = conv ? MCO_OP_CONV2D_S8W_F32 : dw ? MCO_OP_DEPTHWISE_CONV2D_S8W_F32 : MCO_OP_FULLY_CONNECTED_S8W_F32;
        break;
    }
    return MCO_OK;
}

/* 1 if `pool` is a MaxPool2D 2x2 stride 2 "valid" the fused kernel implements. */
static int is_fusable_pool(const mco_layer *P)
{
    return P->type == MCO_LAYER_MAXPOOL2D && P->kernel_h == 2 && P->kernel_w == 2 && P->stride_h == 2 &&
           P->stride_w == 2 && P->padding == MCO_PADDING_VALID;
}

/* Stores the layer's weights and bias in the op's formats. */
static mco_status set_weights(builder *b, int layer, mco_op_kind kind, mco_op *op, mco_plan_op_info *info)
{
    mco_plan *plan = b->plan;
    const mco_layer *L = &b->dm->model.layers[layer];
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    const mco_param *w = &L->params[MCO_PARAM_WEIGHTS];
    const mco_param *bias = L->n_params > MCO_PARAM_BIAS ? &L->params[MCO_PARAM_BIAS] : NULL;
    size_t n_out = (size_t)info->n_channels;
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    size_t bytes;
    void *weights = NULL;

    if (kind == MCO_OP_FULLY_CONNECTED_SPARSE_S8 || kind == MCO_OP_CONV2D_MAXPOOL_SPARSE_S8) {
        int32_t rows = info->n_channels, cols = (int32_t)(w->size / (size_t)rows);
        mco_sparse_order order = kind == MCO_OP_FULLY_CONNECTED_SPARSE_S8 ? MCO_SPARSE_ROW_PAIRS : MCO_SPARSE_ROWS;
        int32_t n = mco_sparse_s8_pack(dl->weights_q, rows, cols, order, NULL, 0);
        uint8_t *packed = n > 0 ? plan_alloc(plan, (size_t)n) : NULL;
        if (!packed || mco_sparse_s8_pack(dl->weights_q, rows, cols, order, packed, n) != n) return nomem();
        weights = packed;
        bytes = (size_t)n;
        info->weights_type = MCO_DATA_U8;
        info->weights_count = bytes;
    } else if (kind == MCO_OP_CONV2D_S4 || kind == MCO_OP_FULLY_CONNECTED_S4) {
        if (!dl->weights_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int4 weights", L->name);
        bytes = (w->size + 1) / 2;
        uint8_t *packed = plan_alloc(plan, bytes);
        if (!packed) return nomem();
        for (size_t i = 0; i < w->size; i++) mco_s4_set(packed, i, dl->weights_q[i]);
        weights = packed;
        info->weights_type = MCO_DATA_U8;
        info->weights_count = bytes;
    } else if (dl->weight_format == MCO_WEIGHTS_S8 || dl->weight_format == MCO_WEIGHTS_S4) {
        if (!dl->weights_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int8 weights", L->name);
        bytes = w->size;
        weights = plan_copy(plan, dl->weights_q, bytes);
        info->weights_type = MCO_DATA_S8;
        info->weights_count = w->size;
    } else if (dl->weight_format == MCO_WEIGHTS_F16) {
        if (!dl->weights_f16) return mco_error(MCO_ERR_FORMAT, "layer %s: no float16 weights", L->name);
        bytes = w->size * sizeof(uint16_t);
        weights = plan_copy(plan, dl->weights_f16, bytes);
        info->weights_type = MCO_DATA_U16;
        info->weights_count = w->size;
    } else {
        if (!w->data) return mco_error(MCO_ERR_FORMAT, "layer %s: no weights", L->name);
        bytes = w->size * sizeof(float);
        weights = plan_copy(plan, w->data, bytes);
        info->weights_type = MCO_DATA_F32;
        info->weights_count = w->size;
    }
    if (!weights) return nomem();
    op->weights = weights;
    plan->param_bytes += bytes;

    if (s8_act) {
        if (!dl->bias_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int32 bias", L->name);
        op->bias = plan_copy(plan, dl->bias_q, n_out * sizeof(int32_t));
        info->bias_type = MCO_DATA_S32;
    } else {
        float *fb = plan_alloc(plan, n_out * sizeof(float));
        if (fb && bias && bias->data) memcpy(fb, bias->data, n_out * sizeof(float));
        op->bias = fb;
        info->bias_type = MCO_DATA_F32;
    }
    if (!op->bias) return nomem();
    info->bias_count = n_out;
    plan->param_bytes += n_out * 4;
    return MCO_OK;
}

/* The int8 requantization arrays, copied into the plan. */
static mco_status copy_requant(builder *b, int layer, size_t n, const int32_t **mult, const int32_t **shift)
{
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    if (!dl->multiplier || !dl->shift)
        return mco_error(MCO_ERR_FORMAT, "layer %s: no requantization multipliers",
                         b->dm->model.layers[layer].name);
    *mult = plan_copy(b->plan, dl->multiplier, n * sizeof(int32_t));
    *shift = plan_copy(b->plan, dl->shift, n * sizeof(int32_t));
    if (!*mult || !*shift) return nomem();
    b->plan->param_bytes += 2 * n * sizeof(int32_t);
    return MCO_OK;
}

static mco_status copy_scales(builder *b, int layer, size_t n, const float **scales)
{
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    if (!dl->weight_scales)
        return mco_error(MCO_ERR_FORMAT, "layer %s: no weight scales", b->dm->model.layers[layer].name);
    *scales = plan_copy(b->plan, dl->weight_scales, n * sizeof(float));
    if (!*scales) return nomem();
    b->plan->param_bytes += n * sizeof(float);
    return MCO_OK;
}

/* ---- sparse or dense: sparse_kind() ---------------------------------------
 *
 * A pruned int8 Dense or fused conv + max pool layer takes the sparse kernel
 * (runtime/mco_sparse.h) only where its weights are smaller in that form AND
 * the sparse kernel is estimated to run in no more instructions than the
 * dense kernel the layer would get. The estimates are instruction counts of
 * the DSP paths on a Cortex-M4 (GCC -O2), the cores the sparse kernels are
 * tuned for, as linear models fitted to exact QEMU counts (mnist-paper's
 * layers and random ones; each within a few % of the measured count):
 *   Dense, mco_fully_connected_s8: passes of 5 units (one unit per pass
 *     below 5 units), each DENSE_FC_GROUP per 4 inputs + 12 per leftover
 *     input + 30; 27 per output; 60 per call;
 *   Dense, sparse: mco_sparse_fc_s8_profile() on the packed weights (exact
 *     for the kernel's assembly, which depends only on the zero pattern);
 *   conv 3x3 one channel + pool, mco_conv3x3_maxpool2x2_s8 (its assembly
 *     path): 51.6 per pooled output and channel + 62 per channel + 2 per
 *     input pixel (the widening);
 *   general conv + pool, mco_conv2d_maxpool2x2_s8, per MAC of the four conv
 *     outputs of each pooled output: 4.5 on one input channel; with more,
 *     1.2 + 230 per conv output;
 *   sparse conv + pool, per filter with non-zeros: on one input channel at
 *     stride 1 (tap pairs, 4 outputs per step) 58 per pooled output + 19.5
 *     per tap pair and 4-output step; else 118 per pooled output + 6.9 per
 *     non-zero MAC; a filter without non-zeros 10 per pooled output.
 * So at 50 % the first 3x3 conv of mnist-paper stays on the specialised dense
 * kernel (sparse: about 2.3x its instructions), and the sparse Dense kernel
 * is taken while its count is below the dense kernel's.
 * DENSE_FC_GROUP follows mco_fully_connected_s8's inner loop (33 instructions
 * per 4 inputs and 5 units); re-measure it when that loop changes. */
#define DENSE_FC_GROUP 33.0

static double dense_fc_instructions(int32_t rows, int32_t cols)
{
    double passes = rows < 5 ? rows : ceil(rows / 5.0);
    return passes * (DENSE_FC_GROUP * (cols / 4) + 12.0 * (cols % 4) + 30.0) + 27.0 * rows + 60.0;
}

/* The sparse Dense kernel's instructions (packs the weights to profile
 * them); -1 if it cannot run them. */
static double sparse_fc_instructions(const int8_t *weights, int32_t rows, int32_t cols)
{
    int32_t n = mco_sparse_s8_pack(weights, rows, cols, MCO_SPARSE_ROW_PAIRS, NULL, 0);
    uint8_t *packed = n > 0 ? malloc((size_t)n) : NULL;
    mco_sparse_fc_profile pr;
    double insns = -1;
    if (packed && mco_sparse_s8_pack(weights, rows, cols, MCO_SPARSE_ROW_PAIRS, packed, n) == n &&
        mco_sparse_fc_s8_profile(packed, (size_t)n, rows, cols, &pr) == 0)
        insns = (double)pr.instructions;
    free(packed);
    return insns;
}

static double dense_conv_pool_instructions(mco_op_kind kind, const mco_window *w, int32_t cols)
{
    double pooled = (double)(w->out_h / 2) * (w->out_w / 2) * w->out_c;
    if (kind == MCO_OP_CONV3X3_MAXPOOL_S8) return 51.6 * pooled + 62.0 * w->out_c + 2.0 * w->in_h * w->in_w;
    if (w->in_c == 1) return 4.5 * 4.0 * pooled * cols;
    return 4.0 * pooled * (1.2 * cols + 230.0);
}

static double sparse_conv_pool_instructions(const mco_window *w, const int8_t *weights, int32_t cols)
{
    double ph = w->out_h / 2, pw = w->out_w / 2, insns = 0;
    int paired = w->in_c == 1 && w->stride_h == 1 && w->stride_w == 1 && pw >= 2;
    for (int32_t r = 0; r < w->out_c; r++) {
        int32_t taps = 0;
        for (int32_t c = 0; c < cols; c++) taps += weights[(size_t)r * (size_t)cols + (size_t)c] != 0;
        if (taps == 0) insns += 10.0 * ph * pw;
        else if (paired) insns += 58.0 * ph * pw + 19.5 * ((taps + 1) / 2) * 2.0 * ceil(pw / 2) * ph;
        else insns += 118.0 * ph * pw + 6.9 * 4.0 * ph * pw * taps;
    }
    return insns;
}

/* The sparse kind for an int8 Dense (kind FULLY_CONNECTED_S8) or fused
 * conv + max pool op (CONV2D_MAXPOOL_S8, CONV3X3_MAXPOOL_S8) with int8
 * weights [rows][cols], when its weights are smaller in the sparse form, its
 * kernel can run them (Dense: at most MCO_SPARSE_FC_MAX_IN inputs; conv:
 * "valid" padding, multipliers >= 0, at most MCO_SPARSE_MAX_TAPS non-zeros
 * per filter, pooled width <= 64) and it is estimated no slower (above);
 * otherwise `kind`. */
static mco_op_kind sparse_kind(const builder *b, const mco_deploy_layer *dl, mco_op_kind kind,
                               const mco_conv_s8_params *conv, int32_t rows, size_t size)
{
    int fc = kind == MCO_OP_FULLY_CONNECTED_S8;
    if (!b->opt->sparse_weights || dl->weight_format != MCO_WEIGHTS_S8 || !dl->weights_q || rows < 1 ||
        (!fc && kind != MCO_OP_CONV2D_MAXPOOL_S8 && kind != MCO_OP_CONV3X3_MAXPOOL_S8) || size / (size_t)rows > 0x7FFFFFFF)
        return kind;
    int32_t cols = (int32_t)(size / (size_t)rows);
    if (fc) {
        int32_t bytes = mco_sparse_s8_pack(dl->weights_q, rows, cols, MCO_SPARSE_ROW_PAIRS, NULL, 0);
        if (bytes < 0 || (size_t)bytes >= size || cols > MCO_SPARSE_FC_MAX_IN) return kind;
        double insns = sparse_fc_instructions(dl->weights_q, rows, cols);
        return insns >= 0 && insns <= dense_fc_instructions(rows, cols) ? MCO_OP_FULLY_CONNECTED_SPARSE_S8 : kind;
    }
    size_t nonzeros = 0, most = 0;
    for (int32_t r = 0; r < rows; r++) {
        size_t row_nonzeros = 0;
        for (int32_t c = 0; c < cols; c++) row_nonzeros += dl->weights_q[(size_t)r * (size_t)cols + (size_t)c] != 0;
        nonzeros += row_nonzeros;
        if (row_nonzeros > most) most = row_nonzeros;
    }
    if (mco_sparse_s8_bytes(rows, cols, nonzeros) >= size) return kind;
    const mco_window *w = &conv->win;
    if (w->pad_top != 0 || w->pad_left != 0 || w->out_w / 2 > 64 || most > MCO_SPARSE_MAX_TAPS) return kind;
    for (int32_t c = 0; c < w->out_c; c++)
        if (conv->multiplier[c] < 0) return kind;
    if (sparse_conv_pool_instructions(w, dl->weights_q, cols) > dense_conv_pool_instructions(kind, w, cols))
        return kind;
    return MCO_OP_CONV2D_MAXPOOL_SPARSE_S8;
}

/* A Conv2D / Dense output channel whose int8 weights are all zero (a
 * pruned-away filter) always outputs the requantized bias r. The quantizer
 * gives such a channel weight scale 1, so its shift can be >= 0, which the
 * specialised kernels refuse; this rewrites its multiplier and shift (the
 * op's own copies) into 2^30 and -1 and returns the biases with its bias
 * replaced by 4 r: requantizing 4 r by 1/4 is exact, and r is first limited
 * to [-256, 255], beyond which the output clamp gives the same int8.
 * Returns NULL (and changes nothing) when no channel needs it. */
static int32_t *constant_channels(builder *b, int layer, int32_t n_out, int32_t *mult, int32_t *shift)
{
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    size_t cols = b->dm->model.layers[layer].params[MCO_PARAM_WEIGHTS].size / (size_t)n_out;
    int32_t *bias = NULL;
    if (!dl->weights_q || !dl->bias_q || (dl->weight_format != MCO_WEIGHTS_S8 && dl->weight_format != MCO_WEIGHTS_S4))
        return NULL;
    for (int32_t c = 0; c < n_out; c++) {
        size_t j = 0;
        while (j < cols && dl->weights_q[(size_t)c * cols + j] == 0) j++;
        if (j < cols || (shift[c] <= -1 && mult[c] >= 0)) continue;
        if (!bias && !(bias = plan_copy(b->plan, dl->bias_q, (size_t)n_out * sizeof *bias))) return NULL;
        int32_t r = mco_requantize(dl->bias_q[c], mult[c], shift[c]);
        r = r < -256 ? -256 : (r > 255 ? 255 : r);
        bias[c] = 4 * r;
        mult[c] = 1 << 30;
        shift[c] = -1;
    }
    return bias;
}

/* The specialised 3x3 conv + pool kernel reads prepared words per channel
 * (bias, input offset, multiplier and shift folded) in place of the bias,
 * and no multiplier or shift arrays. */
static mco_status prepare_conv3x3(builder *b, mco_op *op, mco_plan_op_info *info)
{
    mco_conv_s8_params *p = (mco_conv_s8_params *)op->params;
    size_t n = (size_t)info->n_channels, words = n * MCO_CONV3X3_REQUANT_WORDS;
    int32_t *requant = plan_alloc(b->plan, words * sizeof *requant);
    if (!requant) return nomem();
    if (!mco_conv3x3_maxpool2x2_s8_prepare(p, op->weights, op->bias, requant))
        return mco_error(MCO_ERR_UNSUPPORTED, "conv3x3 kernel: prepare declined a layer it had accepted");
    op->bias = requant;
    info->bias_count = words;
    b->plan->param_bytes = b->plan->param_bytes + words * sizeof *requant - 3 * n * sizeof(int32_t);
    p->multiplier = NULL;
    p->shift = NULL;
    return MCO_OK;
}

/* Conv2D, DepthwiseConv2D, Dense, with a fused ReLU and (conv) max pool. */
static mco_status plan_weighted(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    int in = input_tensor(b, L->inputs[0]);
    mco_qparams in_q = b->plan->tensors[in].q;
    mco_qparams out_q = dl->output;
    mco_status st;
    int act_layer = fused_activation(b, layer);
    int act_type = act_layer >= 0 ? (int)m->layers[act_layer].type : -1;
    if (act_layer >= 0 && (st = check_same_q(b, act_layer, out_q)) != MCO_OK) return st;
    int last = act_layer >= 0 ? act_layer : layer;
    int pool_layer = sole_consumer(m, last);
    if (!b->opt->fuse_conv_pool || L->type != MCO_LAYER_CONV2D || pool_layer < 0 ||
        !is_fusable_pool(&m->layers[pool_layer]) ||
        dl->weight_format != (s8_act ? MCO_WEIGHTS_S8 : MCO_WEIGHTS_F32))
        pool_layer = -1;
    if (pool_layer >= 0) {
        if ((st = check_same_q(b, pool_layer, out_q)) != MCO_OK) return st;
        last = pool_layer;
    }
    mco_op_kind kind = MCO_OP_CONV2D_F32;
    if ((st = weighted_kind(b, L, dl->weight_format, pool_layer >= 0, &kind)) != MCO_OK) return st;

    int op_index = add_op(b, kind, layer, last, in, -1, m->layers[last].out_shape, out_q, -1);
    if (op_index < 0) return nomem();
    mark_fused(b, act_layer, op_index);
    mark_fused(b, pool_layer, op_index);
    mco_op *op = &((mco_op *)b->plan->ops)[op_index];
    mco_plan_op_info *info = &b->plan->info[op_index];
    int32_t n_out = L->type == MCO_LAYER_DENSE ? (int32_t)L->units : (int32_t)L->out_shape.c;
    info->n_channels = n_out;
    act_range r = activation_range(act_type, out_q);
    int dense = L->type == MCO_LAYER_DENSE;
    mco_window win;
    memset(&win, 0, sizeof win);
    if (!dense && (st = window_for(L, n_out, &win)) != MCO_OK) return st;
    int32_t in_size = (int32_t)mco_shape_size(L->in_shape);

    const int32_t *constant_bias = NULL;   /* replaced biases of all-zero channels */
    if (s8_act) {
        const int32_t *mult = NULL, *shift = NULL;
        /* A Dense layer with one weight scale keeps one multiplier and shift. */
        int per_tensor = dense && !dl->per_channel;
        if ((st = copy_requant(b, layer, per_tensor ? 1 : (size_t)n_out, &mult, &shift)) != MCO_OK) return st;
        if (L->type != MCO_LAYER_DEPTHWISE_CONV2D && !per_tensor)
            constant_bias = constant_channels(b, layer, n_out, (int32_t *)mult, (int32_t *)shift);
        if (dense) {
            mco_fc_s8_params *p = plan_alloc(b->plan, sizeof *p);
            if (!p) return nomem();
            *p = (mco_fc_s8_params){in_size, n_out, -in_q.zero_point, out_q.zero_point, r.q_min, r.q_max, mult, shift,
                                    per_tensor};
            op->params = p;
            kind = op->kind = sparse_kind(b, dl, kind, NULL, n_out, L->params[MCO_PARAM_WEIGHTS].size);
            info->params_type = MCO_PARAMS_FC_S8;
        } else {
            mco_conv_s8_params *p = plan_alloc(b->plan, sizeof *p);
            if (!p) return nomem();
            *p = (mco_conv_s8_params){win, -in_q.zero_point, out_q.zero_point, r.q_min, r.q_max, mult, shift};
            op->params = p;
            if (kind == MCO_OP_CONV2D_MAXPOOL_S8 && dl->weights_q && dl->bias_q &&
                mco_conv3x3_maxpool2x2_s8_prepare(p, dl->weights_q, constant_bias ? constant_bias : dl->bias_q, NULL))
                kind = op->kind = MCO_OP_CONV3X3_MAXPOOL_S8;
            kind = op->kind = sparse_kind(b, dl, kind, p, n_out, L->params[MCO_PARAM_WEIGHTS].size);
            info->params_type = MCO_PARAMS_CONV_S8;
        }
    } else if (kind == MCO_OP_CONV2D_S8W_F32 || kind == MCO_OP_DEPTHWISE_CONV2D_S8W_F32 ||
               kind == MCO_OP_FULLY_CONNECTED_S8W_F32) {
        const float *scales = NULL;
        if ((st = copy_scales(b, layer, (size_t)n_out, &scales)) != MCO_OK) return st;
        if (dense) {
            mco_fc_s8w_f32_params *p = plan_alloc(b->plan, sizeof *p);
            if (!p) return nomem();
            *p = (mco_fc_s8w_f32_params){in_size, n_out, r.f_min, r.f_max, scales};
            op->params = p;
            info->params_type = MCO_PARAMS_FC_S8W_F32;
        } else {
            mco_conv_s8w_f32_params *p = plan_alloc(b->plan, sizeof *p);
            if (!p) return nomem();
            *p = (mco_conv_s8w_f32_params){win, r.f_min, r.f_max, scales};
            op->params = p;
            info->params_type = MCO_PARAMS_CONV_S8W_F32;
        }
    } else if (dense) {
        mco_fc_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_fc_f32_params){in_size, n_out, r.f_min, r.f_max};
        op->params = p;
        info->params_type = MCO_PARAMS_FC_F32;
    } else {
        mco_conv_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_conv_f32_params){win, r.f_min, r.f_max};
        op->params = p;
        info->params_type = MCO_PARAMS_CONV_F32;
    }
    if ((st = set_weights(b, layer, kind, op, info)) != MCO_OK) return st;
    if (constant_bias) memcpy((int32_t *)op->bias, constant_bias, (size_t)n_out * sizeof *constant_bias);
    if (kind == MCO_OP_CONV3X3_MAXPOOL_S8) return prepare_conv3x3(b, op, info);
    return MCO_OK;
}

/* ---- other layers ---------------------------------------------------------- */

/* TFLite's MEAN: an int8 global average pool that carries its own
 * requantization (an imported model's; mco_mean_s8). */
static mco_status plan_mean(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    const mco_deploy_layer *dl = &b->dm->layers[layer];
    int in = input_tensor(b, L->inputs[0]);
    mco_qparams in_q = b->plan->tensors[in].q, out_q = dl->output;
    mco_window win;
    mco_status st = window_for(L, L->in_shape.c, &win);
    if (st != MCO_OK) return st;
    int op_index = add_op(b, MCO_OP_MEAN_S8, layer, layer, in, -1, L->out_shape, out_q, -1);
    if (op_index < 0) return nomem();
    mco_mean_s8_params *p = plan_alloc(b->plan, sizeof *p);
    if (!p) return nomem();
    *p = (mco_mean_s8_params){win, -in_q.zero_point, out_q.zero_point, 0, 0, -128, 127};
    st = mco_quant_mean_params(dl->multiplier[0], dl->shift[0], (int64_t)win.in_h * win.in_w, &p->multiplier, &p->shift);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", L->name, mco_last_error());
    ((mco_op *)b->plan->ops)[op_index].params = p;
    b->plan->info[op_index].params_type = MCO_PARAMS_MEAN_S8;
    return MCO_OK;
}

static mco_status plan_pool(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    if (s8_act && L->type == MCO_LAYER_GLOBAL_AVGPOOL && b->dm->layers[layer].multiplier) return plan_mean(b, layer);
    int in = input_tensor(b, L->inputs[0]);
    mco_qparams q = b->plan->tensors[in].q;
    mco_status st = check_same_q(b, layer, q);
    if (st != MCO_OK) return st;
    mco_window win;
    if ((st = window_for(L, L->in_shape.c, &win)) != MCO_OK) return st;
    mco_op_kind kind;
    if (L->type == MCO_LAYER_MAXPOOL2D) kind = s8_act ? MCO_OP_MAX_POOL_S8 : MCO_OP_MAX_POOL_F32;
    else if (L->type == MCO_LAYER_AVGPOOL2D) kind = s8_act ? MCO_OP_AVG_POOL_S8 : MCO_OP_AVG_POOL_F32;
    else kind = s8_act ? MCO_OP_GLOBAL_AVG_POOL_S8 : MCO_OP_GLOBAL_AVG_POOL_F32;
    int op_index = add_op(b, kind, layer, layer, in, -1, L->out_shape, q, -1);
    if (op_index < 0) return nomem();
    mco_op *op = &((mco_op *)b->plan->ops)[op_index];
    mco_plan_op_info *info = &b->plan->info[op_index];
    if (s8_act) {
        mco_pool_s8_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_pool_s8_params){win, -128, 127};
        op->params = p;
        info->params_type = MCO_PARAMS_POOL_S8;
    } else if (kind == MCO_OP_GLOBAL_AVG_POOL_F32) {
        op->params = plan_copy(b->plan, &win, sizeof win);
        if (!op->params) return nomem();
        info->params_type = MCO_PARAMS_WINDOW;
    } else {
        mco_conv_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_conv_f32_params){win, -FLT_MAX, FLT_MAX};
        op->params = p;
        info->params_type = MCO_PARAMS_CONV_F32;
    }
    return MCO_OK;
}

/* A ReLU / ReLU6 not fused into its producer: a clamp in place. */
static mco_status plan_clamp(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    int in = input_tensor(b, L->inputs[0]);
    mco_qparams q = b->plan->tensors[in].q;
    mco_status st = check_same_q(b, layer, q);
    if (st != MCO_OK) return st;
    if (!tensor_has_one_reader(m, L->inputs[0]))
        return mco_error(MCO_ERR_UNSUPPORTED,
                         "layer %s: a %s whose input is also read by other layers is not supported",
                         L->name, mco_layer_type_name(L->type));
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    int op_index = add_op(b, s8_act ? MCO_OP_CLAMP_S8 : MCO_OP_CLAMP_F32, layer, layer, in, -1, L->out_shape, q, in);
    if (op_index < 0) return nomem();
    mco_op *op = &((mco_op *)b->plan->ops)[op_index];
    mco_plan_op_info *info = &b->plan->info[op_index];
    act_range r = activation_range((int)L->type, q);
    int32_t size = (int32_t)mco_shape_size(L->out_shape);
    if (s8_act) {
        mco_clamp_s8_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_clamp_s8_params){size, r.q_min, r.q_max};
        op->params = p;
        info->params_type = MCO_PARAMS_CLAMP_S8;
    } else {
        mco_clamp_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_clamp_f32_params){size, r.f_min, r.f_max};
        op->params = p;
        info->params_type = MCO_PARAMS_CLAMP_F32;
    }
    return MCO_OK;
}

static mco_status quantize_multiplier(const mco_layer *L, double real, int32_t *mult, int32_t *shift)
{
    mco_status st = mco_quantize_multiplier(real, mult, shift);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", L->name, mco_last_error());
    return MCO_OK;
}

/* Add with a fused ReLU; int8 as TFLite (left shift 20, rescaled inputs). */
static mco_status plan_add(builder *b, int layer)
{
    const mco_model *m = &b->dm->model;
    const mco_layer *L = &m->layers[layer];
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    int in1 = input_tensor(b, L->inputs[0]), in2 = input_tensor(b, L->inputs[1]);
    mco_qparams q1 = b->plan->tensors[in1].q, q2 = b->plan->tensors[in2].q;
    mco_qparams out_q = b->dm->layers[layer].output;
    mco_status st;
    int act_layer = fused_activation(b, layer);
    int act_type = act_layer >= 0 ? (int)m->layers[act_layer].type : -1;
    if (act_layer >= 0 && (st = check_same_q(b, act_layer, out_q)) != MCO_OK) return st;
    int op_index = add_op(b, s8_act ? MCO_OP_ADD_S8 : MCO_OP_ADD_F32, layer, act_layer >= 0 ? act_layer : layer,
                          in1, in2, L->out_shape, out_q, -1);
    if (op_index < 0) return nomem();
    mark_fused(b, act_layer, op_index);
    mco_op *op = &((mco_op *)b->plan->ops)[op_index];
    mco_plan_op_info *info = &b->plan->info[op_index];
    act_range r = activation_range(act_type, out_q);
    int32_t size = (int32_t)mco_shape_size(L->out_shape);
    if (!s8_act) {
        mco_clamp_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_clamp_f32_params){size, r.f_min, r.f_max};
        op->params = p;
        info->params_type = MCO_PARAMS_CLAMP_F32;
        return MCO_OK;
    }
    if (!(q1.scale > 0.0f) || !(q2.scale > 0.0f) || !(out_q.scale > 0.0f))
        return mco_error(MCO_ERR_FORMAT, "layer %s: missing quantization scales", L->name);
    mco_add_s8_params *p = plan_alloc(b->plan, sizeof *p);
    if (!p) return nomem();
    double twice_max = 2.0 * fmax((double)q1.scale, (double)q2.scale);
    p->size = size;
    p->input1_offset = -q1.zero_point;
    p->input2_offset = -q2.zero_point;
    p->left_shift = 20;
    p->output_offset = out_q.zero_point;
    p->act_min = r.q_min;
    p->act_max = r.q_max;
    if ((st = quantize_multiplier(L, (double)q1.scale / twice_max, &p->input1_multiplier, &p->input1_shift)) != MCO_OK ||
        (st = quantize_multiplier(L, (double)q2.scale / twice_max, &p->input2_multiplier, &p->input2_shift)) != MCO_OK ||
        (st = quantize_multiplier(L, twice_max / ((double)(1 << 20) * (double)out_q.scale), &p->output_multiplier,
                                  &p->output_shift)) != MCO_OK)
        return st;
    op->params = p;
    info->params_type = MCO_PARAMS_ADD_S8;
    return MCO_OK;
}

static mco_status plan_softmax(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    int s8_act = b->dm->activation_format == MCO_ACT_S8;
    int in = input_tensor(b, L->inputs[0]);
    mco_qparams in_q = b->plan->tensors[in].q;
    mco_qparams out_q = {1.0f / 256.0f, -128};   /* fixed by the int8 softmax kernel */
    int32_t row = (int32_t)L->in_shape.c, rows = (int32_t)(mco_shape_size(L->in_shape) / (size_t)L->in_shape.c);
    int op_index = add_op(b, s8_act ? MCO_OP_SOFTMAX_S8 : MCO_OP_SOFTMAX_F32, layer, layer, in, -1, L->out_shape,
                          out_q, -1);
    if (op_index < 0) return nomem();
    mco_op *op = &((mco_op *)b->plan->ops)[op_index];
    mco_plan_op_info *info = &b->plan->info[op_index];
    if (!s8_act) {
        if (rows != 1) return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: float softmax over more than one row", L->name);
        mco_clamp_f32_params *p = plan_alloc(b->plan, sizeof *p);
        if (!p) return nomem();
        *p = (mco_clamp_f32_params){row, 0.0f, 0.0f};
        op->params = p;
        info->params_type = MCO_PARAMS_CLAMP_F32;
        return MCO_OK;
    }
    mco_softmax_s8_params *p = plan_alloc(b->plan, sizeof *p);
    if (!p) return nomem();
    p->n_rows = rows;
    p->row_size = row;
    mco_status st = mco_quant_softmax_params((double)in_q.scale, &p->input_multiplier, &p->input_left_shift,
                                             &p->diff_min);
    if (st != MCO_OK) return mco_error(st, "layer %s: %s", L->name, mco_last_error());
    op->params = p;
    info->params_type = MCO_PARAMS_SOFTMAX_S8;
    return MCO_OK;
}

/* ---- the walk --------------------------------------------------------------- */

static mco_status plan_layer(builder *b, int layer)
{
    const mco_layer *L = &b->dm->model.layers[layer];
    switch (L->type) {
    case MCO_LAYER_CONV2D:
    case MCO_LAYER_DEPTHWISE_CONV2D:
    case MCO_LAYER_DENSE: return plan_weighted(b, layer);
    case MCO_LAYER_MAXPOOL2D:
    case MCO_LAYER_AVGPOOL2D:
    case MCO_LAYER_GLOBAL_AVGPOOL: return plan_pool(b, layer);
    case MCO_LAYER_RELU:
    case MCO_LAYER_RELU6: return plan_clamp(b, layer);
    case MCO_LAYER_ADD: return plan_add(b, layer);
    case MCO_LAYER_SOFTMAX: return plan_softmax(b, layer);
    case MCO_LAYER_FLATTEN:
    case MCO_LAYER_DROPOUT:
        b->layer_tensor[layer] = input_tensor(b, L->inputs[0]);
        return MCO_OK;
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: %s cannot be deployed (fold it first)", L->name,
                         mco_layer_type_name(L->type));
    }
}

/* Places the tensors in the arena and fills the plan's offsets. */
static mco_status place_tensors(mco_plan *plan)
{
    int n = plan->n_tensors;
    uint32_t *sizes = malloc((size_t)n * sizeof *sizes), *offsets = malloc((size_t)n * sizeof *offsets);
    int *first = malloc((size_t)n * sizeof *first), *last = malloc((size_t)n * sizeof *last);
    mco_status st = MCO_OK;
    if (!sizes || !offsets || !first || !last) st = nomem();
    for (int i = 0; st == MCO_OK && i < n; i++) {
        /* tensors no op touches (e.g. the input of a model that is only Flatten) still get space */
        sizes[i] = plan->tensors[i].bytes;
        first[i] = plan->tensors[i].first_op;
        last[i] = plan->tensors[i].last_op;
    }
    if (st == MCO_OK) st = mco_memory_plan(n, sizes, first, last, offsets, &plan->arena_size);
    for (int i = 0; st == MCO_OK && i < n; i++) plan->tensors[i].offset = offsets[i];
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
    b->layer_tensor = malloc((size_t)m->n_layers * sizeof *b->layer_tensor);
    b->done = calloc((size_t)m->n_layers, 1);
    if (!b->layer_tensor || !b->done) return nomem();
    plan->input_tensor = add_tensor(b, m->input_shape, dm->input, -1);
    if (plan->input_tensor < 0) return nomem();
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
    builder b = {plan, dm, opt, NULL, NULL, 0, 0};
    mco_status st = build(&b);
    free(b.layer_tensor);
    free(b.done);
    if (st != MCO_OK) mco_plan_free(plan);
    return st;
}
