/*
 * test_gradcheck.c - finite-difference checks of every layer's backward
 * pass (parameter and input gradients) on tiny random shapes.
 *
 * For a model with output y, the scalar L = sum(y * R) for a fixed random R
 * has dL/dy = R. The analytic gradients from one backward pass are compared
 * with central differences (L(v+eps) - L(v-eps)) / 2eps of every trainable
 * parameter and every input value; L is summed in double.
 *
 * The models run as mcuopt trains them: Conv2D, DepthwiseConv2D, Dense and
 * BatchNorm on their oneDNN fast path (fast_layer.h). check_fast_vs_reference
 * then runs each of those layers (and BatchNorm with its ReLU fused in) on
 * the fast path and on mcuopt's own loops (MCO_NET_REFERENCE) and compares
 * outputs and all gradients.
 *
 * Kinks (ReLU at 0 and 6, max-pool ties) would make finite differences
 * meaningless, so the layers with kinks are tested directly on inputs that
 * stay well away from them, and parameterised layers are tested without a
 * kink after them. Dropout is checked with its mask fixed by reseeding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/rng.h"
#include "mcuopt/graph.h"
#include "mcuopt/status.h"
#include "test_util.h"
#include "train/fast_layer.h"
#include "train/layer_ops.h"
#include "train/net.h"

#define BATCH 3
#define EPS 1e-2f

static mco_rng test_rng;

static float uniform(float lo, float hi)
{
    return lo + (hi - lo) * mco_rng_uniform(&test_rng);
}

/* A layer description with the common defaults (stride 1, valid). */
static mco_layer layer_of(mco_layer_type type)
{
    mco_layer l;
    memset(&l, 0, sizeof(l));
    l.type = type;
    l.stride_h = l.stride_w = 1;
    return l;
}

static mco_layer window_layer(mco_layer_type type, int units, int kh, int kw, int sh, int sw, mco_padding pad)
{
    mco_layer l = layer_of(type);
    l.units = units;
    l.kernel_h = kh;
    l.kernel_w = kw;
    l.stride_h = sh;
    l.stride_w = sw;
    l.padding = pad;
    return l;
}

/* A window layer with explicit pads (top, left, bottom, right). */
static mco_layer padded_layer(mco_layer_type type, int units, int k, int stride, int top, int left, int bottom,
                              int right)
{
    mco_layer l = window_layer(type, units, k, k, stride, stride, MCO_PADDING_EXPLICIT);
    l.pad_top = top;
    l.pad_left = left;
    l.pad_bottom = bottom;
    l.pad_right = right;
    return l;
}

static int add(mco_model *model, mco_layer l)
{
    int index = -2;
    CHECK_OK(mco_model_add_layer(model, &l, &index));
    return index;
}

static int add2(mco_model *model, mco_layer l, int a, int b)
{
    l.n_inputs = 2;
    l.inputs[0] = a;
    l.inputs[1] = b;
    return add(model, l);
}

static double loss_of(mco_net *net, const float *r, size_t out_n, int training)
{
    mco_rng_seed(&net->rng, 42); /* the same dropout mask every time */
    mco_net_forward(net, BATCH, training);
    const float *y = net->act[net->model->n_layers - 1];
    double loss = 0.0;
    for (size_t i = 0; i < out_n; i++)
        loss += (double)y[i] * r[i];
    return loss;
}

static int compare(const char *what, const char *name, size_t i, float analytic, double numeric)
{
    double tol = 2e-3 + 2e-2 * fabs(numeric);
    if (fabs(analytic - numeric) <= tol)
        return 0;
    fprintf(stderr, "  %s: %s[%zu] analytic %.6g numeric %.6g\n", what, name, i, analytic, numeric);
    return 1;
}

/* Central difference of L with respect to *v. */
static double numeric_grad(mco_net *net, const float *r, size_t out_n, int training, float *v)
{
    float saved = *v;
    *v = saved + EPS;
    double plus = loss_of(net, r, out_n, training);
    *v = saved - EPS;
    double minus = loss_of(net, r, out_n, training);
    *v = saved;
    return (plus - minus) / (2.0 * (double)EPS);
}

/* `input` (BATCH samples) may be NULL for uniform(-1, 1) inputs. */
static void gradcheck(const char *what, mco_model *model, const float *input, int training)
{
    CHECK_OK(mco_model_infer_shapes(model));
    CHECK_OK(mco_model_alloc_params(model));
    mco_model_init_params(model, 7);
    for (int l = 0; l < model->n_layers; l++) {
        mco_layer *layer = &model->layers[l];
        for (int p = 0; p < layer->n_params; p++) {
            mco_param *param = &layer->params[p];
            for (size_t k = 0; k < param->size; k++) {
                if (layer->type == MCO_LAYER_BATCHNORM)
                    param->data[k] = p == MCO_PARAM_BN_VAR ? uniform(0.5f, 2.0f) : uniform(0.5f, 1.5f);
                else if (p == MCO_PARAM_BIAS)
                    param->data[k] = uniform(-0.5f, 0.5f);
            }
        }
    }

    mco_net net;
    CHECK_OK(mco_net_init(&net, model, BATCH, MCO_NET_GRADIENTS | MCO_NET_INPUT_GRAD));
    const size_t in_n = BATCH * mco_shape_size(model->input_shape);
    const size_t out_n = BATCH * mco_shape_size(model->layers[model->n_layers - 1].out_shape);
    float r[4096];
    CHECK(out_n <= 4096);
    for (size_t i = 0; i < out_n; i++)
        r[i] = uniform(-1.0f, 1.0f);
    for (size_t i = 0; i < in_n; i++)
        net.input[i] = input ? input[i] : uniform(-1.0f, 1.0f);

    loss_of(&net, r, out_n, training);
    int last = model->n_layers - 1;
    mco_net_zero_grads(&net, BATCH);
    memcpy(net.grad[last], r, out_n * sizeof(float));
    mco_net_backward(&net, BATCH, last, training);

    int bad = 0, checked = 0;
    for (int l = 0; l < model->n_layers; l++) {
        mco_layer *layer = &model->layers[l];
        for (int p = 0; p < layer->n_params; p++) {
            if (!mco_param_is_trainable(layer, p))
                continue;
            const float *g = net.param_grad[l * MCO_MAX_PARAMS + p];
            for (size_t k = 0; k < layer->params[p].size; k++, checked++)
                bad += compare(what, layer->name, k, g[k],
                               numeric_grad(&net, r, out_n, training, &layer->params[p].data[k]));
        }
    }
    float *input_grad = malloc(in_n * sizeof(float));
    memcpy(input_grad, net.input_grad, in_n * sizeof(float));
    for (size_t i = 0; i < in_n; i++, checked++)
        bad += compare(what, "input", i, input_grad[i], numeric_grad(&net, r, out_n, training, &net.input[i]));
    free(input_grad);
    if (bad)
        fprintf(stderr, "%s: %d of %d gradients wrong\n", what, bad, checked);
    CHECK(bad == 0);
    CHECK(checked > 0);
    mco_net_free(&net);
    mco_model_free(model);
}

/* gradcheck of a model of the one layer `l` on inputs of shape `in`. */
static void gradcheck_layer(const char *what, mco_shape in, mco_layer l, const float *input, int training)
{
    mco_model m;
    mco_model_init(&m, in);
    add(&m, l);
    gradcheck(what, &m, input, training);
}

static void check_conv2d(void)
{
    gradcheck_layer("conv2d 3x3 valid", (mco_shape){5, 5, 2},
                    window_layer(MCO_LAYER_CONV2D, 3, 3, 3, 1, 1, MCO_PADDING_VALID), NULL, 1);
    gradcheck_layer("conv2d 3x3 stride 2 same", (mco_shape){6, 5, 2},
                    window_layer(MCO_LAYER_CONV2D, 4, 3, 3, 2, 2, MCO_PADDING_SAME), NULL, 1);
    gradcheck_layer("conv2d 3x2 stride 2x1 same", (mco_shape){5, 4, 3},
                    window_layer(MCO_LAYER_CONV2D, 2, 3, 2, 2, 1, MCO_PADDING_SAME), NULL, 1);
    gradcheck_layer("conv2d one input channel", (mco_shape){6, 6, 1},
                    window_layer(MCO_LAYER_CONV2D, 5, 3, 3, 1, 1, MCO_PADDING_VALID), NULL, 1);
    /* PyTorch's stride-2 padding-1 on an even input (top/left padded), and asymmetric pads. */
    gradcheck_layer("conv2d 3x3 stride 2 pads 1,1,1,1", (mco_shape){6, 6, 2},
                    padded_layer(MCO_LAYER_CONV2D, 3, 3, 2, 1, 1, 1, 1), NULL, 1);
    gradcheck_layer("conv2d 3x3 pads 2,0,1,2", (mco_shape){4, 5, 2},
                    padded_layer(MCO_LAYER_CONV2D, 2, 3, 1, 2, 0, 1, 2), NULL, 1);
}

static void check_depthwise(void)
{
    gradcheck_layer("depthwise 3x3 same", (mco_shape){5, 5, 3},
                    window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 1, 1, MCO_PADDING_SAME), NULL, 1);
    gradcheck_layer("depthwise 3x3 stride 2 valid", (mco_shape){6, 5, 2},
                    window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 2, 2, MCO_PADDING_VALID), NULL, 1);
    gradcheck_layer("depthwise 2x2 pads 1,1,0,0 (SAME_LOWER)", (mco_shape){4, 4, 2},
                    padded_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 2, 1, 1, 1, 0, 0), NULL, 1);
}

/* The general convolution (layer_conv_general.c): groups, dilations and
 * depth multipliers, alone and together, with "same" and explicit pads. */
static mco_layer general_layer(mco_layer l, int dil_h, int dil_w, int groups, int multiplier)
{
    l.dilation_h = dil_h;
    l.dilation_w = dil_w;
    l.groups = groups;
    l.depth_multiplier = multiplier;
    return l;
}

static void check_general_conv(void)
{
    gradcheck_layer("depthwise multiplier 2", (mco_shape){5, 5, 2},
                    general_layer(window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 1, 1, MCO_PADDING_SAME), 1, 1, 1, 2),
                    NULL, 1);
    gradcheck_layer("depthwise multiplier 3 dilation 2x1 stride 2", (mco_shape){7, 6, 2},
                    general_layer(window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 2, 2, 2, MCO_PADDING_VALID), 2, 1, 1, 3),
                    NULL, 1);
    gradcheck_layer("conv2d dilation 2 same", (mco_shape){6, 6, 2},
                    general_layer(window_layer(MCO_LAYER_CONV2D, 3, 3, 3, 1, 1, MCO_PADDING_SAME), 2, 2, 1, 1), NULL, 1);
    gradcheck_layer("conv2d dilation 2 pads 2,1,2,0", (mco_shape){6, 5, 2},
                    general_layer(padded_layer(MCO_LAYER_CONV2D, 3, 3, 1, 2, 1, 2, 0), 2, 2, 1, 1), NULL, 1);
    gradcheck_layer("conv2d groups 2", (mco_shape){4, 4, 4},
                    general_layer(window_layer(MCO_LAYER_CONV2D, 6, 3, 3, 1, 1, MCO_PADDING_SAME), 1, 1, 2, 1), NULL, 1);
    gradcheck_layer("conv2d groups 3 dilation 1x2 stride 2", (mco_shape){5, 7, 3},
                    general_layer(window_layer(MCO_LAYER_CONV2D, 3, 2, 3, 2, 2, MCO_PADDING_VALID), 1, 2, 3, 1), NULL, 1);
}

static void check_dense(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){2, 3, 2});
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    mco_layer dense = layer_of(MCO_LAYER_DENSE);
    dense.units = 11; /* more than 8 inputs and an odd count exercise the dot-product tail */
    add(&m, dense);
    gradcheck("flatten + dense", &m, NULL, 1);

    mco_model_init(&m, (mco_shape){1, 1, 5});
    dense.units = 4;
    add(&m, dense);
    add(&m, layer_of(MCO_LAYER_SOFTMAX));
    gradcheck("dense + softmax", &m, NULL, 1);
}

/* Inputs that are all distinct, at least 0.05 apart (max-pool ties). */
static void distinct_inputs(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = -1.0f + 0.05f * (float)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)mco_rng_below(&test_rng, i + 1);
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

static void check_pooling(void)
{
    float x[BATCH * 5 * 5 * 2];
    distinct_inputs(x, BATCH * 4 * 4 * 2);
    gradcheck_layer("maxpool 2x2 valid", (mco_shape){4, 4, 2},
                    window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID), x, 1);
    float x6[BATCH * 4 * 4 * 6];
    distinct_inputs(x6, BATCH * 4 * 4 * 6);
    gradcheck_layer("maxpool 2x2 valid, 6 channels", (mco_shape){4, 4, 6},
                    window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID), x6, 1);
    distinct_inputs(x, BATCH * 5 * 5 * 2);
    gradcheck_layer("maxpool 3x3 stride 2 same", (mco_shape){5, 5, 2},
                    window_layer(MCO_LAYER_MAXPOOL2D, 0, 3, 3, 2, 2, MCO_PADDING_SAME), x, 1);
    /* ceil_mode-like: 5 -> 3, the last window reaching 2 rows and columns of padding. */
    distinct_inputs(x, BATCH * 5 * 5 * 2);
    gradcheck_layer("maxpool 3x3 stride 2 pads 1,1,2,2", (mco_shape){5, 5, 2},
                    padded_layer(MCO_LAYER_MAXPOOL2D, 0, 3, 2, 1, 1, 2, 2), x, 1);
    /* a ReLU the max pool after it takes in (net.c), on inputs away from 0 */
    mco_model m;
    const mco_layer pools[2] = {window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID),
                                window_layer(MCO_LAYER_MAXPOOL2D, 0, 3, 3, 2, 2, MCO_PADDING_SAME)};
    const char *const names[2] = {"relu + maxpool 2x2 valid (fused)", "relu + maxpool 3x3 stride 2 same (fused)"};
    for (int k = 0; k < 2; k++) {
        distinct_inputs(x, BATCH * 5 * 5 * 2);
        for (size_t i = 0; i < BATCH * 5 * 5 * 2; i++)
            x[i] += 0.025f;
        mco_model_init(&m, (mco_shape){5, 5, 2});
        add(&m, layer_of(MCO_LAYER_RELU));
        add(&m, pools[k]);
        gradcheck(names[k], &m, x, 1);
    }
    gradcheck_layer("avgpool 3x3 stride 2 pads 1,0,2,1", (mco_shape){5, 4, 2},
                    padded_layer(MCO_LAYER_AVGPOOL2D, 0, 3, 2, 1, 0, 2, 1), NULL, 1);
    gradcheck_layer("avgpool 2x2 stride 2 same", (mco_shape){5, 5, 2},
                    window_layer(MCO_LAYER_AVGPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_SAME), NULL, 1);
    gradcheck_layer("avgpool 3x3 valid", (mco_shape){4, 5, 3},
                    window_layer(MCO_LAYER_AVGPOOL2D, 0, 3, 3, 1, 1, MCO_PADDING_VALID), NULL, 1);
    gradcheck_layer("global avgpool", (mco_shape){3, 4, 3}, layer_of(MCO_LAYER_GLOBAL_AVGPOOL), NULL, 1);
    mco_layer counted = padded_layer(MCO_LAYER_AVGPOOL2D, 0, 3, 2, 1, 0, 2, 1);
    counted.count_pad = 1;
    gradcheck_layer("avgpool 3x3 stride 2 pads 1,0,2,1 count_pad", (mco_shape){5, 4, 2}, counted, NULL, 1);
}

/* The forward of an average pool counting its padding: 3x3 "same" over a
 * 3x3 input of ones gives the share of each window inside the input
 * (corners 4/9, edges 6/9, centre 1), where the plain pool gives 1. */
static void check_count_pad_forward(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){3, 3, 1});
    mco_layer l = window_layer(MCO_LAYER_AVGPOOL2D, 0, 3, 3, 1, 1, MCO_PADDING_SAME);
    l.count_pad = 1;
    add(&m, l);
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_net net;
    CHECK_OK(mco_net_init(&net, &m, BATCH, 0));
    for (size_t i = 0; i < BATCH * 9; i++) net.input[i] = 1.0f;
    mco_net_forward(&net, BATCH, 0);
    static const float want[9] = {4.0f / 9, 6.0f / 9, 4.0f / 9, 6.0f / 9, 1.0f, 6.0f / 9, 4.0f / 9, 6.0f / 9, 4.0f / 9};
    for (size_t i = 0; i < BATCH * 9; i++) CHECK(fabsf(net.act[0][i] - want[i % 9]) < 1e-6f);
    mco_net_free(&net);
    mco_model_free(&m);
}

static void check_activations(void)
{
    /* Values on both sides of 0 and 6, at least 0.1 away from either. */
    float x[BATCH * 3 * 3 * 2];
    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
        float v = uniform(0.1f, 1.0f);
        int kind = (int)mco_rng_below(&test_rng, 3);
        x[i] = kind == 0 ? -v : kind == 1 ? 6.0f * v - 0.05f : 6.1f + v;
        if (x[i] > -0.1f && x[i] < 0.1f)
            x[i] = 0.5f;
    }
    gradcheck_layer("relu", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_RELU), x, 1);
    gradcheck_layer("relu6", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_RELU6), x, 1);
    gradcheck_layer("softmax per pixel", (mco_shape){2, 2, 4}, layer_of(MCO_LAYER_SOFTMAX), NULL, 1);

    /* The smooth and leaky ones: inputs over [-5, 5] kept 0.1 away from
     * every kink (0 for LeakyReLU, +-2.5 for HardSigmoid 0.2 / 0.5, +-3 for
     * HardSwish). */
    static const float kinks[] = {0.0f, -2.5f, 2.5f, -3.0f, 3.0f};
    float y[BATCH * 3 * 3 * 2];
    for (size_t i = 0; i < sizeof(y) / sizeof(y[0]); i++) {
        y[i] = uniform(-5.0f, 5.0f);
        for (size_t k = 0; k < sizeof(kinks) / sizeof(kinks[0]); k++)
            if (fabsf(y[i] - kinks[k]) < 0.1f)
                y[i] = kinks[k] + 0.3f;
    }
    mco_layer leaky = layer_of(MCO_LAYER_LEAKY_RELU), hard_sigmoid = layer_of(MCO_LAYER_HARD_SIGMOID);
    leaky.alpha = 0.1f;
    hard_sigmoid.alpha = 0.2f;
    hard_sigmoid.beta = 0.5f;
    gradcheck_layer("sigmoid", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_SIGMOID), y, 1);
    gradcheck_layer("tanh", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_TANH), y, 1);
    gradcheck_layer("leaky_relu 0.1", (mco_shape){3, 3, 2}, leaky, y, 1);
    gradcheck_layer("hard_sigmoid 0.2 0.5", (mco_shape){3, 3, 2}, hard_sigmoid, y, 1);
    gradcheck_layer("hard_swish", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_HARD_SWISH), y, 1);
}

static void check_batchnorm(void)
{
    gradcheck_layer("batchnorm training", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_BATCHNORM), NULL, 1);
    gradcheck_layer("batchnorm inference", (mco_shape){3, 3, 2}, layer_of(MCO_LAYER_BATCHNORM), NULL, 0);

    /* conv -> BN: the statistics depend on the conv parameters */
    mco_model m;
    mco_model_init(&m, (mco_shape){4, 4, 2});
    add(&m, window_layer(MCO_LAYER_CONV2D, 3, 3, 3, 1, 1, MCO_PADDING_SAME));
    add(&m, layer_of(MCO_LAYER_BATCHNORM));
    gradcheck("conv2d + batchnorm training", &m, NULL, 1);
}

static void check_add(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){4, 4, 2});
    int a = add(&m, window_layer(MCO_LAYER_CONV2D, 2, 3, 3, 1, 1, MCO_PADDING_SAME));
    mco_layer dw = window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 1, 1, MCO_PADDING_SAME);
    dw.n_inputs = 1;
    dw.inputs[0] = MCO_INPUT;
    int b = add(&m, dw);
    add2(&m, layer_of(MCO_LAYER_ADD), a, b);
    gradcheck("add of conv and depthwise branches", &m, NULL, 1);

    /* residual: input + conv(input), then the sum used twice */
    mco_model_init(&m, (mco_shape){3, 3, 2});
    a = add(&m, window_layer(MCO_LAYER_CONV2D, 2, 3, 3, 1, 1, MCO_PADDING_SAME));
    int s = add2(&m, layer_of(MCO_LAYER_ADD), MCO_INPUT, a);
    add2(&m, layer_of(MCO_LAYER_ADD), s, s);
    gradcheck("residual add", &m, NULL, 1);
}

/* Concat: a conv branch (3 channels) beside the input (2), then a conv
 * reading the 5 channels; and the input beside itself (both slices of the
 * gradient reach the one tensor). */
static void check_concat(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){4, 3, 2});
    int a = add(&m, window_layer(MCO_LAYER_CONV2D, 3, 3, 3, 1, 1, MCO_PADDING_SAME));
    add2(&m, layer_of(MCO_LAYER_CONCAT), a, MCO_INPUT);
    add(&m, window_layer(MCO_LAYER_CONV2D, 2, 1, 1, 1, 1, MCO_PADDING_VALID));
    gradcheck("concat of a conv and the input", &m, NULL, 1);

    mco_model_init(&m, (mco_shape){3, 3, 2});
    add2(&m, layer_of(MCO_LAYER_CONCAT), MCO_INPUT, MCO_INPUT);
    add(&m, window_layer(MCO_LAYER_CONV2D, 2, 3, 3, 1, 1, MCO_PADDING_SAME));
    gradcheck("concat of the input with itself", &m, NULL, 1);
}

/* ConvTranspose2D: the forward pass against a scatter written here (each
 * input pixel adds w * x into the output pixels it reaches, the pads
 * cropped), then gradients: stride 2 with output padding, stride 1 with
 * pads, stride 2 with pads and output padding, a 2x3 kernel. */
static mco_layer conv_transpose_layer(int units, int kh, int kw, int stride, int pad, int out_pad)
{
    mco_layer l = window_layer(MCO_LAYER_CONV_TRANSPOSE2D, units, kh, kw, stride, stride,
                               pad ? MCO_PADDING_EXPLICIT : MCO_PADDING_VALID);
    l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = pad;
    l.output_pad_h = l.output_pad_w = out_pad;
    return l;
}

static void check_conv_transpose_forward(mco_layer l, mco_shape in)
{
    mco_model m;
    mco_model_init(&m, in);
    add(&m, l);
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 7);
    const mco_layer *t = &m.layers[0];
    for (int o = 0; o < t->units; o++) t->params[MCO_PARAM_BIAS].data[o] = uniform(-1.0f, 1.0f);
    mco_net net;
    CHECK_OK(mco_net_init(&net, &m, BATCH, 0));
    size_t in_n = mco_shape_size(in), out_n = mco_shape_size(t->out_shape);
    for (size_t i = 0; i < BATCH * in_n; i++) net.input[i] = uniform(-1.0f, 1.0f);
    mco_net_forward(&net, BATCH, 0);
    int oh = t->out_shape.h, ow = t->out_shape.w, oc = t->units, ic = in.c;
    double *want = calloc(out_n, sizeof *want);
    CHECK(want != NULL);
    int bad = 0;
    for (int n = 0; n < BATCH; n++) {
        const float *x = net.input + (size_t)n * in_n;
        for (size_t k = 0; k < out_n; k++) want[k] = t->params[MCO_PARAM_BIAS].data[k % (size_t)oc];
        for (int iy = 0; iy < in.h; iy++)
            for (int ix = 0; ix < in.w; ix++)
                for (int ky = 0; ky < t->kernel_h; ky++)
                    for (int kx = 0; kx < t->kernel_w; kx++) {
                        int oy = iy * t->stride_h + ky - t->pad_top, ox = ix * t->stride_w + kx - t->pad_left;
                        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                        for (int o = 0; o < oc; o++)
                            for (int i = 0; i < ic; i++)
                                want[((size_t)oy * ow + ox) * oc + o] +=
                                    (double)x[((size_t)iy * in.w + ix) * ic + i] *
                                    t->params[MCO_PARAM_WEIGHTS].data[(((size_t)o * t->kernel_h + ky) * t->kernel_w + kx) * ic + i];
                    }
        for (size_t k = 0; k < out_n; k++)
            if (fabs(net.act[0][(size_t)n * out_n + k] - want[k]) > 1e-5) bad++;
    }
    if (bad) fprintf(stderr, "  conv_transpose2d forward: %d of %zu values differ from the scatter\n", bad, BATCH * out_n);
    CHECK(bad == 0);
    free(want);
    mco_net_free(&net);
    mco_model_free(&m);
}

static void check_conv_transpose(void)
{
    check_conv_transpose_forward(conv_transpose_layer(3, 3, 3, 2, 0, 1), (mco_shape){3, 4, 2});
    check_conv_transpose_forward(conv_transpose_layer(2, 3, 3, 1, 1, 0), (mco_shape){4, 3, 3});
    check_conv_transpose_forward(conv_transpose_layer(2, 3, 3, 2, 1, 1), (mco_shape){3, 3, 2});
    check_conv_transpose_forward(conv_transpose_layer(2, 2, 3, 3, 0, 2), (mco_shape){2, 3, 1});
    check_conv_transpose_forward(conv_transpose_layer(2, 2, 2, 3, 0, 0), (mco_shape){2, 2, 2});   /* gaps */

    mco_model m;
    mco_model_init(&m, (mco_shape){3, 2, 2});
    add(&m, conv_transpose_layer(3, 3, 3, 2, 0, 1));
    gradcheck("conv_transpose2d stride 2, output padding 1", &m, NULL, 1);
    mco_model_init(&m, (mco_shape){3, 3, 2});
    add(&m, conv_transpose_layer(2, 3, 3, 1, 1, 0));
    gradcheck("conv_transpose2d stride 1, pads 1", &m, NULL, 1);
    mco_model_init(&m, (mco_shape){3, 3, 2});
    add(&m, conv_transpose_layer(2, 3, 3, 2, 1, 1));
    gradcheck("conv_transpose2d stride 2, pads 1, output padding 1", &m, NULL, 1);
    mco_model_init(&m, (mco_shape){2, 3, 1});
    add(&m, conv_transpose_layer(2, 2, 3, 3, 0, 2));
    gradcheck("conv_transpose2d 2x3 kernel, stride 3", &m, NULL, 1);
}

static void check_dropout(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){3, 3, 4});
    mco_layer drop = layer_of(MCO_LAYER_DROPOUT);
    drop.rate = 0.5f;
    add(&m, drop);
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    mco_layer dense = layer_of(MCO_LAYER_DENSE);
    dense.units = 3;
    add(&m, dense);
    gradcheck("dropout (fixed mask) + dense", &m, NULL, 1);

    gradcheck_layer("dropout inference", (mco_shape){2, 2, 3}, drop, NULL, 0);
}

/* Relative-and-absolute closeness of two float arrays; names the first miss. */
static int arrays_close(const char *what, const char *name, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-4f + 1e-3f * fabsf(b[i]))) {
            fprintf(stderr, "  %s: %s[%zu] fast %.7g reference %.7g\n", what, name, i, a[i], b[i]);
            return 0;
        }
    return 1;
}

/* Runs `model` (shapes inferred) forward and backward on the fast path and
 * on the reference loops from the same parameters and input, and compares
 * every output, parameter gradient and the input gradient. */
static void compare_paths(const char *what, mco_model *model, int batch)
{
    CHECK_OK(mco_model_infer_shapes(model));
    CHECK_OK(mco_model_alloc_params(model));
    mco_model_init_params(model, 11);
    mco_net fast, ref;
    const int flags = MCO_NET_GRADIENTS | MCO_NET_INPUT_GRAD;
    CHECK_OK(mco_net_init(&fast, model, batch, flags));
    CHECK_OK(mco_net_init(&ref, model, batch, flags | MCO_NET_REFERENCE));
    int on_fast_path = 0;
    for (int l = 0; l < model->n_layers; l++)
        on_fast_path += fast.fast[l] != NULL;
    CHECK(on_fast_path > 0); /* else this compares the reference with itself */

    const size_t in_n = (size_t)batch * mco_shape_size(model->input_shape);
    const int last = model->n_layers - 1;
    const size_t out_n = (size_t)batch * mco_shape_size(model->layers[last].out_shape);
    for (size_t i = 0; i < in_n; i++)
        fast.input[i] = ref.input[i] = uniform(-1.0f, 1.0f);
    float *r = malloc(out_n * sizeof(float));
    for (size_t i = 0; i < out_n; i++)
        r[i] = uniform(-1.0f, 1.0f);
    mco_net *nets[2] = {&fast, &ref};
    for (int k = 0; k < 2; k++) {
        mco_net_forward(nets[k], batch, 1);
        mco_net_zero_grads(nets[k], batch);
        memcpy(nets[k]->grad[last], r, out_n * sizeof(float));
        mco_net_backward(nets[k], batch, last, 1);
    }
    CHECK(arrays_close(what, "output", fast.act[last], ref.act[last], out_n));
    CHECK(arrays_close(what, "parameter gradients", fast.param_grads, ref.param_grads, mco_model_param_floats(model)));
    CHECK(arrays_close(what, "input gradient", fast.input_grad, ref.input_grad, in_n));
    free(r);
    mco_net_free(&fast);
    mco_net_free(&ref);
    mco_model_free(model);
}

static void compare_layer(const char *what, mco_shape in, mco_layer l, int batch)
{
    mco_model m;
    mco_model_init(&m, in);
    add(&m, l);
    compare_paths(what, &m, batch);
}

static void check_fast_vs_reference(void)
{
    compare_layer("fast conv2d 3x3 same", (mco_shape){8, 8, 16},
                  window_layer(MCO_LAYER_CONV2D, 16, 3, 3, 1, 1, MCO_PADDING_SAME), 5);
    compare_layer("fast conv2d 3x3 stride 2 same", (mco_shape){9, 8, 5},
                  window_layer(MCO_LAYER_CONV2D, 7, 3, 3, 2, 2, MCO_PADDING_SAME), 4);
    compare_layer("fast conv2d 10x4 stride 2 same, one channel", (mco_shape){13, 10, 1},
                  window_layer(MCO_LAYER_CONV2D, 8, 10, 4, 2, 2, MCO_PADDING_SAME), 3);
    compare_layer("fast conv2d 3x3 valid stride 2 (window short of the end)", (mco_shape){8, 8, 3},
                  window_layer(MCO_LAYER_CONV2D, 4, 3, 3, 2, 2, MCO_PADDING_VALID), 3);
    compare_layer("fast conv2d 1x1 stride 2", (mco_shape){8, 8, 16},
                  window_layer(MCO_LAYER_CONV2D, 32, 1, 1, 2, 2, MCO_PADDING_SAME), 3);
    compare_layer("fast conv2d pads 2,0,1,2", (mco_shape){6, 7, 3}, padded_layer(MCO_LAYER_CONV2D, 5, 3, 1, 2, 0, 1, 2),
                  2);
    compare_layer("fast depthwise 3x3 same", (mco_shape){7, 5, 64},
                  window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 1, 1, MCO_PADDING_SAME), 4);
    compare_layer("fast depthwise 3x3 stride 2 valid", (mco_shape){9, 8, 6},
                  window_layer(MCO_LAYER_DEPTHWISE_CONV2D, 0, 3, 3, 2, 2, MCO_PADDING_VALID), 3);
    mco_layer dense = layer_of(MCO_LAYER_DENSE);
    dense.units = 10;
    compare_layer("fast dense", (mco_shape){1, 1, 70}, dense, 6);
    compare_layer("fast batchnorm", (mco_shape){5, 4, 16}, layer_of(MCO_LAYER_BATCHNORM), 4);

    /* conv -> BN -> ReLU (fused) -> flatten -> dense; a residual add whose input gradient has two writers */
    mco_model m;
    mco_model_init(&m, (mco_shape){6, 6, 4});
    add(&m, window_layer(MCO_LAYER_CONV2D, 8, 3, 3, 1, 1, MCO_PADDING_SAME));
    add(&m, layer_of(MCO_LAYER_BATCHNORM));
    int relu = add(&m, layer_of(MCO_LAYER_RELU));
    int conv = add(&m, window_layer(MCO_LAYER_CONV2D, 8, 3, 3, 1, 1, MCO_PADDING_SAME));
    add2(&m, layer_of(MCO_LAYER_ADD), relu, conv);
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    dense.units = 5;
    add(&m, dense);
    compare_paths("fast conv + batchnorm + relu (fused) + residual add + dense", &m, 3);

    /* mnist-paper's shape: the ReLU writes (not adds) the conv's output gradient */
    mco_model_init(&m, (mco_shape){10, 10, 1});
    add(&m, window_layer(MCO_LAYER_CONV2D, 12, 3, 3, 1, 1, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    dense.units = 10;
    add(&m, dense);
    compare_paths("fast conv + relu + maxpool + flatten + dense", &m, 4);

    /* 7 channels: a block of 4 and a last block redoing one channel, stored */
    mco_model_init(&m, (mco_shape){10, 10, 2});
    add(&m, window_layer(MCO_LAYER_CONV2D, 7, 3, 3, 1, 1, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    dense.units = 10;
    add(&m, dense);
    compare_paths("fast conv (7 channels) + relu + maxpool + flatten + dense", &m, 3);

    /* overlapping pool windows (6 channels): the fused max pool adds its gradient */
    mco_model_init(&m, (mco_shape){9, 9, 3});
    add(&m, window_layer(MCO_LAYER_CONV2D, 6, 3, 3, 1, 1, MCO_PADDING_SAME));
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, window_layer(MCO_LAYER_MAXPOOL2D, 0, 3, 3, 2, 2, MCO_PADDING_SAME));
    add(&m, window_layer(MCO_LAYER_CONV2D, 4, 3, 3, 1, 1, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    dense.units = 3;
    add(&m, dense);
    compare_paths("fast conv + relu + maxpool 3x3 stride 2 (fused, overlapping) + conv + dense", &m, 3);
}

/* Which workspaces take a ReLU into the max pool after it, and that a
 * workspace with MCO_NET_ALL_OUTPUTS still writes the ReLU's output. */
static void check_relu_into_pool(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){8, 8, 2});
    add(&m, window_layer(MCO_LAYER_CONV2D, 4, 3, 3, 1, 1, MCO_PADDING_VALID));
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID));
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 5);
    mco_net fused, all, ref;
    CHECK_OK(mco_net_init(&fused, &m, 2, MCO_NET_GRADIENTS));
    CHECK_OK(mco_net_init(&all, &m, 2, MCO_NET_GRADIENTS | MCO_NET_ALL_OUTPUTS));
    CHECK_OK(mco_net_init(&ref, &m, 2, MCO_NET_GRADIENTS | MCO_NET_REFERENCE));
    CHECK(fused.pool_takes_relu[2] && !fused.fuses_relu[0]);
    CHECK(!all.pool_takes_relu[2] && !all.fuses_relu[0] && !ref.pool_takes_relu[2]);
    const size_t in_n = 2 * mco_shape_size(m.input_shape), conv_n = 2 * mco_shape_size(m.layers[0].out_shape);
    for (size_t i = 0; i < in_n; i++)
        fused.input[i] = all.input[i] = uniform(-1.0f, 1.0f);
    mco_net_forward(&fused, 2, 0);
    mco_net_forward(&all, 2, 0);
    int positive = 0;
    for (size_t i = 0; i < conv_n; i++) {
        CHECK(all.act[1][i] == (all.act[0][i] > 0.0f ? all.act[0][i] : 0.0f));
        positive += all.act[1][i] > 0.0f;
    }
    CHECK(positive > 0 && positive < (int)conv_n);
    CHECK(arrays_close("relu into pool", "output", fused.act[2], all.act[2], conv_n / 4));
    mco_net_free(&fused);
    mco_net_free(&all);
    mco_net_free(&ref);
    mco_model_free(&m);

    /* the kinks, exactly: a window whose maximum is 0 passes no gradient (ReLU's
     * mask), and a tie sends it to the first maximum */
    mco_model_init(&m, (mco_shape){2, 2, 1});
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, window_layer(MCO_LAYER_MAXPOOL2D, 0, 2, 2, 2, 2, MCO_PADDING_VALID));
    CHECK_OK(mco_model_infer_shapes(&m));
    const float x[8] = {-1.0f, 0.0f, -2.0f, 0.0f, -1.0f, 0.5f, 0.5f, -2.0f};
    const float want[8] = {0, 0, 0, 0, 0, 1.5f, 0, 0};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(mco_net_init(&fused, &m, 2, MCO_NET_GRADIENTS | MCO_NET_INPUT_GRAD | (k ? MCO_NET_REFERENCE : 0)));
        CHECK(fused.pool_takes_relu[1] == !k);
        memcpy(fused.input, x, sizeof(x));
        mco_net_forward(&fused, 2, 1);
        CHECK(fused.act[1][0] == 0.0f && fused.act[1][1] == 0.5f);
        mco_net_zero_grads(&fused, 2);
        fused.grad[1][0] = 2.5f;
        fused.grad[1][1] = 1.5f;
        mco_net_backward(&fused, 2, 1, 1);
        for (int i = 0; i < 8; i++)
            CHECK(fused.input_grad[i] == want[i]);
        mco_net_free(&fused);
    }
    mco_model_free(&m);
}

/* One workspace run at more batch sizes than the fast path keeps plans for
 * (the last is rebuilt each time), forward and backward, against the
 * reference loops. */
static void check_fast_batch_sizes(void)
{
    mco_model m;
    mco_model_init(&m, (mco_shape){6, 5, 3});
    add(&m, window_layer(MCO_LAYER_CONV2D, 8, 3, 3, 1, 1, MCO_PADDING_SAME));
    add(&m, layer_of(MCO_LAYER_BATCHNORM));
    add(&m, layer_of(MCO_LAYER_RELU));
    add(&m, layer_of(MCO_LAYER_FLATTEN));
    mco_layer dense = layer_of(MCO_LAYER_DENSE);
    dense.units = 4;
    add(&m, dense);
    CHECK_OK(mco_model_infer_shapes(&m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 3);
    const int max_batch = 6, last = m.n_layers - 1;
    mco_net fast, ref;
    CHECK_OK(mco_net_init(&fast, &m, max_batch, MCO_NET_GRADIENTS | MCO_NET_INPUT_GRAD));
    CHECK_OK(mco_net_init(&ref, &m, max_batch, MCO_NET_GRADIENTS | MCO_NET_INPUT_GRAD | MCO_NET_REFERENCE));
    const int sizes[] = {6, 5, 4, 3, 2, 1, 6, 3, 5};
    const size_t in_size = mco_shape_size(m.input_shape), out_size = mco_shape_size(m.layers[last].out_shape);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        const int b = sizes[k];
        for (size_t i = 0; i < (size_t)b * in_size; i++)
            fast.input[i] = ref.input[i] = uniform(-1.0f, 1.0f);
        mco_net *nets[2] = {&fast, &ref};
        for (int n = 0; n < 2; n++) {
            mco_net_forward(nets[n], b, 1);
            mco_net_zero_grads(nets[n], b);
            for (size_t i = 0; i < (size_t)b * out_size; i++)
                nets[n]->grad[last][i] = 0.1f * (float)(i % 7) - 0.3f;
            mco_net_backward(nets[n], b, last, 1);
        }
        char what[64];
        snprintf(what, sizeof(what), "fast path, batch %d", b);
        CHECK(arrays_close(what, "output", fast.act[last], ref.act[last], (size_t)b * out_size));
        CHECK(arrays_close(what, "input gradient", fast.input_grad, ref.input_grad, (size_t)b * in_size));
        CHECK(arrays_close(what, "parameter gradients", fast.param_grads, ref.param_grads,
                           mco_model_param_floats(&m)));
    }
    mco_net_free(&fast);
    mco_net_free(&ref);
    mco_model_free(&m);
}

int main(void)
{
    mco_rng_seed(&test_rng, 2024);
    check_conv2d();
    check_depthwise();
    check_dense();
    check_pooling();
    check_count_pad_forward();
    check_concat();
    check_conv_transpose();
    check_general_conv();
    check_activations();
    check_batchnorm();
    check_add();
    check_dropout();
    check_fast_vs_reference();
    check_fast_batch_sizes();
    check_relu_into_pool();
    TEST_MAIN_END();
}
