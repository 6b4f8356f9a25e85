/*
 * test_arch.c - the architecture text format and the built-in architectures:
 * parameter and MAC counts of mnist-paper as published, the MLPerf Tiny
 * built-ins' structure and sizes, shape errors, and BatchNorm folding
 * preserving the function.
 */
#include <string.h>

#include "mcuopt/arch.h"
#include "mcuopt/graph.h"
#include "test_util.h"

static const mco_shape no_shape = {0, 0, 0};

static void test_mnist_paper_counts(void)
{
    mco_model m;
    CHECK_OK(mco_arch_load("mnist-paper", no_shape, 0, &m));
    CHECK(m.n_layers == 5);
    CHECK(mco_model_param_count(&m) == 20410);
    CHECK(mco_model_macs(&m) == 93288);
    CHECK(m.layers[0].out_shape.h == 26 && m.layers[0].out_shape.c == 12);
    CHECK(m.layers[2].out_shape.h == 13);
    CHECK(m.layers[3].out_shape.c == 2028);
    CHECK(m.n_classes == 10);
    mco_model_free(&m);
}

static void test_all_builtins_build(void)
{
    for (const char *const *name = mco_arch_builtin_names(); *name; name++) {
        mco_model m;
        CHECK_OK(mco_arch_load(*name, no_shape, 0, &m));
        CHECK_OK(mco_model_alloc_params(&m));
        mco_model_init_params(&m, 7);
        mco_model_free(&m);
    }
    /* An architecture is never refitted to other data: ds-cnn-s (49x10x1,
     * 12 classes) on MNIST-shaped input or 10 classes is one error line
     * naming both; its own shape and class count are accepted. */
    mco_model m;
    mco_status st = mco_arch_load("ds-cnn-s", (mco_shape){28, 28, 1}, 12, &m);
    CHECK(st == MCO_ERR_SHAPE && strstr(mco_last_error(), "ds-cnn-s takes 49x10x1 inputs but the data is 28x28x1"));
    st = mco_arch_load("ds-cnn-s", (mco_shape){49, 10, 1}, 10, &m);
    CHECK(st == MCO_ERR_SHAPE && strstr(mco_last_error(), "ds-cnn-s has 12 classes but the data has 10"));
    CHECK_OK(mco_arch_load("ds-cnn-s", (mco_shape){49, 10, 1}, 12, &m));
    CHECK(m.n_classes == 12);
    mco_model_free(&m);
    /* A text without input / classes lines takes the data's. */
    CHECK_OK(mco_arch_parse("conv2d filters=2 kernel=3\nflatten\ndense units=classes\n", "open.arch",
                            (mco_shape){9, 7, 3}, 5, &m));
    CHECK(m.input_shape.h == 9 && m.input_shape.w == 7 && m.input_shape.c == 3 && m.n_classes == 5);
    mco_model_free(&m);
    /* resnet8 has the published MLPerf Tiny size (78,666 parameters incl. BN statistics). */
    CHECK_OK(mco_arch_load("resnet8", no_shape, 0, &m));
    CHECK(mco_model_param_count(&m) == 78666);
    mco_model_free(&m);
}

/* The MLPerf Tiny built-ins as their reference models define them. */
static void test_mlperf_tiny(void)
{
    mco_model m, alias;
    /* ds-cnn: the reference's final AveragePooling2D(24x5) on the 25x5 map; ds-cnn-s is the same text. */
    CHECK_OK(mco_arch_load("ds-cnn", no_shape, 0, &m));
    CHECK(strcmp(mco_arch_builtin_text("ds-cnn"), mco_arch_builtin_text("ds-cnn-s")) == 0);
    const mco_layer *pool = &m.layers[m.n_layers - 2];
    CHECK(pool->type == MCO_LAYER_AVGPOOL2D && pool->kernel_h == 24 && pool->kernel_w == 5);
    CHECK(pool->in_shape.h == 25 && pool->in_shape.w == 5 && pool->out_shape.h == 1 && pool->out_shape.w == 1);
    CHECK(m.n_classes == 12 && m.loss == MCO_LOSS_CROSS_ENTROPY);
    CHECK(mco_model_macs(&m) == 2656768);
    CHECK_OK(mco_arch_load("ds-cnn-s", no_shape, 0, &alias));
    CHECK(alias.n_layers == m.n_layers && mco_model_param_count(&alias) == mco_model_param_count(&m));
    mco_model_free(&alias);
    mco_model_free(&m);
    /* mobilenet-v1-0.25: 96x96x3, 14 convolutions (1 + 13 pointwise), 13 depthwise, 2 classes;
     * 7.49 M MACs as MLPerf Tiny states for the VWW model. */
    CHECK_OK(mco_arch_load("mobilenet-v1-0.25", no_shape, 0, &m));
    int conv = 0, depthwise = 0;
    for (int i = 0; i < m.n_layers; i++) {
        conv += m.layers[i].type == MCO_LAYER_CONV2D;
        depthwise += m.layers[i].type == MCO_LAYER_DEPTHWISE_CONV2D;
    }
    CHECK(conv == 14 && depthwise == 13 && m.n_classes == 2);
    CHECK(m.input_shape.h == 96 && m.input_shape.w == 96 && m.input_shape.c == 3);
    CHECK(mco_model_macs(&m) == 7489664);
    mco_model_free(&m);
    /* ad-autoencoder: 640 -> 4 x 128 -> 8 -> 4 x 128 -> 640 Dense, trained on reconstruction. */
    CHECK_OK(mco_arch_load("ad-autoencoder", no_shape, 0, &m));
    int dense = 0, bn = 0;
    for (int i = 0; i < m.n_layers; i++) {
        dense += m.layers[i].type == MCO_LAYER_DENSE;
        bn += m.layers[i].type == MCO_LAYER_BATCHNORM;
    }
    CHECK(dense == 10 && bn == 9 && m.loss == MCO_LOSS_MSE);
    CHECK(m.layers[m.n_layers - 1].type == MCO_LAYER_DENSE && m.layers[m.n_layers - 1].out_shape.c == 640);
    CHECK(mco_model_macs(&m) == 264192);
    mco_model_free(&m);
    /* The data's class count does not bind an autoencoder (its labels mark anomalies). */
    CHECK_OK(mco_arch_load("ad-autoencoder", (mco_shape){1, 1, 640}, 2, &m));
    mco_model_free(&m);
    CHECK(mco_arch_load("ad-autoencoder", (mco_shape){1, 1, 128}, 2, &m) == MCO_ERR_SHAPE);
    CHECK(strstr(mco_last_error(), "ad-autoencoder takes 1x1x640 inputs but the data is 1x1x128") != NULL);
}

static void expect_error(const char *text, mco_status expected, const char *fragment)
{
    mco_model m;
    mco_status st = mco_arch_parse(text, "t.arch", no_shape, 0, &m);
    if (st != expected) fprintf(stderr, "got %s: %s\n", mco_status_string(st), mco_last_error());
    CHECK(st == expected);
    if (st == expected && !strstr(mco_last_error(), fragment)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", mco_last_error(), fragment);
        test_failures++;
    }
    if (st == MCO_OK) mco_model_free(&m);
}

static void test_errors(void)
{
    expect_error("input 28 28 1\nconv3d filters=2 kernel=3\n", MCO_ERR_FORMAT, "t.arch:2: unknown layer type 'conv3d'");
    expect_error("input 28 28 1\ndense units=10\n", MCO_ERR_SHAPE, "flatten");
    expect_error("input 4 4 1\nconv2d filters=2 kernel=5\n", MCO_ERR_SHAPE, "does not fit");
    expect_error("input 4 4 1\nconv2d filters=2 kernel=3 size=4\n", MCO_ERR_FORMAT, "unknown option 'size'");
    expect_error("input 4 4 2\na = conv2d filters=3 kernel=1\nadd inputs=a,input\n", MCO_ERR_SHAPE, "add inputs differ");
    expect_error("input 4 4 2\nadd inputs=a,input\n", MCO_ERR_FORMAT, "unknown input layer 'a'");
    expect_error("conv2d filters=2 kernel=1\n", MCO_ERR_FORMAT, "no input line");
    expect_error("input 4 4 1\nmaxpool2d pool=2\n", MCO_OK, "");
}

/* A model with conv -> batchnorm folded must compute the same outputs; that
 * is checked in test_train.c with real forward passes. Here: structure. */
static void test_fold_structure(void)
{
    mco_model m;
    CHECK_OK(mco_arch_load("ds-cnn-s", no_shape, 0, &m));
    CHECK_OK(mco_model_alloc_params(&m));
    mco_model_init_params(&m, 1);
    size_t macs = mco_model_macs(&m);
    CHECK_OK(mco_model_fold_for_inference(&m));
    for (int i = 0; i < m.n_layers; i++) {
        CHECK(m.layers[i].type != MCO_LAYER_BATCHNORM);
        CHECK(m.layers[i].type != MCO_LAYER_DROPOUT);
    }
    CHECK(mco_model_macs(&m) == macs);
    mco_model_free(&m);
}

int main(void)
{
    test_mnist_paper_counts();
    test_all_builtins_build();
    test_mlperf_tiny();
    test_errors();
    test_fold_structure();
    TEST_MAIN_END();
}
