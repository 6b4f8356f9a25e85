/*
 * fast_batchnorm.c - BatchNorm in training mode on oneDNN, optionally with
 * the ReLU that follows it fused in (see fast_dnnl.h).
 *
 * The reference kernel (layer_batchnorm.c) walks the tensor five times with
 * sums in double; oneDNN's NHWC batch normalization does the same
 * arithmetic (batch mean, biased variance, gamma * xhat + beta) in float
 * with vector instructions, single-threaded here like every oneDNN call of
 * the engine, so it is as repeatable. With the ReLU fused (flag
 * fuse_norm_relu) the forward writes max(0, y) and keeps a bit mask in a
 * workspace, and the backward applies that mask to the incoming gradient:
 * one pass over the tensor less each way, and no separate ReLU tensor.
 *
 * Inference mode (moving statistics) is left to the reference kernel: it
 * is one multiply-add per value, and evaluation is not where time goes.
 *
 * What it leaves out: inference mode, statistics synchronised across
 * threads (each thread normalises its own slice, as the reference does).
 */
#include <stdlib.h>
#include <string.h>

#include "fast_dnnl.h"
#include "vec.h"

typedef struct {
    int batch;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t src, dst, mean, var, scale, shift, diff_dst, diff_src, diff_scale, diff_shift, workspace;
    dnnl_memory_t scratch_fwd, scratch_bwd;
} bn_plan;

struct mco_fast_bn {
    int fuse_relu;
    int max_batch;
    size_t size; /* floats per sample */
    int channels;
    dnnl_engine_t engine;
    int n_plans;
    bn_plan plans[MCO_FAST_MAX_PLANS];
    float *diff_src_tmp;   /* max_batch samples, added to the caller's input gradient */
    float *diff_scale_tmp; /* gamma gradient, then beta gradient: added to the caller's */
};

static void plan_free(bn_plan *p)
{
    dnnl_primitive_t *prims[] = {&p->fwd, &p->bwd};
    dnnl_memory_t *mems[] = {&p->src,      &p->dst,        &p->mean,       &p->var,
                             &p->scale,    &p->shift,      &p->diff_dst,   &p->diff_src,
                             &p->diff_scale, &p->diff_shift, &p->workspace, &p->scratch_fwd,
                             &p->scratch_bwd};
    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
        mco_dnnl_destroy_primitive(prims[i]);
    for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++)
        mco_dnnl_destroy_memory(mems[i]);
    p->batch = 0;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static dnnl_status_t plan_build(mco_fast_bn *bn, const mco_layer *layer, int batch, bn_plan *p)
{
    memset(p, 0, sizeof(*p));
    const mco_shape s = layer->out_shape;
    const unsigned flags = dnnl_use_scale | dnnl_use_shift | (bn->fuse_relu ? dnnl_fuse_norm_relu : 0u);
    dnnl_dims_t dims = {batch, s.c, s.h, s.w};
    dnnl_memory_desc_t data;
    dnnl_batch_normalization_desc_t fwd_desc, bwd_desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fwd = NULL, bwd = NULL;
    mco_dnnl_one_thread();
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&data, 4, dims, dnnl_f32, dnnl_nhwc);
    if (st == dnnl_success)
        st = dnnl_batch_normalization_forward_desc_init(&fwd_desc, dnnl_forward_training, &data, layer->epsilon, flags);
    if (st == dnnl_success)
        st = dnnl_batch_normalization_backward_desc_init(&bwd_desc, dnnl_backward, &data, &data, layer->epsilon, flags);
    if (st == dnnl_success)
        st = mco_dnnl_user_scratchpad(&attr);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&fwd, &fwd_desc, attr, bn->engine, NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&bwd, &bwd_desc, attr, bn->engine, fwd);
    if (st == dnnl_success)
        st = mco_dnnl_new_primitive(bn->engine, fwd, &p->fwd, &p->scratch_fwd);
    if (st == dnnl_success)
        st = mco_dnnl_new_primitive(bn->engine, bwd, &p->bwd, &p->scratch_bwd);
    if (st == dnnl_success) {
        /* mean, variance, scale, shift and their gradients are all vectors of C floats */
        dnnl_memory_desc_t vec;
        dnnl_dims_t c = {s.c};
        st = dnnl_memory_desc_init_by_tag(&vec, 1, c, dnnl_f32, dnnl_x);
        dnnl_memory_t *vectors[] = {&p->mean, &p->var, &p->scale, &p->shift, &p->diff_scale, &p->diff_shift};
        dnnl_memory_t *tensors[] = {&p->src, &p->dst, &p->diff_dst, &p->diff_src};
        for (size_t i = 0; st == dnnl_success && i < sizeof(vectors) / sizeof(vectors[0]); i++)
            st = mco_dnnl_new_memory(bn->engine, &vec, 0, vectors[i]);
        for (size_t i = 0; st == dnnl_success && i < sizeof(tensors) / sizeof(tensors[0]); i++)
            st = mco_dnnl_new_memory(bn->engine, &data, 0, tensors[i]);
    }
    if (st == dnnl_success && bn->fuse_relu)
        st = mco_dnnl_new_memory(bn->engine, query(fwd, dnnl_query_workspace_md), 1, &p->workspace);
    if (fwd)
        dnnl_primitive_desc_destroy(fwd);
    if (bwd)
        dnnl_primitive_desc_destroy(bwd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        plan_free(p);
    else
        p->batch = batch;
    return st;
}

void mco_fast_bn_free(mco_fast_bn *bn)
{
    if (!bn)
        return;
    for (int i = 0; i < bn->n_plans; i++)
        plan_free(&bn->plans[i]);
    free(bn->diff_src_tmp);
    free(bn->diff_scale_tmp);
    free(bn);
}

dnnl_status_t mco_fast_bn_create(const mco_layer *layer, int max_batch, int fuse_relu, dnnl_engine_t engine,
                                 mco_fast_bn **out)
{
    *out = NULL;
    mco_fast_bn *bn = calloc(1, sizeof(*bn));
    if (!bn)
        return dnnl_out_of_memory;
    bn->fuse_relu = fuse_relu;
    bn->max_batch = max_batch;
    bn->size = mco_shape_size(layer->out_shape);
    bn->channels = layer->out_shape.c;
    bn->engine = engine;
    bn->diff_src_tmp = aligned_alloc(64, mco_align64((size_t)max_batch * bn->size * sizeof(float)));
    bn->diff_scale_tmp = aligned_alloc(64, mco_align64(2 * (size_t)bn->channels * sizeof(float)));
    dnnl_status_t st = bn->diff_src_tmp && bn->diff_scale_tmp ? plan_build(bn, layer, max_batch, &bn->plans[0])
                                                              : dnnl_out_of_memory;
    if (st != dnnl_success) {
        mco_fast_bn_free(bn);
        return st;
    }
    bn->n_plans = 1;
    *out = bn;
    return dnnl_success;
}

static void free_plan(void *p)
{
    plan_free(p);
}

static dnnl_status_t build_plan(void *owner, const mco_layer *layer, int batch, void *p)
{
    return plan_build(owner, layer, batch, p);
}

static bn_plan *plan_for(mco_fast_bn *bn, const mco_layer *layer, int batch)
{
    const mco_dnnl_plan_cache cache = {bn->plans, sizeof(bn_plan), &bn->n_plans, bn->max_batch, free_plan, build_plan, bn};
    return mco_dnnl_plan_for(&cache, layer, batch);
}

/* Points the statistics and parameter memories at the layer's data. */
static void set_common(bn_plan *p, const mco_layer_ctx *ctx)
{
    const mco_layer *layer = ctx->layer;
    mco_dnnl_set(p->mean, mco_batchnorm_batch_mean(layer, ctx->scratch));
    mco_dnnl_set(p->var, mco_batchnorm_batch_var(layer, ctx->scratch));
    mco_dnnl_set(p->scale, layer->params[MCO_PARAM_BN_GAMMA].data);
    mco_dnnl_set(p->shift, layer->params[MCO_PARAM_BN_BETA].data);
    mco_dnnl_set(p->src, ctx->in[0]);
}

int mco_fast_bn_forward(mco_fast_bn *bn, dnnl_stream_t stream, const mco_layer_ctx *ctx)
{
    if (!ctx->training)
        return 0;
    mco_dnnl_one_thread();
    bn_plan *p = plan_for(bn, ctx->layer, ctx->batch);
    if (!p)
        return 0;
    set_common(p, ctx);
    mco_dnnl_set(p->dst, ctx->out);
    dnnl_exec_arg_t args[8] = {{DNNL_ARG_SRC, p->src},     {DNNL_ARG_MEAN, p->mean}, {DNNL_ARG_VARIANCE, p->var},
                               {DNNL_ARG_SCALE, p->scale}, {DNNL_ARG_SHIFT, p->shift}, {DNNL_ARG_DST, p->dst}};
    int n = 6;
    if (p->workspace) {
        args[n].arg = DNNL_ARG_WORKSPACE;
        args[n++].memory = p->workspace;
    }
    mco_dnnl_run(stream, p->fwd, mco_dnnl_with_scratch(args, n, p->scratch_fwd), args);
    dnnl_stream_wait(stream);
    return 1;
}

int mco_fast_bn_backward(mco_fast_bn *bn, dnnl_stream_t stream, const mco_layer_ctx *ctx, int overwrite_input_grad)
{
    if (!ctx->training)
        return 0;
    mco_dnnl_one_thread();
    bn_plan *p = plan_for(bn, ctx->layer, ctx->batch);
    if (!p)
        return 0;
    float *din = ctx->grad_in[0];
    const int c = bn->channels;
    set_common(p, ctx);
    mco_dnnl_set(p->diff_dst, ctx->grad_out);
    mco_dnnl_set(p->diff_src, din && overwrite_input_grad ? din : bn->diff_src_tmp);
    mco_dnnl_set(p->diff_scale, bn->diff_scale_tmp);
    mco_dnnl_set(p->diff_shift, bn->diff_scale_tmp + c);
    dnnl_exec_arg_t args[12] = {{DNNL_ARG_SRC, p->src},           {DNNL_ARG_MEAN, p->mean},
                                {DNNL_ARG_VARIANCE, p->var},      {DNNL_ARG_DIFF_DST, p->diff_dst},
                                {DNNL_ARG_SCALE, p->scale},       {DNNL_ARG_SHIFT, p->shift},
                                {DNNL_ARG_DIFF_SRC, p->diff_src}, {DNNL_ARG_DIFF_SCALE, p->diff_scale},
                                {DNNL_ARG_DIFF_SHIFT, p->diff_shift}};
    int n = 9;
    if (p->workspace) {
        args[n].arg = DNNL_ARG_WORKSPACE;
        args[n++].memory = p->workspace;
    }
    mco_dnnl_run(stream, p->bwd, mco_dnnl_with_scratch(args, n, p->scratch_bwd), args);
    dnnl_stream_wait(stream);
    mco_vadd(ctx->param_grad[MCO_PARAM_BN_GAMMA], bn->diff_scale_tmp, c);
    mco_vadd(ctx->param_grad[MCO_PARAM_BN_BETA], bn->diff_scale_tmp + c, c);
    if (din && !overwrite_input_grad)
        mco_vadd(din, bn->diff_src_tmp, (int)((size_t)ctx->batch * bn->size));
    return 1;
}
