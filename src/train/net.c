/*
 * net.c - a thread's workspace and the forward/backward walk over the
 * layer list (see net.h).
 */
#include "net.h"

#include <stdlib.h>
#include <string.h>

#include "fake_quant.h"
#include "fast_layer.h"
#include "layer_ops.h"

size_t mco_model_param_floats(const mco_model *model)
{
    size_t total = 0;
    for (int l = 0; l < model->n_layers; l++)
        for (int p = 0; p < model->layers[l].n_params; p++)
            total += model->layers[l].params[p].size;
    return total;
}

/* Hands out 64-byte-aligned pieces of one block. With base == NULL it only
 * counts, so the same code sizes the block and then carves it. */
typedef struct {
    char *base;
    size_t used;
} carver;

static void *carve(carver *c, size_t bytes)
{
    void *p = c->base ? c->base + c->used : NULL;
    c->used += mco_align64(bytes);
    return p;
}

static int trains_params(const mco_layer *layer)
{
    for (int p = 0; p < layer->n_params; p++)
        if (mco_param_is_trainable(layer, p))
            return 1;
    return 0;
}

/* Lays out every buffer; returns the bytes needed. `needs_grad` is scratch
 * of n_layers bytes. */
static size_t lay_out(mco_net *net, carver *c, unsigned char *needs_grad)
{
    const mco_model *model = net->model;
    const size_t batch = (size_t)net->max_batch;
    const int want_grads = net->flags & MCO_NET_GRADIENTS;

    net->input = carve(c, batch * mco_shape_size(model->input_shape) * sizeof(float));
    net->input_grad = (net->flags & MCO_NET_INPUT_GRAD)
                          ? carve(c, batch * mco_shape_size(model->input_shape) * sizeof(float))
                          : NULL;
    for (int l = 0; l < model->n_layers; l++) {
        const mco_layer *layer = &model->layers[l];
        const mco_layer_ops *ops = mco_layer_ops_get(layer->type);
        size_t out_bytes = batch * mco_shape_size(layer->out_shape) * sizeof(float);

        needs_grad[l] = 0;
        if (want_grads) {
            needs_grad[l] = (unsigned char)trains_params(layer);
            for (int k = 0; k < layer->n_inputs; k++) {
                int src = layer->inputs[k];
                if (src == MCO_INPUT ? (net->flags & MCO_NET_INPUT_GRAD) != 0 : needs_grad[src])
                    needs_grad[l] = 1;
            }
        }
        net->owns_grad[l] = 0;
        if (ops->aliases_input) {
            int src = layer->inputs[0];
            net->act[l] = c->base ? mco_net_tensor(net, src) : NULL;
            net->grad[l] = src == MCO_INPUT ? net->input_grad : (needs_grad[l] ? net->grad[src] : NULL);
        } else {
            net->act[l] = carve(c, out_bytes);
            net->grad[l] = needs_grad[l] ? carve(c, out_bytes) : NULL;
            net->owns_grad[l] = needs_grad[l];
        }
        net->scratch[l] = ops->scratch_bytes ? carve(c, ops->scratch_bytes(layer, net->max_batch)) : NULL;
    }
    net->param_grads = want_grads ? carve(c, mco_model_param_floats(model) * sizeof(float)) : NULL;
    size_t offset = 0;
    for (int l = 0; l < model->n_layers; l++)
        for (int p = 0; p < MCO_MAX_PARAMS; p++) {
            const mco_layer *layer = &model->layers[l];
            float **slot = &net->param_grad[l * MCO_MAX_PARAMS + p];
            *slot = NULL;
            if (net->param_grads && p < layer->n_params) {
                *slot = net->param_grads + offset;
                offset += layer->params[p].size;
            }
        }
    return c->used;
}

static float *tensor_grad(const mco_net *net, int index);

static int is_bn(const mco_model *model, int l)
{
    return model->layers[l].type == MCO_LAYER_BATCHNORM;
}

/* 1 if layer l is read only by a layer of type `type` right after it. */
static int only_reader_is(const mco_model *model, int l, mco_layer_type type)
{
    if (l + 1 >= model->n_layers || model->layers[l + 1].type != type || model->layers[l + 1].inputs[0] != l)
        return 0;
    for (int k = 0; k < model->n_layers; k++)
        for (int i = 0; i < model->layers[k].n_inputs; i++)
            if (model->layers[k].inputs[i] == l && k != l + 1)
                return 0;
    return 1;
}

static int only_reader_is_relu(const mco_model *model, int l)
{
    return only_reader_is(model, l, MCO_LAYER_RELU);
}

/* 1 if layer l is a max pool that takes the ReLU before it in: that ReLU
 * is its only reader and does not follow a BatchNorm (whose fast path
 * fuses the ReLU both ways already). */
static int pool_can_take_relu(const mco_model *model, int l)
{
    if (l < 1 || model->layers[l - 1].type != MCO_LAYER_RELU || !only_reader_is(model, l - 1, MCO_LAYER_MAXPOOL2D))
        return 0;
    int src = model->layers[l - 1].inputs[0];
    return src == MCO_INPUT || !is_bn(model, src);
}

/* Gives every layer with a fast path its mco_fast_layer (a layer oneDNN
 * cannot run keeps its reference kernel), decides which of them run the
 * ReLU after them, and finds the layers whose input gradient no other
 * backward writes. */
static void attach_fast_layers(mco_net *net)
{
    const mco_model *model = net->model;
    const int training = (net->flags & MCO_NET_GRADIENTS) != 0;
    const int fuse = !(net->flags & MCO_NET_ALL_OUTPUTS);
    for (int l = 0; l < model->n_layers; l++)
        net->pool_takes_relu[l] = (unsigned char)(fuse && pool_can_take_relu(model, l));
    for (int l = 0; l < model->n_layers; l++) {
        const mco_layer *layer = &model->layers[l];
        const int relu_goes_to_pool = l + 2 < model->n_layers && net->pool_takes_relu[l + 2];
        net->fuses_relu[l] = (unsigned char)(fuse && !relu_goes_to_pool && mco_fast_layer_supported(layer) &&
                                             only_reader_is_relu(model, l));
        if (mco_fast_layer_supported(layer) &&
            mco_fast_layer_create(layer, net->max_batch, training, net->fuses_relu[l], &net->fast[l]) != MCO_OK)
            net->fast[l] = NULL;
        if (!net->fast[l])
            net->fuses_relu[l] = 0;
        const float *g = tensor_grad(net, layer->inputs[0]);
        int writers = 0;
        for (int k = 0; g && k < model->n_layers; k++) {
            const mco_layer *other = &model->layers[k];
            if (!mco_layer_ops_get(other->type)->backward)
                continue;
            for (int i = 0; i < other->n_inputs; i++)
                writers += tensor_grad(net, other->inputs[i]) == g;
        }
        net->sole_writer[l] = writers == 1;
    }
    /* Gradient buffers nobody needs zeroed: the only writer overwrites. */
    for (int l = 0; l < model->n_layers; l++) {
        const mco_layer *layer = &model->layers[l];
        const int relu_fused_away = l > 0 && net->fuses_relu[l - 1] && is_bn(model, l - 1);
        if (layer->n_inputs != 1 || !net->sole_writer[l] ||
            (!net->fast[l] && !relu_fused_away && !mco_layer_ops_get(layer->type)->overwrites_grad))
            continue;
        for (int k = 0; k < model->n_layers; k++)
            if (net->owns_grad[k] && net->grad[k] == tensor_grad(net, layer->inputs[0])) {
                net->skip_zero[k] = 1;
                net->clear_first[l] = 1;
            }
    }
}

mco_status mco_net_init(mco_net *net, const mco_model *model, int max_batch, int flags)
{
    memset(net, 0, sizeof(*net));
    if (max_batch < 1 || model->n_layers < 1)
        return mco_error(MCO_ERR_ARG, "network workspace: batch %d, %d layers", max_batch, model->n_layers);
    net->model = model;
    net->max_batch = max_batch;
    net->flags = flags;
    size_t n = (size_t)model->n_layers;
    net->act = calloc(n, sizeof(float *));
    net->grad = calloc(n, sizeof(float *));
    net->owns_grad = calloc(n, 1);
    net->scratch = calloc(n, sizeof(void *));
    net->param_grad = calloc(n * MCO_MAX_PARAMS, sizeof(float *));
    net->fast = calloc(n, sizeof(*net->fast));
    net->sole_writer = calloc(n, 1);
    net->fuses_relu = calloc(n, 1);
    net->fused_ran = calloc(n, 1);
    net->pool_takes_relu = calloc(n, 1);
    net->skip_zero = calloc(n, 1);
    net->clear_first = calloc(n, 1);
    unsigned char *needs_grad = calloc(n, 1);
    if (!net->act || !net->grad || !net->owns_grad || !net->scratch || !net->param_grad || !net->fast ||
        !net->sole_writer || !net->fuses_relu || !net->fused_ran || !net->pool_takes_relu ||
        !net->skip_zero || !net->clear_first || !needs_grad) {
        free(needs_grad);
        mco_net_free(net);
        return mco_error(MCO_ERR_NOMEM, "network workspace: out of memory");
    }
    carver sizing = {NULL, 0};
    size_t bytes = lay_out(net, &sizing, needs_grad);
    net->block = aligned_alloc(64, mco_align64(bytes));
    if (!net->block) {
        free(needs_grad);
        mco_net_free(net);
        return mco_error(MCO_ERR_NOMEM, "network workspace: cannot allocate %zu bytes", bytes);
    }
    carver carving = {net->block, 0};
    lay_out(net, &carving, needs_grad);
    free(needs_grad);
    mco_rng_seed(&net->rng, 0);
    if (!(flags & MCO_NET_REFERENCE))
        attach_fast_layers(net);
    return MCO_OK;
}

void mco_net_free(mco_net *net)
{
    for (int l = 0; net->fast && l < net->model->n_layers; l++)
        mco_fast_layer_free(net->fast[l]);
    free(net->fast);
    free(net->sole_writer);
    free(net->fuses_relu);
    free(net->fused_ran);
    free(net->pool_takes_relu);
    free(net->skip_zero);
    free(net->clear_first);
    free(net->act);
    free(net->grad);
    free(net->owns_grad);
    free(net->scratch);
    free(net->param_grad);
    free(net->block);
    memset(net, 0, sizeof(*net));
}

float *mco_net_tensor(const mco_net *net, int index)
{
    return index == MCO_INPUT ? net->input : net->act[index];
}

static float *tensor_grad(const mco_net *net, int index)
{
    return index == MCO_INPUT ? net->input_grad : net->grad[index];
}

static void fill_ctx(mco_net *net, int l, int batch, int training, mco_layer_ctx *ctx)
{
    const mco_layer *layer = &net->model->layers[l];
    memset(ctx, 0, sizeof(*ctx));
    ctx->layer = layer;
    ctx->batch = batch;
    ctx->training = training;
    for (int k = 0; k < layer->n_inputs; k++) {
        ctx->in[k] = mco_net_tensor(net, layer->inputs[k]);
        ctx->grad_in[k] = tensor_grad(net, layer->inputs[k]);
    }
    ctx->out = net->act[l];
    ctx->grad_out = net->grad[l];
    for (int p = 0; p < MCO_MAX_PARAMS; p++)
        ctx->param_grad[p] = net->param_grad[l * MCO_MAX_PARAMS + p];
    ctx->scratch = net->scratch[l];
    ctx->rng = &net->rng;
}

/* Points a max pool's ctx at the input of the ReLU it takes in (see net.h). */
static void take_relu_into_pool(mco_net *net, int l, mco_layer_ctx *ctx)
{
    const int src = net->model->layers[l - 1].inputs[0];
    ctx->in[0] = mco_net_tensor(net, src);
    ctx->grad_in[0] = tensor_grad(net, src);
    ctx->fused_relu = 1;
}

void mco_net_forward(mco_net *net, int batch, int training)
{
    if (net->fake_quant)
        mco_fq_input(net->fake_quant, net->input, batch);
    for (int l = 0; l < net->model->n_layers; l++) {
        mco_layer_ctx ctx;
        fill_ctx(net, l, batch, training, &ctx);
        net->fused_ran[l] = 0;
        if (!net->fake_quant && l + 1 < net->model->n_layers && net->pool_takes_relu[l + 1])
            continue; /* this ReLU runs inside the max pool after it */
        if (!net->fake_quant && net->pool_takes_relu[l]) {
            take_relu_into_pool(net, l, &ctx);
            net->fused_ran[l] = 1;
        }
        if (net->fuses_relu[l] && !net->fake_quant) {
            /* layer + ReLU in one: the ReLU's output, then skip the ReLU's forward */
            ctx.out = net->act[l + 1];
            if (mco_fast_layer_forward(net->fast[l], &ctx)) {
                net->fused_ran[l] = 1;
                l++;
                continue;
            }
            ctx.out = net->act[l];
        }
        if (!net->fast[l] || !mco_fast_layer_forward(net->fast[l], &ctx))
            mco_layer_ops_get(ctx.layer->type)->forward(&ctx);
        if (net->fake_quant)
            mco_fq_forward(net->fake_quant, l, net->act[l], batch, training);
    }
}

void mco_net_zero_grads(mco_net *net, int batch)
{
    const mco_model *model = net->model;
    if (net->input_grad)
        memset(net->input_grad, 0, (size_t)batch * mco_shape_size(model->input_shape) * sizeof(float));
    for (int l = 0; l < model->n_layers; l++)
        if (net->owns_grad[l] && !net->skip_zero[l])
            memset(net->grad[l], 0, (size_t)batch * mco_shape_size(model->layers[l].out_shape) * sizeof(float));
    if (net->param_grads)
        memset(net->param_grads, 0, mco_model_param_floats(model) * sizeof(float));
}

void mco_net_backward(mco_net *net, int batch, int from, int training)
{
    for (int l = from; l >= 0; l--) {
        if (!net->grad[l] || (l > 0 && net->fused_ran[l - 1] && is_bn(net->model, l - 1)) ||
            (l + 1 < net->model->n_layers && net->fused_ran[l + 1] && net->pool_takes_relu[l + 1]))
            continue; /* no gradient wanted, or a ReLU its BatchNorm or max pool ran both ways */
        mco_layer_ctx ctx;
        fill_ctx(net, l, batch, training, &ctx);
        if (net->fused_ran[l] && net->pool_takes_relu[l]) {
            take_relu_into_pool(net, l, &ctx);
            ctx.overwrite_grad_in = net->clear_first[l - 1];
        }
        if (net->fused_ran[l] && is_bn(net->model, l)) {
            ctx.out = net->act[l + 1];
            ctx.grad_out = net->grad[l + 1];
        }
        const mco_layer_ops *ops = mco_layer_ops_get(ctx.layer->type);
        if (net->fake_quant)
            mco_fq_backward(net->fake_quant, l, net->grad[l], batch);
        if (net->fast[l] && mco_fast_layer_backward(net->fast[l], &ctx, net->sole_writer[l]))
            continue;
        if (!ctx.fused_relu)
            ctx.overwrite_grad_in = net->clear_first[l];
        if (ctx.overwrite_grad_in && !ops->overwrites_grad && ctx.grad_in[0])
            memset(ctx.grad_in[0], 0, (size_t)batch * mco_shape_size(ctx.layer->in_shape) * sizeof(float));
        if (ops->backward)
            ops->backward(&ctx);
    }
}
