/*
 * fast_layer.c - Conv2D, DepthwiseConv2D and Dense on oneDNN (see
 * fast_layer.h).
 *
 * All three are the same three oneDNN operations (forward, backward data,
 * backward weights) with different descriptions, so one "plan" holds them
 * for one batch size and only describe() knows the layer types:
 *   Conv2D           oneDNN convolution, weights dims {O, I, KH, KW}, ours OHWI (tag ohwi)
 *   DepthwiseConv2D  grouped convolution with C groups of one channel,
 *                    weights dims {C, 1, 1, KH, KW}, ours [KH][KW][C] (tag hwigo)
 *   Dense            inner product on the flattened NHWC input, weights {units, in}
 *                    (tag oi, our [units][in])
 * Activations stay NHWC (our layout: the other layers read them), while the
 * weights go to whatever layout oneDNN's fastest kernel wants (format
 * "any"): a reorder before each forward and backward (the weights change
 * every step and are small), and the weight gradient is reordered back onto
 * our layout by a reorder with a sum post-op, which adds it to the
 * gradient as layer_ops.h asks. Asked for our own weight layout instead,
 * oneDNN 2.6 falls back to its slow reference kernels (measured: about 500x
 * slower on resnet8's 3x3 convolutions).
 *
 * Scratchpads are ours (scratchpad mode "user"), allocated with the plan,
 * so executing a primitive allocates nothing.
 *
 * What it leaves out: see fast_layer.h.
 */
#include "fast_layer.h"

#include <stdlib.h>
#include <string.h>

#include "fast_dnnl.h"
#include "vec.h"


/* The oneDNN objects of one batch size. Activation memories have no data
 * of their own: their handles are set to the caller's tensors at each call. */
typedef struct {
    int batch;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_primitive_t w_to_fwd, w_to_bwd, dw_to_user; /* reorders; NULL where no reorder is needed */
    dnnl_memory_t src, dst, diff_src, diff_dst;
    dnnl_memory_t w_user, w_fwd, w_bwd, dw_lib, dw_user, bias, diff_bias;
    dnnl_memory_t scratch_fwd, scratch_bwd_data, scratch_bwd_weights; /* NULL if not needed */
} plan;

struct mco_fast_layer {
    mco_layer_type type;
    int training;
    int fuse_relu;        /* the forward applies a ReLU (an eltwise post-op) */
    int max_batch;
    size_t in_size, out_size, bias_size; /* floats per sample; bias floats */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int n_plans;
    plan plans[MCO_FAST_MAX_PLANS];
    float *diff_src_tmp;  /* max_batch samples of input gradient, added to the caller's */
    float *diff_bias_tmp; /* the bias gradient, added to the caller's */
    mco_fast_bn *bn;      /* BatchNorm: everything is in there (fast_batchnorm.c) */
};

/* The memory and operation descriptions of a layer at one batch size. */
typedef union {
    dnnl_convolution_desc_t conv;
    dnnl_inner_product_desc_t ip;
} op_desc;

typedef struct {
    dnnl_memory_desc_t src, dst, weights_any, weights_user, bias;
    op_desc fwd, bwd_data, bwd_weights;
} layer_descs;

int mco_fast_layer_supported(const mco_layer *layer)
{
    if (mco_layer_is_general_conv(layer)) return 0;   /* the reference loops, layer_conv_general.c */
    return layer->type == MCO_LAYER_CONV2D || layer->type == MCO_LAYER_DEPTHWISE_CONV2D ||
           layer->type == MCO_LAYER_DENSE || layer->type == MCO_LAYER_BATCHNORM;
}

static dnnl_status_t describe(const mco_layer *layer, int batch, int training, layer_descs *d)
{
    const dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_status_t st;
    if (layer->type == MCO_LAYER_DENSE) {
        dnnl_dims_t src = {batch, (dnnl_dim_t)mco_shape_size(layer->in_shape)};
        dnnl_dims_t dst = {batch, layer->out_shape.c}, w = {layer->out_shape.c, src[1]}, b = {layer->out_shape.c};
        if ((st = dnnl_memory_desc_init_by_tag(&d->src, 2, src, dnnl_f32, dnnl_nc)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->dst, 2, dst, dnnl_f32, dnnl_nc)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->weights_any, 2, w, dnnl_f32, dnnl_format_tag_any)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->weights_user, 2, w, dnnl_f32, dnnl_oi)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->bias, 1, b, dnnl_f32, dnnl_x)))
            return st;
        if ((st = dnnl_inner_product_forward_desc_init(&d->fwd.ip, prop, &d->src, &d->weights_any, &d->bias,
                                                       &d->dst)) ||
            (st = dnnl_inner_product_backward_data_desc_init(&d->bwd_data.ip, &d->src, &d->weights_any, &d->dst)))
            return st;
        return dnnl_inner_product_backward_weights_desc_init(&d->bwd_weights.ip, &d->src, &d->weights_any,
                                                             &d->bias, &d->dst);
    }

    mco_train_window g;
    mco_train_window_init(layer, &g);
    dnnl_dims_t src = {batch, g.in_c, g.in_h, g.in_w}, dst = {batch, g.out_c, g.out_h, g.out_w};
    dnnl_dims_t b = {g.out_c};
    dnnl_dims_t strides = {g.stride_h, g.stride_w}, pad_l = {g.pad_top, g.pad_left};
    /* oneDNN wants out = (in + pad_l + pad_r - k) / stride + 1 exactly; the
     * padding after is what our output size implies (never negative: a
     * "valid" window that does not reach the end is what the division drops). */
    dnnl_dims_t pad_r = {(g.out_h - 1) * g.stride_h + g.kernel_h - g.in_h - g.pad_top,
                         (g.out_w - 1) * g.stride_w + g.kernel_w - g.in_w - g.pad_left};
    for (int i = 0; i < 2; i++)
        if (pad_r[i] < 0)
            pad_r[i] = 0;
    if ((st = dnnl_memory_desc_init_by_tag(&d->src, 4, src, dnnl_f32, dnnl_nhwc)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->dst, 4, dst, dnnl_f32, dnnl_nhwc)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->bias, 1, b, dnnl_f32, dnnl_x)))
        return st;
    if (layer->type == MCO_LAYER_CONV2D) {
        dnnl_dims_t w = {g.out_c, g.in_c, g.kernel_h, g.kernel_w};
        if ((st = dnnl_memory_desc_init_by_tag(&d->weights_any, 4, w, dnnl_f32, dnnl_format_tag_any)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->weights_user, 4, w, dnnl_f32, dnnl_ohwi)))
            return st;
    } else {
        dnnl_dims_t w = {g.in_c, 1, 1, g.kernel_h, g.kernel_w};
        if ((st = dnnl_memory_desc_init_by_tag(&d->weights_any, 5, w, dnnl_f32, dnnl_format_tag_any)) ||
            (st = dnnl_memory_desc_init_by_tag(&d->weights_user, 5, w, dnnl_f32, dnnl_hwigo)))
            return st;
    }
    if ((st = dnnl_convolution_forward_desc_init(&d->fwd.conv, prop, dnnl_convolution_direct, &d->src,
                                                 &d->weights_any, &d->bias, &d->dst, strides, pad_l, pad_r)) ||
        (st = dnnl_convolution_backward_data_desc_init(&d->bwd_data.conv, dnnl_convolution_direct, &d->src,
                                                       &d->weights_any, &d->dst, strides, pad_l, pad_r)))
        return st;
    return dnnl_convolution_backward_weights_desc_init(&d->bwd_weights.conv, dnnl_convolution_direct, &d->src,
                                                       &d->weights_any, &d->bias, &d->dst, strides, pad_l,
                                                       pad_r);
}

void mco_dnnl_destroy_primitive(dnnl_primitive_t *p)
{
    if (*p)
        dnnl_primitive_destroy(*p);
    *p = NULL;
}

void mco_dnnl_destroy_memory(dnnl_memory_t *m)
{
    if (*m)
        dnnl_memory_destroy(*m);
    *m = NULL;
}

dnnl_status_t mco_dnnl_new_memory(dnnl_engine_t engine, const dnnl_memory_desc_t *md, int own, dnnl_memory_t *m)
{
    return dnnl_memory_create(m, md, engine, own ? DNNL_MEMORY_ALLOCATE : DNNL_MEMORY_NONE);
}

dnnl_status_t mco_dnnl_new_primitive(dnnl_engine_t engine, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *prim,
                                     dnnl_memory_t *scratch)
{
    dnnl_status_t st = dnnl_primitive_create(prim, pd);
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (st == dnnl_success && md && dnnl_memory_desc_get_size(md) > 0)
        st = mco_dnnl_new_memory(engine, md, 1, scratch);
    return st;
}

dnnl_status_t mco_dnnl_user_scratchpad(dnnl_primitive_attr_t *attr)
{
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    return st;
}

static void plan_free(plan *p)
{
    dnnl_primitive_t *prims[] = {&p->fwd, &p->bwd_data, &p->bwd_weights, &p->w_to_fwd, &p->w_to_bwd, &p->dw_to_user};
    dnnl_memory_t *mems[] = {&p->src,    &p->dst,    &p->diff_src, &p->diff_dst,  &p->w_user,
                             &p->w_fwd,  &p->w_bwd,  &p->dw_lib,   &p->dw_user,   &p->bias,
                             &p->diff_bias, &p->scratch_fwd, &p->scratch_bwd_data, &p->scratch_bwd_weights};
    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
        mco_dnnl_destroy_primitive(prims[i]);
    for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++)
        mco_dnnl_destroy_memory(mems[i]);
    p->batch = 0;
}

/* A reorder from `from` to `to` (NULL if the two are the same layout and
 * add is 0); with `add`, it adds into its destination. */
static dnnl_status_t new_reorder(const mco_fast_layer *f, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                 int add, dnnl_primitive_t *prim)
{
    *prim = NULL;
    if (!add && dnnl_memory_desc_equal(from, to))
        return dnnl_success;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success && add && (st = dnnl_post_ops_create(&ops)) == dnnl_success &&
        (st = dnnl_post_ops_append_sum(ops, 1.0f)) == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(attr, ops);
    if (st == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(&pd, from, f->engine, to, f->engine, attr);
    if (st == dnnl_success)
        st = dnnl_primitive_create(prim, pd);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (ops)
        dnnl_post_ops_destroy(ops);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static dnnl_status_t plan_build(mco_fast_layer *f, const mco_layer *layer, int batch, plan *p)
{
    memset(p, 0, sizeof(*p));
    layer_descs d;
    dnnl_primitive_attr_t attr = NULL, fwd_attr = NULL;
    dnnl_post_ops_t relu = NULL;
    dnnl_primitive_desc_t fwd = NULL, bwd_data = NULL, bwd_weights = NULL;
    mco_dnnl_one_thread();
    dnnl_status_t st = describe(layer, batch, f->training, &d);
    if (st == dnnl_success)
        st = mco_dnnl_user_scratchpad(&attr);
    if (st == dnnl_success)
        st = mco_dnnl_user_scratchpad(&fwd_attr);
    if (st == dnnl_success && f->fuse_relu && (st = dnnl_post_ops_create(&relu)) == dnnl_success &&
        (st = dnnl_post_ops_append_eltwise(relu, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f)) == dnnl_success)
        st = dnnl_primitive_attr_set_post_ops(fwd_attr, relu);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&fwd, &d.fwd, fwd_attr, f->engine, NULL);
    if (st == dnnl_success && f->training)
        st = dnnl_primitive_desc_create(&bwd_data, &d.bwd_data, attr, f->engine, fwd);
    if (st == dnnl_success && f->training)
        st = dnnl_primitive_desc_create(&bwd_weights, &d.bwd_weights, attr, f->engine, fwd);

    if (st == dnnl_success)
        st = mco_dnnl_new_primitive(f->engine, fwd, &p->fwd, &p->scratch_fwd);
    if (st == dnnl_success && (st = mco_dnnl_new_memory(f->engine, &d.src, 0, &p->src)) == dnnl_success &&
        (st = mco_dnnl_new_memory(f->engine, &d.dst, 0, &p->dst)) == dnnl_success &&
        (st = mco_dnnl_new_memory(f->engine, &d.bias, 0, &p->bias)) == dnnl_success &&
        (st = mco_dnnl_new_memory(f->engine, &d.weights_user, 0, &p->w_user)) == dnnl_success &&
        (st = mco_dnnl_new_memory(f->engine, query(fwd, dnnl_query_weights_md), 1, &p->w_fwd)) == dnnl_success)
        st = new_reorder(f, &d.weights_user, query(fwd, dnnl_query_weights_md), 0, &p->w_to_fwd);
    if (st == dnnl_success && f->training) {
        const dnnl_memory_desc_t *w_bwd = query(bwd_data, dnnl_query_weights_md);
        const dnnl_memory_desc_t *dw = query(bwd_weights, dnnl_query_diff_weights_md);
        if ((st = mco_dnnl_new_primitive(f->engine, bwd_data, &p->bwd_data, &p->scratch_bwd_data)) == dnnl_success &&
            (st = mco_dnnl_new_primitive(f->engine, bwd_weights, &p->bwd_weights, &p->scratch_bwd_weights)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, &d.src, 0, &p->diff_src)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, &d.dst, 0, &p->diff_dst)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, &d.bias, 0, &p->diff_bias)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, w_bwd, 1, &p->w_bwd)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, dw, 1, &p->dw_lib)) == dnnl_success &&
            (st = mco_dnnl_new_memory(f->engine, &d.weights_user, 0, &p->dw_user)) == dnnl_success &&
            (st = new_reorder(f, &d.weights_user, w_bwd, 0, &p->w_to_bwd)) == dnnl_success)
            st = new_reorder(f, dw, &d.weights_user, 1, &p->dw_to_user);
    }
    if (fwd)
        dnnl_primitive_desc_destroy(fwd);
    if (bwd_data)
        dnnl_primitive_desc_destroy(bwd_data);
    if (bwd_weights)
        dnnl_primitive_desc_destroy(bwd_weights);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (fwd_attr)
        dnnl_primitive_attr_destroy(fwd_attr);
    if (relu)
        dnnl_post_ops_destroy(relu);
    if (st != dnnl_success)
        plan_free(p);
    else
        p->batch = batch;
    return st;
}

void mco_fast_layer_free(mco_fast_layer *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_plans; i++)
        plan_free(&f->plans[i]);
    mco_fast_bn_free(f->bn);
    if (f->stream)
        dnnl_stream_destroy(f->stream);
    if (f->engine)
        dnnl_engine_destroy(f->engine);
    free(f->diff_src_tmp);
    free(f->diff_bias_tmp);
    free(f);
}

mco_status mco_fast_layer_create(const mco_layer *layer, int max_batch, int training, int fuse_relu,
                                 mco_fast_layer **out)
{
    *out = NULL;
    if (!mco_fast_layer_supported(layer) || max_batch < 1 || (layer->type == MCO_LAYER_BATCHNORM && !training))
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %s: no fast path", layer->name);
    mco_fast_layer *f = calloc(1, sizeof(*f));
    if (!f)
        return mco_error(MCO_ERR_NOMEM, "layer %s: out of memory", layer->name);
    f->type = layer->type;
    f->training = training;
    f->fuse_relu = fuse_relu;
    f->max_batch = max_batch;
    f->in_size = mco_shape_size(layer->in_shape);
    f->out_size = mco_shape_size(layer->out_shape);
    f->bias_size = (size_t)layer->out_shape.c;
    if (training && layer->type != MCO_LAYER_BATCHNORM) {
        f->diff_src_tmp = aligned_alloc(64, mco_align64((size_t)max_batch * f->in_size * sizeof(float)));
        f->diff_bias_tmp = aligned_alloc(64, mco_align64(f->bias_size * sizeof(float)));
        if (!f->diff_src_tmp || !f->diff_bias_tmp) {
            mco_fast_layer_free(f);
            return mco_error(MCO_ERR_NOMEM, "layer %s: out of memory", layer->name);
        }
    }
    mco_dnnl_one_thread();
    dnnl_status_t st = dnnl_engine_create(&f->engine, dnnl_cpu, 0);
    if (st == dnnl_success)
        st = dnnl_stream_create(&f->stream, f->engine, dnnl_stream_default_flags);
    if (st == dnnl_success && layer->type == MCO_LAYER_BATCHNORM)
        st = mco_fast_bn_create(layer, max_batch, fuse_relu, f->engine, &f->bn);
    else if (st == dnnl_success)
        st = plan_build(f, layer, max_batch, &f->plans[0]);
    if (st != dnnl_success) {
        mco_fast_layer_free(f);
        return mco_error(st == dnnl_out_of_memory ? MCO_ERR_NOMEM : MCO_ERR_UNSUPPORTED,
                         "layer %s: oneDNN cannot run it (status %d)", layer->name, (int)st);
    }
    f->n_plans = f->bn ? 0 : 1;
    *out = f;
    return MCO_OK;
}

void *mco_dnnl_plan_for(const mco_dnnl_plan_cache *c, const mco_layer *layer, int batch)
{
    char *plans = c->plans;
    for (int i = 0; i < *c->n_plans; i++)
        if (*(int *)(plans + (size_t)i * c->plan_size) == batch)
            return plans + (size_t)i * c->plan_size;
    if (batch < 1 || batch > c->max_batch)
        return NULL;
    int slot = *c->n_plans < MCO_FAST_MAX_PLANS ? *c->n_plans : MCO_FAST_MAX_PLANS - 1;
    void *plan = plans + (size_t)slot * c->plan_size;
    if (slot < *c->n_plans)
        c->free_plan(plan);
    else
        ++*c->n_plans;
    if (c->build(c->owner, layer, batch, plan) != dnnl_success) {
        *c->n_plans = slot; /* slot is empty again; slots after it are unused */
        return NULL;
    }
    return plan;
}

static void free_plan(void *p)
{
    plan_free(p);
}

static dnnl_status_t build_plan(void *owner, const mco_layer *layer, int batch, void *p)
{
    return plan_build(owner, layer, batch, p);
}

static plan *plan_for(mco_fast_layer *f, const mco_layer *layer, int batch)
{
    const mco_dnnl_plan_cache cache = {f->plans, sizeof(plan), &f->n_plans, f->max_batch, free_plan, build_plan, f};
    return mco_dnnl_plan_for(&cache, layer, batch);
}

static void run(mco_fast_layer *f, dnnl_primitive_t prim, int n, const dnnl_exec_arg_t *args)
{
    mco_dnnl_run(f->stream, prim, n, args);
}

static void reorder(mco_fast_layer *f, dnnl_primitive_t prim, dnnl_memory_t from, dnnl_memory_t to)
{
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    run(f, prim, 2, args);
}

int mco_fast_layer_forward(mco_fast_layer *f, const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    if (f->bn)
        return mco_fast_bn_forward(f->bn, f->stream, ctx);
    mco_dnnl_one_thread();
    plan *p = plan_for(f, layer, ctx->batch);
    if (!p)
        return 0;
    mco_dnnl_set(p->w_user, layer->params[MCO_PARAM_WEIGHTS].data);
    mco_dnnl_set(p->bias, layer->params[MCO_PARAM_BIAS].data);
    mco_dnnl_set(p->src, ctx->in[0]);
    mco_dnnl_set(p->dst, ctx->out);
    dnnl_memory_t w = p->w_user;
    if (p->w_to_fwd) {
        reorder(f, p->w_to_fwd, p->w_user, p->w_fwd);
        w = p->w_fwd;
    }
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, p->bias},
                               {DNNL_ARG_DST, p->dst}};
    run(f, p->fwd, mco_dnnl_with_scratch(args, 4, p->scratch_fwd), args);
    dnnl_stream_wait(f->stream);
    return 1;
}

int mco_fast_layer_backward(mco_fast_layer *f, const mco_layer_ctx *ctx, int overwrite_input_grad)
{
    const mco_layer *layer = ctx->layer;
    if (!f->training)
        return 0;
    if (f->bn)
        return mco_fast_bn_backward(f->bn, f->stream, ctx, overwrite_input_grad);
    mco_dnnl_one_thread();
    plan *p = plan_for(f, layer, ctx->batch);
    if (!p)
        return 0;
    mco_dnnl_set(p->diff_dst, ctx->grad_out);
    float *din = ctx->grad_in[0];
    if (din) {
        mco_dnnl_set(p->w_user, layer->params[MCO_PARAM_WEIGHTS].data);
        mco_dnnl_set(p->diff_src, overwrite_input_grad ? din : f->diff_src_tmp);
        dnnl_memory_t w = p->w_user;
        if (p->w_to_bwd) {
            reorder(f, p->w_to_bwd, p->w_user, p->w_bwd);
            w = p->w_bwd;
        }
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, p->diff_dst}, {DNNL_ARG_WEIGHTS, w},
                                   {DNNL_ARG_DIFF_SRC, p->diff_src}};
        run(f, p->bwd_data, mco_dnnl_with_scratch(args, 3, p->scratch_bwd_data), args);
    }
    mco_dnnl_set(p->src, ctx->in[0]);
    mco_dnnl_set(p->diff_bias, f->diff_bias_tmp);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_DIFF_DST, p->diff_dst},
                               {DNNL_ARG_DIFF_WEIGHTS, p->dw_lib}, {DNNL_ARG_DIFF_BIAS, p->diff_bias}};
    run(f, p->bwd_weights, mco_dnnl_with_scratch(args, 4, p->scratch_bwd_weights), args);
    mco_dnnl_set(p->dw_user, ctx->param_grad[MCO_PARAM_WEIGHTS]);
    reorder(f, p->dw_to_user, p->dw_lib, p->dw_user);
    dnnl_stream_wait(f->stream);
    mco_vadd(ctx->param_grad[MCO_PARAM_BIAS], f->diff_bias_tmp, (int)f->bias_size);
    if (din && !overwrite_input_grad)
        mco_vadd(din, f->diff_src_tmp, (int)((size_t)ctx->batch * f->in_size));
    return 1;
}
