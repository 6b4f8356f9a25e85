/*
 * graph.c - building a model graph, shape inference, parameter storage,
 * parameter/MAC counts, BatchNorm folding and input normalisation (see
 * graph.h).
 *
 * Shape rules follow TensorFlow/Keras, so that a model described here has
 * the same shapes as its Keras twin: "valid" gives out = (in - k) / s + 1,
 * "same" gives out = ceil(in / s); explicit padding (ONNX / PyTorch) gives
 * out = (in + before + after - k) / s + 1.
 */
#include "mcuopt/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/rng.h"

static const char *const layer_type_names[MCO_LAYER_TYPE_COUNT] = {
    [MCO_LAYER_CONV2D] = "conv2d",
    [MCO_LAYER_DEPTHWISE_CONV2D] = "depthwise_conv2d",
    [MCO_LAYER_DENSE] = "dense",
    [MCO_LAYER_MAXPOOL2D] = "maxpool2d",
    [MCO_LAYER_AVGPOOL2D] = "avgpool2d",
    [MCO_LAYER_GLOBAL_AVGPOOL] = "global_avgpool",
    [MCO_LAYER_RELU] = "relu",
    [MCO_LAYER_RELU6] = "relu6",
    [MCO_LAYER_BATCHNORM] = "batchnorm",
    [MCO_LAYER_ADD] = "add",
    [MCO_LAYER_FLATTEN] = "flatten",
    [MCO_LAYER_SOFTMAX] = "softmax",
    [MCO_LAYER_DROPOUT] = "dropout",
    [MCO_LAYER_SIGMOID] = "sigmoid",
    [MCO_LAYER_TANH] = "tanh",
    [MCO_LAYER_LEAKY_RELU] = "leaky_relu",
    [MCO_LAYER_HARD_SIGMOID] = "hard_sigmoid",
    [MCO_LAYER_HARD_SWISH] = "hard_swish",
    [MCO_LAYER_CONCAT] = "concat",
    [MCO_LAYER_CONV_TRANSPOSE2D] = "conv_transpose2d",
};

int mco_layer_input_count(mco_layer_type type)
{
    return type == MCO_LAYER_ADD || type == MCO_LAYER_CONCAT ? 2 : 1;
}

int mco_layer_is_activation(mco_layer_type type)
{
    return type == MCO_LAYER_SIGMOID || type == MCO_LAYER_TANH || type == MCO_LAYER_LEAKY_RELU ||
           type == MCO_LAYER_HARD_SIGMOID || type == MCO_LAYER_HARD_SWISH;
}

double mco_activation_value(const mco_layer *layer, double x)
{
    switch (layer->type) {
    case MCO_LAYER_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case MCO_LAYER_TANH: return tanh(x);
    case MCO_LAYER_LEAKY_RELU: return x >= 0.0 ? x : (double)layer->alpha * x;
    case MCO_LAYER_HARD_SIGMOID: return fmin(fmax((double)layer->alpha * x + (double)layer->beta, 0.0), 1.0);
    case MCO_LAYER_HARD_SWISH: return x * fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    default: return x;
    }
}

const char *mco_layer_type_name(mco_layer_type type)
{
    if ((int)type < 0 || type >= MCO_LAYER_TYPE_COUNT) return "unknown";
    return layer_type_names[type];
}

mco_status mco_layer_type_parse(const char *name, mco_layer_type *type)
{
    for (int t = 0; t < MCO_LAYER_TYPE_COUNT; t++) {
        if (strcmp(name, layer_type_names[t]) == 0) {
            *type = (mco_layer_type)t;
            return MCO_OK;
        }
    }
    return mco_error(MCO_ERR_UNSUPPORTED, "unknown layer type '%s'", name);
}

size_t mco_shape_size(mco_shape s)
{
    return (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

void mco_normalize_input(const mco_normalization *norm, const uint8_t *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ((float)raw[i] * norm->scale - norm->mean) / norm->std;
}

const char *mco_loss_name(mco_loss loss)
{
    return loss == MCO_LOSS_MSE ? "mse" : "cross_entropy";
}

mco_status mco_model_check_loss(const mco_model *model)
{
    if (model->loss != MCO_LOSS_MSE || model->n_layers < 1) return MCO_OK;
    size_t in = mco_shape_size(model->input_shape);
    size_t out = mco_shape_size(model->layers[model->n_layers - 1].out_shape);
    if (in != out)
        return mco_error(MCO_ERR_SHAPE, "loss mse reconstructs the input: the output has %zu values, the input %zu",
                         out, in);
    return MCO_OK;
}

void mco_model_init(mco_model *model, mco_shape input_shape)
{
    memset(model, 0, sizeof *model);
    model->input_shape = input_shape;
    model->norm.scale = 1.0f;
    model->norm.mean = 0.0f;
    model->norm.std = 1.0f;
}

mco_status mco_model_add_layer(mco_model *model, const mco_layer *layer, int *index)
{
    if (model->n_layers >= MCO_MAX_LAYERS)
        return mco_error(MCO_ERR_RANGE, "too many layers (at most %d)", MCO_MAX_LAYERS);
    mco_layer *grown = realloc(model->layers, (size_t)(model->n_layers + 1) * sizeof *grown);
    if (!grown) return mco_error(MCO_ERR_NOMEM, "out of memory adding a layer");
    model->layers = grown;
    mco_layer *l = &model->layers[model->n_layers];
    *l = *layer;
    for (int p = 0; p < MCO_MAX_PARAMS; p++) l->params[p].data = NULL;
    if (l->n_inputs == 0) {
        l->n_inputs = 1;
        l->inputs[0] = model->n_layers - 1; /* previous layer, or MCO_INPUT for the first */
    }
    if (l->name[0] == '\0') {
        /* Keras-style default names: conv2d_0, dense_1, ... (index in the model). */
        snprintf(l->name, sizeof l->name, "%s_%d", mco_layer_type_name(l->type), model->n_layers);
    }
    if (index) *index = model->n_layers;
    model->n_layers++;
    return MCO_OK;
}

/* Output size of one spatial dimension with `before` + `after` padding for
 * explicit padding (ignored otherwise); 0 when the window does not fit. */
static int conv_out_dim(int in, int k, int stride, mco_padding padding, int before, int after)
{
    if (padding == MCO_PADDING_SAME) return (in + stride - 1) / stride;
    if (padding == MCO_PADDING_EXPLICIT) in += before + after;
    if (in < k) return 0;
    return (in - k) / stride + 1;
}

/* TensorFlow "same": half the total padding of one axis goes before. */
static int same_pad_before(int in, int out, int k, int stride)
{
    int total = (out - 1) * stride + k - in;
    return total > 0 ? total / 2 : 0;
}

/* ---- the general convolution (dilation, groups, depth multiplier) ---- */

int mco_layer_is_general_conv(const mco_layer *layer)
{
    if (layer->type != MCO_LAYER_CONV2D && layer->type != MCO_LAYER_DEPTHWISE_CONV2D) return 0;
    return layer->dilation_h > 1 || layer->dilation_w > 1 || layer->groups > 1 || layer->depth_multiplier > 1;
}

int mco_layer_window_extent(const mco_layer *layer, int axis)
{
    int k = axis == 0 ? layer->kernel_h : layer->kernel_w;
    int d = axis == 0 ? layer->dilation_h : layer->dilation_w;
    return d > 1 ? (k - 1) * d + 1 : k;
}

void mco_layer_conv_groups(const mco_layer *layer, mco_conv_groups *g)
{
    if (layer->type == MCO_LAYER_DEPTHWISE_CONV2D) {
        g->group_in = 1;
        g->group_out = layer->depth_multiplier > 1 ? layer->depth_multiplier : 1;
        g->w_out = 1;
        g->w_tap = (size_t)layer->out_shape.c;
        g->w_in = 0;
        return;
    }
    int groups = layer->groups > 1 ? layer->groups : 1;
    g->group_in = layer->in_shape.c / groups;
    g->group_out = layer->out_shape.c / groups;
    g->w_out = (size_t)layer->kernel_h * (size_t)layer->kernel_w * (size_t)g->group_in;
    g->w_tap = (size_t)g->group_in;
    g->w_in = 1;
}

/* Sets the general convolution fields a caller left 0 to 1 and checks them:
 * dilations only on convolutions, groups on a Conv2D dividing both channel
 * counts, a depth multiplier only on a DepthwiseConv2D. */
static mco_status check_general_conv(mco_layer *l, int index)
{
    int *fields[4] = {&l->dilation_h, &l->dilation_w, &l->groups, &l->depth_multiplier};
    for (int i = 0; i < 4; i++) {
        if (*fields[i] == 0) *fields[i] = 1;
        if (*fields[i] < 0 || *fields[i] > MCO_MAX_DIM)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): dilation, groups and depth multiplier must be 1..%d",
                             index, l->name, MCO_MAX_DIM);
    }
    if ((int64_t)(l->kernel_h - 1) * l->dilation_h + 1 > MCO_MAX_DIM ||
        (int64_t)(l->kernel_w - 1) * l->dilation_w + 1 > MCO_MAX_DIM)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): the dilated %dx%d kernel spans more than %d", index,
                         l->name, l->kernel_h, l->kernel_w, MCO_MAX_DIM);
    int conv = l->type == MCO_LAYER_CONV2D, dw = l->type == MCO_LAYER_DEPTHWISE_CONV2D;
    if ((l->dilation_h > 1 || l->dilation_w > 1) && !conv && !dw)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): dilation %dx%d on a %s layer (only conv2d and depthwise_conv2d)",
                         index, l->name, l->dilation_h, l->dilation_w, mco_layer_type_name(l->type));
    if (l->groups > 1 && !conv)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): groups %d on a %s layer (only conv2d)", index, l->name,
                         l->groups, mco_layer_type_name(l->type));
    if (l->depth_multiplier > 1 && !dw)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): depth multiplier %d on a %s layer (only depthwise_conv2d)",
                         index, l->name, l->depth_multiplier, mco_layer_type_name(l->type));
    if (conv && (l->in_shape.c % l->groups != 0 || l->units % l->groups != 0))
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): groups %d must divide the %d input and %d output channels",
                         index, l->name, l->groups, l->in_shape.c, l->units);
    return MCO_OK;
}

void mco_layer_pad_before(const mco_layer *layer, int *top, int *left)
{
    *top = *left = 0;
    if (layer->padding == MCO_PADDING_EXPLICIT) {
        *top = layer->pad_top;
        *left = layer->pad_left;
    } else if (layer->padding == MCO_PADDING_SAME) {
        *top = same_pad_before(layer->in_shape.h, layer->out_shape.h, mco_layer_window_extent(layer, 0),
                               layer->stride_h);
        *left = same_pad_before(layer->in_shape.w, layer->out_shape.w, mco_layer_window_extent(layer, 1),
                                layer->stride_w);
    }
}

static void set_param(mco_param *p, int ndim, int d0, int d1, int d2, int d3)
{
    int dims[4] = {d0, d1, d2, d3};
    p->ndim = ndim;
    p->size = 1;
    for (int i = 0; i < 4; i++) {
        p->dims[i] = i < ndim ? dims[i] : 0;
        /* stops growing once over the cap (checked by the caller), so it cannot overflow */
        if (i < ndim && p->size <= MCO_MAX_TENSOR_SIZE) p->size *= (size_t)dims[i];
    }
}

static mco_shape input_shape_of(const mco_model *model, int input)
{
    return input == MCO_INPUT ? model->input_shape : model->layers[input].out_shape;
}

/* Checks the hyper-parameters every windowed layer needs. */
static mco_status check_window(const mco_layer *l, int index)
{
    if (l->kernel_h <= 0 || l->kernel_w <= 0 || l->stride_h <= 0 || l->stride_w <= 0 ||
        l->kernel_h > MCO_MAX_DIM || l->kernel_w > MCO_MAX_DIM ||
        l->stride_h > MCO_MAX_DIM || l->stride_w > MCO_MAX_DIM)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): kernel and stride must be positive", index,
                         l->name);
    if (l->padding != MCO_PADDING_VALID && l->padding != MCO_PADDING_SAME && l->padding != MCO_PADDING_EXPLICIT)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): unknown padding", index, l->name);
    int kh = mco_layer_window_extent(l, 0), kw = mco_layer_window_extent(l, 1);   /* dilated: the span */
    if (l->padding == MCO_PADDING_EXPLICIT &&
        (l->pad_top < 0 || l->pad_bottom < 0 || l->pad_top >= kh || l->pad_bottom >= kh ||
         l->pad_left < 0 || l->pad_right < 0 || l->pad_left >= kw || l->pad_right >= kw))
        return mco_error(MCO_ERR_SHAPE,
                         "layer %d (%s): pads (top %d, left %d, bottom %d, right %d) must be 0..kernel-1 "
                         "for the %dx%d kernel", index, l->name, l->pad_top, l->pad_left, l->pad_bottom,
                         l->pad_right, kh, kw);
    return MCO_OK;
}

int mco_conv_transpose_first_tap(int o, int pad, int stride, int kernel, int in, int *i)
{
    int k = (o + pad) % stride;   /* o + pad >= 0 */
    int idx = (o + pad - k) / stride;
    if (idx >= in) {              /* skip the taps whose input lies past the end */
        k += (idx - in + 1) * stride;
        idx = in - 1;
    }
    *i = idx;
    return k < kernel ? k : kernel;
}

/* ConvTranspose2D: the checks of a window, valid or explicit pads, output
 * padding 0..stride-1, and the output size (in - 1) * stride + kernel -
 * pads + output padding per axis (graph.h). */
static mco_status infer_conv_transpose(mco_layer *l, int index)
{
    mco_status st = check_window(l, index);
    if (st != MCO_OK) return st;
    if (l->padding == MCO_PADDING_SAME)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): conv_transpose2d takes valid or explicit padding, not same",
                         index, l->name);
    if (l->units <= 0 || l->units > MCO_MAX_DIM)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): filters must be positive", index, l->name);
    if (l->output_pad_h < 0 || l->output_pad_h >= l->stride_h || l->output_pad_w < 0 ||
        l->output_pad_w >= l->stride_w)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): output padding %dx%d must be 0..stride-1 for stride %dx%d",
                         index, l->name, l->output_pad_h, l->output_pad_w, l->stride_h, l->stride_w);
    mco_shape in = l->in_shape;
    int64_t h = (int64_t)(in.h - 1) * l->stride_h + l->kernel_h - l->pad_top - l->pad_bottom + l->output_pad_h;
    int64_t w = (int64_t)(in.w - 1) * l->stride_w + l->kernel_w - l->pad_left - l->pad_right + l->output_pad_w;
    if (h <= 0 || w <= 0 || h > MCO_MAX_DIM || w > MCO_MAX_DIM)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): a %dx%d output from the %dx%d input is not valid", index,
                         l->name, (int)h, (int)w, in.h, in.w);
    l->out_shape = (mco_shape){(int)h, (int)w, l->units};
    l->n_params = 2;
    set_param(&l->params[MCO_PARAM_WEIGHTS], 4, l->units, l->kernel_h, l->kernel_w, in.c);
    set_param(&l->params[MCO_PARAM_BIAS], 1, l->units, 0, 0, 0);
    return MCO_OK;
}

static mco_status infer_layer(mco_model *model, int index)
{
    mco_layer *l = &model->layers[index];
    mco_shape in = l->in_shape;
    mco_status st;

    l->n_params = 0;
    if ((l->output_pad_h != 0 || l->output_pad_w != 0) && l->type != MCO_LAYER_CONV_TRANSPOSE2D)
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): output padding on a %s layer", index, l->name,
                         mco_layer_type_name(l->type));
    if ((st = check_general_conv(l, index)) != MCO_OK) return st;
    if (l->count_pad != 0 && (l->count_pad != 1 || l->type != MCO_LAYER_AVGPOOL2D))
        return mco_error(MCO_ERR_SHAPE, "layer %d (%s): count_pad %d (only 0, or 1 on an avgpool2d)", index, l->name,
                         l->count_pad);
    switch (l->type) {
    case MCO_LAYER_CONV2D:
    case MCO_LAYER_DEPTHWISE_CONV2D:
    case MCO_LAYER_MAXPOOL2D:
    case MCO_LAYER_AVGPOOL2D:
        if ((st = check_window(l, index)) != MCO_OK) return st;
        l->out_shape.h = conv_out_dim(in.h, mco_layer_window_extent(l, 0), l->stride_h, l->padding, l->pad_top,
                                      l->pad_bottom);
        l->out_shape.w = conv_out_dim(in.w, mco_layer_window_extent(l, 1), l->stride_w, l->padding, l->pad_left,
                                      l->pad_right);
        l->out_shape.c = in.c;
        if (l->out_shape.h <= 0 || l->out_shape.w <= 0)
            return mco_error(MCO_ERR_SHAPE,
                             "layer %d (%s): %dx%d window does not fit the %dx%d input", index,
                             l->name, mco_layer_window_extent(l, 0), mco_layer_window_extent(l, 1), in.h, in.w);
        if (l->type == MCO_LAYER_CONV2D) {
            if (l->units <= 0 || l->units > MCO_MAX_DIM)
                return mco_error(MCO_ERR_SHAPE, "layer %d (%s): filters must be positive", index,
                                 l->name);
            l->out_shape.c = l->units;
            l->n_params = 2;
            set_param(&l->params[MCO_PARAM_WEIGHTS], 4, l->units, l->kernel_h, l->kernel_w, in.c / l->groups);
            set_param(&l->params[MCO_PARAM_BIAS], 1, l->units, 0, 0, 0);
        } else if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) {
            if ((int64_t)in.c * l->depth_multiplier > MCO_MAX_DIM)
                return mco_error(MCO_ERR_SHAPE, "layer %d (%s): %d channels times depth multiplier %d is too many",
                                 index, l->name, in.c, l->depth_multiplier);
            l->out_shape.c = in.c * l->depth_multiplier;
            l->n_params = 2;
            set_param(&l->params[MCO_PARAM_WEIGHTS], 3, l->kernel_h, l->kernel_w, l->out_shape.c, 0);
            set_param(&l->params[MCO_PARAM_BIAS], 1, l->out_shape.c, 0, 0, 0);
        }
        break;
    case MCO_LAYER_DENSE:
        if (l->units <= 0 || l->units > MCO_MAX_DIM)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): units must be positive", index, l->name);
        if (in.h != 1 || in.w != 1)
            return mco_error(MCO_ERR_SHAPE,
                             "layer %d (%s): dense input is %dx%dx%d; add a flatten layer first",
                             index, l->name, in.h, in.w, in.c);
        l->out_shape = (mco_shape){1, 1, l->units};
        l->n_params = 2;
        set_param(&l->params[MCO_PARAM_WEIGHTS], 2, l->units, in.c, 0, 0);
        set_param(&l->params[MCO_PARAM_BIAS], 1, l->units, 0, 0, 0);
        break;
    case MCO_LAYER_GLOBAL_AVGPOOL:
        l->out_shape = (mco_shape){1, 1, in.c};
        break;
    case MCO_LAYER_FLATTEN:
        l->out_shape = (mco_shape){1, 1, (int)mco_shape_size(in)};
        break;
    case MCO_LAYER_BATCHNORM:
        l->out_shape = in;
        if (!(l->epsilon > 0.0f)) l->epsilon = 1e-3f;
        if (!(l->momentum > 0.0f && l->momentum < 1.0f)) l->momentum = 0.99f;
        l->n_params = 4;
        for (int p = 0; p < 4; p++) set_param(&l->params[p], 1, in.c, 0, 0, 0);
        break;
    case MCO_LAYER_ADD: {
        if (l->n_inputs != 2)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): add needs two inputs", index, l->name);
        mco_shape other = input_shape_of(model, l->inputs[1]);
        if (other.h != in.h || other.w != in.w || other.c != in.c)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): add inputs differ: %dx%dx%d and %dx%dx%d",
                             index, l->name, in.h, in.w, in.c, other.h, other.w, other.c);
        l->out_shape = in;
        break;
    }
    case MCO_LAYER_CONCAT: {
        mco_shape other = input_shape_of(model, l->inputs[1]);
        if (other.h != in.h || other.w != in.w)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): concat inputs differ in height or width: %dx%dx%d and "
                             "%dx%dx%d", index, l->name, in.h, in.w, in.c, other.h, other.w, other.c);
        if (in.c > MCO_MAX_DIM - other.c)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): %d + %d channels", index, l->name, in.c, other.c);
        l->out_shape = (mco_shape){in.h, in.w, in.c + other.c};
        break;
    }
    case MCO_LAYER_CONV_TRANSPOSE2D:
        if ((st = infer_conv_transpose(l, index)) != MCO_OK) return st;
        break;
    case MCO_LAYER_DROPOUT:
        if (!(l->rate >= 0.0f && l->rate < 1.0f))
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): dropout rate must be in [0, 1)", index,
                             l->name);
        l->out_shape = in;
        break;
    case MCO_LAYER_LEAKY_RELU:
        if (!isfinite(l->alpha))
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): leaky_relu alpha must be finite", index, l->name);
        l->out_shape = in;
        break;
    case MCO_LAYER_HARD_SIGMOID:
        if (!(isfinite(l->alpha) && isfinite(l->beta) && l->alpha != 0.0f))
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): hard_sigmoid alpha must be finite and non-zero, beta "
                             "finite", index, l->name);
        l->out_shape = in;
        break;
    case MCO_LAYER_RELU:
    case MCO_LAYER_RELU6:
    case MCO_LAYER_SOFTMAX:
    case MCO_LAYER_SIGMOID:
    case MCO_LAYER_TANH:
    case MCO_LAYER_HARD_SWISH:
        l->out_shape = in;
        break;
    default:
        return mco_error(MCO_ERR_UNSUPPORTED, "layer %d: unknown layer type %d", index, (int)l->type);
    }
    return MCO_OK;
}

mco_status mco_model_infer_shapes(mco_model *model)
{
    mco_shape s = model->input_shape;
    if (s.h <= 0 || s.w <= 0 || s.c <= 0 || s.h > MCO_MAX_DIM || s.w > MCO_MAX_DIM || s.c > MCO_MAX_DIM)
        return mco_error(MCO_ERR_SHAPE, "input shape %dx%dx%d is not valid", s.h, s.w, s.c);
    if (mco_shape_size(s) > MCO_MAX_TENSOR_SIZE)
        return mco_error(MCO_ERR_SHAPE, "input shape %dx%dx%d is too large", s.h, s.w, s.c);
    if (model->n_layers <= 0) return mco_error(MCO_ERR_SHAPE, "the model has no layers");
    for (int i = 0; i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        int needed = mco_layer_input_count(l->type);
        if (needed == 2 && l->n_inputs != 2)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): %s needs two inputs", i, l->name,
                             mco_layer_type_name(l->type));
        if (needed == 1 && l->n_inputs != 1)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): takes one input, has %d", i, l->name,
                             l->n_inputs);
        for (int k = 0; k < needed; k++) {
            if (l->inputs[k] < MCO_INPUT || l->inputs[k] >= i)
                return mco_error(MCO_ERR_SHAPE, "layer %d (%s): input %d refers to layer %d, not an earlier one",
                                 i, l->name, k, l->inputs[k]);
        }
        l->in_shape = input_shape_of(model, l->inputs[0]);
        mco_status st = infer_layer(model, i);
        if (st != MCO_OK) return st;
        size_t out_size = mco_shape_size(l->out_shape);
        if (out_size == 0 || out_size > MCO_MAX_TENSOR_SIZE)
            return mco_error(MCO_ERR_SHAPE, "layer %d (%s): output size %zu is out of range", i,
                             l->name, out_size);
        for (int p = 0; p < l->n_params; p++)
            if (l->params[p].size > MCO_MAX_TENSOR_SIZE)
                return mco_error(MCO_ERR_SHAPE, "layer %d (%s): parameter %d has more than %zu values", i, l->name,
                                 p, MCO_MAX_TENSOR_SIZE);
    }
    model->n_classes = model->layers[model->n_layers - 1].out_shape.c;
    return MCO_OK;
}

mco_status mco_model_alloc_params(mco_model *model)
{
    for (int i = 0; i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            if (l->params[p].data) continue;
            l->params[p].data = calloc(l->params[p].size, sizeof(float));
            if (!l->params[p].data)
                return mco_error(MCO_ERR_NOMEM, "out of memory for the parameters of layer %s",
                                 l->name);
        }
    }
    return MCO_OK;
}

void mco_model_init_params(mco_model *model, uint64_t seed)
{
    mco_rng rng;
    mco_rng_seed(&rng, seed);
    for (int i = 0; i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        if (l->type == MCO_LAYER_BATCHNORM) {
            for (size_t c = 0; c < l->params[0].size; c++) {
                l->params[MCO_PARAM_BN_GAMMA].data[c] = 1.0f;
                l->params[MCO_PARAM_BN_BETA].data[c] = 0.0f;
                l->params[MCO_PARAM_BN_MEAN].data[c] = 0.0f;
                l->params[MCO_PARAM_BN_VAR].data[c] = 1.0f;
            }
            continue;
        }
        if (l->n_params < 2) continue;
        /* Glorot (Xavier) uniform, the Keras default: limit = sqrt(6 / (fan_in + fan_out)). */
        mco_param *w = &l->params[MCO_PARAM_WEIGHTS];
        double fan_in, fan_out;
        if (l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_CONV_TRANSPOSE2D) {
            double receptive = (double)l->kernel_h * l->kernel_w;
            fan_in = receptive * l->in_shape.c / l->groups;
            fan_out = receptive * l->units / l->groups;
        } else if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) {
            fan_in = fan_out = (double)l->kernel_h * l->kernel_w;
        } else {
            /* Dense: its input is 1x1xC (shape inference requires a Flatten first). */
            fan_in = l->in_shape.c;
            fan_out = l->units;
        }
        float limit = (float)sqrt(6.0 / (fan_in + fan_out));
        for (size_t k = 0; k < w->size; k++) w->data[k] = (2.0f * mco_rng_uniform(&rng) - 1.0f) * limit;
        memset(l->params[MCO_PARAM_BIAS].data, 0, l->params[MCO_PARAM_BIAS].size * sizeof(float));
    }
}

mco_status mco_model_clone(const mco_model *src, mco_model *dst)
{
    *dst = *src;
    dst->layers = NULL;
    dst->n_layers = 0;
    if (src->n_layers > 0) {
        dst->layers = calloc((size_t)src->n_layers, sizeof *dst->layers);
        if (!dst->layers) return mco_error(MCO_ERR_NOMEM, "out of memory cloning a model");
    }
    for (int i = 0; i < src->n_layers; i++) {
        mco_layer *l = &dst->layers[i];
        *l = src->layers[i];
        dst->n_layers = i + 1;
        for (int p = 0; p < MCO_MAX_PARAMS; p++) {
            const float *from = src->layers[i].params[p].data;
            l->params[p].data = NULL;
            if (p >= l->n_params || !from) continue;
            l->params[p].data = malloc(l->params[p].size * sizeof(float));
            if (!l->params[p].data) {
                mco_model_free(dst);
                return mco_error(MCO_ERR_NOMEM, "out of memory cloning a model");
            }
            memcpy(l->params[p].data, from, l->params[p].size * sizeof(float));
        }
    }
    return MCO_OK;
}

void mco_model_free(mco_model *model)
{
    for (int i = 0; i < model->n_layers; i++)
        for (int p = 0; p < MCO_MAX_PARAMS; p++) free(model->layers[i].params[p].data);
    free(model->layers);
    model->layers = NULL;
    model->n_layers = 0;
}

size_t mco_layer_param_count(const mco_layer *layer)
{
    size_t n = 0;
    for (int p = 0; p < layer->n_params; p++) n += layer->params[p].size;
    return n;
}

uint64_t mco_layer_macs(const mco_layer *l)
{
    uint64_t out_pixels = (uint64_t)l->out_shape.h * (uint64_t)l->out_shape.w;
    switch (l->type) {
    case MCO_LAYER_CONV2D:
        return out_pixels * (uint64_t)l->units * (uint64_t)l->kernel_h * (uint64_t)l->kernel_w *
               (uint64_t)(l->in_shape.c / (l->groups > 1 ? l->groups : 1));
    case MCO_LAYER_DEPTHWISE_CONV2D:
        return out_pixels * (uint64_t)l->out_shape.c * (uint64_t)l->kernel_h * (uint64_t)l->kernel_w;
    case MCO_LAYER_CONV_TRANSPOSE2D:   /* every input pixel meets every tap once (some fall in the pads) */
        return (uint64_t)l->in_shape.h * (uint64_t)l->in_shape.w * (uint64_t)l->units * (uint64_t)l->kernel_h *
               (uint64_t)l->kernel_w * (uint64_t)l->in_shape.c;
    case MCO_LAYER_DENSE:
        return (uint64_t)l->units * (uint64_t)l->in_shape.c;
    default:
        return 0;
    }
}

size_t mco_model_param_count(const mco_model *model)
{
    size_t n = 0;
    for (int i = 0; i < model->n_layers; i++) n += mco_layer_param_count(&model->layers[i]);
    return n;
}

uint64_t mco_model_macs(const mco_model *model)
{
    uint64_t n = 0;
    for (int i = 0; i < model->n_layers; i++) n += mco_layer_macs(&model->layers[i]);
    return n;
}

/* Number of layers that read the output of layer `index`. */
static int consumer_count(const mco_model *model, int index)
{
    int n = 0;
    for (int i = 0; i < model->n_layers; i++)
        for (int k = 0; k < model->layers[i].n_inputs; k++)
            if (model->layers[i].inputs[k] == index) n++;
    return n;
}

/* Removes layer `index`, rewiring its consumers to its first input. */
static void remove_layer(mco_model *model, int index)
{
    mco_layer *gone = &model->layers[index];
    int replacement = gone->inputs[0];
    for (int p = 0; p < MCO_MAX_PARAMS; p++) free(gone->params[p].data);
    memmove(gone, gone + 1, (size_t)(model->n_layers - index - 1) * sizeof *gone);
    model->n_layers--;
    for (int i = 0; i < model->n_layers; i++) {
        mco_layer *l = &model->layers[i];
        for (int k = 0; k < l->n_inputs; k++) {
            if (l->inputs[k] == index) l->inputs[k] = replacement;
            else if (l->inputs[k] > index) l->inputs[k]--;
        }
    }
}

/* y = gamma * (x - mean) / sqrt(var + eps) + beta folded into the producer:
 * w' = w * s, b' = (b - mean) * s + beta, with s = gamma / sqrt(var + eps)
 * per output channel. */
static void fold_batchnorm(mco_layer *producer, const mco_layer *bn)
{
    const float *gamma = bn->params[MCO_PARAM_BN_GAMMA].data;
    const float *beta = bn->params[MCO_PARAM_BN_BETA].data;
    const float *mean = bn->params[MCO_PARAM_BN_MEAN].data;
    const float *var = bn->params[MCO_PARAM_BN_VAR].data;
    float *w = producer->params[MCO_PARAM_WEIGHTS].data;
    float *b = producer->params[MCO_PARAM_BIAS].data;
    int channels = bn->in_shape.c;
    size_t per_channel = producer->params[MCO_PARAM_WEIGHTS].size / (size_t)channels;

    for (int c = 0; c < channels; c++) {
        float s = gamma[c] / sqrtf(var[c] + bn->epsilon);
        if (producer->type == MCO_LAYER_DEPTHWISE_CONV2D) {
            /* [kh][kw][c]: channel c is every channels-th weight. */
            for (size_t k = 0; k < per_channel; k++) w[k * (size_t)channels + (size_t)c] *= s;
        } else {
            /* [out][...]: channel c owns one contiguous row. */
            for (size_t k = 0; k < per_channel; k++) w[(size_t)c * per_channel + k] *= s;
        }
        b[c] = (b[c] - mean[c]) * s + beta[c];
    }
}

mco_status mco_model_fold_for_inference(mco_model *model)
{
    for (int i = 0; i < model->n_layers;) {
        mco_layer *l = &model->layers[i];
        if (l->type == MCO_LAYER_DROPOUT && model->n_layers > 1) {
            remove_layer(model, i);
            continue;
        }
        if (l->type == MCO_LAYER_BATCHNORM && l->inputs[0] != MCO_INPUT) {
            mco_layer *producer = &model->layers[l->inputs[0]];
            int foldable = producer->type == MCO_LAYER_CONV2D ||
                           producer->type == MCO_LAYER_DEPTHWISE_CONV2D ||
                           producer->type == MCO_LAYER_DENSE ||
                           producer->type == MCO_LAYER_CONV_TRANSPOSE2D;   /* OHWI, as conv2d */
            if (foldable && consumer_count(model, l->inputs[0]) == 1) {
                fold_batchnorm(producer, l);
                remove_layer(model, i);
                continue;
            }
        }
        i++;
    }
    return mco_model_infer_shapes(model);
}
