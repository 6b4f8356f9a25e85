/*
 * fast_pool.c - MaxPool2D and AvgPool2D on oneDNN (see fast_dnnl.h).
 *
 * oneDNN's pooling has the reference kernels' rules (layer_pool.c): max
 * pooling ignores padded positions, and average pooling divides by the
 * number of window taps inside the input (algorithm
 * pooling_avg_exclude_padding, TensorFlow's "same"). Max pooling in
 * training keeps the winning position in a workspace, which backward uses.
 * Backward writes the whole input gradient (zeros where nothing was routed),
 * so with a sole writer there is nothing to clear first.
 *
 * The reference kernels spent a quarter of mnist-paper's step in max
 * pooling: a generic window walk per output pixel over 12 channels.
 *
 * What it leaves out: GlobalAvgPool (a sum per channel, left to the
 * reference kernel), pooling with padding counted in.
 */
#include <stdlib.h>
#include <string.h>

#include "train/fast_dnnl.h"
#include "train/vec.h"

typedef struct {
    int batch;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t src, dst, diff_src, diff_dst, workspace, scratch_fwd, scratch_bwd;
} pool_plan;

struct mco_fast_pool {
    int training;
    int max_batch;
    size_t in_size; /* floats per sample */
    dnnl_engine_t engine;
    int n_plans;
    pool_plan plans[MCO_FAST_MAX_PLANS];
    float *diff_src_tmp; /* max_batch samples, added to the caller's input gradient */
};

static void plan_free(pool_plan *p)
{
    mco_dnnl_destroy_primitive(&p->fwd);
    mco_dnnl_destroy_primitive(&p->bwd);
    dnnl_memory_t *mems[] = {&p->src,       &p->dst,         &p->diff_src,   &p->diff_dst,
                             &p->workspace, &p->scratch_fwd, &p->scratch_bwd};
    for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++)
        mco_dnnl_destroy_memory(mems[i]);
    p->batch = 0;
}

static dnnl_status_t plan_build(mco_fast_pool *fp, const mco_layer *layer, int batch, pool_plan *p)
{
    memset(p, 0, sizeof(*p));
    mco_train_window g;
    mco_train_window_init(layer, &g);
    const dnnl_alg_kind_t alg =
        layer->type == MCO_LAYER_MAXPOOL2D ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    dnnl_dims_t src = {batch, g.in_c, g.in_h, g.in_w}, dst = {batch, g.out_c, g.out_h, g.out_w};
    dnnl_dims_t strides = {g.stride_h, g.stride_w}, kernel = {g.kernel_h, g.kernel_w};
    dnnl_dims_t pad_l = {g.pad_top, g.pad_left};
    dnnl_dims_t pad_r = {(g.out_h - 1) * g.stride_h + g.kernel_h - g.in_h - g.pad_top,
                         (g.out_w - 1) * g.stride_w + g.kernel_w - g.in_w - g.pad_left};
    for (int i = 0; i < 2; i++)
        if (pad_r[i] < 0)
            pad_r[i] = 0; /* as in fast_layer.c: the division drops it */
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_pooling_desc_t fwd_desc, bwd_desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fwd = NULL, bwd = NULL;
    mco_dnnl_one_thread();
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&src_md, 4, src, dnnl_f32, dnnl_nhwc);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&dst_md, 4, dst, dnnl_f32, dnnl_nhwc);
    if (st == dnnl_success)
        st = dnnl_pooling_forward_desc_init(&fwd_desc, fp->training ? dnnl_forward_training : dnnl_forward_inference,
                                            alg, &src_md, &dst_md, strides, kernel, pad_l, pad_r);
    if (st == dnnl_success)
        st = mco_dnnl_user_scratchpad(&attr);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&fwd, &fwd_desc, attr, fp->engine, NULL);
    if (st == dnnl_success)
        st = mco_dnnl_new_primitive(fp->engine, fwd, &p->fwd, &p->scratch_fwd);
    if (st == dnnl_success && fp->training) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fwd, dnnl_query_workspace_md, 0);
        if ((st = dnnl_pooling_backward_desc_init(&bwd_desc, alg, &src_md, &dst_md, strides, kernel, pad_l,
                                                  pad_r)) == dnnl_success &&
            (st = dnnl_primitive_desc_create(&bwd, &bwd_desc, attr, fp->engine, fwd)) == dnnl_success &&
            (st = mco_dnnl_new_primitive(fp->engine, bwd, &p->bwd, &p->scratch_bwd)) == dnnl_success &&
            ws && dnnl_memory_desc_get_size(ws) > 0)
            st = mco_dnnl_new_memory(fp->engine, ws, 1, &p->workspace);
    }
    dnnl_memory_t *mems[] = {&p->src, &p->diff_src};
    for (int i = 0; st == dnnl_success && i < 2; i++)
        st = mco_dnnl_new_memory(fp->engine, &src_md, 0, mems[i]);
    if (st == dnnl_success)
        st = mco_dnnl_new_memory(fp->engine, &dst_md, 0, &p->dst);
    if (st == dnnl_success)
        st = mco_dnnl_new_memory(fp->engine, &dst_md, 0, &p->diff_dst);
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

void mco_fast_pool_free(mco_fast_pool *fp)
{
    if (!fp)
        return;
    for (int i = 0; i < fp->n_plans; i++)
        plan_free(&fp->plans[i]);
    free(fp->diff_src_tmp);
    free(fp);
}

dnnl_status_t mco_fast_pool_create(const mco_layer *layer, int max_batch, int training, dnnl_engine_t engine,
                                   mco_fast_pool **out)
{
    *out = NULL;
    mco_fast_pool *fp = calloc(1, sizeof(*fp));
    if (!fp)
        return dnnl_out_of_memory;
    fp->training = training;
    fp->max_batch = max_batch;
    fp->in_size = mco_shape_size(layer->in_shape);
    fp->engine = engine;
    if (training && !(fp->diff_src_tmp = aligned_alloc(64, mco_align64((size_t)max_batch * fp->in_size * sizeof(float))))) {
        mco_fast_pool_free(fp);
        return dnnl_out_of_memory;
    }
    dnnl_status_t st = plan_build(fp, layer, max_batch, &fp->plans[0]);
    if (st != dnnl_success) {
        mco_fast_pool_free(fp);
        return st;
    }
    fp->n_plans = 1;
    *out = fp;
    return dnnl_success;
}

/* The plan for `batch`, built the first time (as in fast_layer.c). */
static pool_plan *plan_for(mco_fast_pool *fp, const mco_layer *layer, int batch)
{
    for (int i = 0; i < fp->n_plans; i++)
        if (fp->plans[i].batch == batch)
            return &fp->plans[i];
    if (batch < 1 || batch > fp->max_batch)
        return NULL;
    int slot = fp->n_plans < MCO_FAST_MAX_PLANS ? fp->n_plans : MCO_FAST_MAX_PLANS - 1;
    if (slot < fp->n_plans)
        plan_free(&fp->plans[slot]);
    else
        fp->n_plans++;
    if (plan_build(fp, layer, batch, &fp->plans[slot]) != dnnl_success) {
        fp->n_plans = slot;
        return NULL;
    }
    return &fp->plans[slot];
}

int mco_fast_pool_forward(mco_fast_pool *fp, dnnl_stream_t stream, const mco_layer_ctx *ctx)
{
    mco_dnnl_one_thread();
    pool_plan *p = plan_for(fp, ctx->layer, ctx->batch);
    if (!p)
        return 0;
    mco_dnnl_set(p->src, ctx->in[0]);
    mco_dnnl_set(p->dst, ctx->out);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_DST, p->dst}};
    int n = 2;
    if (p->workspace) {
        args[n].arg = DNNL_ARG_WORKSPACE;
        args[n++].memory = p->workspace;
    }
    mco_dnnl_run(stream, p->fwd, mco_dnnl_with_scratch(args, n, p->scratch_fwd), args);
    dnnl_stream_wait(stream);
    return 1;
}

int mco_fast_pool_backward(mco_fast_pool *fp, dnnl_stream_t stream, const mco_layer_ctx *ctx, int overwrite_input_grad)
{
    float *din = ctx->grad_in[0];
    if (!din)
        return 1; /* nothing to propagate: the model input needs no gradient */
    if (!fp->training)
        return 0;
    mco_dnnl_one_thread();
    pool_plan *p = plan_for(fp, ctx->layer, ctx->batch);
    if (!p)
        return 0;
    mco_dnnl_set(p->diff_dst, ctx->grad_out);
    mco_dnnl_set(p->diff_src, overwrite_input_grad ? din : fp->diff_src_tmp);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, p->diff_dst}, {DNNL_ARG_DIFF_SRC, p->diff_src}};
    int n = 2;
    if (p->workspace) {
        args[n].arg = DNNL_ARG_WORKSPACE;
        args[n++].memory = p->workspace;
    }
    mco_dnnl_run(stream, p->bwd, mco_dnnl_with_scratch(args, n, p->scratch_bwd), args);
    dnnl_stream_wait(stream);
    if (!overwrite_input_grad)
        mco_vadd(din, fp->diff_src_tmp, (int)((size_t)ctx->batch * fp->in_size));
    return 1;
}
