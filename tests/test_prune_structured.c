/*
 * test_prune_structured.c - structured pruning: removing channels that are
 * already all-zero leaves the model's outputs bit-for-bit unchanged through
 * conv -> relu -> maxpool -> flatten -> dense, conv -> batchnorm -> relu ->
 * conv, dense -> relu -> dense, depthwise chains (ds-cnn-s) and residual Add groups (resnet8 and a
 * small residual block ending in global pooling and dense); parameter and
 * MAC counts; the channel groups of the built-in networks; L1 / L2 ranking
 * and APoZ / mean activation on hand-made cases; determinism; the classes
 * are never pruned; errors; the sensitivity table.
 *
 * Exactness: the trainer's Dense uses a dot product with eight partial sums,
 * so dropping input columns changes which partial sum a value lands in. The
 * models whose Dense inputs are pruned therefore use small dyadic weights
 * (multiples of 1/4) and integer inputs, for which every sum is exact in any
 * order; Conv2D and DepthwiseConv2D sum their taps in order, where adding
 * an exact 0 changes nothing, so the larger networks need no such care.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"
#include "mcuopt/prune_structured.h"
#include "mcuopt/train.h"
#include "test_util.h"

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* A model from architecture text with dyadic parameters: weights and biases
 * in {-1/2, -1/4, 0, 1/4, 1/2}, BatchNorm with gamma in {1/2, 1}, beta and
 * mean in quarters and var + epsilon exactly 1. */
static void make_model(const char *text, uint32_t seed, mco_model *m)
{
    CHECK_OK(mco_arch_parse(text, "test", (mco_shape){0, 0, 0}, 0, m));
    CHECK_OK(mco_model_alloc_params(m));
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        if (l->type == MCO_LAYER_BATCHNORM) {
            l->epsilon = 1.0f / 1024.0f;
            for (size_t k = 0; k < l->params[0].size; k++) {
                l->params[MCO_PARAM_BN_GAMMA].data[k] = (float)(1 + lcg(&seed) % 2) * 0.5f;
                l->params[MCO_PARAM_BN_BETA].data[k] = ((float)(lcg(&seed) % 5) - 2.0f) * 0.25f;
                l->params[MCO_PARAM_BN_MEAN].data[k] = ((float)(lcg(&seed) % 5) - 2.0f) * 0.25f;
                l->params[MCO_PARAM_BN_VAR].data[k] = 1.0f - 1.0f / 1024.0f;
            }
            continue;
        }
        for (int p = 0; p < l->n_params; p++)
            for (size_t k = 0; k < l->params[p].size; k++)
                l->params[p].data[k] = ((float)(lcg(&seed) % 5) - 2.0f) * 0.25f;
    }
}

/* `n` inputs of integers in [-2, 2]. */
static float *make_inputs(const mco_model *m, int n, uint32_t seed)
{
    size_t size = mco_shape_size(m->input_shape) * (size_t)n;
    float *x = malloc(size * sizeof *x);
    for (size_t k = 0; k < size; k++) x[k] = (float)(lcg(&seed) % 5) - 2.0f;
    return x;
}

static int layer_index(const mco_model *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0) return i;
    fprintf(stderr, "no layer %s\n", name);
    return -1;
}

/* Makes channel k of the group output exactly 0 everywhere in the group:
 * zero filters and biases in its producers and depthwise layers, zero beta
 * and mean in its BatchNorms. */
static void zero_channel(mco_model *m, int layer, int k)
{
    mco_channel_groups groups;
    CHECK_OK(mco_channel_groups_find(m, &groups));
    int g = mco_channel_group_of(&groups, layer);
    for (int i = 0; i < m->n_layers; i++) {
        mco_layer *l = &m->layers[i];
        if (groups.layer_group[i] != g) continue;
        if (l->type == MCO_LAYER_CONV2D || l->type == MCO_LAYER_DENSE) {
            size_t row = l->params[MCO_PARAM_WEIGHTS].size / (size_t)l->units;
            memset(l->params[MCO_PARAM_WEIGHTS].data + (size_t)k * row, 0, row * sizeof(float));
            l->params[MCO_PARAM_BIAS].data[k] = 0.0f;
        } else if (l->type == MCO_LAYER_DEPTHWISE_CONV2D) {
            l->params[MCO_PARAM_BIAS].data[k] = 0.0f;   /* its weights stay: 0 in gives 0 out */
        } else if (l->type == MCO_LAYER_BATCHNORM) {
            l->params[MCO_PARAM_BN_BETA].data[k] = 0.0f;
            l->params[MCO_PARAM_BN_MEAN].data[k] = 0.0f;
        }
    }
    mco_channel_groups_free(&groups);
}

/* Outputs of `before` and `after` on the same inputs are bitwise equal. */
static void check_same_outputs(const mco_model *before, const mco_model *after, int n)
{
    float *x = make_inputs(before, n, 77);
    size_t out = mco_shape_size(before->layers[before->n_layers - 1].out_shape) * (size_t)n;
    CHECK(mco_shape_size(after->layers[after->n_layers - 1].out_shape) * (size_t)n == out);
    float *y0 = malloc(out * sizeof(float)), *y1 = malloc(out * sizeof(float));
    CHECK_OK(mco_model_predict(before, x, n, y0));
    CHECK_OK(mco_model_predict(after, x, n, y1));
    CHECK(memcmp(y0, y1, out * sizeof(float)) == 0);
    int nonzero = 0;
    for (size_t k = 0; k < out; k++) nonzero += y0[k] != 0.0f;
    CHECK(nonzero > 0);   /* the comparison is not between two all-zero outputs */
    free(x);
    free(y0);
    free(y1);
}

/* Per-layer ratios: `ratio` for the named layers, 0 elsewhere. */
static float *ratios_for(const mco_model *m, const char *const *names, float ratio)
{
    float *r = calloc((size_t)m->n_layers, sizeof *r);
    for (; *names; names++) r[layer_index(m, *names)] = ratio;
    return r;
}

static const char *FLAT_CNN = "input 6 6 1\n"
                              "conv = conv2d filters=6 kernel=3 padding=valid\n"
                              "relu\n"
                              "maxpool2d pool=2\n"
                              "flatten\n"
                              "out = dense units=5\n";

static void test_conv_flatten_dense(void)
{
    mco_model m, pruned;
    make_model(FLAT_CNN, 1, &m);
    zero_channel(&m, 0, 1);
    zero_channel(&m, 0, 4);
    CHECK_OK(mco_model_clone(&m, &pruned));
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.ratio = 0.34f;   /* round(0.34 * 6) = 2 */
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));

    const mco_layer *c0 = &m.layers[0], *c1 = &pruned.layers[0];
    const mco_layer *d0 = &m.layers[4], *d1 = &pruned.layers[4];
    CHECK(c1->units == 4 && c1->out_shape.c == 4);
    CHECK(d1->units == 5 && d1->in_shape.c == 16);
    /* Kept filters 0, 2, 3, 5 in order; dense keeps columns (p * 6 + c) for those c. */
    static const int kept[4] = {0, 2, 3, 5};
    for (int k = 0; k < 4; k++) {
        CHECK(memcmp(c1->params[0].data + k * 9, c0->params[0].data + kept[k] * 9, 9 * sizeof(float)) == 0);
        CHECK(c1->params[1].data[k] == c0->params[1].data[kept[k]]);
    }
    int columns_ok = 1;
    for (int u = 0; u < 5; u++)
        for (int p = 0; p < 4; p++)
            for (int k = 0; k < 4; k++)
                columns_ok &= d1->params[0].data[u * 16 + p * 4 + k] == d0->params[0].data[u * 24 + p * 6 + kept[k]];
    CHECK(columns_ok);
    CHECK(memcmp(d1->params[1].data, d0->params[1].data, 5 * sizeof(float)) == 0);

    /* Counts: conv 6*(9+1) -> 4*(9+1), dense 5*(24+1) -> 5*(16+1). */
    CHECK(mco_model_param_count(&m) == 60 + 125);
    CHECK(mco_model_param_count(&pruned) == 40 + 85);
    CHECK(mco_model_macs(&m) == 16 * 6 * 9 + 5 * 24);
    CHECK(mco_model_macs(&pruned) == 16 * 4 * 9 + 5 * 16);
    check_same_outputs(&m, &pruned, 8);

    /* The pruned model survives a save/load round trip. */
    uint8_t *bytes;
    size_t size;
    mco_model loaded;
    CHECK_OK(mco_model_serialize(&pruned, &bytes, &size));
    CHECK_OK(mco_model_deserialize(bytes, size, "memory", &loaded));
    check_same_outputs(&pruned, &loaded, 4);
    free(bytes);
    mco_model_free(&loaded);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

static void test_conv_bn_relu_conv(void)
{
    static const char *text = "input 6 6 2\n"
                              "a = conv2d filters=4 kernel=3 padding=same\n"
                              "batchnorm\n"
                              "relu\n"
                              "b = conv2d filters=3 kernel=3 padding=same\n"
                              "relu\n"
                              "global_avgpool\n"
                              "dense units=3\n";
    mco_model m, pruned;
    make_model(text, 2, &m);
    zero_channel(&m, 0, 0);
    zero_channel(&m, 0, 2);
    CHECK_OK(mco_model_clone(&m, &pruned));
    static const char *const names[] = {"a", NULL};
    float *ratios = ratios_for(&m, names, 0.5f);
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.layer_ratios = ratios;
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));
    CHECK(pruned.layers[0].units == 2);
    CHECK(pruned.layers[1].params[MCO_PARAM_BN_GAMMA].size == 2);
    CHECK(pruned.layers[1].params[MCO_PARAM_BN_GAMMA].data[1] == m.layers[1].params[MCO_PARAM_BN_GAMMA].data[3]);
    CHECK(pruned.layers[1].params[MCO_PARAM_BN_VAR].data[0] == m.layers[1].params[MCO_PARAM_BN_VAR].data[1]);
    CHECK(pruned.layers[3].units == 3 && pruned.layers[3].in_shape.c == 2);
    /* b's OHWI weights keep input channels 1 and 3 */
    const float *w0 = m.layers[3].params[0].data, *w1 = pruned.layers[3].params[0].data;
    CHECK(w1[0] == w0[1] && w1[1] == w0[3] && w1[2] == w0[4 + 1] && w1[3] == w0[4 + 3]);
    CHECK(mco_model_param_count(&m) - mco_model_param_count(&pruned) ==
          2 * (18 + 1) + 2 * 4 + 3 * 9 * 2);
    check_same_outputs(&m, &pruned, 6);
    free(ratios);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

/* mlp: flatten -> dense 128 -> relu -> dense 10; the hidden units go, and
 * with them the output layer's input columns. */
static void test_dense_dense(void)
{
    mco_model m, pruned;
    make_model(mco_arch_builtin_text("mlp"), 12, &m);
    for (int k = 0; k < 128; k += 4) zero_channel(&m, 1, k);
    CHECK_OK(mco_model_clone(&m, &pruned));
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.ratio = 0.25f;
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));
    CHECK(pruned.layers[1].units == 96 && pruned.layers[3].in_shape.c == 96 && pruned.layers[3].units == 10);
    CHECK(pruned.layers[3].params[0].data[0] == m.layers[3].params[0].data[1]);
    CHECK(mco_model_param_count(&m) - mco_model_param_count(&pruned) == 32 * (784 + 1) + 10 * 32);
    check_same_outputs(&m, &pruned, 4);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

/* ds-cnn-s: conv -> bn -> relu -> dropout -> depthwise -> bn -> relu -> conv ...
 * Pruning conv2d_0 slices the depthwise layer and its BatchNorm too. */
static void test_depthwise_chain(void)
{
    mco_model m, pruned;
    make_model(mco_arch_builtin_text("ds-cnn-s"), 3, &m);
    mco_channel_groups groups;
    CHECK_OK(mco_channel_groups_find(&m, &groups));
    CHECK(groups.n_groups == 6);   /* five convolution groups and the classes */
    int prunable = 0;
    for (int g = 0; g < groups.n_groups; g++) prunable += groups.groups[g].prunable;
    CHECK(prunable == 5);
    int conv0 = layer_index(&m, "conv2d_0"), dw = layer_index(&m, "depthwise_conv2d_4");
    int conv1 = layer_index(&m, "conv2d_7"), dw1 = layer_index(&m, "depthwise_conv2d_10");
    CHECK(mco_channel_group_of(&groups, conv0) == mco_channel_group_of(&groups, dw));
    CHECK(mco_channel_group_of(&groups, conv1) == mco_channel_group_of(&groups, dw1));
    CHECK(!groups.groups[mco_channel_group_of(&groups, m.n_layers - 1)].prunable);
    mco_channel_groups_free(&groups);

    for (int k = 0; k < 64; k += 2) zero_channel(&m, conv0, k);       /* 32 of conv2d_0 */
    for (int k = 0; k < 16; k++) zero_channel(&m, conv1, 63 - k);     /* 16 of conv2d_7 */
    CHECK_OK(mco_model_clone(&m, &pruned));
    static const char *const names[] = {"conv2d_0", "conv2d_7", NULL};
    float *ratios = ratios_for(&m, names, 0.5f);
    ratios[conv1] = 0.25f;
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.criterion = MCO_IMPORTANCE_L2;
    opt.layer_ratios = ratios;
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));
    CHECK(pruned.layers[conv0].units == 32);
    CHECK(pruned.layers[dw].in_shape.c == 32 && pruned.layers[dw].params[0].size == 9 * 32);
    CHECK(pruned.layers[dw].params[0].data[1] == m.layers[dw].params[0].data[3]);   /* kept odd channels */
    CHECK(pruned.layers[conv1].units == 48);
    CHECK(pruned.layers[dw1].params[MCO_PARAM_BIAS].size == 48);
    CHECK(pruned.layers[layer_index(&m, "conv2d_13")].in_shape.c == 48);
    CHECK(mco_model_macs(&pruned) < mco_model_macs(&m));
    check_same_outputs(&m, &pruned, 2);
    free(ratios);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

/* resnet8: the stem and the first stack's second convolution share channels
 * through the identity Add; the 1x1 shortcuts join their stacks' groups. */
static void test_resnet_groups(void)
{
    mco_model m, pruned;
    make_model(mco_arch_builtin_text("resnet8"), 4, &m);
    mco_channel_groups groups;
    CHECK_OK(mco_channel_groups_find(&m, &groups));
    CHECK(groups.n_groups == 7);
    int stem = layer_index(&m, "conv2d_0"), b1 = layer_index(&m, "conv2d_6");
    int sc2 = layer_index(&m, "sc2"), b2 = layer_index(&m, "conv2d_13");
    int sc3 = layer_index(&m, "sc3"), b3 = layer_index(&m, "conv2d_21");
    CHECK(mco_channel_group_of(&groups, stem) == mco_channel_group_of(&groups, b1));
    CHECK(mco_channel_group_of(&groups, sc2) == mco_channel_group_of(&groups, b2));
    CHECK(mco_channel_group_of(&groups, sc3) == mco_channel_group_of(&groups, b3));
    CHECK(groups.groups[mco_channel_group_of(&groups, sc2)].leader == b2);
    int prunable = 0;
    for (int g = 0; g < groups.n_groups; g++) prunable += groups.groups[g].prunable;
    CHECK(prunable == 6);
    mco_channel_groups_free(&groups);

    static const int zeroed[] = {1, 5, 6, 9, 12, 14, 15, 0};
    for (int k = 0; k < 8; k++) zero_channel(&m, stem, zeroed[k]);
    CHECK_OK(mco_model_clone(&m, &pruned));
    static const char *const names[] = {"conv2d_6", NULL};   /* any member selects the group */
    float *ratios = ratios_for(&m, names, 0.5f);
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.layer_ratios = ratios;
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));
    CHECK(pruned.layers[stem].units == 8 && pruned.layers[b1].units == 8);
    CHECK(pruned.layers[layer_index(&m, "conv2d_3")].in_shape.c == 8);
    CHECK(pruned.layers[sc2].in_shape.c == 8 && pruned.layers[sc2].units == 32);
    CHECK(pruned.layers[layer_index(&m, "conv2d_10")].in_shape.c == 8);
    CHECK(pruned.layers[layer_index(&m, "b1")].params[MCO_PARAM_BN_BETA].size == 8);
    check_same_outputs(&m, &pruned, 2);
    free(ratios);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

/* A residual group that feeds global pooling and the final Dense, so the
 * Dense's input columns are pruned too (exact dyadic values). */
static void test_residual_to_dense(void)
{
    static const char *text = "input 4 4 2\n"
                              "a = conv2d filters=6 kernel=3 padding=same\n"
                              "ra = relu\n"
                              "b = conv2d filters=6 kernel=3 padding=same\n"
                              "sum = add inputs=ra,b\n"
                              "relu\n"
                              "global_avgpool\n"
                              "dense units=3\n";
    mco_model m, pruned;
    make_model(text, 5, &m);
    zero_channel(&m, 0, 3);
    zero_channel(&m, 0, 5);
    CHECK_OK(mco_model_clone(&m, &pruned));
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.ratio = 0.3f;   /* round(1.8) = 2 */
    CHECK_OK(mco_structured_prune(&pruned, &opt, NULL));
    /* b reads a's group and writes into it: both of its axes shrink */
    const mco_param *wb = &pruned.layers[2].params[MCO_PARAM_WEIGHTS];
    CHECK(wb->dims[0] == 4 && wb->dims[3] == 4);
    CHECK(wb->data[3] == m.layers[2].params[MCO_PARAM_WEIGHTS].data[4]);
    CHECK(pruned.layers[6].in_shape.c == 4 && pruned.layers[6].params[0].size == 12);
    check_same_outputs(&m, &pruned, 5);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

/* Filters of 1x1x2: f0 = (3, 0), f1 = (2, 2), f2 = (1, -1).
 * L1: 3, 4, 2 -> remove f2, f0.  L2: 3, 2.83, 1.41 -> remove f2, f1. */
static void test_weight_ranking(void)
{
    static const char *text = "input 2 2 2\nconv2d filters=3 kernel=1\nflatten\ndense units=2\n";
    static const float filters[6] = {3, 0, 2, 2, 1, -1};
    for (int l2 = 0; l2 <= 1; l2++) {
        mco_model m;
        make_model(text, 6, &m);
        memcpy(m.layers[0].params[0].data, filters, sizeof filters);
        mco_channel_groups groups;
        CHECK_OK(mco_channel_groups_find(&m, &groups));
        CHECK_OK(mco_channel_importance(&m, &groups, l2 ? MCO_IMPORTANCE_L2 : MCO_IMPORTANCE_L1, NULL, 0));
        const float *imp = groups.groups[0].importance;
        if (l2) {
            CHECK_NEAR(imp[0], 3.0, 1e-6);
            CHECK_NEAR(imp[1], sqrt(8.0), 1e-6);
            CHECK_NEAR(imp[2], sqrt(2.0), 1e-6);
        } else {
            CHECK(imp[0] == 3.0f && imp[1] == 4.0f && imp[2] == 2.0f);
        }
        uint8_t keep[3];
        int removed;
        CHECK_OK(mco_channel_keep_mask(&m, &groups.groups[0], 0.67f, 1, keep, &removed));
        CHECK(removed == 2 && keep[2] == 0);
        CHECK(l2 ? (keep[0] == 1 && keep[1] == 0) : (keep[0] == 0 && keep[1] == 1));
        /* min_channels wins over the ratio */
        CHECK_OK(mco_channel_keep_mask(&m, &groups.groups[0], 0.67f, 2, keep, &removed));
        CHECK(removed == 1 && keep[2] == 0 && keep[0] && keep[1]);
        mco_channel_groups_free(&groups);
        mco_model_free(&m);
    }
}

/* Input 1x4x1 of x = raw - 128 = (-2, -1, 1, 2); conv 1x1 then ReLU:
 *   ch0 = relu(x)          = (0, 0, 1, 2)      APoZ 1/2, mean 3/4
 *   ch1 = relu(-x - 1.5)   = (0.5, 0, 0, 0)    APoZ 3/4, mean 1/8
 *   ch2 = relu(0.5)        = (.5, .5, .5, .5)  APoZ 0,   mean 1/2 */
static void test_activation_criteria(void)
{
    static const char *text = "input 1 4 1\nconv2d filters=3 kernel=1\nrelu\nflatten\ndense units=2\n";
    mco_model m;
    make_model(text, 7, &m);
    m.norm = (mco_normalization){1.0f, 128.0f, 1.0f};
    static const float w[3] = {1, -1, 0}, b[3] = {0, -1.5f, 0.5f};
    memcpy(m.layers[0].params[0].data, w, sizeof w);
    memcpy(m.layers[0].params[1].data, b, sizeof b);
    uint8_t images[8] = {126, 127, 129, 130, 126, 127, 129, 130}, labels[2] = {0, 1};
    mco_dataset ds = {.name = "hand", .n = 2, .shape = {1, 4, 1}, .n_classes = 2, .samples_u8 = images, .labels = labels};

    mco_channel_groups groups;
    CHECK_OK(mco_channel_groups_find(&m, &groups));
    CHECK_OK(mco_channel_importance(&m, &groups, MCO_IMPORTANCE_APOZ, &ds, 100));
    const float *imp = groups.groups[0].importance;
    CHECK(imp[0] == 0.5f && imp[1] == 0.25f && imp[2] == 1.0f);
    CHECK_OK(mco_channel_importance(&m, &groups, MCO_IMPORTANCE_MEAN_ACTIVATION, &ds, 1));
    CHECK(imp[0] == 0.75f && imp[1] == 0.125f && imp[2] == 0.5f);
    CHECK(mco_channel_importance(&m, &groups, MCO_IMPORTANCE_APOZ, NULL, 100) == MCO_ERR_ARG);
    mco_channel_groups_free(&groups);

    /* APoZ pruning removes ch1, keeps the flatten columns of ch0 and ch2 */
    mco_model pruned;
    CHECK_OK(mco_model_clone(&m, &pruned));
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.criterion = MCO_IMPORTANCE_APOZ;
    opt.ratio = 0.3f;
    CHECK_OK(mco_structured_prune(&pruned, &opt, &ds));
    CHECK(pruned.layers[0].units == 2 && pruned.layers[0].params[1].data[1] == 0.5f);
    CHECK(pruned.layers[3].params[0].data[1] == m.layers[3].params[0].data[2]);
    CHECK(pruned.layers[3].params[0].data[2] == m.layers[3].params[0].data[3]);
    mco_model_free(&pruned);
    mco_model_free(&m);
}

static void test_determinism_and_classes(void)
{
    mco_model m, a, b;
    make_model(FLAT_CNN, 8, &m);
    m.norm = (mco_normalization){1.0f / 64.0f, 2.0f, 1.0f};
    uint8_t images[36 * 20], labels[20] = {0};
    uint32_t s = 3;
    for (size_t k = 0; k < sizeof images; k++) images[k] = (uint8_t)lcg(&s);
    mco_dataset ds = {.name = "random", .n = 20, .shape = {6, 6, 1}, .n_classes = 5, .samples_u8 = images, .labels = labels};
    CHECK_OK(mco_model_clone(&m, &a));
    CHECK_OK(mco_model_clone(&m, &b));
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.criterion = MCO_IMPORTANCE_MEAN_ACTIVATION;
    CHECK_OK(mco_structured_prune(&a, &opt, &ds));
    CHECK_OK(mco_structured_prune(&b, &opt, &ds));
    CHECK(a.layers[0].units == 3);
    for (int i = 0; i < a.n_layers; i++)
        for (int p = 0; p < a.layers[i].n_params; p++)
            CHECK(memcmp(a.layers[i].params[p].data, b.layers[i].params[p].data,
                         a.layers[i].params[p].size * sizeof(float)) == 0);

    /* The classes: the last layer keeps its 5 units and cannot be pruned. */
    CHECK(a.layers[4].units == 5 && a.n_classes == 5);
    uint8_t keep[5] = {1, 0, 1, 1, 1};
    CHECK(mco_prune_channels(&a, 4, keep) == MCO_ERR_ARG);
    CHECK(strstr(mco_last_error(), "cannot be pruned") != NULL);
    float ratios[5] = {0, 0, 0, 0, 0.5f};   /* naming the output layer is an error, not a no-op */
    mco_structured_options named = opt;
    named.criterion = MCO_IMPORTANCE_L1;
    named.layer_ratios = ratios;
    CHECK(mco_structured_prune(&a, &named, NULL) == MCO_ERR_ARG);
    /* ... nor with a Softmax after it */
    mco_model sm;
    make_model("input 2 2 1\nconv2d filters=2 kernel=1\nflatten\ndense units=3\nsoftmax\n", 9, &sm);
    mco_channel_groups groups;
    CHECK_OK(mco_channel_groups_find(&sm, &groups));
    CHECK(groups.n_groups == 2 && groups.groups[0].prunable && !groups.groups[1].prunable);
    mco_channel_groups_free(&groups);
    mco_model_free(&sm);
    mco_model_free(&a);
    mco_model_free(&b);
    mco_model_free(&m);
}

static void test_errors(void)
{
    mco_model m;
    make_model("input 4 4 1\nconv2d filters=2 kernel=3\nrelu\nflatten\ndense units=2\n", 10, &m);
    size_t params = mco_model_param_count(&m);
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    opt.ratio = 0.9f;   /* round(1.8) = 2 = every channel */
    CHECK(mco_structured_prune(&m, &opt, NULL) == MCO_ERR_RANGE);
    CHECK(strstr(mco_last_error(), "all 2 channels") != NULL);
    opt.ratio = 1.0f;
    CHECK(mco_structured_prune(&m, &opt, NULL) == MCO_ERR_ARG);
    uint8_t none[2] = {0, 0};
    CHECK(mco_prune_channels(&m, 0, none) == MCO_ERR_RANGE);
    CHECK(mco_prune_channels(&m, -5, none) == MCO_ERR_ARG);
    opt.ratio = 0.5f;
    opt.criterion = MCO_IMPORTANCE_APOZ;
    CHECK(mco_structured_prune(&m, &opt, NULL) == MCO_ERR_ARG);   /* needs calibration images */
    CHECK(mco_model_param_count(&m) == params && m.layers[0].units == 2);   /* unchanged */
    mco_importance_criterion c;
    CHECK(mco_importance_criterion_parse("taylor", &c) == MCO_ERR_ARG);
    CHECK_OK(mco_importance_criterion_parse("mean-activation", &c));
    CHECK(c == MCO_IMPORTANCE_MEAN_ACTIVATION);
    mco_model_free(&m);
}

static void test_sensitivity(void)
{
    mco_model m;
    make_model(FLAT_CNN, 11, &m);
    mco_model_init_params(&m, 11);   /* non-dyadic weights: no ties between logits */
    m.norm = (mco_normalization){1.0f / 64.0f, 2.0f, 1.0f};
    enum { N = 64 };
    uint8_t images[36 * N], labels[N];
    uint32_t s = 5;
    for (size_t k = 0; k < sizeof images; k++) images[k] = (uint8_t)lcg(&s);
    /* labels: the model's own predictions, so the baseline is 100 % */
    float y[N * 5];
    float *x = malloc(sizeof images * sizeof(float));
    mco_normalize_input(&m.norm, images, sizeof images, x);
    CHECK_OK(mco_model_predict(&m, x, N, y));
    for (int n = 0; n < N; n++) {
        int best = 0;
        for (int k = 1; k < 5; k++) best = y[n * 5 + k] > y[n * 5 + best] ? k : best;
        labels[n] = (uint8_t)best;
    }
    free(x);
    mco_dataset ds = {.name = "own", .n = N, .shape = {6, 6, 1}, .n_classes = 5, .samples_u8 = images, .labels = labels};
    static const float ratios[] = {0.0f, 0.5f, 0.95f};
    mco_structured_options opt;
    mco_structured_options_default(&opt);
    mco_sensitivity_result r;
    CHECK_OK(mco_structured_sensitivity(&m, &opt, ratios, 3, NULL, &ds, 1, &r));
    CHECK(r.n_groups == 1 && r.n_ratios == 3 && r.leaders[0] == 0 && r.channels[0] == 6);
    CHECK(r.baseline_accuracy == 1.0 && r.baseline_params == mco_model_param_count(&m));
    CHECK(r.accuracy[0] == 1.0 && r.kept[0] == 6 && r.params[0] == r.baseline_params);
    CHECK(r.kept[1] == 3 && r.params[1] == 30 + 65 && r.accuracy[1] >= 0.0 && r.accuracy[1] <= 1.0);
    CHECK(r.accuracy[2] == -1.0 && r.kept[2] == 0);   /* would remove all six */
    mco_sensitivity_result_free(&r);
    mco_model_free(&m);
}

int main(void)
{
    test_conv_flatten_dense();
    test_conv_bn_relu_conv();
    test_dense_dense();
    test_depthwise_chain();
    test_resnet_groups();
    test_residual_to_dense();
    test_weight_ranking();
    test_activation_criteria();
    test_determinism_and_classes();
    test_errors();
    test_sensitivity();
    TEST_MAIN_END();
}
