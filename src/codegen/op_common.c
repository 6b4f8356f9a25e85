/*
 * op_common.c - what several op descriptors share (op_desc.h): storing a
 * layer's weights and bias in a kernel's format, the int8 and hybrid
 * parameter structs with their per-channel arrays, the layer tests of
 * supports(), and the window counts the feature functions are made of.
 *
 * What it leaves out: anything only one kind does (it stays in that kind's
 * family file).
 */
#include <string.h>

#include "op_desc.h"

/* ---- weights and bias ----------------------------------------------------------- */

mco_status mco_prepare_sparse(mco_plan *plan, const mco_op_site *site, mco_sparse_order order, uint8_t **out,
                              size_t *bytes)
{
    const mco_deploy_layer *dl = site->dl;
    size_t size = site->L->params[MCO_PARAM_WEIGHTS].size;
    int32_t rows = site->n_out;
    if (!dl->weights_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int8 weights", site->L->name);
    if (rows < 1 || size % (size_t)rows != 0 || size / (size_t)rows > 0x7FFFFFFF)
        return mco_error(MCO_ERR_SHAPE, "layer %s: %zu weights do not split into %d rows", site->L->name, size,
                         (int)rows);
    int32_t cols = (int32_t)(size / (size_t)rows);
    int32_t n = mco_sparse_s8_pack(dl->weights_q, rows, cols, order, NULL, 0);
    if (n <= 0) return mco_error(MCO_ERR_RANGE, "layer %s: too large for the sparse weight form", site->L->name);
    uint8_t *packed = mco_plan_alloc(plan, (size_t)n);
    if (!packed) return mco_plan_nomem();
    if (mco_sparse_s8_pack(dl->weights_q, rows, cols, order, packed, n) != n)
        return mco_error(MCO_ERR_RANGE, "layer %s: sparse packing failed", site->L->name);
    *out = packed;
    *bytes = (size_t)n;
    return MCO_OK;
}

mco_status mco_prepare_weights(mco_plan *plan, const mco_op_site *site, mco_weight_store store, mco_op *op,
                               mco_plan_op_info *info)
{
    const mco_layer *L = site->L;
    const mco_deploy_layer *dl = site->dl;
    const mco_param *w = &L->params[MCO_PARAM_WEIGHTS];
    const mco_param *bias = L->n_params > MCO_PARAM_BIAS ? &L->params[MCO_PARAM_BIAS] : NULL;
    size_t n_out = (size_t)site->n_out, bytes = 0;
    void *weights = NULL;
    mco_status st;
    info->n_channels = site->n_out;
    switch (store) {
    case MCO_STORE_SPARSE_ROWS:
    case MCO_STORE_SPARSE_PAIRS: {
        uint8_t *packed = NULL;
        st = mco_prepare_sparse(plan, site, store == MCO_STORE_SPARSE_PAIRS ? MCO_SPARSE_ROW_PAIRS : MCO_SPARSE_ROWS,
                                &packed, &bytes);
        if (st != MCO_OK) return st;
        weights = packed;
        info->weights_type = MCO_DATA_U8;
        info->weights_count = bytes;
        break;
    }
    case MCO_STORE_S4: {
        if (!dl->weights_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int4 weights", L->name);
        bytes = (w->size + 1) / 2;
        uint8_t *packed = mco_plan_alloc(plan, bytes);
        if (!packed) return mco_plan_nomem();
        for (size_t i = 0; i < w->size; i++) mco_s4_set(packed, i, dl->weights_q[i]);
        weights = packed;
        info->weights_type = MCO_DATA_U8;
        info->weights_count = bytes;
        break;
    }
    case MCO_STORE_S8:
        if (!dl->weights_q) return mco_error(MCO_ERR_FORMAT, "layer %s: no int8 weights", L->name);
        bytes = w->size;
        weights = mco_plan_copy(plan, dl->weights_q, bytes);
        info->weights_type = MCO_DATA_S8;
        info->weights_count = w->size;
        break;
    case MCO_STORE_F16:
        if (!dl->weights_f16) return mco_error(MCO_ERR_FORMAT, "layer %s: no float16 weights", L->name);
        bytes = w->size * sizeof(uint16_t);
        weights = mco_plan_copy(plan, dl->weights_f16, bytes);
        info->weights_type = MCO_DATA_U16;
        info->weights_count = w->size;
        break;
    case MCO_STORE_F32:
        if (!w->data) return mco_error(MCO_ERR_FORMAT, "layer %s: no weights", L->name);
        bytes = w->size * sizeof(float);
        weights = mco_plan_copy(plan, w->data, bytes);
        info->weights_type = MCO_DATA_F32;
        info->weights_count = w->size;
        break;
    }
    if (!weights) return mco_plan_nomem();
    op->weights = weights;
    plan->param_bytes += bytes;

    if (site->s8) {
        if (!site->bias) return mco_error(MCO_ERR_FORMAT, "layer %s: no int32 bias", L->name);
        op->bias = mco_plan_copy(plan, site->bias, n_out * sizeof(int32_t));
        info->bias_type = MCO_DATA_S32;
    } else {
        float *fb = mco_plan_alloc(plan, n_out * sizeof(float));
        if (fb && bias && bias->data) memcpy(fb, bias->data, n_out * sizeof(float));
        op->bias = fb;
        info->bias_type = MCO_DATA_F32;
    }
    if (!op->bias) return mco_plan_nomem();
    info->bias_count = n_out;
    plan->param_bytes += n_out * 4;
    return MCO_OK;
}

/* ---- parameter structs -------------------------------------------------------------- */

/* The site's multipliers and shifts (n of them), copied into the plan. */
static mco_status copy_requant(mco_plan *plan, const mco_op_site *site, size_t n, const int32_t **mult,
                               const int32_t **shift)
{
    if (!site->multiplier || !site->shift)
        return mco_error(MCO_ERR_FORMAT, "layer %s: no requantization multipliers", site->L->name);
    *mult = mco_plan_copy(plan, site->multiplier, n * sizeof(int32_t));
    *shift = mco_plan_copy(plan, site->shift, n * sizeof(int32_t));
    if (!*mult || !*shift) return mco_plan_nomem();
    plan->param_bytes += 2 * n * sizeof(int32_t);
    return MCO_OK;
}

static mco_status copy_scales(mco_plan *plan, const mco_op_site *site, size_t n, const float **scales)
{
    if (!site->dl->weight_scales)
        return mco_error(MCO_ERR_FORMAT, "layer %s: no weight scales", site->L->name);
    *scales = mco_plan_copy(plan, site->dl->weight_scales, n * sizeof(float));
    if (!*scales) return mco_plan_nomem();
    plan->param_bytes += n * sizeof(float);
    return MCO_OK;
}

mco_status mco_prepare_conv_f32_op(mco_plan *plan, const mco_op_site *site, mco_op *op, mco_plan_op_info *info)
{
    mco_conv_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_conv_f32_params){site->win, site->f_min, site->f_max};
    op->params = p;
    info->params_type = MCO_PARAMS_CONV_F32;
    return MCO_OK;
}

mco_status mco_prepare_conv_s8_op(mco_plan *plan, const mco_op_site *site, mco_op *op, mco_plan_op_info *info)
{
    const int32_t *mult = NULL, *shift = NULL;
    mco_status st = copy_requant(plan, site, (size_t)site->n_out, &mult, &shift);
    if (st != MCO_OK) return st;
    mco_conv_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_conv_s8_params){site->win, -site->in_q.zero_point, site->out_q.zero_point, site->q_min, site->q_max,
                              mult, shift};
    op->params = p;
    info->params_type = MCO_PARAMS_CONV_S8;
    return MCO_OK;
}

mco_status mco_prepare_fc_s8_params(mco_plan *plan, const mco_op_site *site, mco_fc_s8_params **out)
{
    const int32_t *mult = NULL, *shift = NULL;
    mco_status st = copy_requant(plan, site, site->per_tensor ? 1 : (size_t)site->n_out, &mult, &shift);
    if (st != MCO_OK) return st;
    mco_fc_s8_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_fc_s8_params){site->in_size, site->n_out, -site->in_q.zero_point, site->out_q.zero_point,
                            site->q_min,   site->q_max, mult, shift, site->per_tensor};
    *out = p;
    return MCO_OK;
}

mco_status mco_prepare_conv_s8w_f32_params(mco_plan *plan, const mco_op_site *site, mco_conv_s8w_f32_params **out)
{
    const float *scales = NULL;
    mco_status st = copy_scales(plan, site, (size_t)site->n_out, &scales);
    if (st != MCO_OK) return st;
    mco_conv_s8w_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_conv_s8w_f32_params){site->win, site->f_min, site->f_max, scales};
    *out = p;
    return MCO_OK;
}

mco_status mco_prepare_fc_s8w_f32_params(mco_plan *plan, const mco_op_site *site, mco_fc_s8w_f32_params **out)
{
    const float *scales = NULL;
    mco_status st = copy_scales(plan, site, (size_t)site->n_out, &scales);
    if (st != MCO_OK) return st;
    mco_fc_s8w_f32_params *p = mco_plan_alloc(plan, sizeof *p);
    if (!p) return mco_plan_nomem();
    *p = (mco_fc_s8w_f32_params){site->in_size, site->n_out, site->f_min, site->f_max, scales};
    *out = p;
    return MCO_OK;
}

/* ---- supports() ------------------------------------------------------------------------ */

int mco_site_is(const mco_op_site *site, mco_layer_type type, int s8, int fused_pool)
{
    /* a general convolution runs only the kinds of op_conv_general.c */
    return site->L->type == type && site->s8 == s8 && (site->pool_layer >= 0) == fused_pool &&
           !mco_layer_is_general_conv(site->L);
}

int mco_site_weights(const mco_op_site *site, mco_weight_format a, mco_weight_format b)
{
    return site->dl->weight_format == a || site->dl->weight_format == b;
}

/* ---- features -------------------------------------------------------------------------- */

/* Kernel rows (or columns) of output position o that lie inside the input. */
static int32_t inside(int32_t o, int32_t in, int32_t kernel, int32_t stride, int32_t pad)
{
    int32_t start = o * stride - pad;
    int32_t lo = start < 0 ? -start : 0;
    int32_t hi = in - start < kernel ? in - start : kernel;
    return hi > lo ? hi - lo : 0;
}

/* Sums over the outputs [0, n) of one axis: kernel taps inside, and (for the
 * columns) the int8 values left to the 4-wide loop's tail, (taps * in_c) % 4. */
static void axis_sums(const mco_window *w, int rows, int32_t n, double *taps, double *tail)
{
    *taps = *tail = 0;
    for (int32_t o = 0; o < n; o++) {
        int32_t t = rows ? inside(o, w->in_h, w->kernel_h, w->stride_h, w->pad_top)
                         : inside(o, w->in_w, w->kernel_w, w->stride_w, w->pad_left);
        *taps += t;
        *tail += (double)((t * w->in_c) % 4);
    }
}

void mco_features_conv(const mco_window *w, int int8_dot, double *f)
{
    double rows, cols, row_tail, col_tail;
    axis_sums(w, 1, w->out_h, &rows, &row_tail);
    axis_sums(w, 0, w->out_w, &cols, &col_tail);
    f[MCO_COST_MACS] = (double)w->out_c * w->in_c * rows * cols;
    if (int8_dot) f[MCO_COST_TAIL_MACS] = (double)w->out_c * rows * col_tail;
    f[MCO_COST_LOOPS] = rows * w->out_w * w->out_c;
    f[MCO_COST_OUTPUTS] = (double)w->out_h * w->out_w * w->out_c;
}

void mco_features_window(const mco_window *w, int per_channel_loops, double *f)
{
    double rows, cols, unused;
    axis_sums(w, 1, w->out_h, &rows, &unused);
    axis_sums(w, 0, w->out_w, &cols, &unused);
    f[MCO_COST_MACS] = (double)w->out_c * rows * cols;
    f[MCO_COST_LOOPS] = per_channel_loops ? rows * w->out_w * w->out_c : (double)w->out_h * w->out_w;
    f[MCO_COST_OUTPUTS] = (double)w->out_h * w->out_w * w->out_c;
}

/* The conv + pool window counts (op_conv_pool.c) use `inside` too. */
int32_t mco_window_inside(int32_t o, int32_t in, int32_t kernel, int32_t stride, int32_t pad)
{
    return inside(o, in, kernel, stride, pad);
}
