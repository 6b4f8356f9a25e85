/*
 * layer_ops.c - the registration table from layer type to its float
 * kernels, and the small facts about layers the trainer asks for.
 */
#include <assert.h>

#include "layer_ops.h"

static const mco_layer_ops *const ops_table[] = {
    [MCO_LAYER_CONV2D] = &mco_conv2d_ops,
    [MCO_LAYER_DEPTHWISE_CONV2D] = &mco_depthwise_conv2d_ops,
    [MCO_LAYER_DENSE] = &mco_dense_ops,
    [MCO_LAYER_MAXPOOL2D] = &mco_maxpool2d_ops,
    [MCO_LAYER_AVGPOOL2D] = &mco_avgpool2d_ops,
    [MCO_LAYER_GLOBAL_AVGPOOL] = &mco_global_avgpool_ops,
    [MCO_LAYER_RELU] = &mco_relu_ops,
    [MCO_LAYER_RELU6] = &mco_relu6_ops,
    [MCO_LAYER_BATCHNORM] = &mco_batchnorm_ops,
    [MCO_LAYER_ADD] = &mco_add_ops,
    [MCO_LAYER_FLATTEN] = &mco_flatten_ops,
    [MCO_LAYER_SOFTMAX] = &mco_softmax_ops,
    [MCO_LAYER_DROPOUT] = &mco_dropout_ops,
    [MCO_LAYER_SIGMOID] = &mco_activation_ops,
    [MCO_LAYER_TANH] = &mco_activation_ops,
    [MCO_LAYER_LEAKY_RELU] = &mco_activation_ops,
    [MCO_LAYER_HARD_SIGMOID] = &mco_activation_ops,
    [MCO_LAYER_HARD_SWISH] = &mco_activation_ops,
    [MCO_LAYER_CONCAT] = &mco_concat_ops,
    [MCO_LAYER_CONV_TRANSPOSE2D] = &mco_conv_transpose2d_ops,
};
static_assert(sizeof(ops_table) / sizeof(ops_table[0]) == MCO_LAYER_TYPE_COUNT,
              "every layer type needs its ops");

const mco_layer_ops *mco_layer_ops_get(mco_layer_type type)
{
    return ops_table[type];
}

static int has_weights_and_bias(const mco_layer *layer)
{
    return layer->type == MCO_LAYER_CONV2D || layer->type == MCO_LAYER_DEPTHWISE_CONV2D ||
           layer->type == MCO_LAYER_DENSE || layer->type == MCO_LAYER_CONV_TRANSPOSE2D;
}

int mco_param_is_trainable(const mco_layer *layer, int p)
{
    if (has_weights_and_bias(layer))
        return p == MCO_PARAM_WEIGHTS || p == MCO_PARAM_BIAS;
    if (layer->type == MCO_LAYER_BATCHNORM)
        return p == MCO_PARAM_BN_GAMMA || p == MCO_PARAM_BN_BETA;
    return 0;
}

int mco_param_takes_decay(const mco_layer *layer, int p)
{
    return has_weights_and_bias(layer) && p == MCO_PARAM_WEIGHTS;
}

void mco_train_window_init(const mco_layer *layer, mco_train_window *win)
{
    win->in_h = layer->in_shape.h;
    win->in_w = layer->in_shape.w;
    win->in_c = layer->in_shape.c;
    win->out_h = layer->out_shape.h;
    win->out_w = layer->out_shape.w;
    win->out_c = layer->out_shape.c;
    win->kernel_h = layer->kernel_h;
    win->kernel_w = layer->kernel_w;
    win->stride_h = layer->stride_h;
    win->stride_w = layer->stride_w;
    mco_layer_pad_before(layer, &win->pad_top, &win->pad_left);
}
